// run_files.c: writes the study's CSV and JSON files.
#include "run_files.h"
#include "../train/metrics.h"
#include "../util/fsutil.h"

#include <jansson.h>
#include <math.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>

int run_best_epoch(const run_result *r) {
    int best = -1;
    for (int i = 0; i < r->epochs_done; i++)
        if (r->epochs[i].has_test && isfinite(r->epochs[i].test_loss) &&
            (best < 0 || r->epochs[i].test_acc > r->epochs[best].test_acc))
            best = i;
    return best;
}

int run_last_tested_epoch(const run_result *r) {
    for (int i = r->epochs_done - 1; i >= 0; i--)
        if (r->epochs[i].has_test) return i;
    return -1;
}

static void put_num(FILE *f, double v, const char *fmt) {
    if (isnan(v)) fputs("nan", f);
    else if (isinf(v)) fputs(v > 0 ? "inf" : "-inf", f);
    else fprintf(f, fmt, v);
}

int run_files_write_metrics(const char *run_dir, const run_result *r, lr_err *e) {
    char path[4096];
    fs_join(path, sizeof path, run_dir, "metrics.csv");
    fs_atomic_file af;
    if (fs_begin(&af, path, e) != 0) return -1;
    FILE *f = af.f;
    fputs("epoch,lr,train_loss,train_acc,train_f1,test_loss,test_acc,test_f1,seconds\n", f);
    for (int i = 0; i < r->epochs_done; i++) {
        const epoch_record *x = &r->epochs[i];
        fprintf(f, "%d,%.10g,", x->epoch, x->lr);
        put_num(f, x->train_loss, "%.6f");
        fputc(',', f);
        put_num(f, x->train_acc, "%.6f");
        fputc(',', f);
        put_num(f, x->train_f1, "%.6f");
        fputc(',', f);
        if (x->has_test) {
            put_num(f, x->test_loss, "%.6f");
            fputc(',', f);
            put_num(f, x->test_acc, "%.6f");
            fputc(',', f);
            put_num(f, x->test_f1, "%.6f");
        } else {
            fputs(",,", f);
        }
        fprintf(f, ",%.3f\n", x->seconds);
    }
    return fs_commit(&af, e);
}

// A JSON string of s; bytes that are not UTF-8 (a path or folder name in
// another encoding) become '?', so the field is never silently dropped.
static json_t *jstr(const char *s) {
    json_t *j = json_string(s);
    if (j) return j;
    size_t n = strlen(s);
    char *clean = lr_malloc(n + 1);
    for (size_t i = 0; i <= n; i++) clean[i] = (unsigned char)s[i] < 0x80 ? s[i] : '?';
    j = json_string(clean);
    free(clean);
    LR_ASSERT(j != NULL);
    return j;
}

static json_t *num_or_null(double v) { return isfinite(v) ? json_real(v) : json_null(); }

static json_t *machine_json(void) {
    char cpu[256] = "unknown";
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (f) {
        char line[512];
        while (fgets(line, sizeof line, f))
            if (strncmp(line, "model name", 10) == 0) {
                char *colon = strchr(line, ':');
                if (colon) {
                    snprintf(cpu, sizeof cpu, "%s", colon + 2);
                    cpu[strcspn(cpu, "\n")] = '\0';
                }
                break;
            }
        fclose(f);
    }
    struct utsname u;
    char os[512] = "unknown";
    if (uname(&u) == 0) snprintf(os, sizeof os, "%s %s %s", u.sysname, u.release, u.machine);
    json_t *j = json_pack("{s:o, s:i, s:o}", "cpu", jstr(cpu), "cores", train_default_threads(), "os", jstr(os));
    LR_ASSERT(j != NULL);
    return j;
}

// Numbers with 17 significant digits: every double read back is the one
// written, so `lrscope evaluate` can reproduce a run's final metrics bit for bit.
static int dump_json(const char *path, json_t *root, lr_err *e) {
    char *text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17));
    json_decref(root);
    if (!text) return lr_fail(e, "%s: cannot encode JSON", path);
    size_t n = strlen(text);
    text[n] = '\n'; // replace the terminator; we write n + 1 bytes
    int rc = fs_write_atomic(path, text, n + 1, e);
    free(text);
    return rc;
}

json_t *run_files_point_json(const search_space *s, const double *x) {
    json_t *o = json_object();
    for (int i = 0; i < s->n; i++) {
        const search_param *p = &s->p[i];
        json_t *v;
        if (p->kind == PARAM_CATEGORICAL) {
            char text[SEARCH_MAX_TEXT + 8];
            space_value_text(s, i, x, text, sizeof text);
            v = jstr(text);
        } else if (p->kind == PARAM_INT) {
            v = json_integer((json_int_t)llround(x[i]));
        } else {
            v = json_real(x[i]);
        }
        json_object_set_new(o, p->k->name, v);
    }
    return o;
}

int run_files_write_json(const char *run_dir, const run_config *cfg, const run_result *r,
                         char *const *class_names, lr_err *e) {
    return run_files_write_json_trial(run_dir, cfg, r, class_names, NULL, e);
}

int run_files_write_json_trial(const char *run_dir, const run_config *cfg, const run_result *r,
                               char *const *class_names, const run_trial *tr, lr_err *e) {
    const int K = r->num_classes;
    json_t *root = json_object();
    json_object_set_new(root, "lrscope_version", json_string(LRSCOPE_VERSION));
    json_object_set_new(root, RUN_KEY_CONDITION, jstr(cfg->condition));
    if (tr && tr->trial >= 0) {
        json_object_set_new(root, RUN_KEY_TRIAL, json_integer(tr->trial));
        json_object_set_new(root, RUN_KEY_POINT, run_files_point_json(tr->space, tr->x));
    }
    json_object_set_new(root, RUN_KEY_SEED, json_integer((json_int_t)cfg->seed));
    json_object_set_new(root, RUN_KEY_FOLDER, jstr(cfg->name));
    json_object_set_new(root, "status", json_string(run_status_name(r->status)));
    json_object_set_new(root, "diverged_epoch", r->diverged_epoch ? json_integer(r->diverged_epoch) : json_null());
    json_object_set_new(root, "epochs_done", json_integer(r->epochs_done));
    json_object_set_new(root, RUN_KEY_STEPS_PER_EPOCH, json_integer(r->steps_per_epoch));
    json_object_set_new(root, "seconds", json_real(r->seconds));
    json_object_set_new(root, "train_images_per_s", json_real(r->train_images_per_s));
    json_object_set_new(root, "eval_images_per_s", json_real(r->eval_images_per_s));
    // The configuration in force: threads and kernels as the run used them.
    run_config used = *cfg;
    used.threads = r->threads;
    if (r->isa) snprintf(used.isa, sizeof used.isa, "%s", r->isa);
    json_object_set_new(root, RUN_KEY_CONFIG, knobs_to_json(&used));
    json_object_set_new(root, "machine", machine_json());
    if (r->epochs_done > 0) {
        const epoch_record *x = &r->epochs[r->epochs_done - 1];
        int t = run_last_tested_epoch(r);
        const epoch_record *tx = t >= 0 ? &r->epochs[t] : NULL;
        json_object_set_new(root, "final",
            json_pack("{s:i, s:o, s:o, s:o, s:o, s:o, s:o}", "epoch", x->epoch,
                      "train_loss", num_or_null(x->train_loss), "train_acc", num_or_null(x->train_acc),
                      "train_f1", num_or_null(x->train_f1),
                      "test_loss", tx ? num_or_null(tx->test_loss) : json_null(),
                      "test_acc", tx ? num_or_null(tx->test_acc) : json_null(),
                      "test_f1", tx ? num_or_null(tx->test_f1) : json_null()));
    } else {
        json_object_set_new(root, "final", json_null());
    }
    int b = run_best_epoch(r);
    json_object_set_new(root, "best", b < 0 ? json_null()
        : json_pack("{s:i, s:f, s:f}", "epoch", r->epochs[b].epoch, "test_acc", r->epochs[b].test_acc,
                    "test_f1", r->epochs[b].test_f1));
    json_t *classes = json_array();
    for (int k = 0; k < K; k++) json_array_append_new(classes, jstr(class_names[k]));
    json_object_set_new(root, "classes", classes);
    if (r->has_test_cm) {
        double *prec = lr_malloc((size_t)K * sizeof *prec), *rec = lr_malloc((size_t)K * sizeof *rec),
               *f1 = lr_malloc((size_t)K * sizeof *f1);
        int64_t *support = lr_malloc((size_t)K * sizeof *support);
        metrics_per_class(r->test_cm, K, prec, rec, f1, support);
        json_t *pc = json_array(), *cm = json_array();
        for (int k = 0; k < K; k++) {
            json_array_append_new(pc, json_pack("{s:o, s:f, s:f, s:f, s:I}", "class", jstr(class_names[k]),
                                                "precision", prec[k], "recall", rec[k], "f1", f1[k],
                                                "support", (json_int_t)support[k]));
            json_t *row = json_array();
            for (int j = 0; j < K; j++) json_array_append_new(row, json_integer(r->test_cm[k * K + j]));
            json_array_append_new(cm, row);
        }
        json_object_set_new(root, "per_class", pc);
        json_object_set_new(root, "confusion_matrix", cm);
        free(prec);
        free(rec);
        free(f1);
        free(support);
    } else {
        json_object_set_new(root, "per_class", json_null());
        json_object_set_new(root, "confusion_matrix", json_null());
    }
    char path[4096];
    fs_join(path, sizeof path, run_dir, "run.json");
    return dump_json(path, root, e);
}

int run_files_write_study(const char *study_dir, const study_header *h, const run_config *runs, int n_runs,
                          lr_err *e) {
    char created[64];
    time_t now = time(NULL);
    strftime(created, sizeof created, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
    json_t *root = json_object();
    json_object_set_new(root, "lrscope_version", json_string(LRSCOPE_VERSION));
    json_object_set_new(root, "created", json_string(created));
    json_object_set_new(root, STUDY_KEY_NAME, jstr(h->name));
    json_object_set_new(root, STUDY_KEY_TENSORBOARD, jstr(h->tensorboard ? h->tensorboard : ""));
    json_object_set_new(root, STUDY_KEY_NO_ENSEMBLE, json_boolean(h->no_ensemble));
    // Each axis with its values in the order the runs first take them.
    json_t *axes = json_array();
    for (int a = 0; a < h->n_axes; a++) {
        const knob *k = h->axes[a];
        json_t *values = json_array();
        for (int i = 0; i < n_runs; i++) {
            int seen = 0;
            for (int j = 0; j < i && !seen; j++) seen = knob_equal(k, &runs[i], &runs[j]);
            if (seen) continue;
            json_t *all = knobs_to_json(&runs[i]);
            json_array_append(values, json_object_get(all, k->name));
            json_decref(all);
        }
        json_array_append_new(axes, json_pack("{s:s, s:o}", STUDY_KEY_AXIS_KEY, k->name,
                                              STUDY_KEY_AXIS_VALUES, values));
    }
    json_object_set_new(root, STUDY_KEY_AXES, axes);
    json_t *seeds = json_array();
    for (int i = 0; i < n_runs; i++) {
        int seen = 0;
        for (int j = 0; j < i && !seen; j++) seen = runs[j].seed == runs[i].seed;
        if (!seen) json_array_append_new(seeds, json_integer((json_int_t)runs[i].seed));
    }
    json_object_set_new(root, STUDY_KEY_SEEDS, seeds);
    json_t *list = json_array();
    for (int i = 0; i < n_runs; i++) {
        json_t *run = json_pack("{s:o, s:o, s:I}", RUN_KEY_FOLDER, jstr(runs[i].name), RUN_KEY_CONDITION,
                                jstr(runs[i].condition), RUN_KEY_SEED, (json_int_t)runs[i].seed);
        const run_trial *tr = h->trials ? &h->trials[i] : NULL;
        if (tr && tr->trial >= 0) {
            json_object_set_new(run, RUN_KEY_TRIAL, json_integer(tr->trial));
            json_object_set_new(run, RUN_KEY_POINT, run_files_point_json(tr->space, tr->x));
        }
        json_object_set_new(run, RUN_KEY_CONFIG, knobs_to_json(&runs[i]));
        json_array_append_new(list, run);
    }
    json_object_set_new(root, STUDY_KEY_RUNS, list);
    if (h->search) json_object_set(root, STUDY_KEY_SEARCH, h->search);
    if (h->lrfind) {
        const study_lrfind *f = h->lrfind;
        json_t *lrs = json_array();
        for (int i = 0; i < 4; i++) json_array_append_new(lrs, json_real(f->lrs[i]));
        json_object_set_new(root, STUDY_KEY_LRFIND,
                            json_pack("{s:I, s:i, s:f, s:f, s:I, s:f, s:f, s:f, s:o}", "seed", (json_int_t)f->seed,
                                      "steps", f->steps, "start_lr", f->start_lr, "end_lr", f->end_lr, "points",
                                      (json_int_t)f->points, "valley", f->valley, "steepest", f->steepest, "minimum",
                                      f->minimum, "lrs", lrs));
    }
    char path[4096];
    fs_join(path, sizeof path, study_dir, "study.json");
    return dump_json(path, root, e);
}

