// plot_conditions.c: the figures of a study over conditions, drawn with
// PLplot through plot.c's checked writer (plot_render): per-epoch mean curves
// with a shaded 95% band, final test accuracy and loss against a numeric axis
// on a log x scale with 95% error bars, and a heat map of mean final test
// accuracy over two axes with the interval's half-width in each cell.
//
// Accuracies are drawn in percent, F1 as a fraction, losses as they are.
#include "conditions.h"

#include <math.h>
#include <plplot.h>
#include <string.h>

// cmap0 slots: plot.c's background, ink and grid, then CONDITIONS_PLOT_MAX
// line colours, the same colours translucent for the bands, and a grey.
enum { COL_BG = 0, COL_INK = 1, COL_GRID = 2, COL_LINE0 = 3,
       COL_BAND0 = COL_LINE0 + CONDITIONS_PLOT_MAX, COL_MISSING = COL_BAND0 + CONDITIONS_PLOT_MAX,
       N_COLOURS };
// Okabe-Ito (as plot.c), then a grey and a wine for the ninth and tenth,
// which are also dashed so no two series rely on hue alone.
static const unsigned char PALETTE[CONDITIONS_PLOT_MAX][3] = {
    {0x00, 0x72, 0xB2}, {0xD5, 0x5E, 0x00}, {0x00, 0x9E, 0x73}, {0xE6, 0x9F, 0x00},
    {0xCC, 0x79, 0xA7}, {0x56, 0xB4, 0xE9}, {0x00, 0x00, 0x00}, {0xF0, 0xE4, 0x42},
    {0x80, 0x80, 0x80}, {0x88, 0x22, 0x55}};

static int series_colour(int i) { return COL_LINE0 + i % CONDITIONS_PLOT_MAX; }
static int series_style(int i) { return i % CONDITIONS_PLOT_MAX >= 8 ? 3 : 1; }

static void palette_extend(void) {
    plscmap0n(N_COLOURS);
    plscol0a(COL_BG, 255, 255, 255, 1.0);
    plscol0a(COL_INK, 0, 0, 0, 1.0);
    plscol0a(COL_GRID, 222, 222, 222, 1.0);
    for (int i = 0; i < CONDITIONS_PLOT_MAX; i++) {
        plscol0a(COL_LINE0 + i, PALETTE[i][0], PALETTE[i][1], PALETTE[i][2], 1.0);
        plscol0a(COL_BAND0 + i, PALETTE[i][0], PALETTE[i][1], PALETTE[i][2], 0.18);
    }
    plscol0a(COL_MISSING, 200, 200, 200, 1.0);
}

// What one figure draws.
typedef struct {
    const report_condition *c;
    const int *show;          // (n_show,) indices of the conditions drawn
    int n_show;
    int curve;                // CURVE_* for the curve figures
    int metric;               // COND_FINAL_TEST_ACC or COND_FINAL_TEST_LOSS for the axis figures
    const char *key, *other;  // the x axis key and the series key ("" for one series)
    const char *title, *ylabel;
} fig_ctx;

static double scale_of(int curve) {
    return curve == CURVE_TRAIN_ACC || curve == CURVE_TEST_ACC ? 100.0 : 1.0;
}

// Viewport, window, grid, axes and labels. log_x/log_y: the window is in log10.
static void frame_draw(double vp_right, double xmin, double xmax, double ymin, double ymax,
                       int log_x, int log_y, const char *xlabel, const char *ylabel,
                       const char *title) {
    plvpor(0.11, vp_right, 0.11, 0.91);
    plwind(xmin, xmax, ymin, ymax);
    plwidth(1.0);
    plcol0(COL_GRID);
    plbox(log_x ? "gl" : "g", 0, 0, log_y ? "gl" : "g", 0, 0);
    plcol0(COL_INK);
    plbox(log_x ? "bcnstl" : "bcnst", 0, 0, log_y ? "bcnstvl" : "bcnstv", 0, 0);
    plschr(0, 1.15);
    plmtex("b", 3.0, 0.5, 0.5, xlabel);
    plmtex("l", log_y ? 4.6 : 3.8, 0.5, 0.5, ylabel);
    plschr(0, 1.2);
    plmtex("t", 1.6, 0.5, 0.5, title);
    plschr(0, 1.0);
}

// A legend right of the viewport (which ends at 0.7 of the page), as plot.c
// places its own, one entry per label.
static void legend_draw(int n, const char *const *labels, const int *colours, const int *styles,
                        int with_symbol) {
    if (n == 0) return;
    int *opt = lr_calloc((size_t)n, sizeof *opt), *text_col = lr_calloc((size_t)n, sizeof *text_col);
    double *widths = lr_calloc((size_t)n, sizeof *widths), *sym_scale = lr_calloc((size_t)n, sizeof *sym_scale);
    int *sym_n = lr_calloc((size_t)n, sizeof *sym_n);
    const char **sym = lr_calloc((size_t)n, sizeof *sym);
    for (int i = 0; i < n; i++) {
        opt[i] = PL_LEGEND_LINE | (with_symbol ? PL_LEGEND_SYMBOL : 0);
        text_col[i] = COL_INK;
        widths[i] = 2.4;
        sym_scale[i] = 1.0;
        sym_n[i] = 1;
        sym[i] = "\xE2\x97\x8F"; // U+25CF black circle
    }
    double lw, lh;
    plschr(0, n > 6 ? 0.8 : 0.9);
    pllegend(&lw, &lh, PL_LEGEND_BACKGROUND,
             PL_POSITION_RIGHT | PL_POSITION_TOP | PL_POSITION_INSIDE | PL_POSITION_SUBPAGE,
             0.01, 0.09, 0.04, COL_BG, COL_INK, 1, 0, 0, n, opt,
             0.5, 0.8, 1.6, 0.0, text_col, labels,
             NULL, NULL, NULL, NULL, colours, styles, widths,
             colours, sym_scale, sym_n, sym);
    plschr(0, 1.0);
    free(opt); free(text_col); free(widths); free(sym_scale); free(sym_n); free(sym);
}

// Where the viewport must end so the legend (right-aligned at the page edge)
// clears it: about 60 px of line sample plus 10.5 px per character of the
// longest label at the legend's size, on the 1000 px page.
static double legend_room(int n, const char *const *labels) {
    size_t longest = 0;
    for (int i = 0; i < n; i++)
        if (strlen(labels[i]) > longest) longest = strlen(labels[i]);
    return fmax(0.45, fmin(0.7, 1.0 - (80.0 + 10.5 * (double)longest) / 1000.0));
}

// ---- curves: mean and band per epoch ----

// One condition's mean and interval of a curve at every epoch (n_epochs,).
static void curve_stats(const report_condition *c, int curve, double *mean, double *lo, double *hi) {
    double *x = lr_malloc((size_t)(c->n_runs > 0 ? c->n_runs : 1) * sizeof *x); // (n_runs,)
    for (int ep = 0; ep < c->n_epochs; ep++) {
        for (int r = 0; r < c->n_runs; r++) x[r] = conditions_curve(c, r, curve, ep);
        stats_summary s = stats_summarize(x, c->n_runs);
        double k = scale_of(curve);
        mean[ep] = k * s.mean;
        lo[ep] = k * s.ci_lo;
        hi[ep] = k * s.ci_hi;
    }
    free(x);
}

// The y range of a curve over the drawn conditions (bands included); 0 if no data.
static int curve_range(const fig_ctx *f, double *ymin, double *ymax, int *xmax, int *log_y) {
    double lo = INFINITY, hi = -INFINITY;
    *xmax = 2;
    for (int s = 0; s < f->n_show; s++) {
        const report_condition *c = &f->c[f->show[s]];
        double *m = lr_malloc(3 * (size_t)(c->n_epochs > 0 ? c->n_epochs : 1) * sizeof *m);
        double *l = m + c->n_epochs, *h = l + c->n_epochs;
        curve_stats(c, f->curve, m, l, h);
        for (int ep = 0; ep < c->n_epochs; ep++) {
            const double v[3] = {m[ep], l[ep], h[ep]};
            for (int j = 0; j < 3; j++) {
                if (!isfinite(v[j])) continue;
                if (v[j] < lo) lo = v[j];
                if (v[j] > hi) hi = v[j];
                if (ep + 1 > *xmax) *xmax = ep + 1;
            }
        }
        free(m);
    }
    if (!(lo <= hi)) return 0;
    int is_loss = f->curve == CURVE_TRAIN_LOSS || f->curve == CURVE_TEST_LOSS;
    *log_y = is_loss && lo > 0 && hi / lo > 4;
    if (*log_y) {
        lo = log10(lo);
        hi = log10(hi);
    }
    double pad = hi > lo ? 0.06 * (hi - lo) : (fabs(hi) > 0 ? 0.1 * fabs(hi) : 1);
    *ymin = lo - pad;
    *ymax = hi + pad;
    return 1;
}

static double y_of(double v, int log_y) { return log_y ? log10(v) : v; }

static void curves_draw(const void *arg) {
    const fig_ctx *f = arg;
    palette_extend();
    double ymin, ymax;
    int xmax, log_y;
    if (!curve_range(f, &ymin, &ymax, &xmax, &log_y)) return;
    char (*labels)[300] = lr_calloc((size_t)f->n_show, sizeof *labels);
    const char **label_ptr = lr_calloc((size_t)f->n_show, sizeof *label_ptr);
    int *colours = lr_calloc((size_t)f->n_show, sizeof *colours);
    int *styles = lr_calloc((size_t)f->n_show, sizeof *styles);
    for (int s = 0; s < f->n_show; s++) {
        const report_condition *c = &f->c[f->show[s]];
        stats_summary sa = stats_summarize(c->final_test_acc, c->n_runs);
        snprintf(labels[s], sizeof labels[s], "%s (n = %d)", c->name, sa.n);
        label_ptr[s] = labels[s];
        colours[s] = series_colour(s);
        styles[s] = series_style(s);
    }
    frame_draw(legend_room(f->n_show, label_ptr), 0.5, xmax + 0.5, ymin, ymax, 0, log_y, "epoch",
               f->ylabel, f->title);
    for (int s = 0; s < f->n_show; s++) {
        const report_condition *c = &f->c[f->show[s]];
        int ne = c->n_epochs > 0 ? c->n_epochs : 1;
        double *m = lr_malloc(3 * (size_t)ne * sizeof *m), *l = m + ne, *h = l + ne;
        double *x = lr_malloc(2 * (size_t)ne * sizeof *x), *y = lr_malloc(2 * (size_t)ne * sizeof *y);
        curve_stats(c, f->curve, m, l, h);
        // Band: the points with a finite interval, upper edge forward, lower edge back.
        int nb = 0;
        for (int ep = 0; ep < c->n_epochs; ep++)
            if (isfinite(l[ep]) && isfinite(h[ep]) && (!log_y || l[ep] > 0)) {
                x[nb] = ep + 1;
                y[nb++] = y_of(h[ep], log_y);
            }
        for (int j = nb - 1, ep = c->n_epochs - 1; ep >= 0; ep--)
            if (isfinite(l[ep]) && isfinite(h[ep]) && (!log_y || l[ep] > 0)) {
                x[nb + (nb - 1 - j)] = ep + 1;
                y[nb + (nb - 1 - j)] = y_of(l[ep], log_y);
                j--;
            }
        if (nb >= 2) {
            plcol0(COL_BAND0 + s % CONDITIONS_PLOT_MAX);
            plfill(2 * nb, x, y);
        }
        int np = 0;
        for (int ep = 0; ep < c->n_epochs; ep++)
            if (isfinite(m[ep]) && (!log_y || m[ep] > 0)) {
                x[np] = ep + 1;
                y[np++] = y_of(m[ep], log_y);
            }
        plcol0(series_colour(s));
        pllsty(series_style(s));
        plwidth(2.4);
        if (np > 1) plline(np, x, y);
        if (np > 0 && (np == 1 || x[np - 1] - x[0] + 1 > np)) { // sparse evaluations: dots
            plschr(0, 0.9);
            plstring(np, x, y, "\xE2\x97\x8F");
            plschr(0, 1.0);
        }
        pllsty(1);
        plwidth(1.0);
        free(m); free(x); free(y);
    }
    legend_draw(f->n_show, label_ptr, colours, styles, 0);
    free(labels); free(label_ptr); free(colours); free(styles);
}

// ---- a metric against a numeric axis (log x), one series per other-axis value ----

// The numeric value of key in c; NAN when c lacks it or it is not numeric.
static double axis_num_of(const report_condition *c, const char *key) {
    for (int a = 0; a < c->n_axes; a++)
        if (strcmp(c->axis_key[a], key) == 0) return c->axis_num[a];
    return NAN;
}

// The value of key in c as a label ("" when c lacks it).
static void axis_label_of(const report_condition *c, const char *key, char *out, size_t cap) {
    out[0] = '\0';
    for (int a = 0; a < c->n_axes; a++) {
        if (strcmp(c->axis_key[a], key) != 0) continue;
        if (isfinite(c->axis_num[a])) snprintf(out, cap, "%g", c->axis_num[a]);
        else snprintf(out, cap, "%s", c->axis_text[a]);
    }
}

// Distinct values of key over the given conditions, in order of first
// appearance (sorted ascending when all numeric); returns the count.
enum { MAX_LEVELS = 64 };
static int axis_levels(const report_condition *c, const int *idx, int n, const char *key,
                       char (*levels)[128]) {
    int k = 0, numeric = 1;
    for (int i = 0; i < n; i++) {
        char v[128];
        axis_label_of(&c[idx[i]], key, v, sizeof v);
        if (!isfinite(axis_num_of(&c[idx[i]], key))) numeric = 0;
        int seen = 0;
        for (int j = 0; j < k; j++) seen |= strcmp(levels[j], v) == 0;
        if (!seen && k < MAX_LEVELS) snprintf(levels[k++], sizeof levels[0], "%s", v);
    }
    if (numeric)
        for (int i = 1; i < k; i++) // insertion sort by value
            for (int j = i; j > 0 && strtod(levels[j - 1], NULL) > strtod(levels[j], NULL); j--) {
                char t[128];
                memcpy(t, levels[j], sizeof t);
                memcpy(levels[j], levels[j - 1], sizeof t);
                memcpy(levels[j - 1], t, sizeof t);
            }
    return k;
}

static int level_index(char (*levels)[128], int n, const report_condition *c, const char *key) {
    char v[128];
    axis_label_of(c, key, v, sizeof v);
    for (int j = 0; j < n; j++)
        if (strcmp(levels[j], v) == 0) return j;
    return -1;
}

// 1 when key is numeric and positive in every condition holding it, and is
// the learning rate or spans at least a decade: a log x axis.
static int axis_is_log(const report_condition *c, int n, const char *key) {
    double lo = INFINITY, hi = -INFINITY;
    int count = 0;
    for (int i = 0; i < n; i++)
        for (int a = 0; a < c[i].n_axes; a++) {
            if (strcmp(c[i].axis_key[a], key) != 0) continue;
            double v = c[i].axis_num[a];
            if (!isfinite(v) || v <= 0) return 0;
            lo = fmin(lo, v);
            hi = fmax(hi, v);
            count++;
        }
    return count > 0 && hi > lo && (strcmp(key, "lr") == 0 || hi / lo >= 10);
}

static void axis_draw(const void *arg) {
    const fig_ctx *f = arg;
    palette_extend();
    const report_condition *c = f->c;
    double k = f->metric == COND_FINAL_TEST_ACC ? 100.0 : 1.0;
    int *idx = lr_calloc((size_t)f->n_show, sizeof *idx);
    double *x = lr_calloc((size_t)f->n_show, sizeof *x), *m = lr_calloc((size_t)f->n_show, sizeof *m);
    double *lo = lr_calloc((size_t)f->n_show, sizeof *lo), *hi = lr_calloc((size_t)f->n_show, sizeof *hi);
    double xmin = INFINITY, xmax = -INFINITY, ymin = INFINITY, ymax = -INFINITY;
    for (int s = 0; s < f->n_show; s++) {
        const report_condition *ci = &c[f->show[s]];
        stats_summary st = stats_summarize(conditions_metric(ci, f->metric), ci->n_runs);
        x[s] = log10(axis_num_of(ci, f->key));
        m[s] = k * st.mean;
        lo[s] = k * st.ci_lo;
        hi[s] = k * st.ci_hi;
        if (isfinite(x[s])) { xmin = fmin(xmin, x[s]); xmax = fmax(xmax, x[s]); }
        if (!isfinite(m[s])) continue;
        ymin = fmin(ymin, isfinite(lo[s]) ? lo[s] : m[s]);
        ymax = fmax(ymax, isfinite(hi[s]) ? hi[s] : m[s]);
    }
    if (!(ymin <= ymax) || !(xmin <= xmax)) goto done;
    char levels[MAX_LEVELS][128];
    int n_lev = f->other[0] ? axis_levels(c, f->show, f->n_show, f->other, levels) : 1;
    if (!f->other[0]) levels[0][0] = '\0';
    int n_series = n_lev < CONDITIONS_PLOT_MAX ? n_lev : CONDITIONS_PLOT_MAX;
    char (*labels)[200] = lr_calloc((size_t)n_series, sizeof *labels);
    const char **label_ptr = lr_calloc((size_t)n_series, sizeof *label_ptr);
    int *colours = lr_calloc((size_t)n_series, sizeof *colours), *styles = lr_calloc((size_t)n_series, sizeof *styles);
    for (int g = 0; g < n_series; g++) {
        if (f->other[0]) snprintf(labels[g], sizeof labels[g], "%s = %s", f->other, levels[g]);
        else snprintf(labels[g], sizeof labels[g], "mean, 95%% CI");
        label_ptr[g] = labels[g];
        colours[g] = series_colour(g);
        styles[g] = series_style(g);
    }
    double xpad = xmax > xmin ? 0.06 * (xmax - xmin) : 0.5;
    double ypad = ymax > ymin ? 0.08 * (ymax - ymin) : (fabs(ymax) > 0 ? 0.1 * fabs(ymax) : 1);
    frame_draw(legend_room(n_series, label_ptr), xmin - xpad, xmax + xpad, ymin - ypad,
               ymax + ypad, 1, 0, f->key, f->ylabel, f->title);
    for (int g = 0; g < n_series; g++) {
        int n = 0;
        for (int s = 0; s < f->n_show; s++) {
            if (f->other[0] && level_index(levels, n_lev, &c[f->show[s]], f->other) != g) continue;
            if (!isfinite(x[s]) || !isfinite(m[s])) continue;
            idx[n++] = s;
        }
        for (int i = 1; i < n; i++) // by x, so the line runs left to right
            for (int j = i; j > 0 && x[idx[j - 1]] > x[idx[j]]; j--) {
                int t = idx[j]; idx[j] = idx[j - 1]; idx[j - 1] = t;
            }
        double px[MAX_LEVELS * 4], py[MAX_LEVELS * 4];
        int np = 0;
        for (int i = 0; i < n && np < MAX_LEVELS * 4; i++) { px[np] = x[idx[i]]; py[np++] = m[idx[i]]; }
        plcol0(series_colour(g));
        pllsty(series_style(g));
        plwidth(2.0);
        if (np > 1) plline(np, px, py);
        pllsty(1);
        for (int i = 0; i < n; i++) {
            int s = idx[i];
            if (isfinite(lo[s]) && isfinite(hi[s])) {
                double ex = x[s], elo = lo[s], ehi = hi[s];
                plerry(1, &ex, &elo, &ehi);
            }
        }
        plschr(0, 1.1);
        if (np > 0) plstring(np, px, py, "\xE2\x97\x8F");
        plschr(0, 1.0);
        plwidth(1.0);
    }
    legend_draw(n_series, label_ptr, colours, styles, 1);
    free(labels); free(label_ptr); free(colours); free(styles);
done:
    free(idx); free(x); free(m); free(lo); free(hi);
}

// ---- heat map over two axes ----

static void heatmap_draw(const void *arg) {
    const fig_ctx *f = arg;
    palette_extend();
    const report_condition *c = f->c;
    char xl[MAX_LEVELS][128], yl[MAX_LEVELS][128];
    int nx = axis_levels(c, f->show, f->n_show, f->key, xl);
    int ny = axis_levels(c, f->show, f->n_show, f->other, yl);
    double lo = INFINITY, hi = -INFINITY;
    for (int s = 0; s < f->n_show; s++) {
        stats_summary st = stats_summarize(c[f->show[s]].final_test_acc, c[f->show[s]].n_runs);
        if (st.n == 0) continue;
        lo = fmin(lo, 100 * st.mean);
        hi = fmax(hi, 100 * st.mean);
    }
    if (!(lo <= hi)) { lo = 0; hi = 100; }
    if (hi - lo < 1e-9) { lo -= 0.5; hi += 0.5; }
    plvpor(0.13, 0.8, 0.14, 0.9);
    plwind(0, nx, 0, ny);
    double text = nx > 8 || ny > 8 ? 0.6 : 0.85;
    for (int s = 0; s < f->n_show; s++) {
        const report_condition *ci = &c[f->show[s]];
        int gx = level_index(xl, nx, ci, f->key), gy = level_index(yl, ny, ci, f->other);
        if (gx < 0 || gy < 0) continue;
        stats_summary st = stats_summarize(ci->final_test_acc, ci->n_runs);
        double bx[4] = {gx, gx + 1, gx + 1, gx}, by[4] = {gy, gy, gy + 1, gy + 1};
        char line1[64], line2[64], line3[32];
        double frac = 0;
        if (st.n == 0) {
            plcol0(COL_MISSING);
            snprintf(line1, sizeof line1, "no result");
            line2[0] = line3[0] = '\0';
        } else {
            frac = (100 * st.mean - lo) / (hi - lo);
            plcol1(frac);
            snprintf(line1, sizeof line1, "%.1f %%", 100 * st.mean);
            if (st.n >= 2) snprintf(line2, sizeof line2, "\xC2\xB1 %.1f", 100 * (st.ci_hi - st.mean));
            else snprintf(line2, sizeof line2, "no CI");
            snprintf(line3, sizeof line3, "n = %d", st.n);
        }
        plfill(4, bx, by);
        plcol0(st.n > 0 && frac > 0.55 ? COL_INK : (st.n == 0 ? COL_INK : COL_BG));
        plschr(0, text);
        plptex(gx + 0.5, gy + 0.66, 1, 0, 0.5, line1);
        if (line2[0]) plptex(gx + 0.5, gy + 0.42, 1, 0, 0.5, line2);
        plschr(0, 0.8 * text);
        if (line3[0]) plptex(gx + 0.5, gy + 0.2, 1, 0, 0.5, line3);
    }
    plcol0(COL_INK);
    plschr(0, 1.0);
    plbox("bc", 0, 0, "bc", 0, 0);
    plschr(0, text);
    for (int i = 0; i < nx; i++) plmtex("b", 1.2, (i + 0.5) / nx, 0.5, xl[i]);
    for (int j = 0; j < ny; j++) plmtex("lv", 0.6, (j + 0.5) / ny, 1.0, yl[j]);
    plschr(0, 1.15);
    plmtex("b", 3.0, 0.5, 0.5, f->key);
    plmtex("l", 5.0, 0.5, 0.5, f->other);
    plschr(0, 1.2);
    plmtex("t", 1.6, 0.5, 0.5, f->title);
    plot_colorbar(lo, hi, "mean final test accuracy (%)", 0, 0.85, 0.03);
}

// ---- the figure list ----

static int figure_add(report_figure *figs, int *n, int cap, const char *name, const char *title) {
    LR_ASSERT(*n < cap);
    snprintf(figs[*n].name, sizeof figs[*n].name, "%s", name);
    snprintf(figs[*n].title, sizeof figs[*n].title, "%s", title);
    (*n)++;
    return 0;
}

// A file-name-safe copy of an axis key.
static void key_stem(const char *key, char *out, size_t cap) {
    size_t j = 0;
    for (size_t i = 0; key[i] && j + 1 < cap; i++) {
        char ch = key[i];
        int ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_';
        out[j++] = ok ? ch : '_';
    }
    out[j] = '\0';
}

int conditions_plot_select(const report_condition *c, int n, int *show) {
    double *mean = lr_malloc((size_t)(n > 0 ? n : 1) * sizeof *mean); // (n,)
    for (int i = 0; i < n; i++) {
        show[i] = i;
        stats_summary s = stats_summarize(c[i].final_test_acc, c[i].n_runs);
        mean[i] = s.n > 0 ? s.mean : -INFINITY;
    }
    if (n <= CONDITIONS_PLOT_MAX) {
        free(mean);
        return n;
    }
    for (int i = 1; i < n; i++) // best first, equals in study order
        for (int j = i; j > 0 && mean[show[j - 1]] < mean[show[j]]; j--) {
            int t = show[j]; show[j] = show[j - 1]; show[j - 1] = t;
        }
    for (int i = 1; i < CONDITIONS_PLOT_SHOWN; i++) // the chosen back in study order
        for (int j = i; j > 0 && show[j - 1] > show[j]; j--) {
            int t = show[j]; show[j] = show[j - 1]; show[j - 1] = t;
        }
    free(mean);
    return CONDITIONS_PLOT_SHOWN;
}

int conditions_plot(const report_condition *c, int n, const char *fig_dir, report_figure *figs,
                    int cap, char *note, size_t note_cap, lr_err *e) {
    static const struct { int curve; const char *name, *title, *ylabel; } curves[REPORT_N_CURVES] = {
        {CURVE_TRAIN_LOSS, "cond_train_loss", "Train loss per epoch (mean, 95% band)", "train loss (cross-entropy)"},
        {CURVE_TEST_LOSS, "cond_test_loss", "Test loss per epoch (mean, 95% band)", "test loss (cross-entropy)"},
        {CURVE_TRAIN_ACC, "cond_train_acc", "Train accuracy per epoch (mean, 95% band)", "train accuracy (%)"},
        {CURVE_TEST_ACC, "cond_test_acc", "Test accuracy per epoch (mean, 95% band)", "test accuracy (%)"},
        {CURVE_TRAIN_F1, "cond_train_f1", "Train F1 (macro) per epoch (mean, 95% band)", "train F1"},
        {CURVE_TEST_F1, "cond_test_f1", "Test F1 (macro) per epoch (mean, 95% band)", "test F1"},
    };
    if (note_cap) note[0] = '\0';
    if (plot_drivers_check(e) != 0) return -1;
    int n_figs = 0;
    if (n <= 0) return 0;
    int *all = lr_malloc((size_t)n * sizeof *all), *best = lr_malloc((size_t)n * sizeof *best);
    for (int i = 0; i < n; i++) all[i] = i;
    int n_curves_show = conditions_plot_select(c, n, best);
    if (n_curves_show < n)
        snprintf(note, note_cap, "showing the best %d of %d conditions (by mean final test accuracy) "
                                 "in the per-epoch figures", n_curves_show, n);
    int rc = 0;
    for (int k = 0; k < REPORT_N_CURVES && rc == 0; k++) {
        fig_ctx f = {.c = c, .show = best, .n_show = n_curves_show, .curve = curves[k].curve,
                     .title = curves[k].title, .ylabel = curves[k].ylabel};
        double a, b;
        int xm, lg;
        if (!curve_range(&f, &a, &b, &xm, &lg)) continue;
        rc = plot_render(fig_dir, curves[k].name, curves_draw, &f, e);
        if (rc == 0) figure_add(figs, &n_figs, cap, curves[k].name, curves[k].title);
    }
    char keys[8][32];
    int n_keys = conditions_axis_keys(c, n, keys, 8);
    for (int a = 0; a < n_keys && n_keys <= 2 && rc == 0; a++) {
        if (!axis_is_log(c, n, keys[a])) continue;
        static const struct { int metric; const char *stem, *what, *ylabel; } axis_figs[2] = {
            {COND_FINAL_TEST_ACC, "cond_final_acc_vs_", "Final test accuracy", "final test accuracy (%)"},
            {COND_FINAL_TEST_LOSS, "cond_final_loss_vs_", "Final test loss", "final test loss"},
        };
        for (int j = 0; j < 2 && rc == 0; j++) {
            int any = 0; // no condition with a value (no run tested yet): nothing to draw
            for (int i = 0; i < n && !any; i++)
                any = stats_summarize(conditions_metric(&c[i], axis_figs[j].metric), c[i].n_runs).n > 0;
            if (!any) continue;
            char stem[40], name[48], title[200];
            key_stem(keys[a], stem, sizeof stem);
            snprintf(name, sizeof name, "%s%s", axis_figs[j].stem, stem);
            snprintf(title, sizeof title, "%s against %.31s (mean, 95%% CI)", axis_figs[j].what, keys[a]);
            fig_ctx f = {.c = c, .show = all, .n_show = n, .metric = axis_figs[j].metric,
                         .key = keys[a], .other = n_keys == 2 ? keys[1 - a] : "",
                         .title = title, .ylabel = axis_figs[j].ylabel};
            rc = plot_render(fig_dir, name, axis_draw, &f, e);
            if (rc == 0) figure_add(figs, &n_figs, cap, name, title);
        }
    }
    int any_acc = 0;
    for (int i = 0; i < n && !any_acc; i++) any_acc = stats_summarize(c[i].final_test_acc, c[i].n_runs).n > 0;
    if (n_keys == 2 && rc == 0 && any_acc) {
        char title[200];
        snprintf(title, sizeof title, "Mean final test accuracy (%%) by %.31s and %.31s, \xC2\xB1 95%% CI",
                 keys[0], keys[1]);
        fig_ctx f = {.c = c, .show = all, .n_show = n, .key = keys[0], .other = keys[1], .title = title};
        rc = plot_render(fig_dir, "cond_heatmap", heatmap_draw, &f, e);
        if (rc == 0) figure_add(figs, &n_figs, cap, "cond_heatmap", title);
    }
    free(all);
    free(best);
    return rc == 0 ? n_figs : -1;
}
