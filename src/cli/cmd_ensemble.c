// cmd_ensemble.c: `lrscope ensemble RUN_DIR_or_WEIGHTS... --data DIR`: the
// mean of several trained models' softmax outputs on a test split, with each
// member's test loss, accuracy and macro-F1 beside the ensemble's, and the
// ensemble's confusion matrix. Members may be given by a glob pattern.
#include "commands.h"
#include "../report/ensemble.h"
#include "../study/study_ensemble.h"
#include "../util/fsutil.h"

#include <errno.h>
#include <glob.h>
#include <jansson.h>
#include <string.h>

static void usage(FILE *f) {
    fprintf(f,
            "usage: lrscope ensemble RUN_DIR_or_WEIGHTS... --data DIR [options]\n"
            "\n"
            "Averages the softmax outputs of several trained models (run folders, weights\n"
            "files, or a glob pattern in quotes such as 'results/s/runs/*/seed-*') on the\n"
            "test split of the data set in DIR, and prints each member's test loss,\n"
            "accuracy and macro-F1 (as `lrscope evaluate` gives them), the ensemble's, and\n"
            "the ensemble's confusion matrix. The ensemble predicts the class of highest\n"
            "mean probability (the lowest class index among equals); its loss is the mean\n"
            "negative log of the mean probability of the true class. Members must share\n"
            "model, data set, input shape, normalisation and class names. At most %d.\n"
            "\n"
            "  --data DIR     the data set's folder (required)\n"
            "  --dataset NAME the data set; must be the one the weights were trained on\n"
            "  --json         one JSON document on stdout\n"
            "  --isa NAME     kernels (default auto)\n"
            "  --threads N    threads, 0 = all cores (the results do not depend on it)\n"
            "  --out FILE     also write the results as CSV, in ensemble.csv's format\n"
            "  --help         this help\n"
            "\n"
            "Exit status: 0 evaluated, 2 bad input (a message names the member, file or flag).\n",
            ENSEMBLE_MAX_MEMBERS);
}

typedef struct {
    char **v;
    int n;
} arg_list;

static void list_add(arg_list *l, const char *s) {
    l->v = lr_realloc(l->v, (size_t)(l->n + 1) * sizeof *l->v);
    l->v[l->n++] = lr_strdup(s);
}

static void list_free(arg_list *l) {
    for (int i = 0; i < l->n; i++) free(l->v[i]);
    free(l->v);
}

// An argument holding glob characters that is not itself a path is a
// pattern: its matches, in glob(3)'s sorted order, are members.
static int add_member(arg_list *l, const char *arg, lr_err *e) {
    if (!strpbrk(arg, "*?[") || fs_exists(arg)) {
        list_add(l, arg);
        return 0;
    }
    glob_t gl;
    int rc = glob(arg, 0, NULL, &gl);
    if (rc == GLOB_NOMATCH) return lr_fail(e, "the pattern '%s' matches nothing; expected run folders or weights "
                                              "files", arg);
    if (rc != 0) return lr_fail(e, "the pattern '%s' cannot be expanded (%s)", arg,
                                rc == GLOB_NOSPACE ? "out of memory" : "a folder could not be read");
    for (size_t i = 0; i < gl.gl_pathc; i++) list_add(l, gl.gl_pathv[i]);
    globfree(&gl);
    return 0;
}

static void print_json(const ensemble_eval *x, const char *data, int best) {
    json_t *root = json_object(), *mem = json_array(), *conf = json_array(), *cls = json_array();
    json_object_set_new(root, "dataset", json_string(x->dataset));
    json_object_set_new(root, "data", json_string(data));
    json_object_set_new(root, "model", json_string(x->spec));
    json_object_set_new(root, "images", json_integer(x->images));
    for (int m = 0; m < x->n_members; m++)
        json_array_append_new(mem, json_pack("{s:s, s:f, s:f, s:f}", "weights", x->paths[m], "test_loss",
                                             x->member_loss[m], "test_acc", x->member_acc[m], "test_f1",
                                             x->member_f1[m]));
    json_object_set_new(root, "members", mem);
    json_t *ens = json_object();
    json_object_set_new(ens, "members", json_integer(x->n_members));
    json_object_set_new(ens, "test_loss", json_real(x->loss));
    json_object_set_new(ens, "test_acc", json_real(x->acc));
    json_object_set_new(ens, "test_f1", json_real(x->f1));
    json_object_set_new(ens, "best_member", json_integer(best));
    json_object_set_new(ens, "gain_over_best_acc", json_real(x->acc - x->member_acc[best]));
    for (int k = 0; k < x->K; k++) {
        json_array_append_new(cls, json_string(x->class_names[k]));
        json_t *row = json_array();
        for (int j = 0; j < x->K; j++) json_array_append_new(row, json_integer(x->cm[(size_t)k * x->K + j]));
        json_array_append_new(conf, row);
    }
    json_object_set_new(ens, "classes", cls);
    json_object_set_new(ens, "confusion", conf);
    json_object_set_new(root, "ensemble", ens);
    char *text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17));
    if (text) printf("%s\n", text);
    free(text);
    json_decref(root);
}

static void print_text(const ensemble_eval *x, const char *data, int best) {
    printf("ensemble of %d (%s, %s) on %d test images of %s\n\n", x->n_members, x->dataset, x->spec, x->images,
           data);
    // Rounded for reading; --json has every digit.
    printf("%-12s %9s %13s %13s  %s\n", "", "test loss", "test accuracy", "test macro-F1", "weights");
    for (int m = 0; m < x->n_members; m++)
        printf("member %-5d %9.4f %12.2f%% %13.4f  %s%s\n", m + 1, x->member_loss[m], 100 * x->member_acc[m],
               x->member_f1[m], x->paths[m], m == best ? "  (best)" : "");
    printf("%-12s %9.4f %12.2f%% %13.4f\n", "ensemble", x->loss, 100 * x->acc, x->f1);
    double gain = x->acc - x->member_acc[best];
    printf("\nthe ensemble %s the best member (member %d) by %.2f points of test accuracy\n",
           gain > 0 ? "beats" : gain < 0 ? "trails" : "ties with", best + 1, 100 * (gain < 0 ? -gain : gain));
    printf("\nconfusion matrix of the ensemble (rows: true class, columns: predicted, in class order)\n");
    for (int k = 0; k < x->K; k++) {
        for (int j = 0; j < x->K; j++) printf("%s%lld", j ? " " : "", (long long)x->cm[(size_t)k * x->K + j]);
        printf("  %s\n", x->class_names[k]);
    }
}

int cmd_ensemble(int argc, char **argv) {
    const char *data = NULL, *hint = NULL, *isa = "auto", *out = NULL;
    int json = 0, threads = 0, rc = EXIT_BAD_INPUT;
    lr_err e = {{0}};
    arg_list members = {0};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            list_free(&members);
            return EXIT_OK;
        } else if (!strcmp(a, "--json")) {
            json = 1;
        } else if (!strcmp(a, "--data") || !strcmp(a, "--dataset") || !strcmp(a, "--isa") ||
                   !strcmp(a, "--threads") || !strcmp(a, "--out")) {
            if (!val) {
                lr_fail(&e, "ensemble: %s expects a value (see lrscope ensemble --help)", a);
                goto done;
            }
            i++;
            if (!strcmp(a, "--data")) data = val;
            else if (!strcmp(a, "--dataset")) hint = val;
            else if (!strcmp(a, "--isa")) isa = val;
            else if (!strcmp(a, "--out")) out = val;
            else {
                char *end;
                errno = 0;
                long t = strtol(val, &end, 10);
                if (!val[0] || *end || errno || t < 0 || t > 1024) {
                    lr_fail(&e, "ensemble: --threads %s: expected a whole number in [0, 1024]", val);
                    goto done;
                }
                threads = (int)t;
            }
        } else if (a[0] == '-' && a[1]) {
            lr_fail(&e, "ensemble: unknown option '%s' (expected --data, --dataset, --json, --isa, --threads, "
                        "--out or --help)", a);
            goto done;
        } else if (add_member(&members, a, &e) != 0) {
            goto done;
        }
        if (members.n > ENSEMBLE_MAX_MEMBERS) {
            lr_fail(&e, "ensemble: more than %d members", ENSEMBLE_MAX_MEMBERS);
            goto done;
        }
    }
    if (members.n == 0 || !data) {
        lr_fail(&e, "ensemble: expected RUN_DIR_or_WEIGHTS... (no members given) and --data DIR (see lrscope "
                    "ensemble --help)");
        goto done;
    }
    if (hint && !dataset_find(hint)) {
        lr_fail(&e, "ensemble: --dataset %s: unknown data set; expected one of %s", hint, dataset_names());
        goto done;
    }
    ensemble_eval x;
    if (ensemble_evaluate((const char *const *)members.v, members.n, data, hint, isa, threads, &x, &e) != 0)
        goto done;
    int best = 0; // highest accuracy, the first of equals
    for (int m = 1; m < x.n_members; m++)
        if (x.member_acc[m] > x.member_acc[best]) best = m;
    if (json) print_json(&x, data, best);
    else print_text(&x, data, best);
    rc = EXIT_OK;
    if (out) {
        ensemble_group g;
        memset(&g, 0, sizeof g);
        snprintf(g.name, sizeof g.name, "ensemble");
        for (int m = 0; m < x.n_members; m++)
            ensemble_group_add(&g, 0, x.paths[m], "given", x.member_loss[m], x.member_acc[m], x.member_f1[m]);
        g.formed = 1;
        g.test_loss = x.loss;
        g.test_acc = x.acc;
        g.test_f1 = x.f1;
        if (ensemble_csv_write(out, &g, 1, &e) != 0) {
            char why[sizeof e.msg];
            snprintf(why, sizeof why, "%s", e.msg);
            lr_fail(&e, "ensemble: --out %s: %s", out, why);
            rc = EXIT_BAD_INPUT;
        }
        free(g.members);
    }
    ensemble_eval_free(&x);
done:
    if (rc != EXIT_OK) fprintf(stderr, "lrscope: %s\n", e.msg);
    list_free(&members);
    return rc;
}
