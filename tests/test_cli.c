// test_cli.c: lrscope end to end through the built binary (build/lrscope, or
// $LRSCOPE_BIN), on a small generated CIFAR-10-layout folder: the files a
// study writes, determinism across thread counts, bad input (exit 2, nothing
// created), divergence (exit 1) and the help texts.
#include "test_util.h"
#include <signal.h>

#include "../src/study/weights.h"

#include <jansson.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <sys/wait.h>

enum { IMG = 3 * 32 * 32, REC = 1 + IMG, N_TRAIN_FILE = 40, N_TEST = 50 };

typedef struct {
    char root[4096];   // temp folder holding everything below
    char data[4200];   // the good data folder
    const char *bin;
    int main_done;     // the main study (out1) has been run
} cli_state;


// ---------------------------------------------------------------- helpers

static uint64_t mix(uint64_t x) {
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

// Each class a distinct colour plus +-16 of noise: easy to learn.
static void write_cifar_file(const char *dir, const char *name, int n, int file_id) {
    static const uint8_t colour[10][3] = {{230, 30, 30}, {30, 230, 30}, {30, 30, 230}, {230, 230, 30},
                                          {230, 30, 230}, {30, 230, 230}, {128, 128, 128},
                                          {250, 250, 250}, {10, 10, 10}, {128, 60, 0}};
    uint8_t *buf = malloc((size_t)n * REC);
    assert_non_null(buf);
    for (int k = 0; k < n; k++) {
        uint8_t *r = buf + (size_t)k * REC;
        int label = k % 10;
        r[0] = (uint8_t)label;
        for (int j = 0; j < IMG; j++) {
            int noise = (int)(mix(((uint64_t)file_id << 32) ^ ((uint64_t)k << 16) ^ (uint64_t)j) % 33) - 16;
            int v = colour[label][j / 1024] + noise;
            r[1 + j] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
        }
    }
    char path[4400];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    test_write_file(path, buf, (size_t)n * REC);
    free(buf);
}

static void write_dataset(const char *dir) {
    if (mkdir(dir, 0755) != 0) fail_msg("cannot create %s", dir);
    for (int b = 1; b <= 5; b++) {
        char name[32];
        snprintf(name, sizeof name, "data_batch_%d.bin", b);
        write_cifar_file(dir, name, N_TRAIN_FILE, b);
    }
    write_cifar_file(dir, "test_batch.bin", N_TEST, 6);
}

static int exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

// Reads a whole file into a NUL-terminated buffer (caller frees); NULL if absent.
static char *slurp(const char *path, size_t *len_out) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    assert_non_null(buf);
    size_t got;
    while ((got = fread(buf + len, 1, cap - len - 1, f)) > 0) {
        len += got;
        if (cap - len - 1 == 0) {
            cap *= 2;
            buf = realloc(buf, cap);
            assert_non_null(buf);
        }
    }
    fclose(f);
    buf[len] = '\0';
    if (len_out) *len_out = len;
    return buf;
}

static char *slurp_must(const char *path, size_t *len_out) {
    char *s = slurp(path, len_out);
    if (!s) fail_msg("%s: missing", path);
    return s;
}

// Runs `BIN ARGS >ROOT/stdout.txt 2>ROOT/stderr.txt`; returns the exit status.
// *err (if given) receives stderr (caller frees).
static int run_lrscope(const cli_state *st, char **err, char **out, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int run_lrscope(const cli_state *st, char **err, char **out, const char *fmt, ...) {
    char args[8192], cmd[20480], err_path[4200], out_path[4200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    snprintf(err_path, sizeof err_path, "%s/stderr.txt", st->root);
    snprintf(out_path, sizeof out_path, "%s/stdout.txt", st->root);
    snprintf(cmd, sizeof cmd, "'%s' %s >'%s' 2>'%s'", st->bin, args, out_path, err_path);
    int rc = system(cmd);
    if (rc == -1 || !WIFEXITED(rc)) fail_msg("`%s` did not exit normally (status %d)", cmd, rc);
    if (err) *err = slurp_must(err_path, NULL);
    if (out) *out = slurp_must(out_path, NULL);
    return WEXITSTATUS(rc);
}

// Splits a line on commas in place, keeping empty fields; returns the count.
static int split_csv(char *line, char **fields, int cap) {
    int n = 0;
    char *p = line;
    for (;;) {
        if (n == cap) fail_msg("more than %d fields", cap);
        fields[n++] = p;
        char *c = strchr(p, ',');
        if (!c) break;
        *c = '\0';
        p = c + 1;
    }
    return n;
}

// Splits text into lines in place (the last newline ends the last line).
static int split_lines(char *text, char **lines, int cap) {
    int n = 0;
    char *p = text;
    while (*p) {
        if (n == cap) fail_msg("more than %d lines", cap);
        lines[n++] = p;
        char *nl = strchr(p, '\n');
        if (!nl) fail_msg("line %d has no newline at the end", n);
        *nl = '\0';
        p = nl + 1;
    }
    return n;
}

static double parse_num(const char *s, const char *what) {
    char *end;
    double v = strtod(s, &end);
    if (!*s || *end) fail_msg("%s: \"%s\" is not a number", what, s);
    return v;
}

static const char *METRICS_HEADER = "epoch,lr,train_loss,train_acc,train_f1,test_loss,test_acc,test_f1,seconds";
static const char *SUMMARY_HEADER = "lr,status,final_test_acc,final_test_f1,best_test_acc,best_epoch,"
                                    "seconds,epochs_done,diverged_epoch,final_train_loss,final_test_loss,run";

static json_t *load_json(const char *path) {
    json_error_t je;
    json_t *root = json_load_file(path, 0, &je);
    if (!root) fail_msg("%s: not valid JSON: %s (line %d)", path, je.text, je.line);
    return root;
}

static void join(char *out, size_t cap, const char *a, const char *b) { snprintf(out, cap, "%s/%s", a, b); }

static void assert_contains(const char *text, const char *needle, const char *what) {
    if (!strstr(text, needle)) fail_msg("%s does not mention \"%s\":\n%s", what, needle, text);
}

// ---------------------------------------------------------------- fixture

static int group_setup(void **state) {
    cli_state *st = calloc(1, sizeof *st);
    if (!st) return -1;
    const char *bin = getenv("LRSCOPE_BIN");
    st->bin = bin && *bin ? bin : "build/lrscope";
    if (access(st->bin, X_OK) != 0) {
        fprintf(stderr, "test_cli: %s is not an executable (run from the repo root after `make`, or set "
                        "LRSCOPE_BIN)\n", st->bin);
        free(st);
        return -1;
    }
    test_mkdtemp(st->root, sizeof st->root);
    join(st->data, sizeof st->data, st->root, "data");
    write_dataset(st->data);
    *state = st;
    return 0;
}

static int group_teardown(void **state) {
    cli_state *st = *state;
    if (st) {
        test_rmtree(st->root);
        free(st);
    }
    return 0;
}

// The study every output test reads: 2 rates, 3 epochs, one thread.
static void ensure_main_run(cli_state *st) {
    if (st->main_done) return;
    char *err;
    int rc = run_lrscope(st, &err, NULL,
                         "run --data '%s' --out '%s/out1' --epochs 3 --lrs 0.05,0.01 --quiet --no-report "
                         "--threads 1", st->data, st->root);
    if (rc != 0) fail_msg("lrscope run exited %d: %s", rc, err);
    free(err);
    st->main_done = 1;
}

// ---------------------------------------------------------------- a good study

// Checks metrics.csv of a run of `epochs` epochs with base lr; fills the
// last test accuracy / F1 and the best.
static void check_metrics_csv(const char *run_dir, int epochs, double lr, double *last_acc,
                              double *last_f1, double *best_acc, int *best_epoch) {
    char path[4400];
    join(path, sizeof path, run_dir, "metrics.csv");
    char *text = slurp_must(path, NULL);
    char *lines[64];
    int n = split_lines(text, lines, 64);
    assert_int_equal(n, epochs + 1);
    assert_string_equal(lines[0], METRICS_HEADER);
    *best_acc = -1;
    for (int i = 1; i <= epochs; i++) {
        char *f[16];
        if (split_csv(lines[i], f, 16) != 9) fail_msg("%s row %d: expected 9 fields", path, i);
        assert_int_equal((int)parse_num(f[0], "epoch"), i);
        double row_lr = parse_num(f[1], "lr");
        if (fabs(row_lr - lr) > 1e-12) fail_msg("%s epoch %d: lr %g, expected %g", path, i, row_lr, lr);
        double tl = parse_num(f[2], "train_loss"), ta = parse_num(f[3], "train_acc"),
               tf = parse_num(f[4], "train_f1"), vl = parse_num(f[5], "test_loss"),
               va = parse_num(f[6], "test_acc"), vf = parse_num(f[7], "test_f1"),
               sec = parse_num(f[8], "seconds");
        assert_true(isfinite(tl) && tl > 0);
        assert_true(isfinite(vl) && vl > 0);
        assert_true(ta >= 0 && ta <= 1);
        assert_true(tf >= 0 && tf <= 1);
        assert_true(va >= 0 && va <= 1);
        assert_true(vf >= 0 && vf <= 1);
        assert_true(sec >= 0);
        // 50 test images: accuracy is a multiple of 1/50
        assert_true(fabs(va * N_TEST - round(va * N_TEST)) < 1e-4);
        assert_true(fabs(ta * 200 - round(ta * 200)) < 1e-3);
        if (va > *best_acc) {
            *best_acc = va;
            *best_epoch = i;
        }
        *last_acc = va;
        *last_f1 = vf;
    }
    free(text);
}

static void test_run_writes_study(void **state) {
    cli_state *st = *state;
    ensure_main_run(st);
    char out[4400], path[4600];
    join(out, sizeof out, st->root, "out1");

    // study.json
    join(path, sizeof path, out, "study.json");
    json_t *study = load_json(path);
    json_t *runs = json_object_get(study, "runs");
    assert_true(json_is_array(runs));
    assert_int_equal(json_array_size(runs), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(runs, 0), "name")), "lr-0.05");
    assert_string_equal(json_string_value(json_object_get(json_array_get(runs, 1), "name")), "lr-0.01");
    json_decref(study);

    // per-run metrics
    double acc[2], f1[2], best[2];
    int best_ep[2];
    const char *names[2] = {"lr-0.05", "lr-0.01"};
    const double lrs[2] = {0.05, 0.01};
    for (int r = 0; r < 2; r++) {
        char run_dir[4600];
        join(run_dir, sizeof run_dir, out, names[r]);
        check_metrics_csv(run_dir, 3, lrs[r], &acc[r], &f1[r], &best[r], &best_ep[r]);
    }

    // summary.csv agrees with the runs' metrics
    join(path, sizeof path, out, "summary.csv");
    char *text = slurp_must(path, NULL);
    char *lines[8];
    int n = split_lines(text, lines, 8);
    assert_int_equal(n, 3);
    assert_string_equal(lines[0], SUMMARY_HEADER);
    for (int r = 0; r < 2; r++) {
        char *f[16];
        if (split_csv(lines[r + 1], f, 16) != 12) fail_msg("summary row %d: expected 12 fields", r + 1);
        assert_true(fabs(parse_num(f[0], "lr") - lrs[r]) < 1e-12);
        assert_string_equal(f[1], "finished");
        assert_true(fabs(parse_num(f[2], "final_test_acc") - acc[r]) < 1e-9);
        assert_true(fabs(parse_num(f[3], "final_test_f1") - f1[r]) < 1e-9);
        assert_true(fabs(parse_num(f[4], "best_test_acc") - best[r]) < 1e-9);
        assert_int_equal((int)parse_num(f[5], "best_epoch"), best_ep[r]);
        assert_true(parse_num(f[6], "seconds") >= 0);
        assert_int_equal((int)parse_num(f[7], "epochs_done"), 3);
        assert_string_equal(f[8], ""); // not diverged
        assert_true(isfinite(parse_num(f[9], "final_train_loss")));
        assert_true(isfinite(parse_num(f[10], "final_test_loss")));
        assert_string_equal(f[11], names[r]);
    }
    free(text);
}

static void test_run_json(void **state) {
    cli_state *st = *state;
    ensure_main_run(st);
    char path[4600], mpath[4600];
    snprintf(path, sizeof path, "%s/out1/lr-0.05/run.json", st->root);
    snprintf(mpath, sizeof mpath, "%s/out1/lr-0.05", st->root);
    double acc, f1, best;
    int best_ep;
    check_metrics_csv(mpath, 3, 0.05, &acc, &f1, &best, &best_ep);

    json_t *root = load_json(path);
    assert_string_equal(json_string_value(json_object_get(root, "status")), "finished");
    assert_true(json_is_null(json_object_get(root, "diverged_epoch")));
    assert_int_equal(json_integer_value(json_object_get(root, "epochs_done")), 3);
    json_t *cfg = json_object_get(root, "config");
    assert_true(json_is_object(cfg));
    assert_true(json_number_value(json_object_get(cfg, "lr")) == 0.05);
    assert_int_equal(json_integer_value(json_object_get(cfg, "epochs")), 3);
    assert_int_equal(json_integer_value(json_object_get(cfg, "threads")), 1);
    json_t *classes = json_object_get(root, "classes");
    assert_int_equal(json_array_size(classes), 10);
    json_t *cm = json_object_get(root, "confusion_matrix");
    assert_true(json_is_array(cm));
    assert_int_equal(json_array_size(cm), 10);
    long long total = 0, diag = 0;
    long long row_sum[10] = {0};
    for (size_t t = 0; t < 10; t++) {
        json_t *row = json_array_get(cm, t);
        assert_int_equal(json_array_size(row), 10);
        for (size_t p = 0; p < 10; p++) {
            json_t *v = json_array_get(row, p);
            assert_true(json_is_integer(v));
            long long c = json_integer_value(v);
            assert_true(c >= 0);
            total += c;
            row_sum[t] += c;
            if (t == p) diag += c;
        }
    }
    assert_int_equal(total, N_TEST);
    for (int t = 0; t < 10; t++) assert_int_equal(row_sum[t], N_TEST / 10); // labels k % 10
    // the matrix is the last evaluation: its accuracy is the last test_acc
    assert_true(fabs((double)diag / N_TEST - acc) < 1e-6);
    json_t *final = json_object_get(root, "final");
    assert_true(fabs(json_number_value(json_object_get(final, "test_acc")) - acc) < 1e-6);
    assert_true(fabs(json_number_value(json_object_get(final, "test_f1")) - f1) < 1e-6);
    json_t *pc = json_object_get(root, "per_class");
    assert_int_equal(json_array_size(pc), 10);
    for (size_t k = 0; k < 10; k++)
        assert_int_equal(json_integer_value(json_object_get(json_array_get(pc, k), "support")), N_TEST / 10);
    json_decref(root);
}

static void test_weights_file(void **state) {
    cli_state *st = *state;
    ensure_main_run(st);
    char path[4600], copy[4600];
    snprintf(path, sizeof path, "%s/out1/lr-0.05/weights.lrsw", st->root);
    model_desc m;
    float *params = NULL;
    lr_err e;
    if (weights_load(path, &m, &params, &e) != 0) fail_msg("weights_load: %s", e.msg);
    assert_int_equal(m.in_c, 3);
    assert_int_equal(m.in_h, 32);
    assert_int_equal(m.in_w, 32);
    assert_int_equal(m.num_classes, 10);
    assert_true(m.n_params > 0);
    int nonzero = 0;
    for (size_t i = 0; i < m.n_params; i++) {
        assert_true(isfinite(params[i]));
        nonzero += params[i] != 0.0f;
    }
    assert_true(nonzero > (int)m.n_params / 2);
    free(params);

    // one flipped byte in the middle: refused, with "checksum" in the message
    size_t len;
    char *data = slurp_must(path, &len);
    assert_true(len > 100);
    data[len / 2] ^= 0x10;
    snprintf(copy, sizeof copy, "%s/damaged.lrsw", st->root);
    test_write_file(copy, data, len);
    free(data);
    params = NULL;
    memset(&e, 0, sizeof e);
    assert_int_equal(weights_load(copy, &m, &params, &e), -1);
    assert_null(params);
    assert_contains(e.msg, "checksum", "the damaged-file message");
    remove(copy);
}

// Drops the last comma-separated field (seconds) of every line.
static void strip_last_field(char *text) {
    char *lines[64];
    int n = split_lines(text, lines, 64);
    char *w = text;
    for (int i = 0; i < n; i++) {
        char *c = strrchr(lines[i], ',');
        if (c) *c = '\0';
        size_t l = strlen(lines[i]);
        memmove(w, lines[i], l);
        w[l] = '\n';
        w += l + 1;
    }
    *w = '\0';
}

static void test_threads_deterministic(void **state) {
    cli_state *st = *state;
    ensure_main_run(st);
    char *err;
    int rc = run_lrscope(st, &err, NULL,
                         "run --data '%s' --out '%s/out2' --epochs 3 --lrs 0.05,0.01 --quiet --no-report "
                         "--threads 2", st->data, st->root);
    if (rc != 0) fail_msg("lrscope run --threads 2 exited %d: %s", rc, err);
    free(err);
    const char *names[2] = {"lr-0.05", "lr-0.01"};
    for (int r = 0; r < 2; r++) {
        char a[4600], b[4600];
        size_t la, lb;
        snprintf(a, sizeof a, "%s/out1/%s/weights.lrsw", st->root, names[r]);
        snprintf(b, sizeof b, "%s/out2/%s/weights.lrsw", st->root, names[r]);
        char *wa = slurp_must(a, &la), *wb = slurp_must(b, &lb);
        assert_int_equal(la, lb);
        if (memcmp(wa, wb, la) != 0) fail_msg("%s: weights differ between --threads 1 and 2", names[r]);
        free(wa);
        free(wb);
        snprintf(a, sizeof a, "%s/out1/%s/metrics.csv", st->root, names[r]);
        snprintf(b, sizeof b, "%s/out2/%s/metrics.csv", st->root, names[r]);
        char *ma = slurp_must(a, NULL), *mb = slurp_must(b, NULL);
        strip_last_field(ma);
        strip_last_field(mb);
        assert_string_equal(ma, mb);
        free(ma);
        free(mb);
    }
}

static void test_eval_interval(void **state) {
    cli_state *st = *state;
    char *err;
    int rc = run_lrscope(st, &err, NULL,
                         "run --data '%s' --out '%s/out-eval' --epochs 3 --lrs 0.05 --eval-interval 2 "
                         "--quiet --no-report --threads 1", st->data, st->root);
    if (rc != 0) fail_msg("lrscope run exited %d: %s", rc, err);
    free(err);
    char path[4600];
    snprintf(path, sizeof path, "%s/out-eval/lr-0.05/metrics.csv", st->root);
    char *text = slurp_must(path, NULL);
    char *lines[8];
    assert_int_equal(split_lines(text, lines, 8), 4);
    for (int i = 1; i <= 3; i++) {
        char *f[16];
        assert_int_equal(split_csv(lines[i], f, 16), 9);
        assert_true(isfinite(parse_num(f[2], "train_loss"))); // trained every epoch
        if (i == 1) {
            // no evaluation in epoch 1
            assert_string_equal(f[5], "");
            assert_string_equal(f[6], "");
            assert_string_equal(f[7], "");
        } else {
            // epoch 2 (the interval) and epoch 3 (the last)
            assert_true(isfinite(parse_num(f[5], "test_loss")));
            double a = parse_num(f[6], "test_acc");
            assert_true(a >= 0 && a <= 1);
            parse_num(f[7], "test_f1");
        }
        parse_num(f[8], "seconds");
    }
    free(text);
    // the run still counts as finished with the last evaluation
    snprintf(path, sizeof path, "%s/out-eval/summary.csv", st->root);
    text = slurp_must(path, NULL);
    assert_true(split_lines(text, lines, 8) == 2);
    char *f[16];
    assert_int_equal(split_csv(lines[1], f, 16), 12);
    assert_string_equal(f[1], "finished");
    parse_num(f[2], "final_test_acc");
    int best_epoch = (int)parse_num(f[5], "best_epoch");
    assert_true(best_epoch == 2 || best_epoch == 3);
    free(text);
}

// ---------------------------------------------------------------- bad input

// Runs ARGS (with --out OUT appended) expecting exit 2, a message on stderr
// containing `needle`, and no OUT created.
static void expect_bad_input(cli_state *st, const char *needle, const char *args_fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void expect_bad_input(cli_state *st, const char *needle, const char *args_fmt, ...) {
    static int counter;
    char args[8192], out[4400];
    va_list ap;
    va_start(ap, args_fmt);
    vsnprintf(args, sizeof args, args_fmt, ap);
    va_end(ap);
    snprintf(out, sizeof out, "%s/bad-%d", st->root, ++counter);
    char *err;
    int rc = run_lrscope(st, &err, NULL, "run %s --out '%s' --epochs 1 --quiet --no-report --threads 1",
                         args, out);
    if (rc != 2) fail_msg("`lrscope run %s`: exit %d, expected 2; stderr: %s", args, rc, err);
    if (!strstr(err, needle)) fail_msg("`lrscope run %s`: stderr does not name %s: %s", args, needle, err);
    if (exists(out)) fail_msg("`lrscope run %s`: created %s for bad input", args, out);
    free(err);
}

static void test_bad_flags(void **state) {
    cli_state *st = *state;
    char data[4400];
    snprintf(data, sizeof data, "--data '%s'", st->data);
    expect_bad_input(st, "--lrs", "%s --lrs abc", data);
    expect_bad_input(st, "--lrs", "%s --lrs 0.1,abc", data);
    expect_bad_input(st, "--lrs", "%s --lrs 0.1,0.1", data);
    expect_bad_input(st, "--lrs", "%s --lrs -0.1", data);
    expect_bad_input(st, "--epochs", "%s --epochs 0", data); // refused before the appended --epochs 1
    expect_bad_input(st, "--isa", "%s --isa bogus", data);
    expect_bad_input(st, "--bogus-flag", "%s --bogus-flag", data);
    expect_bad_input(st, "--batch-size", "%s --batch-size 0", data);
    expect_bad_input(st, "--schedule", "%s --schedule cosin", data);
    expect_bad_input(st, "--momentum", "%s --momentum abc", data);
    // two rates that would share a run folder
    expect_bad_input(st, "lr-0.1", "%s --lrs 0.1,0.10000001", data);
    // a model too large to index or to fit, refused before anything is written
    expect_bad_input(st, "too large", "%s --model conv:1000000:1,linear", data);
    expect_bad_input(st, "GB", "%s --model linear:60000,linear --batch-size 4096", data);
    // a flag value longer than its field is refused, not cut short
    char longmodel[700];
    memset(longmodel, 'x', sizeof longmodel - 1);
    longmodel[sizeof longmodel - 1] = '\0';
    expect_bad_input(st, "--model: longer than", "%s --model %s", data, longmodel);
}

// --epochs given last, so it is the value in force
static void test_bad_epochs_last(void **state) {
    cli_state *st = *state;
    char *err;
    int rc = run_lrscope(st, &err, NULL, "run --data '%s' --out '%s/bad-epochs' --quiet --no-report --epochs 0",
                         st->data, st->root);
    assert_int_equal(rc, 2);
    assert_contains(err, "--epochs", "stderr");
    free(err);
    char out[4400];
    snprintf(out, sizeof out, "%s/bad-epochs", st->root);
    assert_false(exists(out));
}

static void test_bad_out_not_empty(void **state) {
    cli_state *st = *state;
    char full[4400], keep[4600];
    snprintf(full, sizeof full, "%s/full", st->root);
    assert_int_equal(mkdir(full, 0755), 0);
    snprintf(keep, sizeof keep, "%s/keep.txt", full);
    test_write_file(keep, "precious\n", 9);
    char *err;
    int rc = run_lrscope(st, &err, NULL, "run --data '%s' --out '%s' --epochs 1 --lrs 0.05 --quiet --no-report",
                         st->data, full);
    if (rc != 2) fail_msg("exit %d, expected 2; stderr: %s", rc, err);
    assert_contains(err, "--out", "stderr");
    assert_contains(err, full, "stderr");
    free(err);
    char *kept = slurp_must(keep, NULL);
    assert_string_equal(kept, "precious\n");
    free(kept);
    char p[4600];
    snprintf(p, sizeof p, "%s/study.json", full);
    assert_false(exists(p));
    snprintf(p, sizeof p, "%s/lr-0.05", full);
    assert_false(exists(p));
    // an --out that cannot be created (its parent is a file): refused before training
    char blocked[4700];
    snprintf(blocked, sizeof blocked, "%s/study", keep);
    rc = run_lrscope(st, &err, NULL, "run --data '%s' --out '%s' --epochs 1 --lrs 0.05 --quiet --no-report",
                     st->data, blocked);
    if (rc != 2) fail_msg("exit %d, expected 2; stderr: %s", rc, err);
    assert_contains(err, "--out", "stderr");
    assert_contains(err, "not a folder", "stderr");
    assert_contains(err, keep, "stderr");
    free(err);
}

static void test_bad_data(void **state) {
    cli_state *st = *state;
    // a folder without test_batch.bin
    char dir[4400], path[4600];
    snprintf(dir, sizeof dir, "%s/data-notest", st->root);
    write_dataset(dir);
    snprintf(path, sizeof path, "%s/test_batch.bin", dir);
    assert_int_equal(remove(path), 0);
    expect_bad_input(st, "test_batch.bin", "--data '%s' --lrs 0.05", dir);
    // a truncated batch file
    snprintf(dir, sizeof dir, "%s/data-trunc", st->root);
    write_dataset(dir);
    snprintf(path, sizeof path, "%s/data_batch_3.bin", dir);
    assert_int_equal(truncate(path, (off_t)N_TRAIN_FILE * REC - 1000), 0);
    expect_bad_input(st, "data_batch_3.bin", "--data '%s' --lrs 0.05", dir);
    // a data folder that does not exist (and is not named for a fetch)
    snprintf(dir, sizeof dir, "%s/nowhere", st->root);
    expect_bad_input(st, "--data", "--data '%s' --lrs 0.05", dir);
    assert_false(exists(dir));
}

static void test_unknown_command(void **state) {
    cli_state *st = *state;
    char *err;
    assert_int_equal(run_lrscope(st, &err, NULL, "frobnicate"), 2);
    assert_contains(err, "frobnicate", "stderr");
    free(err);
    assert_int_equal(run_lrscope(st, &err, NULL, "%s", ""), 2); // no command at all
    free(err);
}

// ---------------------------------------------------------------- divergence

static void read_summary_row(const char *study_dir, int row, char *buf, size_t cap, char **f) {
    char path[4600];
    snprintf(path, sizeof path, "%s/summary.csv", study_dir);
    char *text = slurp_must(path, NULL);
    char *lines[8];
    int n = split_lines(text, lines, 8);
    if (row >= n) fail_msg("%s: no row %d", path, row);
    snprintf(buf, cap, "%s", lines[row]);
    free(text);
    assert_int_equal(split_csv(buf, f, 16), 12);
}

static void test_divergence(void **state) {
    cli_state *st = *state;
    char *err;
    int rc = run_lrscope(st, &err, NULL,
                         "run --data '%s' --out '%s/out-div' --epochs 3 --lrs 1e4 --quiet --no-report --threads 1",
                         st->data, st->root);
    if (rc != 1) fail_msg("exit %d, expected 1; stderr: %s", rc, err);
    free(err);
    char dir[4400], buf[4096], *f[16], path[4600];
    snprintf(dir, sizeof dir, "%s/out-div", st->root);
    read_summary_row(dir, 1, buf, sizeof buf, f);
    assert_string_equal(f[1], "diverged");
    int div_epoch = (int)parse_num(f[8], "diverged_epoch");
    assert_true(div_epoch >= 1 && div_epoch <= 3);
    assert_int_equal((int)parse_num(f[7], "epochs_done"), div_epoch); // stops at the diverged epoch
    assert_string_equal(f[11], "lr-10000");
    snprintf(path, sizeof path, "%s/lr-10000/run.json", dir);
    json_t *root = load_json(path);
    assert_string_equal(json_string_value(json_object_get(root, "status")), "diverged");
    json_t *de = json_object_get(root, "diverged_epoch");
    assert_true(json_is_integer(de));
    assert_int_equal(json_integer_value(de), div_epoch);
    json_decref(root);
    // metrics.csv holds the epochs done, the diverged one included
    snprintf(path, sizeof path, "%s/lr-10000/metrics.csv", dir);
    char *text = slurp_must(path, NULL);
    char *lines[8];
    assert_int_equal(split_lines(text, lines, 8), div_epoch + 1);
    free(text);
}

static void test_divergence_does_not_stop_other_runs(void **state) {
    cli_state *st = *state;
    ensure_main_run(st);
    char *err;
    int rc = run_lrscope(st, &err, NULL,
                         "run --data '%s' --out '%s/out-mixed' --epochs 3 --lrs 1e4,0.05 --quiet --no-report "
                         "--threads 1", st->data, st->root);
    if (rc != 1) fail_msg("exit %d, expected 1; stderr: %s", rc, err);
    free(err);
    char dir[4400], buf[4096], *f[16];
    snprintf(dir, sizeof dir, "%s/out-mixed", st->root);
    read_summary_row(dir, 1, buf, sizeof buf, f);
    assert_string_equal(f[1], "diverged");
    read_summary_row(dir, 2, buf, sizeof buf, f);
    assert_string_equal(f[1], "finished");
    assert_int_equal((int)parse_num(f[7], "epochs_done"), 3);
    assert_string_equal(f[8], "");
    assert_string_equal(f[11], "lr-0.05");
    // runs are independent: the fine run is bit-identical to the same run alone
    char a[4600], b[4600];
    size_t la, lb;
    snprintf(a, sizeof a, "%s/lr-0.05/weights.lrsw", dir);
    snprintf(b, sizeof b, "%s/out1/lr-0.05/weights.lrsw", st->root);
    char *wa = slurp_must(a, &la), *wb = slurp_must(b, &lb);
    assert_int_equal(la, lb);
    assert_memory_equal(wa, wb, la);
    free(wa);
    free(wb);
    snprintf(a, sizeof a, "%s/lr-0.05/run.json", dir);
    json_t *root = load_json(a);
    assert_string_equal(json_string_value(json_object_get(root, "status")), "finished");
    json_decref(root);
}

// ---------------------------------------------------------------- help

static void test_help(void **state) {
    cli_state *st = *state;
    char *err, *out;
    assert_int_equal(run_lrscope(st, &err, &out, "--help"), 0);
    assert_contains(out, "run", "lrscope --help");
    assert_contains(out, "--help", "lrscope --help");
    free(err);
    free(out);
    assert_int_equal(run_lrscope(st, &err, &out, "run --help"), 0);
    const char *flags[] = {"--lrs", "--epochs", "--batch-size", "--momentum", "--step-size", "--gamma",
                           "--eval-interval", "--seed", "--threads", "--quiet", "--data", "--out"};
    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++) assert_contains(out, flags[i], "lrscope run --help");
    free(err);
    free(out);
    assert_int_equal(run_lrscope(st, &err, &out, "run -h"), 0);
    assert_contains(out, "--lrs", "lrscope run -h");
    free(err);
    free(out);
}

// ---------------------------------------------------------------- Ctrl-C

// SIGINT in the middle of a long run: the run is marked interrupted, its
// finished epochs are kept, the next run never starts, the exit status is 1.
static void test_interrupt(void **state) {
    cli_state *st = *state;
    char out[4400], metrics[4600];
    snprintf(out, sizeof out, "%s/out-int", st->root);
    snprintf(metrics, sizeof metrics, "%s/lr-0.05/metrics.csv", out);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (!freopen("/dev/null", "w", stdout) || !freopen("/dev/null", "w", stderr)) _exit(126);
        execl(st->bin, "lrscope", "run", "--data", st->data, "--out", out, "--epochs", "100000", "--lrs",
              "0.05,0.01", "--quiet", "--no-report", "--threads", "1", (char *)NULL);
        _exit(127);
    }
    // wait (at most ~20 s) until two epochs are on disk
    int rows = 0;
    for (int i = 0; i < 400 && rows < 3; i++) {
        usleep(50 * 1000);
        FILE *f = fopen(metrics, "r");
        if (!f) continue;
        rows = 0;
        for (int c; (c = fgetc(f)) != EOF;) rows += c == '\n';
        fclose(f);
    }
    kill(pid, SIGINT);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (rows < 3) fail_msg("the run wrote no epochs within 20 s");
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 1);
    char path[4600];
    snprintf(path, sizeof path, "%s/lr-0.05/run.json", out);
    json_t *root = load_json(path);
    assert_string_equal(json_string_value(json_object_get(root, "status")), "interrupted");
    int done = (int)json_integer_value(json_object_get(root, "epochs_done"));
    assert_true(done >= 2 && done < 100000);
    json_decref(root);
    char *text = slurp_must(metrics, NULL);
    int n = 0;
    for (char *c = text; *c; c++) n += *c == '\n';
    free(text);
    assert_int_equal(n, done + 1); // the header and every finished epoch
    char buf[4096], *f[16];
    read_summary_row(out, 1, buf, sizeof buf, f);
    assert_string_equal(f[1], "interrupted");
    snprintf(path, sizeof path, "%s/lr-0.01", out);
    assert_int_not_equal(access(path, F_OK), 0); // the second run never started
    snprintf(path, sizeof path, "%s/lr-0.05/weights.lrsw", out);
    assert_int_equal(access(path, F_OK), 0);     // the interrupted run's weights are kept
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_run_writes_study),
        cmocka_unit_test(test_run_json),
        cmocka_unit_test(test_weights_file),
        cmocka_unit_test(test_threads_deterministic),
        cmocka_unit_test(test_eval_interval),
        cmocka_unit_test(test_bad_flags),
        cmocka_unit_test(test_bad_epochs_last),
        cmocka_unit_test(test_bad_out_not_empty),
        cmocka_unit_test(test_bad_data),
        cmocka_unit_test(test_unknown_command),
        cmocka_unit_test(test_divergence),
        cmocka_unit_test(test_divergence_does_not_stop_other_runs),
        cmocka_unit_test(test_interrupt),
        cmocka_unit_test(test_help),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
