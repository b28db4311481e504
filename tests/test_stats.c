// test_stats.c: src/stats against the numbers SciPy computed once
// (tools/stats_reference.py -> tests/data/stats_reference.txt): summaries with
// Student-t intervals (n = 1, n = 2, zero variance, NaNs), paired and Welch
// t-tests, Holm's adjustment and the seeds-needed estimate; plus the
// published textbook Holm example and the edge conventions.
#include "test_util.h"

#include "../src/stats/stats.h"

#define REF_PATH "tests/data/stats_reference.txt"
enum { MAX_TOKENS = 128 };

// One reference line split into its kind, name and numbers.
typedef struct {
    char kind[16], name[64];
    int n_num;
    double num[MAX_TOKENS];
} ref_line;

// Reads every line of the given kind; returns the count (lines are (cap,)).
static int ref_read(const char *kind, ref_line *out, int cap) {
    FILE *f = fopen(REF_PATH, "r");
    if (!f) fail_msg("%s: cannot open (run the tests from the checkout's top folder)", REF_PATH);
    char buf[8192];
    int n = 0;
    while (fgets(buf, sizeof buf, f)) {
        if (buf[0] == '#' || buf[0] == '\n') continue;
        ref_line r = {0};
        char *save = NULL, *tok = strtok_r(buf, " \n", &save);
        if (!tok || strcmp(tok, kind) != 0) continue;
        snprintf(r.kind, sizeof r.kind, "%s", tok);
        tok = strtok_r(NULL, " \n", &save);
        if (!tok) fail_msg("%s: a %s line without a name", REF_PATH, kind);
        snprintf(r.name, sizeof r.name, "%s", tok);
        while ((tok = strtok_r(NULL, " \n", &save)) != NULL) {
            if (r.n_num == MAX_TOKENS) fail_msg("%s: line %s too long", REF_PATH, r.name);
            char *end;
            r.num[r.n_num++] = strtod(tok, &end);
            if (*end) fail_msg("%s: %s: bad number '%s'", REF_PATH, r.name, tok);
        }
        if (n == cap) fail_msg("too many %s lines", kind);
        out[n++] = r;
    }
    fclose(f);
    return n;
}

// got == want to 1e-9 relative (1e-15 absolute near zero); NaN matches NaN,
// infinities match by sign.
static void check(double got, double want, const char *kind, const char *name, const char *what) {
    if (isnan(want)) {
        if (!isnan(got)) fail_msg("%s %s: %s = %.17g, expected nan", kind, name, what, got);
        return;
    }
    if (isinf(want)) {
        if (got != want) fail_msg("%s %s: %s = %.17g, expected %g", kind, name, what, got, want);
        return;
    }
    if (!(fabs(got - want) <= 1e-15 + 1e-9 * fabs(want)))
        fail_msg("%s %s: %s = %.17g, expected %.17g", kind, name, what, got, want);
}

static void test_summary_reference(void **state) {
    (void)state;
    static ref_line lines[32];
    int n_lines = ref_read("summary", lines, 32);
    assert_true(n_lines >= 7);
    int seen_n1 = 0, seen_n2 = 0, seen_zero = 0, seen_nan = 0;
    for (int k = 0; k < n_lines; k++) {
        const ref_line *r = &lines[k];
        int n = (int)r->num[0];
        assert_int_equal(r->n_num, 1 + n + 5);
        const double *x = &r->num[1], *want = &r->num[1 + n];
        stats_summary s = stats_summarize(x, n);
        if (s.n != (int)want[0]) fail_msg("summary %s: n = %d, expected %d", r->name, s.n, (int)want[0]);
        check(s.mean, want[1], "summary", r->name, "mean");
        check(s.sd, want[2], "summary", r->name, "sd");
        check(s.ci_lo, want[3], "summary", r->name, "ci_lo");
        check(s.ci_hi, want[4], "summary", r->name, "ci_hi");
        seen_n1 |= s.n == 1;
        seen_n2 |= s.n == 2;
        seen_zero |= s.n > 1 && s.sd == 0;
        seen_nan |= s.n < n;
    }
    assert_true(seen_n1 && seen_n2 && seen_zero && seen_nan);
}

static void test_paired_reference(void **state) {
    (void)state;
    static ref_line lines[32];
    int n_lines = ref_read("paired", lines, 32);
    assert_true(n_lines >= 7);
    for (int k = 0; k < n_lines; k++) {
        const ref_line *r = &lines[k];
        int n = (int)r->num[0];
        assert_int_equal(r->n_num, 1 + 2 * n + 7);
        const double *a = &r->num[1], *b = &r->num[1 + n], *want = &r->num[1 + 2 * n];
        stats_test t = stats_paired_t(a, b, n);
        if (t.n != (int)want[0]) fail_msg("paired %s: n = %d, expected %d", r->name, t.n, (int)want[0]);
        check(t.diff, want[1], "paired", r->name, "diff");
        check(t.ci_lo, want[2], "paired", r->name, "ci_lo");
        check(t.ci_hi, want[3], "paired", r->name, "ci_hi");
        check(t.t, want[4], "paired", r->name, "t");
        check(t.df, want[5], "paired", r->name, "df");
        check(t.p, want[6], "paired", r->name, "p");
    }
}

static void test_welch_reference(void **state) {
    (void)state;
    static ref_line lines[32];
    int n_lines = ref_read("welch", lines, 32);
    assert_true(n_lines >= 6);
    for (int k = 0; k < n_lines; k++) {
        const ref_line *r = &lines[k];
        int na = (int)r->num[0];
        int nb = (int)r->num[1 + na];
        assert_int_equal(r->n_num, 2 + na + nb + 6);
        const double *a = &r->num[1], *b = &r->num[2 + na], *want = &r->num[2 + na + nb];
        stats_test t = stats_welch_t(a, na, b, nb);
        check(t.diff, want[0], "welch", r->name, "diff");
        check(t.ci_lo, want[1], "welch", r->name, "ci_lo");
        check(t.ci_hi, want[2], "welch", r->name, "ci_hi");
        check(t.t, want[3], "welch", r->name, "t");
        check(t.df, want[4], "welch", r->name, "df");
        check(t.p, want[5], "welch", r->name, "p");
    }
}

static void test_holm_reference(void **state) {
    (void)state;
    static ref_line lines[32];
    int n_lines = ref_read("holm", lines, 32);
    assert_true(n_lines >= 5);
    for (int k = 0; k < n_lines; k++) {
        const ref_line *r = &lines[k];
        int m = (int)r->num[0];
        assert_int_equal(r->n_num, 1 + 2 * m);
        double adj[MAX_TOKENS];
        stats_holm(adj, &r->num[1], m);
        for (int i = 0; i < m; i++) check(adj[i], r->num[1 + m + i], "holm", r->name, "adjusted p");
        // In place (adj aliasing p) gives the same.
        double p[MAX_TOKENS];
        memcpy(p, &r->num[1], (size_t)m * sizeof *p);
        stats_holm(p, p, m);
        for (int i = 0; i < m; i++) check(p[i], r->num[1 + m + i], "holm", r->name, "adjusted p in place");
    }
}

// The example of Wikipedia's "Holm-Bonferroni method" article: four
// hypotheses, p = 0.01, 0.04, 0.03, 0.005 at alpha 0.05; H1 and H4 are
// rejected, H2 and H3 are not. Adjusted: 0.03, 0.06, 0.06, 0.02.
static void test_holm_textbook(void **state) {
    (void)state;
    const double p[4] = {0.01, 0.04, 0.03, 0.005};
    const double want[4] = {0.03, 0.06, 0.06, 0.02};
    double adj[4];
    stats_holm(adj, p, 4);
    for (int i = 0; i < 4; i++) assert_float_equal(adj[i], want[i], 1e-15);
    int rejected[4];
    for (int i = 0; i < 4; i++) rejected[i] = adj[i] <= 0.05;
    assert_true(rejected[0] && !rejected[1] && !rejected[2] && rejected[3]);
    // Monotone: a larger p never gets a smaller adjusted p; capped at 1.
    const double q[5] = {0.9, 0.001, 0.5, 0.02, 0.019};
    double aq[5];
    stats_holm(aq, q, 5);
    for (int i = 0; i < 5; i++) {
        assert_true(aq[i] >= q[i] && aq[i] <= 1.0);
        for (int j = 0; j < 5; j++)
            if (q[i] < q[j]) assert_true(aq[i] <= aq[j]);
    }
    assert_float_equal(aq[0], 1.0, 0);
}

static void test_seeds_needed_reference(void **state) {
    (void)state;
    static ref_line lines[16];
    int n_lines = ref_read("seeds", lines, 16);
    assert_true(n_lines >= 4);
    for (int k = 0; k < n_lines; k++) {
        const ref_line *r = &lines[k];
        assert_int_equal(r->n_num, 4);
        int got = stats_seeds_needed(r->num[0], r->num[1]);
        if (got != (int)r->num[2])
            fail_msg("seeds %s: %d, the formula gives %d", r->name, got, (int)r->num[2]);
        // The approximation is within one seed of the exact noncentral-t answer.
        assert_true(abs(got - (int)r->num[3]) <= 1);
    }
}

static void test_seeds_needed_edges(void **state) {
    (void)state;
    assert_int_equal(stats_seeds_needed(0.0, 0.01), -1);
    assert_int_equal(stats_seeds_needed(NAN, 0.01), -1);
    assert_int_equal(stats_seeds_needed(0.01, NAN), -1);
    assert_int_equal(stats_seeds_needed(0.01, 0.0), 2);
    assert_int_equal(stats_seeds_needed(1e-12, 1.0), STATS_SEEDS_MAX);
    // Halving the effect roughly quadruples the seeds.
    int a = stats_seeds_needed(0.01, 0.01), b = stats_seeds_needed(0.005, 0.01);
    assert_true(b >= 3 * a && b <= 5 * a);
    assert_int_equal(stats_seeds_needed(-0.01, 0.01), a);
}

static void test_edge_conventions(void **state) {
    (void)state;
    // n = 0, n = 1: NAN where undefined, no crash.
    stats_summary s = stats_summarize(NULL, 0);
    assert_int_equal(s.n, 0);
    assert_true(isnan(s.mean) && isnan(s.sd) && isnan(s.ci_lo));
    const double one[3] = {NAN, 0.7, INFINITY};
    s = stats_summarize(one, 3);
    assert_int_equal(s.n, 1);
    assert_float_equal(s.mean, 0.7, 0);
    assert_true(isnan(s.sd) && isnan(s.ci_lo) && isnan(s.ci_hi));
    assert_true(isnan(stats_ci_half(1, 0.1)));
    // stats_ci_half agrees with the summary's interval.
    const double x[4] = {1, 2, 4, 8};
    s = stats_summarize(x, 4);
    assert_float_equal(s.ci_hi - s.mean, stats_ci_half(4, s.sd), 1e-12);
    // Welch with no values on one side.
    stats_test t = stats_welch_t(x, 4, NULL, 0);
    assert_true(isnan(t.diff) && isnan(t.p));
    assert_int_equal(t.n_a, 4);
    assert_int_equal(t.n_b, 0);
    t = stats_paired_t(NULL, NULL, 0);
    assert_int_equal(t.n, 0);
    assert_true(isnan(t.p));
    stats_holm(NULL, NULL, 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_summary_reference),
        cmocka_unit_test(test_paired_reference),
        cmocka_unit_test(test_welch_reference),
        cmocka_unit_test(test_holm_reference),
        cmocka_unit_test(test_holm_textbook),
        cmocka_unit_test(test_seeds_needed_reference),
        cmocka_unit_test(test_seeds_needed_edges),
        cmocka_unit_test(test_edge_conventions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
