// grid.h: a study's design: the base configuration, the axes (knob -> list
// of values) whose product is the set of conditions, and the seeds each
// condition is repeated over; and its expansion into runs, named
// runs/<key=value,...>/seed-<k> by the axes that vary.
//
//     study_spec sp;
//     spec_init(&sp);                                   // defaults, no axes
//     spec_parse_grid_flag(&sp, "lr=0.1,0.01", &e);     // --grid
//     spec_parse_grid_flag(&sp, "momentum=0,0.9", &e);
//     spec_set_seeds(&sp, "3", "--seeds", &e);          // seeds 1, 2, 3
//     run_config *runs; int n;
//     spec_expand(&sp, &runs, &n, &e);                  // 2 x 2 conditions x 3 seeds = 12 runs
//     ... free(runs); spec_free(&sp);
#ifndef LRSCOPE_GRID_H
#define LRSCOPE_GRID_H

#include "../train/knobs.h"

enum {
    GRID_MAX_AXES = 8,
    GRID_MAX_VALUES = 1000,   // per axis
    GRID_MAX_SEEDS = 1000,
    GRID_MAX_RUNS = 10000,    // conditions x seeds
    GRID_MAX_NAME = 200,      // a condition's folder name (one path component)
};

typedef struct {
    const knob *k;
    int n;
    char **values;            // (n) exact text of each value (knob_parse reads it)
} grid_axis;

typedef struct {
    char name[128];           // the study's name ("" when not given)
    run_config base;          // every knob not on an axis
    grid_axis axes[GRID_MAX_AXES];
    int n_axes;               // 0: the seed study's axis, lr = 0.1, 0.01, 0.001 (lr = base.lr if lr_set)
    int lr_set;               // lr given as a setting (--lr, base: lr): no default lr axis
    int lr_auto;              // lr: auto (--lrs auto, grid: lr: auto, base: lr: auto): the range test
                              // (lrfind.h) picks the lr axis before the study (cmd_run.c)
    uint64_t seeds[GRID_MAX_SEEDS];
    int n_seeds;              // 0: the base seed alone
} study_spec;

void spec_init(study_spec *sp);
void spec_free(study_spec *sp);

// Sets the axis of knob k (replacing one already there) to values[0..n),
// each checked with knob_parse; an empty list, a repeated value or a knob
// that cannot be an axis is refused. An axis on `seed` sets the seeds.
// `where` names the source in messages ("--grid", "study.yaml:12").
int spec_set_axis(study_spec *sp, const knob *k, const char *const *values, int n, const char *where,
                  lr_err *e);
// count values from a to b, evenly spaced (log = 1: evenly in log scale,
// both ends > 0); whole-number knobs round to the nearest. count is a whole
// number as read (a double), refused outside [1, GRID_MAX_VALUES] before
// any cast. Returns malloc'd strings in *out (free each, then the array).
int grid_space(const knob *k, int log, double a, double b, double count, char ***out, const char *where,
               lr_err *e);
// "KEY=V1,V2,..." or "KEY=logspace:A:B:N" / "KEY=linspace:A:B:N" (the --grid flag).
int spec_parse_grid_flag(study_spec *sp, const char *arg, lr_err *e);
// "N" (seeds 1..N) or "S1,S2,..." (the --seeds flag; a study file's seeds).
int spec_set_seeds(study_spec *sp, const char *text, const char *where, lr_err *e);
// The axis of knob k, or NULL.
grid_axis *spec_axis(study_spec *sp, const knob *k);

// The runs: conditions in axis order (the first axis varies slowest), each
// with every seed. Sets each run's condition and name (folder) and resolves
// an empty data folder to data/<the data set's folder>. Refuses more than
// GRID_MAX_RUNS runs and two conditions that would share a folder.
int spec_expand(const study_spec *sp, run_config **runs, int *n_runs, lr_err *e);

// k's value in c as it appears in a folder name: the short text (%g) with
// every character outside [A-Za-z0-9._+-] replaced ('/' and ',' by '_', ':' by '-').
void grid_safe_value(const knob *k, const run_config *c, char *out, size_t cap);

#endif
