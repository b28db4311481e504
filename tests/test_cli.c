// test_cli.c: lrscope end to end through the built binary (build/lrscope, or
// $LRSCOPE_BIN), on a small generated CIFAR-10-layout folder: the files a
// study writes, determinism across thread counts, bad input (exit 2, nothing
// created), divergence (exit 1), signals and a lost terminal, and the help texts.
#include "test_util.h"
#include <signal.h>

#include "../src/report/report.h"
#include "../src/report/study_conditions.h"
#include "../src/study/run_files.h"
#include "../src/study/weights.h"

#include <fcntl.h>
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
// summary.csv of a study whose one axis is lr: the condition, the axis, then the shared columns.
static const char *SUMMARY_HEADER = "condition,lr," SUMMARY_COLUMNS;
enum { SUMMARY_FIELDS = 14 };

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
    for (int r = 0; r < 2; r++) {
        json_t *run = json_array_get(runs, (size_t)r);
        const char *folder = json_string_value(json_object_get(run, RUN_KEY_FOLDER));
        const char *cond = json_string_value(json_object_get(run, RUN_KEY_CONDITION));
        assert_non_null(folder);
        assert_non_null(cond);
        assert_string_equal(folder, r == 0 ? "runs/lr=0.05/seed-1" : "runs/lr=0.01/seed-1");
        assert_string_equal(cond, r == 0 ? "lr=0.05" : "lr=0.01");
        assert_int_equal(json_integer_value(json_object_get(run, RUN_KEY_SEED)), 1);
        json_t *cfg = json_object_get(run, RUN_KEY_CONFIG);
        assert_true(json_number_value(json_object_get(cfg, "lr")) == (r == 0 ? 0.05 : 0.01));
        assert_int_equal(json_integer_value(json_object_get(cfg, "epochs")), 3);
    }
    json_decref(study);

    // per-run metrics
    double acc[2], f1[2], best[2];
    int best_ep[2];
    const char *names[2] = {"runs/lr=0.05/seed-1", "runs/lr=0.01/seed-1"};
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
        if (split_csv(lines[r + 1], f, 16) != SUMMARY_FIELDS)
            fail_msg("summary row %d: expected %d fields", r + 1, SUMMARY_FIELDS);
        assert_string_equal(f[0], r == 0 ? "lr=0.05" : "lr=0.01");
        assert_true(fabs(parse_num(f[1], "lr") - lrs[r]) < 1e-12);
        assert_int_equal((int)parse_num(f[2], "seed"), 1);
        assert_string_equal(f[3], "finished");
        assert_true(fabs(parse_num(f[4], "final_test_acc") - acc[r]) < 1e-9);
        assert_true(fabs(parse_num(f[5], "final_test_f1") - f1[r]) < 1e-9);
        assert_true(fabs(parse_num(f[6], "best_test_acc") - best[r]) < 1e-9);
        assert_int_equal((int)parse_num(f[7], "best_epoch"), best_ep[r]);
        assert_true(parse_num(f[8], "seconds") >= 0);
        assert_int_equal((int)parse_num(f[9], "epochs_done"), 3);
        assert_string_equal(f[10], ""); // not diverged
        assert_true(isfinite(parse_num(f[11], "final_train_loss")));
        assert_true(isfinite(parse_num(f[12], "final_test_loss")));
        assert_string_equal(f[13], names[r]);
    }
    free(text);
}

static void test_run_json(void **state) {
    cli_state *st = *state;
    ensure_main_run(st);
    char path[4600], mpath[4600];
    snprintf(path, sizeof path, "%s/out1/runs/lr=0.05/seed-1/run.json", st->root);
    snprintf(mpath, sizeof mpath, "%s/out1/runs/lr=0.05/seed-1", st->root);
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
    snprintf(path, sizeof path, "%s/out1/runs/lr=0.05/seed-1/weights.lrsw", st->root);
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
    const char *names[2] = {"runs/lr=0.05/seed-1", "runs/lr=0.01/seed-1"};
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
    snprintf(path, sizeof path, "%s/out-eval/runs/lr=0.05/seed-1/metrics.csv", st->root);
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
    assert_int_equal(split_csv(lines[1], f, 16), SUMMARY_FIELDS);
    assert_string_equal(f[3], "finished");
    parse_num(f[4], "final_test_acc");
    int best_epoch = (int)parse_num(f[7], "best_epoch");
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
    expect_bad_input(st, "runs/lr=0.1", "%s --lrs 0.1,0.10000001", data);
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
    snprintf(p, sizeof p, "%s/runs", full);
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
    assert_int_equal(split_csv(buf, f, 16), SUMMARY_FIELDS);
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
    assert_string_equal(f[3], "diverged");
    int div_epoch = (int)parse_num(f[10], "diverged_epoch");
    assert_true(div_epoch >= 1 && div_epoch <= 3);
    assert_int_equal((int)parse_num(f[9], "epochs_done"), div_epoch); // stops at the diverged epoch
    assert_string_equal(f[13], "runs/lr=10000/seed-1");
    snprintf(path, sizeof path, "%s/runs/lr=10000/seed-1/run.json", dir);
    json_t *root = load_json(path);
    assert_string_equal(json_string_value(json_object_get(root, "status")), "diverged");
    json_t *de = json_object_get(root, "diverged_epoch");
    assert_true(json_is_integer(de));
    assert_int_equal(json_integer_value(de), div_epoch);
    json_decref(root);
    // metrics.csv holds the epochs done, the diverged one included
    snprintf(path, sizeof path, "%s/runs/lr=10000/seed-1/metrics.csv", dir);
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
    assert_string_equal(f[3], "diverged");
    read_summary_row(dir, 2, buf, sizeof buf, f);
    assert_string_equal(f[3], "finished");
    assert_int_equal((int)parse_num(f[9], "epochs_done"), 3);
    assert_string_equal(f[10], "");
    assert_string_equal(f[13], "runs/lr=0.05/seed-1");
    // runs are independent: the fine run is bit-identical to the same run alone
    char a[4600], b[4600];
    size_t la, lb;
    snprintf(a, sizeof a, "%s/runs/lr=0.05/seed-1/weights.lrsw", dir);
    snprintf(b, sizeof b, "%s/out1/runs/lr=0.05/seed-1/weights.lrsw", st->root);
    char *wa = slurp_must(a, &la), *wb = slurp_must(b, &lb);
    assert_int_equal(la, lb);
    assert_memory_equal(wa, wb, la);
    free(wa);
    free(wb);
    snprintf(a, sizeof a, "%s/runs/lr=0.05/seed-1/run.json", dir);
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
    snprintf(metrics, sizeof metrics, "%s/runs/lr=0.05/seed-1/metrics.csv", out);
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
    snprintf(path, sizeof path, "%s/runs/lr=0.05/seed-1/run.json", out);
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
    assert_string_equal(f[3], "interrupted");
    snprintf(path, sizeof path, "%s/runs/lr=0.01", out);
    assert_int_not_equal(access(path, F_OK), 0); // the second run never started
    snprintf(path, sizeof path, "%s/runs/lr=0.05/seed-1/weights.lrsw", out);
    assert_int_equal(access(path, F_OK), 0);     // the interrupted run's weights are kept
}

// ---------------------------------------------------------------- the terminal

// Where the child's stdout / stderr go.
typedef enum { TO_NULL, TO_CLOSED_PIPE, TO_FULL } sink;

static void redirect(int fd, sink to) {
    int target = -1;
    if (to == TO_CLOSED_PIPE) {
        int p[2];
        if (pipe(p) != 0) _exit(126);
        close(p[0]); // nobody will ever read: writes get EPIPE (or SIGPIPE)
        target = p[1];
    } else {
        target = open(to == TO_FULL ? "/dev/full" : "/dev/null", O_WRONLY);
    }
    if (target < 0 || dup2(target, fd) < 0) _exit(126);
    close(target);
}

// Starts `lrscope run --data DATA --out OUT ARGS...` with stdout and stderr
// sent as asked, as a shell would start it (SIGPIPE at its default).
static pid_t spawn_run(const cli_state *st, const char *out, sink out_to, sink err_to,
                       const char *const *args) {
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        signal(SIGPIPE, SIG_DFL);
        redirect(1, out_to);
        redirect(2, err_to);
        const char *argv[32] = {"lrscope", "run", "--data", st->data, "--out", out};
        int n = 6;
        for (; *args && n < 31; args++) argv[n++] = *args;
        argv[n] = NULL;
        execv(st->bin, (char *const *)argv);
        _exit(127);
    }
    return pid;
}

static void wait_exit(pid_t pid, int want, const char *what) {
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (WIFSIGNALED(status))
        fail_msg("%s: lrscope was killed by signal %d (%s)", what, WTERMSIG(status), strsignal(WTERMSIG(status)));
    assert_true(WIFEXITED(status));
    if (WEXITSTATUS(status) != want) fail_msg("%s: exit status %d, expected %d", what, WEXITSTATUS(status), want);
}

// Every file of a study whose runs all finished, report included.
static void check_whole_study(const char *out, const char *const *runs, int n_runs, int epochs) {
    char path[4600];
    static const char *const top[] = {"study.json", "summary.csv", "report.md", "report.html",
                                      "figures/test_acc.png", "figures/test_acc.svg"};
    for (size_t i = 0; i < sizeof top / sizeof top[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", out, top[i]);
        if (!exists(path)) fail_msg("%s: missing", path);
    }
    for (int r = 0; r < n_runs; r++) {
        char buf[4096], *f[16];
        read_summary_row(out, r + 1, buf, sizeof buf, f);
        assert_string_equal(f[3], "finished");
        assert_int_equal(atoi(f[9]), epochs);
        snprintf(path, sizeof path, "%s/%s/run.json", out, runs[r]);
        json_t *root = load_json(path);
        assert_string_equal(json_string_value(json_object_get(root, "status")), "finished");
        json_decref(root);
        snprintf(path, sizeof path, "%s/%s/weights.lrsw", out, runs[r]);
        if (!exists(path)) fail_msg("%s: missing", path);
    }
    char *md;
    snprintf(path, sizeof path, "%s/report.md", out);
    md = slurp_must(path, NULL);
    assert_contains(md, "| lr=0.05 | 1 | finished |", "report.md");
    free(md);
}

// `lrscope run ... | head -1`: stdout a pipe nobody reads. The study must
// finish with every file and its report, exit 0 (it was killed by SIGPIPE
// before the report). Then stderr closed too, and the progress lines with it.
static void test_closed_pipe(void **state) {
    cli_state *st = *state;
    static const char *const runs[] = {"runs/lr=0.05/seed-1", "runs/lr=0.01/seed-1"};
    static const char *const args[] = {"--epochs", "2", "--lrs", "0.05,0.01", "--threads", "1", NULL};
    static const sink errs[2] = {TO_NULL, TO_CLOSED_PIPE};
    for (int k = 0; k < 2; k++) {
        char out[4400];
        snprintf(out, sizeof out, "%s/out-pipe%d", st->root, k);
        pid_t pid = spawn_run(st, out, TO_CLOSED_PIPE, errs[k], args);
        wait_exit(pid, 0, k ? "stdout and stderr closed pipes" : "stdout a closed pipe");
        check_whole_study(out, runs, 2, 2);
    }
}

// stdout and stderr on a full disk (/dev/full): every result file is written.
static void test_console_full(void **state) {
    cli_state *st = *state;
    static const char *const runs[] = {"runs/lr=0.05/seed-1"};
    static const char *const args[] = {"--epochs", "2", "--lrs", "0.05", "--threads", "1", NULL};
    char out[4400];
    snprintf(out, sizeof out, "%s/out-full", st->root);
    pid_t pid = spawn_run(st, out, TO_FULL, TO_FULL, args);
    wait_exit(pid, 0, "stdout and stderr on /dev/full");
    check_whole_study(out, runs, 1, 2);
}

// SIGHUP (a closed terminal, sent twice: by the terminal and then by the
// shell) and SIGTERM end the study as Ctrl-C does: the current run is
// interrupted with its epochs kept, summary.csv and the report are written,
// exit 1. SIGHUP is also tried with the terminal gone: output to a closed pipe.
static void stop_mid_run(cli_state *st, int sig, sink to, const char *tag) {
    char out[4400], metrics[4600];
    snprintf(out, sizeof out, "%s/out-%s", st->root, tag);
    snprintf(metrics, sizeof metrics, "%s/runs/lr=0.05/seed-1/metrics.csv", out);
    static const char *const args[] = {"--epochs", "100000", "--lrs", "0.05,0.01", "--threads", "1", NULL};
    pid_t pid = spawn_run(st, out, to, to, args);
    int rows = 0;
    for (int i = 0; i < 400 && rows < 3; i++) { // at most ~20 s until two epochs are on disk
        usleep(50 * 1000);
        int status;
        if (waitpid(pid, &status, WNOHANG) == pid)
            fail_msg("%s: lrscope ended before the signal (%s %d)", tag,
                     WIFSIGNALED(status) ? "killed by signal" : "exit status",
                     WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
        FILE *f = fopen(metrics, "r");
        if (!f) continue;
        rows = 0;
        for (int c; (c = fgetc(f)) != EOF;) rows += c == '\n';
        fclose(f);
    }
    kill(pid, sig);
    if (sig == SIGHUP) {
        usleep(20 * 1000);
        kill(pid, SIGHUP);
    }
    if (rows < 3) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        fail_msg("%s: the run wrote no epochs within 20 s", tag);
    }
    wait_exit(pid, 1, tag);
    char path[4600];
    snprintf(path, sizeof path, "%s/runs/lr=0.05/seed-1/run.json", out);
    json_t *root = load_json(path);
    assert_string_equal(json_string_value(json_object_get(root, "status")), "interrupted");
    int done = (int)json_integer_value(json_object_get(root, "epochs_done"));
    assert_true(done >= 2 && done < 100000);
    json_decref(root);
    char *text = slurp_must(metrics, NULL);
    int n = 0;
    for (char *c = text; *c; c++) n += *c == '\n';
    free(text);
    assert_int_equal(n, done + 1);
    char buf[4096], *f[16];
    read_summary_row(out, 1, buf, sizeof buf, f);
    assert_string_equal(f[3], "interrupted");
    assert_int_equal(atoi(f[9]), done);
    snprintf(path, sizeof path, "%s/runs/lr=0.01", out);
    assert_int_not_equal(access(path, F_OK), 0); // the next run never started
    static const char *const kept[] = {"runs/lr=0.05/seed-1/weights.lrsw", "report.md", "report.html",
                                       "figures/test_acc.png"};
    for (size_t i = 0; i < sizeof kept / sizeof kept[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", out, kept[i]);
        if (!exists(path)) fail_msg("%s: %s missing", tag, path);
    }
    snprintf(path, sizeof path, "%s/report.md", out);
    text = slurp_must(path, NULL);
    assert_contains(text, "| lr=0.05 | 1 | interrupted |", "report.md");
    free(text);
}

static void test_sighup(void **state) {
    stop_mid_run(*state, SIGHUP, TO_NULL, "sighup");
    stop_mid_run(*state, SIGHUP, TO_CLOSED_PIPE, "sighup-terminal-gone");
}
static void test_sigterm(void **state) { stop_mid_run(*state, SIGTERM, TO_NULL, "sigterm"); }

// ================================================================ bounded input (issue 8)
// Input from outside through the binary: paths of any length, empty flag
// values and special files all end in exit 2 with a message naming them,
// never an assertion, a hang or a created study.

static void assert_bad_input_rc(int rc, char *err, const char *needle, const char *what) {
    if (rc != 2) fail_msg("%s: exit %d, expected 2; stderr: %s", what, rc, err);
    if (!strstr(err, needle)) fail_msg("%s: stderr lacks \"%s\": %s", what, needle, err);
    if (strstr(err, "assertion")) fail_msg("%s: an assertion instead of a message: %s", what, err);
    free(err);
}

static void test_inputs_long_paths(void **state) {
    cli_state *st = *state;
    char *err;
    // 5,000 characters: longer than any path buffer
    char huge[5001];
    memset(huge, 'x', 5000);
    huge[0] = '/';
    huge[5000] = '\0';
    int rc = run_lrscope(st, &err, NULL, "run --data '%s' --out '%s' --epochs 1 --quiet", st->data, huge);
    assert_bad_input_rc(rc, err, "--out", "--out of 5000 characters");
    rc = run_lrscope(st, &err, NULL, "run --data '%s' --out '%s/o' --epochs 1 --quiet", huge, st->root);
    assert_bad_input_rc(rc, err, "--data", "--data of 5000 characters");
    rc = run_lrscope(st, &err, NULL, "report '%s'", huge);
    assert_bad_input_rc(rc, err, "/xxxxxxxx", "report of a 5000-character folder");
    // Short enough for the flag, too long for the names written inside it:
    // refused before training, with nothing created.
    char out[4200];
    int n = snprintf(out, sizeof out, "%s/", st->root);
    memset(out + n, 'o', 4050 - (size_t)n);
    out[4050] = '\0';
    rc = run_lrscope(st, &err, NULL, "run --data '%s' --out '%s' --epochs 1 --quiet --no-report",
                     st->data, out);
    assert_bad_input_rc(rc, err, "Choose a shorter folder", "--out of 4050 characters");
    assert_false(exists(out));
    char data[4200];
    n = snprintf(data, sizeof data, "%s/", st->root);
    memset(data + n, 'd', 4060 - (size_t)n);
    data[4060] = '\0';
    rc = run_lrscope(st, &err, NULL, "run --data '%s' --out '%s/o2' --epochs 1 --quiet", data, st->root);
    assert_bad_input_rc(rc, err, "--data", "--data of 4060 characters");
}

static void test_inputs_empty_values(void **state) {
    cli_state *st = *state;
    const char *flags[] = {"--data", "--out", "--model", "--dataset", "--isa"};
    for (int i = 0; i < 5; i++) {
        char *err, what[64];
        snprintf(what, sizeof what, "run %s ''", flags[i]);
        int rc = run_lrscope(st, &err, NULL, "run --data '%s' --out '%s/empty-%d' --epochs 1 --quiet %s ''",
                             st->data, st->root, i, flags[i]);
        if (rc == 2 && !strstr(err, flags[i])) fail_msg("%s: message does not name the flag: %s", what, err);
        assert_bad_input_rc(rc, err, "empty", what);
    }
    char *err;
    int rc = run_lrscope(st, &err, NULL, "fetch ''");
    assert_bad_input_rc(rc, err, "empty", "fetch ''");
    rc = run_lrscope(st, &err, NULL, "fetch cifar10 --dir ''");
    assert_bad_input_rc(rc, err, "--dir is empty", "fetch --dir ''");
    rc = run_lrscope(st, &err, NULL, "report ''");
    assert_bad_input_rc(rc, err, "empty", "report ''");
}

static void test_inputs_special_files(void **state) {
    cli_state *st = *state;
    alarm(120); // a FIFO read would hang the binary: fail instead
    char dir[4400], path[4600], *err;
    // a FIFO where a batch file belongs
    snprintf(dir, sizeof dir, "%s/data-fifo", st->root);
    write_dataset(dir);
    snprintf(path, sizeof path, "%s/data_batch_4.bin", dir);
    assert_int_equal(remove(path), 0);
    assert_int_equal(mkfifo(path, 0644), 0);
    int rc = run_lrscope(st, &err, NULL, "run --data '%s' --out '%s/o-fifo' --epochs 1 --quiet", dir, st->root);
    assert_bad_input_rc(rc, err, "data_batch_4.bin: is a FIFO", "run with a FIFO batch file");
    // --data itself a FIFO
    snprintf(path, sizeof path, "%s/data-is-fifo", st->root);
    assert_int_equal(mkfifo(path, 0644), 0);
    rc = run_lrscope(st, &err, NULL, "run --data '%s' --out '%s/o-fifo2' --epochs 1 --quiet", path, st->root);
    assert_bad_input_rc(rc, err, "data-is-fifo: is a FIFO", "run with --data a FIFO");
    // a study whose metrics.csv is a FIFO
    snprintf(dir, sizeof dir, "%s/study-fifo", st->root);
    rc = run_lrscope(st, &err, NULL, "run --data '%s' --out '%s' --epochs 1 --lrs 0.05 --quiet --no-report",
                     st->data, dir);
    if (rc != 0) fail_msg("the study to break failed (%d): %s", rc, err);
    free(err);
    snprintf(path, sizeof path, "%s/runs/lr=0.05/seed-1/metrics.csv", dir);
    assert_int_equal(remove(path), 0);
    assert_int_equal(mkfifo(path, 0644), 0);
    rc = run_lrscope(st, &err, NULL, "report '%s'", dir);
    assert_bad_input_rc(rc, err, "metrics.csv: is a FIFO", "report with a FIFO metrics.csv");
    // fetch from /dev/zero
    rc = run_lrscope(st, &err, NULL, "fetch cifar10 --quiet --dir '%s/fetched' --url file:///dev/zero "
                     "--md5 00000000000000000000000000000000", st->root);
    assert_bad_input_rc(rc, err, "is a character device", "fetch --url file:///dev/zero");
    alarm(0);
}

// ---------------------------------------------------------------- knobs, grids, seeds

// Every knob of the table set from its flag, off its default where the test
// data allows, shows up in run.json (and study.json) with that value.
static void test_every_knob_flag_in_run_json(void **state) {
    cli_state *st = *state;
    char args[8192], out[4400];
    size_t len = 0;
    snprintf(out, sizeof out, "%s/out-knobs", st->root);
    run_config want;
    config_defaults(&want);
    for (int i = 0; i < N_KNOBS; i++) {
        const knob *k = &KNOBS[i];
        char v[4200], flag[64];
        knob_flag(k, flag, sizeof flag);
        if (!strcmp(k->name, "dataset")) snprintf(v, sizeof v, "cifar10");            // the data on disk
        else if (!strcmp(k->name, "data")) snprintf(v, sizeof v, "%s", st->data);
        else if (!strcmp(k->name, "model")) snprintf(v, sizeof v, "conv:4:3,relu,linear");
        else if (!strcmp(k->name, "epochs")) snprintf(v, sizeof v, "2");
        else if (!strcmp(k->name, "isa")) snprintf(v, sizeof v, "scalar");              // on every CPU
        else if (!strcmp(k->name, "threads")) snprintf(v, sizeof v, "1");
        // issue 10: knobs that exclude each other stay at their defaults
        else if (!strcmp(k->name, "dampening")) snprintf(v, sizeof v, "0");     // nesterov is on
        else if (!strcmp(k->name, "warmup_epochs")) snprintf(v, sizeof v, "0"); // warmup_steps is set
        else if (k->type == KNOB_DOUBLE) snprintf(v, sizeof v, "%.17g", k->lo + (k->hi - k->lo) * 0.375 > 1
                                                  ? 0.0375 : k->lo + (k->hi - k->lo) * 0.375);
        else if (k->type == KNOB_INT || k->type == KNOB_UINT64) snprintf(v, sizeof v, "%.0f", k->lo + 2);
        else if (k->type == KNOB_BOOL) snprintf(v, sizeof v, "%s", strcmp(k->def, "true") ? "true" : "false");
        else if (k->type == KNOB_ENUM) snprintf(v, sizeof v, "%.*s", (int)strcspn(strrchr(k->values, '|') + 1, "|"),
                                                strrchr(k->values, '|') + 1); // the last value
        else if (k->type == KNOB_INT_LIST) snprintf(v, sizeof v, "%.0f,%.0f", k->lo + 1, k->lo + 2);
        else snprintf(v, sizeof v, "x");
        lr_err e;
        if (knob_parse(k, v, &want, flag, &e) != 0) fail_msg("test value: %s", e.msg);
        // a bool flag alone means true, so its value goes after '='
        len += (size_t)snprintf(args + len, sizeof args - len, k->type == KNOB_BOOL ? " %s='%s'" : " %s '%s'", flag, v);
        assert_true(len < sizeof args);
    }
    char *err;
    int rc = run_lrscope(st, &err, NULL, "run%s --out '%s' --quiet --no-report", args, out);
    if (rc != 0 && rc != 1) fail_msg("lrscope run%s: exit %d: %s", args, rc, err);
    free(err);
    char cond[128], path[4800];
    snprintf(cond, sizeof cond, "lr=%g", want.lr); // --lr alone: a study of that one rate
    snprintf(path, sizeof path, "%s/runs/%s/seed-%llu/run.json", out, cond, (unsigned long long)want.seed);
    json_t *root = load_json(path);
    assert_string_equal(json_string_value(json_object_get(root, RUN_KEY_CONDITION)), cond);
    assert_int_equal(json_integer_value(json_object_get(root, RUN_KEY_SEED)), want.seed);
    run_config got;
    config_defaults(&got);
    lr_err e;
    json_t *cfg = json_object_get(root, RUN_KEY_CONFIG);
    assert_int_equal((int)json_object_size(cfg), N_KNOBS);
    if (knobs_from_json(cfg, &got, "run.json", &e) != 0) fail_msg("%s", e.msg);
    for (int i = 0; i < N_KNOBS; i++)
        if (!knob_equal(&KNOBS[i], &got, &want)) fail_msg("run.json: %s differs from its flag", KNOBS[i].name);
    json_decref(root);
    // study.json records the same, and the report reads it back through the table
    report_study s;
    if (report_study_read(out, &s, &e) != 0) fail_msg("%s", e.msg);
    assert_int_equal(s.n_runs, 1);
    for (int i = 0; i < N_KNOBS; i++)
        if (!knob_equal(&KNOBS[i], &s.runs[0].config, &want)) fail_msg("study.json: %s differs", KNOBS[i].name);
    report_study_free(&s);
}

static void expect_bad_file(cli_state *st, const char *yaml, const char *needle) {
    char path[4400];
    snprintf(path, sizeof path, "%s/bad-study.yaml", st->root);
    test_write_file(path, yaml, strlen(yaml));
    char file_arg[8800];
    snprintf(file_arg, sizeof file_arg, "'%s' --data '%s'", path, st->data);
    expect_bad_input(st, needle, "%s", file_arg);
    expect_bad_input(st, "bad-study.yaml", "%s", file_arg); // names the file
}

static void test_study_file_and_flags(void **state) {
    cli_state *st = *state;
    char path[4400], out[4400];
    snprintf(path, sizeof path, "%s/study.yaml", st->root);
    const char *yaml = "name: two-axes\nepochs: 5\nseeds: [3]\nbase:\n  momentum: 0.5\n  batch_size: 64\n"
                       "grid:\n  lr: [0.05, 0.01]\n  weight_decay: [0, 0.001]\n";
    test_write_file(path, yaml, strlen(yaml));
    snprintf(out, sizeof out, "%s/out-yaml", st->root);
    char *err;
    // flags override the file's settings: --epochs 1 over epochs: 5, --seeds 2 over seeds: [3]
    int rc = run_lrscope(st, &err, NULL, "run '%s' --data '%s' --out '%s' --epochs 1 --seeds 2 --quiet --no-report "
                         "--threads 1", path, st->data, out);
    if (rc != 0) fail_msg("exit %d: %s", rc, err);
    free(err);
    report_study s;
    lr_err e;
    if (report_study_read(out, &s, &e) != 0) fail_msg("%s", e.msg);
    assert_string_equal(s.name, "two-axes");
    assert_int_equal(s.n_axes, 2);
    assert_string_equal(s.axes[0]->name, "lr");
    assert_string_equal(s.axes[1]->name, "weight_decay");
    assert_int_equal(s.n_runs, 8);
    assert_string_equal(s.runs[0].name, "runs/lr=0.05,weight_decay=0/seed-1");
    assert_string_equal(s.runs[3].name, "runs/lr=0.05,weight_decay=0.001/seed-2");
    assert_string_equal(s.runs[7].name, "runs/lr=0.01,weight_decay=0.001/seed-2");
    for (int i = 0; i < 8; i++) {
        assert_int_equal(s.runs[i].config.epochs, 1);
        assert_true(s.runs[i].config.momentum == 0.5);
        assert_int_equal(s.runs[i].config.batch_size, 64);
        assert_int_equal(s.runs[i].n_epochs, 1);
    }
    report_study_free(&s);
    // a knob the grid varies cannot also be set by its flag
    expect_bad_input(st, "--grid weight_decay=", "'%s' --data '%s' --weight-decay 0.1", path, st->data);
    // bad files: nothing runs, nothing is written, the message names file, line and key
    expect_bad_file(st, "grid:\n  lr: [0.1]\n  momentun: [0, 0.9]\n", ":3: grid: \"momentun\": unknown key; "
                                                                      "did you mean \"momentum\"?");
    expect_bad_file(st, "base:\n  gamma: 20\n", ":2: gamma 20: expected a number in [0, 10]");
    expect_bad_file(st, "grid: {}\n", "empty grid");
    expect_bad_file(st, "grid:\n  lr: [0.1, 0.1]\n", "listed twice");
    expect_bad_file(st, "runs: 3\n", "unknown section");
    // flags: suggestions and checks
    char data[4400];
    snprintf(data, sizeof data, "--data '%s'", st->data);
    expect_bad_input(st, "did you mean --momentum?", "%s --momentun 0.5", data);
    expect_bad_input(st, "did you mean --grid?", "%s --grdi lr=0.1", data);
    expect_bad_input(st, "did you mean momentum?", "%s --grid momentun=0,0.9", data);
    expect_bad_input(st, "--grid", "%s --grid momentum=", data);
    expect_bad_input(st, "--seeds", "%s --seeds 0", data);
    expect_bad_input(st, "--seeds", "%s --seeds ''", data);
    expect_bad_input(st, "--momentum: empty value", "%s --momentum ''", data);
    expect_bad_input(st, "--out: empty value", "%s --out ''", data);
    expect_bad_input(st, "--jobs", "%s --jobs x", data);
    expect_bad_input(st, "either --seed N", "%s --seed 3 --seeds 2", data);
    expect_bad_input(st, "either --seed N", "%s --grid seed=1,2 --seed 3", data);
    expect_bad_input(st, "no-such-study.yaml", "'%s/no-such-study.yaml' %s", st->root, data);
}

// Drops the seconds column of a metrics.csv (the only one that may differ).
static char *metrics_without_seconds(const char *path) {
    char *m = slurp_must(path, NULL);
    strip_last_field(m);
    return m;
}

// 2 conditions x 2 seeds, 2 epochs, the report on: every file the study
// writes reads back (study.json, metrics.csv, run.json, summary.csv through
// the report's reader, the conditions for the statistics, report.md), and
// --jobs 2 gives the same bits as --jobs 1.
static void test_study_round_trip_and_jobs(void **state) {
    cli_state *st = *state;
    char a[4400], b[4400];
    snprintf(a, sizeof a, "%s/out-rt1", st->root);
    snprintf(b, sizeof b, "%s/out-rt2", st->root);
    char *err;
    int rc = run_lrscope(st, &err, NULL, "run --data '%s' --out '%s' --epochs 2 --grid lr=0.05,0.01 --seeds 2 "
                         "--jobs 1 --threads 1 --quiet", st->data, a);
    if (rc != 0) fail_msg("--jobs 1: exit %d: %s", rc, err);
    free(err);
    rc = run_lrscope(st, &err, NULL, "run --data '%s' --out '%s' --epochs 2 --grid lr=0.05,0.01 --seeds 2 "
                     "--jobs 2 --threads 1 --quiet --no-report", st->data, b);
    if (rc != 0) fail_msg("--jobs 2: exit %d: %s", rc, err);
    free(err);

    report_study s;
    lr_err e;
    if (report_study_read(a, &s, &e) != 0) fail_msg("%s", e.msg);
    assert_int_equal(s.n_runs, 4);
    assert_int_equal(s.n_axes, 1);
    const char *cond[4] = {"lr=0.05", "lr=0.05", "lr=0.01", "lr=0.01"};
    for (int i = 0; i < 4; i++) {
        const report_run *r = &s.runs[i];
        char want[128];
        snprintf(want, sizeof want, "runs/%s/seed-%d", cond[i], i % 2 + 1);
        assert_string_equal(r->name, want);
        assert_string_equal(r->condition, cond[i]);
        assert_int_equal(r->seed, (uint64_t)(i % 2 + 1));
        assert_true(r->config.lr == (i < 2 ? 0.05 : 0.01));
        assert_int_equal(r->config.seed, r->seed);
        assert_true(r->has_metrics && r->has_run_json);
        assert_string_equal(r->status, "finished");
        assert_int_equal(r->status_inferred, 0);
        assert_int_equal(r->n_epochs, 2);
        assert_int_equal(r->planned_epochs, 2);
        assert_int_equal(r->n_classes, 10);
        // metrics.csv as the reader saw it, against the file
        char dir[4800];
        snprintf(dir, sizeof dir, "%s/%s", a, r->name);
        double acc, f1, best;
        int best_ep;
        check_metrics_csv(dir, 2, r->config.lr, &acc, &f1, &best, &best_ep);
        assert_true(r->epochs[1].test_acc == acc && r->epochs[1].test_f1 == f1);
        // identical bits with --jobs 2
        char pa[4800], pb[4800];
        size_t la, lb;
        snprintf(pa, sizeof pa, "%s/%s/weights.lrsw", a, r->name);
        snprintf(pb, sizeof pb, "%s/%s/weights.lrsw", b, r->name);
        char *wa = slurp_must(pa, &la), *wb = slurp_must(pb, &lb);
        assert_int_equal(la, lb);
        if (memcmp(wa, wb, la) != 0) fail_msg("%s: weights differ between --jobs 1 and 2", r->name);
        free(wa);
        free(wb);
        snprintf(pa, sizeof pa, "%s/%s/metrics.csv", a, r->name);
        snprintf(pb, sizeof pb, "%s/%s/metrics.csv", b, r->name);
        char *ma = metrics_without_seconds(pa), *mb = metrics_without_seconds(pb);
        assert_string_equal(ma, mb);
        free(ma);
        free(mb);
    }
    // the two seeds differ (their own draws), the two rates too
    assert_false(s.runs[0].epochs[1].train_loss == s.runs[1].epochs[1].train_loss);
    assert_false(s.runs[0].epochs[1].train_loss == s.runs[2].epochs[1].train_loss);

    // summary.csv: one row per run, in study order, agreeing with the reader
    char path[4600];
    snprintf(path, sizeof path, "%s/summary.csv", a);
    char *text = slurp_must(path, NULL), *lines[8];
    assert_int_equal(split_lines(text, lines, 8), 5);
    assert_string_equal(lines[0], SUMMARY_HEADER);
    for (int i = 0; i < 4; i++) {
        char *f[16];
        assert_int_equal(split_csv(lines[i + 1], f, 16), SUMMARY_FIELDS);
        assert_string_equal(f[0], s.runs[i].condition);
        assert_true(parse_num(f[1], "lr") == s.runs[i].config.lr);
        assert_int_equal((int)parse_num(f[2], "seed"), (int)s.runs[i].seed);
        assert_string_equal(f[3], "finished");
        assert_true(fabs(parse_num(f[4], "final_test_acc") - s.runs[i].epochs[1].test_acc) < 1e-6);
        assert_string_equal(f[13], s.runs[i].name);
    }
    free(text);

    // the conditions handed to the statistics
    report_condition *conds;
    int nc;
    report_conditions_from_study(&s, &conds, &nc);
    assert_int_equal(nc, 2);
    for (int c = 0; c < 2; c++) {
        assert_string_equal(conds[c].name, c ? "lr=0.01" : "lr=0.05");
        assert_int_equal(conds[c].n_axes, 1);
        assert_string_equal(conds[c].axis_key[0], "lr");
        assert_true(conds[c].axis_num[0] == (c ? 0.01 : 0.05));
        assert_string_equal(conds[c].axis_text[0], c ? "0.01" : "0.05");
        assert_int_equal(conds[c].n_runs, 2);
        assert_int_equal(conds[c].n_epochs, 2);
        for (int k = 0; k < 2; k++) {
            const report_run *r = &s.runs[2 * c + k];
            assert_int_equal(conds[c].seeds[k], r->seed);
            assert_true(conds[c].final_test_acc[k] == r->epochs[1].test_acc);
            assert_true(conds[c].final_test_f1[k] == r->epochs[1].test_f1);
            assert_true(conds[c].final_test_loss[k] == r->epochs[1].test_loss);
            assert_true(conds[c].seconds[k] == r->seconds);
            double best = r->epochs[0].test_acc > r->epochs[1].test_acc ? r->epochs[0].test_acc : r->epochs[1].test_acc;
            assert_true(conds[c].best_test_acc[k] == best);
            for (int ep = 0; ep < 2; ep++) {
                const double *cv = conds[c].curves + (size_t)k * REPORT_N_CURVES * 2;
                assert_true(cv[0 * 2 + ep] == r->epochs[ep].train_loss);
                assert_true(cv[1 * 2 + ep] == r->epochs[ep].train_acc);
                assert_true(cv[2 * 2 + ep] == r->epochs[ep].train_f1);
                assert_true(cv[3 * 2 + ep] == r->epochs[ep].test_loss);
                assert_true(cv[4 * 2 + ep] == r->epochs[ep].test_acc);
                assert_true(cv[5 * 2 + ep] == r->epochs[ep].test_f1);
            }
        }
    }
    report_conditions_free(conds, nc);
    report_study_free(&s);

    // the report: configuration from the knobs, the axis and the seeds, runs by condition
    snprintf(path, sizeof path, "%s/report.md", a);
    char *md = slurp_must(path, NULL);
    assert_contains(md, "| momentum | 0.9 |", "report.md");
    assert_contains(md, "| epochs | 2 |", "report.md");
    assert_contains(md, "| lr (axis) | 0.05; 0.01 |", "report.md");
    assert_contains(md, "| seeds | 1; 2 |", "report.md");
    assert_contains(md, "| lr=0.01 | 2 | finished | 2 / 2 |", "report.md");
    assert_contains(md, "The highest mean final test accuracy is", "report.md"); // sentences speak of conditions
    free(md);
    snprintf(path, sizeof path, "%s/report.html", a);
    assert_true(exists(path));
}


// ================================================================ the conditions in the report (issue 9)

static int count_lines(const char *text) {
    int n = 0;
    for (const char *p = text; *p; p++) n += *p == '\n';
    return n;
}

static void assert_figure(const char *study, const char *name, int want) {
    char path[4600];
    snprintf(path, sizeof path, "%s/figures/%s.png", study, name);
    if (exists(path) != want) fail_msg("%s: %s", path, want ? "missing" : "drawn, but should not be");
    snprintf(path, sizeof path, "%s/figures/%s.svg", study, name);
    if (exists(path) != want) fail_msg("%s: %s", path, want ? "missing" : "drawn, but should not be");
}

// A real 2-condition x 3-seed study with the report on.
static void test_report_conditions_study(void **state) {
    cli_state *st = *state;
    char out[4400], path[4600];
    snprintf(out, sizeof out, "%s/out-cond", st->root);
    char *err;
    int rc = run_lrscope(st, &err, NULL, "run --data '%s' --out '%s' --epochs 2 --grid lr=0.05,0.01 --seeds 3 "
                         "--threads 1 --quiet", st->data, out);
    if (rc != 0) fail_msg("exit %d: %s", rc, err);
    free(err);
    report_study s;
    lr_err e;
    if (report_study_read(out, &s, &e) != 0) fail_msg("%s", e.msg);
    assert_int_equal(s.n_runs, 6);

    // conditions.csv: 2 rows, n = 3, the mean of the runs' final test accuracies
    snprintf(path, sizeof path, "%s/conditions.csv", out);
    char *text = slurp_must(path, NULL), *lines[8];
    assert_int_equal(split_lines(text, lines, 8), 3);
    assert_true(strncmp(lines[0], "condition,lr,final_test_acc_n,final_test_acc_mean,", 50) == 0);
    for (int c = 0; c < 2; c++) {
        char *f[40];
        assert_int_equal(split_csv(lines[c + 1], f, 40), 2 + 5 * 5);
        assert_string_equal(f[0], c ? "lr=0.01" : "lr=0.05");
        assert_int_equal((int)parse_num(f[2], "final_test_acc_n"), 3);
        double want = 0;
        for (int k = 0; k < 3; k++) want += s.runs[3 * c + k].epochs[1].test_acc / 3;
        assert_true(fabs(parse_num(f[3], "final_test_acc_mean") - want) < 1e-9);
    }
    free(text);
    // curves.csv: 2 conditions x 2 epochs x 6 metrics
    snprintf(path, sizeof path, "%s/curves.csv", out);
    text = slurp_must(path, NULL);
    assert_int_equal(count_lines(text), 1 + 2 * 2 * 6);
    assert_true(strncmp(text, "condition,epoch,metric,n,mean,ci_lo,ci_hi\n", 42) == 0);
    free(text);
    report_study_free(&s);

    // report.md: the table, a comparison sentence with its interval, the figures
    snprintf(path, sizeof path, "%s/report.md", out);
    char *md = slurp_must(path, NULL);
    assert_contains(md, "## Conditions", "report.md");
    assert_contains(md, "| lr=0.05 | 3 | ", "report.md");
    assert_contains(md, "| lr=0.01 | 3 | ", "report.md");
    assert_contains(md, "## Comparisons", "report.md");
    const char *cmp = strstr(md, "## Comparisons");
    assert_true(strstr(cmp, "beats") || strstr(cmp, "No difference detectable"));
    assert_contains(cmp, "95% CI", "the comparisons");
    assert_contains(cmp, "paired t-test", "the comparisons");
    assert_contains(md, "n = 3 seeds", "report.md");
    assert_contains(md, "The highest mean final test accuracy is", "report.md");
    assert_contains(md, "figures/cond_test_acc.png", "report.md");
    assert_contains(md, "figures/cond_final_acc_vs_lr.png", "report.md");
    free(md);
    static const char *const figs[] = {"cond_train_loss", "cond_test_loss", "cond_train_acc", "cond_test_acc",
                                       "cond_train_f1", "cond_test_f1", "cond_final_acc_vs_lr",
                                       "cond_final_loss_vs_lr", "test_acc", "confusion"}; // 6 runs: per-run figures too
    for (size_t i = 0; i < sizeof figs / sizeof figs[0]; i++) assert_figure(out, figs[i], 1);
    assert_figure(out, "cond_heatmap", 0); // one axis

    // `lrscope report` rebuilds conditions.csv and curves.csv
    snprintf(path, sizeof path, "%s/conditions.csv", out);
    assert_int_equal(remove(path), 0);
    snprintf(path, sizeof path, "%s/curves.csv", out);
    assert_int_equal(remove(path), 0);
    rc = run_lrscope(st, &err, NULL, "report '%s'", out);
    if (rc != 0) fail_msg("lrscope report: exit %d: %s", rc, err);
    free(err);
    assert_true(exists(path));
    snprintf(path, sizeof path, "%s/conditions.csv", out);
    assert_true(exists(path));
}

// One seed: the report says differences cannot be judged and shows the
// command with the study's own axis; --no-report still writes the CSVs.
static void test_report_one_seed_hint(void **state) {
    cli_state *st = *state;
    char out[4400], path[4600];
    snprintf(out, sizeof out, "%s/out-one-seed", st->root);
    char *err;
    int rc = run_lrscope(st, &err, NULL, "run --data '%s' --out '%s' --epochs 1 --lrs 0.05,0.01 --threads 1 --quiet",
                         st->data, out);
    if (rc != 0) fail_msg("exit %d: %s", rc, err);
    free(err);
    snprintf(path, sizeof path, "%s/report.md", out);
    char *md = slurp_must(path, NULL);
    assert_contains(md, "differences between conditions cannot be judged", "report.md");
    char want[4600];
    snprintf(want, sizeof want, "lrscope run --seeds 5 --grid lr=0.05,0.01 --data %s --epochs 1", st->data);
    assert_contains(md, want, "report.md");
    assert_contains(md, "figures/test_acc.png", "report.md");       // per-run figures
    assert_false(strstr(md, "figures/cond_test_acc.png") != NULL);  // the same curves, not twice
    free(md);
    // the default axis is recorded in study.json
    snprintf(path, sizeof path, "%s/study.json", out);
    char *js = slurp_must(path, NULL);
    assert_contains(js, "\"key\": \"lr\"", "study.json");
    free(js);

    snprintf(out, sizeof out, "%s/out-no-report", st->root);
    rc = run_lrscope(st, &err, NULL, "run --data '%s' --out '%s' --epochs 1 --lrs 0.05 --seeds 2 --threads 1 --quiet "
                     "--no-report", st->data, out);
    if (rc != 0) fail_msg("exit %d: %s", rc, err);
    free(err);
    snprintf(path, sizeof path, "%s/conditions.csv", out);
    assert_true(exists(path));
    snprintf(path, sizeof path, "%s/report.md", out);
    assert_false(exists(path));
}

// 12 conditions: the per-epoch figures show the best 8 and say so; 12 runs
// get no per-run figures, and the report says that too.
static void test_report_twelve_conditions(void **state) {
    cli_state *st = *state;
    char out[4400], path[4600];
    snprintf(out, sizeof out, "%s/out-twelve", st->root);
    char *err;
    int rc = run_lrscope(st, &err, NULL, "run --data '%s' --out '%s' --epochs 1 --grid lr=logspace:0.0001:0.1:12 "
                         "--threads 1 --quiet", st->data, out);
    if (rc != 0) fail_msg("exit %d: %s", rc, err);
    free(err);
    snprintf(path, sizeof path, "%s/report.md", out);
    char *md = slurp_must(path, NULL);
    assert_contains(md, "showing the best 8 of 12 conditions", "report.md");
    assert_contains(md, "With 12 runs, figures with one line per run would be unreadable", "report.md");
    free(md);
    assert_figure(out, "cond_test_acc", 1);
    assert_figure(out, "cond_final_acc_vs_lr", 1);
    assert_figure(out, "test_acc", 0);
    assert_figure(out, "time", 0);
    snprintf(path, sizeof path, "%s/conditions.csv", out);
    char *csv = slurp_must(path, NULL);
    assert_int_equal(count_lines(csv), 13);
    free(csv);
}

// Two axes: the heat map.
static void test_report_two_axes_heatmap(void **state) {
    cli_state *st = *state;
    char out[4400], path[4600];
    snprintf(out, sizeof out, "%s/out-two-axes", st->root);
    char *err;
    int rc = run_lrscope(st, &err, NULL, "run --data '%s' --out '%s' --epochs 1 --grid lr=0.05,0.005 "
                         "--grid momentum=0,0.9 --seeds 2 --threads 1 --quiet", st->data, out);
    if (rc != 0) fail_msg("exit %d: %s", rc, err);
    free(err);
    assert_figure(out, "cond_heatmap", 1);
    snprintf(path, sizeof path, "%s/report.md", out);
    char *md = slurp_must(path, NULL);
    assert_contains(md, "](figures/cond_heatmap.png)", "report.md");
    assert_contains(md, "by lr and momentum", "report.md");
    assert_contains(md, "Holm-adjusted", "report.md");
    free(md);
    snprintf(path, sizeof path, "%s/conditions.csv", out);
    char *csv = slurp_must(path, NULL);
    assert_true(strncmp(csv, "condition,lr,momentum,final_test_acc_n,", 39) == 0);
    assert_int_equal(count_lines(csv), 5);
    free(csv);
}

// ================================================================ issue 8, point 6
// Writer meets reader: a real study with the report on, and --jobs 2 end to
// end. (Kept in one block; helpers above are reused, not changed.)

// The study both tests below run: the generated data, 2 rates, 2 epochs.
static void run_small_study(cli_state *st, const char *out_name, const char *extra) {
    char *err;
    int rc = run_lrscope(st, &err, NULL, "run --data '%s' --out '%s/%s' --epochs 2 --lrs 0.05,0.01 --quiet %s",
                         st->data, st->root, out_name, extra);
    if (rc != 0) fail_msg("lrscope run --out %s %s exited %d: %s", out_name, extra, rc, err);
    free(err);
}

// The results-table row of report.md for a run: the line that starts "| NAME |".
static char *report_row(char *report, const char *name, char *row, size_t cap) {
    char start[128];
    snprintf(start, sizeof start, "| %s |", name);
    for (char *p = report; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
        if (strncmp(p, start, strlen(start)) != 0) continue;
        size_t len = strcspn(p, "\n");
        // the results table's row (condition | seed | status ...), not the Conditions table's
        char *status = strstr(p, " | finished |");
        if (!status || (size_t)(status - p) > len) continue;
        if (len >= cap) len = cap - 1;
        memcpy(row, p, len);
        row[len] = '\0';
        return row;
    }
    fail_msg("report.md has no results row for %s:\n%s", name, report);
    return NULL;
}

static void test_report_on_end_to_end(void **state) {
    cli_state *st = *state;
    run_small_study(st, "rep", "--threads 1");
    char dir[4200], path[4400];
    snprintf(dir, sizeof dir, "%s/rep", st->root);
    join(path, sizeof path, dir, "report.md");
    char *report = slurp_must(path, NULL);
    join(path, sizeof path, dir, "report.html");
    char *html = slurp_must(path, NULL);
    join(path, sizeof path, dir, "figures/test_acc.png");
    assert_true(exists(path));

    // Both runs, with summary.csv's numbers as the report prints them
    // (summary.csv: condition, lr, seed, status, final acc, final F1, best acc, best epoch, ...).
    for (int r = 1; r <= 2; r++) {
        char line[1024], *f[16], row[1024], want[96];
        read_summary_row(dir, r, line, sizeof line, f);
        const char *name = f[0];
        assert_string_equal(name, r == 1 ? "lr=0.05" : "lr=0.01");
        assert_string_equal(f[1], r == 1 ? "0.05" : "0.01");
        assert_string_equal(f[3], "finished");
        report_row(report, name, row, sizeof row);
        snprintf(want, sizeof want, "| %s | %s | finished |", name, f[2]);
        assert_contains(row, want, "the results row");
        snprintf(want, sizeof want, "| %.1f%% |", 100 * parse_num(f[4], "final_test_acc"));
        assert_contains(row, want, "the results row (final test acc)");
        snprintf(want, sizeof want, "| %.3f |", parse_num(f[5], "final_test_f1"));
        assert_contains(row, want, "the results row (final test F1)");
        snprintf(want, sizeof want, "| %.1f%% |", 100 * parse_num(f[6], "best_test_acc"));
        assert_contains(row, want, "the results row (best test acc)");
        snprintf(want, sizeof want, "| %s |", f[7]);
        assert_contains(row, want, "the results row (best epoch)");
        assert_contains(row, "| 2 / 2 |", "the results row (epochs)");
        assert_contains(html, name, "report.html");
    }

    // `lrscope report DIR` rebuilds the same report from the files alone.
    join(path, sizeof path, dir, "report.md");
    assert_int_equal(remove(path), 0);
    join(path, sizeof path, dir, "report.html");
    assert_int_equal(remove(path), 0);
    join(path, sizeof path, dir, "figures/test_acc.png");
    assert_int_equal(remove(path), 0);
    char *err;
    int rc = run_lrscope(st, &err, NULL, "report '%s'", dir);
    if (rc != 0) fail_msg("lrscope report exited %d: %s", rc, err);
    free(err);
    assert_true(exists(path));
    join(path, sizeof path, dir, "report.md");
    char *again = slurp_must(path, NULL);
    assert_string_equal(again, report);
    free(again);
    free(report);
    free(html);
}

// Removes the timing fields of a run.json, and config.threads, which --jobs
// sets by design (threads per run); everything else must match.
static json_t *load_run_json_untimed(const char *path) {
    json_t *j = load_json(path);
    const char *timing[] = {"seconds", "train_images_per_s", "eval_images_per_s"};
    for (size_t i = 0; i < sizeof timing / sizeof *timing; i++)
        if (json_object_del(j, timing[i]) != 0) fail_msg("%s: no \"%s\"", path, timing[i]);
    json_t *cfg = json_object_get(j, "config");
    if (!cfg || json_object_del(cfg, "threads") != 0) fail_msg("%s: no config.threads", path);
    return j;
}

// Drops field `col` of every CSV line (in place).
static void drop_csv_column(char *text, int col) {
    char *lines[64];
    int n = split_lines(text, lines, 64);
    char *w = text;
    for (int i = 0; i < n; i++) {
        char *fields[16];
        int nf = split_csv(lines[i], fields, 16);
        if (col >= nf) fail_msg("line %d has %d fields, no field %d", i + 1, nf, col);
        for (int k = 0; k < nf; k++) {
            if (k == col) continue;
            size_t l = strlen(fields[k]);
            memmove(w, fields[k], l);
            w += l;
            *w++ = k == nf - 1 || (k == nf - 2 && col == nf - 1) ? '\n' : ',';
        }
    }
    *w = '\0';
}

static void compare_untimed(const char *a_dir, const char *b_dir, const char *rel, int seconds_col) {
    char a[4600], b[4600];
    snprintf(a, sizeof a, "%s/%s", a_dir, rel);
    snprintf(b, sizeof b, "%s/%s", b_dir, rel);
    char *ta = slurp_must(a, NULL), *tb = slurp_must(b, NULL);
    drop_csv_column(ta, seconds_col);
    drop_csv_column(tb, seconds_col);
    if (strcmp(ta, tb) != 0) fail_msg("%s differs between --jobs 1 and --jobs 2:\n%s\n---\n%s", rel, ta, tb);
    free(ta);
    free(tb);
}

static void test_jobs_deterministic(void **state) {
    cli_state *st = *state;
    // Threads left to auto: one run at a time on both cores, then two side by side.
    run_small_study(st, "jobs1", "--no-report --jobs 1");
    run_small_study(st, "jobs2", "--no-report --jobs 2");
    char d1[4200], d2[4200], a[4600], b[4600];
    snprintf(d1, sizeof d1, "%s/jobs1", st->root);
    snprintf(d2, sizeof d2, "%s/jobs2", st->root);

    // study.json: the same bytes but for the creation time.
    snprintf(a, sizeof a, "%s/study.json", d1);
    snprintf(b, sizeof b, "%s/study.json", d2);
    json_t *sa = load_json(a), *sb = load_json(b);
    assert_int_equal(json_object_del(sa, "created"), 0);
    assert_int_equal(json_object_del(sb, "created"), 0);
    if (!json_equal(sa, sb)) fail_msg("study.json differs between --jobs 1 and --jobs 2");
    json_decref(sa);
    json_decref(sb);

    compare_untimed(d1, d2, "summary.csv", 8); // seconds
    const char *names[2] = {"runs/lr=0.05/seed-1", "runs/lr=0.01/seed-1"};
    for (int r = 0; r < 2; r++) {
        char rel[96];
        snprintf(rel, sizeof rel, "%s/metrics.csv", names[r]);
        compare_untimed(d1, d2, rel, 8); // seconds
        snprintf(a, sizeof a, "%s/%s/weights.lrsw", d1, names[r]);
        snprintf(b, sizeof b, "%s/%s/weights.lrsw", d2, names[r]);
        size_t la, lb;
        char *wa = slurp_must(a, &la), *wb = slurp_must(b, &lb);
        assert_int_equal(la, lb);
        if (memcmp(wa, wb, la) != 0) fail_msg("%s: weights differ between --jobs 1 and 2", names[r]);
        free(wa);
        free(wb);
        snprintf(a, sizeof a, "%s/%s/run.json", d1, names[r]);
        snprintf(b, sizeof b, "%s/%s/run.json", d2, names[r]);
        json_t *ja = load_run_json_untimed(a), *jb = load_run_json_untimed(b);
        if (!json_equal(ja, jb)) fail_msg("%s: run.json differs between --jobs 1 and 2", names[r]);
        json_decref(ja);
        json_decref(jb);
    }
    // Nothing else was written in either folder.
    char cmd[9400];
    snprintf(cmd, sizeof cmd, "test \"$(cd '%s' && find . | sort)\" = \"$(cd '%s' && find . | sort)\"", d1, d2);
    assert_int_equal(system(cmd), 0);
}

// ---------------------------------------------------------------- issue 10: optimiser and schedule knobs

// A bad optimiser or schedule knob, alone or in combination with the run's
// shape (200 training images), is refused with exit 2 naming the knob, before
// any training and without a study folder (expect_bad_input checks both).
static void test_optim_knobs_refused_before_training(void **state) {
    cli_state *st = *state;
    char data[4400];
    snprintf(data, sizeof data, "--data '%s'", st->data);
    expect_bad_input(st, "did you mean \"cosine\"", "%s --schedule cosin", data);
    expect_bad_input(st, "--optimizer", "%s --optimizer adamm", data);
    expect_bad_input(st, "did you mean \"adam\"", "%s --optimizer adamm", data);
    expect_bad_input(st, "--gamma", "%s --gamma -0.5", data);
    expect_bad_input(st, "gamma 0 is out of range", "%s --schedule exponential --gamma 0", data);
    expect_bad_input(st, "--pct-start", "%s --schedule onecycle --pct-start 1.5", data);
    expect_bad_input(st, "pct_start 1 is out of range", "%s --schedule onecycle --pct-start 1", data);
    expect_bad_input(st, "pct_start 0 is out of range", "%s --schedule onecycle --pct-start 0", data);
    expect_bad_input(st, "t_max 0 is out of range", "%s --schedule cosine --t-max 0", data);
    expect_bad_input(st, "milestones must be increasing: 3 comes after 5", "%s --schedule multistep --milestones 5,3",
                     data);
    expect_bad_input(st, "milestones", "%s --schedule multistep", data); // it needs at least one
    expect_bad_input(st, "nesterov needs momentum > 0", "%s --nesterov --momentum 0", data);
    // one-cycle: 1 epoch x 1 batch of 200 images leaves no rising phase
    expect_bad_input(st, "one-cycle run of 1 steps (1 epochs x 1 batches) is shorter than its schedule",
                     "%s --schedule onecycle --batch-size 200", data);
    // warm-up as long as the run: 1 epoch of 2 batches (128 + 72 images)
    expect_bad_input(st, "a warm-up of 2 steps (warmup_epochs 1) leaves nothing of the run's 2 steps",
                     "%s --warmup-epochs 1", data);
    expect_bad_input(st, "warmup_steps 5", "%s --warmup-steps 5", data);
    // in a study of several conditions, the message says which one; a later
    // condition's fault still stops the whole study before its first run
    expect_bad_input(st, "condition batch_size=200", "%s --schedule onecycle --grid batch_size=64,200", data);
    // from a study file
    char path[4400], arg[8900];
    snprintf(path, sizeof path, "%s/bad-onecycle.yaml", st->root);
    const char *yaml = "base:\n  schedule: onecycle\n  pct_start: 1\ngrid:\n  lr: [0.1]\n";
    test_write_file(path, yaml, strlen(yaml));
    snprintf(arg, sizeof arg, "'%s' %s", path, data);
    expect_bad_input(st, "pct_start 1 is out of range", "%s", arg);
}

// run.json records the steps per epoch (the schedule figure's clock):
// 200 images in batches of 128 are 2 steps.
static void test_run_json_steps_per_epoch(void **state) {
    cli_state *st = *state;
    ensure_main_run(st);
    char path[4600];
    snprintf(path, sizeof path, "%s/out1/runs/lr=0.05/seed-1/run.json", st->root);
    json_t *root = load_json(path);
    assert_int_equal(json_integer_value(json_object_get(root, RUN_KEY_STEPS_PER_EPOCH)), 2);
    json_decref(root);
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
        cmocka_unit_test(test_closed_pipe),
        cmocka_unit_test(test_console_full),
        cmocka_unit_test(test_sighup),
        cmocka_unit_test(test_sigterm),
        cmocka_unit_test(test_help),
        // bounded input (issue 8)
        cmocka_unit_test(test_inputs_long_paths),
        cmocka_unit_test(test_inputs_empty_values),
        cmocka_unit_test(test_inputs_special_files),
        cmocka_unit_test(test_every_knob_flag_in_run_json),
        cmocka_unit_test(test_study_file_and_flags),
        cmocka_unit_test(test_study_round_trip_and_jobs),
        cmocka_unit_test(test_optim_knobs_refused_before_training),
        cmocka_unit_test(test_run_json_steps_per_epoch),
        // the conditions in the report (issue 9)
        cmocka_unit_test(test_report_conditions_study),
        cmocka_unit_test(test_report_one_seed_hint),
        cmocka_unit_test(test_report_twelve_conditions),
        cmocka_unit_test(test_report_two_axes_heatmap),
        // issue 8, point 6
        cmocka_unit_test(test_report_on_end_to_end),
        cmocka_unit_test(test_jobs_deterministic),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
