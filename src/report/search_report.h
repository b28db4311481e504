// search_report.h: the Search section of a study's report, read back from
// the study folder alone (docs/output-format.md): study.json's "search"
// object (the spec) and each run's run.json "trial" and "point", with the
// metrics.csv report_study_read already parsed.
//
//     report_study s;               // report_study_read(dir, &s, &e)
//     search_report sr;
//     int has;
//     if (search_report_read(&s, &sr, &has, &e) != 0) ... // e names the file and key
//     if (has) { plot_search(&s, &sr, fig_dir, figs, cap, &e); ... }
//     search_report_free(&sr);
//
// A trial's value is its metric (spec.metric) at the last epoch that
// recorded it, averaged over the trial's seeds; for best_test_acc the best
// epoch's. A pruned trial's value is the one at the epoch it was stopped:
// it is drawn and listed apart, never ranked against completed trials. A
// trial with a diverged seed has no value (NaN), as the search library
// counts it.
#ifndef LRSCOPE_SEARCH_REPORT_H
#define LRSCOPE_SEARCH_REPORT_H

#include <stdio.h>

#include "../search/search.h"
#include "../stats/stats.h"
#include "report_parts.h"
#include "../study/run_files.h"

// The keys of a search in study.json and run.json are the writer's
// (src/study/run_files.h, docs/output-format.md); the pruner's type key:
#define SEARCH_KEY_PRUNER_TYPE "type"
#define RUN_STATUS_PRUNED "pruned"             // run.json "status" of a pruned run

// Rows of the top-trials table.
enum { SEARCH_TOP_TRIALS = 10 };

typedef enum { SR_COMPLETE, SR_PRUNED, SR_RUNNING } search_row_state;

// One trial as the report sees it.
typedef struct {
    int trial;                      // its number, from 0
    double x[SEARCH_MAX_PARAMS];    // the point (space.h: categorical as the choice's index)
    search_row_state state;         // PRUNED if a seed was pruned; COMPLETE when every seed ended
    int diverged;                   // a seed diverged: no value
    int n_runs;                     // seeds with a run folder listed
    int runs[SEARCH_MAX_SEEDS];     // (n_runs,) indices into report_study.runs
    double values[SEARCH_MAX_SEEDS];// (n_runs,) each seed's value (NaN none)
    double value;                   // mean over seeds; NaN when a seed has none
    double ci_half;                 // 95% half-width over seeds; NaN with one seed
    int epochs;                     // epochs trained (the most over its seeds)
    long epochs_spent;              // epochs trained summed over its seeds
    double best_so_far;             // best value of COMPLETE trials numbered <= this one (NaN none)
} search_row;

typedef struct search_report {
    search_spec spec;               // study.json "search"
    int max_epochs;                 // the pruner's max_epochs, else the runs' epochs
    search_row *rows;               // (n_rows,) by trial number
    int n_rows;
    int order[SEARCH_TOP_TRIALS];   // the top rows (indices into rows): completed by value, then
    int n_order;                    // pruned (furthest first, then value), then the rest
    int best, runner_up;            // rows: the two best completed trials with a value; -1 none
    long epochs_spent;              // epochs trained over every run of every trial
    long epochs_full;               // n_rows x seeds x max_epochs: every trial to the end
    long grid_size;                 // search_grid_size of the space at spec.grid_points
    long epochs_grid;               // grid_size x seeds x max_epochs
    char note[600];                 // runs the report could not place in a trial ("" none)
} search_report;

// Reads study.json's "search" (none: *has_search = 0, r empty) and every
// run's trial and point. -1 with e naming the file and key when a search
// key has the wrong type or value.
int search_report_read(const report_study *s, search_report *r, int *has_search, lr_err *e);
void search_report_free(search_report *r);

// The value in display units and as text: "63.2%" (accuracy, in percent),
// "0.512" (F1), "1.2345" (loss). Differences: "1.3 points", "0.012".
double search_metric_scale(search_metric m);
void search_value_text(const search_report *r, double v, char *out, size_t cap);
// "lr=0.0123, optimizer=adam" (three significant digits).
void search_point_text(const search_report *r, const double *x, char *out, size_t cap);

// The discussion: the best trial and whether it is distinguishable from the
// runner-up; the budget. malloc'd strings, free with report_lines_free.
int search_report_sentences(const report_study *s, const search_report *r, char ***out);

// Figures (plot_search.c): figures/search_history, search_param_NAME,
// search_curves_acc, search_curves_loss (.png and .svg). Fills figs; returns
// the count or -1 with e set.
int plot_search(const report_study *s, const search_report *r, const char *fig_dir, report_figure *figs,
                int cap, lr_err *e);

// The Search section of report.md / report.html (report_write.c calls these).
void search_report_md(FILE *f, const report_study *s, const search_report *r, const report_figure *figs,
                      int n_figs);
int search_report_html(FILE *f, const report_study *s, const search_report *r, const report_figure *figs,
                       int n_figs, lr_err *e);

#endif
