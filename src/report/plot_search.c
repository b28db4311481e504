// plot_search.c: the figures of a search study (search_report.h), drawn with
// PLplot through plot.c's checked writer (plot_render): the optimisation
// history (each trial's value and the best-so-far line), the value against
// each searched parameter (log x for log-uniform and int:A:B:log, the
// choices on x for categorical), and the test accuracy and loss per epoch of
// every trial. Pruned trials are hollow grey markers and faint thin curves;
// the best trial is drawn in its own colour on top.
//
// Accuracies are drawn in percent, F1 as a fraction, losses as they are.
#include "search_report.h"

#include <math.h>
#include <plplot.h>
#include <string.h>

// cmap0 slots: plot.c's background, ink and grid, then this file's colours
// (Okabe-Ito blue, vermillion, green and purple; two greys).
enum { COL_BG = 0, COL_INK = 1, COL_GRID = 2, COL_COMPLETE, COL_PRUNED, COL_BEST, COL_FAINT, COL_BSF, COL_DIVERGED,
       N_COLOURS };

static void palette_search(void) {
    plscmap0n(N_COLOURS);
    plscol0a(COL_BG, 255, 255, 255, 1.0);
    plscol0a(COL_INK, 0, 0, 0, 1.0);
    plscol0a(COL_GRID, 222, 222, 222, 1.0);
    plscol0a(COL_COMPLETE, 0x00, 0x72, 0xB2, 1.0);
    plscol0a(COL_PRUNED, 150, 150, 150, 1.0);
    plscol0a(COL_BEST, 0xD5, 0x5E, 0x00, 1.0);
    plscol0a(COL_FAINT, 200, 200, 200, 1.0);
    plscol0a(COL_BSF, 0x00, 0x9E, 0x73, 1.0);
    plscol0a(COL_DIVERGED, 0xCC, 0x79, 0xA7, 1.0);
}

static const char DOT[] = "\xE2\x97\x8F";    // U+25CF black circle: a completed trial
static const char RING[] = "\xE2\x97\x8B";   // U+25CB white circle: a pruned trial
static const char CROSS[] = "\xC3\x97";      // U+00D7: a diverged trial (no value), at the bottom edge

typedef struct {
    const report_study *s;
    const search_report *r;
    int param;             // the parameter figure's index in the space
    int loss;              // the curve figures: 0 test accuracy, 1 test loss
    const char *title;
    double ymin, ymax;     // in drawn units (log10 when log_y)
    int log_y;
    double xmin, xmax;     // in drawn units (log10 for a log parameter)
    int log_x;
} fig_ctx;

static void frame_draw(const fig_ctx *c, const char *xopt, const char *xlabel, const char *ylabel) {
    plvpor(0.1, 0.95, 0.11, 0.91);
    plwind(c->xmin, c->xmax, c->ymin, c->ymax);
    plwidth(1.0);
    plcol0(COL_GRID);
    plbox(c->log_x ? "gl" : "g", 0, 0, c->log_y ? "gl" : "g", 0, 0);
    plcol0(COL_INK);
    plbox(xopt, 0, 0, c->log_y ? "bcnstvl" : "bcnstv", 0, 0);
    plschr(0, 1.15);
    plmtex("b", 3.0, 0.5, 0.5, xlabel);
    plmtex("l", 4.2, 0.5, 0.5, ylabel);
    plschr(0, 1.35);
    plmtex("t", 1.6, 0.5, 0.5, c->title);
    plschr(0, 1.0);
}

// A legend inside the viewport, top or bottom right; n entries, each a line or a symbol.
static void legend_draw(int n, const char *const *labels, const int *colours, const int *is_line,
                        const char *const *symbols, int bottom) {
    int opt[8], text_col[8], styles[8], sym_n[8];
    double widths[8], sym_scale[8];
    LR_ASSERT(n <= 8);
    for (int i = 0; i < n; i++) {
        opt[i] = is_line[i] ? PL_LEGEND_LINE : PL_LEGEND_SYMBOL;
        text_col[i] = COL_INK;
        styles[i] = 1;
        widths[i] = 2.4;
        sym_scale[i] = 1.2;
        sym_n[i] = 1;
    }
    double lw, lh;
    plschr(0, 0.85);
    pllegend(&lw, &lh, PL_LEGEND_BACKGROUND | PL_LEGEND_BOUNDING_BOX,
             PL_POSITION_RIGHT | (bottom ? PL_POSITION_BOTTOM : PL_POSITION_TOP) | PL_POSITION_INSIDE |
                 PL_POSITION_VIEWPORT,
             0.02, 0.03, 0.05, COL_BG, COL_INK, 1, 0, 0, n, opt, 0.5, 0.8, 1.6, 0.0, text_col, labels, NULL,
             NULL, NULL, NULL, colours, styles, widths, colours, sym_scale, sym_n, symbols);
    plschr(0, 1.0);
}

static const char *metric_label(search_metric m, char *out, size_t cap) {
    snprintf(out, cap, "%s%s", search_metric_name(m), search_metric_scale(m) != 1.0 ? " (%)" : "");
    return out;
}

// The y window from the rows' values (scaled); 0 when no trial has a value.
static int value_range(const search_report *r, double *ymin, double *ymax) {
    double sc = search_metric_scale(r->spec.metric), lo = INFINITY, hi = -INFINITY;
    for (int k = 0; k < r->n_rows; k++) {
        double v = sc * r->rows[k].value;
        if (r->rows[k].state == SR_RUNNING || !isfinite(v)) continue;
        if (v < lo) lo = v;
        if (v > hi) hi = v;
    }
    if (!isfinite(lo)) return 0;
    double pad = (hi - lo) * 0.08;
    if (pad <= 0) pad = fabs(hi) > 0 ? 0.1 * fabs(hi) : 1;
    *ymin = lo - pad;
    *ymax = hi + pad;
    if (sc != 1.0) {
        *ymin = fmax(0, floor(*ymin / 5) * 5);
        *ymax = fmin(100, ceil(*ymax / 5) * 5);
        if (*ymax <= *ymin) *ymax = *ymin + 5;
    }
    return 1;
}

// The markers of every trial at (x[k], its value): completed dots, pruned
// rings, diverged crosses at the bottom edge, the best trial larger on top.
static void markers_draw(const fig_ctx *c, const double *x) {
    const search_report *r = c->r;
    double sc = search_metric_scale(r->spec.metric);
    for (int pass = 0; pass < 3; pass++) { // pruned below, completed, then diverged marks
        for (int k = 0; k < r->n_rows; k++) {
            const search_row *w = &r->rows[k];
            double px = x[k], py = sc * w->value;
            if (!isfinite(px)) continue;
            if (pass == 0 && w->state == SR_PRUNED && isfinite(py)) {
                plcol0(COL_PRUNED);
                plschr(0, 1.3);
                plstring(1, &px, &py, RING);
            } else if (pass == 1 && w->state == SR_COMPLETE && isfinite(py)) {
                plcol0(COL_COMPLETE);
                plschr(0, 1.1);
                plstring(1, &px, &py, DOT);
            } else if (pass == 2 && w->state == SR_COMPLETE && !isfinite(py)) {
                double by = c->ymin + 0.02 * (c->ymax - c->ymin);
                plcol0(COL_DIVERGED);
                plschr(0, 1.6);
                plstring(1, &px, &by, CROSS);
            }
        }
    }
    if (r->best >= 0 && isfinite(x[r->best])) {
        double px = x[r->best], py = sc * r->rows[r->best].value;
        plcol0(COL_BEST);
        plschr(0, 1.9);
        plstring(1, &px, &py, DOT);
    }
    plschr(0, 1.0);
}

// 1 when some completed trial has no value (a seed diverged): the legend then explains its cross.
static int any_diverged(const search_report *r) {
    for (int k = 0; k < r->n_rows; k++)
        if (r->rows[k].state == SR_COMPLETE && !isfinite(r->rows[k].value)) return 1;
    return 0;
}

// ---- the optimisation history ----

static void history_draw(const void *arg) {
    const fig_ctx *c = arg;
    const search_report *r = c->r;
    palette_search();
    char yl[80];
    frame_draw(c, "bcnst", "trial", metric_label(r->spec.metric, yl, sizeof yl));
    double *x = lr_malloc((size_t)r->n_rows * sizeof *x);
    for (int k = 0; k < r->n_rows; k++) x[k] = r->rows[k].trial;
    // Best so far: a step line over the trials, from the first completed one.
    double sc = search_metric_scale(r->spec.metric);
    double *bx = lr_malloc(2 * (size_t)r->n_rows * sizeof *bx), *by = lr_malloc(2 * (size_t)r->n_rows * sizeof *by);
    int n = 0;
    for (int k = 0; k < r->n_rows; k++) {
        double v = r->rows[k].best_so_far;
        if (!isfinite(v)) continue;
        if (n > 0) {
            bx[n] = x[k];
            by[n] = by[n - 1];
            n++;
        }
        bx[n] = x[k];
        by[n] = sc * v;
        n++;
    }
    if (n > 0) { // on to the last trial
        bx[n] = r->rows[r->n_rows - 1].trial + 0.5;
        by[n] = by[n - 1];
        n++;
        plcol0(COL_BSF);
        plwidth(2.4);
        plline(n, bx, by);
        plwidth(1.0);
    }
    markers_draw(c, x);
    const char *labels[5] = {"completed trial", "pruned (value where it stopped)", "best so far", "best trial",
                             "diverged (no value)"};
    int colours[5] = {COL_COMPLETE, COL_PRUNED, COL_BSF, COL_BEST, COL_DIVERGED}, is_line[5] = {0, 0, 1, 0, 0};
    const char *syms[5] = {DOT, RING, DOT, DOT, CROSS};
    legend_draw(any_diverged(r) ? 5 : 4, labels, colours, is_line, syms, r->spec.maximize);
    free(x);
    free(bx);
    free(by);
}

// ---- the value against one parameter ----

static double param_x(const search_param *p, double v) {
    return p->log ? log10(v) : v;
}

static void param_draw(const void *arg) {
    const fig_ctx *c = arg;
    const search_report *r = c->r;
    const search_param *p = &r->spec.space.p[c->param];
    palette_search();
    char yl[80], xl[160];
    snprintf(xl, sizeof xl, "%s%s", p->k->name, p->log ? " (log scale)" : "");
    int cat = p->kind == PARAM_CATEGORICAL;
    frame_draw(c, cat ? "bc" : p->log ? "bcnstl" : "bcnst", xl, metric_label(r->spec.metric, yl, sizeof yl));
    if (cat) {
        plschr(0, p->n_choices > 8 ? 0.75 : 1.0);
        for (int j = 0; j < p->n_choices; j++)
            plmtex("b", 1.3, (j - c->xmin) / (c->xmax - c->xmin), 0.5, p->choices[j]);
        plschr(0, 1.0);
    }
    double *x = lr_malloc((size_t)r->n_rows * sizeof *x);
    for (int k = 0; k < r->n_rows; k++) {
        double v = r->rows[k].x[c->param];
        // Choices: spread a little by trial number so equal points stay visible.
        x[k] = cat ? v + 0.06 * (double)(r->rows[k].trial % 7 - 3) : param_x(p, v);
        if (!cat && p->log && !(v > 0)) x[k] = NAN;
    }
    markers_draw(c, x);
    const char *labels[4] = {"completed trial", "pruned (value where it stopped)", "best trial", "diverged (no value)"};
    int colours[4] = {COL_COMPLETE, COL_PRUNED, COL_BEST, COL_DIVERGED}, is_line[4] = {0, 0, 0, 0};
    const char *syms[4] = {DOT, RING, DOT, CROSS};
    legend_draw(any_diverged(r) ? 4 : 3, labels, colours, is_line, syms, r->spec.maximize);
    free(x);
}

// ---- the curves of every trial ----

static double curve_value(const report_epoch *ep, int loss) { return loss ? ep->test_loss : 100.0 * ep->test_acc; }

// A run's finite points before divergence, in drawn units; x, y (n_epochs,).
static int run_points(const report_run *run, int loss, int log_y, double *x, double *y) {
    int n = 0;
    for (int i = 0; i < run->n_epochs; i++) {
        const report_epoch *ep = &run->epochs[i];
        if (run->diverged_epoch && ep->epoch >= run->diverged_epoch) break;
        double v = curve_value(ep, loss);
        if (!isfinite(v) || (log_y && v <= 0)) continue;
        x[n] = ep->epoch;
        y[n++] = log_y ? log10(v) : v;
    }
    return n;
}

static int curves_prepare(fig_ctx *c) {
    const search_report *r = c->r;
    double lo = INFINITY, hi = -INFINITY;
    int xmax = 2;
    for (int k = 0; k < r->n_rows; k++)
        for (int j = 0; j < r->rows[k].n_runs; j++) {
            const report_run *run = &c->s->runs[r->rows[k].runs[j]];
            for (int i = 0; i < run->n_epochs; i++) {
                const report_epoch *ep = &run->epochs[i];
                if (run->diverged_epoch && ep->epoch >= run->diverged_epoch) break;
                double v = curve_value(ep, c->loss);
                if (!isfinite(v)) continue;
                if (v < lo) lo = v;
                if (v > hi) hi = v;
                if (ep->epoch > xmax) xmax = ep->epoch;
            }
        }
    if (!isfinite(lo)) return 0;
    c->xmin = 0.8;
    c->xmax = xmax + 0.2;
    c->log_y = c->loss && lo > 0 && hi / lo > 4;
    if (c->log_y) {
        double l = log10(lo), h = log10(hi), pad = fmax(0.05 * (h - l), 0.1);
        c->ymin = l - pad;
        c->ymax = h + pad;
    } else {
        double pad = (hi - lo) * 0.06;
        if (pad <= 0) pad = fabs(hi) > 0 ? 0.1 * fabs(hi) : 1;
        c->ymin = lo - pad;
        c->ymax = hi + pad;
        if (!c->loss) {
            c->ymin = fmax(0, floor(c->ymin / 5) * 5);
            c->ymax = fmin(100, ceil(c->ymax / 5) * 5);
        } else if (c->ymin < 0) {
            c->ymin = 0;
        }
        if (c->ymax <= c->ymin) c->ymax = c->ymin + 1;
    }
    return 1;
}

static void curves_draw(const void *arg) {
    const fig_ctx *c = arg;
    const search_report *r = c->r;
    palette_search();
    frame_draw(c, "bcnst", "epoch", c->loss ? "test loss (cross-entropy)" : "test accuracy (%)");
    int cap = 1;
    for (int i = 0; i < c->s->n_runs; i++)
        if (c->s->runs[i].n_epochs > cap) cap = c->s->runs[i].n_epochs;
    double *x = lr_malloc((size_t)cap * sizeof *x), *y = lr_malloc((size_t)cap * sizeof *y);
    // Pruned first and faint, then the others, the best trial last and bold.
    for (int pass = 0; pass < 3; pass++)
        for (int k = 0; k < r->n_rows; k++) {
            const search_row *w = &r->rows[k];
            int is_best = k == r->best, pruned = w->state == SR_PRUNED;
            if ((pass == 0) != pruned || (pass == 2) != is_best) continue;
            plcol0(is_best ? COL_BEST : pruned ? COL_FAINT : COL_COMPLETE);
            plwidth(is_best ? 3.0 : pruned ? 0.8 : 1.2);
            for (int j = 0; j < w->n_runs; j++) {
                int n = run_points(&c->s->runs[w->runs[j]], c->loss, c->log_y, x, y);
                if (n > 1) plline(n, x, y);
                else if (n == 1) plstring(1, x, y, DOT);
            }
        }
    plwidth(1.0);
    char best[80] = "best trial";
    if (r->best >= 0) snprintf(best, sizeof best, "best trial (%d)", r->rows[r->best].trial);
    const char *labels[3] = {"completed trial", "pruned trial", best};
    int colours[3] = {COL_COMPLETE, COL_FAINT, COL_BEST}, is_line[3] = {1, 1, 1};
    const char *syms[3] = {DOT, DOT, DOT};
    legend_draw(r->best >= 0 ? 3 : 2, labels, colours, is_line, syms, !c->loss);
    free(x);
    free(y);
}

// ---- the figures ----

static int figure_add(report_figure *figs, int *n, int cap, const char *name, const char *title) {
    LR_ASSERT(*n < cap);
    snprintf(figs[*n].name, sizeof figs[*n].name, "%s", name);
    snprintf(figs[*n].title, sizeof figs[*n].title, "%s", title);
    (*n)++;
    return 0;
}

int plot_search(const report_study *s, const search_report *r, const char *fig_dir, report_figure *figs, int cap,
                lr_err *e) {
    if (plot_drivers_check(e) != 0) return -1;
    int n = 0;
    fig_ctx c = {.s = s, .r = r};
    char title[200];
    const char *metric = search_metric_name(r->spec.metric);
    if (r->n_rows > 0 && value_range(r, &c.ymin, &c.ymax)) {
        c.xmin = r->rows[0].trial - 0.5;
        c.xmax = r->rows[r->n_rows - 1].trial + 0.5;
        if (c.xmax - c.xmin < 2) c.xmax = c.xmin + 2;
        snprintf(title, sizeof title, "Optimisation history: %s per trial and the best so far", metric);
        c.title = title;
        if (plot_render(fig_dir, "search_history", history_draw, &c, e) != 0) return -1;
        figure_add(figs, &n, cap, "search_history", title);
        for (int i = 0; i < r->spec.space.n; i++) {
            const search_param *p = &r->spec.space.p[i];
            fig_ctx pc = c;
            pc.param = i;
            if (p->kind == PARAM_CATEGORICAL) {
                pc.xmin = -0.5;
                pc.xmax = p->n_choices - 0.5;
            } else {
                double lo = param_x(p, p->low), hi = param_x(p, p->high), pad = 0.03 * (hi - lo);
                pc.xmin = lo - pad;
                pc.xmax = hi + pad;
                pc.log_x = p->log;
            }
            char name[48], t[200];
            snprintf(name, sizeof name, "search_param_%.30s", p->k->name);
            snprintf(t, sizeof t, "%s against %s%s", metric, p->k->name, p->log ? " (log scale)" : "");
            pc.title = t;
            if (plot_render(fig_dir, name, param_draw, &pc, e) != 0) return -1;
            figure_add(figs, &n, cap, name, t);
        }
    }
    for (int loss = 0; loss < 2; loss++) {
        fig_ctx cc = {.s = s, .r = r, .loss = loss};
        if (!curves_prepare(&cc)) continue;
        const char *t = loss ? "Test loss per epoch of every trial (pruned faint, best bold)"
                             : "Test accuracy per epoch of every trial (pruned faint, best bold)";
        snprintf(title, sizeof title, "%s%s", t, cc.log_y ? " (log scale)" : "");
        cc.title = loss ? "Test loss of every trial" : "Test accuracy of every trial";
        const char *name = loss ? "search_curves_loss" : "search_curves_acc";
        if (plot_render(fig_dir, name, curves_draw, &cc, e) != 0) return -1;
        figure_add(figs, &n, cap, name, title);
    }
    return n;
}
