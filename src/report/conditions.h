// conditions.h: a study's conditions (points of the grid, each repeated over
// seeds) summarised with their uncertainty: conditions.csv and curves.csv,
// the best condition compared with every other one (paired t-test on
// seed-matched runs, Welch's test otherwise, Holm-adjusted), the report's
// sentences about them, and the figures (mean curves with 95% bands, final
// accuracy against a numeric axis, a heat map for two axes).
//
//     report_condition *c = ...;   // filled by the study reader, one per condition
//     lr_err e;
//     if (conditions_write_csv("STUDY/conditions.csv", c, n, &e) != 0 ||
//         conditions_write_curves_csv("STUDY/curves.csv", c, n, &e) != 0) ...
//     conditions_cmp cmp;
//     conditions_compare(c, n, &cmp);
//     char **lines; int n_lines = conditions_sentences(c, n, &cmp, &lines);
//     ... conditions_lines_free(lines, n_lines); conditions_cmp_free(&cmp);
//     report_figure figs[8]; char note[160];
//     int n_figs = conditions_plot(c, n, "STUDY/figures", figs, 8, note, sizeof note, &e);
//
// Accuracies and F1 are fractions in [0, 1] everywhere (as in summary.csv);
// the sentences speak of accuracy differences in percentage points.
// Nothing here reads files: the caller fills the structs (the contract).
#ifndef LRSCOPE_CONDITIONS_H
#define LRSCOPE_CONDITIONS_H

#include <stdint.h>

#include "../stats/stats.h"
#include "../util/common.h"
#include "report_parts.h"

#define REPORT_N_CURVES 6   // train_loss, train_acc, train_f1, test_loss, test_acc, test_f1
typedef struct {
    char name[256];          // condition name, e.g. "lr=0.01,momentum=0.9"
    int n_axes; char axis_key[8][32]; double axis_num[8]; char axis_text[8][128]; // the varying keys' values (axis_num NAN for non-numeric)
    int n_runs;              // seeds of this condition
    uint64_t *seeds;         // (n_runs)
    double *final_test_acc, *final_test_f1, *best_test_acc, *final_test_loss, *seconds; // (n_runs), NAN when missing (diverged, no test)
    int n_epochs;            // max epochs
    double *curves;          // (n_runs, REPORT_N_CURVES, n_epochs), NAN when missing
} report_condition;

// The curves in their order in report_condition.curves, and their names in
// curves.csv's "metric" column.
enum { CURVE_TRAIN_LOSS, CURVE_TRAIN_ACC, CURVE_TRAIN_F1, CURVE_TEST_LOSS, CURVE_TEST_ACC, CURVE_TEST_F1 };
extern const char *const conditions_curve_names[REPORT_N_CURVES];

// curves[r, k, ep] of a condition (ep from 0 for epoch 1).
static inline double conditions_curve(const report_condition *c, int r, int k, int ep) {
    return c->curves[((size_t)r * REPORT_N_CURVES + (size_t)k) * (size_t)c->n_epochs + (size_t)ep];
}

// ---- conditions.csv and curves.csv (docs/output-format.md) ----

// The per-run metrics conditions.csv summarises, in column order.
enum { COND_FINAL_TEST_ACC, COND_FINAL_TEST_F1, COND_BEST_TEST_ACC, COND_FINAL_TEST_LOSS,
       COND_SECONDS, COND_N_METRICS };
extern const char *const conditions_metric_names[COND_N_METRICS];
// The statistics given for each metric, in column order.
enum { COND_STAT_N, COND_STAT_MEAN, COND_STAT_SD, COND_STAT_CI_LO, COND_STAT_CI_HI, COND_N_STATS };
extern const char *const conditions_stat_names[COND_N_STATS];
// conditions.csv's columns: "condition", one per axis key (the union of the
// conditions' keys in order of first appearance), then METRIC_STAT for each
// metric and statistic, e.g. final_test_acc_mean.
// curves.csv's columns:
enum { CURVES_COL_CONDITION, CURVES_COL_EPOCH, CURVES_COL_METRIC, CURVES_COL_N, CURVES_COL_MEAN,
       CURVES_COL_CI_LO, CURVES_COL_CI_HI, CURVES_N_COLS };
extern const char *const conditions_curves_columns[CURVES_N_COLS];

// The run values of metric m of a condition: (c->n_runs,).
const double *conditions_metric(const report_condition *c, int m);

// The axis keys of all conditions, in order of first appearance; returns the
// count (at most cap).
int conditions_axis_keys(const report_condition *c, int n, char (*keys)[32], int cap);

// Writes conditions.csv / curves.csv at path atomically. Fields holding a
// comma or quote are quoted (RFC 4180: "lr=0.01,momentum=0.9"); numbers have
// 10 significant digits; a value that does not exist (n < 2 for sd and the
// interval, n = 0 for the mean) is an empty cell. curves.csv holds a row per
// condition, epoch and metric with at least one finite value.
int conditions_write_csv(const char *path, const report_condition *c, int n, lr_err *e);
int conditions_write_curves_csv(const char *path, const report_condition *c, int n, lr_err *e);

// ---- comparisons ----

// The best condition against one other: a = best, b = other, so test.diff is
// best - other in final test accuracy (a fraction).
typedef struct {
    int other;           // index of the other condition
    int paired;          // 1: paired t-test on the seeds both have with finite values
                         // (at least 2); 0: Welch's test on all finite values
    stats_test test;     // test.n: pairs (paired) or runs of both (Welch)
    double sd_diff;      // paired: sd of the differences; Welch: sqrt(sd_a^2 + sd_b^2)
    double p_holm;       // Holm-adjusted over this study's comparisons; NAN if no test
    int seeds_needed;    // stats_seeds_needed(test.diff, sd_diff): -1 if none would
} conditions_comparison;

typedef struct {
    int best;            // highest mean final test accuracy (first of equals); -1 if none
    int n_ranked;        // conditions with at least one finite final test accuracy
    int n_single;        // ranked conditions with exactly one finite value
    conditions_comparison *cmp; // (n_cmp,) best against each other ranked condition, in order
    int n_cmp;
} conditions_cmp;

// Compares the best condition with each other one that has a finite final
// test accuracy. Conditions with none (all diverged, never tested) are left
// out. Free with conditions_cmp_free.
void conditions_compare(const report_condition *c, int n, conditions_cmp *out);
void conditions_cmp_free(conditions_cmp *cmp);

// The report's sentences on the conditions, each computed from the data:
//   "A beats B by X points (95% CI a to b, p = P Holm-adjusted, paired t-test, n = 5 seeds)."
//   "No difference detectable between A and B with 5 seeds (...); about N seeds would
//    detect a difference of this size."
//   with one seed per condition: that differences cannot be judged, and `--seeds 5`;
//   a condition with no finite accuracy: named and left out; one condition: nothing to compare.
// Returns the count; *out is an array of malloc'd strings (conditions_lines_free).
int conditions_sentences(const report_condition *c, int n, const conditions_cmp *cmp, char ***out);
void conditions_lines_free(char **lines, int n);

// ---- figures (plot_conditions.c) ----

// Conditions drawn at most; past CONDITIONS_PLOT_MAX the best CONDITIONS_PLOT_SHOWN
// by mean final test accuracy are drawn and *note says so.
enum { CONDITIONS_PLOT_MAX = 10, CONDITIONS_PLOT_SHOWN = 8 };

// The conditions the per-epoch figures draw: all of them (in study order)
// when n <= CONDITIONS_PLOT_MAX, else the CONDITIONS_PLOT_SHOWN best by mean
// final test accuracy (study order among them). show is (n,); returns the count.
int conditions_plot_select(const report_condition *c, int n, int *show);

// Draws into fig_dir (which must exist), as NAME.png and NAME.svg:
//   cond_train_loss ... cond_test_f1   the six curves, mean line + shaded 95% band
//                                      (a line only where a condition has one seed);
//   cond_final_acc_vs_KEY, cond_final_loss_vs_KEY  for a numeric axis spanning over a
//                                      decade (log x), with 95% error bars, one
//                                      series per value of the other axis;
//   cond_heatmap                      two axes: mean final test accuracy per cell,
//                                      the 95% CI half-width written in it.
// Fills figs[0..count) and returns the count, or -1 with e set. note gets
// "showing the best 8 of 20 conditions" when conditions were left out,
// else "".
int conditions_plot(const report_condition *c, int n, const char *fig_dir, report_figure *figs,
                    int cap, char *note, size_t note_cap, lr_err *e);

#endif
