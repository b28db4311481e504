// plot_lrfind.c: the range test's figure, drawn with PLplot through plot.c's
// checked writer (plot_render): the batch loss (faint) and the smoothed loss
// against the learning rate on a log10 x axis, each suggestion marked with a
// point on the smoothed curve and named in the legend.
#include "report_parts.h"

#include <math.h>
#include <plplot.h>
#include <string.h>

// cmap0: plot.c's background, ink and grid, then the curves and the marks.
enum { COL_BG = 0, COL_INK = 1, COL_GRID = 2, COL_RAW = 3, COL_SMOOTH = 4, COL_MARK0 = 5, N_COLOURS = 8 };

typedef struct {
    const lrfind_curve *c;
    const lrfind_suggestions *s; // NULL: no suggestions (too few points)
    const char *title;
} lrfind_fig;

static void lrfind_draw(const void *arg) {
    const lrfind_fig *f = arg;
    const lrfind_curve *c = f->c;
    plscmap0n(N_COLOURS);
    plscol0a(COL_RAW, 0x56, 0xB4, 0xE9, 0.45);   // Okabe-Ito sky blue, faint
    plscol0a(COL_SMOOTH, 0x00, 0x72, 0xB2, 1.0); // blue
    plscol0a(COL_MARK0, 0xD5, 0x5E, 0x00, 1.0);  // vermillion: valley
    plscol0a(COL_MARK0 + 1, 0x00, 0x9E, 0x73, 1.0); // green: steepest
    plscol0a(COL_MARK0 + 2, 0xCC, 0x79, 0xA7, 1.0); // purple: minimum / 10
    // x: log10 lr; y: the smoothed loss from its lowest point to its highest
    // before that point, plus half that again to show the take-off; the rest
    // (the blow-up at the end, noisy batches) is clipped, as it would flatten
    // the part that matters.
    double *x = lr_malloc((size_t)c->n * sizeof *x), *y = lr_malloc((size_t)c->n * sizeof *y);
    long n = 0, i_min = 0;
    while (n < c->n && isfinite(c->smoothed[n]) && c->lr[n] > 0) n++;
    for (long i = 1; i < n; i++)
        if (c->smoothed[i] < c->smoothed[i_min]) i_min = i;
    double lo = n ? c->smoothed[i_min] : 0, hi = lo;
    for (long i = 0; i <= i_min && i < n; i++) hi = fmax(hi, c->smoothed[i]);
    hi += 0.5 * (hi - lo);
    if (!(hi > lo)) hi = lo + 1; // nothing finite, or flat: an empty frame still says so
    double pad = 0.06 * (hi - lo);
    double xmin = log10(c->n ? c->lr[0] : 1e-7), xmax = log10(c->n ? c->lr[c->n - 1] : 10);
    if (!(xmax > xmin)) xmax = xmin + 1;
    plvpor(0.11, 0.7, 0.11, 0.91);
    plwind(xmin, xmax, lo - pad, hi + pad);
    plwidth(1.0);
    plcol0(COL_GRID);
    plbox("gl", 0, 0, "g", 0, 0);
    plcol0(COL_INK);
    plbox("bcnstl", 0, 0, "bcnstv", 0, 0);
    plschr(0, 1.15);
    plmtex("b", 3.0, 0.5, 0.5, "learning rate (log scale)");
    plmtex("l", 3.8, 0.5, 0.5, "training loss");
    plschr(0, 1.2);
    plmtex("t", 1.6, 0.5, 0.5, f->title);
    plschr(0, 1.0);
    // raw batch losses, clipped into the window
    long m = 0;
    for (long i = 0; i < n; i++) {
        if (!isfinite(c->loss[i])) continue;
        x[m] = log10(c->lr[i]);
        y[m++] = fmin(fmax(c->loss[i], lo - pad), hi + pad);
    }
    plcol0(COL_RAW);
    plwidth(1.2);
    if (m > 1) plline((PLINT)m, x, y);
    for (long i = 0; i < n; i++) {
        x[i] = log10(c->lr[i]);
        y[i] = fmin(c->smoothed[i], hi + pad);
    }
    plcol0(COL_SMOOTH);
    plwidth(2.6);
    if (n > 1) plline((PLINT)n, x, y);
    plwidth(1.0);
    const char *labels[5] = {"batch loss", "smoothed (beta 0.98)"};
    char text[3][96];
    int colours[5] = {COL_RAW, COL_SMOOTH}, n_leg = 2;
    if (f->s) {
        const long at[3] = {f->s->i_valley, f->s->i_steepest, f->s->i_minimum};
        const double lr[3] = {f->s->valley, f->s->steepest, f->s->minimum};
        const char *name[3] = {"valley", "steepest", "minimum/10"};
        for (int k = 0; k < 3; k++) {
            // the mark sits on the curve at the point chosen; minimum/10's
            // rate is a tenth of its point's, as fastai marks it
            double px = log10(c->lr[at[k]]), py = fmin(c->smoothed[at[k]], hi + pad);
            plcol0(COL_MARK0 + k);
            plschr(0, 1.8);
            plstring(1, &px, &py, "\xE2\x97\x8F"); // U+25CF black circle
            plschr(0, 1.0);
            snprintf(text[k], sizeof text[k], "%s %.3g", name[k], lr[k]);
            labels[n_leg] = text[k];
            colours[n_leg++] = COL_MARK0 + k;
        }
    }
    int opt[5], text_col[5], styles[5], sym_n[5];
    double widths[5], sym_scale[5];
    const char *sym[5];
    for (int i = 0; i < n_leg; i++) {
        opt[i] = i < 2 ? PL_LEGEND_LINE : PL_LEGEND_SYMBOL;
        text_col[i] = COL_INK;
        styles[i] = 1;
        widths[i] = i == 0 ? 1.2 : 2.6;
        sym_scale[i] = 1.4;
        sym_n[i] = 1;
        sym[i] = "\xE2\x97\x8F";
    }
    double lw, lh;
    plschr(0, 0.9);
    pllegend(&lw, &lh, PL_LEGEND_BACKGROUND, PL_POSITION_RIGHT | PL_POSITION_TOP | PL_POSITION_INSIDE |
             PL_POSITION_SUBPAGE, 0.01, 0.09, 0.04, COL_BG, COL_INK, 1, 0, 0, n_leg, opt, 0.5, 0.8, 1.6, 0.0,
             text_col, labels, NULL, NULL, NULL, NULL, colours, styles, widths, colours, sym_scale, sym_n, sym);
    plschr(0, 1.0);
    free(x);
    free(y);
}

int plot_lrfind(const char *dir, const char *name, const lrfind_curve *c, const lrfind_suggestions *s,
                const char *title, lr_err *e) {
    if (plot_drivers_check(e) != 0) return -1;
    lrfind_fig f = {c, s, title};
    return plot_render(dir, name, lrfind_draw, &f, e);
}
