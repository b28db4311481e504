// lrfind.h: the learning-rate range test (Smith 2015; fastai's lr_find):
// train for up to `steps` optimiser steps with the rate rising exponentially
// from start_lr to end_lr, record each batch's loss, smooth it (exponential
// moving average, beta 0.98, bias-corrected) and stop once the smoothed loss
// exceeds 4 times its best. The suggestions are read off the smoothed curve
// as fastai does.
//
//     lrfind_opts o;
//     lrfind_defaults(&o);
//     lrfind_curve c;
//     if (lrfind_run(&cfg, &o, &train, info, &c, &e) != 0) ...   // trains
//     lrfind_suggestions s;
//     if (lrfind_suggest(&c, o.steps, &s) == 0) ... s.valley ...
//     lrfind_curve_free(&c);
#ifndef LRSCOPE_LRFIND_H
#define LRSCOPE_LRFIND_H

#include <signal.h>

#include "config.h"
#include "../data/dataset.h"

typedef struct {
    int steps;           // at most this many optimiser steps (--steps, 100)
    double start_lr;     // rate of the first step (--start-lr, 1e-7)
    double end_lr;       // the rate the exponential heads to (--end-lr, 10)
    double beta;         // smoothing of the loss (0.98)
    double stop_factor;  // stop once smoothed > stop_factor x best smoothed (4)
} lrfind_opts;

void lrfind_defaults(lrfind_opts *o);

// The rate of step i (from 0), as fastai's LRFinder: start_lr *
// (end_lr / start_lr)^(i / steps).
double lrfind_rate(const lrfind_opts *o, long i);

// The recorded points, one per optimiser step taken.
typedef struct {
    long n, cap;
    double *lr, *loss, *smoothed; // (n)
    double avg, best;             // smoothing state: running average (not bias-corrected), best smoothed
    int stopped;                  // 1 when the stop rule ended the test before `steps`
} lrfind_curve;

void lrfind_curve_init(lrfind_curve *c);
void lrfind_curve_free(lrfind_curve *c);
// Adds step c->n with its rate and batch loss; fills its smoothed loss:
// avg = beta avg + (1 - beta) loss, smoothed = avg / (1 - beta^(n + 1)).
// Returns 1 when the test must stop here (smoothed loss above stop_factor x
// its best so far, or not finite), else 0.
int lrfind_record(lrfind_curve *c, const lrfind_opts *o, double lr, double loss);

// Suggestions, each an index into the points given and its rate.
typedef struct {
    double valley, steepest, minimum;   // rates: valley, steepest descent, minimum / 10
    long i_valley, i_steepest, i_minimum; // indices into the curve (i_minimum: the minimum itself)
} lrfind_suggestions;

// fastai's three on arrays of n points (smoothed losses, rates increasing):
// valley: the longest strictly decreasing subsequence of the losses (the
// longest "valley"), and the point about 2/3 down it; steepest: the most
// negative d loss / d log(lr) between neighbours (the left point's rate);
// minimum: the lowest loss. Each returns an index; n >= 2 for steepest.
long lrfind_valley(const double *loss, long n);
long lrfind_steepest(const double *lr, const double *loss, long n);
long lrfind_minimum(const double *loss, long n);

// The suggestions of a recorded curve, on the points fastai uses: from step
// steps / 10, without the last 5 recorded and anything from the first
// non-finite loss on (all finite points when that leaves fewer than 3).
// -1 when there are fewer than 2 finite points.
int lrfind_suggest(const lrfind_curve *c, int steps, lrfind_suggestions *s);

// Writes lrfind.csv (step,lr,loss,smoothed_loss) atomically.
int lrfind_write_csv(const char *path, const lrfind_curve *c, lr_err *e);

// Trains cfg's model on `train` (its optimiser, batch size, augmentation and
// seed; its schedule is replaced by the test's rates; no evaluation) for at
// most o->steps steps, filling c (initialised here). stop: Ctrl-C (may be
// NULL). -1 with e on a setup error; stopping early is not an error.
int lrfind_run(const run_config *cfg, const lrfind_opts *o, const dataset *train, const dataset_info *info,
               volatile sig_atomic_t *stop, lrfind_curve *c, lr_err *e);

#endif
