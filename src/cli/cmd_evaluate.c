// cmd_evaluate.c: `lrscope evaluate RUN_DIR_or_WEIGHTS --data DIR`: the test
// metrics (loss, accuracy, macro-F1, per class precision, recall and F1) and
// the confusion matrix of saved weights, computed by the trainer's own
// evaluation (train_evaluate), so a run's recorded final test metrics come
// back to the bit.
#include "commands.h"
#include "../data/dataset.h"
#include "../train/metrics.h"
#include "../train/train.h"
#include "../util/fsutil.h"

#include <errno.h>
#include <jansson.h>
#include <string.h>

static void usage(FILE *f) {
    fprintf(f,
            "usage: lrscope evaluate RUN_DIR_or_WEIGHTS --data DIR [options]\n"
            "\n"
            "Evaluates the weights of a run folder (its weights.lrsw) or a weights file on\n"
            "the test split of the data set in DIR, exactly as training evaluates it: test\n"
            "loss, accuracy, macro-F1, per class precision, recall and F1, and the\n"
            "confusion matrix. On the run's data it gives the run's final test metrics\n"
            "(run.json \"final\") to the last bit.\n"
            "\n"
            "  --data DIR     the data set's folder (required)\n"
            "  --dataset NAME the data set; must be the one the weights were trained on\n"
            "                 (default: the one the weights file names)\n"
            "  --json         one JSON document on stdout\n"
            "  --isa NAME     kernels (default auto; the run's isa in run.json reproduces it)\n"
            "  --threads N    threads, 0 = all cores (the results do not depend on it)\n"
            "  --help         this help\n"
            "\n"
            "Exit status: 0 evaluated, 2 bad input (a message names the file or flag).\n");
}

int cmd_evaluate(int argc, char **argv) {
    const char *weights = NULL, *data = NULL, *hint = NULL, *isa = "auto";
    int json = 0, threads = 0;
    lr_err e = {{0}};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return EXIT_OK;
        } else if (!strcmp(a, "--json")) {
            json = 1;
        } else if (!strcmp(a, "--data") || !strcmp(a, "--dataset") || !strcmp(a, "--isa") ||
                   !strcmp(a, "--threads")) {
            if (!val) {
                fprintf(stderr, "lrscope: evaluate: %s expects a value (see lrscope evaluate --help)\n", a);
                return EXIT_BAD_INPUT;
            }
            i++;
            if (!strcmp(a, "--data")) data = val;
            else if (!strcmp(a, "--dataset")) hint = val;
            else if (!strcmp(a, "--isa")) isa = val;
            else {
                char *end;
                errno = 0;
                long t = strtol(val, &end, 10);
                if (!val[0] || *end || errno || t < 0 || t > 1024) {
                    fprintf(stderr, "lrscope: evaluate: --threads %s: expected a whole number in [0, 1024]\n", val);
                    return EXIT_BAD_INPUT;
                }
                threads = (int)t;
            }
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "lrscope: evaluate: unknown option '%s' (expected --data, --dataset, --json, "
                            "--isa, --threads or --help)\n", a);
            return EXIT_BAD_INPUT;
        } else if (!weights) {
            weights = a;
        } else {
            fprintf(stderr, "lrscope: evaluate: expected one RUN_DIR_or_WEIGHTS, got '%s' and '%s'\n", weights, a);
            return EXIT_BAD_INPUT;
        }
    }
    if (!weights || !data) {
        fprintf(stderr, "lrscope: evaluate: expected RUN_DIR_or_WEIGHTS and --data DIR (see lrscope evaluate --help)\n");
        return EXIT_BAD_INPUT;
    }
    if (hint && !dataset_find(hint)) {
        fprintf(stderr, "lrscope: evaluate: --dataset %s: unknown data set; expected one of %s\n", hint,
                dataset_names());
        return EXIT_BAD_INPUT;
    }
    model_desc m;
    float *params = NULL;
    weights_meta meta;
    char path[FS_PATH_MAX];
    if (cli_open_weights(weights, hint, &m, &params, &meta, path, sizeof path, &e) != 0) {
        fprintf(stderr, "lrscope: %s\n", e.msg);
        return EXIT_BAD_INPUT;
    }
    if (meta.note[0]) fprintf(stderr, "lrscope: note: %s\n", meta.note);
    int rc = EXIT_BAD_INPUT;
    const int K = m.num_classes;
    const dataset_info *known = dataset_find(meta.dataset);
    dataset train, test;
    memset(&train, 0, sizeof train);
    memset(&test, 0, sizeof test);
    int64_t *cm = lr_calloc((size_t)K * K, sizeof *cm);
    double *prec = lr_calloc((size_t)K, sizeof *prec), *rec = lr_calloc((size_t)K, sizeof *rec),
           *f1 = lr_calloc((size_t)K, sizeof *f1);
    int64_t *support = lr_calloc((size_t)K, sizeof *support);
    if (!known) {
        lr_fail(&e, "%s: trained on data set \"%s\", which this lrscope does not know (expected one of %s)",
                path, meta.dataset, dataset_names());
        goto done;
    }
    // The loader normalises with the file's constants, which for a model
    // lrscope trained are the data set's own.
    dataset_info info = *known;
    memcpy(info.mean, meta.mean, sizeof info.mean);
    memcpy(info.std, meta.std, sizeof info.std);
    if (dataset_load(&info, data, &train, &test, &e) != 0) goto done;
    dataset_free(&train);
    if (test.c != m.in_c || test.h != m.in_h || test.w != m.in_w || test.num_classes != K) {
        lr_fail(&e, "%s: %s test images are %dx%dx%d of %d classes; the weights %s take %dx%dx%d inputs "
                    "of %d classes", data, info.name, test.c, test.h, test.w, test.num_classes, path,
                m.in_c, m.in_h, m.in_w, K);
        goto done;
    }
    for (int k = 0; k < K; k++)
        if (strcmp(test.class_names[k], meta.class_names[k]) != 0) {
            lr_fail(&e, "%s: class %d is \"%s\", the weights %s call it \"%s\"; a different data set", data, k,
                    test.class_names[k], path, meta.class_names[k]);
            goto done;
        }
    double loss;
    if (train_evaluate(&m, params, &test, &info, isa, threads, &loss, cm, &e) != 0) goto done;
    double acc = metrics_accuracy(cm, K), mf1 = metrics_macro_f1(cm, K);
    metrics_per_class(cm, K, prec, rec, f1, support);
    if (json) {
        json_t *root = json_object(), *pc = json_array(), *conf = json_array();
        json_object_set_new(root, "weights", json_string(path));
        json_object_set_new(root, "dataset", json_string(info.name));
        json_object_set_new(root, "data", json_string(data));
        json_object_set_new(root, "images", json_integer(test.n));
        json_object_set_new(root, "test_loss", json_real(loss));
        json_object_set_new(root, "test_acc", json_real(acc));
        json_object_set_new(root, "test_f1", json_real(mf1));
        for (int k = 0; k < K; k++) {
            json_array_append_new(pc, json_pack("{s:s, s:f, s:f, s:f, s:I}", "class", meta.class_names[k],
                                                "precision", prec[k], "recall", rec[k], "f1", f1[k],
                                                "support", (json_int_t)support[k]));
            json_t *row = json_array();
            for (int j = 0; j < K; j++) json_array_append_new(row, json_integer(cm[(size_t)k * K + j]));
            json_array_append_new(conf, row);
        }
        json_object_set_new(root, "per_class", pc);
        json_object_set_new(root, "confusion", conf);
        char *text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17));
        if (text) printf("%s\n", text);
        free(text);
        json_decref(root);
    } else {
        printf("%s (%s, %s) on %d test images of %s\n", path, info.name, m.spec, test.n, data);
        printf("test loss %.17g\ntest accuracy %.17g\ntest macro-F1 %.17g\n\n", loss, acc, mf1);
        printf("%-20s %9s %9s %9s %9s\n", "class", "precision", "recall", "F1", "support");
        for (int k = 0; k < K; k++)
            printf("%-20s %9.4f %9.4f %9.4f %9lld\n", meta.class_names[k], prec[k], rec[k], f1[k],
                   (long long)support[k]);
        printf("\nconfusion matrix (rows: true class, columns: predicted, in class order)\n");
        for (int k = 0; k < K; k++) {
            for (int j = 0; j < K; j++) printf("%s%lld", j ? " " : "", (long long)cm[(size_t)k * K + j]);
            printf("  %s\n", meta.class_names[k]);
        }
    }
    rc = EXIT_OK;
done:
    if (rc != EXIT_OK) fprintf(stderr, "lrscope: %s\n", e.msg);
    dataset_free(&test);
    free(support);
    free(f1);
    free(rec);
    free(prec);
    free(cm);
    free(params);
    weights_meta_free(&meta);
    return rc;
}
