// report_parts.h: the private seams between the report's files (plot.c draws
// the figures, report_write.c writes report.md/html, report_build.c joins them).
#ifndef LRSCOPE_REPORT_PARTS_H
#define LRSCOPE_REPORT_PARTS_H

#include "report.h"
#include "../train/lrfind.h"

enum { REPORT_MAX_FIGURES = 40 };

// One drawn figure: STUDY/figures/NAME.png and NAME.svg.
typedef struct {
    char name[48];        // file stem, e.g. "test_acc"
    char title[200];      // caption for the report
} report_figure;

// Draws every figure that has data into fig_dir (which must exist). Fills
// figs[0..count) in report order; returns the count, or -1 with e set.
int plot_figures(const report_study *s, const report_analysis *a, const char *fig_dir,
                 report_figure *figs, int cap, lr_err *e);

// The legend label of a run, e.g. "lr 0.01" (shared by figures and tables).
void plot_run_label(const report_run *r, char *out, size_t cap);

// The schedule figure's points of run r, one per optimiser step: the run's
// schedule replayed (schedule_replay; plateau from metrics.csv's per-epoch
// rates) over the epochs it trained before any divergence, x[k] the position
// of step k on the epoch axis (epoch E spans E - 0.5 .. E + 0.5), y[k] its
// rate. Returns the count (epochs x steps_per_epoch) with *x and *y owned by
// the caller, or 0 (nothing allocated) when run.json gave no steps_per_epoch
// or the configuration cannot be replayed: the figure then shows each
// epoch's recorded rate.
long plot_lr_series(const report_run *r, double **x, double **y);

// Draws one figure into fig_dir/name.png and .svg through draw(arg) (PLplot
// initialised with the study palette: cmap0 slots 0 background, 1 ink,
// 2 grid), each file written and checked atomically. 0, or -1 with e set.
int plot_render(const char *fig_dir, const char *name, void (*draw)(const void *), const void *arg,
                lr_err *e);
// Fails with a message naming the Debian package when PLplot lacks its cairo
// drivers (PLplot itself would exit the process).
int plot_drivers_check(lr_err *e);
// A colour bar right of the current viewport, lo..hi in the current colour
// map 1, labelled, ticks every `tick` (0: PLplot's choice), text at
// text_scale, `size` the bar's width and gap (viewport fractions).
void plot_colorbar(double lo, double hi, const char *label, double tick, double text_scale, double size);

// The range test's figure: dir/name.png and .svg, loss and smoothed loss
// against the rate (log x), the suggestions marked (s may be NULL).
int plot_lrfind(const char *dir, const char *name, const lrfind_curve *c, const lrfind_suggestions *s,
                const char *title, lr_err *e);

#endif
