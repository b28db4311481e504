// plot.c: the study's figures, drawn with PLplot's cairo drivers as PNG (for
// viewing) and SVG (for papers): metric curves per epoch, the learning-rate
// schedule, the wall time per run and the best run's confusion matrix.
//
// PLplot holds its state in a global stream, so each file is one
// plinit ... plend1 cycle on stream 0, configured from scratch every time.
#define _POSIX_C_SOURCE 200809L
#include "report_parts.h"

#include <errno.h>
#include <math.h>
#include <plplot.h>
#include <string.h>

#include "../train/schedule.h"
#include "../util/fsutil.h"

enum { PAGE_W = 1000, PAGE_H = 700 };

// cmap0 slots: background, ink, grid, then the run colours.
enum { COL_BG = 0, COL_INK = 1, COL_GRID = 2, COL_RUN0 = 3 };
// Okabe-Ito, most distinct first; yellow last as it is faint on white.
static const unsigned char OKABE_ITO[8][3] = {
    {0x00, 0x72, 0xB2}, {0xD5, 0x5E, 0x00}, {0x00, 0x9E, 0x73}, {0xE6, 0x9F, 0x00},
    {0xCC, 0x79, 0xA7}, {0x56, 0xB4, 0xE9}, {0x00, 0x00, 0x00}, {0xF0, 0xE4, 0x42}};
enum { N_PALETTE = 8 };

static int run_colour(int i) { return COL_RUN0 + i % N_PALETTE; }
// Past eight runs colours repeat, so the line style changes instead.
static int run_style(int i) { return 1 + (i / N_PALETTE) % 8; }

void plot_run_label(const report_run *r, char *out, size_t cap) {
    size_t n = strnlen(r->label, cap - 1); // long labels are cut: a legend has room for so much
    memcpy(out, r->label, n);
    out[n] = '\0';
}

// The metric columns a curve figure can show.
typedef enum {
    SER_TRAIN_LOSS, SER_TEST_LOSS, SER_TRAIN_ACC, SER_TEST_ACC,
    SER_TRAIN_F1, SER_TEST_F1, SER_LR
} series_id;

static double series_value(const report_epoch *ep, series_id id) {
    switch (id) {
    case SER_TRAIN_LOSS: return ep->train_loss;
    case SER_TEST_LOSS: return ep->test_loss;
    case SER_TRAIN_ACC: return 100.0 * ep->train_acc;
    case SER_TEST_ACC: return 100.0 * ep->test_acc;
    case SER_TRAIN_F1: return ep->train_f1;
    case SER_TEST_F1: return ep->test_f1;
    case SER_LR: return ep->lr;
    }
    return NAN;
}

typedef struct {
    const report_study *s;
    const report_analysis *a;
    series_id series;
    const char *title, *ylabel;
    int log_y;            // decided from the data (curve_prepare)
    double ymin, ymax;    // window in plotted units (log10 when log_y)
    int xmax;
} fig_ctx;

// A run's points for a series: finite values at or before divergence.
// x, y are (epochs,) buffers; returns the count.
static int run_points(const report_run *r, series_id id, int log_y, double *x, double *y) {
    int n = 0;
    for (int i = 0; i < r->n_epochs; i++) {
        const report_epoch *ep = &r->epochs[i];
        if (r->diverged_epoch && ep->epoch >= r->diverged_epoch) break;
        double v = series_value(ep, id);
        if (!isfinite(v) || (log_y && v <= 0)) continue;
        x[n] = ep->epoch;
        y[n] = log_y ? log10(v) : v;
        n++;
    }
    return n;
}

long plot_lr_series(const report_run *r, double **x, double **y) {
    const int spe = r->steps_per_epoch;
    if (spe < 1) return 0;
    // the epochs trained, in order from 1, before any divergence
    int n_ep = 0;
    while (n_ep < r->n_epochs && n_ep < r->config.epochs && r->epochs[n_ep].epoch == n_ep + 1 &&
           !(r->diverged_epoch && r->epochs[n_ep].epoch >= r->diverged_epoch) && isfinite(r->epochs[n_ep].lr))
        n_ep++;
    if (n_ep == 0) return 0;
    long n = (long)n_ep * spe;
    double *epoch_lr = lr_malloc((size_t)r->config.epochs * sizeof *epoch_lr);
    for (int k = 0; k < r->config.epochs; k++) epoch_lr[k] = k < n_ep ? r->epochs[k].lr : r->epochs[n_ep - 1].lr;
    double *px = lr_malloc((size_t)n * sizeof *px), *py = lr_malloc((size_t)n * sizeof *py);
    lr_err e;
    int rc = schedule_replay(&r->config, spe, epoch_lr, py, n, &e);
    free(epoch_lr);
    if (rc != 0) {
        free(px);
        free(py);
        return 0;
    }
    for (long k = 0; k < n; k++) px[k] = (double)(k / spe) + 0.5 + (double)(k % spe) / spe;
    *x = px;
    *y = py;
    return n;
}

// Picks the axis ranges (and log or linear) from the data; 0 if no data.
static int curve_prepare(fig_ctx *c) {
    double lo = INFINITY, hi = -INFINITY, hi_ok = -INFINITY;
    int any = 0;
    c->xmax = 2;
    for (int i = 0; i < c->s->n_runs; i++) {
        const report_run *r = &c->s->runs[i];
        for (int k = 0; k < r->n_epochs; k++) {
            const report_epoch *ep = &r->epochs[k];
            if (r->diverged_epoch && ep->epoch >= r->diverged_epoch) break;
            double v = series_value(ep, c->series);
            if (!isfinite(v)) continue;
            any = 1;
            if (ep->epoch > c->xmax) c->xmax = ep->epoch;
            if (v < lo) lo = v;
            if (v > hi) hi = v;
            if (!r->diverged_epoch && v > hi_ok) hi_ok = v;
        }
        if (r->diverged_epoch > c->xmax) c->xmax = r->diverged_epoch;
        double *sx, *sy;
        long n = c->series == SER_LR ? plot_lr_series(r, &sx, &sy) : 0;
        for (long k = 0; k < n; k++) { // the rate within each epoch (one-cycle, warm-up in steps)
            if (!isfinite(sy[k])) continue;
            if (sy[k] < lo) lo = sy[k];
            if (sy[k] > hi) hi = sy[k];
        }
        if (n > 0) {
            free(sx);
            free(sy);
        }
    }
    if (!any) return 0;
    int is_loss = c->series == SER_TRAIN_LOSS || c->series == SER_TEST_LOSS;
    if (is_loss && isfinite(hi_ok) && hi > 100 * hi_ok) hi = 100 * hi_ok; // a blow-up clips
    // Log scale when the largest value is over four times the smallest (a
    // blow-up would flatten the other curves); always for the schedule.
    c->log_y = (is_loss || c->series == SER_LR) && lo > 0 &&
               (hi / lo > 4 || c->series == SER_LR);
    if (c->log_y) {
        double l = log10(lo), h = log10(hi);
        double pad = h - l < 0.3 ? 0.15 : 0.05 * (h - l);
        c->ymin = l - pad;
        c->ymax = h + pad;
    } else {
        double pad = (hi - lo) * 0.06;
        if (pad <= 0) pad = fabs(hi) > 0 ? 0.1 * fabs(hi) : 1;
        c->ymin = lo - pad;
        c->ymax = hi + pad;
        if (c->series == SER_TRAIN_ACC || c->series == SER_TEST_ACC) {
            c->ymin = fmax(0, floor(c->ymin / 5) * 5);
            c->ymax = fmin(100, ceil(c->ymax / 5) * 5);
        } else if (c->series == SER_TRAIN_F1 || c->series == SER_TEST_F1) {
            c->ymin = fmax(0, floor(c->ymin / 0.05) * 0.05);
            c->ymax = fmin(1, ceil(c->ymax / 0.05) * 0.05);
        } else if (lo >= 0 && c->ymin < 0) {
            c->ymin = 0;
        }
        if (c->ymax <= c->ymin) c->ymax = c->ymin + 1;
    }
    return 1;
}

// A whole-number epoch tick step giving at most ~12 labels.
static double epoch_tick(int xmax) {
    static const int steps[] = {1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000};
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++)
        if (xmax / steps[i] <= 12) return steps[i];
    return 0; // let PLplot choose
}

// Labels for a log10 axis: plain numbers at 1-2-5 steps (PLplot's own log
// labels are powers of ten, which say little when the range is under a
// decade). Fills the positions (log10) and texts; returns the count.
enum { MAX_LOG_LABELS = 40 };
static int log_labels(double ymin, double ymax, double *pos, char (*text)[32]) {
    static const double fine[] = {1, 1.5, 2, 3, 4, 5, 6, 8}, coarse[] = {1, 2, 5}, decade[] = {1};
    const double *steps[3] = {decade, coarse, fine};
    const int n_steps[3] = {1, 3, 8};
    int n = 0;
    for (int k = 0; k < 3; k++) { // the sparsest set giving 3..12 labels
        n = 0;
        for (int d = (int)floor(ymin) - 1; d <= (int)ceil(ymax) && n < MAX_LOG_LABELS; d++) {
            for (int j = 0; j < n_steps[k] && n < MAX_LOG_LABELS; j++) {
                double v = log10(steps[k][j]) + d;
                if (v < ymin || v > ymax) continue;
                pos[n] = v;
                snprintf(text[n], sizeof text[n], "%g", steps[k][j] * pow(10, d));
                n++;
            }
        }
        if (n >= 3 && n <= 12) break;
    }
    return n;
}

// Sets the viewport (left margin sized to the y labels), draws grid, axes,
// labels and title.
static void frame_draw(double vp_right, double xmin, double xmax, double xtick, double ymin,
                       double ymax, int log_y, const char *xlabel, const char *ylabel,
                       const char *title) {
    double pos[MAX_LOG_LABELS];
    char text[MAX_LOG_LABELS][32];
    int n_labels = log_y ? log_labels(ymin, ymax, pos, text) : 0;
    size_t widest = 5; // linear tick labels such as "0.625" or "100"
    for (int i = 0; i < n_labels; i++)
        if (strlen(text[i]) > widest) widest = strlen(text[i]);
    // Distances in axis-title heights: tick gap, the labels (a digit is about
    // 0.67 of that height wide), then half the title's own height.
    double ylabel_disp = 1.2 + 0.67 * (double)widest;
    plvpor(fmax(0.1, 0.02 + 0.019 * (ylabel_disp + 1.0)), vp_right, 0.11, 0.91);
    plwind(xmin, xmax, ymin, ymax);
    plwidth(1.0);
    plcol0(COL_GRID);
    plbox("g", xtick, 0, log_y ? "" : "g", 0, 0);
    for (int i = 0; i < n_labels; i++) {
        double gx[2] = {xmin, xmax}, gy[2] = {pos[i], pos[i]};
        plline(2, gx, gy);
    }
    plcol0(COL_INK);
    for (int i = 0; i < n_labels; i++)
        plmtex("lv", 0.7, (pos[i] - ymin) / (ymax - ymin), 1.0, text[i]);
    plbox("bcnst", xtick, 0, log_y ? "bcstl" : "bcnstv", 0, 0);
    plschr(0, 1.15);
    plmtex("b", 3.0, 0.5, 0.5, xlabel);
    plmtex("l", ylabel_disp, 0.5, 0.5, ylabel);
    plschr(0, 1.45);
    plmtex("t", 1.6, 0.5, 0.5, title);
    plschr(0, 1.0);
}

static const char DIVERGED_MARK[] = "\xC3\x97"; // U+00D7 multiplication sign

static void curve_draw(const void *arg) {
    const fig_ctx *c = arg;
    const report_study *s = c->s;
    double xpad = fmax(0.15, 0.015 * (c->xmax - 1)); // markers at the ends stay whole
    frame_draw(0.7, 1 - xpad, c->xmax + xpad, epoch_tick(c->xmax), c->ymin, c->ymax, c->log_y, "epoch",
               c->ylabel, c->title);

    int cap = c->xmax + 1;
    double *x = lr_malloc((size_t)cap * sizeof *x), *y = lr_malloc((size_t)cap * sizeof *y);
    int n_leg = 0;
    int *opt = lr_calloc((size_t)s->n_runs + 1, sizeof *opt);
    int *colours = lr_calloc((size_t)s->n_runs + 1, sizeof *colours);
    int *styles = lr_calloc((size_t)s->n_runs + 1, sizeof *styles);
    double *widths = lr_calloc((size_t)s->n_runs + 1, sizeof *widths);
    double *sym_scales = lr_calloc((size_t)s->n_runs + 1, sizeof *sym_scales);
    int *sym_numbers = lr_calloc((size_t)s->n_runs + 1, sizeof *sym_numbers);
    char (*labels)[96] = lr_calloc((size_t)s->n_runs + 1, sizeof *labels);
    const char **label_ptr = lr_calloc((size_t)s->n_runs + 1, sizeof *label_ptr);
    const char **sym_ptr = lr_calloc((size_t)s->n_runs + 1, sizeof *sym_ptr);

    for (int i = 0; i < s->n_runs; i++) {
        const report_run *r = &s->runs[i];
        int n = run_points(r, c->series, c->log_y, x, y); // distinct epochs <= xmax
        if (n == 0 && !r->diverged_epoch) continue;
        plcol0(run_colour(i));
        pllsty(run_style(i));
        plwidth(2.4);
        double *lx, *ly;
        long ln = c->series == SER_LR && n > 0 ? plot_lr_series(r, &lx, &ly) : 0;
        if (ln > 0) { // the schedule replayed step by step
            long m = 0;
            for (long k = 0; k < ln; k++) { // a rate of 0 (cosine's eta_min) has no place on a log axis
                if (!isfinite(ly[k]) || (c->log_y && ly[k] <= 0)) continue;
                lx[m] = lx[k];
                ly[m++] = c->log_y ? log10(ly[k]) : ly[k];
            }
            if (m > 1) plline((PLINT)m, lx, ly);
            free(lx);
            free(ly);
        } else if (c->series == SER_LR && n > 0) { // the rate holds for a whole epoch: steps
            double *sx = lr_malloc(2 * (size_t)n * sizeof *sx), *sy = lr_malloc(2 * (size_t)n * sizeof *sy);
            for (int k = 0; k < n; k++) {
                sx[2 * k] = x[k] - 0.5;
                sx[2 * k + 1] = x[k] + 0.5;
                sy[2 * k] = sy[2 * k + 1] = y[k];
            }
            plline(2 * n, sx, sy);
            free(sx);
            free(sy);
        } else if (n > 1) {
            plline(n, x, y);
        }
        // Sparse evaluations (or a single point) get a dot at each value.
        if (n > 0 && c->series != SER_LR && (n == 1 || x[n - 1] - x[0] + 1 > n)) {
            plschr(0, 0.9);
            plstring(n, x, y, "\xE2\x97\x8F"); // U+25CF black circle
        }
        pllsty(1);
        if (r->diverged_epoch && n > 0) {
            plschr(0, 2.2);
            plstring(1, &x[n - 1], &y[n - 1], DIVERGED_MARK);
        }
        plschr(0, 1.0);
        char base[64];
        plot_run_label(r, base, sizeof base);
        if (r->diverged_epoch)
            snprintf(labels[n_leg], sizeof labels[n_leg], "%s (diverged ep. %d)", base,
                     r->diverged_epoch);
        else
            snprintf(labels[n_leg], sizeof labels[n_leg], "%s", base);
        opt[n_leg] = PL_LEGEND_LINE | (r->diverged_epoch ? PL_LEGEND_SYMBOL : 0);
        colours[n_leg] = run_colour(i);
        styles[n_leg] = run_style(i);
        widths[n_leg] = 2.4;
        sym_scales[n_leg] = 1.6;
        sym_numbers[n_leg] = 1;
        sym_ptr[n_leg] = DIVERGED_MARK;
        label_ptr[n_leg] = labels[n_leg];
        n_leg++;
    }
    plwidth(1.0);
    if (n_leg > 0) {
        double lw, lh;
        int *text_colours = lr_calloc((size_t)n_leg, sizeof *text_colours);
        for (int i = 0; i < n_leg; i++) text_colours[i] = COL_INK;
        pllegend(&lw, &lh, PL_LEGEND_BACKGROUND | PL_LEGEND_BOUNDING_BOX,
                 PL_POSITION_RIGHT | PL_POSITION_TOP | PL_POSITION_INSIDE | PL_POSITION_SUBPAGE,
                 0.01, 0.09, 0.045, COL_BG, COL_INK, 1, 0, 0, n_leg, opt,
                 0.7, 0.9, 2.2, 0.0, text_colours, (const char *const *)label_ptr,
                 NULL, NULL, NULL, NULL, colours, styles, widths,
                 colours, sym_scales, sym_numbers, (const char *const *)sym_ptr);
        free(text_colours);
    }
    free(x); free(y); free(opt); free(colours); free(styles); free(widths);
    free(sym_scales); free(sym_numbers); free(labels); free(label_ptr); free(sym_ptr);
}

// ---- wall time per run ----

// Horizontal bars, one row per run from the top, so any number of runs and
// any label length stay readable.
static void time_draw(const void *arg) {
    const fig_ctx *c = arg;
    const report_study *s = c->s;
    int n = s->n_runs;
    double hi = 0;
    size_t longest = 4;
    for (int i = 0; i < n; i++) {
        const report_run *r = &s->runs[i];
        if (r->n_epochs > 0 && isfinite(r->seconds) && r->seconds > hi) hi = r->seconds;
        char label[96];
        plot_run_label(r, label, sizeof label);
        if (strlen(label) > longest) longest = strlen(label);
    }
    if (hi <= 0) hi = 1;
    double label_size = n > 14 ? 0.75 : 1.0;
    double left = fmin(0.35, 0.04 + 0.0115 * label_size * (double)longest);
    plvpor(left, 0.95, 0.12, 0.91);
    plwind(0, hi * 1.45, 0, n); // room right of the longest bar for its text
    plwidth(1.0);
    plcol0(COL_GRID);
    plbox("g", 0, 0, "", 0, 0);
    for (int i = 0; i < n; i++) {
        const report_run *r = &s->runs[i];
        double y0 = n - 1 - i;
        char label[96], text[96];
        plot_run_label(r, label, sizeof label);
        plcol0(COL_INK);
        plschr(0, label_size);
        plmtex("lv", 0.8, (y0 + 0.5) / n, 1.0, label);
        if (r->n_epochs == 0 || !isfinite(r->seconds)) {
            plschr(0, label_size * 0.85);
            plptex(hi * 0.01, y0 + 0.5, 1, 0, 0, "no time recorded");
            continue;
        }
        double bx[4] = {0, r->seconds, r->seconds, 0};
        double by[4] = {y0 + 0.18, y0 + 0.18, y0 + 0.82, y0 + 0.82};
        plcol0(run_colour(i));
        plfill(4, bx, by);
        if (r->diverged_epoch)
            snprintf(text, sizeof text, "%.1f s (diverged at epoch %d)", r->seconds, r->diverged_epoch);
        else
            snprintf(text, sizeof text, "%.1f s (%d epoch%s)", r->seconds, r->n_epochs,
                     r->n_epochs == 1 ? "" : "s");
        plcol0(COL_INK);
        plschr(0, label_size * 0.85);
        plptex(r->seconds + hi * 0.015, y0 + 0.5, 1, 0, 0, text); // y is the text's middle
    }
    plcol0(COL_INK);
    plschr(0, 1.0);
    plbox("bcnst", 0, 0, "bc", 0, 0);
    plschr(0, 1.15);
    plmtex("b", 3.0, 0.5, 0.5, "wall time (s)");
    plschr(0, 1.45);
    plmtex("t", 1.6, 0.5, 0.5, c->title);
    plschr(0, 1.0);
}

// ---- confusion matrix ----

static void confusion_draw(const void *arg) {
    const fig_ctx *c = arg;
    const report_run *r = &c->s->runs[c->a->confusion_run];
    int n = r->n_classes;
    size_t longest = 1;
    for (int i = 0; i < n; i++)
        if (strlen(r->classes[i]) > longest) longest = strlen(r->classes[i]);
    double name_scale = n > 12 ? 0.7 : 1.0;
    // Room the class names take, in units of the 1.15-sized axis-title font.
    double name_disp = (0.6 + 0.58 * (double)longest) * name_scale / 1.15;

    plvpor(0.26, 0.7, 0.3, 0.92);
    plwind(0, n, 0, n);
    // Colour is the fraction of each true class (rows), so classes of
    // different sizes compare; the counts are written in the cells. Row t
    // (true class t) is drawn from the top.
    double cell_text = n > 12 ? 0.55 : 0.8;
    for (int t = 0; t < n; t++) {
        long total = 0;
        for (int p = 0; p < n; p++) total += r->confusion[(size_t)t * n + p];
        for (int p = 0; p < n; p++) {
            long count = r->confusion[(size_t)t * n + p];
            double frac = total ? (double)count / (double)total : 0;
            double y0 = n - 1 - t;
            double bx[4] = {p, p + 1, p + 1, p}, by[4] = {y0, y0, y0 + 1, y0 + 1};
            plcol1(frac);
            plfill(4, bx, by);
            char num[32];
            snprintf(num, sizeof num, "%ld", count);
            plcol0(frac > 0.55 ? COL_INK : COL_BG); // dark text on the bright end
            plschr(0, cell_text);
            plptex(p + 0.5, y0 + 0.5, 1, 0, 0.5, num);
        }
    }
    plcol0(COL_INK);
    plschr(0, 1.0);
    plwidth(1.0);
    plbox("bc", 0, 0, "bc", 0, 0);
    plschr(0, name_scale);
    for (int i = 0; i < n; i++) {
        plmtex("bv", 0.6, (i + 0.5) / n, 1.0, r->classes[i]);
        plmtex("lv", 0.6, (n - 1 - i + 0.5) / n, 1.0, r->classes[i]);
    }
    plschr(0, 1.15);
    plmtex("b", name_disp + 1.6, 0.5, 0.5, "predicted class");
    plmtex("l", name_disp + 1.0, 0.5, 0.5, "true class");
    plschr(0, 1.35);
    plmtex("t", 1.6, 0.5, 0.5, c->title);

    // Colour bar: fraction of the true class.
    plot_colorbar(0.0, 1.0, "fraction of true class", 0.2, 0.9, 0.04);
}

// Drawn as an image: PLplot's cairo gradient leaks its pattern.
void plot_colorbar(double lo, double hi, const char *label, double tick, double text_scale, double size) {
    const char *axis_opts[] = {"bcvtn"};
    const char *bar_labels[] = {label};
    int label_opts[] = {PL_COLORBAR_LABEL_RIGHT};
    double ticks[] = {tick};
    int sub_ticks[] = {0};
    int n_values[] = {101};
    double vals[101];
    for (int i = 0; i <= 100; i++) vals[i] = lo + (hi - lo) * i / 100.0;
    const double *values[] = {vals};
    double cw, ch;
    plschr(0, text_scale);
    plcolorbar(&cw, &ch, PL_COLORBAR_IMAGE | PL_COLORBAR_LABEL_RIGHT,
               PL_POSITION_RIGHT | PL_POSITION_OUTSIDE | PL_POSITION_VIEWPORT,
               size, 0.0, size, 1.0, COL_BG, COL_INK, 1, 0, 0, 0, 0,
               1, label_opts, bar_labels, 1, axis_opts, ticks, sub_ticks, n_values,
               (const PLFLT *const *)values);
    plschr(0, 1.0);
}

// ---- one figure, two files ----

static void palette_set(void) {
    plscmap0n(COL_RUN0 + N_PALETTE);
    plscol0a(COL_BG, 255, 255, 255, 1.0);
    plscol0a(COL_INK, 0, 0, 0, 1.0);
    plscol0a(COL_GRID, 222, 222, 222, 1.0);
    for (int i = 0; i < N_PALETTE; i++)
        plscol0a(COL_RUN0 + i, OKABE_ITO[i][0], OKABE_ITO[i][1], OKABE_ITO[i][2], 1.0);
    // cmap1 for the heat map: viridis (perceptually even, colour-blind safe).
    double pos[5] = {0, 0.25, 0.5, 0.75, 1};
    double red[5] = {0x44 / 255., 0x3B / 255., 0x21 / 255., 0x5E / 255., 0xFD / 255.};
    double green[5] = {0x01 / 255., 0x52 / 255., 0x91 / 255., 0xC9 / 255., 0xE7 / 255.};
    double blue[5] = {0x54 / 255., 0x8B / 255., 0x8C / 255., 0x62 / 255., 0x25 / 255.};
    plscmap1n(256);
    plscmap1l(1, 5, pos, red, green, blue, NULL);
}

// PLplot exits the process on a missing driver, so ask first.
static int drivers_check(lr_err *e) {
    const char *menu[128], *names[128];
    const char **menu_p = menu, **names_p = names;
    int n = 128; // in: capacity, out: count
    plgDevs(&menu_p, &names_p, &n);
    int png = 0, svg = 0;
    for (int i = 0; i < n; i++) {
        if (strcmp(names[i], "pngcairo") == 0) png = 1;
        if (strcmp(names[i], "svgcairo") == 0) svg = 1;
    }
    if (!png || !svg)
        return lr_fail(e, "PLplot has no %s driver: install the Debian package plplot-driver-cairo",
                       !png ? "pngcairo" : "svgcairo");
    return 0;
}

// Draws one figure into fig_dir/name.png and .svg. PLplot opens the file by
// name itself and cannot report a failed write, so each file goes through
// fsutil's checked path for such files: drawn to a temporary name, checked
// to be a whole PNG or SVG, then renamed over the final name.
static int figure_render(const char *fig_dir, const char *name, void (*draw)(const void *),
                         const void *arg, lr_err *e) {
    static const char *const devs[2] = {"pngcairo", "svgcairo"};
    static const char *const exts[2] = {"png", "svg"};
    static const fs_check_fn checks[2] = {fs_check_png, fs_check_svg};
    for (int k = 0; k < 2; k++) {
        char final_path[4400], file[96];
        snprintf(file, sizeof file, "%s.%s", name, exts[k]);
        fs_join(final_path, sizeof final_path, fig_dir, file);
        fs_atomic_file af;
        if (fs_begin_named(&af, final_path, e) != 0) return -1; // PLplot would exit() on an unwritable path
        plsdev(devs[k]);
        plsfnam(af.tmp);
        plspage(0, 0, PAGE_W, PAGE_H, 0, 0);
        palette_set();
        plinit();
        pladv(0);
        draw(arg);
        plend1();
        if (fs_commit_named(&af, checks[k], e) != 0) return -1;
    }
    return 0;
}

static int figure_remove(const char *fig_dir, const char *name, lr_err *e) {
    static const char *const exts[2] = {"png", "svg"};
    for (int k = 0; k < 2; k++) {
        char path[4400], file[96];
        snprintf(file, sizeof file, "%s.%s", name, exts[k]);
        fs_join(path, sizeof path, fig_dir, file);
        if (remove(path) != 0 && errno != ENOENT)
            return lr_fail(e, "%s: cannot remove the stale figure: %s", path, strerror(errno));
    }
    return 0;
}

static int figure_add(report_figure *figs, int *n, int cap, const char *name, const char *title) {
    LR_ASSERT(*n < cap);
    snprintf(figs[*n].name, sizeof figs[*n].name, "%s", name);
    snprintf(figs[*n].title, sizeof figs[*n].title, "%s", title);
    (*n)++;
    return 0;
}

int plot_figures(const report_study *s, const report_analysis *a, const char *fig_dir,
                 report_figure *figs, int cap, lr_err *e) {
    static const struct {
        series_id id;
        const char *name, *title, *ylabel;
    } curves[] = {
        {SER_TRAIN_LOSS, "train_loss", "Train loss per epoch", "train loss (cross-entropy)"},
        {SER_TEST_LOSS, "test_loss", "Test loss per epoch", "test loss (cross-entropy)"},
        {SER_TRAIN_ACC, "train_acc", "Train accuracy per epoch", "train accuracy (%)"},
        {SER_TEST_ACC, "test_acc", "Test accuracy per epoch", "test accuracy (%)"},
        {SER_TRAIN_F1, "train_f1", "Train F1 (macro) per epoch", "train F1"},
        {SER_TEST_F1, "test_f1", "Test F1 (macro) per epoch", "test F1"},
        {SER_LR, "lr_schedule", "Learning rate per step (schedule)", "learning rate"},
    };
    if (drivers_check(e) != 0) return -1;
    int n = 0;
    for (size_t i = 0; i < sizeof curves / sizeof curves[0]; i++) {
        fig_ctx c = {.s = s, .a = a, .series = curves[i].id, .title = curves[i].title,
                     .ylabel = curves[i].ylabel};
        if (!curve_prepare(&c)) continue;
        char title[200];
        snprintf(title, sizeof title, "%s%s", curves[i].title, c.log_y ? " (log scale)" : "");
        if (figure_render(fig_dir, curves[i].name, curve_draw, &c, e) != 0) return -1;
        figure_add(figs, &n, cap, curves[i].name, title);
    }
    if (a->fastest >= 0) {
        fig_ctx c = {.s = s, .a = a, .title = "Wall time per run"};
        if (figure_render(fig_dir, "time", time_draw, &c, e) != 0) return -1;
        figure_add(figs, &n, cap, "time", "Wall time per run");
    }
    if (a->confusion_run >= 0) {
        char title[200];
        snprintf(title, sizeof title, "Test confusion matrix of %.150s (final epoch)",
                 s->runs[a->confusion_run].name);
        fig_ctx c = {.s = s, .a = a, .title = title};
        if (figure_render(fig_dir, "confusion", confusion_draw, &c, e) != 0) return -1;
        figure_add(figs, &n, cap, "confusion", title);
    }
    // A figure an earlier report drew but this one cannot (say, a run.json
    // since lost) must not linger beside the report as if current.
    for (size_t i = 0; i < sizeof curves / sizeof curves[0] + 2; i++) {
        const char *name = i < sizeof curves / sizeof curves[0] ? curves[i].name
                           : i == sizeof curves / sizeof curves[0] ? "time" : "confusion";
        int drawn = 0;
        for (int k = 0; k < n; k++) drawn |= strcmp(figs[k].name, name) == 0;
        if (!drawn && figure_remove(fig_dir, name, e) != 0) return -1;
    }
    return n;
}

// The figure helpers for the other figure files (plot_conditions.c), so every
// figure goes through the same checked write.
int plot_render(const char *fig_dir, const char *name, void (*draw)(const void *), const void *arg,
                lr_err *e) {
    return figure_render(fig_dir, name, draw, arg, e);
}

int plot_drivers_check(lr_err *e) { return drivers_check(e); }
