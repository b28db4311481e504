// analysis.c: the findings of a study, computed from its recorded numbers:
// per-run statistics, study-wide picks, and the sentences that state them.
// A sentence that ranks conditions is either backed by a test on the seeds
// (Holm-adjusted p < 0.05) or says that the seeds cannot support it: with
// one seed per condition it describes these runs and says the difference
// cannot be judged; with several it speaks of condition means.
#define _POSIX_C_SOURCE 200809L
#include "report.h"

#include <math.h>
#include <stdarg.h>
#include <string.h>

#include "search_report.h"
#include "study_conditions.h"

// classes: the study's class count (0 if no run recorded it).
static void stats_compute(const report_run *r, int classes, report_run_stats *st) {
    memset(st, 0, sizeof *st);
    st->final_test_acc = st->final_test_f1 = NAN;
    st->best_test_acc = st->best_test_f1 = NAN;
    st->loss_change_sd = st->final_train_acc = st->overfit_gap = NAN;
    st->seconds = r->seconds;
    st->seconds_per_epoch = NAN;
    st->epochs_done = r->n_epochs;
    st->diverged_epoch = r->diverged_epoch;

    // Epochs up to (not including) divergence count for the statistics.
    int usable = r->n_epochs;
    if (r->diverged_epoch)
        for (int i = 0; i < r->n_epochs; i++)
            if (r->epochs[i].epoch >= r->diverged_epoch) { usable = i; break; }

    double prev_loss = NAN, sum = 0, sumsq = 0;
    int n_changes = 0;
    for (int i = 0; i < usable; i++) {
        const report_epoch *ep = &r->epochs[i];
        if (isfinite(ep->test_acc)) {
            st->n_evals++;
            st->final_test_acc = ep->test_acc;
            st->final_test_f1 = ep->test_f1;
            st->final_test_epoch = ep->epoch;
            if (!(ep->test_acc <= st->best_test_acc)) { // NaN-safe ">"
                st->best_test_acc = ep->test_acc;
                st->best_test_f1 = ep->test_f1;
                st->best_epoch = ep->epoch;
            }
            if (isfinite(ep->train_acc)) {
                st->final_train_acc = ep->train_acc;
                st->overfit_gap = ep->train_acc - ep->test_acc;
                st->final_gap_epoch = ep->epoch;
            }
        }
        if (isfinite(ep->test_loss)) {
            if (isfinite(prev_loss)) {
                double d = ep->test_loss - prev_loss;
                sum += d;
                sumsq += d * d;
                n_changes++;
            }
            prev_loss = ep->test_loss;
        }
    }
    if (n_changes >= 2) {
        double mean = sum / n_changes;
        double var = (sumsq - n_changes * mean * mean) / (n_changes - 1);
        st->loss_change_sd = sqrt(var > 0 ? var : 0);
    }
    if (isfinite(st->best_test_acc)) {
        double target = REPORT_CONVERGED_FRACTION * st->best_test_acc;
        for (int i = 0; i < usable; i++) {
            if (isfinite(r->epochs[i].test_acc) && r->epochs[i].test_acc >= target) {
                st->converged_epoch = r->epochs[i].epoch;
                break;
            }
        }
    }
    if (isfinite(st->seconds) && st->epochs_done > 0)
        st->seconds_per_epoch = st->seconds / st->epochs_done;
    if (classes > 1 && isfinite(st->best_test_acc))
        st->at_chance = st->best_test_acc < REPORT_CHANCE_FACTOR / classes;
}

// Index of the run maximising (sign > 0) or minimising key among those that
// pass the filter; the first wins ties. -1 if none.
static int pick(const report_analysis *a, double (*key)(const report_run_stats *),
                int sign, int skip_failed) {
    int best = -1;
    double best_v = 0;
    for (int i = 0; i < a->n_runs; i++) {
        const report_run_stats *st = &a->runs[i];
        if (skip_failed && (st->diverged_epoch || st->at_chance)) continue; // diverged or never learned
        double v = key(st);
        if (!isfinite(v)) continue;
        if (best < 0 || sign * v > sign * best_v) { best = i; best_v = v; }
    }
    return best;
}

static double key_final(const report_run_stats *s) { return s->final_test_acc; }
static double key_peak(const report_run_stats *s) { return s->best_test_acc; }
static double key_sd(const report_run_stats *s) { return s->loss_change_sd; }
static double key_gap(const report_run_stats *s) { return s->overfit_gap; }
static double key_seconds(const report_run_stats *s) {
    return s->epochs_done > 0 ? s->seconds : NAN;
}
static double key_converged(const report_run_stats *s) {
    return s->converged_epoch ? (double)s->converged_epoch : NAN;
}

void report_analyze(const report_study *s, report_analysis *a) {
    memset(a, 0, sizeof *a);
    a->n_runs = s->n_runs;
    a->runs = lr_calloc((size_t)(s->n_runs ? s->n_runs : 1), sizeof *a->runs);
    a->classes = 0; // every run of a study has the same data set
    for (int i = 0; i < s->n_runs; i++)
        if (s->runs[i].n_classes > a->classes) a->classes = s->runs[i].n_classes;
    for (int i = 0; i < s->n_runs; i++) {
        stats_compute(&s->runs[i], a->classes, &a->runs[i]);
        // A search's pruned run (search_report.h) was cut short: the epoch it
        // reached 95% of its own best says where it was stopped, not how fast it learned.
        if (!strcmp(s->runs[i].status, RUN_STATUS_PRUNED)) a->runs[i].converged_epoch = 0;
        if (a->runs[i].diverged_epoch) a->n_diverged++;
        if (a->runs[i].at_chance) a->n_at_chance++;
    }
    a->best_final = pick(a, key_final, 1, 0);
    a->best_peak = pick(a, key_peak, 1, 0);
    a->first_converged = pick(a, key_converged, -1, 1);
    a->most_stable = pick(a, key_sd, -1, 1);
    a->least_stable = pick(a, key_sd, 1, 1);
    a->widest_gap = pick(a, key_gap, 1, 1);
    a->fastest = pick(a, key_seconds, -1, 0);
    a->slowest = pick(a, key_seconds, 1, 0);
    a->time_ratio = NAN;
    if (a->fastest >= 0 && a->slowest >= 0 && a->runs[a->fastest].seconds > 0)
        a->time_ratio = a->runs[a->slowest].seconds / a->runs[a->fastest].seconds;
    // The confusion matrix shown is the best final run's, else the best that has one.
    a->confusion_run = -1;
    double best = -1;
    for (int i = 0; i < s->n_runs; i++) {
        double acc = a->runs[i].final_test_acc;
        if (s->runs[i].n_classes > 0 && (a->confusion_run < 0 || acc > best)) {
            a->confusion_run = i;
            best = isfinite(acc) ? acc : -1;
        }
    }
}

void report_analysis_free(report_analysis *a) {
    free(a->runs);
    a->runs = NULL;
    a->n_runs = 0;
}

// ---- sentences ----

typedef struct {
    char **lines;
    int n, cap;
} line_list;

static void lines_add(line_list *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void lines_add(line_list *l, const char *fmt, ...) {
    char buf[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 16;
        char **grown = realloc(l->lines, (size_t)l->cap * sizeof *grown);
        LR_ASSERT(grown != NULL);
        l->lines = grown;
    }
    l->lines[l->n++] = lr_strdup(buf);
}

// Appends to a fixed buffer, truncating quietly (sentences stay well short).
static void cat(char *buf, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void cat(char *buf, size_t cap, const char *fmt, ...) {
    size_t used = strlen(buf);
    if (used + 1 >= cap) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf + used, cap - used, fmt, ap);
    va_end(ap);
}

static double pct(double fraction) { return 100.0 * fraction; }

// Appended to every sentence that ranks runs of a study with one seed per
// condition: the spread from seed to seed is unknown, so no gap is judged.
#define ONE_SEED_CAVEAT "with one seed per condition, whether this difference exceeds seed-to-seed " \
                        "noise cannot be judged"

// A run as named in prose: its condition (and seed when there are several).
typedef char run_ref_buf[160];
static const char *ref(const report_run *r, run_ref_buf buf) {
    (void)buf;
    return r->label;
}

static void say_accuracy(line_list *l, const report_study *s, const report_analysis *a) {
    run_ref_buf rb;
    if (a->best_final < 0) {
        lines_add(l, "No run has a test evaluation yet, so no accuracy can be compared.");
        return;
    }
    const report_run_stats *bf = &a->runs[a->best_final];
    int second = -1;
    for (int i = 0; i < a->n_runs; i++)
        if (i != a->best_final && isfinite(a->runs[i].final_test_acc) &&
            (second < 0 || a->runs[i].final_test_acc > a->runs[second].final_test_acc))
            second = i;
    if (second < 0) {
        lines_add(l, "Only %s has a test evaluation: its final test accuracy is %.1f%% "
                  "(epoch %d).", ref(&s->runs[a->best_final], rb),
                  pct(bf->final_test_acc), bf->final_test_epoch);
    } else {
        lines_add(l, "The best final test accuracy is %.1f%% (F1 %.3f), reached by %s "
                  "at epoch %d, %.1f points ahead of the next, %s (%.1f%%); " ONE_SEED_CAVEAT ".",
                  pct(bf->final_test_acc), bf->final_test_f1, ref(&s->runs[a->best_final], rb),
                  bf->final_test_epoch,
                  pct(bf->final_test_acc - a->runs[second].final_test_acc),
                  s->runs[second].label, pct(a->runs[second].final_test_acc));
    }
    const report_run_stats *bp = &a->runs[a->best_peak];
    if (a->best_peak == a->best_final) {
        if (bp->best_epoch == bf->final_test_epoch)
            lines_add(l, "%s also holds the best peak test accuracy, at its final evaluation (among "
                      "these runs; " ONE_SEED_CAVEAT ").",
                      s->runs[a->best_peak].label);
        else
            lines_add(l, "%s also holds the best peak test accuracy, %.1f%% at epoch %d, "
                      "%.1f points above where it ended (among these runs; " ONE_SEED_CAVEAT ").",
                      s->runs[a->best_peak].label,
                      pct(bp->best_test_acc), bp->best_epoch,
                      pct(bp->best_test_acc - bf->final_test_acc));
    } else {
        lines_add(l, "The best peak test accuracy belongs to a different run: %s reached "
                  "%.1f%% at epoch %d but ended at %.1f%%; " ONE_SEED_CAVEAT ".", ref(&s->runs[a->best_peak], rb),
                  pct(bp->best_test_acc), bp->best_epoch,
                  pct(bp->final_test_acc));
    }
}

static void say_convergence(line_list *l, const report_study *s, const report_analysis *a) {
    run_ref_buf rb;
    char buf[3000] = "";
    int listed = 0;
    for (int i = 0; i < a->n_runs; i++) {
        const report_run_stats *st = &a->runs[i];
        if (!st->converged_epoch) continue;
        cat(buf, sizeof buf, "%s%s epoch %d of %d (best %.1f%%%s)", listed ? "; " : "",
            s->runs[i].label, st->converged_epoch, st->epochs_done, pct(st->best_test_acc),
            st->diverged_epoch ? ", before diverging" : "");
        listed++;
    }
    if (!listed) return;
    lines_add(l, "First epoch at which each run reached %.0f%% of its own best test accuracy: %s.",
              100 * REPORT_CONVERGED_FRACTION, buf);
    if (a->first_converged >= 0 && listed > 1)
        lines_add(l, "Among runs that learned and did not diverge, %s got there first, at epoch %d; "
                  ONE_SEED_CAVEAT ".",
                  ref(&s->runs[a->first_converged], rb),
                  a->runs[a->first_converged].converged_epoch);
}

static void say_stability(line_list *l, const report_study *s, const report_analysis *a) {
    if (a->most_stable < 0) return;
    char buf[3000] = "";
    int listed = 0;
    for (int i = 0; i < a->n_runs; i++) {
        if (a->runs[i].diverged_epoch || a->runs[i].at_chance || !isfinite(a->runs[i].loss_change_sd)) continue;
        cat(buf, sizeof buf, "%s%s %.4f", listed ? ", " : "", s->runs[i].label,
            a->runs[i].loss_change_sd);
        listed++;
    }
    lines_add(l, "Standard deviation of the epoch-to-epoch change in test loss (lower is steadier): "
              "%s.", buf);
    double lo = a->runs[a->most_stable].loss_change_sd, hi = a->runs[a->least_stable].loss_change_sd;
    if (listed > 1 && a->most_stable != a->least_stable) {
        if (lo > 0)
            lines_add(l, "The steadiest was %s and the most erratic %s, whose changes spread %.1f "
                      "times as wide; " ONE_SEED_CAVEAT ".", s->runs[a->most_stable].label,
                      s->runs[a->least_stable].label, hi / lo);
        else
            lines_add(l, "The steadiest was %s, whose test loss changed by the same amount every "
                      "epoch; the most erratic was %s (" ONE_SEED_CAVEAT ").", s->runs[a->most_stable].label,
                      s->runs[a->least_stable].label);
    }
}

static void say_overfit(line_list *l, const report_study *s, const report_analysis *a) {
    char buf[3000] = "";
    int listed = 0;
    for (int i = 0; i < a->n_runs; i++) {
        const report_run_stats *st = &a->runs[i];
        if (st->diverged_epoch || !isfinite(st->overfit_gap)) continue;
        cat(buf, sizeof buf, "%s%s %+.1f points (train %.1f%%, test %.1f%%, epoch %d)",
            listed ? "; " : "", s->runs[i].label, pct(st->overfit_gap), pct(st->final_train_acc),
            pct(st->final_train_acc - st->overfit_gap), st->final_gap_epoch);
        listed++;
    }
    if (!listed) return;
    lines_add(l, "Train minus test accuracy at the last evaluation: %s.", buf);
    // The widest gap is picked among runs that learned: a run at chance has a
    // gap of noise. When every listed run stayed at chance there is no pick.
    if (a->widest_gap < 0) {
        lines_add(l, "As no run learned beyond chance, these gaps say nothing about over-fitting.");
        return;
    }
    const report_run_stats *w = &a->runs[a->widest_gap];
    if (w->overfit_gap > 0)
        lines_add(l, "%s shows the widest gap (%.1f points), the strongest sign of over-fitting "
                  "among them; " ONE_SEED_CAVEAT ".", s->runs[a->widest_gap].label, pct(w->overfit_gap));
    else
        lines_add(l, "No %srun's train accuracy exceeds its test accuracy (the largest difference "
                  "is %.1f points, %s), so none shows over-fitting yet.",
                  a->n_at_chance ? "learning " : "", pct(w->overfit_gap), s->runs[a->widest_gap].label);
}

static void say_time(line_list *l, const report_study *s, const report_analysis *a) {
    if (a->fastest < 0) return;
    const report_run_stats *f = &a->runs[a->fastest], *w = &a->runs[a->slowest];
    if (a->fastest == a->slowest) {
        lines_add(l, "Only %s has a recorded time: %.1f s over %d epochs (%.2f s per epoch).",
                  s->runs[a->fastest].label, f->seconds, f->epochs_done, f->seconds_per_epoch);
        return;
    }
    // A run can record 0 s (a clock too coarse for a tiny run): no ratio then.
    char ratio[64] = "";
    if (isfinite(a->time_ratio)) snprintf(ratio, sizeof ratio, ": %.2f times as long", a->time_ratio);
    lines_add(l, "The fastest run was %s at %.1f s (%d epoch%s), the slowest %s at %.1f s "
              "(%d epoch%s)%s.", s->runs[a->fastest].label, f->seconds,
              f->epochs_done, f->epochs_done == 1 ? "" : "s", s->runs[a->slowest].label,
              w->seconds, w->epochs_done, w->epochs_done == 1 ? "" : "s", ratio);
    double lo = INFINITY, hi = -INFINITY;
    int lo_i = -1, hi_i = -1;
    for (int i = 0; i < a->n_runs; i++) {
        double v = a->runs[i].seconds_per_epoch;
        if (!isfinite(v)) continue;
        if (v < lo) { lo = v; lo_i = i; }
        if (v > hi) { hi = v; hi_i = i; }
    }
    if (lo_i >= 0 && lo > 0)
        lines_add(l, "Per epoch, times ranged from %.2f s (%s) to %.2f s (%s), a ratio of %.2f.",
                  lo, s->runs[lo_i].label, hi, s->runs[hi_i].label, hi / lo);
}

static void say_divergence(line_list *l, const report_study *s, const report_analysis *a) {
    run_ref_buf rb;
    for (int i = 0; i < a->n_runs; i++) {
        const report_run_stats *st = &a->runs[i];
        if (!st->at_chance || st->diverged_epoch) continue;
        lines_add(l, "%s never learned: its best test accuracy, %.1f%%, is near the %.1f%% that guessing "
                  "one of %d classes gives, though its loss stayed finite; it is left out of the "
                  "convergence and steadiness comparisons.", ref(&s->runs[i], rb), pct(st->best_test_acc),
                  100.0 / a->classes, a->classes);
    }
    int with_data = 0;
    for (int i = 0; i < a->n_runs; i++) with_data += a->runs[i].epochs_done > 0;
    if (a->n_diverged == 0) {
        if (with_data)
            lines_add(l, "No run diverged: all %d runs with recorded epochs kept finite losses.",
                      with_data);
    } else {
        for (int i = 0; i < a->n_runs; i++) {
            const report_run_stats *st = &a->runs[i];
            if (!st->diverged_epoch) continue;
            int last = 0; // the last epoch drawn
            for (int k = 0; k < s->runs[i].n_epochs; k++)
                if (s->runs[i].epochs[k].epoch < st->diverged_epoch) last = s->runs[i].epochs[k].epoch;
            if (last > 0)
                lines_add(l, "%s diverged at epoch %d (loss no longer finite); its curves stop at "
                          "epoch %d, marked with an X.", ref(&s->runs[i], rb), st->diverged_epoch,
                          last);
            else
                lines_add(l, "%s diverged at epoch %d, before any finite epoch, so it has no curve.",
                          ref(&s->runs[i], rb), st->diverged_epoch);
        }
    }
    for (int i = 0; i < s->n_runs; i++) {
        const report_run *r = &s->runs[i];
        if (!r->has_metrics)
            lines_add(l, "%s has no metrics.csv (status %s), so it appears in no figure.",
                      r->label, r->status);
        else if (r->n_epochs == 0)
            lines_add(l, "%s has a metrics.csv with no epochs yet.", r->label);
        else if (!r->diverged_epoch && r->planned_epochs && r->n_epochs < r->planned_epochs)
            lines_add(l, "%s recorded %d of its %d planned epochs (status %s).", r->label,
                      r->n_epochs, r->planned_epochs, r->status);
    }
}


// ---- studies with several seeds: sentences about conditions ----

// The study's runs grouped by condition, with the comparisons of final test
// accuracy the report's Comparisons section states (conditions.h).
typedef struct {
    report_condition *c;  // (n,) in order of first appearance
    int n;
    conditions_cmp cmp;   // best mean final test accuracy against each other condition
    int *of_run;          // (n_runs,) the condition of each run
    int several;          // some condition has two runs or more
} cond_view;

static void cond_view_build(const report_study *s, cond_view *v) {
    memset(v, 0, sizeof *v);
    report_conditions_from_study(s, &v->c, &v->n);
    conditions_compare(v->c, v->n, &v->cmp);
    v->of_run = lr_calloc((size_t)(s->n_runs > 0 ? s->n_runs : 1), sizeof *v->of_run);
    for (int i = 0; i < s->n_runs; i++) {
        int c = 0;
        while (c < v->n && strcmp(v->c[c].name, s->runs[i].condition) != 0) c++;
        LR_ASSERT(c < v->n);
        v->of_run[i] = c;
    }
    for (int c = 0; c < v->n; c++) v->several |= v->c[c].n_runs >= 2;
}

static void cond_view_free(cond_view *v) {
    conditions_cmp_free(&v->cmp);
    report_conditions_free(v->c, v->n);
    free(v->of_run);
}

// A per-run number the secondary sentences rank conditions on.
typedef struct {
    double (*key)(const report_run_stats *);
    int skip_failed;      // leave out runs that diverged or never learned
    int sign;             // +1: higher ranks first, -1: lower ranks first
} cond_metric;

// x: (v->c[c].n_runs,) the metric of condition c's runs in study order, NAN
// for runs left out or without a value.
static void cond_values(const report_study *s, const report_analysis *a, const cond_view *v, int c,
                        const cond_metric *m, double *x) {
    int k = 0;
    for (int i = 0; i < s->n_runs; i++) {
        if (v->of_run[i] != c) continue;
        const report_run_stats *st = &a->runs[i];
        int out = m->skip_failed && (st->diverged_epoch || st->at_chance);
        x[k++] = out ? NAN : m->key(st);
    }
}

// The ranking of conditions on one metric by their means, and the test of
// the first against the second (seed-matched when 2 pairs exist, else Welch).
typedef struct {
    int n_ranked;         // conditions with at least one value
    int first, second;    // by mean; -1 when absent
    double mean[64];      // means of the conditions (first 64), NAN without values
    int n_first, n_second;// values in each
    int paired;
    stats_test test;      // first - second
    double p_adj;         // Holm-adjusted within the sentence family; NAN if no test
} cond_rank;

static void cond_rank_compute(const report_study *s, const report_analysis *a, const cond_view *v,
                              const cond_metric *m, cond_rank *r) {
    memset(r, 0, sizeof *r);
    r->first = r->second = -1;
    r->test.p = r->p_adj = NAN;
    int cap = 1;
    for (int c = 0; c < v->n; c++) if (v->c[c].n_runs > cap) cap = v->c[c].n_runs;
    double *x = lr_malloc((size_t)cap * sizeof *x), *y = lr_malloc((size_t)cap * sizeof *y);
    double *means = lr_malloc((size_t)(v->n > 0 ? v->n : 1) * sizeof *means); // (n,)
    int *counts = lr_calloc((size_t)(v->n > 0 ? v->n : 1), sizeof *counts);
    for (int c = 0; c < v->n; c++) {
        cond_values(s, a, v, c, m, x);
        stats_summary su = stats_summarize(x, v->c[c].n_runs);
        means[c] = su.n > 0 ? su.mean : NAN;
        counts[c] = su.n;
        if (c < 64) r->mean[c] = means[c];
        if (su.n == 0) continue;
        r->n_ranked++;
        if (r->first < 0 || m->sign * means[c] > m->sign * means[r->first]) {
            r->second = r->first;
            r->first = c;
        } else if (r->second < 0 || m->sign * means[c] > m->sign * means[r->second]) {
            r->second = c;
        }
    }
    if (r->second >= 0) {
        int fa = r->first, fb = r->second;
        r->n_first = counts[fa];
        r->n_second = counts[fb];
        cond_values(s, a, v, fa, m, x);
        cond_values(s, a, v, fb, m, y);
        // Seed-matched pairs, both finite: the design every condition shares (CRN).
        double *pa = lr_malloc((size_t)cap * sizeof *pa), *pb = lr_malloc((size_t)cap * sizeof *pb);
        int n_pairs = 0;
        for (int i = 0; i < v->c[fa].n_runs; i++) {
            if (!isfinite(x[i])) continue;
            for (int j = 0; j < v->c[fb].n_runs; j++)
                if (v->c[fb].seeds[j] == v->c[fa].seeds[i] && isfinite(y[j])) {
                    pa[n_pairs] = x[i];
                    pb[n_pairs++] = y[j];
                    break;
                }
        }
        r->paired = n_pairs >= 2;
        r->test = r->paired ? stats_paired_t(pa, pb, n_pairs)
                            : stats_welch_t(x, v->c[fa].n_runs, y, v->c[fb].n_runs);
        free(pa);
        free(pb);
    }
    free(x);
    free(y);
    free(means);
    free(counts);
}

// How the gap between the first two conditions of a ranking stands against
// the seeds, as the end of a sentence: supported (Holm-adjusted p < 0.05),
// within seed-to-seed noise, or not judgeable with so few seeds. scale and
// prec turn the difference into the sentence's units.
static void judged_text(const cond_rank *r, int family, double scale, int prec, const char *unit,
                        char *out, size_t cap) {
    const stats_test *t = &r->test;
    if (!isfinite(r->p_adj)) {
        snprintf(out, cap, "with %d and %d seeds holding a value, whether this difference exceeds "
                 "seed-to-seed noise cannot be judged (a test needs 2 on each side)",
                 r->n_first, r->n_second);
        return;
    }
    char p[32], n[64];
    if (r->p_adj < 0.001) snprintf(p, sizeof p, "p < 0.001");
    else snprintf(p, sizeof p, "p = %.3f", r->p_adj);
    if (r->paired) snprintf(n, sizeof n, "paired t-test, n = %d seeds", t->n);
    else snprintf(n, sizeof n, "Welch's t-test, n = %d and %d seeds", t->n_a, t->n_b);
    if (r->p_adj < STATS_ALPHA)
        snprintf(out, cap, "the seeds support this difference (%+.*f%s, 95%% CI %.*f to %.*f, %s "
                 "Holm-adjusted over %d comparison%s, %s)", prec, scale * t->diff, unit, prec,
                 scale * t->ci_lo, prec, scale * t->ci_hi, p, family, family == 1 ? "" : "s", n);
    else
        snprintf(out, cap, "this difference is within seed-to-seed noise (%+.*f%s, 95%% CI %.*f to "
                 "%.*f, %s Holm-adjusted over %d comparison%s, %s)", prec, scale * t->diff, unit,
                 prec, scale * t->ci_lo, prec, scale * t->ci_hi, p, family, family == 1 ? "" : "s", n);
}

// "A 3.0, B 4.5" : the means of the conditions with a value.
static void means_list(const cond_view *v, const cond_rank *r, double scale, int prec, const char *unit,
                       char *out, size_t cap) {
    out[0] = '\0';
    int listed = 0;
    for (int c = 0; c < v->n && c < 64; c++) {
        if (!isfinite(r->mean[c])) continue;
        cat(out, cap, "%s%s %.*f%s", listed++ ? ", " : "", v->c[c].name, prec, scale * r->mean[c], unit);
    }
}

static void say_cond_accuracy(line_list *l, const cond_view *v) {
    const conditions_cmp *cmp = &v->cmp;
    if (cmp->best < 0) {
        lines_add(l, "No run has a test evaluation yet, so no accuracy can be compared.");
        return;
    }
    const report_condition *b = &v->c[cmp->best];
    stats_summary sb = stats_summarize(b->final_test_acc, b->n_runs);
    stats_summary fb = stats_summarize(b->final_test_f1, b->n_runs);
    char head[1024];
    if (sb.n >= 2)
        snprintf(head, sizeof head, "%.1f%% (95%% CI %.1f to %.1f, n = %d seeds; mean F1 %.3f)",
                 pct(sb.mean), pct(sb.ci_lo), pct(sb.ci_hi), sb.n, fb.mean);
    else
        snprintf(head, sizeof head, "%.1f%% (a single seed with a value; F1 %.3f)", pct(sb.mean), fb.mean);
    // head without its leading number, for the ranking sentence
    const char *paren = strchr(head, '(');
    if (cmp->n_ranked < 2) {
        lines_add(l, "Only %s has a final test accuracy, so there is no ranking: its mean is %s.",
                  b->name, head);
        return;
    }
    // The runner-up by mean, and the comparison the Comparisons section states for it.
    const conditions_comparison *k = NULL;
    double second_mean = -INFINITY;
    for (int j = 0; j < cmp->n_cmp; j++) {
        const report_condition *o = &v->c[cmp->cmp[j].other];
        stats_summary so = stats_summarize(o->final_test_acc, o->n_runs);
        if (so.mean > second_mean) { second_mean = so.mean; k = &cmp->cmp[j]; }
    }
    LR_ASSERT(k != NULL);
    const report_condition *o = &v->c[k->other];
    char tail[1024], pt[32], nt[64];
    if (k->p_holm < 0.001) snprintf(pt, sizeof pt, "p < 0.001");
    else snprintf(pt, sizeof pt, "p = %.3f", k->p_holm);
    if (k->paired) snprintf(nt, sizeof nt, "paired t-test, n = %d seeds", k->test.n);
    else snprintf(nt, sizeof nt, "Welch's t-test, n = %d and %d seeds", k->test.n_a, k->test.n_b);
    if (!isfinite(k->p_holm))
        snprintf(tail, sizeof tail, "whether this exceeds seed-to-seed noise cannot be judged with "
                 "so few seeds (a test needs 2 on each side)");
    else if (k->p_holm < STATS_ALPHA && k->test.diff > 0)
        snprintf(tail, sizeof tail, "%s beats it (95%% CI %.2f to %.2f points, %s Holm-adjusted over "
                 "%d comparison%s, %s)", b->name, 100 * k->test.ci_lo, 100 * k->test.ci_hi, pt,
                 cmp->n_cmp, cmp->n_cmp == 1 ? "" : "s", nt);
    else
        snprintf(tail, sizeof tail, "this gap is within seed-to-seed noise: no difference is "
                 "detectable with these seeds (95%% CI %.2f to %.2f points, %s Holm-adjusted, %s)",
                 100 * k->test.ci_lo, 100 * k->test.ci_hi, pt, nt);
    lines_add(l, "The highest mean final test accuracy is %.1f%%, by %s %s; the next, %s, averages "
              "%.1f%%, %.1f points lower, and %s.", pct(sb.mean), b->name, paren, o->name,
              pct(second_mean), pct(sb.mean - second_mean), tail);
}

// Peak accuracy, convergence, steadiness, over-fitting and time by condition
// mean; the first two of each ranking are tested, so a claim is made only
// where the seeds bear it. The four claims about results are Holm-adjusted
// together (one family); time is a family of its own: its p-value depends on
// the machine's timing, and must not move the adjusted p-values of the
// others (the same results give the same report, resumed or not).
static void say_cond_secondary(line_list *l, const report_study *s, const report_analysis *a,
                               const cond_view *v) {
    enum { PEAK, CONV, STEADY, GAP, TIME, N_SEC };
    static const cond_metric metrics[N_SEC] = {
        {key_peak, 0, 1}, {key_converged, 1, -1}, {key_sd, 1, -1}, {key_gap, 1, 1}, {key_seconds, 0, -1}};
    cond_rank r[N_SEC];
    double p[N_SEC];
    int family = 0;
    for (int m = 0; m < N_SEC; m++) {
        cond_rank_compute(s, a, v, &metrics[m], &r[m]);
        p[m] = r[m].second >= 0 ? r[m].test.p : NAN;
        family += m < TIME && isfinite(p[m]);
    }
    stats_holm(p, p, TIME); // PEAK .. GAP; TIME keeps its own p
    for (int m = 0; m < N_SEC; m++) r[m].p_adj = p[m];
    char list[3000], judged[600];

    if (r[PEAK].n_ranked > 0) {
        means_list(v, &r[PEAK], 100, 1, "%", list, sizeof list);
        lines_add(l, "Mean best test accuracy over each condition's seeds: %s.", list);
        if (r[PEAK].second >= 0) {
            judged_text(&r[PEAK], family, 100, 2, " points", judged, sizeof judged);
            lines_add(l, "%s has the highest mean peak, %.1f points above the next, %s; %s.",
                      v->c[r[PEAK].first].name, pct(r[PEAK].mean[r[PEAK].first] - r[PEAK].mean[r[PEAK].second]),
                      v->c[r[PEAK].second].name, judged);
        }
    }
    if (r[CONV].n_ranked > 0) {
        means_list(v, &r[CONV], 1, 1, "", list, sizeof list);
        lines_add(l, "Mean first epoch at which a condition's runs reached %.0f%% of their own best test "
                  "accuracy (runs that learned and did not diverge): %s.", 100 * REPORT_CONVERGED_FRACTION, list);
        if (r[CONV].second >= 0) {
            judged_text(&r[CONV], family, 1, 1, " epochs", judged, sizeof judged);
            lines_add(l, "%s got there first on average, %.1f epochs before the next, %s; %s.",
                      v->c[r[CONV].first].name, r[CONV].mean[r[CONV].second] - r[CONV].mean[r[CONV].first],
                      v->c[r[CONV].second].name, judged);
        }
    }
    if (r[STEADY].n_ranked > 0) {
        means_list(v, &r[STEADY], 1, 4, "", list, sizeof list);
        lines_add(l, "Mean standard deviation of the epoch-to-epoch change in test loss (lower is "
                  "steadier): %s.", list);
        if (r[STEADY].second >= 0) {
            judged_text(&r[STEADY], family, 1, 4, "", judged, sizeof judged);
            lines_add(l, "%s was the steadiest on average, ahead of %s; %s.", v->c[r[STEADY].first].name,
                      v->c[r[STEADY].second].name, judged);
        }
    }
    if (r[GAP].n_ranked > 0) {
        means_list(v, &r[GAP], 100, 1, " points", list, sizeof list);
        lines_add(l, "Mean train minus test accuracy at the last evaluation (runs that learned): %s.", list);
        const report_condition *w = &v->c[r[GAP].first];
        double gap = r[GAP].mean[r[GAP].first];
        if (!(gap > 0))
            lines_add(l, "No condition's mean train accuracy exceeds its mean test accuracy (the largest "
                      "difference is %.1f points, %s), so none shows over-fitting yet.", pct(gap), w->name);
        else if (r[GAP].second >= 0) {
            judged_text(&r[GAP], family, 100, 2, " points", judged, sizeof judged);
            lines_add(l, "%s shows the widest mean gap (%.1f points), the strongest sign of over-fitting "
                      "among them, against %.1f for the next, %s; %s.", w->name, pct(gap),
                      pct(r[GAP].mean[r[GAP].second]), v->c[r[GAP].second].name, judged);
        } else
            lines_add(l, "%s shows a mean gap of %.1f points.", w->name, pct(gap));
    }
    if (r[TIME].n_ranked > 0) {
        means_list(v, &r[TIME], 1, 1, " s", list, sizeof list);
        lines_add(l, "Mean wall time per run: %s.", list);
        if (r[TIME].second >= 0) {
            judged_text(&r[TIME], 1, 1, 2, " s", judged, sizeof judged);
            lines_add(l, "%s was the fastest on average, %.2f s per run ahead of the next, %s; %s.",
                      v->c[r[TIME].first].name, r[TIME].mean[r[TIME].second] - r[TIME].mean[r[TIME].first],
                      v->c[r[TIME].second].name, judged);
        }
    }
}

int report_analysis_sentences(const report_study *s, const report_analysis *a, char ***out) {
    line_list l = {0};
    if (s->n_runs == 0) {
        lines_add(&l, "study.json lists no runs.");
    } else {
        cond_view v;
        cond_view_build(s, &v);
        if (v.several) { // condition means; runs are named only for what befell them
            say_cond_accuracy(&l, &v);
            say_cond_secondary(&l, s, a, &v);
        } else {
            say_accuracy(&l, s, a);
            say_convergence(&l, s, a);
            say_stability(&l, s, a);
            say_overfit(&l, s, a);
            say_time(&l, s, a);
        }
        say_divergence(&l, s, a);
        cond_view_free(&v);
    }
    *out = l.lines;
    return l.n;
}

void report_lines_free(char **lines, int n) {
    for (int i = 0; i < n; i++) free(lines[i]);
    free(lines);
}
