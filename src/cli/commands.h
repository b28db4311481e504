// commands.h: the sub-commands of `lrscope`, one file each under src/cli/,
// and the table that lists them with their flags (cli_table.c). Each takes
// the arguments after its own name (argv[0] is the command name) and returns
// the process exit status (0 ok, 1 a run failed, 2 bad input).
#ifndef LRSCOPE_COMMANDS_H
#define LRSCOPE_COMMANDS_H

int cmd_run(int argc, char **argv);     // cmd_run.c: the learning-rate study
int cmd_report(int argc, char **argv);  // cmd_report.c: figures + report of a study folder
int cmd_fetch(int argc, char **argv);   // cmd_fetch.c: download a data set
int cmd_doc(int argc, char **argv);     // cmd_doc.c: generated man pages and completion
int cmd_lrfind(int argc, char **argv);  // cmd_lrfind.c: the learning-rate range test
int cmd_predict(int argc, char **argv); // cmd_predict.c: classify images with saved weights
int cmd_evaluate(int argc, char **argv); // cmd_evaluate.c: test metrics of saved weights
int cmd_ensemble(int argc, char **argv); // cmd_ensemble.c: the mean of several models' softmax outputs
int cmd_resume(int argc, char **argv);  // cmd_resume.c: continue an interrupted study

// A flag that is not a run knob. `complete` tells the shell completion what
// its value is: NULL (none), "@dir", "@file", "@yaml", "@dataset", or the
// allowed values separated by '|'.
typedef struct {
    const char *flag, *meta, *help, *complete;
} cli_flag;

typedef struct {
    const char *name;     // "run"
    const char *args;     // synopsis after the name
    const char *summary;  // one line
    int (*fn)(int argc, char **argv);
    const cli_flag *flags; // terminated by a NULL flag
    int with_knobs;       // the run knobs (knobs.h) are flags of this command too
    const char *operand;  // what its positional argument is, in cli_flag.complete's terms
} cli_command;

extern const cli_command CLI_COMMANDS[]; // terminated by a NULL name
const cli_command *cli_command_find(const char *name);

// Shared by the commands.
#include <signal.h>
// Ctrl-C, SIGTERM and SIGHUP (a closed terminal, a dropped ssh session) set
// cli_stop: a long command (run, resume, lrfind) then stops between steps,
// keeps what finished and exits 1. A second Ctrl-C or SIGTERM ends at once;
// SIGHUP stays caught, as a hangup often arrives twice (from the terminal,
// then again from the shell as it exits). cli_stop.c.
extern volatile sig_atomic_t cli_stop;
void cli_catch_stop_signals(void);
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

// cmd_predict.c, shared with cmd_evaluate.c and the tests.
#include "../model/model.h"
#include "../study/weights.h"
// Reads the weights of a run folder (its weights.lrsw) or a weights file;
// path (cap bytes) receives the file read. dataset_hint as weights_read.
int cli_open_weights(const char *arg, const char *dataset_hint, model_desc *m, float **params,
                     weights_meta *meta, char *path, size_t cap, lr_err *e);
// An image file (PNG/JPEG; a CIFAR-10 .bin with record index >= 0) as the
// model's normalised input x (C, H, W).
int predict_prepare(const char *path, long index, const model_desc *m, const weights_meta *meta, float *x,
                    lr_err *e);
// The logits (classes) of one input x (C, H, W), put in lane 0 of lanes
// (C, H, W, LANES, aligned) with the other lanes empty.
void predict_logits(const model_desc *m, const kernel_table *kt, const float *params, model_ws *ws,
                    float *lanes, const float *x, float *logits);

#endif
