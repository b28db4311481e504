// prune.c: ASHA and the median rule (prune.h), decided from a fixed view of
// the trials so that decisions do not depend on timing.
#include "prune.h"

#include <math.h>
#include <string.h>

void prune_defaults(prune_cfg *cfg, pruner_type type) {
    memset(cfg, 0, sizeof *cfg);
    cfg->type = type;
    cfg->grace = 1;
    cfg->eta = 3;
    cfg->max_epochs = 0;
    cfg->n_startup = 5;
    cfg->n_warmup = 0;
}

const char *prune_type_name(pruner_type t) {
    switch (t) {
    case PRUNER_NONE: return "none";
    case PRUNER_ASHA: return "asha";
    case PRUNER_MEDIAN: return "median";
    }
    return NULL;
}

prune_decision prune_decide(const prune_cfg *cfg, int maximize, const search_trial *trials, int n, int trial,
                            int epoch) {
    switch (cfg->type) {
    case PRUNER_ASHA: return asha_decide(cfg, maximize, trials, n, trial, epoch);
    case PRUNER_MEDIAN: return median_decide(cfg, maximize, trials, n, trial, epoch);
    case PRUNER_NONE: break;
    }
    return PRUNE_CONTINUE;
}

int prune_can_decide(const search_trial *trials, int t, int epoch) {
    for (int s = 0; s < t; s++)
        if (trials[s].n_epochs < epoch && trials[s].state == TRIAL_RUNNING) return 0;
    return 1;
}

int asha_rung(const prune_cfg *cfg, int epoch) {
    LR_ASSERT(cfg->grace >= 1 && cfg->eta >= 2 && cfg->max_epochs >= 1);
    long r = cfg->grace;
    for (int k = 0; r < cfg->max_epochs; k++, r *= cfg->eta)
        if (r == epoch) return k;
    return -1;
}

// 1 if a is better than b (NaN is worse than everything).
static int better(double a, double b, int maximize) {
    if (isnan(a)) return 0;
    if (isnan(b)) return 1;
    return maximize ? a > b : a < b;
}

static double value_at(const search_trial *t, int epoch) {
    LR_ASSERT(epoch >= 1 && epoch <= t->n_epochs && t->curve);
    return t->curve[epoch - 1];
}

// The number of competitors better than v.
static int n_better(const search_trial *trials, int n, int trial, int epoch, double v, int maximize, int *m) {
    int count = 0;
    *m = 0;
    for (int s = 0; s < n; s++) {
        if (s == trial || trials[s].n_epochs < epoch) continue;
        ++*m;
        if (better(value_at(&trials[s], epoch), v, maximize)) count++;
    }
    return count;
}

prune_decision asha_decide(const prune_cfg *cfg, int maximize, const search_trial *trials, int n, int trial,
                           int epoch) {
    if (asha_rung(cfg, epoch) < 0) return PRUNE_CONTINUE;
    double v = value_at(&trials[trial], epoch);
    if (isnan(v)) return PRUNE_STOP;
    int m;
    int ahead = n_better(trials, n, trial, epoch, v, maximize, &m);
    m += 1; // itself
    int k = m / cfg->eta;
    if (k < 1) k = 1;
    // v is at least as good as the k-th best exactly when fewer than k values beat it.
    return ahead < k ? PRUNE_CONTINUE : PRUNE_STOP;
}

int asha_promotable(const prune_cfg *cfg, int maximize, const search_trial *trials, int n) {
    int n_rungs = 0;
    long r = cfg->grace;
    int rung_epochs[64];
    for (; r < cfg->max_epochs && n_rungs < 64; r *= cfg->eta) rung_epochs[n_rungs++] = (int)r;
    for (int k = n_rungs - 1; k >= 0; k--) {
        int epoch = rung_epochs[k], best = -1;
        for (int t = 0; t < n; t++) {
            if (trials[t].state != TRIAL_PRUNED || trials[t].n_epochs != epoch) continue;
            double v = value_at(&trials[t], epoch);
            if (isnan(v)) continue;
            int m;
            int ahead = n_better(trials, n, t, epoch, v, maximize, &m);
            m += 1;
            if (ahead >= m / cfg->eta) continue; // not in the top floor(m / eta)
            if (best < 0 || better(v, value_at(&trials[best], epoch), maximize)) best = t;
        }
        if (best >= 0) return best;
    }
    return -1;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

prune_decision median_decide(const prune_cfg *cfg, int maximize, const search_trial *trials, int n, int trial,
                             int epoch) {
    if (epoch <= cfg->n_warmup) return PRUNE_CONTINUE;
    const search_trial *me = &trials[trial];
    int reached = 0;
    for (int s = 0; s < n; s++)
        if (s != trial && trials[s].n_epochs >= epoch) reached++;
    if (reached == 0 || reached < cfg->n_startup) return PRUNE_CONTINUE;
    double best = NAN;
    for (int e = 1; e <= epoch; e++) {
        double v = value_at(me, e);
        if (better(v, best, maximize)) best = v;
    }
    if (isnan(best)) return PRUNE_STOP;
    double *vals = lr_malloc((size_t)reached * sizeof *vals);
    int m = 0;
    for (int s = 0; s < n; s++)
        if (s != trial && trials[s].n_epochs >= epoch && !isnan(value_at(&trials[s], epoch)))
            vals[m++] = value_at(&trials[s], epoch);
    prune_decision d = PRUNE_CONTINUE;
    if (m > 0) {
        qsort(vals, (size_t)m, sizeof *vals, cmp_double);
        // numpy's percentile 50 with linear interpolation: the median
        double med = m % 2 ? vals[m / 2] : 0.5 * (vals[m / 2 - 1] + vals[m / 2]);
        d = better(med, best, maximize) ? PRUNE_STOP : PRUNE_CONTINUE;
    }
    free(vals);
    return d;
}
