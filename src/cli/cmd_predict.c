// cmd_predict.c: `lrscope predict RUN_DIR_or_WEIGHTS IMAGE...`: classifies
// PNG or JPEG images of any size (or records of a CIFAR-10 .bin file) with
// saved weights, printing each image's top classes and their probabilities.
// An image is decoded with the image-folder loader's checks, resized to the
// model's input as torchvision's Resize does a PIL image (src/data/resize.h)
// and normalised with the constants stored in the weights file.
#include "commands.h"
#include "../data/resize.h"
#include "../model/kernels.h"
#include "../study/weights.h"
#include "../util/fsutil.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <string.h>
#include <strings.h>

enum { CIFAR_SIDE = 32, CIFAR_IMG = 3 * 32 * 32, CIFAR_REC = 1 + CIFAR_IMG };

static void usage(FILE *f) {
    fprintf(f,
            "usage: lrscope predict RUN_DIR_or_WEIGHTS IMAGE... [options]\n"
            "\n"
            "Classifies each IMAGE (PNG or JPEG, any size; or a CIFAR-10 .bin file with\n"
            "--index) with the weights of a run folder (its weights.lrsw) or a weights\n"
            "file, and prints its top classes with their probabilities (softmax of the\n"
            "logits). An image is resized to the model's input as torchvision's\n"
            "Resize((H, W)) resizes a PIL image (bilinear, antialiased when shrinking),\n"
            "then normalised with the constants the model was trained with.\n"
            "\n"
            "  --top K        classes shown per image (default 5, at most the class count)\n"
            "  --index N      the record of a CIFAR-10 .bin IMAGE (from 0)\n"
            "  --dataset NAME the data set of a version-1 weights file that its shape does\n"
            "                 not tell (a version-2 file names its own)\n"
            "  --json         one JSON document on stdout: each image's logits and top classes\n"
            "  --isa NAME     kernels (default auto)\n"
            "  --help         this help\n"
            "\n"
            "Exit status: 0 every image classified, 2 bad input (a message names the file).\n");
}

int cli_open_weights(const char *arg, const char *dataset_hint, model_desc *m, float **params,
                     weights_meta *meta, char *path, size_t cap, lr_err *e) {
    if (!arg[0]) return lr_fail(e, "the weights argument is empty; expected a run folder or a weights file");
    if (fs_is_dir(arg)) {
        if (fs_path(path, cap, arg, "weights.lrsw", e) != 0) return -1;
        if (!fs_exists(path))
            return lr_fail(e, "%s: a folder without weights.lrsw; expected a run folder "
                              "(STUDY/runs/CONDITION/seed-K) or a weights file", arg);
    } else {
        if (strlen(arg) >= cap) return lr_fail(e, "%.200s...: path too long", arg);
        snprintf(path, cap, "%s", arg);
    }
    return weights_read(path, dataset_hint, m, params, meta, e);
}

static int parse_int(const char *flag, const char *s, long lo, long hi, int *out, lr_err *e) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (!s[0] || *end || errno || v < lo || v > hi)
        return lr_fail(e, "%s %s: expected a whole number in [%ld, %ld]", flag, s, lo, hi);
    *out = (int)v;
    return 0;
}

static int ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcasecmp(s + n - k, suffix) == 0;
}

// Record `index` of a CIFAR-10 batch file: pixels (3, 32, 32) into px.
static int read_cifar_record(const char *path, long index, uint8_t *px, lr_err *e) {
    long long size;
    FILE *f = fs_fopen_regular(path, "a CIFAR-10 batch file", &size, e);
    if (!f) return -1;
    int rc = -1;
    long long n = size / CIFAR_REC;
    if (size == 0 || size % CIFAR_REC != 0) {
        lr_fail(e, "%s: %lld bytes, not a whole number of %d-byte CIFAR-10 records", path, size, CIFAR_REC);
    } else if (index < 0 || index >= n) {
        lr_fail(e, "%s: --index %ld is out of range; the file holds records 0..%lld", path, index, n - 1);
    } else {
        uint8_t rec[CIFAR_REC];
        if (fseeko(f, (off_t)index * CIFAR_REC, SEEK_SET) != 0 || fread(rec, 1, CIFAR_REC, f) != CIFAR_REC)
            lr_fail(e, "%s: cannot read record %ld: %s", path, index, strerror(errno ? errno : EIO));
        else if (rec[0] > 9)
            lr_fail(e, "%s: record %ld has label %d, expected 0..9", path, index, rec[0]);
        else {
            memcpy(px, rec + 1, CIFAR_IMG);
            rc = 0;
        }
    }
    fclose(f);
    return rc;
}

int predict_prepare(const char *path, long index, const model_desc *m, const weights_meta *meta, float *x,
                    lr_err *e) {
    uint8_t *px = NULL;
    int h, w, c = m->in_c;
    if (ends_with(path, ".bin")) {
        if (index < 0)
            return lr_fail(e, "%s: a CIFAR-10 batch file needs --index N (which record)", path);
        if (m->in_c != 3)
            return lr_fail(e, "%s: CIFAR-10 records are colour images; the model takes %d channel%s",
                           path, m->in_c, m->in_c == 1 ? "" : "s");
        px = lr_malloc(CIFAR_IMG);
        if (read_cifar_record(path, index, px, e) != 0) {
            free(px);
            return -1;
        }
        h = w = CIFAR_SIDE;
    } else {
        if (c != 1 && c != 3)
            return lr_fail(e, "%s: the model takes %d channels; images give 1 or 3", path, c);
        if (image_decode_file(path, c, &px, &h, &w, e) != 0) return -1;
    }
    resize_normalize(x, m->in_h, m->in_w, px, c, h, w, meta->mean, meta->std);
    free(px);
    return 0;
}

void predict_logits(const model_desc *m, const kernel_table *kt, const float *params, model_ws *ws,
                    float *lanes, const float *x, float *logits) {
    size_t plane = (size_t)m->in_c * m->in_h * m->in_w;
    memset(lanes, 0, plane * LANES * sizeof(float));
    for (size_t i = 0; i < plane; i++) lanes[i * LANES] = x[i]; // lane 0; the rest empty, as in a loader's last group
    const float *out = model_forward(m, kt, params, ws, lanes);
    for (int k = 0; k < m->num_classes; k++) logits[k] = out[(size_t)k * LANES];
}

int cmd_predict(int argc, char **argv) {
    const char *weights = NULL, *hint = NULL, *isa = "auto";
    const char **images = lr_calloc((size_t)argc, sizeof *images);
    int n_images = 0, top = 5, json = 0, index = -1, index_given = 0;
    lr_err e = {{0}};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            free(images);
            return EXIT_OK;
        } else if (!strcmp(a, "--json")) {
            json = 1;
        } else if (!strcmp(a, "--top") || !strcmp(a, "--index") || !strcmp(a, "--dataset") || !strcmp(a, "--isa")) {
            if (!val) {
                lr_fail(&e, "predict: %s expects a value (see lrscope predict --help)", a);
                goto bad;
            }
            i++;
            if (!strcmp(a, "--top") && parse_int(a, val, 1, 65535, &top, &e) != 0) goto bad;
            if (!strcmp(a, "--index")) {
                if (parse_int(a, val, 0, 0x7fffffff, &index, &e) != 0) goto bad;
                index_given = 1;
            }
            if (!strcmp(a, "--dataset")) hint = val;
            if (!strcmp(a, "--isa")) isa = val;
        } else if (a[0] == '-' && a[1]) {
            lr_fail(&e, "predict: unknown option '%s' (expected --top, --index, --dataset, --json, --isa or --help)", a);
            goto bad;
        } else if (!weights) {
            weights = a;
        } else {
            images[n_images++] = a;
        }
    }
    if (!weights || n_images == 0) {
        lr_fail(&e, "predict: expected RUN_DIR_or_WEIGHTS and at least one IMAGE (see lrscope predict --help)");
        goto bad;
    }
    if (index_given) {
        int any_bin = 0;
        for (int i = 0; i < n_images; i++) any_bin |= ends_with(images[i], ".bin");
        if (!any_bin) {
            lr_fail(&e, "predict: --index picks a record of a CIFAR-10 .bin file; no IMAGE is one");
            goto bad;
        }
    }
    const kernel_table *kt = kernels_select(isa, &e);
    if (!kt) goto bad;
    model_desc m;
    float *params = NULL;
    weights_meta meta;
    char path[FS_PATH_MAX];
    if (cli_open_weights(weights, hint, &m, &params, &meta, path, sizeof path, &e) != 0) goto bad;
    if (meta.note[0]) fprintf(stderr, "lrscope: note: %s\n", meta.note);
    const int K = m.num_classes, show = top < K ? top : K;
    size_t plane = (size_t)m.in_c * m.in_h * m.in_w;
    float *x = lr_malloc(plane * sizeof(float)), *lanes = lr_aligned_alloc(plane * LANES * sizeof(float));
    float *logits = lr_malloc((size_t)K * sizeof(float));
    double *prob = lr_malloc((size_t)K * sizeof(double));
    int *order = lr_malloc((size_t)K * sizeof(int));
    model_ws ws;
    model_ws_alloc(&ws, &m);
    json_t *root = json ? json_object() : NULL, *list = json ? json_array() : NULL;
    int rc = EXIT_OK;
    for (int i = 0; i < n_images && rc == EXIT_OK; i++) {
        const int is_bin = ends_with(images[i], ".bin");
        if (predict_prepare(images[i], is_bin ? index : -1, &m, &meta, x, &e) != 0) {
            rc = EXIT_BAD_INPUT;
            break;
        }
        predict_logits(&m, kt, params, &ws, lanes, x, logits);
        // Softmax in double, largest logit subtracted first.
        double mx = -INFINITY, sum = 0.0;
        for (int k = 0; k < K; k++) mx = logits[k] > mx ? logits[k] : mx;
        for (int k = 0; k < K; k++) sum += prob[k] = exp((double)logits[k] - mx);
        for (int k = 0; k < K; k++) prob[k] /= sum;
        for (int k = 0; k < K; k++) order[k] = k;
        for (int a = 0; a < show; a++) // partial selection; ties keep the lower label first
            for (int b = a + 1; b < K; b++)
                if (prob[order[b]] > prob[order[a]]) {
                    int t = order[a];
                    order[a] = order[b];
                    order[b] = t;
                }
        if (json) {
            json_t *img = json_object(), *lg = json_array(), *tp = json_array();
            json_object_set_new(img, "image", json_string(images[i]));
            json_object_set_new(img, "index", is_bin ? json_integer(index) : json_null());
            for (int k = 0; k < K; k++) json_array_append_new(lg, json_real((double)logits[k]));
            for (int a = 0; a < show; a++)
                json_array_append_new(tp, json_pack("{s:i, s:s, s:f}", "label", order[a], "class",
                                                    meta.class_names[order[a]], "probability", prob[order[a]]));
            json_object_set_new(img, "logits", lg);
            json_object_set_new(img, "top", tp);
            json_array_append_new(list, img);
        } else {
            if (is_bin) printf("%s [%d]\n", images[i], index);
            else printf("%s\n", images[i]);
            for (int a = 0; a < show; a++)
                printf("  %2d. %-20s %7.3f %%\n", a + 1, meta.class_names[order[a]], 100.0 * prob[order[a]]);
        }
    }
    if (json && rc == EXIT_OK) {
        json_object_set_new(root, "weights", json_string(path));
        json_object_set_new(root, "dataset", json_string(meta.dataset));
        json_object_set_new(root, "model", json_string(m.spec));
        json_object_set_new(root, "images", list);
        list = NULL;
        char *text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17));
        if (text) printf("%s\n", text);
        free(text);
    }
    json_decref(list);
    json_decref(root);
    model_ws_free(&ws);
    free(order);
    free(prob);
    free(logits);
    free(lanes);
    free(x);
    free(params);
    weights_meta_free(&meta);
    free(images);
    if (rc != EXIT_OK) fprintf(stderr, "lrscope: %s\n", e.msg);
    return rc;
bad:
    free(images);
    fprintf(stderr, "lrscope: %s\n", e.msg);
    return EXIT_BAD_INPUT;
}
