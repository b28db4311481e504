// stats.c: sample summaries with Student-t intervals, paired and Welch
// t-tests, Holm's step-down adjustment and a seed-count (power) estimate.
// GSL supplies the t and normal quantiles and tail probabilities.
#include "stats.h"

#include <gsl/gsl_cdf.h>
#include <math.h>
#include <stdlib.h>

#include "../util/common.h"

// Mean and sd (n - 1) of the finite values in x (n,), two-pass for accuracy.
static stats_summary moments(const double *x, int n) {
    stats_summary s = {0, NAN, NAN, NAN, NAN};
    double sum = 0;
    for (int i = 0; i < n; i++)
        if (isfinite(x[i])) { sum += x[i]; s.n++; }
    if (s.n == 0) return s;
    s.mean = sum / s.n;
    if (s.n < 2) return s;
    double ss = 0;
    for (int i = 0; i < n; i++)
        if (isfinite(x[i])) ss += (x[i] - s.mean) * (x[i] - s.mean);
    s.sd = sqrt(ss / (s.n - 1));
    return s;
}

static double t_crit(double df) { return gsl_cdf_tdist_Pinv(1 - (1 - STATS_LEVEL) / 2, df); }

double stats_ci_half(int n, double sd) {
    if (n < 2 || !isfinite(sd)) return NAN;
    return t_crit(n - 1) * sd / sqrt(n);
}

stats_summary stats_summarize(const double *x, int n) {
    stats_summary s = moments(x, n);
    if (s.n < 2) return s;
    double h = stats_ci_half(s.n, s.sd);
    s.ci_lo = s.mean - h;
    s.ci_hi = s.mean + h;
    return s;
}

// Fills t, p and the interval from diff, its standard error and df. A zero
// standard error takes the limits of t: 0/0 -> t = 0, p = 1; c/0 -> t =
// +-INFINITY, p = 0; the interval is then [diff, diff].
static void test_finish(stats_test *r, double se) {
    if (se > 0) {
        r->t = r->diff / se;
        r->p = 2 * gsl_cdf_tdist_Q(fabs(r->t), r->df);
        if (r->p > 1) r->p = 1;
        double h = t_crit(r->df) * se;
        r->ci_lo = r->diff - h;
        r->ci_hi = r->diff + h;
    } else {
        r->t = r->diff == 0 ? 0 : copysign(INFINITY, r->diff);
        r->p = r->diff == 0 ? 1 : 0;
        r->ci_lo = r->ci_hi = r->diff;
    }
}

stats_test stats_paired_t(const double *a, const double *b, int n) {
    stats_test r = {0, 0, 0, NAN, NAN, NAN, NAN, NAN, NAN};
    double *d = lr_malloc((size_t)(n > 0 ? n : 1) * sizeof *d); // (pairs,)
    int m = 0;
    for (int i = 0; i < n; i++)
        if (isfinite(a[i]) && isfinite(b[i])) d[m++] = a[i] - b[i];
    stats_summary s = moments(d, m);
    free(d);
    r.n = r.n_a = r.n_b = m;
    r.diff = s.mean;
    if (m < 2) return r;
    r.df = m - 1;
    test_finish(&r, s.sd / sqrt(m));
    return r;
}

stats_test stats_welch_t(const double *a, int n_a, const double *b, int n_b) {
    stats_test r = {0, 0, 0, NAN, NAN, NAN, NAN, NAN, NAN};
    stats_summary sa = moments(a, n_a), sb = moments(b, n_b);
    r.n_a = sa.n;
    r.n_b = sb.n;
    r.n = sa.n + sb.n;
    if (sa.n > 0 && sb.n > 0) r.diff = sa.mean - sb.mean;
    if (sa.n < 2 || sb.n < 2) return r;
    double va = sa.sd * sa.sd / sa.n, vb = sb.sd * sb.sd / sb.n; // squared standard errors
    double se2 = va + vb;
    r.df = se2 > 0 ? se2 * se2 / (va * va / (sa.n - 1) + vb * vb / (sb.n - 1))
                   : (double)(sa.n + sb.n - 2);
    test_finish(&r, sqrt(se2));
    return r;
}

void stats_holm(double *adj, const double *p, int m) {
    if (m <= 0) return;
    int *order = lr_malloc((size_t)m * sizeof *order); // (m,) indices of finite p, ascending
    double *out = lr_malloc((size_t)m * sizeof *out);  // (m,) so adj may alias p
    int k = 0;
    for (int i = 0; i < m; i++) {
        out[i] = NAN;
        if (isfinite(p[i])) order[k++] = i;
    }
    for (int i = 1; i < k; i++) { // insertion sort, stable: m is a handful of comparisons
        int v = order[i], j = i;
        for (; j > 0 && p[order[j - 1]] > p[v]; j--) order[j] = order[j - 1];
        order[j] = v;
    }
    double run_max = 0;
    for (int j = 0; j < k; j++) {
        double v = fmin(1.0, (double)(k - j) * p[order[j]]);
        if (v > run_max) run_max = v;
        out[order[j]] = run_max;
    }
    for (int i = 0; i < m; i++) adj[i] = out[i];
    free(order);
    free(out);
}

int stats_seeds_needed(double diff, double sd) {
    if (!isfinite(diff) || !isfinite(sd) || diff == 0 || sd < 0) return -1;
    if (sd == 0) return 2;
    double ratio = sd / fabs(diff);
    // Normal approximation as the start: t quantiles exceed z ones, so the
    // answer is never below it.
    double z = gsl_cdf_ugaussian_Pinv(1 - STATS_ALPHA / 2) + gsl_cdf_ugaussian_Pinv(STATS_POWER);
    double n0 = ceil(z * z * ratio * ratio);
    if (!(n0 < STATS_SEEDS_MAX)) return STATS_SEEDS_MAX;
    for (int n = n0 < 2 ? 2 : (int)n0; n < STATS_SEEDS_MAX; n++) {
        double q = gsl_cdf_tdist_Pinv(1 - STATS_ALPHA / 2, n - 1) +
                   gsl_cdf_tdist_Pinv(STATS_POWER, n - 1);
        if ((double)n >= q * q * ratio * ratio) return n;
    }
    return STATS_SEEDS_MAX;
}
