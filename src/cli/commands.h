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
