// search_run.c: a search as work for the scheduler (search_run.h).
#include "search_run.h"
#include "../util/fsutil.h"

#include <math.h>
#include <string.h>

struct search_run {
    const study *s;
    const search_spec *sp;
    int k;                    // runs per trial (seeds)
    int R;                    // the runs' epochs
    int n_max;                // trials at most
    int n;                    // trials suggested so far
    int exhausted;            // a finite space ran out (search_suggest)
    int failed;               // stopped on an error (msg)
    char msg[sizeof((lr_err *)0)->msg];
    json_t *spec_json;        // study.json's "search"
    search_trial *trials;     // (n_max)
    double *curve;            // (n_max, R) the trial's metric, mean over its runs
    double *val;              // (n_max * k, R) each run's metric
    int *reached;             // (n_max * k) epochs of val recorded (R once a run ended early)
    int *until;               // (n_max) the epoch its current items run to
    int *in_flight;           // (n_max) its items not yet done
    int *waiting;             // (n_max) the epoch whose decision it waits for, 0 none
    char *promoted;           // (n_max) continued by ASHA's promotion: decided against all trials
};

void search_run_folder(char *out, size_t cap, int trial, uint64_t seed) {
    snprintf(out, cap, "runs/trial-%03d/seed-%llu", trial, (unsigned long long)seed);
}

// ---------------------------------------------------------------- study.json

json_t *search_spec_to_json(const search_spec *sp, const run_config *base, const uint64_t *seeds, int k) {
    json_t *j = json_object();
    json_object_set_new(j, SEARCH_KEY_METHOD, json_string(search_method_name(sp->method)));
    json_object_set_new(j, SEARCH_KEY_TRIALS, json_integer(sp->n_trials));
    json_object_set_new(j, SEARCH_KEY_METRIC, json_string(search_metric_name(sp->metric)));
    json_object_set_new(j, SEARCH_KEY_DIRECTION, json_string(sp->maximize ? "maximize" : "minimize"));
    json_object_set_new(j, SEARCH_KEY_SEED, json_integer((json_int_t)sp->seed));
    json_object_set_new(j, SEARCH_KEY_SEEDS, json_integer(k));
    json_t *rs = json_array();
    for (int i = 0; i < k; i++) json_array_append_new(rs, json_integer((json_int_t)seeds[i]));
    json_object_set_new(j, SEARCH_KEY_RUN_SEEDS, rs);
    json_object_set_new(j, SEARCH_KEY_LAG, json_integer(sp->lag));
    json_object_set_new(j, SEARCH_KEY_GRID_POINTS, json_integer(sp->grid_points));
    const prune_cfg *p = &sp->pruner;
    json_t *pr;
    if (p->type == PRUNER_ASHA)
        pr = json_pack("{s:s, s:i, s:i, s:i}", "type", "asha", "grace", p->grace, "eta", p->eta, "max_epochs",
                       p->max_epochs);
    else if (p->type == PRUNER_MEDIAN)
        pr = json_pack("{s:s, s:i, s:i}", "type", "median", "startup", p->n_startup, "warmup", p->n_warmup);
    else
        pr = json_pack("{s:s}", "type", "none");
    LR_ASSERT(pr != NULL);
    json_object_set_new(j, SEARCH_KEY_PRUNER, pr);
    json_t *space = json_object();
    for (int i = 0; i < sp->space.n; i++) {
        char text[SEARCH_MAX_CHOICES * SEARCH_MAX_TEXT + 64];
        param_format(&sp->space.p[i], text, sizeof text);
        json_object_set_new(space, sp->space.p[i].k->name, json_string(text));
    }
    json_object_set_new(j, SEARCH_KEY_SPACE, space);
    json_object_set_new(j, SEARCH_KEY_BASE, knobs_to_json(base));
    return j;
}

static int get_int(json_t *j, const char *key, long lo, long hi, long *out, const char *where, lr_err *e) {
    json_t *v = json_object_get(j, key);
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
        return lr_fail(e, "%s: %s.%s: expected a whole number in [%ld, %ld]", where, STUDY_KEY_SEARCH, key, lo, hi);
    *out = (long)json_integer_value(v);
    return 0;
}

static const char *get_str(json_t *j, const char *key, const char *where, lr_err *e) {
    json_t *v = json_object_get(j, key);
    if (!json_is_string(v)) {
        lr_fail(e, "%s: %s.%s: expected a text", where, STUDY_KEY_SEARCH, key);
        return NULL;
    }
    return json_string_value(v);
}

int search_spec_from_json(json_t *j, search_spec *sp, run_config *base, uint64_t *seeds, int *k, const char *where,
                          lr_err *e) {
    if (!json_is_object(j)) return lr_fail(e, "%s: %s: expected an object", where, STUDY_KEY_SEARCH);
    char w[4400];
    snprintf(w, sizeof w, "%s: %s", where, STUDY_KEY_SEARCH);
    const char *t;
    long v = 0;
    if (!(t = get_str(j, SEARCH_KEY_METHOD, where, e)) || search_method_parse(t, &sp->method, w, e) != 0) return -1;
    if (get_int(j, SEARCH_KEY_TRIALS, 1, SEARCH_MAX_TRIALS, &v, where, e) != 0) return -1;
    sp->n_trials = (int)v;
    if (!(t = get_str(j, SEARCH_KEY_METRIC, where, e)) || search_metric_parse(t, &sp->metric, &sp->maximize, w, e) != 0)
        return -1;
    if (!(t = get_str(j, SEARCH_KEY_DIRECTION, where, e)) || search_direction_parse(t, &sp->maximize, w, e) != 0)
        return -1;
    sp->direction_set = 1;
    json_t *seed = json_object_get(j, SEARCH_KEY_SEED);
    if (!json_is_integer(seed)) return lr_fail(e, "%s.%s: expected a whole number", w, SEARCH_KEY_SEED);
    sp->seed = (uint64_t)json_integer_value(seed);
    if (get_int(j, SEARCH_KEY_SEEDS, 1, SEARCH_MAX_SEEDS, &v, where, e) != 0) return -1;
    sp->n_seeds = (int)v;
    if (get_int(j, SEARCH_KEY_LAG, 0, SEARCH_MAX_TRIALS, &v, where, e) != 0) return -1;
    sp->lag = (int)v;
    if (get_int(j, SEARCH_KEY_GRID_POINTS, 2, 100000, &v, where, e) != 0) return -1;
    sp->grid_points = (int)v;
    json_t *rs = json_object_get(j, SEARCH_KEY_RUN_SEEDS);
    if (!json_is_array(rs) || json_array_size(rs) < 1 || json_array_size(rs) > SEARCH_MAX_SEEDS)
        return lr_fail(e, "%s.%s: expected a list of 1 to %d seeds", w, SEARCH_KEY_RUN_SEEDS, SEARCH_MAX_SEEDS);
    *k = (int)json_array_size(rs);
    for (int i = 0; i < *k; i++) {
        json_t *s = json_array_get(rs, (size_t)i);
        if (!json_is_integer(s)) return lr_fail(e, "%s.%s[%d]: expected a seed", w, SEARCH_KEY_RUN_SEEDS, i);
        seeds[i] = (uint64_t)json_integer_value(s);
    }
    json_t *pr = json_object_get(j, SEARCH_KEY_PRUNER);
    const char *type = json_is_object(pr) ? json_string_value(json_object_get(pr, "type")) : NULL;
    if (!type) return lr_fail(e, "%s.%s: expected {\"type\": asha|median|none, ...}", w, SEARCH_KEY_PRUNER);
    char pw[4500];
    snprintf(pw, sizeof pw, "%s.%s", w, SEARCH_KEY_PRUNER);
    if (search_pruner_parse(type, &sp->pruner, pw, e) != 0) return -1;
    const char *key;
    json_t *val;
    json_object_foreach(pr, key, val) {
        if (!strcmp(key, "type")) continue;
        char num[32];
        if (!json_is_integer(val)) return lr_fail(e, "%s.%s: expected a whole number", pw, key);
        snprintf(num, sizeof num, "%lld", (long long)json_integer_value(val));
        if (search_pruner_set(&sp->pruner, key, num, pw, e) != 0) return -1;
    }
    json_t *space = json_object_get(j, SEARCH_KEY_SPACE);
    if (!json_is_object(space) || json_object_size(space) == 0)
        return lr_fail(e, "%s.%s: expected {knob: spec, ...}", w, SEARCH_KEY_SPACE);
    json_object_foreach(space, key, val) {
        search_param p;
        char sw[4600];
        snprintf(sw, sizeof sw, "%s.%s", w, SEARCH_KEY_SPACE);
        if (!json_is_string(val)) return lr_fail(e, "%s.%s: expected a spec text", sw, key);
        if (param_parse(&p, key, json_string_value(val), sw, e) != 0 || space_add(&sp->space, &p, sw, e) != 0)
            return -1;
    }
    config_defaults(base);
    char bw[4500];
    snprintf(bw, sizeof bw, "%s.%s", w, SEARCH_KEY_BASE);
    json_t *b = json_object_get(j, SEARCH_KEY_BASE);
    if (!json_is_object(b)) return lr_fail(e, "%s: expected every knob", bw);
    return knobs_from_json(b, base, bw, e);
}

// ---------------------------------------------------------------- the machine

static int all_done(const search_run *sr) {
    if (!sr->exhausted && sr->n < sr->n_max) return 0;
    for (int t = 0; t < sr->n; t++)
        if (sr->trials[t].state == TRIAL_RUNNING || sr->in_flight[t] > 0) return 0;
    return 1;
}

search_run *search_run_create(const study *s, lr_err *e) {
    const search_spec *sp = s->search;
    LR_ASSERT(sp && s->n_search_seeds >= 1 && s->run_trials);
    search_run *sr = lr_calloc(1, sizeof *sr);
    sr->s = s;
    sr->sp = sp;
    sr->k = s->n_search_seeds;
    sr->R = s->search_base->epochs;
    sr->n_max = sp->n_trials;
    if ((long)sr->n_max * sr->k > s->n_runs) {
        lr_fail(e, "the study has room for %d runs, the search needs %d", s->n_runs, sr->n_max * sr->k);
        free(sr);
        return NULL;
    }
    size_t nt = (size_t)sr->n_max, nr = nt * (size_t)sr->k, R = (size_t)sr->R;
    sr->trials = lr_calloc(nt, sizeof *sr->trials);
    sr->curve = lr_calloc(nt * R, sizeof *sr->curve);
    sr->val = lr_calloc(nr * R, sizeof *sr->val);
    sr->reached = lr_calloc(nr, sizeof *sr->reached);
    sr->until = lr_calloc(nt, sizeof *sr->until);
    sr->in_flight = lr_calloc(nt, sizeof *sr->in_flight);
    sr->waiting = lr_calloc(nt, sizeof *sr->waiting);
    sr->promoted = lr_calloc(nt, 1);
    for (size_t t = 0; t < nt; t++) sr->trials[t].curve = sr->curve + t * R;
    sr->spec_json = search_spec_to_json(sp, s->search_base, s->search_seeds, sr->k);
    for (int i = 0; i < s->n_runs; i++) s->run_trials[i] = (run_trial){-1, &sp->space, NULL};
    return sr;
}

void search_run_destroy(search_run *sr) {
    if (!sr) return;
    json_decref(sr->spec_json);
    free(sr->trials);
    free(sr->curve);
    free(sr->val);
    free(sr->reached);
    free(sr->until);
    free(sr->in_flight);
    free(sr->waiting);
    free(sr->promoted);
    free(sr);
}

int search_run_n_runs(const search_run *sr) { return sr->n * sr->k; }

int search_run_error(const search_run *sr, lr_err *e) {
    if (!sr->failed) return 0;
    return lr_fail(e, "%s", sr->msg);
}

// Records the error; the caller halts the queue (search_run_start, search_run_item_done).
static void fail(search_run *sr, const char *msg) {
    if (!sr->failed) {
        size_t n = strlen(msg);
        if (n >= sizeof sr->msg) n = sizeof sr->msg - 1;
        memcpy(sr->msg, msg, n);
        sr->msg[n] = '\0';
    }
    sr->failed = 1;
}

// The epoch of the next decision after epoch e: the next rung (ASHA), the
// next epoch (median), the last epoch (none).
static int next_target(const search_run *sr, int e) {
    const prune_cfg *p = &sr->sp->pruner;
    if (p->type == PRUNER_MEDIAN) return e + 1 < sr->R ? e + 1 : sr->R;
    if (p->type == PRUNER_ASHA)
        for (int r = p->grace; r < sr->R; r *= p->eta) {
            if (r > e) return r;
            if (p->eta < 2) break;
        }
    return sr->R;
}

// The metric of run r after epoch e (from 1); NaN when not measured then.
static double run_metric(search_metric m, const run_result *r, int e) {
    const epoch_record *x = &r->epochs[e - 1];
    switch (m) {
    case METRIC_TEST_ACC: return x->has_test ? x->test_acc : NAN;
    case METRIC_TEST_LOSS: return x->has_test ? x->test_loss : NAN;
    case METRIC_TEST_F1: return x->has_test ? x->test_f1 : NAN;
    case METRIC_TRAIN_ACC: return x->train_acc;
    case METRIC_TRAIN_LOSS: return x->train_loss;
    case METRIC_TRAIN_F1: return x->train_f1;
    case METRIC_BEST_TEST_ACC: {
        double best = NAN;
        for (int i = 0; i < e; i++)
            if (r->epochs[i].has_test && isfinite(r->epochs[i].test_acc) && !(r->epochs[i].test_acc <= best))
                best = r->epochs[i].test_acc;
        return best;
    }
    }
    return NAN;
}

static void push_runs(search_run *sr, scheduler *q, int t, int until, int prune) {
    for (int j = 0; j < sr->k; j++) scheduler_push_locked(q, (study_item){t * sr->k + j, until, prune});
    sr->in_flight[t] += sr->k;
}

// study.json with the runs made so far (rewritten as trials are suggested).
static int write_study(search_run *sr, lr_err *e) {
    const study *s = sr->s;
    study_header h = {s->name, s->axes, s->n_axes, NULL, s->tensorboard, s->no_ensemble, sr->spec_json,
                      s->run_trials};
    return run_files_write_study(s->out_dir, &h, s->runs, sr->n * sr->k, e);
}

// Suggests trial sr->n and pushes its first items; 0, 1 when the space is
// exhausted, -1 on an error (sr->msg).
static int suggest(search_run *sr, scheduler *q) {
    const study *s = sr->s;
    const int t = sr->n;
    search_trial *tr = &sr->trials[t];
    lr_err e;
    int rc = search_suggest(sr->sp, sr->trials, t, tr->x, &e);
    if (rc == SEARCH_EXHAUSTED) return 1;
    char msg[sizeof e.msg + 2048];
    if (rc != 0) {
        snprintf(msg, sizeof msg, "trial %d: %s", t, e.msg);
        fail(sr, msg);
        return -1;
    }
    tr->state = TRIAL_RUNNING;
    tr->n_epochs = 0;
    tr->value = NAN;
    char cond[sizeof s->runs[0].condition];
    space_format_point(&sr->sp->space, tr->x, cond, sizeof cond);
    for (int j = 0; j < sr->k; j++) {
        int i = t * sr->k + j;
        run_config c = *s->search_base;
        if (space_apply(&sr->sp->space, tr->x, &c, &e) != 0) {
            snprintf(msg, sizeof msg, "trial %d (%s): %s", t, cond, e.msg);
            fail(sr, msg);
            return -1;
        }
        c.seed = s->search_seeds[j];
        c.epochs = sr->R;
        c.threads = s->runs[i].threads;
        snprintf(c.prefetch, sizeof c.prefetch, "%s", s->runs[i].prefetch);
        snprintf(c.condition, sizeof c.condition, "%s", cond);
        search_run_folder(c.name, sizeof c.name, t, c.seed);
        // A resumed search re-derives every trial: it must be the one recorded.
        if (i < s->search_recorded && (strcmp(s->runs[i].condition, c.condition) || strcmp(s->runs[i].name, c.name))) {
            snprintf(msg, sizeof msg, "trial %d: the search now suggests %s, but study.json records %s for %s; "
                                      "the study cannot be resumed as it was run",
                     t, c.condition, s->runs[i].condition, s->runs[i].name);
            fail(sr, msg);
            return -1;
        }
        s->runs[i] = c;
        s->run_trials[i] = (run_trial){t, &sr->sp->space, tr->x};
        for (int ep = 0; ep < sr->R; ep++) sr->val[(size_t)i * sr->R + ep] = NAN;
        sr->reached[i] = 0;
    }
    sr->n = t + 1;
    if (sr->n * sr->k > s->search_recorded && write_study(sr, &e) != 0) {
        snprintf(msg, sizeof msg, "study.json: %s", e.msg);
        fail(sr, msg);
        return -1;
    }
    sr->until[t] = next_target(sr, 0);
    push_runs(sr, q, t, sr->until[t], 0);
    return 0;
}

// Takes every step the order rule allows now: decisions in trial order,
// suggestions, and at the end ASHA's promotions.
static void advance(search_run *sr, scheduler *q) {
    const search_spec *sp = sr->sp;
    for (int changed = 1; changed && !sr->failed;) {
        changed = 0;
        for (int t = 0; t < sr->n; t++) {
            int e = sr->waiting[t];
            if (!e || !(sr->promoted[t] || prune_can_decide(sr->trials, t, e))) continue;
            sr->waiting[t] = 0;
            changed = 1;
            int against = sr->promoted[t] ? sr->n : t;
            if (prune_decide(&sp->pruner, sp->maximize, sr->trials, against, t, e) == PRUNE_STOP) {
                sr->trials[t].state = TRIAL_PRUNED; // settled with the curve it has
                sr->promoted[t] = 0;
                push_runs(sr, q, t, e, 1);
            } else {
                sr->until[t] = next_target(sr, e);
                push_runs(sr, q, t, sr->until[t], 0);
            }
        }
        while (!sr->failed && !sr->exhausted && sr->n < sr->n_max && search_can_suggest(sp, sr->trials, sr->n)) {
            int rc = suggest(sr, q);
            if (rc == 1) sr->exhausted = 1;
            if (rc != 0) break;
            changed = 1;
        }
        // Promotion once every trial has settled (and each time a promoted one settles).
        if (!changed && !sr->failed && sp->pruner.type == PRUNER_ASHA && all_done(sr)) {
            int t = asha_promotable(&sp->pruner, sp->maximize, sr->trials, sr->n);
            if (t >= 0) {
                sr->trials[t].state = TRIAL_RUNNING;
                sr->promoted[t] = 1;
                sr->until[t] = next_target(sr, sr->trials[t].n_epochs);
                push_runs(sr, q, t, sr->until[t], 0);
                changed = 1;
            }
        }
    }
}

void search_run_start(search_run *sr, scheduler *q) {
    advance(sr, q); // no worker runs yet: nothing else touches the queue
    if (sr->failed) scheduler_halt(q);
}

void search_run_item_done(void *ctx, scheduler *q, const study_item *it, const run_result *r) {
    search_run *sr = ctx;
    if (sr->failed || !r || r->status == RUN_INTERRUPTED) return; // the study stops: nothing more is decided
    const int i = it->run, t = i / sr->k, R = sr->R;
    LR_ASSERT(t < sr->n && sr->in_flight[t] > 0);
    sr->in_flight[t]--;
    if (!it->prune) {
        // The run's values up to the item's epoch (a restored run may be further on).
        int upto = r->epochs_done < it->until_epoch ? r->epochs_done : it->until_epoch;
        double *v = sr->val + (size_t)i * R;
        for (int ep = 1; ep <= upto; ep++) v[ep - 1] = run_metric(sr->sp->metric, r, ep);
        int ended = (r->status == RUN_DIVERGED || r->status == RUN_FAILED) && r->epochs_done <= it->until_epoch;
        sr->reached[i] = ended ? R : upto; // a run that ended early reads NaN from there on
    }
    if (sr->in_flight[t] == 0 && sr->trials[t].state == TRIAL_RUNNING) {
        int n_ep = sr->until[t];
        for (int j = 0; j < sr->k; j++)
            if (sr->reached[t * sr->k + j] < n_ep) n_ep = sr->reached[t * sr->k + j];
        search_trial *tr = &sr->trials[t];
        for (int ep = 0; ep < n_ep; ep++) {
            double sum = 0;
            for (int j = 0; j < sr->k; j++) sum += sr->val[(size_t)(t * sr->k + j) * R + ep];
            sr->curve[(size_t)t * R + ep] = sum / sr->k;
        }
        tr->n_epochs = n_ep;
        if (n_ep >= R) {
            tr->state = TRIAL_COMPLETE;
            tr->value = sr->curve[(size_t)t * R + R - 1];
            sr->promoted[t] = 0;
        } else if (n_ep == sr->until[t]) {
            sr->waiting[t] = n_ep;
        } else { // a run stopped short of its item's epoch without ending (a write failure): the trial stops
            tr->state = TRIAL_PRUNED;
        }
    }
    advance(sr, q);
    if (sr->failed) scheduler_halt_locked(q);
}
