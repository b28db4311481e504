// prune.h: early stopping of search trials (docs/search.md): ASHA
// (asynchronous successive halving, as Optuna's SuccessiveHalvingPruner and
// Ray Tune's ASHAScheduler) and the median rule (Optuna's MedianPruner).
//
//     prune_cfg cfg;
//     prune_defaults(&cfg, PRUNER_ASHA);      // grace 1, eta 3
//     cfg.max_epochs = 30;                    // rungs at epochs 1, 3, 9, 27
//     // after trial t has recorded epoch e (trials[t].curve[e - 1]):
//     if (prune_decide(&cfg, maximize, trials, t, t, e) == PRUNE_STOP) ... // stop t: pruned
//
// Reproducibility: a decision reads only trials[s] for s < n (and the trial
// itself), and of each only whether it reached the epoch and its value there.
// The scheduler passes n = t, the trial's own index, and decides trial t at
// epoch e only once every trial s < t has either recorded epoch e or stopped
// before it (pruned, or finished with fewer epochs). Then the decision is
// the same whatever --jobs is and whichever trial finished first; no
// deadlock: trial 0 never waits, and trial s's progress waits only on
// trials before s. Epochs are 1-based; a rung or step "e" is the value
// recorded after epoch e.
#ifndef LRSCOPE_PRUNE_H
#define LRSCOPE_PRUNE_H

#include "trial.h"

typedef enum { PRUNER_NONE, PRUNER_ASHA, PRUNER_MEDIAN } pruner_type;

typedef struct {
    pruner_type type;
    int grace;       // ASHA: r, the first rung's epoch (default 1)
    int eta;         // ASHA: reduction factor, >= 2 (default 3)
    int max_epochs;  // ASHA: R; rungs at r, r*eta, r*eta^2, ... < R; 0 = the run's epochs (the caller fills it in)
    int n_startup;   // median: no pruning until this many other trials reached the epoch (default 5)
    int n_warmup;    // median: no pruning at epochs <= n_warmup (default 0)
} prune_cfg;

typedef enum { PRUNE_CONTINUE = 0, PRUNE_STOP = 1 } prune_decision;

void prune_defaults(prune_cfg *cfg, pruner_type type);
// "asha", "median", "none" (NULL for an unknown type).
const char *prune_type_name(pruner_type t);

// The decision for trials[trial] after it recorded epoch `epoch`
// (trials[trial].n_epochs >= epoch), against trials[0..n) other than itself.
prune_decision prune_decide(const prune_cfg *cfg, int maximize, const search_trial *trials, int n, int trial,
                            int epoch);

// The order rule as a test for the scheduler: 1 when trial t's decision
// after epoch `epoch` may be taken now, i.e. every trial s < t has recorded
// that epoch or has settled (COMPLETE or PRUNED) before it.
int prune_can_decide(const search_trial *trials, int t, int epoch);

// ASHA: the rung index of epoch (0 for r, 1 for r*eta, ...), or -1 when the
// epoch is not a rung (then the trial always continues).
int asha_rung(const prune_cfg *cfg, int epoch);
// ASHA at a rung: the competitors are trials[s], s < n, s != trial, that
// recorded `epoch`, plus the trial itself; with m of them, the trial
// continues if its value is at least as good as the k-th best, k = max(m /
// eta, 1) (Optuna's rule: the first eta - 1 trials at a rung continue only
// if best so far). A NaN value (diverged) stops.
prune_decision asha_decide(const prune_cfg *cfg, int maximize, const search_trial *trials, int n, int trial,
                           int epoch);
// ASHA promotion: a PRUNED trial among trials[0..n) that stopped at a rung
// and is now in the top floor(m / eta) of the m trials that reached that
// rung, so ASHA lets it continue. Highest rung first, then the best value,
// then the lowest index; -1 when there is none. Reproducible when the
// scheduler calls it at fixed points of the trial order (docs/search.md:
// once every trial has settled, again after each promoted trial settles).
int asha_promotable(const prune_cfg *cfg, int maximize, const search_trial *trials, int n);

// Median rule: once n_startup other trials (s < n) recorded `epoch`, the
// trial stops if its best value over epochs 1..epoch is worse than the
// median of their values at `epoch` (NaNs ignored; all-NaN own values stop).
prune_decision median_decide(const prune_cfg *cfg, int maximize, const search_trial *trials, int n, int trial,
                             int epoch);

#endif
