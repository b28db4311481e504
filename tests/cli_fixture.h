// cli_fixture.h: the fixture of the end-to-end tests (test_cli*.c): a small
// generated CIFAR-10-layout folder, running the built binary ($LRSCOPE_BIN) and
// reading back what it wrote. The helpers are static; each test file uses a
// different subset, so unused ones are not warned about.
#ifndef LRSCOPE_CLI_FIXTURE_H
#define LRSCOPE_CLI_FIXTURE_H

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
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

static const char *const __attribute__((unused)) METRICS_HEADER = "epoch,lr,train_loss,train_acc,train_f1,test_loss,test_acc,test_f1,seconds";
// summary.csv of a study whose one axis is lr: the condition, the axis, then the shared columns.
static const char *const __attribute__((unused)) SUMMARY_HEADER = "condition,lr," SUMMARY_COLUMNS;
enum { SUMMARY_FIELDS = 14 };

static json_t *load_json(const char *path) {
    json_error_t je;
    json_t *root = json_load_file(path, 0, &je);
    if (!root) fail_msg("%s: not valid JSON: %s (line %d)", path, je.text, je.line);
    return root;
}

static void join(char *out, size_t cap, const char *a, const char *b) {
    if (snprintf(out, cap, "%s/%s", a, b) >= (int)cap) fail_msg("path too long: %s/%s", a, b);
}

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

#pragma GCC diagnostic pop

#endif
