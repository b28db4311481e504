// tpe.h: the internals of the TPE sampler (search.h), exposed for the tests
// that check them against Optuna's formulas: Optuna 3.1's TPESampler with
// its defaults, univariate (each parameter has its own Parzen estimators,
// as Optuna's default multivariate=False), consider_prior with weight 1.0,
// consider_magic_clip, consider_endpoints=False, default_gamma, default_weights,
// and the constant liar.
#ifndef LRSCOPE_TPE_H
#define LRSCOPE_TPE_H

#include "search.h"

// A Parzen estimator over one parameter, in its internal scale (log for
// log-scaled kinds, the choice index for categorical): n_obs observations
// plus the prior as the last component.
typedef struct {
    const search_param *p;
    int n;              // components: observations + 1 (the prior)
    double *w;          // (n,) mixture weights, sum 1
    double *mu, *sigma; // (n,) numeric kinds
    double *cw;         // (n, n_choices) categorical: each component's probabilities
    double low, high;   // the internal bounds (Optuna's _calculate_parzen_bounds)
    double q;           // int without log: 1 (a discrete bucket of width 1); else 0
} tpe_parzen;

// gamma(n) = min(ceil(0.1 n), 25): how many trials go below.
int tpe_gamma(int n);
// Optuna's default_weights(m): 1 for the newest 25, a ramp from 1/m up for older ones.
void tpe_default_weights(int m, double *w);
// The value of x (external) in p's internal scale.
double tpe_to_internal(const search_param *p, double x);

// Splits trials[0..n) into below (the gamma(n_settled) best) and above,
// each in trial order; trials with index >= n - lag count as running.
// Ranking as Optuna's _split_observation_pairs: complete trials first by
// value, then pruned trials by the epoch they reached (later first), then
// by their value there; running trials last. Returns n_below; n_above = n - n_below.
int tpe_split(const search_spec *sp, const search_trial *trials, int n, int *below, int *above, int *n_settled);

// Builds the estimator from observations obs[0..m) (internal scale, in trial order).
void tpe_parzen_build(tpe_parzen *pe, const search_param *p, const double *obs, int m);
void tpe_parzen_free(tpe_parzen *pe);
// Log density (or log mass, for int and categorical) of the internal value v.
double tpe_parzen_log_pdf(const tpe_parzen *pe, double v);

#endif
