// search_report.c: a search study read back for the report (search_report.h):
// study.json's "search" spec, the runs grouped into trials by run.json's
// "trial", each trial's value, status, epochs and best-so-far, the top
// trials, the budget, and the sentences that state the result honestly.
#define _POSIX_C_SOURCE 200809L
#include "search_report.h"
#include "report_lines.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <string.h>

#include "../util/fsutil.h"
#include "report_docs.h"

// ------------------------------------------------------------------ the spec

static json_t *json_file(const char *path, lr_err *e) {
    char *text;
    size_t len;
    if (fs_read_all(path, &text, &len, e) != 0) return NULL;
    json_error_t je;
    json_t *root = json_loadb(text, len, 0, &je);
    free(text);
    if (!root) lr_fail(e, "%s: line %d column %d: expected JSON: %s", path, je.line, je.column, je.text);
    return root;
}

// An optional whole number in [lo, hi]: absent leaves *out.
static int opt_int(json_t *obj, const char *key, long lo, long hi, int *out, const char *path, const char *parent,
                   lr_err *e) {
    json_t *v = json_object_get(obj, key);
    if (!v) return 0;
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
        return lr_fail(e, "%s: %s.%s: expected a whole number in [%ld, %ld]", path, parent, key, lo, hi);
    *out = (int)json_integer_value(v);
    return 0;
}

// A string key: NULL when absent (required: an error), or of another type (an error).
static const char *get_text(json_t *obj, const char *key, int required, const char *path, const char *parent,
                            const char *expected, lr_err *e) {
    json_t *v = json_object_get(obj, key);
    if (!v && !required) return NULL;
    if (!json_is_string(v)) {
        lr_fail(e, "%s: %s.%s: expected %s", path, parent, key, expected);
        return NULL;
    }
    return json_string_value(v);
}

static int pruner_read(json_t *pr, prune_cfg *cfg, const char *path, lr_err *e) {
    const char *parent = STUDY_KEY_SEARCH "." SEARCH_KEY_PRUNER;
    if (!json_is_object(pr))
        return lr_fail(e, "%s: %s: expected an object {\"%s\": \"asha\"|\"median\"|\"none\", ...}", path, parent,
                       SEARCH_KEY_PRUNER_TYPE);
    char where[4600];
    const char *type = get_text(pr, SEARCH_KEY_PRUNER_TYPE, 1, path, parent, "a pruner: asha, median or none", e);
    if (!type) return -1;
    snprintf(where, sizeof where, "%s: %s.%s", path, parent, SEARCH_KEY_PRUNER_TYPE);
    if (search_pruner_parse(type, cfg, where, e) != 0) return -1;
    // The settings of this pruner type (search_pruner_set checks their ranges).
    static const char *const ASHA_KEYS[] = {"grace", "eta", "max_epochs", NULL};
    static const char *const MEDIAN_KEYS[] = {"startup", "warmup", NULL};
    const char *const *keys = cfg->type == PRUNER_ASHA ? ASHA_KEYS : cfg->type == PRUNER_MEDIAN ? MEDIAN_KEYS : NULL;
    for (int i = 0; keys && keys[i]; i++) {
        json_t *v = json_object_get(pr, keys[i]);
        if (!v) continue;
        if (!json_is_integer(v))
            return lr_fail(e, "%s: %s.%s: expected a whole number", path, parent, keys[i]);
        char text[32];
        snprintf(text, sizeof text, "%lld", (long long)json_integer_value(v));
        snprintf(where, sizeof where, "%s: %s", path, parent);
        if (search_pruner_set(cfg, keys[i], text, where, e) != 0) return -1;
    }
    return 0;
}

// study.json "search" into sp; run_epochs fills the pruner's max_epochs when absent.
static int spec_read(json_t *se, search_spec *sp, int run_epochs, const char *path, lr_err *e) {
    const char *parent = STUDY_KEY_SEARCH;
    char where[4600];
    search_spec_init(sp);
    if (!json_is_object(se))
        return lr_fail(e, "%s: %s: expected an object (method, trials, metric, space, ...)", path, parent);
    const char *t = get_text(se, SEARCH_KEY_METHOD, 1, path, parent, "a method: random, tpe or grid", e);
    if (!t) return -1;
    snprintf(where, sizeof where, "%s: %s.%s", path, parent, SEARCH_KEY_METHOD);
    if (search_method_parse(t, &sp->method, where, e) != 0) return -1;
    if (opt_int(se, SEARCH_KEY_TRIALS, 1, SEARCH_MAX_TRIALS, &sp->n_trials, path, parent, e) != 0) return -1;
    if (json_object_get(se, SEARCH_KEY_METRIC)) {
        t = get_text(se, SEARCH_KEY_METRIC, 1, path, parent, "a metric name such as test_acc", e);
        if (!t) return -1;
        snprintf(where, sizeof where, "%s: %s.%s", path, parent, SEARCH_KEY_METRIC);
        if (search_metric_parse(t, &sp->metric, &sp->maximize, where, e) != 0) return -1;
    }
    if (json_object_get(se, SEARCH_KEY_DIRECTION)) {
        t = get_text(se, SEARCH_KEY_DIRECTION, 1, path, parent, "maximize or minimize", e);
        if (!t) return -1;
        snprintf(where, sizeof where, "%s: %s.%s", path, parent, SEARCH_KEY_DIRECTION);
        if (search_direction_parse(t, &sp->maximize, where, e) != 0) return -1;
        sp->direction_set = 1;
    }
    int seed = 1;
    if (opt_int(se, SEARCH_KEY_SEED, 0, 2147483647L, &seed, path, parent, e) != 0) return -1;
    sp->seed = (uint64_t)seed;
    if (opt_int(se, SEARCH_KEY_SEEDS, 1, SEARCH_MAX_SEEDS, &sp->n_seeds, path, parent, e) != 0 ||
        opt_int(se, SEARCH_KEY_LAG, 0, 1000, &sp->lag, path, parent, e) != 0 ||
        opt_int(se, SEARCH_KEY_GRID_POINTS, 2, 1000, &sp->grid_points, path, parent, e) != 0)
        return -1;
    json_t *pr = json_object_get(se, SEARCH_KEY_PRUNER);
    if (pr && !json_is_null(pr) && pruner_read(pr, &sp->pruner, path, e) != 0) return -1;
    json_t *space = json_object_get(se, SEARCH_KEY_SPACE);
    if (!json_is_object(space) || json_object_size(space) == 0)
        return lr_fail(e, "%s: %s.%s: expected an object of parameters, e.g. {\"lr\": \"loguniform:0.0001:1\"}",
                       path, parent, SEARCH_KEY_SPACE);
    const char *name;
    json_t *v;
    json_object_foreach(space, name, v) {
        snprintf(where, sizeof where, "%s: %s.%s.%s", path, parent, SEARCH_KEY_SPACE, name);
        if (!json_is_string(v))
            return lr_fail(e, "%s: expected a spec such as \"loguniform:0.0001:1\" or \"categorical:sgd,adam\"",
                           where);
        search_param p;
        if (param_parse(&p, name, json_string_value(v), where, e) != 0) return -1;
        if (space_add(&sp->space, &p, where, e) != 0) return -1;
    }
    snprintf(where, sizeof where, "%s: %s", path, parent);
    return search_spec_check(sp, run_epochs > 0 ? run_epochs : 1, where, e);
}

// ------------------------------------------------------------------ runs into trials

// The trial number from a folder "runs/trial-NNN/seed-K"; -1 when none.
static int trial_of_folder(const char *name) {
    for (const char *p = name; (p = strstr(p, "trial-")) != NULL; p++) {
        if (p != name && p[-1] != '/') continue;
        char *end;
        errno = 0;
        long v = strtol(p + 6, &end, 10);
        if (end != p + 6 && (*end == '/' || *end == '\0') && errno == 0 && v >= 0 && v < 1000000000L) return (int)v;
    }
    return -1;
}

// Parameter i of the point from the run's configuration (when run.json has no point).
static int point_from_config(const search_param *p, const run_config *c, double *x) {
    char text[300];
    knob_format(p->k, c, text, sizeof text, KNOB_TEXT_EXACT);
    if (p->kind == PARAM_CATEGORICAL) {
        for (int j = 0; j < p->n_choices; j++)
            if (!strcmp(text, p->choices[j])) { *x = j; return 0; }
        return -1;
    }
    char *end;
    double v = strtod(text, &end);
    if (end == text || *end) return -1;
    *x = v;
    return 0;
}

// One value of run.json's "point": a number, or a choice's text.
static int point_value(const search_param *p, json_t *v, double *x) {
    if (p->kind == PARAM_CATEGORICAL) {
        for (int j = 0; j < p->n_choices; j++) {
            if (json_is_string(v) && !strcmp(json_string_value(v), p->choices[j])) { *x = j; return 0; }
            if (json_is_boolean(v) && !strcmp(json_is_true(v) ? "true" : "false", p->choices[j])) { *x = j; return 0; }
            if (json_is_number(v)) { // a numeric choice (batch_size: categorical:64,128)
                char *end;
                double c = strtod(p->choices[j], &end);
                if (end != p->choices[j] && !*end && c == json_number_value(v)) { *x = j; return 0; }
            }
        }
        return -1;
    }
    if (!json_is_number(v)) return -1;
    *x = json_number_value(v);
    return 0;
}

typedef struct {
    int trial, run;
    double x[SEARCH_MAX_PARAMS];
} run_place;

// Where run i belongs: its trial and point. 1 placed, 0 not a trial's run, -1 error.
static int run_place_read(const report_study *s, const search_spec *sp, int i, run_place *pl, lr_err *e) {
    const report_run *r = &s->runs[i];
    char dir[4400], path[4500];
    fs_join(dir, sizeof dir, s->dir, r->name);
    fs_join(path, sizeof path, dir, "run.json");
    pl->run = i;
    pl->trial = trial_of_folder(r->name);
    json_t *root = NULL, *point = NULL;
    if (fs_exists(path)) {
        lr_err ignored;
        root = json_file(path, &ignored); // an unreadable run.json is the study reader's note
        json_t *t = json_object_get(root, RUN_KEY_TRIAL);
        if (t && !(json_is_integer(t) && json_integer_value(t) >= 0 && json_integer_value(t) < 1000000000L)) {
            json_decref(root);
            return lr_fail(e, "%s: %s: expected the trial's number, a whole number >= 0", path, RUN_KEY_TRIAL);
        }
        if (t) pl->trial = (int)json_integer_value(t);
        point = json_object_get(root, RUN_KEY_POINT);
        if (point && !json_is_object(point)) {
            json_decref(root);
            return lr_fail(e, "%s: %s: expected an object {\"%s\": value, ...}", path, RUN_KEY_POINT,
                           sp->space.p[0].k->name);
        }
    }
    for (int k = 0; k < sp->space.n; k++) {
        const search_param *p = &sp->space.p[k];
        json_t *v = json_object_get(point, p->k->name);
        if (v && point_value(p, v, &pl->x[k]) != 0) {
            json_decref(root);
            return lr_fail(e, "%s: %s.%s: expected %s", path, RUN_KEY_POINT, p->k->name,
                           p->kind == PARAM_CATEGORICAL ? "one of the space's choices" : "a number");
        }
        if (!v && point_from_config(p, &r->config, &pl->x[k]) != 0) {
            json_decref(root);
            return lr_fail(e, "%s: %s.%s: the run's %s is not in the space's choices", path, RUN_KEY_POINT,
                           p->k->name, p->k->name);
        }
    }
    json_decref(root);
    return pl->trial >= 0;
}

static int place_cmp(const void *a, const void *b) {
    const run_place *x = a, *y = b;
    if (x->trial != y->trial) return x->trial < y->trial ? -1 : 1;
    return x->run < y->run ? -1 : x->run > y->run;
}

// The run's value: the metric at the last epoch that recorded it (best
// epoch's for best_test_acc); NaN when the run diverged or has none.
static double run_value(const report_run *r, search_metric m) {
    if (r->diverged_epoch || !strcmp(r->status, "failed")) return NAN;
    double best = NAN;
    for (int i = r->n_epochs - 1; i >= 0; i--) {
        const report_epoch *ep = &r->epochs[i];
        double v = NAN;
        switch (m) {
        case METRIC_TEST_ACC: v = ep->test_acc; break;
        case METRIC_TEST_LOSS: v = ep->test_loss; break;
        case METRIC_TEST_F1: v = ep->test_f1; break;
        case METRIC_TRAIN_ACC: v = ep->train_acc; break;
        case METRIC_TRAIN_LOSS: v = ep->train_loss; break;
        case METRIC_TRAIN_F1: v = ep->train_f1; break;
        case METRIC_BEST_TEST_ACC:
            if (isfinite(ep->test_acc) && !(ep->test_acc <= best)) best = ep->test_acc;
            continue;
        }
        if (isfinite(v)) return v;
    }
    return best;
}

static int run_ended(const report_run *r) {
    return !strcmp(r->status, "finished") || !strcmp(r->status, "diverged") || !strcmp(r->status, "failed");
}

// 1 when a is better than b (NaN is never better).
static int better(int maximize, double a, double b) {
    if (!isfinite(a)) return 0;
    if (!isfinite(b)) return 1;
    return maximize ? a > b : a < b;
}

// Ranking classes: completed with a value, pruned, completed without (diverged), running.
static int row_class(const search_row *w) {
    if (w->state == SR_COMPLETE) return isfinite(w->value) ? 0 : 2;
    return w->state == SR_PRUNED ? 1 : 3;
}

// 1 when row a ranks before row b (search_report.h: the order of the top table).
static int ranks_before(int maximize, const search_row *a, const search_row *b) {
    int ca = row_class(a), cb = row_class(b);
    if (ca != cb) return ca < cb;
    if (ca == 1 && a->epochs != b->epochs) return a->epochs > b->epochs;
    if (better(maximize, a->value, b->value)) return 1;
    if (better(maximize, b->value, a->value)) return 0;
    return a->trial < b->trial;
}

static void rows_settle(search_report *r, const report_study *s) {
    const search_spec *sp = &r->spec;
    for (int k = 0; k < r->n_rows; k++) {
        search_row *w = &r->rows[k];
        int pruned = 0, ended = 1, all_finite = w->n_runs > 0;
        double sum = 0;
        w->epochs = 0;
        w->epochs_spent = 0;
        for (int j = 0; j < w->n_runs; j++) {
            const report_run *run = &s->runs[w->runs[j]];
            w->values[j] = run_value(run, sp->metric);
            pruned |= !strcmp(run->status, RUN_STATUS_PRUNED);
            ended &= run_ended(run);
            w->diverged |= run->diverged_epoch > 0 || !strcmp(run->status, "failed");
            all_finite &= isfinite(w->values[j]);
            sum += w->values[j];
            if (run->n_epochs > w->epochs) w->epochs = run->n_epochs;
            w->epochs_spent += run->n_epochs;
        }
        w->state = pruned ? SR_PRUNED : ended && w->n_runs >= sp->n_seeds ? SR_COMPLETE : SR_RUNNING;
        w->value = all_finite ? sum / w->n_runs : NAN;
        w->ci_half = NAN;
        if (all_finite && w->n_runs >= 2) w->ci_half = stats_ci_half(w->n_runs, stats_summarize(w->values, w->n_runs).sd);
        r->epochs_spent += w->epochs_spent;
    }
    double best = NAN;
    for (int k = 0; k < r->n_rows; k++) {
        search_row *w = &r->rows[k];
        if (w->state == SR_COMPLETE && better(sp->maximize, w->value, best)) best = w->value;
        w->best_so_far = best;
    }
    // The top rows: selection of the best remaining, SEARCH_TOP_TRIALS times.
    char *taken = lr_calloc((size_t)r->n_rows + 1, 1);
    for (r->n_order = 0; r->n_order < SEARCH_TOP_TRIALS && r->n_order < r->n_rows; r->n_order++) {
        int pick = -1;
        for (int k = 0; k < r->n_rows; k++)
            if (!taken[k] && (pick < 0 || ranks_before(sp->maximize, &r->rows[k], &r->rows[pick]))) pick = k;
        taken[pick] = 1;
        r->order[r->n_order] = pick;
    }
    free(taken);
    r->best = r->runner_up = -1;
    if (r->n_order > 0 && row_class(&r->rows[r->order[0]]) == 0) r->best = r->order[0];
    if (r->n_order > 1 && row_class(&r->rows[r->order[1]]) == 0) r->runner_up = r->order[1];
}

int search_report_read(const report_study *s, search_report *r, int *has_search, lr_err *e) {
    memset(r, 0, sizeof *r);
    r->best = r->runner_up = -1;
    *has_search = 0;
    char path[4400];
    fs_join(path, sizeof path, s->dir, "study.json");
    json_t *root = json_file(path, e);
    if (!root) return -1;
    json_t *se = json_object_get(root, STUDY_KEY_SEARCH);
    if (!se) {
        json_decref(root);
        return 0;
    }
    int run_epochs = 0;
    for (int i = 0; i < s->n_runs; i++)
        if (s->runs[i].config.epochs > run_epochs) run_epochs = s->runs[i].config.epochs;
    int rc = spec_read(se, &r->spec, run_epochs, path, e);
    json_decref(root);
    if (rc != 0) return -1;
    *has_search = 1;
    r->max_epochs = r->spec.pruner.type == PRUNER_ASHA ? r->spec.pruner.max_epochs : run_epochs;

    run_place *pl = lr_calloc((size_t)s->n_runs + 1, sizeof *pl);
    int n_pl = 0, unplaced = 0, extra = 0;
    for (int i = 0; i < s->n_runs; i++) {
        int placed = run_place_read(s, &r->spec, i, &pl[n_pl], e);
        if (placed < 0) {
            free(pl);
            return -1;
        }
        if (placed) n_pl++;
        else unplaced++;
    }
    qsort(pl, (size_t)n_pl, sizeof *pl, place_cmp);
    r->rows = lr_calloc((size_t)n_pl + 1, sizeof *r->rows);
    for (int i = 0; i < n_pl; i++) {
        if (r->n_rows == 0 || r->rows[r->n_rows - 1].trial != pl[i].trial) {
            search_row *w = &r->rows[r->n_rows++];
            w->trial = pl[i].trial;
            memcpy(w->x, pl[i].x, sizeof w->x);
        }
        search_row *w = &r->rows[r->n_rows - 1];
        if (w->n_runs == SEARCH_MAX_SEEDS) { extra++; continue; }
        w->runs[w->n_runs++] = pl[i].run;
    }
    free(pl);
    if (unplaced || extra)
        snprintf(r->note, sizeof r->note, "%d run%s of study.json belong to no trial (no run.json \"%s\" and no "
                 "trial-N folder)%s; %s left out of the search's figures and tables.", unplaced,
                 unplaced == 1 ? "" : "s", RUN_KEY_TRIAL, extra ? " or exceed the seeds a trial can have" : "",
                 unplaced + extra == 1 ? "it is" : "they are");
    rows_settle(r, s);
    r->epochs_full = (long)r->n_rows * r->spec.n_seeds * r->max_epochs;
    r->grid_size = search_grid_size(&r->spec);
    r->epochs_grid = r->grid_size * r->spec.n_seeds * r->max_epochs;
    return 0;
}

void search_report_free(search_report *r) {
    free(r->rows);
    r->rows = NULL;
    r->n_rows = 0;
}

// ------------------------------------------------------------------ text

double search_metric_scale(search_metric m) {
    return m == METRIC_TEST_ACC || m == METRIC_TRAIN_ACC || m == METRIC_BEST_TEST_ACC ? 100.0 : 1.0;
}

static int is_loss(search_metric m) { return m == METRIC_TEST_LOSS || m == METRIC_TRAIN_LOSS; }

void search_value_text(const search_report *r, double v, char *out, size_t cap) {
    search_metric m = r->spec.metric;
    if (!isfinite(v)) snprintf(out, cap, "\xE2\x80\x93"); // en dash: no value
    else if (search_metric_scale(m) != 1.0) snprintf(out, cap, "%.2f%%", 100 * v);
    else snprintf(out, cap, is_loss(m) ? "%.4f" : "%.3f", v);
}

// A difference: "1.30 points" or "0.0123".
static void diff_text(const search_report *r, double d, char *out, size_t cap) {
    if (search_metric_scale(r->spec.metric) != 1.0) snprintf(out, cap, "%.2f points", 100 * d);
    else snprintf(out, cap, is_loss(r->spec.metric) ? "%.4f" : "%.3f", d);
}

void search_point_text(const search_report *r, const double *x, char *out, size_t cap) {
    size_t n = 0;
    out[0] = '\0';
    for (int i = 0; i < r->spec.space.n && n < cap; i++) {
        const search_param *p = &r->spec.space.p[i];
        char v[64];
        if (p->kind == PARAM_CATEGORICAL && x[i] >= 0 && x[i] < p->n_choices) snprintf(v, sizeof v, "%s", p->choices[(int)x[i]]);
        else if (p->kind == PARAM_INT) snprintf(v, sizeof v, "%.0f", x[i]);
        else snprintf(v, sizeof v, "%.3g", x[i]);
        n += (size_t)snprintf(out + n, cap - n, "%s%s=%s", i ? ", " : "", p->k->name, v);
    }
}


static void p_text(double p, char *out, size_t cap) {
    if (p < 0.001) snprintf(out, cap, "p < 0.001");
    else snprintf(out, cap, "p = %.3f", p);
}

// "trial 5 (lr=0.0123, optimizer=adam; 64.00%)" or with "± 0.50 over 3 seeds".
static void trial_text(const search_report *r, const search_row *w, char *out, size_t cap) {
    char pt[1200], v[64], h[128] = "";
    search_point_text(r, w->x, pt, sizeof pt);
    search_value_text(r, w->value, v, sizeof v);
    if (isfinite(w->ci_half)) {
        char d[64];
        diff_text(r, w->ci_half, d, sizeof d);
        snprintf(h, sizeof h, " \xC2\xB1 %s over %d seeds", d, w->n_runs);
    }
    snprintf(out, cap, "trial %d (%s; %s %s%s)", w->trial, pt, search_metric_name(r->spec.metric), v, h);
}

// Seed-matched values of the best two: the paired test when 2 pairs exist, else Welch.
static void best_vs_runner(const report_study *s, const search_report *r, stats_test *t, int *paired,
                           double *sd_diff) {
    const search_row *b = &r->rows[r->best], *o = &r->rows[r->runner_up];
    double xa[SEARCH_MAX_SEEDS], xb[SEARCH_MAX_SEEDS];
    int m = 0;
    for (int i = 0; i < b->n_runs; i++)
        for (int j = 0; j < o->n_runs; j++)
            if (s->runs[b->runs[i]].seed == s->runs[o->runs[j]].seed && isfinite(b->values[i]) &&
                isfinite(o->values[j])) {
                xa[m] = b->values[i];
                xb[m++] = o->values[j];
                break;
            }
    *paired = m >= 2;
    if (*paired) {
        *t = stats_paired_t(xa, xb, m);
        for (int i = 0; i < m; i++) xa[i] -= xb[i];
        *sd_diff = stats_summarize(xa, m).sd;
    } else {
        *t = stats_welch_t(b->values, b->n_runs, o->values, o->n_runs);
        stats_summary sb = stats_summarize(b->values, b->n_runs), so = stats_summarize(o->values, o->n_runs);
        *sd_diff = sqrt(sb.sd * sb.sd + so.sd * so.sd);
    }
}

// The best trial against the runner-up, as one sentence.
static void say_best(line_list *l, const report_study *s, const search_report *r) {
    int n_complete = 0, n_pruned = 0;
    for (int k = 0; k < r->n_rows; k++) {
        n_complete += r->rows[k].state == SR_COMPLETE;
        n_pruned += r->rows[k].state == SR_PRUNED;
    }
    if (r->best < 0) {
        say(l, "No trial has completed with a value yet (%d trial%s run, %d pruned), so the search has no best "
               "trial.", r->n_rows, r->n_rows == 1 ? "" : "s", n_pruned);
        return;
    }
    char bt[1500], ot[1500], d[64];
    trial_text(r, &r->rows[r->best], bt, sizeof bt);
    if (r->runner_up < 0) {
        say(l, "The best trial is %s, the only completed trial with a value, so it is compared with none.", bt);
        return;
    }
    const search_row *b = &r->rows[r->best], *o = &r->rows[r->runner_up];
    trial_text(r, o, ot, sizeof ot);
    diff_text(r, fabs(b->value - o->value), d, sizeof d);
    const char *dir = r->spec.maximize ? "ahead of" : "below";
    if (r->spec.n_seeds < 2 || b->n_runs < 2 || o->n_runs < 2) {
        // No spread is known: say what a test would need, with the gap as the spread (effect size 1).
        int need = stats_seeds_needed(b->value - o->value, fabs(b->value - o->value));
        char tail[300];
        if (need > 0)
            snprintf(tail, sizeof tail, "were the spread of their difference as large as the gap itself, a paired "
                     "test would need about %d seeds per trial (seeds: %d under search:, or --search-seeds %d)",
                     need, need, need);
        else
            snprintf(tail, sizeof tail, "their values are equal, so no number of seeds would separate them");
        say(l, "The best trial is %s, %s %s the runner-up, %s. With one seed per trial the search cannot tell "
               "whether it is really better: the spread from seed to seed is unknown and can exceed a gap this "
               "close; %s.", bt, d, dir, ot, tail);
        return;
    }
    stats_test t;
    int paired;
    double sd_diff;
    best_vs_runner(s, r, &t, &paired, &sd_diff);
    double sc = search_metric_scale(r->spec.metric);
    const char *unit = sc != 1.0 ? " points" : "";
    char nt[80], pt[32];
    if (paired) snprintf(nt, sizeof nt, "paired t-test, n = %d seeds", t.n);
    else snprintf(nt, sizeof nt, "Welch's t-test, n = %d and %d seeds", t.n_a, t.n_b);
    p_text(t.p, pt, sizeof pt);
    if (!isfinite(t.p)) {
        say(l, "The best trial is %s, %s %s the runner-up, %s; too few of their seeds have a value (a test "
               "needs 2 on each side), so whether they differ cannot be judged.", bt, d, dir, ot);
    } else if (t.p < STATS_ALPHA) {
        say(l, "The best trial is %s, %s %s the runner-up, %s; the seeds support this difference (95%% CI "
               "%.2f to %.2f%s, %s, %s).", bt, d, dir, ot, sc * t.ci_lo, sc * t.ci_hi, unit, nt, pt);
    } else {
        int need = stats_seeds_needed(t.diff, sd_diff), have = paired ? t.n : (t.n_a < t.n_b ? t.n_a : t.n_b);
        char tail[200] = "";
        if (need < 0) snprintf(tail, sizeof tail, "; the observed difference is zero, so no number of seeds would "
                                                  "separate them");
        else if (need > have) snprintf(tail, sizeof tail, "; about %d seeds per trial would detect a difference "
                                                          "of this size", need);
        say(l, "The best trial is %s, %s %s the runner-up, %s; the two cannot be told apart: the difference is "
               "within seed-to-seed noise (95%% CI %.2f to %.2f%s, %s, %s)%s.", bt, d, dir, ot, sc * t.ci_lo,
            sc * t.ci_hi, unit, nt, pt, tail);
    }
}

static void say_pruned(line_list *l, const search_report *r) {
    int n = 0;
    char list[1500] = "";
    size_t used = 0;
    int last = 0;
    for (int k = 0; k < r->n_rows; k++)
        if (r->rows[k].state == SR_PRUNED && r->rows[k].epochs > last) last = r->rows[k].epochs;
    for (int ep = 0; ep <= last && used < sizeof list; ep++) {
        int c = 0;
        for (int k = 0; k < r->n_rows; k++) c += r->rows[k].state == SR_PRUNED && r->rows[k].epochs == ep;
        if (!c) continue;
        used += (size_t)snprintf(list + used, sizeof list - used, "%s%d at epoch %d", n ? ", " : "", c, ep);
        n += c;
    }
    if (n == 0) return;
    say(l, "%d of the %d trials were pruned (%s); their values are measured at the epoch they stopped, so they are "
           "drawn apart and not ranked against completed trials.", n, r->n_rows, list);
}

// The budget as one sentence (also the Budget paragraph of the section).
static void budget_text(const search_report *r, char *out, size_t cap) {
    int n = snprintf(out, cap, "The search spent %ld epochs of training over %d trial%s (%d seed%s each, at most %d "
                     "epochs per run)", r->epochs_spent, r->n_rows, r->n_rows == 1 ? "" : "s", r->spec.n_seeds,
                     r->spec.n_seeds == 1 ? "" : "s", r->max_epochs);
    if (n < 0 || (size_t)n >= cap) return;
    if (r->epochs_full > 0)
        n += snprintf(out + n, cap - (size_t)n, ": %.1f%% of the %ld epochs that running every one of these trials "
                      "to epoch %d would have cost (trials \xC3\x97 seeds \xC3\x97 %d)",
                      100.0 * (double)r->epochs_spent / (double)r->epochs_full, r->epochs_full, r->max_epochs,
                      r->max_epochs);
    if ((size_t)n >= cap) return;
    if (r->epochs_grid > 0)
        snprintf(out + n, cap - (size_t)n, ", and %.1f%% of the %ld epochs of a grid of similar resolution (the %ld "
                 "points `method: grid` takes on this space: %d values per continuous parameter, every choice, each "
                 "point on %d seed%s to epoch %d).", 100.0 * (double)r->epochs_spent / (double)r->epochs_grid,
                 r->epochs_grid, r->grid_size, r->spec.grid_points, r->spec.n_seeds, r->spec.n_seeds == 1 ? "" : "s",
                 r->max_epochs);
    else
        snprintf(out + n, cap - (size_t)n, ".");
}

int search_report_sentences(const report_study *s, const search_report *r, char ***out) {
    line_list l = {0};
    if (r->n_rows == 0) {
        say(&l, "The search has no trial with a run folder yet.");
    } else {
        say_best(&l, s, r);
        say_pruned(&l, r);
    }
    *out = l.lines;
    return l.n;
}

// ------------------------------------------------------------------ the section

static const char NO_VALUE[] = "\xE2\x80\x93"; // en dash

enum { TOP_COLS = 6 };
static const char *const TOP_HEAD[TOP_COLS] = {"rank", "trial", "point", "value", "status", "epochs"};
typedef char top_cell[1300];

static void top_row(const search_report *r, int pos, top_cell row[TOP_COLS]) {
    const search_row *w = &r->rows[r->order[pos]];
    if (row_class(w) == 0) snprintf(row[0], sizeof row[0], "%d", pos + 1); // class 0 comes first
    else snprintf(row[0], sizeof row[0], "%s", NO_VALUE);
    snprintf(row[1], sizeof row[1], "%d", w->trial);
    search_point_text(r, w->x, row[2], sizeof row[2]);
    char v[64], h[64];
    search_value_text(r, w->value, v, sizeof v);
    if (w->state == SR_RUNNING || !isfinite(w->value)) {
        snprintf(row[3], sizeof row[3], "%s", NO_VALUE);
    } else if (w->state == SR_PRUNED) {
        snprintf(row[3], sizeof row[3], "(%s)", v);
    } else if (isfinite(w->ci_half)) {
        diff_text(r, w->ci_half, h, sizeof h);
        snprintf(row[3], sizeof row[3], "%s \xC2\xB1 %s", v, h);
    } else {
        snprintf(row[3], sizeof row[3], "%s", v);
    }
    if (w->state == SR_PRUNED) snprintf(row[4], sizeof row[4], "pruned (epoch %d)", w->epochs);
    else if (w->state == SR_RUNNING) snprintf(row[4], sizeof row[4], "running");
    else snprintf(row[4], sizeof row[4], "%s", w->diverged ? "diverged" : "complete");
    snprintf(row[5], sizeof row[5], "%d / %d", w->epochs, r->max_epochs);
}

static const char TOP_NOTE[] =
    "rank: completed trials by their value (the metric at the last epoch, the mean over the point's seeds "
    "\xC2\xB1 the half-width of its 95% interval when it has several); a pruned trial's value, in parentheses, "
    "is the one at the epoch it stopped and is not ranked.";

// "tpe search over lr loguniform:0.0001:1 and ..., 8 of 40 trials run, ..."
static void header_text(const search_report *r, char *out, size_t cap) {
    const search_spec *sp = &r->spec;
    char space[2000] = "", pruner[160];
    size_t n = 0;
    for (int i = 0; i < sp->space.n && n < sizeof space; i++) {
        char spec[900];
        param_format(&sp->space.p[i], spec, sizeof spec);
        n += (size_t)snprintf(space + n, sizeof space - n, "%s`%s=%s`", i == 0 ? "" : i == sp->space.n - 1 ? " and " : ", ",
                              sp->space.p[i].k->name, spec);
    }
    const prune_cfg *p = &sp->pruner;
    if (p->type == PRUNER_ASHA)
        snprintf(pruner, sizeof pruner, "ASHA (grace %d, eta %d, max_epochs %d)", p->grace, p->eta, p->max_epochs);
    else if (p->type == PRUNER_MEDIAN)
        snprintf(pruner, sizeof pruner, "the median rule (startup %d, warmup %d)", p->n_startup, p->n_warmup);
    else
        snprintf(pruner, sizeof pruner, "none");
    snprintf(out, cap, "A %s search over %s: %d of %d trials run, metric %s (%s), %d seed%s per point, search seed "
             "%llu, pruner: %s.", search_method_name(sp->method), space, r->n_rows, sp->n_trials,
             search_metric_name(sp->metric), sp->maximize ? "maximize" : "minimize", sp->n_seeds,
             sp->n_seeds == 1 ? "" : "s", (unsigned long long)sp->seed, pruner);
}

void search_report_md(FILE *f, const report_study *s, const search_report *r, const report_figure *figs,
                      int n_figs) {
    (void)s;
    char text[4096];
    fprintf(f, "\n## Search\n\n");
    header_text(r, text, sizeof text);
    report_md_prose(f, text);
    fprintf(f, "\n\n### Top trials\n\n|");
    for (int c = 0; c < TOP_COLS; c++) fprintf(f, " %s |", TOP_HEAD[c]);
    fprintf(f, "\n|---:|---:|---|---:|---|---:|\n");
    for (int i = 0; i < r->n_order; i++) {
        top_cell row[TOP_COLS];
        top_row(r, i, row);
        fprintf(f, "|");
        for (int c = 0; c < TOP_COLS; c++) { fputc(' ', f); report_md_text(f, row[c]); fprintf(f, " |"); }
        fprintf(f, "\n");
    }
    fprintf(f, "\n");
    report_md_text(f, TOP_NOTE);
    if (r->n_rows > r->n_order) fprintf(f, " The other %d trials are in the Results table.", r->n_rows - r->n_order);
    fprintf(f, "\n\n### Budget\n\n");
    budget_text(r, text, sizeof text);
    report_md_prose(f, text);
    fprintf(f, "\n\n");
    if (r->note[0]) { fprintf(f, "Note: "); report_md_text(f, r->note); fprintf(f, "\n\n"); }
    for (int i = 0; i < n_figs; i++) report_md_figure(f, &figs[i]);
}

int search_report_html(FILE *f, const report_study *s, const search_report *r, const report_figure *figs,
                       int n_figs, lr_err *e) {
    char text[4096];
    fprintf(f, "<h2 id=\"search\">Search</h2>\n<p>");
    header_text(r, text, sizeof text);
    report_html_prose(f, text);
    fprintf(f, "</p>\n<h3>Top trials</h3>\n<table>\n<tr>");
    for (int c = 0; c < TOP_COLS; c++) fprintf(f, "<th%s>%s</th>", c == 2 || c == 4 ? " class=\"l\"" : "", TOP_HEAD[c]);
    fprintf(f, "</tr>\n");
    for (int i = 0; i < r->n_order; i++) {
        top_cell row[TOP_COLS];
        top_row(r, i, row);
        fprintf(f, "<tr>");
        for (int c = 0; c < TOP_COLS; c++) {
            fprintf(f, "<td%s>", c == 2 || c == 4 ? " class=\"l\"" : "");
            report_html_text(f, row[c]);
            fprintf(f, "</td>");
        }
        fprintf(f, "</tr>\n");
    }
    fprintf(f, "</table>\n<p>");
    report_html_text(f, TOP_NOTE);
    if (r->n_rows > r->n_order) fprintf(f, " The other %d trials are in the Results table.", r->n_rows - r->n_order);
    fprintf(f, "</p>\n<h3>Budget</h3>\n<p>");
    budget_text(r, text, sizeof text);
    report_html_prose(f, text);
    fprintf(f, "</p>\n");
    if (r->note[0]) { fprintf(f, "<p>Note: "); report_html_text(f, r->note); fprintf(f, "</p>\n"); }
    for (int i = 0; i < n_figs; i++)
        if (report_html_figure(f, s, &figs[i], e) != 0) return -1;
    return 0;
}
