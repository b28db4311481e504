// run_files.h: the study's files on disk (docs/output-format.md): per run
// metrics.csv, run.json and weights; per study study.json and summary.csv.
// Every file is replaced atomically.
#ifndef LRSCOPE_RUN_FILES_H
#define LRSCOPE_RUN_FILES_H

#include "../train/knobs.h"
#include "../train/train.h"
#include "../search/space.h"

#include <jansson.h>

// The keys of study.json and run.json that the report reads back
// (docs/output-format.md); writer, reader and tests use these names.
#define STUDY_KEY_NAME "name"            // the study's name, "" when not given
#define STUDY_KEY_TENSORBOARD "tensorboard" // --tensorboard ROOT, "" when not given (resume writes there too)
#define STUDY_KEY_NO_ENSEMBLE "no_ensemble" // --no-ensemble given (resume skips them too)
#define STUDY_KEY_AXES "axes"            // [{"key": knob, "values": [...]}] in grid order
#define STUDY_KEY_AXIS_KEY "key"
#define STUDY_KEY_AXIS_VALUES "values"
#define STUDY_KEY_SEEDS "seeds"          // [seed, ...]
#define STUDY_KEY_RUNS "runs"            // [{"folder", "condition", "seed", "config"}]
#define RUN_KEY_FOLDER "folder"          // "runs/<condition>/seed-<k>", relative to the study
#define RUN_KEY_CONDITION "condition"    // "lr=0.1,momentum=0.9"
#define RUN_KEY_SEED "seed"
#define RUN_KEY_CONFIG "config"          // every knob (knobs_to_json)
#define STUDY_KEY_LRFIND "lrfind"        // lr auto: {"seed", "steps", "start_lr", "end_lr", "points",
                                         // "valley", "steepest", "minimum", "lrs": [4 rates]}; absent otherwise
#define RUN_KEY_STEPS_PER_EPOCH "steps_per_epoch" // run.json: optimiser steps per epoch (the schedule's clock)
// A search (docs/search.md, search_run.h). Each run of a search has, in
// run.json and in its entry of study.json "runs":
#define RUN_KEY_TRIAL "trial"            // the trial's index, from 0, in suggestion order
#define RUN_KEY_POINT "point"            // {knob: value} the trial's point (numbers; a choice's text)
// and study.json has the whole specification, enough to rebuild it:
#define STUDY_KEY_SEARCH "search"        // {"method", "trials", "metric", "direction", "seed", "seeds",
                                         //  "run_seeds": [seed of each of the point's runs], "lag",
                                         //  "grid_points", "pruner": {"type", "grace", "eta", "max_epochs"}
                                         //  or {"type", "startup", "warmup"} or {"type": "none"},
                                         //  "space": {knob: spec text as --space takes it},
                                         //  "base": every knob of the runs before the point is applied}
#define SEARCH_KEY_METHOD "method"
#define SEARCH_KEY_TRIALS "trials"
#define SEARCH_KEY_METRIC "metric"
#define SEARCH_KEY_DIRECTION "direction"
#define SEARCH_KEY_SEED "seed"
#define SEARCH_KEY_SEEDS "seeds"
#define SEARCH_KEY_RUN_SEEDS "run_seeds"
#define SEARCH_KEY_LAG "lag"
#define SEARCH_KEY_GRID_POINTS "grid_points"
#define SEARCH_KEY_PRUNER "pruner"
#define SEARCH_KEY_SPACE "space"
#define SEARCH_KEY_BASE "base"

// A run's place in a search: its trial and the trial's point (space.h).
typedef struct {
    int trial;                 // -1: not a search's run
    const search_space *space;
    const double *x;           // (space->n)
} run_trial;

// {knob: value} for point x: numbers as numbers, a choice as its text.
json_t *run_files_point_json(const search_space *s, const double *x);

// lr: auto: the range test that chose the lr axis (study.json "lrfind").
typedef struct {
    uint64_t seed;
    int steps;
    double start_lr, end_lr;
    long points;                         // steps recorded before the stop rule
    double valley, steepest, minimum;    // the suggestions (minimum: minimum/10)
    double lrs[4];                       // the axis: valley x 1/10, 1/3, 1, 3
} study_lrfind;

// What study.json says about the study as a whole.
typedef struct {
    const char *name;                    // "" when not given
    const knob *const *axes;             // (n_axes) the grid's axes, in order
    int n_axes;
    const study_lrfind *lrfind;          // NULL: the rates were given
    const char *tensorboard;             // --tensorboard ROOT, "" or NULL when not given
    int no_ensemble;                     // --no-ensemble
    json_t *search;                      // the search's specification (borrowed), NULL for a grid
    const run_trial *trials;             // (n_runs) each run's trial, NULL for a grid
} study_header;

int run_files_write_metrics(const char *run_dir, const run_result *r, lr_err *e);
int run_files_write_json(const char *run_dir, const run_config *cfg, const run_result *r,
                         char *const *class_names, lr_err *e);
// The same for a search's run: run.json gains "trial" and "point" (tr NULL
// or tr->trial < 0: none, as run_files_write_json).
int run_files_write_json_trial(const char *run_dir, const run_config *cfg, const run_result *r,
                               char *const *class_names, const run_trial *tr, lr_err *e);
int run_files_write_study(const char *study_dir, const study_header *h, const run_config *runs, int n_runs,
                          lr_err *e);
// Rows for the runs with results so far (results[i] NULL: not started).
// summary.csv: "condition", one column per axis (its key), then these.
#define SUMMARY_COLUMNS "seed,status,final_test_acc,final_test_f1,best_test_acc,best_epoch,seconds," \
                        "epochs_done,diverged_epoch,final_train_loss,final_test_loss,run"
// (written by report_summary_write from the run folders read back)

// Index of the epoch with the best test accuracy (first of equals), -1 if none.
int run_best_epoch(const run_result *r);
// The last epoch row with a test evaluation, -1 if none.
int run_last_tested_epoch(const run_result *r);

#endif
