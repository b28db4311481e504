// run_files.h: the study's files on disk (docs/output-format.md): per run
// metrics.csv, run.json and weights; per study study.json and summary.csv.
// Every file is replaced atomically.
#ifndef LRSCOPE_RUN_FILES_H
#define LRSCOPE_RUN_FILES_H

#include "../train/knobs.h"
#include "../train/train.h"

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
} study_header;

int run_files_write_metrics(const char *run_dir, const run_result *r, lr_err *e);
int run_files_write_json(const char *run_dir, const run_config *cfg, const run_result *r,
                         char *const *class_names, lr_err *e);
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
