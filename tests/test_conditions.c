// test_conditions.c: src/report/conditions.c and plot_conditions.c on
// hand-built conditions with known numbers: conditions.csv and curves.csv
// parsed back, the comparisons (paired on seed-matched runs vs Welch, Holm),
// every kind of report sentence, and the figures' files.
#include "test_util.h"

#include <sys/stat.h>

#include "../src/report/conditions.h"
#include "../src/util/fsutil.h"

// t_{0.975, 1} and t_{0.975, 2} in closed form (not through GSL):
// df 1: tan(pi (p - 1/2)); df 2: (2p - 1) / sqrt(2 p (1 - p)).
static double t1(void) { return tan(M_PI * 0.475); }
static double t2(void) { return 0.95 / sqrt(2 * 0.975 * 0.025); }

// ---- building conditions ----

enum { MAX_CONDS = 24 };
typedef struct {
    report_condition c[MAX_CONDS];
    int n;
} cond_set;

// A condition of n_runs seeds with final test accuracies acc (n_runs,); the
// other metrics follow from it: F1 = acc - 0.01, best = acc + 0.005, loss =
// 2 - acc, seconds = 10 + run index. Curves: 0.1 (k + 1) + 0.01 epoch + 0.002 run.
static report_condition *cond_add(cond_set *s, const char *name, int n_runs, const uint64_t *seeds,
                                  const double *acc, int n_epochs) {
    LR_ASSERT(s->n < MAX_CONDS);
    report_condition *c = &s->c[s->n++];
    memset(c, 0, sizeof *c);
    snprintf(c->name, sizeof c->name, "%s", name);
    c->n_runs = n_runs;
    c->n_epochs = n_epochs;
    size_t nr = (size_t)(n_runs > 0 ? n_runs : 1);
    c->seeds = lr_calloc(nr, sizeof *c->seeds);
    c->final_test_acc = lr_calloc(nr, sizeof(double));
    c->final_test_f1 = lr_calloc(nr, sizeof(double));
    c->best_test_acc = lr_calloc(nr, sizeof(double));
    c->final_test_loss = lr_calloc(nr, sizeof(double));
    c->seconds = lr_calloc(nr, sizeof(double));
    c->curves = lr_calloc(nr * REPORT_N_CURVES * (size_t)(n_epochs > 0 ? n_epochs : 1), sizeof(double));
    for (int r = 0; r < n_runs; r++) {
        c->seeds[r] = seeds ? seeds[r] : (uint64_t)(r + 1);
        c->final_test_acc[r] = acc[r];
        c->final_test_f1[r] = acc[r] - 0.01;
        c->best_test_acc[r] = acc[r] + 0.005;
        c->final_test_loss[r] = 2 - acc[r];
        c->seconds[r] = 10 + r;
        for (int k = 0; k < REPORT_N_CURVES; k++)
            for (int ep = 0; ep < n_epochs; ep++)
                c->curves[((size_t)r * REPORT_N_CURVES + k) * n_epochs + ep] =
                    isfinite(acc[r]) ? 0.1 * (k + 1) + 0.01 * (ep + 1) + 0.002 * r : NAN;
    }
    return c;
}

static void cond_axis(report_condition *c, const char *key, double num, const char *text) {
    int a = c->n_axes++;
    snprintf(c->axis_key[a], sizeof c->axis_key[a], "%s", key);
    c->axis_num[a] = num;
    snprintf(c->axis_text[a], sizeof c->axis_text[a], "%s", text);
}

static void cond_set_free(cond_set *s) {
    for (int i = 0; i < s->n; i++) {
        report_condition *c = &s->c[i];
        free(c->seeds); free(c->final_test_acc); free(c->final_test_f1); free(c->best_test_acc);
        free(c->final_test_loss); free(c->seconds); free(c->curves);
    }
    s->n = 0;
}

// ---- reading CSV back (RFC 4180 quoting) ----

enum { MAX_ROWS = 256, MAX_FIELDS = 64 };
typedef struct {
    int n_rows;
    int n_fields[MAX_ROWS];
    char field[MAX_ROWS][MAX_FIELDS][128];
} csv_table;

static void csv_read(const char *path, csv_table *t) {
    FILE *f = fopen(path, "r");
    if (!f) fail_msg("%s: cannot open", path);
    memset(t, 0, sizeof *t);
    int ch, row = 0, fld = 0, len = 0, quoted = 0, any = 0;
    while ((ch = fgetc(f)) != EOF) {
        any = 1;
        if (quoted) {
            if (ch == '"') {
                int next = fgetc(f);
                if (next == '"') { t->field[row][fld][len++] = '"'; continue; }
                quoted = 0;
                if (next == EOF) break;
                ch = next;
            } else {
                t->field[row][fld][len++] = (char)ch;
                continue;
            }
        }
        if (ch == '"' && len == 0) { quoted = 1; continue; }
        if (ch == ',') { t->field[row][fld][len] = '\0'; fld++; len = 0; continue; }
        if (ch == '\n') {
            t->field[row][fld][len] = '\0';
            t->n_fields[row] = fld + 1;
            row++; fld = 0; len = 0; any = 0;
            if (row == MAX_ROWS) fail_msg("%s: too many rows", path);
            continue;
        }
        if (len >= 127 || fld >= MAX_FIELDS) fail_msg("%s: row %d too wide", path, row);
        t->field[row][fld][len++] = (char)ch;
    }
    fclose(f);
    if (any) fail_msg("%s: last line not terminated", path);
    t->n_rows = row;
}

static int csv_col(const csv_table *t, const char *name) {
    for (int j = 0; j < t->n_fields[0]; j++)
        if (strcmp(t->field[0][j], name) == 0) return j;
    fail_msg("no column %s", name);
    return -1;
}

static int csv_row(const csv_table *t, const char *condition) {
    for (int i = 1; i < t->n_rows; i++)
        if (strcmp(t->field[i][0], condition) == 0) return i;
    fail_msg("no row for %s", condition);
    return -1;
}

// The cell as a number; NAN when empty.
static double cell(const csv_table *t, int row, const char *col) {
    const char *s = t->field[row][csv_col(t, col)];
    if (!s[0]) return NAN;
    char *end;
    double v = strtod(s, &end);
    if (*end) fail_msg("cell %s of row %d is not a number: '%s'", col, row, s);
    return v;
}

static void assert_cell(const csv_table *t, int row, const char *col, double want) {
    double got = cell(t, row, col);
    if (isnan(want)) {
        if (!isnan(got)) fail_msg("row %d %s: %.12g, expected empty", row, col, got);
        return;
    }
    if (!(fabs(got - want) <= 1e-9 * fmax(1, fabs(want))))
        fail_msg("row %d %s: %.12g, expected %.12g", row, col, got, want);
}

// ---- conditions.csv and curves.csv ----

static void test_conditions_csv(void **state) {
    (void)state;
    cond_set s = {0};
    const double a3[3] = {0.50, 0.52, 0.54}, a1[1] = {0.6}, dead[2] = {NAN, NAN};
    report_condition *c = cond_add(&s, "lr=0.01,momentum=0.9", 3, NULL, a3, 2);
    cond_axis(c, "lr", 0.01, "0.01");
    cond_axis(c, "momentum", 0.9, "0.9");
    c = cond_add(&s, "lr=0.1,schedule=\"constant\"", 1, NULL, a1, 2);
    cond_axis(c, "lr", 0.1, "0.1");
    cond_axis(c, "schedule", NAN, "constant");
    c = cond_add(&s, "lr=1,momentum=0.9", 2, NULL, dead, 2);
    cond_axis(c, "lr", 1, "1");
    cond_axis(c, "momentum", 0.9, "0.9");

    char dir[256], path[512];
    test_mkdtemp(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/conditions.csv", dir);
    lr_err e = {0};
    assert_int_equal(conditions_write_csv(path, s.c, s.n, &e), 0);
    static csv_table t;
    csv_read(path, &t);
    assert_int_equal(t.n_rows, 4);
    // Header: condition, the axis keys in order of first appearance, then the stats.
    assert_int_equal(t.n_fields[0], 1 + 3 + COND_N_METRICS * COND_N_STATS);
    assert_string_equal(t.field[0][0], "condition");
    assert_string_equal(t.field[0][1], "lr");
    assert_string_equal(t.field[0][2], "momentum");
    assert_string_equal(t.field[0][3], "schedule");
    assert_string_equal(t.field[0][4], "final_test_acc_n");
    assert_string_equal(t.field[0][t.n_fields[0] - 1], "seconds_ci_hi");
    for (int i = 1; i < t.n_rows; i++) assert_int_equal(t.n_fields[i], t.n_fields[0]);

    // Three seeds: mean 0.52, sd 0.02, half-width t2 * 0.02 / sqrt(3).
    int r = csv_row(&t, "lr=0.01,momentum=0.9");
    double h = t2() * 0.02 / sqrt(3);
    assert_string_equal(t.field[r][csv_col(&t, "lr")], "0.01");
    assert_string_equal(t.field[r][csv_col(&t, "schedule")], "");
    assert_cell(&t, r, "final_test_acc_n", 3);
    assert_cell(&t, r, "final_test_acc_mean", 0.52);
    assert_cell(&t, r, "final_test_acc_sd", 0.02);
    assert_cell(&t, r, "final_test_acc_ci_lo", 0.52 - h);
    assert_cell(&t, r, "final_test_acc_ci_hi", 0.52 + h);
    assert_cell(&t, r, "final_test_f1_mean", 0.51);
    assert_cell(&t, r, "best_test_acc_mean", 0.525);
    assert_cell(&t, r, "final_test_loss_mean", 1.48);
    assert_cell(&t, r, "final_test_loss_ci_hi", 1.48 + h);
    assert_cell(&t, r, "seconds_mean", 11);
    assert_cell(&t, r, "seconds_sd", 1);
    assert_cell(&t, r, "seconds_ci_lo", 11 - t2() / sqrt(3));
    // One seed: mean, no sd or interval; a quoted name with quotes inside.
    r = csv_row(&t, "lr=0.1,schedule=\"constant\"");
    assert_string_equal(t.field[r][csv_col(&t, "schedule")], "constant");
    assert_string_equal(t.field[r][csv_col(&t, "momentum")], "");
    assert_cell(&t, r, "final_test_acc_n", 1);
    assert_cell(&t, r, "final_test_acc_mean", 0.6);
    assert_cell(&t, r, "final_test_acc_sd", NAN);
    assert_cell(&t, r, "final_test_acc_ci_lo", NAN);
    // All diverged: n 0 and nothing else, but its seconds are there.
    r = csv_row(&t, "lr=1,momentum=0.9");
    assert_cell(&t, r, "final_test_acc_n", 0);
    assert_cell(&t, r, "final_test_acc_mean", NAN);
    assert_cell(&t, r, "seconds_n", 2);
    assert_cell(&t, r, "seconds_mean", 10.5);
    // Written atomically: no temporary left beside it.
    snprintf(path, sizeof path, "ls -a '%s' | grep -q tmp", dir);
    assert_int_not_equal(system(path), 0);
    test_rmtree(dir);
    cond_set_free(&s);
}

static void test_curves_csv(void **state) {
    (void)state;
    cond_set s = {0};
    const double a2[2] = {0.5, 0.6}, a1[1] = {0.4};
    report_condition *c = cond_add(&s, "lr=0.01,momentum=0", 2, NULL, a2, 3);
    for (int r = 0; r < 2; r++) // epoch 2 was not evaluated
        for (int k = CURVE_TEST_LOSS; k <= CURVE_TEST_F1; k++)
            c->curves[((size_t)r * REPORT_N_CURVES + k) * 3 + 1] = NAN;
    cond_add(&s, "single", 1, NULL, a1, 2);
    char dir[256], path[512];
    test_mkdtemp(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/curves.csv", dir);
    lr_err e = {0};
    assert_int_equal(conditions_write_curves_csv(path, s.c, s.n, &e), 0);
    static csv_table t;
    csv_read(path, &t);
    const char *cols[7] = {"condition", "epoch", "metric", "n", "mean", "ci_lo", "ci_hi"};
    assert_int_equal(t.n_fields[0], 7);
    for (int j = 0; j < 7; j++) assert_string_equal(t.field[0][j], cols[j]);
    // 3 epochs x 6 curves minus the 3 test curves of epoch 2, then 2 x 6.
    assert_int_equal(t.n_rows, 1 + (18 - 3) + 12);
    int found = 0, found_single = 0;
    for (int i = 1; i < t.n_rows; i++) {
        assert_int_equal(t.n_fields[i], 7);
        if (strcmp(t.field[i][0], "lr=0.01,momentum=0") == 0) {
            int ep = atoi(t.field[i][1]);
            assert_true(ep >= 1 && ep <= 3);
            if (ep == 2) assert_true(strncmp(t.field[i][2], "test_", 5) != 0);
            if (ep == 3 && strcmp(t.field[i][2], "test_acc") == 0) {
                // Runs 0.5 + 0.03 and + 0.002: mean 0.531, sd 0.002 / sqrt(2).
                found = 1;
                assert_cell(&t, i, "n", 2);
                assert_cell(&t, i, "mean", 0.531);
                assert_cell(&t, i, "ci_lo", 0.531 - t1() * 0.001);
                assert_cell(&t, i, "ci_hi", 0.531 + t1() * 0.001);
            }
            if (ep == 1 && strcmp(t.field[i][2], "train_loss") == 0) assert_cell(&t, i, "mean", 0.111);
        } else {
            assert_string_equal(t.field[i][0], "single");
            if (atoi(t.field[i][1]) == 2 && strcmp(t.field[i][2], "test_f1") == 0) {
                found_single = 1;
                assert_cell(&t, i, "n", 1);
                assert_cell(&t, i, "mean", 0.62);
                assert_cell(&t, i, "ci_lo", NAN);
            }
        }
    }
    assert_true(found && found_single);
    test_rmtree(dir);
    cond_set_free(&s);
}

// ---- comparisons and sentences ----

// A: seeds 1..5. B: the same seeds listed in reverse, each 0.05 +- 0.002
// below A's run of the same seed. C: seeds 11..13 (no match: Welch).
// D: every run diverged.
static const double A_ACC[5] = {0.60, 0.62, 0.61, 0.63, 0.64};
static const double B_GAP[5] = {0.050, 0.052, 0.049, 0.050, 0.051}; // by seed 1..5

static void build_abcd(cond_set *s) {
    const uint64_t seeds_a[5] = {1, 2, 3, 4, 5}, seeds_b[5] = {5, 4, 3, 2, 1};
    double b[5];
    for (int r = 0; r < 5; r++) b[r] = A_ACC[4 - r] - B_GAP[4 - r];
    cond_add(s, "A", 5, seeds_a, A_ACC, 3);
    cond_add(s, "B", 5, seeds_b, b, 3);
    const uint64_t seeds_c[3] = {11, 12, 13};
    const double c[3] = {0.55, 0.58, 0.57};
    cond_add(s, "C", 3, seeds_c, c, 3);
    const double dead[2] = {NAN, NAN};
    cond_add(s, "D", 2, NULL, dead, 3);
}

static void test_compare_paired_welch_holm(void **state) {
    (void)state;
    cond_set s = {0};
    build_abcd(&s);
    conditions_cmp cmp;
    conditions_compare(s.c, s.n, &cmp);
    assert_int_equal(cmp.best, 0);
    assert_int_equal(cmp.n_ranked, 3);
    assert_int_equal(cmp.n_cmp, 2);
    const conditions_comparison *kb = &cmp.cmp[0], *kc = &cmp.cmp[1];
    assert_int_equal(kb->other, 1);
    assert_int_equal(kc->other, 2);
    // B shares every seed with A: paired on seeds, not on list position.
    assert_int_equal(kb->paired, 1);
    assert_int_equal(kb->test.n, 5);
    assert_float_equal(kb->test.diff, 0.0504, 1e-12);
    double b_by_seed[5];
    for (int r = 0; r < 5; r++) b_by_seed[r] = A_ACC[r] - B_GAP[r];
    stats_test want_b = stats_paired_t(A_ACC, b_by_seed, 5);
    assert_float_equal(kb->test.p, want_b.p, 1e-15);
    assert_true(kb->test.p < 1e-6); // the gap is 25 sd of the differences
    stats_summary gap = stats_summarize(B_GAP, 5);
    assert_float_equal(kb->sd_diff, gap.sd, 1e-12);
    // C shares none: Welch on all values.
    assert_int_equal(kc->paired, 0);
    assert_int_equal(kc->test.n_a, 5);
    assert_int_equal(kc->test.n_b, 3);
    const double c_acc[3] = {0.55, 0.58, 0.57};
    stats_test want_c = stats_welch_t(A_ACC, 5, c_acc, 3);
    assert_float_equal(kc->test.diff, 0.62 - 1.70 / 3, 1e-12);
    assert_float_equal(kc->test.p, want_c.p, 1e-15);
    assert_true(kc->test.df < 6.0); // Welch-Satterthwaite, not the pooled 6
    // Holm over the two: the smaller p doubled, the larger kept (not below it).
    assert_true(want_b.p < want_c.p);
    assert_float_equal(kb->p_holm, 2 * want_b.p, 1e-15);
    assert_float_equal(kc->p_holm, fmax(want_c.p, 2 * want_b.p), 1e-15);
    conditions_cmp_free(&cmp);
    cond_set_free(&s);
}

// Every sentence joined with newlines, for searching.
static char *sentences_of(const cond_set *s, int *n_lines) {
    conditions_cmp cmp;
    conditions_compare(s->c, s->n, &cmp);
    char **lines;
    int n = conditions_sentences(s->c, s->n, &cmp, &lines);
    size_t len = 1;
    for (int i = 0; i < n; i++) len += strlen(lines[i]) + 1;
    char *all = lr_calloc(len, 1);
    for (int i = 0; i < n; i++) {
        strcat(all, lines[i]);
        strcat(all, "\n");
        assert_null(strstr(lines[i], "nan"));
        assert_null(strstr(lines[i], "inf"));
    }
    conditions_lines_free(lines, n);
    conditions_cmp_free(&cmp);
    *n_lines = n;
    return all;
}

static void assert_has(const char *text, const char *part) {
    if (!strstr(text, part)) fail_msg("missing \"%s\" in:\n%s", part, text);
}

static void test_sentences_significant(void **state) {
    (void)state;
    cond_set s = {0};
    build_abcd(&s);
    int n;
    char *text = sentences_of(&s, &n);
    assert_int_equal(n, 3); // D left out, A vs B, A vs C
    assert_has(text, "D has no final test accuracy (all 2 of its runs diverged");
    assert_has(text, "A beats B by 5.04 points of final test accuracy (95% CI ");
    assert_has(text, "Holm-adjusted over 2 comparisons, paired t-test, n = 5 seeds)");
    // The interval printed is the paired test's, in points.
    double b_by_seed[5];
    for (int r = 0; r < 5; r++) b_by_seed[r] = A_ACC[r] - B_GAP[r];
    stats_test t = stats_paired_t(A_ACC, b_by_seed, 5);
    char ci[64];
    snprintf(ci, sizeof ci, "(95%% CI %.2f to %.2f,", 100 * t.ci_lo, 100 * t.ci_hi);
    assert_has(text, ci);
    assert_has(text, "A beats C by 5.33 points");
    assert_has(text, "Welch's t-test, n = 5 and 3 seeds");
    assert_null(strstr(text, "D beats"));
    assert_null(strstr(text, "beats D"));
    free(text);
    cond_set_free(&s);
}

static void test_sentences_not_detectable(void **state) {
    (void)state;
    cond_set s = {0};
    const double d[5] = {0.010, -0.008, 0.004, 0.012, -0.006};
    double e[5];
    for (int r = 0; r < 5; r++) e[r] = A_ACC[r] - d[r];
    cond_add(&s, "A", 5, NULL, A_ACC, 3);
    cond_add(&s, "E", 5, NULL, e, 3);
    int n;
    char *text = sentences_of(&s, &n);
    assert_int_equal(n, 1);
    assert_has(text, "No difference detectable between A and E with 5 seeds (0.24 points, 95% CI ");
    assert_null(strstr(text, "beats"));
    // The seeds a difference of this size needs, from the differences' sd
    // (computed here by hand): the normal approximation puts it near 108.
    double mean = 0.0024, ss = 0;
    for (int r = 0; r < 5; r++) ss += (d[r] - mean) * (d[r] - mean);
    int need = stats_seeds_needed(mean, sqrt(ss / 4));
    assert_true(need > 90 && need < 140);
    char want[96];
    snprintf(want, sizeof want, "about %d seeds would detect a difference of this size", need);
    assert_has(text, want);
    free(text);
    cond_set_free(&s);

    // Three others each 1 point below A (t = 3.8, p = 0.019 alone): 5 seeds are
    // enough for that size, but Holm over 3 comparisons (3 x 0.019) is not.
    const double wobble[5] = {-0.0072, 0.0036, 0.0054, -0.0054, 0.0036};
    double x[5];
    for (int r = 0; r < 5; r++) x[r] = A_ACC[r] - (0.01 + wobble[r]);
    cond_add(&s, "A", 5, NULL, A_ACC, 3);
    cond_add(&s, "X", 5, NULL, x, 3);
    cond_add(&s, "Y", 5, NULL, x, 3);
    cond_add(&s, "Z", 5, NULL, x, 3);
    text = sentences_of(&s, &n);
    assert_int_equal(n, 3);
    assert_has(text, "No difference detectable between A and Y with 5 seeds (1.00 points");
    assert_has(text, "alone it would count (p = 0.019), but not after the correction for 3 comparisons");
    assert_null(strstr(text, "beats"));
    free(text);
    cond_set_free(&s);

    // A tie: identical runs, nothing to detect at any number of seeds.
    cond_add(&s, "A", 5, NULL, A_ACC, 3);
    cond_add(&s, "F", 5, NULL, A_ACC, 3);
    text = sentences_of(&s, &n);
    assert_has(text, "No difference detectable between A and F with 5 seeds (0.00 points");
    assert_has(text, "the observed difference is zero, so no number of seeds would detect it");
    free(text);
    cond_set_free(&s);
}

static void test_sentences_single_seed(void **state) {
    (void)state;
    cond_set s = {0};
    const double x[3] = {0.5721, 0.5861, 0.4534};
    for (int i = 0; i < 3; i++) {
        char name[32];
        snprintf(name, sizeof name, "lr=%g", 0.1 / pow(10, i));
        cond_add(&s, name, 1, NULL, &x[i], 3);
    }
    int n;
    char *text = sentences_of(&s, &n);
    assert_int_equal(n, 1);
    assert_has(text, "Each condition has a single seed, so differences between conditions cannot be judged");
    assert_has(text, "`--seeds 5`");
    assert_null(strstr(text, "beats"));
    assert_null(strstr(text, "No difference"));
    free(text);
    cond_set_free(&s);

    // Several seeds against one: that comparison cannot be judged.
    cond_add(&s, "A", 5, NULL, A_ACC, 3);
    cond_add(&s, "G", 1, NULL, &x[2], 3);
    text = sentences_of(&s, &n);
    assert_int_equal(n, 1);
    assert_has(text, "A against G cannot be judged: G has 1 run with a final test accuracy");
    assert_null(strstr(text, "beats"));
    free(text);
    cond_set_free(&s);
}

static void test_sentences_diverged_and_one(void **state) {
    (void)state;
    cond_set s = {0};
    const double dead[3] = {NAN, NAN, NAN};
    cond_add(&s, "lr=10", 3, NULL, dead, 2);
    cond_add(&s, "lr=100", 1, NULL, dead, 2);
    int n;
    char *text = sentences_of(&s, &n);
    assert_int_equal(n, 3);
    assert_has(text, "lr=10 has no final test accuracy (all 3 of its runs diverged");
    assert_has(text, "lr=100 has no final test accuracy (its run diverged or was never tested)");
    assert_has(text, "No condition has a final test accuracy, so none can be compared.");
    free(text);
    cond_set_free(&s);

    // One condition only (plus a dead one): nothing to compare, its interval given.
    cond_add(&s, "A", 5, NULL, A_ACC, 2);
    cond_add(&s, "lr=10", 3, NULL, dead, 2);
    text = sentences_of(&s, &n);
    assert_int_equal(n, 2);
    stats_summary sa = stats_summarize(A_ACC, 5);
    char want[160];
    snprintf(want, sizeof want, "Only A has results, so there is nothing to compare: final test "
             "accuracy 62.00 %% (95%% CI %.2f to %.2f, n = 5 seeds).", 100 * sa.ci_lo, 100 * sa.ci_hi);
    assert_has(text, want);
    free(text);
    cond_set_free(&s);

    const double one = 0.55;
    cond_add(&s, "solo", 1, NULL, &one, 2);
    text = sentences_of(&s, &n);
    assert_int_equal(n, 1);
    assert_has(text, "Only solo has results");
    assert_has(text, "55.00 % from a single seed (run with `--seeds 5`");
    free(text);
    cond_set_free(&s);
}

// ---- figures ----

static void assert_figure_files(const char *dir, const char *name) {
    char path[4500];
    unsigned char buf[16];
    snprintf(path, sizeof path, "%s/%s.png", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f) fail_msg("%s missing", path);
    assert_int_equal(fread(buf, 1, 8, f), 8);
    assert_memory_equal(buf, "\x89PNG\r\n\x1a\n", 8);
    fseek(f, -12, SEEK_END);
    assert_int_equal(fread(buf, 1, 12, f), 12);
    assert_memory_equal(buf + 4, "IEND", 4);
    long size = ftell(f);
    fclose(f);
    assert_true(size > 2000);
    snprintf(path, sizeof path, "%s/%s.svg", dir, name);
    char *svg;
    size_t len;
    lr_err e;
    if (fs_read_all(path, &svg, &len, &e) != 0) fail_msg("%s", e.msg);
    assert_non_null(strstr(svg, "<svg"));
    char *end = strstr(svg, "</svg>");
    assert_non_null(end);
    for (end += 6; *end; end++) assert_true(*end == '\n' || *end == ' ' || *end == '\r');
    free(svg);
}

static int has_figure(const report_figure *figs, int n, const char *name) {
    for (int i = 0; i < n; i++)
        if (strcmp(figs[i].name, name) == 0) return 1;
    return 0;
}

// n conditions over lr (and momentum when two_axes), seeds each; the mean
// final accuracy falls with the condition index.
static void build_grid(cond_set *s, int n, int seeds, int two_axes) {
    for (int i = 0; i < n; i++) {
        double lr = two_axes ? pow(10, -(i / 2)) : pow(10, -i), mom = two_axes ? 0.9 * (i % 2) : 0.9;
        char name[64];
        if (two_axes) snprintf(name, sizeof name, "lr=%g,momentum=%g", lr, mom);
        else snprintf(name, sizeof name, "lr=%g", lr);
        double acc[8];
        for (int r = 0; r < seeds; r++) acc[r] = 0.7 - 0.02 * i + 0.01 * ((r * 7 + i) % 3);
        report_condition *c = cond_add(s, name, seeds, NULL, acc, 6);
        cond_axis(c, "lr", lr, "");
        if (two_axes) cond_axis(c, "momentum", mom, "");
    }
}

static void test_figures(void **state) {
    (void)state;
    static const struct { int n, seeds, two_axes, want_axis_figs, want_heatmap; } cases[] = {
        {1, 1, 0, 0, 0}, {3, 5, 0, 1, 0}, {3, 1, 0, 1, 0}, {12, 3, 1, 1, 1}, {4, 2, 1, 1, 1},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        cond_set s = {0};
        build_grid(&s, cases[k].n, cases[k].seeds, cases[k].two_axes);
        char dir[256];
        test_mkdtemp(dir, sizeof dir);
        report_figure figs[16];
        char note[200];
        lr_err e = {0};
        int n = conditions_plot(s.c, s.n, dir, figs, 16, note, sizeof note, &e);
        if (n < 0) fail_msg("case %zu: %s", k, e.msg);
        assert_int_equal(n, 6 + 2 * cases[k].want_axis_figs + cases[k].want_heatmap);
        for (int i = 0; i < n; i++) assert_figure_files(dir, figs[i].name);
        assert_true(has_figure(figs, n, "cond_test_acc"));
        assert_true(has_figure(figs, n, "cond_train_loss"));
        assert_int_equal(has_figure(figs, n, "cond_final_acc_vs_lr"), cases[k].want_axis_figs);
        assert_int_equal(has_figure(figs, n, "cond_final_loss_vs_lr"), cases[k].want_axis_figs);
        assert_int_equal(has_figure(figs, n, "cond_heatmap"), cases[k].want_heatmap);
        assert_false(has_figure(figs, n, "cond_final_acc_vs_momentum")); // 0 and 0.9: not a log axis
        if (s.n > CONDITIONS_PLOT_MAX) assert_string_equal(note, "showing the best 8 of 12 conditions (by mean final test accuracy) in the per-epoch figures");
        else assert_string_equal(note, "");
        test_rmtree(dir);
        cond_set_free(&s);
    }
}

static void test_plot_select(void **state) {
    (void)state;
    cond_set s = {0};
    build_grid(&s, 12, 3, 1);
    // Make condition 11 the best and condition 0 the worst.
    for (int r = 0; r < 3; r++) { s.c[11].final_test_acc[r] = 0.95; s.c[0].final_test_acc[r] = 0.1; }
    int show[12];
    assert_int_equal(conditions_plot_select(s.c, s.n, show), 8);
    const int want[8] = {1, 2, 3, 4, 5, 6, 7, 11};
    for (int i = 0; i < 8; i++) assert_int_equal(show[i], want[i]);
    cond_set_free(&s);
    build_grid(&s, 10, 3, 1);
    assert_int_equal(conditions_plot_select(s.c, s.n, show), 10);
    for (int i = 0; i < 10; i++) assert_int_equal(show[i], i);
    cond_set_free(&s);
}

// Under `make DEBUG=1`, fontconfig (loaded by PLplot's cairo drivers) keeps
// its font cache until exit, which LeakSanitizer reports; it is not ours
// (as in test_report.c).
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void) { return "leak:libfontconfig.so\n"; }

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conditions_csv),
        cmocka_unit_test(test_curves_csv),
        cmocka_unit_test(test_compare_paired_welch_holm),
        cmocka_unit_test(test_sentences_significant),
        cmocka_unit_test(test_sentences_not_detectable),
        cmocka_unit_test(test_sentences_single_seed),
        cmocka_unit_test(test_sentences_diverged_and_one),
        cmocka_unit_test(test_figures),
        cmocka_unit_test(test_plot_select),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
