// console.c: live progress and the results table. The console is a
// courtesy: a write that fails (EPIPE from a closed pipe, EIO from a hung-up
// terminal, ENOSPC from a full disk) silences the progress of that run and
// changes nothing else: the study, its files and its exit status go on.
#include "console.h"
#include "run_files.h"

#include <math.h>
#include <string.h>
#include <unistd.h>

void console_init(console *c, int quiet, int n_runs, int epochs) {
    memset(c, 0, sizeof *c);
    c->out = quiet ? NULL : stderr;
    c->tty = !quiet && isatty(fileno(stderr));
    c->n_runs = n_runs;
    c->epochs = epochs;
    c->study_start = lr_now();
}

// Writes text and flushes it; on failure stops this console's output.
static void console_put(console *c, const char *text) {
    if (!c->out) return;
    if (fputs(text, c->out) == EOF || fflush(c->out) != 0) {
        clearerr(c->out); // the next run's console tries once more
        c->out = NULL;
        c->tty = 0;
    }
}

void console_begin_run(console *c, int run_index, const char *label) {
    c->run_index = run_index;
    snprintf(c->run_label, sizeof c->run_label, "%s", label);
    if (c->out && !c->tty) {
        char line[256];
        snprintf(line, sizeof line, "run %d/%d %s: started\n", run_index + 1, c->n_runs, label);
        console_put(c, line);
    }
}

static void format_duration(char *out, size_t cap, double s) {
    if (!isfinite(s) || s < 0) snprintf(out, cap, "--:--");
    else if (s >= 3600) snprintf(out, cap, "%d:%02d:%02d", (int)s / 3600, (int)s / 60 % 60, (int)s % 60);
    else snprintf(out, cap, "%d:%02d", (int)s / 60, (int)s % 60);
}

void console_batch(console *c, int epoch, int batch, int n_batches, double running_loss,
                   double images_per_s) {
    if (!c->tty) return;
    double now = lr_now();
    if (now - c->last_draw < 0.1 && batch != n_batches) return;
    c->last_draw = now;
    double done = (c->run_index + (epoch - 1 + (double)batch / n_batches) / c->epochs) / c->n_runs;
    double elapsed = now - c->study_start;
    char eta[32];
    format_duration(eta, sizeof eta, done > 0 ? elapsed / done * (1 - done) : NAN);
    enum { WIDTH = 24 };
    char bar[WIDTH + 1];
    int fill = (int)((double)batch / n_batches * WIDTH);
    for (int i = 0; i < WIDTH; i++) bar[i] = i < fill ? '#' : '.';
    bar[WIDTH] = '\0';
    char line[256];
    snprintf(line, sizeof line, "\r\033[K[%d/%d %s] epoch %d/%d [%s] %3d%% %7.0f img/s loss %.4f left %s",
             c->run_index + 1, c->n_runs, c->run_label, epoch, c->epochs, bar,
             100 * batch / n_batches, images_per_s, running_loss, eta);
    console_put(c, line);
    c->bar_drawn = c->out != NULL;
}

// Lines are built whole and written with one call, so that runs side by
// side never interleave within a line.
void console_epoch(console *c, const run_result *r) {
    if (!c->out || r->epochs_done == 0) return;
    const epoch_record *x = &r->epochs[r->epochs_done - 1];
    char line[512];
    size_t n = 0;
    if (c->bar_drawn) n += (size_t)snprintf(line + n, sizeof line - n, "\r\033[K");
    c->bar_drawn = 0;
    n += (size_t)snprintf(line + n, sizeof line - n,
                          "[%d/%d %s] epoch %2d/%d lr %.4g | train loss %.4f acc %5.2f%% f1 %.4f",
                          c->run_index + 1, c->n_runs, c->run_label, x->epoch, c->epochs, x->lr,
                          x->train_loss, 100 * x->train_acc, x->train_f1);
    if (x->has_test && n < sizeof line)
        n += (size_t)snprintf(line + n, sizeof line - n, " | test loss %.4f acc %5.2f%% f1 %.4f",
                              x->test_loss, 100 * x->test_acc, x->test_f1);
    if (n < sizeof line) snprintf(line + n, sizeof line - n, " | %.2f s\n", x->seconds);
    console_put(c, line);
}

void console_end_run(console *c, const run_result *r) {
    if (!c->out) return;
    char line[512];
    size_t n = 0;
    if (c->bar_drawn) n += (size_t)snprintf(line + n, sizeof line - n, "\r\033[K");
    c->bar_drawn = 0;
    n += (size_t)snprintf(line + n, sizeof line - n,
                          "run %d/%d %s: %s after %d epoch%s in %.1f s (%.0f train img/s, %s, %d thread%s)",
                          c->run_index + 1, c->n_runs, c->run_label, run_status_name(r->status),
                          r->epochs_done, r->epochs_done == 1 ? "" : "s", r->seconds, r->train_images_per_s,
                          r->isa ? r->isa : "?", r->threads, r->threads == 1 ? "" : "s");
    if (r->diverged_epoch && n < sizeof line)
        n += (size_t)snprintf(line + n, sizeof line - n, "; the loss became non-finite in epoch %d",
                              r->diverged_epoch);
    if (n < sizeof line) snprintf(line + n, sizeof line - n, "\n");
    console_put(c, line);
}

void console_table(FILE *out, const run_config *runs, const run_result *const *results, int n) {
    int w = 9;
    for (int i = 0; i < n; i++)
        if ((int)strlen(runs[i].condition) > w) w = (int)strlen(runs[i].condition);
    if (w > 60) w = 60;
    fprintf(out, "\n%-*s %6s %-12s %8s %8s %9s %6s %8s %9s\n", w, "condition", "seed", "status", "test acc",
            "test f1", "best acc", "@epoch", "epochs", "time (s)");
    for (int i = 0; i < n; i++) {
        const run_result *r = results[i];
        if (!r) {
            fprintf(out, "%-*s %6llu %-12s\n", w, runs[i].condition, (unsigned long long)runs[i].seed, "not run");
            continue;
        }
        int t = run_last_tested_epoch(r), b = run_best_epoch(r);
        char acc[16] = "-", f1[16] = "-", best[16] = "-", at[16] = "-";
        if (t >= 0) {
            snprintf(acc, sizeof acc, "%.2f%%", 100 * r->epochs[t].test_acc);
            snprintf(f1, sizeof f1, "%.4f", r->epochs[t].test_f1);
        }
        if (b >= 0) {
            snprintf(best, sizeof best, "%.2f%%", 100 * r->epochs[b].test_acc);
            snprintf(at, sizeof at, "%d", r->epochs[b].epoch);
        }
        fprintf(out, "%-*s %6llu %-12s %8s %8s %9s %6s %8d %9.1f\n", w, runs[i].condition,
                (unsigned long long)runs[i].seed, run_status_name(r->status), acc, f1, best, at, r->epochs_done,
                r->seconds);
    }
}
