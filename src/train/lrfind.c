// lrfind.c: the range test's rate, smoothing, stop rule and suggestions (as
// fastai 2's LRFinder, AvgSmoothLoss and valley/steep/minimum define them),
// lrfind.csv, and the training itself through train_run's step hooks.
#include "lrfind.h"
#include "train.h"
#include "../util/fsutil.h"

#include <math.h>
#include <string.h>

void lrfind_defaults(lrfind_opts *o) {
    o->steps = 100;
    o->start_lr = 1e-7;
    o->end_lr = 10.0;
    o->beta = 0.98;
    o->stop_factor = 4.0;
}

double lrfind_rate(const lrfind_opts *o, long i) {
    return o->start_lr * pow(o->end_lr / o->start_lr, (double)i / (double)o->steps);
}

void lrfind_curve_init(lrfind_curve *c) {
    memset(c, 0, sizeof *c);
    c->best = INFINITY;
}

void lrfind_curve_free(lrfind_curve *c) {
    free(c->lr);
    free(c->loss);
    free(c->smoothed);
    memset(c, 0, sizeof *c);
}

int lrfind_record(lrfind_curve *c, const lrfind_opts *o, double lr, double loss) {
    if (c->n == c->cap) {
        c->cap = c->cap ? 2 * c->cap : 128;
        c->lr = lr_realloc(c->lr, (size_t)c->cap * sizeof *c->lr);
        c->loss = lr_realloc(c->loss, (size_t)c->cap * sizeof *c->loss);
        c->smoothed = lr_realloc(c->smoothed, (size_t)c->cap * sizeof *c->smoothed);
    }
    // torch.lerp(loss, avg, beta) = beta * avg + (1 - beta) * loss, then the
    // bias correction of a running average started at 0.
    c->avg = o->beta * c->avg + (1.0 - o->beta) * loss;
    double smoothed = c->avg / (1.0 - pow(o->beta, (double)(c->n + 1)));
    c->lr[c->n] = lr;
    c->loss[c->n] = loss;
    c->smoothed[c->n] = smoothed;
    c->n++;
    if (!isfinite(smoothed)) return 1;
    if (smoothed < c->best) c->best = smoothed;
    return smoothed > o->stop_factor * c->best;
}

long lrfind_valley(const double *loss, long n) {
    LR_ASSERT(n >= 1);
    // lds[i]: the length of the longest strictly decreasing run of losses
    // (not necessarily neighbours) ending at i; fastai's loop, kept as it is
    // (max_start is where the longest one starts, counted back from its end).
    long *lds = lr_malloc((size_t)n * sizeof *lds);
    long max_start = 0, max_end = 0;
    for (long i = 0; i < n; i++) lds[i] = 1;
    for (long i = 1; i < n; i++)
        for (long j = 0; j < i; j++) {
            if (loss[i] < loss[j] && lds[i] < lds[j] + 1) lds[i] = lds[j] + 1;
            if (lds[max_end] < lds[i]) {
                max_end = i;
                max_start = max_end - lds[max_end];
            }
        }
    free(lds);
    double sections = (double)(max_end - max_start) / 3.0;
    long idx = max_start + (long)sections + (long)(sections / 2.0);
    return idx < 0 ? 0 : idx >= n ? n - 1 : idx;
}

long lrfind_steepest(const double *lr, const double *loss, long n) {
    LR_ASSERT(n >= 2);
    long best = 0;
    double best_g = INFINITY;
    for (long i = 0; i + 1 < n; i++) {
        double g = (loss[i + 1] - loss[i]) / (log(lr[i + 1]) - log(lr[i])); // against log lr, not lr
        if (g < best_g) { // first of equals, as argmin
            best_g = g;
            best = i;
        }
    }
    return best;
}

long lrfind_minimum(const double *loss, long n) {
    LR_ASSERT(n >= 1);
    long best = 0;
    for (long i = 1; i < n; i++)
        if (loss[i] < loss[best]) best = i;
    return best;
}

int lrfind_suggest(const lrfind_curve *c, int steps, lrfind_suggestions *s) {
    long finite = 0;
    while (finite < c->n && isfinite(c->smoothed[finite])) finite++;
    if (finite < 2) return -1;
    // fastai: lrs[num_it // 10 : -5], cut at the first NaN
    long lo = steps / 10, hi = c->n - 5;
    if (hi > finite) hi = finite;
    if (hi - lo < 3) {
        lo = 0;
        hi = finite;
    }
    const double *lr = c->lr + lo, *sm = c->smoothed + lo;
    long n = hi - lo;
    s->i_valley = lo + lrfind_valley(sm, n);
    s->i_steepest = lo + lrfind_steepest(lr, sm, n);
    s->i_minimum = lo + lrfind_minimum(sm, n);
    s->valley = c->lr[s->i_valley];
    s->steepest = c->lr[s->i_steepest];
    s->minimum = c->lr[s->i_minimum] / 10.0;
    return 0;
}

int lrfind_write_csv(const char *path, const lrfind_curve *c, lr_err *e) {
    size_t cap = 64 + (size_t)c->n * 96, len = 0;
    char *buf = lr_malloc(cap);
    len += (size_t)snprintf(buf, cap, "step,lr,loss,smoothed_loss\n");
    for (long i = 0; i < c->n; i++)
        len += (size_t)snprintf(buf + len, cap - len, "%ld,%.17g,%.9g,%.9g\n", i + 1, c->lr[i], c->loss[i],
                                c->smoothed[i]);
    LR_ASSERT(len < cap);
    int rc = fs_write_atomic(path, buf, len, e);
    free(buf);
    return rc;
}

// ---- the training ----

typedef struct {
    const lrfind_opts *o;
    lrfind_curve *c;
} lrfind_ctx;

static double hook_lr(void *ctx, long step) { return lrfind_rate(((lrfind_ctx *)ctx)->o, step); }

static int hook_step(void *ctx, long step, double lr, double batch_loss) {
    lrfind_ctx *x = ctx;
    int stop = lrfind_record(x->c, x->o, lr, batch_loss);
    if (stop && step + 1 < x->o->steps) x->c->stopped = 1;
    return stop || step + 1 >= x->o->steps;
}

int lrfind_run(const run_config *cfg, const lrfind_opts *o, const dataset *train, const dataset_info *info,
               volatile sig_atomic_t *stop, lrfind_curve *c, lr_err *e) {
    lrfind_curve_init(c);
    if (o->steps < 2 || !(o->start_lr > 0) || !(o->end_lr > o->start_lr))
        return lr_fail(e, "the range test needs at least 2 steps and 0 < start_lr < end_lr");
    if (cfg->batch_size < 1 || train->n < 1) return lr_fail(e, "the range test needs a batch size and images");
    // The run's model, data, optimiser and seed; the test's rates in place of
    // the schedule; as many epochs as the steps need; no evaluation.
    run_config rc = *cfg;
    int spe = (train->n + cfg->batch_size - 1) / cfg->batch_size;
    snprintf(rc.schedule, sizeof rc.schedule, "constant");
    rc.warmup_epochs = rc.warmup_steps = 0;
    rc.epochs = (o->steps + spe - 1) / spe;
    rc.eval_interval = rc.epochs + 1;
    lrfind_ctx x = {o, c};
    train_hooks hooks = {.ctx = &x, .stop = stop, .step_lr = hook_lr, .on_step = hook_step};
    run_result r;
    // the test set is never evaluated: the training set stands in for it
    if (train_run(&rc, train, train, info, &hooks, &r, e) != 0) {
        run_result_free(&r);
        return -1;
    }
    run_result_free(&r);
    return 0;
}
