// search.h: a search over a space of knobs (docs/search.md): its
// specification (method, trials, metric, space, seeds, pruner), parsed from
// flags or a study file's `search:` section (study_file.h), and the samplers
// that suggest each trial's point: random, TPE (Optuna's TPESampler) and
// grid.
//
//     search_spec sp;
//     search_spec_init(&sp);
//     search_spec_parse_flag(&sp, "--search", "tpe", &e);
//     search_spec_parse_flag(&sp, "--trials", "40", &e);
//     search_spec_parse_flag(&sp, "--space", "lr=loguniform:1e-4:1", &e);
//     search_spec_check(&sp, run_epochs, &e);      // complete and consistent; fills pruner.max_epochs
//     for (int t = 0; t < sp.n_trials; t++) {
//         double x[SEARCH_MAX_PARAMS];
//         int rc = search_suggest(&sp, trials, t, x, &e); // trials[0..t): the view below
//         if (rc == SEARCH_EXHAUSTED) break;              // every point of a finite space was proposed
//         ...
//     }
//
// Reproducibility (the rule the scheduler follows): the point of trial n is
// a function of (the spec, the search seed, n, trials[0..n)) and nothing
// else. Of those trials, the last `lag` (indices n - lag .. n - 1) are read
// as RUNNING whatever their state (only their points are used: TPE's
// constant liar puts them among the worst), and every earlier one must be
// settled (COMPLETE, or PRUNED with the curve it had when it stopped) when
// trial n is suggested. The scheduler therefore starts trial n once trials
// 0 .. n - lag - 1 have settled: at most lag + 1 trials are running at
// once, and the suggestions are the same whatever --jobs is and whichever
// trial finished first. A suggestion never equals an earlier trial's point.
#ifndef LRSCOPE_SEARCH_H
#define LRSCOPE_SEARCH_H

#include "prune.h"

enum {
    SEARCH_MAX_TRIALS = 10000,
    SEARCH_MAX_SEEDS = 100,
    SEARCH_EXHAUSTED = 1,       // search_suggest: no point left that was not proposed already
    SEARCH_DEFAULT_LAG = 3,
    SEARCH_DEFAULT_GRID_POINTS = 5,
    // TPE, Optuna's defaults
    TPE_N_STARTUP = 10,
    TPE_N_EI_CANDIDATES = 24,
    // Random streams of the search (rng.h), apart from the runs' own.
    RNG_SEARCH_RANDOM = 0x5EA1,
    RNG_SEARCH_TPE = 0x5EA2,
};

typedef enum { SEARCH_RANDOM, SEARCH_TPE, SEARCH_GRID } search_method;

typedef enum {
    METRIC_TEST_ACC, METRIC_TEST_LOSS, METRIC_TEST_F1,
    METRIC_TRAIN_ACC, METRIC_TRAIN_LOSS, METRIC_TRAIN_F1, METRIC_BEST_TEST_ACC,
} search_metric;

typedef struct {
    search_method method;
    int n_trials;              // 0 until given
    search_metric metric;      // default final test accuracy
    int maximize;              // default from the metric: 1 for accuracy and F1, 0 for a loss
    int direction_set;         // direction given explicitly
    uint64_t seed;             // the search's own seed (default 1)
    int n_seeds;               // evaluate each point on seeds 1..n_seeds, optimise the mean (default 1)
    int grid_points;           // grid: points per continuous axis (default 5)
    int lag;                   // trials read as running (the reproducibility rule above)
    search_space space;
    prune_cfg pruner;
} search_spec;

void search_spec_init(search_spec *sp);
// One flag and its value: --search METHOD, --trials N, --space NAME=SPEC
// (repeatable), --metric NAME, --direction maximize|minimize, --pruner
// none|asha[:grace=G,eta=E,max_epochs=R]|median[:startup=S,warmup=W],
// --search-seed N, --search-seeds K, --grid-points N, --search-lag N.
// Returns 0, or -1 with a message naming the flag.
int search_spec_parse_flag(search_spec *sp, const char *flag, const char *value, lr_err *e);
// The flags above, NULL-terminated (for a command's list of known flags).
extern const char *const SEARCH_FLAGS[];
// Checks the spec is complete (a space, a number of trials) and consistent;
// run_epochs fills pruner.max_epochs when it was not given. `where` names
// the source ("--search", "study.yaml: search").
int search_spec_check(search_spec *sp, int run_epochs, const char *where, lr_err *e);

const char *search_method_name(search_method m);
const char *search_metric_name(search_metric m);
// Parsers for single values, shared by the flags and the study file.
int search_method_parse(const char *text, search_method *m, const char *where, lr_err *e);
int search_metric_parse(const char *text, search_metric *m, int *maximize, const char *where, lr_err *e);
int search_direction_parse(const char *text, int *maximize, const char *where, lr_err *e);
// "asha", "asha:grace=1,eta=3,max_epochs=27", "median:startup=5,warmup=2", "none".
int search_pruner_parse(const char *text, prune_cfg *cfg, const char *where, lr_err *e);
// One "key=value" setting of a pruner (grace, eta, max_epochs, startup, warmup).
int search_pruner_set(prune_cfg *cfg, const char *key, const char *value, const char *where, lr_err *e);

// The point of trial n (module comment): 0, SEARCH_EXHAUSTED when every
// point of a finite space has been proposed (x untouched), -1 on error.
int search_suggest(const search_spec *sp, const search_trial *trials, int n, double *x, lr_err *e);
// The order rule as a test for the scheduler: 1 when trial n may be
// suggested now, i.e. every trial before n - lag has settled (COMPLETE or
// PRUNED).
int search_can_suggest(const search_spec *sp, const search_trial *trials, int n);
// The grid method's points in order: the product of every axis's values,
// the first parameter varying slowest. The number of points (0 on error).
long search_grid_size(const search_spec *sp);
// Point i (0 <= i < search_grid_size) of the grid.
void search_grid_point(const search_spec *sp, long i, double *x);

#endif
