// sampler.c: the samplers of search.h: random, grid and TPE (Optuna 3.1's
// TPESampler, univariate, with the constant liar; tpe.h), and the rule that
// no point is proposed twice.
#include "tpe.h"
#include "../util/rng.h"

#include <math.h>
#include <string.h>

enum {
    MAX_JOINT_TRIES = 256,     // best-first steps through the candidates' combinations
    MAX_RANDOM_TRIES = 1000,   // random redraws before enumerating a finite space
};
#define MAX_ENUMERATE 1e6      // a finite space up to this size is enumerated when redraws fail

// Uniform in [0, 1) with 53 random bits.
static double u01(rng_state *r) { return (double)(rng_u64(r) >> 11) * 0x1p-53; }

static double clamp(double v, double lo, double hi) { return v < lo ? lo : v > hi ? hi : v; }

// ---- the normal distribution ----

static double norm_cdf(double z) { return 0.5 * erfc(-z / M_SQRT2); }

// The inverse of norm_cdf: Acklam's rational approximation refined by one
// Halley step (full double precision).
static double ndtri(double p) {
    static const double a[] = {-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
                               1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00};
    static const double b[] = {-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
                               6.680131188771972e+01, -1.328068155288572e+01};
    static const double c[] = {-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
                               -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00};
    static const double d[] = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
                               3.754408661907416e+00};
    if (p <= 0) return -INFINITY;
    if (p >= 1) return INFINITY;
    double x;
    if (p < 0.02425) {
        double q = sqrt(-2 * log(p));
        x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
            ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
    } else if (p > 1 - 0.02425) {
        double q = sqrt(-2 * log(1 - p));
        x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
            ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
    } else {
        double q = p - 0.5, r = q * q;
        x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
            (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
    }
    double err = norm_cdf(x) - p;
    double u = err * sqrt(2 * M_PI) * exp(0.5 * x * x);
    return x - u / (1 + 0.5 * x * u);
}

// log(Phi(b) - Phi(a)), a <= b, computed on the side where it does not cancel.
static double log_gauss_mass(double a, double b) {
    if (b <= 0) return log(norm_cdf(b) - norm_cdf(a));
    if (a >= 0) return log(norm_cdf(-a) - norm_cdf(-b));
    return log1p(-norm_cdf(a) - norm_cdf(-b));
}

// A standard normal truncated to [a, b], by inverting the CDF (as Optuna's _truncnorm.rvs).
static double truncnorm_sample(double a, double b, rng_state *r) {
    double u = u01(r), z;
    if (a >= 0) { // the upper tail: invert on the mirrored side, where the CDF keeps its precision
        double pa = norm_cdf(-a), pb = norm_cdf(-b);
        z = -ndtri(pa - u * (pa - pb));
    } else {
        double pa = norm_cdf(a), pb = norm_cdf(b);
        z = ndtri(pa + u * (pb - pa));
    }
    return clamp(z, a, b);
}

// ---- TPE internals (tpe.h) ----

int tpe_gamma(int n) {
    int g = (int)ceil(0.1 * n);
    return g < 25 ? g : 25;
}

void tpe_default_weights(int m, double *w) {
    if (m < 25) {
        for (int i = 0; i < m; i++) w[i] = 1;
        return;
    }
    // numpy.linspace(1/m, 1, m - 25) for the oldest, then 25 ones.
    int r = m - 25;
    for (int i = 0; i < r; i++) w[i] = r == 1 ? 1.0 / m : 1.0 / m + (1.0 - 1.0 / m) * i / (r - 1);
    if (r > 1) w[r - 1] = 1.0;
    for (int i = r; i < m; i++) w[i] = 1;
}

double tpe_to_internal(const search_param *p, double x) { return p->log ? log(x) : x; }

static double to_external(const search_param *p, double v) {
    switch (p->kind) {
    case PARAM_UNIFORM: return clamp(v, p->low, p->high);
    case PARAM_LOGUNIFORM: return clamp(exp(v), p->low, p->high);
    case PARAM_INT: return clamp(round(p->log ? exp(v) : v), p->low, p->high);
    case PARAM_CATEGORICAL: return v;
    }
    return v;
}

void tpe_parzen_build(tpe_parzen *pe, const search_param *p, const double *obs, int m) {
    memset(pe, 0, sizeof *pe);
    pe->p = p;
    pe->n = m + 1;
    pe->w = lr_malloc((size_t)pe->n * sizeof *pe->w);
    tpe_default_weights(m, pe->w);
    pe->w[m] = 1.0; // prior_weight
    double total = 0;
    for (int i = 0; i < pe->n; i++) total += pe->w[i];
    for (int i = 0; i < pe->n; i++) pe->w[i] /= total;
    if (p->kind == PARAM_CATEGORICAL) {
        int nc = p->n_choices;
        pe->cw = lr_malloc((size_t)pe->n * (size_t)nc * sizeof *pe->cw);
        double fill = 1.0 / (m + 1); // prior_weight / (observations + 1)
        for (int i = 0; i < pe->n; i++) {
            double *row = pe->cw + (size_t)i * (size_t)nc, sum = 0;
            for (int c = 0; c < nc; c++) row[c] = fill;
            if (i < m) row[(int)obs[i]] += 1;
            for (int c = 0; c < nc; c++) sum += row[c];
            for (int c = 0; c < nc; c++) row[c] /= sum;
        }
        return;
    }
    // _calculate_parzen_bounds
    if (p->kind == PARAM_INT && p->log) pe->low = log(p->low - 0.5), pe->high = log(p->high + 0.5);
    else if (p->kind == PARAM_INT) pe->low = p->low - 0.5, pe->high = p->high + 0.5, pe->q = 1;
    else if (p->log) pe->low = log(p->low), pe->high = log(p->high);
    else pe->low = p->low, pe->high = p->high;
    double low = pe->low, high = pe->high;
    int n = pe->n;
    pe->mu = lr_malloc((size_t)n * sizeof *pe->mu);
    pe->sigma = lr_malloc((size_t)n * sizeof *pe->sigma);
    for (int i = 0; i < m; i++) pe->mu[i] = obs[i];
    pe->mu[m] = 0.5 * (low + high);
    // _calculate_numerical_params, univariate: each component's bandwidth is
    // the larger gap to its sorted neighbours (the bounds at the ends), the
    // end components use their inner gap (consider_endpoints=False), then the
    // magic clip.
    int *order = lr_malloc((size_t)n * sizeof *order);
    double *s = lr_malloc((size_t)(n + 2) * sizeof *s);
    for (int i = 0; i < n; i++) order[i] = i;
    for (int i = 1; i < n; i++) { // stable insertion sort by mu (numpy's argsort: quicksort, ties rare)
        int k = order[i], j = i - 1;
        while (j >= 0 && pe->mu[order[j]] > pe->mu[k]) order[j + 1] = order[j], j--;
        order[j + 1] = k;
    }
    s[0] = low;
    for (int i = 0; i < n; i++) s[i + 1] = pe->mu[order[i]];
    s[n + 1] = high;
    double minsigma = (high - low) / fmin(100.0, 1.0 + n), maxsigma = high - low;
    for (int i = 0; i < n; i++) {
        double sg = fmax(s[i + 1] - s[i], s[i + 2] - s[i + 1]);
        if (n + 2 >= 4) {
            if (i == 0) sg = s[2] - s[1];
            if (i == n - 1) sg = s[n] - s[n - 1];
        }
        pe->sigma[order[i]] = clamp(sg, minsigma, maxsigma);
    }
    pe->sigma[m] = high - low; // the prior's
    free(order);
    free(s);
}

void tpe_parzen_free(tpe_parzen *pe) {
    free(pe->w);
    free(pe->mu);
    free(pe->sigma);
    free(pe->cw);
    memset(pe, 0, sizeof *pe);
}

double tpe_parzen_log_pdf(const tpe_parzen *pe, double v) {
    if (pe->p->kind == PARAM_CATEGORICAL) {
        double s = 0;
        for (int i = 0; i < pe->n; i++) s += pe->w[i] * pe->cw[(size_t)i * (size_t)pe->p->n_choices + (size_t)v];
        return log(s);
    }
    double mx = -INFINITY;
    double *lp = lr_malloc((size_t)pe->n * sizeof *lp);
    for (int i = 0; i < pe->n; i++) {
        double mu = pe->mu[i], sg = pe->sigma[i];
        double a = (pe->low - mu) / sg, b = (pe->high - mu) / sg, l;
        if (pe->q > 0) {
            double lo = fmax(v - 0.5 * pe->q, pe->low), hi = fmin(v + 0.5 * pe->q, pe->high);
            l = log_gauss_mass((lo - mu) / sg, (hi - mu) / sg) - log_gauss_mass(a, b);
        } else {
            double z = (v - mu) / sg;
            l = -0.5 * z * z - log(sg) - 0.5 * log(2 * M_PI) - log_gauss_mass(a, b);
        }
        lp[i] = l + log(pe->w[i]);
        if (lp[i] > mx) mx = lp[i];
    }
    double sum = 0;
    for (int i = 0; i < pe->n; i++) sum += exp(lp[i] - mx);
    free(lp);
    return log(sum) + mx;
}

// One draw from the mixture, in the external scale.
static double parzen_sample(const tpe_parzen *pe, rng_state *r) {
    double u = u01(r), acc = 0;
    int k = pe->n - 1;
    for (int i = 0; i < pe->n; i++) {
        acc += pe->w[i];
        if (u < acc) { k = i; break; }
    }
    if (pe->p->kind == PARAM_CATEGORICAL) {
        const double *row = pe->cw + (size_t)k * (size_t)pe->p->n_choices;
        double v = u01(r), c = 0;
        for (int j = 0; j < pe->p->n_choices; j++) {
            c += row[j];
            if (v < c) return j;
        }
        return pe->p->n_choices - 1;
    }
    double mu = pe->mu[k], sg = pe->sigma[k];
    double z = truncnorm_sample((pe->low - mu) / sg, (pe->high - mu) / sg, r);
    return to_external(pe->p, mu + sg * z);
}

typedef struct {
    double k1, k2; // Optuna's (step key, signed value): smaller is better
    int i;
} ranked;

static int cmp_ranked(const void *pa, const void *pb) {
    const ranked *a = pa, *b = pb;
    if (a->k1 != b->k1) return a->k1 < b->k1 ? -1 : 1;
    if (a->k2 != b->k2) return a->k2 < b->k2 ? -1 : 1;
    return (a->i > b->i) - (a->i < b->i);
}

static int is_running(const search_spec *sp, const search_trial *trials, int n, int i) {
    return trials[i].state == TRIAL_RUNNING || i >= n - sp->lag;
}

int tpe_split(const search_spec *sp, const search_trial *trials, int n, int *below, int *above, int *n_settled) {
    ranked *r = lr_malloc((size_t)(n > 0 ? n : 1) * sizeof *r);
    double sign = sp->maximize ? -1 : 1;
    int settled = 0;
    for (int i = 0; i < n; i++) {
        const search_trial *t = &trials[i];
        r[i].i = i;
        if (is_running(sp, trials, n, i)) {
            r[i].k1 = INFINITY, r[i].k2 = INFINITY; // the constant liar: worse than everything
            continue;
        }
        settled++;
        if (t->state == TRIAL_COMPLETE) {
            r[i].k1 = -INFINITY;
            r[i].k2 = isnan(t->value) ? INFINITY : sign * t->value;
        } else if (t->n_epochs > 0) { // pruned: ranked by how far it got, then its last value
            double v = t->curve[t->n_epochs - 1];
            r[i].k1 = -(double)t->n_epochs;
            r[i].k2 = isnan(v) ? INFINITY : sign * v;
        } else {
            r[i].k1 = 1, r[i].k2 = 0;
        }
    }
    qsort(r, (size_t)n, sizeof *r, cmp_ranked);
    int n_below = tpe_gamma(settled);
    // back to trial order within each side
    char *is_below = lr_calloc((size_t)(n > 0 ? n : 1), 1);
    for (int k = 0; k < n_below; k++) is_below[r[k].i] = 1;
    int nb = 0, na = 0;
    for (int i = 0; i < n; i++) {
        if (is_below[i]) below[nb++] = i;
        else above[na++] = i;
    }
    free(is_below);
    free(r);
    *n_settled = settled;
    return n_below;
}

// ---- the samplers ----

static double random_value(const search_param *p, rng_state *r) {
    switch (p->kind) {
    case PARAM_UNIFORM: return clamp(p->low + u01(r) * (p->high - p->low), p->low, p->high);
    case PARAM_LOGUNIFORM: {
        double lo = log(p->low), hi = log(p->high);
        return clamp(exp(lo + u01(r) * (hi - lo)), p->low, p->high);
    }
    case PARAM_INT:
        if (p->log) { // as Optuna: uniform in log over [low - 0.5, high + 0.5], rounded
            double lo = log(p->low - 0.5), hi = log(p->high + 0.5);
            return clamp(round(exp(lo + u01(r) * (hi - lo))), p->low, p->high);
        }
        return p->low + rng_below(r, (uint32_t)(p->high - p->low + 1));
    case PARAM_CATEGORICAL: return rng_below(r, (uint32_t)p->n_choices);
    }
    return 0;
}

static void random_point(const search_space *s, rng_state *r, double *x) {
    for (int i = 0; i < s->n; i++) x[i] = random_value(&s->p[i], r);
}

static int is_proposed(const search_space *s, const search_trial *trials, int n, const double *x) {
    for (int i = 0; i < n; i++)
        if (space_point_equal(s, trials[i].x, x)) return 1;
    return 0;
}

// Point number i of a finite space, the first parameter varying slowest.
static void finite_point(const search_space *s, double i, double *x) {
    for (int j = s->n - 1; j >= 0; j--) {
        const search_param *p = &s->p[j];
        double size = p->kind == PARAM_CATEGORICAL ? p->n_choices : p->high - p->low + 1;
        double digit = fmod(i, size);
        i = floor(i / size);
        x[j] = p->kind == PARAM_CATEGORICAL ? digit : p->low + digit;
    }
}

// A point not proposed yet, drawn at random: redraws, then (for a finite
// space) a uniform pick among the unused points. SEARCH_EXHAUSTED when none is left.
static int fresh_random_point(const search_spec *sp, const search_trial *trials, int n, rng_state *r, double *x,
                              lr_err *e) {
    const search_space *s = &sp->space;
    for (int k = 0; k < MAX_RANDOM_TRIES; k++) {
        random_point(s, r, x);
        if (!is_proposed(s, trials, n, x)) return 0;
    }
    double size = space_size(s);
    if (size > MAX_ENUMERATE)
        return lr_fail(e, "search: no new point found in %d random draws", MAX_RANDOM_TRIES);
    double unused = 0, y[SEARCH_MAX_PARAMS];
    for (double i = 0; i < size; i++) {
        finite_point(s, i, y);
        unused += !is_proposed(s, trials, n, y);
    }
    if (unused == 0) return SEARCH_EXHAUSTED;
    double pick = floor(u01(r) * unused);
    for (double i = 0; i < size; i++) {
        finite_point(s, i, y);
        if (!is_proposed(s, trials, n, y) && pick-- == 0) {
            memcpy(x, y, sizeof y);
            return 0;
        }
    }
    LR_ASSERT(0);
    return -1;
}

// 1 when a finite space has no point left (pigeonhole first, so it is cheap
// until it may be true).
static int exhausted(const search_space *s, const search_trial *trials, int n) {
    double size = space_size(s);
    if (!isfinite(size) || n < size) return 0;
    double distinct = 0;
    for (int i = 0; i < n; i++) distinct += !is_proposed(s, trials, i, trials[i].x);
    return distinct >= size;
}

// Per parameter: candidate values, best score first, each value once.
typedef struct {
    int m;
    double v[TPE_N_EI_CANDIDATES], score[TPE_N_EI_CANDIDATES];
} cand_list;

static void cand_add(cand_list *c, double v, double score) {
    for (int i = 0; i < c->m; i++)
        if (c->v[i] == v) {
            if (score > c->score[i]) c->score[i] = score;
            return;
        }
    c->v[c->m] = v, c->score[c->m] = score, c->m++;
}

static void cand_sort(cand_list *c) { // insertion sort, best first, stable
    for (int i = 1; i < c->m; i++) {
        double v = c->v[i], s = c->score[i];
        int j = i - 1;
        while (j >= 0 && c->score[j] < s) c->v[j + 1] = c->v[j], c->score[j + 1] = c->score[j], j--;
        c->v[j + 1] = v, c->score[j + 1] = s;
    }
}

// The best combination of the parameters' candidates (the sum of their
// scores: log l(x) - log g(x) of independent parameters adds) that is not an
// earlier trial's point, by best-first search over the candidates' ranks.
static int best_new_combination(const search_space *s, const cand_list *c, const search_trial *trials, int n,
                                double *x) {
    enum { OPEN_MAX = MAX_JOINT_TRIES * SEARCH_MAX_PARAMS + 1 };
    typedef struct { unsigned char rank[SEARCH_MAX_PARAMS]; double score; int closed; } node;
    node *nodes = lr_malloc(OPEN_MAX * sizeof *nodes);
    int n_nodes = 1, found = 0;
    memset(&nodes[0], 0, sizeof nodes[0]);
    for (int j = 0; j < s->n; j++) nodes[0].score += c[j].score[0];
    for (int step = 0; step < MAX_JOINT_TRIES && !found; step++) {
        int best = -1;
        for (int i = 0; i < n_nodes; i++)
            if (!nodes[i].closed && (best < 0 || nodes[i].score > nodes[best].score)) best = i;
        if (best < 0) break;
        node cur = nodes[best];
        nodes[best].closed = 1;
        for (int j = 0; j < s->n; j++) x[j] = c[j].v[cur.rank[j]];
        if (!is_proposed(s, trials, n, x)) {
            found = 1;
            break;
        }
        for (int j = 0; j < s->n && n_nodes < OPEN_MAX; j++) {
            if (cur.rank[j] + 1 >= c[j].m) continue;
            node next = cur;
            next.closed = 0;
            next.rank[j]++;
            next.score += c[j].score[next.rank[j]] - c[j].score[cur.rank[j]];
            int seen = 0;
            for (int i = 0; i < n_nodes && !seen; i++) seen = !memcmp(nodes[i].rank, next.rank, sizeof next.rank);
            if (!seen) nodes[n_nodes++] = next;
        }
    }
    free(nodes);
    return found;
}

static int tpe_suggest(const search_spec *sp, const search_trial *trials, int n, double *x, lr_err *e) {
    const search_space *s = &sp->space;
    int *below = lr_malloc((size_t)(n + 1) * sizeof *below), *above = lr_malloc((size_t)(n + 1) * sizeof *above);
    int settled, n_below = tpe_split(sp, trials, n, below, above, &settled), n_above = n - n_below, rc = 0;
    if (settled < TPE_N_STARTUP) { // random, the same draws as the random sampler
        free(below);
        free(above);
        rng_state r;
        rng_seed(&r, sp->seed, RNG_SEARCH_RANDOM, (uint64_t)n);
        return fresh_random_point(sp, trials, n, &r, x, e);
    }
    rng_state r;
    rng_seed(&r, sp->seed, RNG_SEARCH_TPE, (uint64_t)n);
    cand_list *c = lr_calloc((size_t)s->n, sizeof *c);
    double *obs = lr_malloc((size_t)(n + 1) * sizeof *obs);
    for (int j = 0; j < s->n; j++) {
        const search_param *p = &s->p[j];
        tpe_parzen pb, pa;
        for (int k = 0; k < n_below; k++) obs[k] = tpe_to_internal(p, trials[below[k]].x[j]);
        tpe_parzen_build(&pb, p, obs, n_below);
        for (int k = 0; k < n_above; k++) obs[k] = tpe_to_internal(p, trials[above[k]].x[j]);
        tpe_parzen_build(&pa, p, obs, n_above);
        for (int k = 0; k < TPE_N_EI_CANDIDATES; k++) {
            double v = parzen_sample(&pb, &r), iv = tpe_to_internal(p, v);
            cand_add(&c[j], v, tpe_parzen_log_pdf(&pb, iv) - tpe_parzen_log_pdf(&pa, iv));
        }
        cand_sort(&c[j]);
        tpe_parzen_free(&pb);
        tpe_parzen_free(&pa);
    }
    if (!best_new_combination(s, c, trials, n, x)) rc = fresh_random_point(sp, trials, n, &r, x, e);
    free(obs);
    free(c);
    free(below);
    free(above);
    return rc;
}

// ---- grid ----

// The values of parameter p on the grid: every choice or whole number when
// there are at most grid_points of them, else grid_points evenly spaced
// (in log scale for log kinds; whole numbers rounded, repeats dropped).
static int grid_axis(const search_param *p, int grid_points, double *out) {
    if (p->kind == PARAM_CATEGORICAL) {
        for (int i = 0; i < p->n_choices; i++) out[i] = i;
        return p->n_choices;
    }
    if (p->kind == PARAM_INT && p->high - p->low + 1 <= grid_points) {
        int m = (int)(p->high - p->low + 1);
        for (int i = 0; i < m; i++) out[i] = p->low + i;
        return m;
    }
    int m = 0;
    for (int i = 0; i < grid_points; i++) {
        double t = (double)i / (grid_points - 1), v;
        if (p->log) v = exp(log(p->low) + t * (log(p->high) - log(p->low)));
        else v = p->low + t * (p->high - p->low);
        if (i == 0) v = p->low;
        if (i == grid_points - 1) v = p->high;
        if (p->kind == PARAM_INT) v = round(v);
        v = clamp(v, p->low, p->high);
        if (m == 0 || out[m - 1] != v) out[m++] = v;
    }
    return m;
}

long search_grid_size(const search_spec *sp) {
    double size = 1;
    double *vals = lr_malloc((size_t)(sp->grid_points > SEARCH_MAX_CHOICES ? sp->grid_points : SEARCH_MAX_CHOICES) *
                             sizeof *vals);
    for (int j = 0; j < sp->space.n; j++) size *= grid_axis(&sp->space.p[j], sp->grid_points, vals);
    free(vals);
    return size > 1e15 ? 0 : (long)size;
}

void search_grid_point(const search_spec *sp, long i, double *x) {
    double *vals = lr_malloc((size_t)(sp->grid_points > SEARCH_MAX_CHOICES ? sp->grid_points : SEARCH_MAX_CHOICES) *
                             sizeof *vals);
    for (int j = sp->space.n - 1; j >= 0; j--) {
        int m = grid_axis(&sp->space.p[j], sp->grid_points, vals);
        x[j] = vals[i % m];
        i /= m;
    }
    free(vals);
}

int search_can_suggest(const search_spec *sp, const search_trial *trials, int n) {
    for (int i = 0; i < n - sp->lag; i++)
        if (trials[i].state == TRIAL_RUNNING) return 0;
    return 1;
}

int search_suggest(const search_spec *sp, const search_trial *trials, int n, double *x, lr_err *e) {
    LR_ASSERT(sp->space.n > 0 && n >= 0 && sp->lag >= 0);
    if (sp->method == SEARCH_GRID) {
        if (n >= search_grid_size(sp)) return SEARCH_EXHAUSTED;
        search_grid_point(sp, n, x);
        return 0;
    }
    if (exhausted(&sp->space, trials, n)) return SEARCH_EXHAUSTED;
    if (sp->method == SEARCH_TPE) return tpe_suggest(sp, trials, n, x, e);
    rng_state r;
    rng_seed(&r, sp->seed, RNG_SEARCH_RANDOM, (uint64_t)n);
    return fresh_random_point(sp, trials, n, &r, x, e);
}
