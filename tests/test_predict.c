// test_predict.c: lrscope predict and lrscope evaluate end to end on the
// generated CIFAR-10-layout folder of cli_fixture.h, the weights file's
// version 2 (and version 1 read back), the resize against torchvision, and
// every refusal.
#include "cli_fixture.h"

#include "../src/cli/commands.h"
#include "../src/data/loader.h"
#include "../src/data/resize.h"
#include "tensor_file.h"

#include <zlib.h>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wshadow"
#pragma GCC diagnostic ignored "-Wunused-function"
#define STB_IMAGE_WRITE_STATIC
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb/stb_image_write.h>
#pragma GCC diagnostic pop

static const char *const RUN = "out1/runs/lr=0.05/seed-1";

static void run_dir(const cli_state *st, char *out, size_t cap) {
    snprintf(out, cap, "%s/%s", st->root, RUN);
}

// Record k of a CIFAR-10 file: pixels (3, 32, 32).
static void read_record(const char *path, int k, uint8_t *px) {
    size_t len;
    char *data = slurp_must(path, &len);
    assert_true((size_t)(k + 1) * REC <= len);
    memcpy(px, data + (size_t)k * REC + 1, IMG);
    free(data);
}

// Writes planes (3, 32, 32) as an RGB PNG.
static void write_png(const char *path, const uint8_t *planes) {
    uint8_t rgb[IMG];
    for (int p = 0; p < 1024; p++)
        for (int c = 0; c < 3; c++) rgb[p * 3 + c] = planes[c * 1024 + p];
    if (!stbi_write_png(path, 32, 32, 3, rgb, 32 * 3)) fail_msg("cannot write %s", path);
}

static void expect_refused(cli_state *st, const char *needle, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void expect_refused(cli_state *st, const char *needle, const char *fmt, ...) {
    char args[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    char *err, *out;
    int rc = run_lrscope(st, &err, &out, "%s", args);
    if (rc != 2) fail_msg("`lrscope %s`: exit %d, expected 2; stderr: %s", args, rc, err);
    if (!strstr(err, needle)) fail_msg("`lrscope %s`: stderr does not name \"%s\": %s", args, needle, err);
    free(err);
    free(out);
}

// ---------------------------------------------------------------- the weights file

static void fix_crc(uint8_t *buf, size_t len) {
    uint32_t c = (uint32_t)crc32_z(0L, buf, len - 4);
    for (int i = 0; i < 4; i++) buf[len - 4 + i] = (uint8_t)(c >> (8 * i));
}

static void test_weights_v2_describes_itself(void **state) {
    cli_state *st = *state;
    ensure_main_run(st);
    char path[4600];
    snprintf(path, sizeof path, "%s/%s/weights.lrsw", st->root, RUN);
    size_t len;
    uint8_t *raw = (uint8_t *)slurp_must(path, &len);
    assert_memory_equal(raw, "LRSW", 4);
    assert_int_equal(raw[4], 2); // version, little-endian
    free(raw);
    model_desc m;
    float *params;
    weights_meta meta;
    lr_err e;
    if (weights_read(path, NULL, &m, &params, &meta, &e) != 0) fail_msg("%s", e.msg);
    assert_int_equal(meta.version, 2);
    assert_string_equal(meta.dataset, "cifar10");
    assert_string_equal(m.spec, MODEL_SEED_SPEC);
    assert_int_equal(meta.c, 3);
    const dataset_info *info = dataset_find("cifar10");
    for (int c = 0; c < 3; c++) {
        assert_true(meta.mean[c] == info->mean[c]);
        assert_true(meta.std[c] == info->std[c]);
    }
    assert_int_equal(meta.num_classes, 10);
    for (int k = 0; k < 10; k++) assert_string_equal(meta.class_names[k], CIFAR10_CLASS_NAMES[k]);
    assert_string_equal(meta.note, "");
    free(params);
    weights_meta_free(&meta);

    // --dataset naming another data set than the file's: refused.
    assert_int_equal(weights_read(path, "mnist", &m, &params, &meta, &e), -1);
    assert_contains(e.msg, "trained on cifar10, not on --dataset mnist", "the mismatch message");
}

// A version-1 file as lrscope 0.1 wrote it: no description after the parameters.
static void write_v1(const char *path, const char *spec, int c, int h, int w, int k, float fill,
                     size_t *n_params) {
    model_desc m;
    lr_err e;
    if (model_build(&m, spec, c, h, w, k, &e) != 0) fail_msg("%s", e.msg);
    size_t slen = strlen(spec), len = 12 + slen + 24 + m.n_params * 4 + 4;
    uint8_t *b = calloc(len, 1);
    assert_non_null(b);
    memcpy(b, "LRSW", 4);
    uint32_t hdr[] = {1, (uint32_t)slen};
    memcpy(b + 4, hdr, 8);
    memcpy(b + 12, spec, slen);
    uint32_t f[] = {(uint32_t)c, (uint32_t)h, (uint32_t)w, (uint32_t)k, (uint32_t)m.n_params, 0};
    memcpy(b + 12 + slen, f, 24);
    for (size_t i = 0; i < m.n_params; i++) {
        float v = fill + (float)i;
        memcpy(b + 36 + slen + 4 * i, &v, 4);
    }
    fix_crc(b, len);
    test_write_file(path, b, len);
    free(b);
    *n_params = m.n_params;
}

static void test_weights_v1_loads_with_defaults(void **state) {
    cli_state *st = *state;
    char path[4600];
    snprintf(path, sizeof path, "%s/v1.lrsw", st->root);
    size_t n;
    write_v1(path, "linear:4,relu,linear", 3, 32, 32, 10, 0.25f, &n);
    model_desc m;
    float *params;
    weights_meta meta;
    lr_err e;
    if (weights_read(path, NULL, &m, &params, &meta, &e) != 0) fail_msg("%s", e.msg);
    assert_int_equal(meta.version, 1);
    assert_string_equal(meta.dataset, "cifar10");
    assert_true(meta.mean[1] == dataset_find("cifar10")->mean[1]);
    assert_string_equal(meta.class_names[3], "cat");
    assert_contains(meta.note, "version-1", "the note");
    assert_int_equal(m.n_params, n);
    assert_true(params[7] == 7.25f);
    free(params);
    weights_meta_free(&meta);

    // 1x28x28 with 10 classes is MNIST or Fashion-MNIST: the file cannot tell.
    write_v1(path, "linear:4,relu,linear", 1, 28, 28, 10, 0.0f, &n);
    assert_int_equal(weights_read(path, NULL, &m, &params, &meta, &e), -1);
    assert_contains(e.msg, "--dataset", "the ambiguous-v1 message");
    assert_contains(e.msg, "mnist, fashion-mnist", "the ambiguous-v1 message");
    assert_contains(e.msg, "train again", "the ambiguous-v1 message");
    if (weights_read(path, "fashion-mnist", &m, &params, &meta, &e) != 0) fail_msg("%s", e.msg);
    assert_string_equal(meta.dataset, "fashion-mnist");
    assert_true(meta.mean[0] == 0.2860f);
    assert_string_equal(meta.class_names[9], "9");
    free(params);
    weights_meta_free(&meta);
    // A hint whose shape is not the file's.
    assert_int_equal(weights_read(path, "cifar10", &m, &params, &meta, &e), -1);
    assert_contains(e.msg, "--dataset cifar10 has 3x32x32", "the v1 hint mismatch");

    // Through the command line: the note on stderr, and the prediction.
    char png[4600];
    snprintf(path, sizeof path, "%s/v1.lrsw", st->root);
    write_v1(path, "linear:4,relu,linear", 3, 32, 32, 10, 0.0f, &n);
    snprintf(png, sizeof png, "%s/v1.png", st->root);
    uint8_t px[IMG];
    memset(px, 100, sizeof px);
    write_png(png, px);
    char *err, *out;
    assert_int_equal(run_lrscope(st, &err, &out, "predict '%s' '%s' --top 10", path, png), 0);
    assert_contains(err, "version-1 weights file", "predict's stderr");
    assert_contains(out, "airplane", "predict's output"); // CIFAR-10's names
    free(err);
    free(out);
}

// A v2 file whose description is damaged but whose checksum is fixed up.
static void test_weights_v2_description_bounds(void **state) {
    cli_state *st = *state;
    ensure_main_run(st);
    char path[4600], copy[4600];
    snprintf(path, sizeof path, "%s/%s/weights.lrsw", st->root, RUN);
    snprintf(copy, sizeof copy, "%s/meta.lrsw", st->root);
    size_t len;
    uint8_t *orig = (uint8_t *)slurp_must(path, &len);
    if (len < 64) { // (and tells the compiler the cuts below stay inside)
        fail_msg("%s: only %zu bytes", path, len);
        return;
    }
    model_desc m;
    float *params;
    weights_meta meta;
    lr_err e;
    if (weights_read(path, NULL, &m, &params, &meta, &e) != 0) fail_msg("%s", e.msg);
    free(params);
    weights_meta_free(&meta);
    size_t name_at = 12 + strlen(m.spec) + 24 + m.n_params * 4; // the data set name's length
    uint8_t *b = malloc(len + 8);
    assert_non_null(b);

    memcpy(b, orig, len); // a data set name of 2^31 bytes
    b[name_at + 3] = 0x80;
    fix_crc(b, len);
    test_write_file(copy, b, len);
    assert_int_equal(weights_read(copy, NULL, &m, &params, &meta, &e), -1);
    assert_contains(e.msg, "data set name of 2147483655 bytes", "the name-length message");

    memcpy(b, orig, len); // std of channel 0 set to 0
    memset(b + name_at + 4 + 7 + 12, 0, 4);
    fix_crc(b, len);
    test_write_file(copy, b, len);
    assert_int_equal(weights_read(copy, NULL, &m, &params, &meta, &e), -1);
    assert_contains(e.msg, "normalisation of channel 0", "the std message");

    memcpy(b, orig, len - 4); // 4 stray bytes before the checksum
    memset(b + len - 4, 0, 4);
    fix_crc(b, len + 4);
    test_write_file(copy, b, len + 4);
    assert_int_equal(weights_read(copy, NULL, &m, &params, &meta, &e), -1);
    assert_contains(e.msg, "4 bytes after the class names", "the trailing-bytes message");

    memcpy(b, orig, len); // the last class name cut: its length runs past the end
    size_t cut = len - 4 - strlen("truck");
    memcpy(b + cut, orig + len - 4, 4);
    fix_crc(b, cut + 4);
    test_write_file(copy, b, cut + 4);
    assert_int_equal(weights_read(copy, NULL, &m, &params, &meta, &e), -1);
    assert_contains(e.msg, "name of class 9", "the cut-name message");
    free(b);
    free(orig);
}

// ---------------------------------------------------------------- evaluate

static void test_evaluate_reproduces_run(void **state) {
    cli_state *st = *state;
    ensure_main_run(st);
    char dir[4600], json_path[4700];
    run_dir(st, dir, sizeof dir);
    snprintf(json_path, sizeof json_path, "%s/run.json", dir);
    json_t *run = load_json(json_path);
    json_t *fin = json_object_get(run, "final");
    double loss = json_real_value(json_object_get(fin, "test_loss"));
    double acc = json_real_value(json_object_get(fin, "test_acc"));
    double f1 = json_real_value(json_object_get(fin, "test_f1"));
    json_decref(run);

    char *err, *out;
    int rc = run_lrscope(st, &err, &out, "evaluate '%s' --data '%s' --json --threads 1", dir, st->data);
    if (rc != 0) fail_msg("evaluate exited %d: %s", rc, err);
    json_error_t je;
    json_t *ev = json_loads(out, 0, &je);
    if (!ev) fail_msg("evaluate --json: not JSON: %s\n%s", je.text, out);
    // The same bits as the trainer recorded.
    if (json_real_value(json_object_get(ev, "test_loss")) != loss ||
        json_real_value(json_object_get(ev, "test_acc")) != acc ||
        json_real_value(json_object_get(ev, "test_f1")) != f1)
        fail_msg("evaluate gives loss %.17g acc %.17g f1 %.17g; run.json has %.17g %.17g %.17g",
                 json_real_value(json_object_get(ev, "test_loss")),
                 json_real_value(json_object_get(ev, "test_acc")),
                 json_real_value(json_object_get(ev, "test_f1")), loss, acc, f1);
    assert_string_equal(json_string_value(json_object_get(ev, "dataset")), "cifar10");
    assert_int_equal(json_integer_value(json_object_get(ev, "images")), N_TEST);
    // The confusion matrix: rows of 5 images each (labels i % 10), its trace the accuracy.
    json_t *cm = json_object_get(ev, "confusion");
    assert_int_equal(json_array_size(cm), 10);
    long trace = 0;
    for (size_t k = 0; k < 10; k++) {
        json_t *row = json_array_get(cm, k);
        long sum = 0;
        for (size_t j = 0; j < 10; j++) sum += (long)json_integer_value(json_array_get(row, j));
        assert_int_equal(sum, N_TEST / 10);
        trace += (long)json_integer_value(json_array_get(row, k));
    }
    assert_true((double)trace / N_TEST == acc);
    json_t *pc = json_object_get(ev, "per_class");
    assert_int_equal(json_array_size(pc), 10);
    double f1_sum = 0;
    for (size_t k = 0; k < 10; k++) {
        json_t *c = json_array_get(pc, k);
        assert_string_equal(json_string_value(json_object_get(c, "class")), CIFAR10_CLASS_NAMES[k]);
        assert_int_equal(json_integer_value(json_object_get(c, "support")), N_TEST / 10);
        f1_sum += json_real_value(json_object_get(c, "f1"));
    }
    assert_true(fabs(f1_sum / 10 - f1) < 1e-12);
    json_decref(ev);
    free(out);
    free(err);

    // The text form prints the same numbers with %.17g; from the weights file
    // itself, with two threads.
    char line[128];
    rc = run_lrscope(st, &err, &out, "evaluate '%s/weights.lrsw' --data '%s' --threads 2", dir, st->data);
    if (rc != 0) fail_msg("evaluate exited %d: %s", rc, err);
    snprintf(line, sizeof line, "test loss %.17g\n", loss);
    assert_contains(out, line, "evaluate's output");
    snprintf(line, sizeof line, "test accuracy %.17g\n", acc);
    assert_contains(out, line, "evaluate's output");
    assert_contains(out, "confusion matrix", "evaluate's output");
    free(out);
    free(err);
}

// ---------------------------------------------------------------- predict

// Logits of the data set's image k through the evaluation loader (no augmentation).
static void loader_logits(const char *weights, const dataset *d, int k, float *logits) {
    model_desc m;
    float *params;
    weights_meta meta;
    lr_err e;
    if (weights_read(weights, NULL, &m, &params, &meta, &e) != 0) fail_msg("%s", e.msg);
    const kernel_table *kt = kernels_select("auto", &e);
    assert_non_null(kt);
    loader *ld = loader_create(d, dataset_find("cifar10"), 64, 0, 1, 1);
    loader_start_epoch(ld, 0);
    const batch *b = loader_next(ld);
    assert_non_null(b);
    assert_non_null(b->x);
    assert_true(k < b->n);
    model_ws ws;
    model_ws_alloc(&ws, &m);
    size_t group = (size_t)m.in_c * m.in_h * m.in_w * LANES;
    const float *out = model_forward(&m, kt, params, &ws, b->x + (size_t)(k / LANES) * group);
    for (int c = 0; c < m.num_classes; c++) logits[c] = out[(size_t)c * LANES + k % LANES];
    loader_stop_epoch(ld);
    loader_destroy(ld);
    model_ws_free(&ws);
    free(params);
    weights_meta_free(&meta);
}

static void json_logits(json_t *img, float *logits) {
    json_t *lg = json_object_get(img, "logits");
    assert_int_equal(json_array_size(lg), 10);
    for (size_t c = 0; c < 10; c++) logits[c] = (float)json_real_value(json_array_get(lg, c));
}

static void test_predict_png_matches_loader(void **state) {
    cli_state *st = *state;
    ensure_main_run(st);
    char dir[4600], weights[4700], bin[4600], png[4600];
    run_dir(st, dir, sizeof dir);
    snprintf(weights, sizeof weights, "%s/weights.lrsw", dir);
    snprintf(bin, sizeof bin, "%s/data_batch_1.bin", st->data);
    const int k = 13; // not in lane 0 of the first group
    uint8_t px[IMG];
    read_record(bin, k, px);
    snprintf(png, sizeof png, "%s/train13.png", st->root);
    write_png(png, px);

    dataset train, test;
    lr_err e;
    if (dataset_load(dataset_find("cifar10"), st->data, &train, &test, &e) != 0) fail_msg("%s", e.msg);
    float want[10];
    loader_logits(weights, &train, k, want);
    int label = train.labels[k];
    dataset_free(&train);
    dataset_free(&test);

    char *err, *out;
    int rc = run_lrscope(st, &err, &out, "predict '%s' '%s' '%s' --index %d --json --top 10", dir, png, bin, k);
    if (rc != 0) fail_msg("predict exited %d: %s", rc, err);
    json_error_t je;
    json_t *root = json_loads(out, 0, &je);
    if (!root) fail_msg("predict --json: not JSON: %s\n%s", je.text, out);
    json_t *imgs = json_object_get(root, "images");
    assert_int_equal(json_array_size(imgs), 2);
    for (size_t i = 0; i < 2; i++) {
        float got[10];
        json_t *img = json_array_get(imgs, i);
        json_logits(img, got);
        for (int c = 0; c < 10; c++)
            if (memcmp(&got[c], &want[c], sizeof(float)) != 0)
                fail_msg("image %zu logit %d: predict %.9g, loader %.9g", i, c, (double)got[c], (double)want[c]);
        // The top list: all 10 classes, probabilities descending, summing to 1,
        // the first the arg-max of the logits.
        json_t *tp = json_object_get(img, "top");
        assert_int_equal(json_array_size(tp), 10);
        double sum = 0, prev = 2;
        int best = 0;
        for (int c = 1; c < 10; c++) best = want[c] > want[best] ? c : best;
        assert_int_equal(json_integer_value(json_object_get(json_array_get(tp, 0), "label")), best);
        assert_string_equal(json_string_value(json_object_get(json_array_get(tp, 0), "class")),
                            CIFAR10_CLASS_NAMES[best]);
        for (size_t j = 0; j < 10; j++) {
            double p = json_real_value(json_object_get(json_array_get(tp, j), "probability"));
            assert_true(p <= prev && p > 0);
            prev = p;
            sum += p;
        }
        assert_true(fabs(sum - 1.0) < 1e-12);
        // softmax: p1 / p0 = exp(l1 - l0)
        int second = (int)json_integer_value(json_object_get(json_array_get(tp, 1), "label"));
        double p0 = json_real_value(json_object_get(json_array_get(tp, 0), "probability"));
        double p1 = json_real_value(json_object_get(json_array_get(tp, 1), "probability"));
        assert_true(fabs(p1 / p0 - exp((double)want[second] - want[best])) < 1e-12);
    }
    assert_true(json_is_null(json_object_get(json_array_get(imgs, 0), "index")));
    assert_int_equal(json_integer_value(json_object_get(json_array_get(imgs, 1), "index")), k);
    (void)label;
    json_decref(root);
    free(out);
    free(err);

    // Text: five classes by default, three with --top 3.
    rc = run_lrscope(st, &err, &out, "predict '%s' '%s'", dir, png);
    if (rc != 0) fail_msg("predict exited %d: %s", rc, err);
    assert_contains(out, "   5. ", "predict's top 5");
    assert_null(strstr(out, "   6. "));
    free(out);
    free(err);
    rc = run_lrscope(st, &err, &out, "predict '%s' '%s' --top 3", dir, png);
    assert_int_equal(rc, 0);
    assert_contains(out, "   3. ", "predict's top 3");
    assert_null(strstr(out, "   4. "));
    free(out);
    free(err);
}

// Images of other sizes against what torchvision's Resize + ToTensor +
// Normalize made of them (tools/resize_reference.py).
static void test_resize_reference(void **state) {
    (void)state;
    ref_file rf;
    if (ref_file_load(&rf, "tests/data/resize_reference.bin") != 0)
        fail_msg("tests/data/resize_reference.bin: missing or unreadable (run from the repository root)");
    model_desc m;
    lr_err e;
    if (model_build(&m, "linear", 3, 32, 32, 10, &e) != 0) fail_msg("%s", e.msg);
    weights_meta meta;
    weights_meta_from(&meta, dataset_find("cifar10"), 3, 10, NULL);
    static const char *const CASES[] = {"shrink", "enlarge", "wide", "grey", "big"};
    float x[IMG];
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        const ref_tensor *t = ref_get(&rf, CASES[i]);
        if (!t) fail_msg("reference lacks %s", CASES[i]);
        assert_int_equal(t->n, IMG);
        char path[256];
        snprintf(path, sizeof path, "tests/data/resize_%s.png", CASES[i]);
        if (predict_prepare(path, -1, &m, &meta, x, &e) != 0) fail_msg("%s", e.msg);
        test_assert_close(x, t->data, IMG, 0, 1e-5, CASES[i]);
    }
    weights_meta_free(&meta);
    ref_file_free(&rf);

    // A 32x32 image is not resampled at all; shrinking a constant image keeps it.
    uint8_t src[3 * 7 * 9], dst[3 * 32 * 32];
    memset(src, 77, sizeof src);
    resize_bilinear_u8(dst, 32, 32, src, 3, 7, 9);
    for (size_t i = 0; i < sizeof dst; i++) assert_int_equal(dst[i], 77);
}

// ---------------------------------------------------------------- refusals

static void test_refusals(void **state) {
    cli_state *st = *state;
    ensure_main_run(st);
    char dir[4600], w[4700], bad[4700], png[4700], bin[4600];
    run_dir(st, dir, sizeof dir);
    snprintf(w, sizeof w, "%s/weights.lrsw", dir);
    snprintf(bin, sizeof bin, "%s/test_batch.bin", st->data);
    snprintf(png, sizeof png, "%s/ok.png", st->root);
    uint8_t px[IMG];
    read_record(bin, 0, px);
    write_png(png, px);
    size_t len;
    char *orig = slurp_must(w, &len);

    // Weights: missing, a folder without weights, a FIFO, cut, damaged, foreign.
    snprintf(bad, sizeof bad, "%s/nope.lrsw", st->root);
    expect_refused(st, bad, "predict '%s' '%s'", bad, png);
    expect_refused(st, bad, "evaluate '%s' --data '%s'", bad, st->data);
    expect_refused(st, "without weights.lrsw", "predict '%s' '%s'", st->data, png);
    snprintf(bad, sizeof bad, "%s/fifo.lrsw", st->root);
    assert_int_equal(mkfifo(bad, 0644), 0);
    expect_refused(st, "FIFO", "predict '%s' '%s'", bad, png);
    expect_refused(st, "FIFO", "evaluate '%s' --data '%s'", bad, st->data);
    remove(bad);
    snprintf(bad, sizeof bad, "%s/cut.lrsw", st->root);
    test_write_file(bad, orig, len / 2);
    expect_refused(st, "cut.lrsw: checksum mismatch", "predict '%s' '%s'", bad, png);
    test_write_file(bad, orig, 20);
    expect_refused(st, "cut.lrsw: 20 bytes", "evaluate '%s' --data '%s'", bad, st->data);
    snprintf(bad, sizeof bad, "%s/damaged.lrsw", st->root);
    orig[len - 10] ^= 1;
    test_write_file(bad, orig, len);
    orig[len - 10] ^= 1;
    expect_refused(st, "damaged.lrsw: checksum mismatch", "evaluate '%s' --data '%s'", bad, st->data);
    snprintf(bad, sizeof bad, "%s/foreign.lrsw", st->root);
    static const char FOREIGN[] = "\x89PNG\r\n\x1a\n and so on, long enough for a header of forty";
    test_write_file(bad, FOREIGN, sizeof FOREIGN - 1);
    expect_refused(st, "foreign.lrsw: not an lrscope weights file", "predict '%s' '%s'", bad, png);
    memcpy(orig + 4, "\x07\0\0\0", 4); // a future version
    test_write_file(bad, orig, len);
    expect_refused(st, "foreign.lrsw: weights format version 7", "predict '%s' '%s'", bad, png);
    free(orig);

    // A data set other than the weights': named, or by its files.
    expect_refused(st, "not on --dataset mnist", "evaluate '%s' --data '%s' --dataset mnist", dir, st->data);
    expect_refused(st, "unknown data set", "evaluate '%s' --data '%s' --dataset nope", dir, st->data);
    snprintf(bad, sizeof bad, "%s/empty-data", st->root);
    mkdir(bad, 0755);
    expect_refused(st, "empty-data", "evaluate '%s' --data '%s'", dir, bad);
    expect_refused(st, "--data", "evaluate '%s'", dir);

    // Images: missing, a folder, a FIFO, not an image, cut, a .bin without --index or past its end.
    snprintf(bad, sizeof bad, "%s/missing.png", st->root);
    expect_refused(st, bad, "predict '%s' '%s'", dir, bad);
    expect_refused(st, "is a directory", "predict '%s' '%s'", dir, st->data);
    snprintf(bad, sizeof bad, "%s/fifo.png", st->root);
    assert_int_equal(mkfifo(bad, 0644), 0);
    expect_refused(st, "fifo.png: is a FIFO", "predict '%s' '%s'", dir, bad);
    remove(bad);
    snprintf(bad, sizeof bad, "%s/text.png", st->root);
    test_write_file(bad, "hello, not an image\n", 20);
    expect_refused(st, "text.png: cannot read image", "predict '%s' '%s'", dir, bad);
    size_t plen;
    char *p = slurp_must(png, &plen);
    snprintf(bad, sizeof bad, "%s/cut.png", st->root);
    test_write_file(bad, p, plen / 2);
    free(p);
    expect_refused(st, "cut.png", "predict '%s' '%s'", dir, bad);
    expect_refused(st, "needs --index", "predict '%s' '%s'", dir, bin);
    expect_refused(st, "--index 50 is out of range; the file holds records 0..49", "predict '%s' '%s' --index 50",
                   dir, bin);
    expect_refused(st, "no IMAGE is one", "predict '%s' '%s' --index 0", dir, png);
    snprintf(bad, sizeof bad, "%s/odd.bin", st->root);
    test_write_file(bad, "abc", 3);
    expect_refused(st, "odd.bin: 3 bytes", "predict '%s' '%s' --index 0", dir, bad);
    expect_refused(st, "--top 0", "predict '%s' '%s' --top 0", dir, png);
    expect_refused(st, "unknown option '--nope'", "predict '%s' '%s' --nope", dir, png);
    expect_refused(st, "at least one IMAGE", "predict '%s'", dir);
}

static void test_help_lists_commands(void **state) {
    cli_state *st = *state;
    char *err, *out;
    assert_int_equal(run_lrscope(st, &err, &out, "--help"), 0);
    assert_contains(out, "predict RUN_DIR_or_WEIGHTS IMAGE...", "lrscope --help");
    assert_contains(out, "evaluate RUN_DIR_or_WEIGHTS --data DIR", "lrscope --help");
    free(err);
    free(out);
    assert_int_equal(run_lrscope(st, &err, &out, "predict --help"), 0);
    assert_contains(out, "--index N", "predict --help");
    free(err);
    free(out);
    assert_int_equal(run_lrscope(st, &err, &out, "evaluate --help"), 0);
    assert_contains(out, "--data DIR", "evaluate --help");
    free(err);
    free(out);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_weights_v2_describes_itself),
        cmocka_unit_test(test_weights_v1_loads_with_defaults),
        cmocka_unit_test(test_weights_v2_description_bounds),
        cmocka_unit_test(test_evaluate_reproduces_run),
        cmocka_unit_test(test_predict_png_matches_loader),
        cmocka_unit_test(test_resize_reference),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_help_lists_commands),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
