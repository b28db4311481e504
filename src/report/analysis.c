// analysis.c: the findings of a study, computed from its recorded numbers:
// per-run statistics, study-wide picks, and the sentences that state them.
#define _POSIX_C_SOURCE 200809L
#include "report.h"

#include <math.h>
#include <stdarg.h>
#include <string.h>

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
                  "at epoch %d, %.1f points ahead of the next, %s (%.1f%%).",
                  pct(bf->final_test_acc), bf->final_test_f1, ref(&s->runs[a->best_final], rb),
                  bf->final_test_epoch,
                  pct(bf->final_test_acc - a->runs[second].final_test_acc),
                  s->runs[second].label, pct(a->runs[second].final_test_acc));
    }
    const report_run_stats *bp = &a->runs[a->best_peak];
    if (a->best_peak == a->best_final) {
        if (bp->best_epoch == bf->final_test_epoch)
            lines_add(l, "%s also holds the best peak test accuracy, at its final evaluation.",
                      s->runs[a->best_peak].label);
        else
            lines_add(l, "%s also holds the best peak test accuracy, %.1f%% at epoch %d, "
                      "%.1f points above where it ended.", s->runs[a->best_peak].label,
                      pct(bp->best_test_acc), bp->best_epoch,
                      pct(bp->best_test_acc - bf->final_test_acc));
    } else {
        lines_add(l, "The best peak test accuracy belongs to a different run: %s reached "
                  "%.1f%% at epoch %d but ended at %.1f%%.", ref(&s->runs[a->best_peak], rb),
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
        lines_add(l, "Among runs that learned and did not diverge, %s got there first, at epoch %d.",
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
                      "times as wide.", s->runs[a->most_stable].label,
                      s->runs[a->least_stable].label, hi / lo);
        else
            lines_add(l, "The steadiest was %s, whose test loss changed by the same amount every "
                      "epoch; the most erratic was %s.", s->runs[a->most_stable].label,
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
                  "among them.", s->runs[a->widest_gap].label, pct(w->overfit_gap));
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

int report_analysis_sentences(const report_study *s, const report_analysis *a, char ***out) {
    line_list l = {0};
    if (s->n_runs == 0) {
        lines_add(&l, "study.json lists no runs.");
    } else {
        say_accuracy(&l, s, a);
        say_convergence(&l, s, a);
        say_stability(&l, s, a);
        say_overfit(&l, s, a);
        say_time(&l, s, a);
        say_divergence(&l, s, a);
    }
    *out = l.lines;
    return l.n;
}

void report_lines_free(char **lines, int n) {
    for (int i = 0; i < n; i++) free(lines[i]);
    free(lines);
}
