// study_ensemble.c: loads an ensemble's members, refuses members that do not
// belong together, evaluates each on the test split (train_predict_probs, so
// a member's metrics are `lrscope evaluate`'s to the bit) and averages their
// softmax outputs (report/ensemble.c); and a finished study's ensembles.
#include "study_ensemble.h"
#include "weights.h"
#include "../cli/commands.h"
#include "../data/dataset.h"
#include "../report/ensemble.h"
#include "../report/report.h"
#include "../train/metrics.h"
#include "../train/train.h"
#include "../util/fsutil.h"

#include <math.h>
#include <string.h>

void ensemble_eval_free(ensemble_eval *x) {
    for (int m = 0; m < x->n_members && x->paths; m++) free(x->paths[m]);
    free(x->paths);
    for (int k = 0; k < x->K && x->class_names; k++) free(x->class_names[k]);
    free(x->class_names);
    free(x->member_loss);
    free(x->member_acc);
    free(x->member_f1);
    free(x->cm);
    memset(x, 0, sizeof *x);
}

// Fails naming members a and b (as given) when what b was trained as differs
// from a: model, data set, input shape, normalisation or class names.
static int check_pair(const char *a, const model_desc *ma, const weights_meta *wa, const char *b,
                      const model_desc *mb, const weights_meta *wb, lr_err *e) {
    if (strcmp(ma->spec, mb->spec) != 0)
        return lr_fail(e, "members %s and %s have different models (\"%s\" and \"%s\"); an ensemble's members "
                          "must share one", a, b, ma->spec, mb->spec);
    if (strcmp(wa->dataset, wb->dataset) != 0)
        return lr_fail(e, "members %s and %s were trained on different data sets (%s and %s)", a, b,
                       wa->dataset, wb->dataset);
    if (ma->in_c != mb->in_c || ma->in_h != mb->in_h || ma->in_w != mb->in_w || ma->num_classes != mb->num_classes)
        return lr_fail(e, "members %s and %s take different inputs (%dx%dx%d of %d classes and %dx%dx%d of %d "
                          "classes)", a, b, ma->in_c, ma->in_h, ma->in_w, ma->num_classes, mb->in_c, mb->in_h,
                       mb->in_w, mb->num_classes);
    if (wa->c != wb->c || memcmp(wa->mean, wb->mean, (size_t)wa->c * sizeof *wa->mean) != 0 ||
        memcmp(wa->std, wb->std, (size_t)wa->c * sizeof *wa->std) != 0)
        return lr_fail(e, "members %s and %s normalise their inputs differently (mean %g, std %g and mean %g, "
                          "std %g in channel 0)", a, b, wa->mean[0], wa->std[0], wb->mean[0], wb->std[0]);
    for (int k = 0; k < wa->num_classes && k < wb->num_classes; k++)
        if (strcmp(wa->class_names[k], wb->class_names[k]) != 0)
            return lr_fail(e, "members %s and %s name class %d differently (\"%s\" and \"%s\")", a, b, k,
                           wa->class_names[k], wb->class_names[k]);
    return 0;
}

int ensemble_evaluate(const char *const *members, int n, const char *data_dir, const char *dataset_hint,
                      const char *isa, int threads, ensemble_eval *out, lr_err *e) {
    memset(out, 0, sizeof *out);
    if (n < 1) return lr_fail(e, "no members; expected run folders or weights files");
    if (n > ENSEMBLE_MAX_MEMBERS)
        return lr_fail(e, "%d members; at most %d", n, ENSEMBLE_MAX_MEMBERS);
    // First pass: every member read and checked against the first, before
    // any evaluation; only the first's description is kept.
    model_desc m0;
    weights_meta w0;
    memset(&w0, 0, sizeof w0);
    char path0[FS_PATH_MAX];
    out->paths = lr_calloc((size_t)n, sizeof *out->paths);
    out->n_members = n;
    for (int i = 0; i < n; i++) {
        model_desc m;
        float *params = NULL;
        weights_meta w;
        memset(&w, 0, sizeof w);
        char path[FS_PATH_MAX];
        if (cli_open_weights(members[i], dataset_hint, &m, &params, &w, path, sizeof path, e) != 0) {
            char why[sizeof e->msg];
            snprintf(why, sizeof why, "%s", e->msg);
            lr_fail(e, "member %s: %s", members[i], why);
            weights_meta_free(&w);
            goto fail;
        }
        free(params);
        out->paths[i] = lr_strdup(path);
        if (i == 0) {
            m0 = m;
            w0 = w;
            snprintf(path0, sizeof path0, "%s", members[0]);
            continue;
        }
        int rc = check_pair(path0, &m0, &w0, members[i], &m, &w, e);
        weights_meta_free(&w);
        if (rc != 0) goto fail;
    }
    const dataset_info *known = dataset_find(w0.dataset);
    if (!known) {
        lr_fail(e, "%s: trained on data set \"%s\", which this lrscope does not know (expected one of %s)",
                out->paths[0], w0.dataset, dataset_names());
        goto fail;
    }
    // The loader normalises with the members' constants (as `lrscope evaluate`).
    dataset_info info = *known;
    memcpy(info.mean, w0.mean, sizeof info.mean);
    memcpy(info.std, w0.std, sizeof info.std);
    dataset train, test;
    memset(&train, 0, sizeof train);
    memset(&test, 0, sizeof test);
    if (dataset_load(&info, data_dir, &train, &test, e) != 0) goto fail;
    dataset_free(&train);
    const int K = m0.num_classes;
    if (test.c != m0.in_c || test.h != m0.in_h || test.w != m0.in_w || test.num_classes != K) {
        lr_fail(e, "%s: %s test images are %dx%dx%d of %d classes; the members take %dx%dx%d inputs of %d classes",
                data_dir, info.name, test.c, test.h, test.w, test.num_classes, m0.in_c, m0.in_h, m0.in_w, K);
        dataset_free(&test);
        goto fail;
    }
    for (int k = 0; k < K; k++)
        if (strcmp(test.class_names[k], w0.class_names[k]) != 0) {
            lr_fail(e, "%s: class %d is \"%s\", the members call it \"%s\"; a different data set", data_dir, k,
                    test.class_names[k], w0.class_names[k]);
            dataset_free(&test);
            goto fail;
        }
    out->K = K;
    out->images = test.n;
    snprintf(out->dataset, sizeof out->dataset, "%s", info.name);
    snprintf(out->spec, sizeof out->spec, "%s", m0.spec);
    out->class_names = lr_calloc((size_t)K, sizeof *out->class_names);
    for (int k = 0; k < K; k++) out->class_names[k] = lr_strdup(w0.class_names[k]);
    out->member_loss = lr_calloc((size_t)n, sizeof *out->member_loss);
    out->member_acc = lr_calloc((size_t)n, sizeof *out->member_acc);
    out->member_f1 = lr_calloc((size_t)n, sizeof *out->member_f1);
    out->cm = lr_calloc((size_t)K * K, sizeof *out->cm);
    float *probs = lr_calloc((size_t)test.n * K, sizeof *probs);   // (n, K) one member's
    int *labels = lr_calloc((size_t)test.n, sizeof *labels);        // (n)
    for (int i = 0; i < test.n; i++) labels[i] = test.labels[i];
    ensemble_acc acc;
    ensemble_init(&acc, test.n, K);
    int rc = 0;
    // Second pass: each member evaluated and added, in the order given.
    for (int i = 0; i < n && rc == 0; i++) {
        model_desc m;
        float *params = NULL;
        weights_meta w;
        memset(&w, 0, sizeof w);
        char path[FS_PATH_MAX];
        rc = cli_open_weights(members[i], dataset_hint, &m, &params, &w, path, sizeof path, e);
        if (rc == 0) rc = check_pair(path0, &m0, &w0, members[i], &m, &w, e);
        if (rc == 0)
            rc = train_predict_probs(&m, params, &test, &info, isa, threads, probs, &out->member_loss[i], out->cm, e);
        if (rc == 0) {
            out->member_acc[i] = metrics_accuracy(out->cm, K);
            out->member_f1[i] = metrics_macro_f1(out->cm, K);
            ensemble_add(&acc, probs);
        }
        free(params);
        weights_meta_free(&w);
    }
    if (rc == 0) {
        out->loss = ensemble_finish(&acc, labels, out->cm);
        out->acc = metrics_accuracy(out->cm, K);
        out->f1 = metrics_macro_f1(out->cm, K);
    }
    ensemble_free(&acc);
    free(labels);
    free(probs);
    dataset_free(&test);
    if (rc != 0) goto fail;
    weights_meta_free(&w0);
    return 0;
fail:
    weights_meta_free(&w0);
    ensemble_eval_free(out);
    return -1;
}

// ---- a study's ensembles ----

// The data set folder of a run: its data_dir, or the default data/FOLDER.
static void run_data_dir(const run_config *c, char *out, size_t cap) {
    const dataset_info *info = dataset_find(c->dataset);
    if (c->data_dir[0] || !info) snprintf(out, cap, "%s", c->data_dir);
    else snprintf(out, cap, "data/%s", info->folder);
}

int study_ensemble_write(const char *study_dir, int quiet, lr_err *e) {
    report_study s;
    if (report_study_read(study_dir, &s, e) != 0) {
        report_study_free(&s);
        return -1;
    }
    // A seeds study: a condition with several runs. Groups in order of first appearance.
    int several = 0;
    for (int i = 0; i < s.n_runs && !several; i++)
        for (int j = i + 1; j < s.n_runs && !several; j++) several = !strcmp(s.runs[i].condition, s.runs[j].condition);
    int *group_of = lr_calloc((size_t)(s.n_runs > 0 ? s.n_runs : 1), sizeof *group_of);
    ensemble_group *g = lr_calloc((size_t)(s.n_runs > 0 ? s.n_runs : 1), sizeof *g);
    int n = 0;
    for (int i = 0; i < s.n_runs; i++) {
        const char *name = several ? s.runs[i].condition : "all";
        int k = 0;
        while (k < n && strcmp(g[k].name, name) != 0) k++;
        if (k == n) {
            snprintf(g[n].name, sizeof g[n].name, "%s", name);
            g[n].test_loss = g[n].test_acc = g[n].test_f1 = NAN;
            n++;
        }
        group_of[i] = k;
    }
    int written = 0, rc = 0;
    const char **paths = lr_calloc((size_t)(s.n_runs > 0 ? s.n_runs : 1), sizeof *paths);
    char (*folders)[FS_PATH_MAX] = lr_calloc((size_t)(s.n_runs > 0 ? s.n_runs : 1), sizeof *folders);
    int *idx = lr_calloc((size_t)(s.n_runs > 0 ? s.n_runs : 1), sizeof *idx);
    char *skip = lr_calloc((size_t)(n > 0 ? n : 1), 1); // groups whose members cannot form an ensemble
    for (int k = 0; k < n; k++) {
        int m = 0, first = -1;
        for (int i = 0; i < s.n_runs; i++) {
            if (group_of[i] != k) continue;
            const report_run *r = &s.runs[i];
            fs_join(folders[i], sizeof folders[i], s.dir, r->name);
            char w[FS_PATH_MAX + 16];
            snprintf(w, sizeof w, "%s/weights.lrsw", folders[i]);
            if (strcmp(r->status, "finished") != 0 || !fs_exists(w)) {
                ensemble_group_add(&g[k], 1, r->name, strcmp(r->status, "finished") ? r->status : "no weights",
                                   NAN, NAN, NAN);
                continue;
            }
            if (first < 0) first = i;
            paths[m] = folders[i];
            idx[m++] = i;
        }
        if (m > ENSEMBLE_MAX_MEMBERS) m = ENSEMBLE_MAX_MEMBERS;
        if (m < 2) {
            for (int j = 0; j < m; j++) ensemble_group_add(&g[k], 0, s.runs[idx[j]].name, "finished", NAN, NAN, NAN);
            written++;
            continue;
        }
        char data_dir[FS_PATH_MAX];
        run_data_dir(&s.runs[first].config, data_dir, sizeof data_dir);
        ensemble_eval x;
        lr_err ee;
        if (ensemble_evaluate(paths, m, data_dir, NULL, s.runs[first].config.isa, 0, &x, &ee) != 0) {
            if (!quiet) fprintf(stderr, "lrscope: no ensemble of %s: %s\n", g[k].name, ee.msg);
            skip[k] = 1;
            continue;
        }
        for (int j = 0; j < m; j++)
            ensemble_group_add(&g[k], 0, s.runs[idx[j]].name, "finished", x.member_loss[j], x.member_acc[j],
                               x.member_f1[j]);
        g[k].formed = 1;
        g[k].test_loss = x.loss;
        g[k].test_acc = x.acc;
        g[k].test_f1 = x.f1;
        ensemble_eval_free(&x);
        written++;
    }
    // Groups that could not be evaluated are not written.
    int w = 0;
    for (int k = 0; k < n; k++) {
        if (skip[k]) {
            free(g[k].members);
            free(g[k].left_out);
            continue;
        }
        g[w++] = g[k];
    }
    n = w;
    if (written > 0) {
        char path[FS_PATH_MAX];
        if (fs_path(path, sizeof path, s.dir, "ensemble.csv", e) != 0 || ensemble_csv_write(path, g, n, e) != 0)
            rc = -1;
    }
    ensemble_groups_free(g, n);
    free(skip);
    free(idx);
    free(folders);
    free(paths);
    free(group_of);
    report_study_free(&s);
    return rc;
}
