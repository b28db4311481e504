// console.h: what a person watching the terminal sees during a study: a live
// progress bar over the batches (run, epoch, images/s, running loss, time
// left) when stderr is a terminal, one plain line per epoch otherwise, and
// the final table of results, one row per run. A failed console write
// (closed pipe, hung-up terminal, full disk) silences the run's progress and
// changes nothing else; the table's write errors are ignored too, as
// summary.csv holds the same rows.
#ifndef LRSCOPE_CONSOLE_H
#define LRSCOPE_CONSOLE_H

#include "../train/train.h"

typedef struct {
    FILE *out;          // stderr, or NULL when quiet
    int tty;
    int run_index, n_runs, epochs;
    char run_label[64];
    double study_start, last_draw;
    int bar_drawn;
} console;

void console_init(console *c, int quiet, int n_runs, int epochs);
void console_begin_run(console *c, int run_index, const char *label);
void console_batch(console *c, int epoch, int batch, int n_batches, double running_loss,
                   double images_per_s);
void console_epoch(console *c, const run_result *r);
void console_end_run(console *c, const run_result *r);
// The seed's table: one row per run with final metrics and time (to out).
void console_table(FILE *out, const run_config *runs, const run_result *const *results, int n);

#endif
