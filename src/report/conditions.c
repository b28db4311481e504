// conditions.c: per-condition summaries (conditions.csv, curves.csv), the
// best condition compared with each other one (paired or Welch t-test, Holm
// adjusted) and the report's sentences about them, every number computed
// here from the runs' values.
#include "conditions.h"
#include "report_lines.h"

#include <math.h>
#include <stdarg.h>
#include <string.h>

#include "../util/fsutil.h"

const char *const conditions_curve_names[REPORT_N_CURVES] = {
    "train_loss", "train_acc", "train_f1", "test_loss", "test_acc", "test_f1"};
const char *const conditions_metric_names[COND_N_METRICS] = {
    "final_test_acc", "final_test_f1", "best_test_acc", "final_test_loss", "seconds"};
const char *const conditions_stat_names[COND_N_STATS] = {"n", "mean", "sd", "ci_lo", "ci_hi"};
const char *const conditions_curves_columns[CURVES_N_COLS] = {
    "condition", "epoch", "metric", "n", "mean", "ci_lo", "ci_hi"};

const double *conditions_metric(const report_condition *c, int m) {
    switch (m) {
    case COND_FINAL_TEST_ACC: return c->final_test_acc;
    case COND_FINAL_TEST_F1: return c->final_test_f1;
    case COND_BEST_TEST_ACC: return c->best_test_acc;
    case COND_FINAL_TEST_LOSS: return c->final_test_loss;
    case COND_SECONDS: return c->seconds;
    }
    LR_ASSERT(!"unknown metric");
    return NULL;
}

int conditions_axis_keys(const report_condition *c, int n, char (*keys)[32], int cap) {
    int k = 0;
    for (int i = 0; i < n; i++)
        for (int a = 0; a < c[i].n_axes; a++) {
            int seen = 0;
            for (int j = 0; j < k; j++) seen |= strcmp(keys[j], c[i].axis_key[a]) == 0;
            if (!seen && k < cap) snprintf(keys[k++], sizeof keys[0], "%s", c[i].axis_key[a]);
        }
    return k;
}

// ---- CSV ----

// A field, quoted when it holds a comma, quote or line break (RFC 4180).
static void csv_field(FILE *f, const char *s) {
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"') fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

// ",value" or "," when the value does not exist.
static void csv_num(FILE *f, double v) {
    if (isfinite(v)) fprintf(f, ",%.10g", v);
    else if (isinf(v)) fprintf(f, ",%s", v > 0 ? "inf" : "-inf");
    else fputc(',', f);
}

// The value of axis key in condition c as text ("" when c lacks the key).
static void axis_value(const report_condition *c, const char *key, char *out, size_t cap) {
    out[0] = '\0';
    for (int a = 0; a < c->n_axes; a++) {
        if (strcmp(c->axis_key[a], key) != 0) continue;
        if (isfinite(c->axis_num[a])) snprintf(out, cap, "%.10g", c->axis_num[a]);
        else snprintf(out, cap, "%s", c->axis_text[a]);
    }
}

int conditions_write_csv(const char *path, const report_condition *c, int n, lr_err *e) {
    char keys[64][32];
    int n_keys = conditions_axis_keys(c, n, keys, 64);
    fs_atomic_file af;
    if (fs_begin(&af, path, e) != 0) return -1;
    FILE *f = af.f;
    fputs("condition", f);
    for (int k = 0; k < n_keys; k++) {
        fputc(',', f);
        csv_field(f, keys[k]);
    }
    for (int m = 0; m < COND_N_METRICS; m++)
        for (int s = 0; s < COND_N_STATS; s++)
            fprintf(f, ",%s_%s", conditions_metric_names[m], conditions_stat_names[s]);
    fputc('\n', f);
    for (int i = 0; i < n; i++) {
        csv_field(f, c[i].name);
        for (int k = 0; k < n_keys; k++) {
            char v[128];
            axis_value(&c[i], keys[k], v, sizeof v);
            fputc(',', f);
            csv_field(f, v);
        }
        for (int m = 0; m < COND_N_METRICS; m++) {
            stats_summary s = stats_summarize(conditions_metric(&c[i], m), c[i].n_runs);
            fprintf(f, ",%d", s.n);
            csv_num(f, s.mean);
            csv_num(f, s.sd);
            csv_num(f, s.ci_lo);
            csv_num(f, s.ci_hi);
        }
        fputc('\n', f);
    }
    return fs_commit(&af, e);
}

int conditions_write_curves_csv(const char *path, const report_condition *c, int n, lr_err *e) {
    fs_atomic_file af;
    if (fs_begin(&af, path, e) != 0) return -1;
    FILE *f = af.f;
    for (int k = 0; k < CURVES_N_COLS; k++) fprintf(f, "%s%s", k ? "," : "", conditions_curves_columns[k]);
    fputc('\n', f);
    int cap = 1;
    for (int i = 0; i < n; i++) if (c[i].n_runs > cap) cap = c[i].n_runs;
    double *x = lr_malloc((size_t)cap * sizeof *x); // (n_runs,) one epoch's values
    for (int i = 0; i < n; i++) {
        for (int ep = 0; ep < c[i].n_epochs; ep++) {
            for (int k = 0; k < REPORT_N_CURVES; k++) {
                for (int r = 0; r < c[i].n_runs; r++) x[r] = conditions_curve(&c[i], r, k, ep);
                stats_summary s = stats_summarize(x, c[i].n_runs);
                if (s.n == 0) continue;
                csv_field(f, c[i].name);
                fprintf(f, ",%d,%s,%d", ep + 1, conditions_curve_names[k], s.n);
                csv_num(f, s.mean);
                csv_num(f, s.ci_lo);
                csv_num(f, s.ci_hi);
                fputc('\n', f);
            }
        }
    }
    free(x);
    return fs_commit(&af, e);
}

// ---- comparisons ----

// Final test accuracies of a and b on the seeds both have, both finite:
// xa, xb are (min(n_a, n_b),) buffers; returns the pair count.
static int seed_pairs(const report_condition *a, const report_condition *b, double *xa, double *xb) {
    int m = 0;
    for (int i = 0; i < a->n_runs; i++) {
        if (!isfinite(a->final_test_acc[i])) continue;
        for (int j = 0; j < b->n_runs; j++) {
            if (b->seeds[j] != a->seeds[i] || !isfinite(b->final_test_acc[j])) continue;
            xa[m] = a->final_test_acc[i];
            xb[m] = b->final_test_acc[j];
            m++;
            break;
        }
    }
    return m;
}

void conditions_compare(const report_condition *c, int n, conditions_cmp *out) {
    memset(out, 0, sizeof *out);
    out->best = -1;
    double best_mean = -INFINITY;
    for (int i = 0; i < n; i++) {
        stats_summary s = stats_summarize(c[i].final_test_acc, c[i].n_runs);
        if (s.n == 0) continue;
        out->n_ranked++;
        out->n_single += s.n == 1;
        if (s.mean > best_mean) { best_mean = s.mean; out->best = i; }
    }
    if (out->best < 0 || out->n_ranked < 2) return;
    const report_condition *b = &c[out->best];
    out->cmp = lr_calloc((size_t)out->n_ranked - 1, sizeof *out->cmp);
    double *p = lr_malloc((size_t)out->n_ranked * sizeof *p); // (n_cmp,) raw p-values
    for (int i = 0; i < n; i++) {
        if (i == out->best) continue;
        stats_summary so = stats_summarize(c[i].final_test_acc, c[i].n_runs);
        if (so.n == 0) continue;
        conditions_comparison *k = &out->cmp[out->n_cmp];
        k->other = i;
        int cap = b->n_runs < c[i].n_runs ? b->n_runs : c[i].n_runs;
        double *xa = lr_malloc((size_t)(cap > 0 ? cap : 1) * sizeof *xa);
        double *xb = lr_malloc((size_t)(cap > 0 ? cap : 1) * sizeof *xb);
        int m = seed_pairs(b, &c[i], xa, xb);
        if (m >= 2) {
            k->paired = 1;
            k->test = stats_paired_t(xa, xb, m);
            for (int j = 0; j < m; j++) xa[j] -= xb[j];
            k->sd_diff = stats_summarize(xa, m).sd;
        } else {
            k->test = stats_welch_t(b->final_test_acc, b->n_runs, c[i].final_test_acc, c[i].n_runs);
            stats_summary sb = stats_summarize(b->final_test_acc, b->n_runs);
            k->sd_diff = sqrt(sb.sd * sb.sd + so.sd * so.sd);
        }
        free(xa);
        free(xb);
        k->seeds_needed = stats_seeds_needed(k->test.diff, k->sd_diff);
        p[out->n_cmp++] = k->test.p;
    }
    stats_holm(p, p, out->n_cmp);
    for (int j = 0; j < out->n_cmp; j++) out->cmp[j].p_holm = p[j];
    free(p);
}

void conditions_cmp_free(conditions_cmp *cmp) {
    free(cmp->cmp);
    memset(cmp, 0, sizeof *cmp);
    cmp->best = -1;
}

// ---- sentences ----


void conditions_lines_free(char **lines, int n) {
    for (int i = 0; i < n; i++) free(lines[i]);
    free(lines);
}

static void p_text(double p, char *out, size_t cap) {
    if (p < 0.001) snprintf(out, cap, "p < 0.001");
    else snprintf(out, cap, "p = %.3f", p);
}

// "n = 5 seeds" (paired), "n = 5 and 4 seeds" (Welch).
static void n_text(const conditions_comparison *k, char *out, size_t cap) {
    if (k->paired) snprintf(out, cap, "paired t-test, n = %d seeds", k->test.n);
    else snprintf(out, cap, "Welch's t-test, n = %d and %d seeds", k->test.n_a, k->test.n_b);
}

#define SEEDS_FLAG "--seeds 5"

static void say_comparison(line_list *l, const report_condition *c, const conditions_cmp *cmp,
                           const conditions_comparison *k) {
    const report_condition *b = &c[cmp->best], *o = &c[k->other];
    if (!isfinite(k->test.p)) {
        // Too few values on a side (or seed-matched pairs) for any test.
        stats_summary so = stats_summarize(o->final_test_acc, o->n_runs);
        stats_summary sb = stats_summarize(b->final_test_acc, b->n_runs);
        const report_condition *few = so.n < 2 ? o : b;
        int few_n = so.n < 2 ? so.n : sb.n;
        say(l, "%s against %s cannot be judged: %s has %d run%s with a final test accuracy, "
               "and a comparison needs at least 2 on each side (run with `%s`).",
            b->name, o->name, few->name, few_n, few_n == 1 ? "" : "s", SEEDS_FLAG);
        return;
    }
    char pt[32], nt[64], praw[32];
    p_text(k->p_holm, pt, sizeof pt);
    p_text(k->test.p, praw, sizeof praw);
    n_text(k, nt, sizeof nt);
    double lo = 100 * k->test.ci_lo, hi = 100 * k->test.ci_hi, d = 100 * k->test.diff;
    if (k->p_holm < STATS_ALPHA) {
        int best_wins = k->test.diff > 0;
        say(l, "%s beats %s by %.2f points of final test accuracy (95%% CI %.2f to %.2f, "
               "%s Holm-adjusted over %d comparison%s, %s).",
            best_wins ? b->name : o->name, best_wins ? o->name : b->name, fabs(d),
            best_wins ? lo : -hi, best_wins ? hi : -lo, pt, cmp->n_cmp,
            cmp->n_cmp == 1 ? "" : "s", nt);
        return;
    }
    int n_seeds = k->paired ? k->test.n : (k->test.n_a < k->test.n_b ? k->test.n_a : k->test.n_b);
    char seeds[64];
    if (k->paired) snprintf(seeds, sizeof seeds, "%d seeds", k->test.n);
    else snprintf(seeds, sizeof seeds, "%d and %d seeds", k->test.n_a, k->test.n_b);
    char tail[256];
    if (k->seeds_needed < 0)
        snprintf(tail, sizeof tail, "the observed difference is zero, so no number of seeds "
                                    "would detect it");
    else if (k->seeds_needed > n_seeds)
        snprintf(tail, sizeof tail, "about %d seeds would detect a difference of this size",
                 k->seeds_needed);
    else if (k->test.p < STATS_ALPHA)
        snprintf(tail, sizeof tail, "alone it would count (%s), but not after the correction "
                                    "for %d comparisons", praw, cmp->n_cmp);
    else // Welch's spread differs from the one the seed count assumes
        snprintf(tail, sizeof tail, "about %d seeds should detect a difference of this size, "
                                    "but these did not (%s before correction)",
                 k->seeds_needed, praw);
    say(l, "No difference detectable between %s and %s with %s (%.2f points, 95%% CI "
           "%.2f to %.2f, %s Holm-adjusted, %s); %s.",
        b->name, o->name, seeds, d, lo, hi, pt, k->paired ? "paired t-test" : "Welch's t-test", tail);
}

int conditions_sentences(const report_condition *c, int n, const conditions_cmp *cmp, char ***out) {
    line_list l = {0};
    for (int i = 0; i < n; i++) {
        stats_summary s = stats_summarize(c[i].final_test_acc, c[i].n_runs);
        if (s.n > 0) continue;
        if (c[i].n_runs == 0)
            say(&l, "%s has no runs; it is left out of the comparisons.", c[i].name);
        else if (c[i].n_runs == 1)
            say(&l, "%s has no final test accuracy (its run diverged or was never tested); "
                    "it is left out of the comparisons.", c[i].name);
        else
            say(&l, "%s has no final test accuracy (all %d of its runs diverged or were never "
                    "tested); it is left out of the comparisons.", c[i].name, c[i].n_runs);
    }
    if (cmp->n_ranked == 0) {
        say(&l, "No condition has a final test accuracy, so none can be compared.");
    } else if (cmp->n_ranked == 1) {
        const report_condition *b = &c[cmp->best];
        stats_summary s = stats_summarize(b->final_test_acc, b->n_runs);
        if (s.n >= 2)
            say(&l, "Only %s has results, so there is nothing to compare: final test accuracy "
                    "%.2f %% (95%% CI %.2f to %.2f, n = %d seeds).",
                b->name, 100 * s.mean, 100 * s.ci_lo, 100 * s.ci_hi, s.n);
        else
            say(&l, "Only %s has results, so there is nothing to compare: final test accuracy "
                    "%.2f %% from a single seed (run with `%s` for its interval).",
                b->name, 100 * s.mean, SEEDS_FLAG);
    } else if (cmp->n_single == cmp->n_ranked) {
        say(&l, "Each condition has a single seed, so differences between conditions cannot be "
                "judged: the spread from one seed to the next is unknown and can exceed the gaps. "
                "Run with `%s` to judge them.", SEEDS_FLAG);
    } else {
        for (int j = 0; j < cmp->n_cmp; j++) say_comparison(&l, c, cmp, &cmp->cmp[j]);
    }
    *out = l.lines;
    return l.n;
}
