// commands.h: the sub-commands of `lrscope`, one file each under src/cli/.
// Each takes the arguments after its own name (argv[0] is the command name)
// and returns the process exit status (0 ok, 1 a run failed, 2 bad input).
#ifndef LRSCOPE_COMMANDS_H
#define LRSCOPE_COMMANDS_H

int cmd_run(int argc, char **argv);     // cmd_run.c: the learning-rate study
int cmd_report(int argc, char **argv);  // cmd_report.c: figures + report of a study folder
int cmd_fetch(int argc, char **argv);   // cmd_fetch.c: download a data set
int cmd_lrfind(int argc, char **argv);  // cmd_lrfind.c: the learning-rate range test

// Shared by the commands.
#include <signal.h>
#include "../train/lrfind.h"
// cmd_run.c: fetches base's data set when its folder is missing and sits
// where a fetch would put it; -1 with e otherwise (or when the fetch fails).
int cli_ensure_data(const run_config *base, int data_given, int quiet, lr_err *e);
// cmd_lrfind.c: the range test with default settings on base (its model,
// data, optimiser and seed) for `lr: auto`; fills c (free it) and s. Returns
// 0, EXIT_BAD_INPUT (bad configuration or data) or EXIT_RUN_FAILED
// (interrupted, or too few points to suggest), with e.
int lrfind_for_study(const run_config *base, int quiet, volatile sig_atomic_t *stop, lrfind_curve *c,
                     lrfind_suggestions *s, lr_err *e);

#endif
