// run_files.h: the study's files on disk (docs/output-format.md): per run
// metrics.csv, run.json and weights; per study study.json and summary.csv.
// Every file is replaced atomically.
#ifndef LRSCOPE_RUN_FILES_H
#define LRSCOPE_RUN_FILES_H

#include "../train/train.h"

int run_files_write_metrics(const char *run_dir, const run_result *r, lr_err *e);
int run_files_write_json(const char *run_dir, const run_config *cfg, const run_result *r,
                         char *const *class_names, lr_err *e);
int run_files_write_study(const char *study_dir, const run_config *runs, int n_runs, lr_err *e);
// Rows for the runs with results so far (results[i] NULL: not started).
int run_files_write_summary(const char *study_dir, const run_config *runs,
                            const run_result *const *results, int n_runs, lr_err *e);

// Index of the epoch with the best test accuracy (first of equals), -1 if none.
int run_best_epoch(const run_result *r);
// The last epoch row with a test evaluation, -1 if none.
int run_last_tested_epoch(const run_result *r);

#endif
