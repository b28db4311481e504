// trial.h: a trial as the samplers (search.h) and pruners (prune.h) see it:
// its point, its state and the metric it has recorded so far. The scheduler
// owns the trials and their curves; these functions only read them.
#ifndef LRSCOPE_TRIAL_H
#define LRSCOPE_TRIAL_H

#include "space.h"

typedef enum {
    TRIAL_RUNNING,  // suggested, not settled: only its point is read
    TRIAL_COMPLETE, // ran all its epochs: `value` is the objective
    TRIAL_PRUNED,   // stopped by the pruner after curve[n_epochs - 1]
} trial_state;

typedef struct {
    double x[SEARCH_MAX_PARAMS]; // the point (space.h)
    trial_state state;
    double value;                // COMPLETE: the objective (the mean over the point's seeds); NaN if diverged
    int n_epochs;                // epochs recorded in curve
    const double *curve;         // (n_epochs,) the metric after epochs 1..n_epochs (mean over seeds)
} search_trial;

#endif
