// report.h: the study report: figures (PNG + SVG), report.md and a
// self-contained report.html, built from a study folder's files alone.
//
//     lr_err e;
//     if (report_build("results/study-20261128-110000", &e) != 0)
//         fprintf(stderr, "lrscope: %s\n", e.msg);
//
// report_build reads STUDY/study.json, each run's metrics.csv and run.json
// (docs/output-format.md), computes the findings (report_analyze) and writes
// STUDY/conditions.csv, curves.csv, figures/NAME.{png,svg}, report.md and report.html, each
// atomically. A run with no metrics.csv, or only some epochs, is reported as
// far as it got; a missing or partial run.json only loses what it alone holds
// (status, wall time, confusion matrix). A folder without study.json or a
// damaged metrics.csv is an error naming the file, line and what was expected.
//
// PLplot keeps global state, so report_build must not run on two threads at
// once.
#ifndef LRSCOPE_REPORT_H
#define LRSCOPE_REPORT_H

#include <pthread.h>

#include "../train/knobs.h"
#include "../util/common.h"

enum { REPORT_MAX_AXES = 8 };

// One row of metrics.csv. Empty cells (no evaluation that epoch) read as NaN,
// as do the `nan` cells of a diverged epoch; `inf` stays infinite.
typedef struct {
    int epoch;            // from 1
    double lr;
    double train_loss, train_acc, train_f1;
    double test_loss, test_acc, test_f1;
    double seconds;       // the epoch's wall time
} report_epoch;

// One planned run (study.json "runs"), with what its folder holds.
typedef struct {
    char name[320];       // its folder inside the study, e.g. "runs/lr=0.01/seed-1"
    char condition[256];  // e.g. "lr=0.01,momentum=0.9"
    uint64_t seed;
    char label[300];      // how figures and sentences name it: the condition, plus
                          // " seed K" when the study has several seeds
    run_config config;    // every knob (study.json, read through the knob table)
    double lr;            // config.lr, the run's base learning rate
    int has_metrics;      // metrics.csv exists (it may still hold no rows)
    report_epoch *epochs; // (n_epochs,) in file order, epochs increasing
    int n_epochs;
    // run.json: absent or partial files leave these at their defaults.
    int has_run_json;
    char status[32];      // run.json "status", else inferred (see report_study_read)
    int status_inferred;  // 1 when status was worked out from metrics.csv
    int diverged_epoch;   // run.json "diverged_epoch", else first non-finite loss; 0 none
    double seconds;       // run.json "seconds", else the sum of epoch times; NaN unknown
    int planned_epochs;   // run.json config.epochs, else study config.epochs; 0 unknown
    int steps_per_epoch;  // run.json "steps_per_epoch" (optimiser steps per epoch); 0 unknown
    char note[640];       // why run.json was not used, "" if it was (or is absent)
    int n_classes;        // 0 when there is no usable confusion matrix
    char (*classes)[32];  // (n_classes,) class names
    long *confusion;      // (n_classes, n_classes) rows = true, columns = predicted
} report_run;

typedef struct {
    char dir[4096];
    char version[32];     // "lrscope_version", "" if absent
    char created[64];     // "created", "" if absent
    char name[128];       // the study's name, "" when not given
    const knob *axes[REPORT_MAX_AXES]; // the grid's axes, in order
    int n_axes;
    report_run *runs;     // (n_runs,) in study.json order
    int n_runs;
    char lrfind_note[600]; // study.json "lrfind" (lr auto) as a sentence; "" when absent
} report_study;

// Parses STUDY/study.json and every run's files. On failure returns -1 with
// e naming the file (and line/field) and *s left empty; free with
// report_study_free either way.
int report_study_read(const char *study_dir, report_study *s, lr_err *e);
void report_study_free(report_study *s);

// Parses one metrics.csv into r->epochs (header and every cell checked).
int report_metrics_read(const char *path, report_run *r, lr_err *e);

// The numbers behind the analysis, per run. NaN/0 where a value does not exist.
typedef struct {
    int epochs_done;          // rows in metrics.csv
    int diverged_epoch;       // 0 if the run did not diverge
    int n_evals;              // epochs with a finite test accuracy
    double final_test_acc, final_test_f1; // last evaluated epoch
    int final_test_epoch;
    double best_test_acc;     // highest test accuracy, first epoch reaching it
    double best_test_f1;      // test F1 at that epoch
    int best_epoch;
    int converged_epoch;      // first epoch with test_acc >= 95% of best_test_acc
    double loss_change_sd;    // std. dev. of epoch-to-epoch test-loss changes (>= 2 changes)
    double final_train_acc;   // at final_gap_epoch
    double overfit_gap;       // train acc - test acc at the last epoch holding both
    int final_gap_epoch;
    double seconds;           // total wall time
    double seconds_per_epoch; // seconds / epochs_done
    int at_chance;            // best test accuracy below REPORT_CHANCE_FACTOR / classes: it never
                              // learned (e.g. a rate so high the ReLUs died without a NaN)
} report_run_stats;

// Study-wide picks: indices into the runs, -1 when no run qualifies.
typedef struct {
    int n_runs;
    report_run_stats *runs;   // (n_runs,) same order as report_study.runs
    int best_final;           // highest final test accuracy
    int best_peak;            // highest best test accuracy
    int first_converged;      // earliest converged_epoch among runs that learned and did not diverge
    int most_stable, least_stable; // smallest / largest loss_change_sd, same runs
    int widest_gap;           // largest overfit_gap, same runs
    int fastest, slowest;     // total seconds
    double time_ratio;        // slowest / fastest seconds, NaN if not both
    int n_diverged;
    int n_at_chance;
    int classes;              // the study's class count, 0 if no run recorded it
    int confusion_run;        // run whose confusion matrix is drawn (best final with one)
} report_analysis;

// The fraction of its own best test accuracy at which a run counts as converged.
#define REPORT_CONVERGED_FRACTION 0.95
// A run whose best test accuracy stays below this many times chance (1 /
// classes) never learned; its "convergence" and steadiness mean nothing.
#define REPORT_CHANCE_FACTOR 1.5

// Computes the analysis; free with report_analysis_free.
void report_analyze(const report_study *s, report_analysis *a);
void report_analysis_free(report_analysis *a);

// The analysis as sentences, every one computed from the numbers. Returns the
// count; *out is an array of malloc'd strings, free with report_lines_free.
int report_analysis_sentences(const report_study *s, const report_analysis *a, char ***out);
void report_lines_free(char **lines, int n);

// Writes STUDY/summary.csv from the study's files read back (summary.c).
int report_summary_write(const char *study_dir, lr_err *e);

// Writes STUDY/conditions.csv and STUDY/curves.csv (docs/output-format.md)
// from the study's files read back; report_build writes them too.
int report_conditions_write(const char *study_dir, lr_err *e);

// Reads the study and writes conditions.csv, curves.csv, figures/,
// report.md and report.html.
int report_build(const char *study_dir, lr_err *e);
// The same while the study runs: report.html reloads itself every
// REPORT_LIVE_REFRESH seconds (<meta http-equiv="refresh">) and says the
// study is running. The final report_build writes it without.
int report_build_live(const char *study_dir, lr_err *e);

// The report while a study runs, rebuilt after an epoch when due, so that
// rebuilding takes at most REPORT_LIVE_SHARE of the study's time so far: due
// when (seconds spent rebuilding + the next rebuild's, estimated as the last
// one's) <= REPORT_LIVE_SHARE x (seconds since the study started), and at
// least REPORT_LIVE_MIN_GAP after the last. One rebuild at a time over the
// study's threads: a thread that finds one under way skips its turn (PLplot
// is not reentrant).
enum { REPORT_LIVE_REFRESH = 5 };            // the browser reloads every 5 s
#define REPORT_LIVE_SHARE 0.01               // 1% of the study's time
#define REPORT_LIVE_MIN_GAP 5.0              // seconds between rebuilds, at least
#define REPORT_LIVE_FIRST_COST 1.0           // estimate before the first (1.2 s for 3 runs x 30 epochs)
typedef struct {
    pthread_mutex_t mu;
    char dir[4096];
    double start;       // lr_now() at the study's start
    double last_end;    // lr_now() at the end of the last rebuild (0 none)
    double last_cost;   // seconds the last rebuild took (REPORT_LIVE_FIRST_COST before one)
    double spent;       // seconds spent rebuilding so far
    int builds;         // rebuilds so far
    int failed;         // a rebuild failed: no more until the final report
} report_live;
// start: lr_now() when the study started.
void report_live_init(report_live *l, const char *study_dir, double start);
// 1 if a rebuild is due at time now (lr_now()).
int report_live_due(const report_live *l, double now);
// Rebuilds if due: 1 rebuilt, 0 not due (or another thread is at it), -1
// failed (e says why; later calls do nothing).
int report_live_epoch(report_live *l, lr_err *e);
void report_live_free(report_live *l);

#endif
