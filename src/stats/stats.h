// stats.h: the statistics a study's conclusions rest on: a sample's mean, sd
// and Student-t 95% interval; the paired and Welch t-tests; Holm's
// adjustment of several p-values; and how many seeds a paired test would need
// to detect a difference. Quantiles and tail probabilities come from GSL.
//
//     stats_summary s = stats_summarize(acc, n_seeds);      // NAN entries skipped
//     printf("%.4f (95%% CI %.4f to %.4f, n = %d)\n", s.mean, s.ci_lo, s.ci_hi, s.n);
//     stats_test t = stats_paired_t(acc_best, acc_other, n_seeds);
//     double adj[8]; stats_holm(adj, p, m);
//
// Conventions: a value that cannot be computed is NAN (never a crash or a
// garbage number). Zero variance gives a zero-width interval; the t-tests on
// zero variance give p = 1 when the difference is exactly 0 and p = 0 (t =
// +-INFINITY) when it is a nonzero constant, the limits of the t statistic.
#ifndef LRSCOPE_STATS_H
#define LRSCOPE_STATS_H

#define STATS_LEVEL 0.95   // every interval is a 95% interval
#define STATS_ALPHA 0.05   // two-sided level of every test
#define STATS_POWER 0.80   // the power stats_seeds_needed aims at

// n, mean, sd (n - 1 denominator) and the 95% Student-t interval of the
// finite values. n = 0: everything NAN. n = 1: mean is the value, sd and the
// interval are NAN (one value says nothing about spread).
typedef struct {
    int n;
    double mean, sd, ci_lo, ci_hi;
} stats_summary;

// x: (n,) any values; NAN and +-INF entries are skipped and not counted.
stats_summary stats_summarize(const double *x, int n);

// Half-width of the 95% interval of a mean: t_{0.975, n-1} * sd / sqrt(n);
// NAN when n < 2.
double stats_ci_half(int n, double sd);

// A two-sample comparison of a - b.
typedef struct {
    int n;                  // pairs used (paired) or n_a + n_b (Welch)
    int n_a, n_b;           // values used from each side
    double diff;            // mean difference, a - b
    double ci_lo, ci_hi;    // its 95% interval
    double t, df, p;        // statistic, degrees of freedom, two-sided p
} stats_test;

// Paired t-test on d_i = a_i - b_i over the i where both are finite: the
// seed-matched design. Fewer than 2 pairs: diff may be set, the rest NAN.
stats_test stats_paired_t(const double *a, const double *b, int n);

// Welch's unequal-variance t-test of mean(a) - mean(b) on the finite values,
// Welch-Satterthwaite df. Needs 2 values on each side, else NAN. When both
// sides have zero variance the df is n_a + n_b - 2 (the formula is 0/0).
stats_test stats_welch_t(const double *a, int n_a, const double *b, int n_b);

// Holm-Bonferroni step-down adjustment: adj (m,) from p (m,); sorted
// ascending, adj_(i) = max_{j<=i} min(1, (m - j) * p_(j)) with j from 0.
// Monotone in p and capped at 1. NAN p-values stay NAN and do not count in m.
// adj may alias p.
void stats_holm(double *adj, const double *p, int m);

// The smallest n >= 2 of seeds for which a paired two-sided t-test at
// alpha = 0.05 has about 80% power against a true mean difference `diff`
// when the differences have standard deviation `sd`:
//     n >= ((t_{1-alpha/2, n-1} + t_{0.80, n-1}) * sd / |diff|)^2
// (the central-t approximation of the noncentral-t power, within one seed
// of the exact answer; iterated from the normal-approximation start).
// diff = 0 or non-finite input: -1 (no number of seeds would). sd = 0 and
// diff != 0: 2. Capped at STATS_SEEDS_MAX.
#define STATS_SEEDS_MAX 1000000
int stats_seeds_needed(double diff, double sd);

#endif
