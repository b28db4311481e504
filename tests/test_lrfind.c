// test_lrfind.c: the learning-rate range test (src/train/lrfind.c,
// src/cli/cmd_lrfind.c): the rate, the smoothing against a hand computation,
// the stop rule and each suggestion on synthetic curves whose answer is known
// (fastai's valley, steepest against log lr, minimum / 10, and the points
// fastai keeps); then `lrscope lrfind` end to end on a small generated data
// set (lrfind.csv, the figure, --seeds spread), `lrscope run --lrs auto`,
// Ctrl-C, SIGTERM and SIGHUP mid-way, and bad flags.
#include "test_util.h"

#include <jansson.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "../src/train/lrfind.h"

#define expect_near(a, b, tol)                                                                       \
    do {                                                                                             \
        double a_ = (a), b_ = (b);                                                                   \
        if (!(fabs(a_ - b_) <= (tol))) fail_msg("%s = %.17g, expected %.17g", #a, a_, b_);            \
    } while (0)

// ---------------------------------------------------------------- pure parts

static void test_rate_is_exponential(void **state) {
    (void)state;
    lrfind_opts o;
    lrfind_defaults(&o);
    assert_int_equal(o.steps, 100);
    expect_near(o.beta, 0.98, 0);
    expect_near(o.stop_factor, 4, 0);
    expect_near(lrfind_rate(&o, 0), 1e-7, 1e-22);
    expect_near(lrfind_rate(&o, 50), 1e-3, 1e-15);   // halfway in log: sqrt(1e-7 * 10)
    expect_near(lrfind_rate(&o, 100), 10, 1e-12);
    expect_near(lrfind_rate(&o, 25) / lrfind_rate(&o, 24), pow(1e8, 0.01), 1e-12); // a constant ratio
}

static void test_smoothing_by_hand(void **state) {
    (void)state;
    lrfind_opts o;
    lrfind_defaults(&o);
    lrfind_curve c;
    lrfind_curve_init(&c);
    // beta 0.98: avg = 0.98 avg + 0.02 loss; smoothed = avg / (1 - 0.98^k)
    assert_int_equal(lrfind_record(&c, &o, 1e-7, 2.0), 0);
    expect_near(c.smoothed[0], 0.04 / 0.02, 1e-12);           // the first point is the loss itself
    assert_int_equal(lrfind_record(&c, &o, 2e-7, 1.0), 0);
    expect_near(c.smoothed[1], 0.0592 / 0.0396, 1e-12);       // avg 0.98*0.04 + 0.02*1 over 1 - 0.9604
    assert_int_equal(lrfind_record(&c, &o, 3e-7, 3.0), 0);
    expect_near(c.smoothed[2], 0.118016 / 0.058808, 1e-12);   // avg 0.98*0.0592 + 0.06 over 1 - 0.941192
    expect_near(c.loss[2], 3.0, 0);
    expect_near(c.lr[2], 3e-7, 0);
    assert_int_equal(c.n, 3);
    // a constant loss stays exactly itself (bias correction), and never stops the test
    lrfind_curve_free(&c);
    lrfind_curve_init(&c);
    for (int i = 0; i < 300; i++) assert_int_equal(lrfind_record(&c, &o, 1, 2.5), 0);
    expect_near(c.smoothed[299], 2.5, 1e-12);
    lrfind_curve_free(&c);
}

static void test_stop_rule(void **state) {
    (void)state;
    lrfind_opts o;
    lrfind_defaults(&o);
    o.beta = 0; // no smoothing: smoothed = loss, so the rule is read directly
    lrfind_curve c;
    lrfind_curve_init(&c);
    const double loss[] = {3, 2, 1, 3.9, 4.0, 4.1};
    for (int i = 0; i < 5; i++)
        if (lrfind_record(&c, &o, 1, loss[i]) != 0) fail_msg("stopped at %d (loss %g, best 1)", i, loss[i]);
    assert_int_equal(lrfind_record(&c, &o, 1, loss[5]), 1); // 4.1 > 4 x 1: stop, the point is kept
    assert_int_equal(c.n, 6);
    lrfind_curve_free(&c);
    // a non-finite loss stops at once
    lrfind_curve_init(&c);
    assert_int_equal(lrfind_record(&c, &o, 1, 2), 0);
    assert_int_equal(lrfind_record(&c, &o, 1, NAN), 1);
    lrfind_curve_free(&c);
    // with the default smoothing a jump must persist: one batch 10x the best does
    // not stop it (smoothed 1 -> 0.8227 / 0.6428 = 1.28), a run of losses of 30
    // does, at the fourth (the smoothed loss passes 4 x 1 there, 4.60)
    lrfind_defaults(&o);
    lrfind_curve_init(&c);
    for (int i = 0; i < 50; i++) assert_int_equal(lrfind_record(&c, &o, 1, 1.0), 0);
    assert_int_equal(lrfind_record(&c, &o, 1, 10.0), 0);
    int k = 0;
    while (lrfind_record(&c, &o, 1, 30.0) == 0) k++;
    expect_near(c.smoothed[50], 0.8227 / 0.6428, 1e-3);
    assert_int_equal(k, 3);
    assert_true(c.smoothed[c.n - 1] > 4 && c.smoothed[c.n - 2] <= 4);
    lrfind_curve_free(&c);
}

static void test_valley(void **state) {
    (void)state;
    // a V: the longest valley is indices 0..30; fastai's start is end - length
    // (-1 here), its point start + int(31/3) + int(31/3/2) = -1 + 10 + 5 = 14
    double v[60];
    for (int i = 0; i < 60; i++) v[i] = fabs(i - 30.0);
    assert_int_equal(lrfind_valley(v, 60), 14);
    // two valleys: a deep short one (10 9 8) and a long gentle one (20 .. 12):
    // the long one wins: lds 9 ending at 11, start 2, point 2 + 3 + 1 = 6
    const double two[] = {10, 9, 8, 20, 19, 18, 17, 16, 15, 14, 13, 12, 30};
    assert_int_equal(lrfind_valley(two, 13), 6);
    // a valley need not be contiguous: a bump inside it is stepped over
    const double bump[] = {9, 8, 7, 50, 6, 5, 4, 3, 2, 60};
    // lds: 9..2 skipping 50: length 8 ending at 8, start 0, point 0 + 2 + 1 = 3
    assert_int_equal(lrfind_valley(bump, 10), 3);
}

static void test_steepest_against_log_lr(void **state) {
    (void)state;
    // uneven spacing: per unit of log lr the drop 3 -> 2.9 over x1.1 is the
    // steepest (-1.05); per unit of lr it is the first (5 -> 4 over 9e-4)
    const double lr[] = {1e-4, 1e-3, 1e-2, 1.1e-2, 1e-1};
    const double loss[] = {5, 4, 3, 2.9, 1};
    assert_int_equal(lrfind_steepest(lr, loss, 5), 2);
    // even spacing: the largest drop, the left point's rate
    const double lr2[] = {1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1};
    const double loss2[] = {5, 4.9, 4, 2, 1.8, 3};
    assert_int_equal(lrfind_steepest(lr2, loss2, 6), 2);
    const double loss3[] = {5, 4, 3, 1, 9};
    assert_int_equal(lrfind_minimum(loss3, 5), 3);
}

// lrfind_suggest uses fastai's points: from steps/10, without the last 5 and
// nothing from a non-finite loss on.
static void test_suggest_window(void **state) {
    (void)state;
    lrfind_opts o;
    lrfind_defaults(&o);
    o.beta = 0;
    o.stop_factor = 1e9;
    lrfind_curve c;
    lrfind_curve_init(&c);
    for (int i = 0; i < 100; i++) {
        double loss = 10 - 0.05 * i;              // falling
        if (i < 10) loss = 0.5;                   // low but before steps/10: ignored
        if (i == 60) loss = 1.0;                  // the minimum inside the window
        if (i >= 95) loss = 0.1;                  // the last 5: ignored
        lrfind_record(&c, &o, lrfind_rate(&o, i), loss);
    }
    lrfind_suggestions s;
    assert_int_equal(lrfind_suggest(&c, 100, &s), 0);
    assert_int_equal(s.i_minimum, 60);
    expect_near(s.minimum, c.lr[60] / 10, 1e-20);
    assert_int_equal(s.i_steepest, 59);           // the drop into the minimum
    expect_near(s.steepest, c.lr[59], 0);
    assert_true(s.i_valley >= 10 && s.i_valley < 95);
    expect_near(s.valley, c.lr[s.i_valley], 0);
    lrfind_curve_free(&c);
    // a NaN cuts the points there
    lrfind_curve_init(&c);
    for (int i = 0; i < 40; i++) lrfind_record(&c, &o, lrfind_rate(&o, i), i == 30 ? NAN : 40.0 - i);
    assert_int_equal(lrfind_suggest(&c, 40, &s), 0);
    assert_true(s.i_minimum == 29 && s.i_valley < 30 && s.i_steepest < 30);
    lrfind_curve_free(&c);
    // one point: no suggestion
    lrfind_curve_init(&c);
    lrfind_record(&c, &o, 1e-7, 2);
    assert_int_equal(lrfind_suggest(&c, 100, &s), -1);
    lrfind_curve_free(&c);
}

// ---------------------------------------------------------------- the command

enum { IMG = 3 * 32 * 32, REC = 1 + IMG, N_TRAIN_FILE = 40, N_TEST = 20 };

typedef struct {
    char root[4096];
    char data[4200];
    const char *bin;
} cli_state;

// test_cli.c's generated CIFAR-10 layout: each class a colour plus noise.
static void write_cifar_file(const char *dir, const char *name, int n, int file_id) {
    static const uint8_t colour[10][3] = {{230, 30, 30}, {30, 230, 30}, {30, 30, 230}, {230, 230, 30},
                                          {230, 30, 230}, {30, 230, 230}, {128, 128, 128},
                                          {250, 250, 250}, {10, 10, 10}, {128, 60, 0}};
    uint8_t *buf = malloc((size_t)n * REC);
    assert_non_null(buf);
    uint64_t x = (uint64_t)file_id * 0x9e3779b97f4a7c15ull;
    for (int k = 0; k < n; k++) {
        uint8_t *r = buf + (size_t)k * REC;
        int label = k % 10;
        r[0] = (uint8_t)label;
        for (int j = 0; j < IMG; j++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            int v = colour[label][j / 1024] + (int)(x % 33) - 16;
            r[1 + j] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
        }
    }
    char path[4400];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    test_write_file(path, buf, (size_t)n * REC);
    free(buf);
}

static int group_setup(void **state) {
    cli_state *st = calloc(1, sizeof *st);
    if (!st) return -1;
    const char *bin = getenv("LRSCOPE_BIN");
    st->bin = bin && *bin ? bin : "build/lrscope";
    if (access(st->bin, X_OK) != 0) {
        fprintf(stderr, "test_lrfind: %s is not an executable (run from the repo root after `make`)\n", st->bin);
        free(st);
        return -1;
    }
    test_mkdtemp(st->root, sizeof st->root);
    snprintf(st->data, sizeof st->data, "%s/data", st->root);
    if (mkdir(st->data, 0755) != 0) return -1;
    for (int b = 1; b <= 5; b++) {
        char name[32];
        snprintf(name, sizeof name, "data_batch_%d.bin", b);
        write_cifar_file(st->data, name, N_TRAIN_FILE, b);
    }
    write_cifar_file(st->data, "test_batch.bin", N_TEST, 6);
    *state = st;
    return 0;
}

static int group_teardown(void **state) {
    cli_state *st = *state;
    test_rmtree(st->root);
    free(st);
    return 0;
}

static char *slurp(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

// Runs `lrscope ARGS`, stdout and stderr captured (free both); returns the exit status.
static int run_lrscope(const cli_state *st, char **out, char **err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int run_lrscope(const cli_state *st, char **out, char **err, const char *fmt, ...) {
    char args[8192], cmd[16384], o[4400], er[4400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    snprintf(o, sizeof o, "%s/stdout.txt", st->root);
    snprintf(er, sizeof er, "%s/stderr.txt", st->root);
    if (snprintf(cmd, sizeof cmd, "'%s' %s >'%s' 2>'%s'", st->bin, args, o, er) >= (int)sizeof cmd)
        fail_msg("command too long");
    int rc = system(cmd);
    *out = slurp(o);
    *err = slurp(er);
    assert_non_null(*out);
    assert_non_null(*err);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static const char SMALL[] = "--model conv:4:3,relu,maxpool:2,linear:16,relu,linear --threads 1 --isa scalar";

static int file_exists(const char *dir, const char *name) {
    char path[4400];
    if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path) fail_msg("path too long");
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_size > 0;
}

// lrfind.csv: the header, a row per step, rates rising from --start-lr by a
// constant factor, and the smoothed column is the smoothing of the loss column.
static long check_csv(const char *path, int steps, double start, double end) {
    // the mean loss of a batch: an untrained 10-class model starts near ln 10
    // (a sum over the batch would be batch_size times that)
    char *text = slurp(path);
    if (!text) fail_msg("%s: missing", path);
    assert_true(!strncmp(text, "step,lr,loss,smoothed_loss\n", 27));
    char *line = text + 27;
    long n = 0;
    double avg = 0, prev_lr = 0;
    while (*line) {
        long step;
        double lr, loss, sm;
        if (sscanf(line, "%ld,%lf,%lf,%lf", &step, &lr, &loss, &sm) != 4) fail_msg("%s: bad row: %.60s", path, line);
        assert_int_equal(step, n + 1);
        if (n == 0 && !(loss > 1.5 && loss < 4)) fail_msg("%s: first loss %g, expected near ln 10 = 2.30", path, loss);
        expect_near(lr, start * pow(end / start, (double)n / steps), lr * 1e-12);
        if (n > 0) assert_true(lr > prev_lr);
        avg = 0.98 * avg + 0.02 * loss;
        if (isfinite(sm)) expect_near(sm, avg / (1 - pow(0.98, (double)(n + 1))), 1e-6 * fabs(sm) + 1e-9);
        prev_lr = lr;
        n++;
        line = strchr(line, '\n');
        assert_non_null(line);
        line++;
    }
    free(text);
    assert_true(n >= 2 && n <= steps);
    return n;
}

static void test_lrfind_end_to_end(void **state) {
    cli_state *st = *state;
    char out_dir[4400], *out, *err;
    snprintf(out_dir, sizeof out_dir, "%s/lrf1", st->root);
    int rc = run_lrscope(st, &out, &err, "lrfind --data '%s' --out '%s' --steps 40 --batch-size 16 %s", st->data,
                         out_dir, SMALL);
    if (rc != 0) fail_msg("lrscope lrfind: exit %d: %s", rc, err);
    char path[4600];
    snprintf(path, sizeof path, "%s/lrfind.csv", out_dir);
    check_csv(path, 40, 1e-7, 10);
    assert_true(file_exists(out_dir, "lrfind.png"));
    assert_true(file_exists(out_dir, "lrfind.svg"));
    // the three suggestions, printed as numbers
    double v, s, m;
    const char *p = strstr(out, "valley ");
    if (!p || sscanf(p, "valley %lf, steepest %lf, minimum/10 %lf", &v, &s, &m) != 3)
        fail_msg("no suggestions in: %s", out);
    assert_true(v >= 1e-7 && v <= 10 && s >= 1e-7 && s <= 10 && m >= 1e-8 && m <= 1);
    free(out);
    free(err);
    // the folder now holds files: refused like run does
    rc = run_lrscope(st, &out, &err, "lrfind --data '%s' --out '%s' --steps 40 %s", st->data, out_dir, SMALL);
    assert_int_equal(rc, 2);
    assert_non_null(strstr(err, "--out"));
    free(out);
    free(err);
}

static void test_lrfind_seeds_spread(void **state) {
    cli_state *st = *state;
    char out_dir[4400], *out, *err;
    snprintf(out_dir, sizeof out_dir, "%s/lrf-seeds", st->root);
    int rc = run_lrscope(st, &out, &err, "lrfind --data '%s' --out '%s' --steps 30 --batch-size 16 --seeds 3 %s",
                         st->data, out_dir, SMALL);
    if (rc != 0) fail_msg("lrscope lrfind --seeds 3: exit %d: %s", rc, err);
    for (int k = 1; k <= 3; k++) {
        char line[32], name[64];
        snprintf(line, sizeof line, "seed %d: valley", k);
        if (!strstr(out, line)) fail_msg("no line for seed %d: %s", k, out);
        snprintf(name, sizeof name, "lrfind-seed-%d.csv", k);
        assert_true(file_exists(out_dir, name));
        snprintf(name, sizeof name, "lrfind-seed-%d.png", k);
        assert_true(file_exists(out_dir, name));
    }
    // the spread table: min <= median <= max and the ratio max/min, for each suggestion,
    // and a plain verdict on the factor of 3
    assert_non_null(strstr(out, "spread over 3 seeds"));
    static const char *const names[3] = {"valley", "steepest", "minimum/10"};
    for (int j = 0; j < 3; j++) {
        char key[32];
        snprintf(key, sizeof key, "\n  %s ", names[j]);
        const char *p = strstr(out, key);
        if (!p) fail_msg("no spread row for %s: %s", names[j], out);
        double lo, med, hi, ratio;
        if (sscanf(p + strlen(key), "%lf %lf %lf %lf", &lo, &med, &hi, &ratio) != 4) fail_msg("bad row: %s", p);
        assert_true(lo <= med && med <= hi);
        expect_near(ratio, hi / lo, 0.01 * ratio);
        snprintf(key, sizeof key, "\n%s: ", names[j]);
        p = strstr(out, key);
        if (!p) fail_msg("no verdict for %s: %s", names[j], out);
        const char *verdict = ratio > 3.0 ? "wider than 3" : "within a factor of 3";
        const char *eol = strchr(p + 1, '\n');
        if (!strstr(p, verdict) || (eol && strstr(p, verdict) > eol))
            fail_msg("%s: ratio %g but the verdict is not \"%s\": %s", names[j], ratio, verdict, out);
    }
    free(out);
    free(err);
}

static void test_run_lrs_auto(void **state) {
    cli_state *st = *state;
    char out_dir[4400], *out, *err;
    snprintf(out_dir, sizeof out_dir, "%s/study-auto", st->root);
    int rc = run_lrscope(st, &out, &err, "run --lrs auto --data '%s' --out '%s' --epochs 1 --batch-size 32 --quiet %s",
                         st->data, out_dir, SMALL);
    if (rc != 0 && rc != 1) fail_msg("lrscope run --lrs auto: exit %d: %s", rc, err);
    free(out);
    free(err);
    char path[4600];
    snprintf(path, sizeof path, "%s/study.json", out_dir);
    json_error_t je;
    json_t *root = json_load_file(path, 0, &je);
    if (!root) fail_msg("%s: %s", path, je.text);
    json_t *f = json_object_get(root, "lrfind");
    assert_true(json_is_object(f));
    double valley = json_number_value(json_object_get(f, "valley"));
    assert_true(valley > 0);
    // four conditions, the valley x 1/10, 1/3, 1, 3 (to the 3 digits their names carry)
    json_t *runs = json_object_get(root, "runs");
    assert_int_equal((int)json_array_size(runs), 4);
    const double factor[4] = {0.1, 1.0 / 3.0, 1.0, 3.0};
    for (int i = 0; i < 4; i++) {
        double lr = json_number_value(json_object_get(json_object_get(json_array_get(runs, i), "config"), "lr"));
        expect_near(lr, valley * factor[i], 0.005 * lr);
        expect_near(json_number_value(json_array_get(json_object_get(f, "lrs"), i)), lr, 0);
    }
    json_t *axes = json_object_get(root, "axes");
    assert_string_equal(json_string_value(json_object_get(json_array_get(axes, 0), "key")), "lr");
    json_decref(root);
    // the curve beside it, and the report says where the rates came from
    snprintf(path, sizeof path, "%s/lrfind.csv", out_dir);
    check_csv(path, 100, 1e-7, 10);
    snprintf(path, sizeof path, "%s/report.md", out_dir);
    char *md = slurp(path);
    if (!md || !strstr(md, "chosen by a range test")) fail_msg("report.md does not say lr auto: %s", md ? md : "(none)");
    free(md);
}

static void test_lr_auto_in_study_file(void **state) {
    cli_state *st = *state;
    char yaml[4400], out_dir[4400], *out, *err;
    snprintf(yaml, sizeof yaml, "%s/auto.yaml", st->root);
    const char *text = "grid:\n  lr: auto\n  momentum: [0, 0.9]\n";
    test_write_file(yaml, text, strlen(text));
    snprintf(out_dir, sizeof out_dir, "%s/study-auto-file", st->root);
    int rc = run_lrscope(st, &out, &err, "run '%s' --data '%s' --out '%s' --epochs 1 --batch-size 32 --quiet --no-report %s",
                         yaml, st->data, out_dir, SMALL);
    if (rc != 0 && rc != 1) fail_msg("lrscope run (lr: auto): exit %d: %s", rc, err);
    free(out);
    free(err);
    char path[4600];
    snprintf(path, sizeof path, "%s/study.json", out_dir);
    json_error_t je;
    json_t *root = json_load_file(path, 0, &je);
    if (!root) fail_msg("%s: %s", path, je.text);
    assert_true(json_is_object(json_object_get(root, "lrfind")));
    assert_int_equal((int)json_array_size(json_object_get(root, "runs")), 2 * 4); // momentum x the 4 rates
    json_decref(root);
    // --lrs given with the file replaces its lr: auto: no range test
    snprintf(out_dir, sizeof out_dir, "%s/study-auto-file-flag", st->root);
    rc = run_lrscope(st, &out, &err, "run '%s' --lrs 0.05 --data '%s' --out '%s' --epochs 1 --batch-size 32 --quiet "
                     "--no-report %s", yaml, st->data, out_dir, SMALL);
    if (rc != 0 && rc != 1) fail_msg("lrscope run (lr: auto, --lrs 0.05): exit %d: %s", rc, err);
    free(out);
    free(err);
    snprintf(path, sizeof path, "%s/study.json", out_dir);
    root = json_load_file(path, 0, &je);
    if (!root) fail_msg("%s: %s", path, je.text);
    assert_null(json_object_get(root, "lrfind"));
    assert_int_equal((int)json_array_size(json_object_get(root, "runs")), 2);
    json_decref(root);
}

// Ctrl-C, SIGTERM and SIGHUP (a dropped ssh session) in the middle of a
// --seeds range test: it stops after the current seed, keeps the seeds that
// finished (their csv and figure) and exits 1 saying so; SIGHUP is sent twice,
// as a closing terminal and then its shell do.
static void stop_lrfind(cli_state *st, int sig, const char *tag) {
    char out_dir[4400], log[4500], first[4500], last[4500];
    snprintf(out_dir, sizeof out_dir, "%s/stop-%s", st->root, tag);
    snprintf(log, sizeof log, "%s/stop-%s.log", st->root, tag);
    snprintf(first, sizeof first, "%s/lrfind-seed-1.csv", out_dir);
    snprintf(last, sizeof last, "%s/lrfind-seed-100.csv", out_dir);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0) _exit(120);
        execl(st->bin, "lrscope", "lrfind", "--data", st->data, "--out", out_dir, "--steps", "30", "--batch-size",
              "16", "--seeds", "100", (char *)NULL);
        _exit(121);
    }
    struct stat sb;
    for (int i = 0; i < 6000 && stat(first, &sb) != 0; i++) usleep(10000); // the first seed is written
    assert_int_equal(kill(pid, sig), 0);
    if (sig == SIGHUP) {
        usleep(20000);
        kill(pid, SIGHUP);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    char *text = slurp(log);
    assert_non_null(text);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 1)
        fail_msg("%s: status %d, expected exit 1: %s", tag, status, text);
    assert_non_null(strstr(text, "lrscope lrfind: interrupted"));
    free(text);
    assert_int_equal(stat(first, &sb), 0);  // kept
    assert_true(sb.st_size > 100);
    assert_int_not_equal(stat(last, &sb), 0); // stopped well before the end
}

static void test_stop_signals(void **state) {
    stop_lrfind(*state, SIGINT, "sigint");
    stop_lrfind(*state, SIGTERM, "sigterm");
    stop_lrfind(*state, SIGHUP, "sighup");
}

static void expect_refused(cli_state *st, const char *needle, const char *args) {
    char out_dir[4400], *out, *err;
    static int counter;
    snprintf(out_dir, sizeof out_dir, "%s/bad-%d", st->root, ++counter);
    int rc = run_lrscope(st, &out, &err, "lrfind --data '%s' --out '%s' %s", st->data, out_dir, args);
    if (rc != 2) fail_msg("lrscope lrfind %s: exit %d, expected 2: %s", args, rc, err);
    if (!strstr(err, needle)) fail_msg("lrscope lrfind %s: stderr does not name %s: %s", args, needle, err);
    struct stat sb;
    if (stat(out_dir, &sb) == 0) fail_msg("lrscope lrfind %s: created %s for bad input", args, out_dir);
    free(out);
    free(err);
}

static void test_bad_flags(void **state) {
    cli_state *st = *state;
    expect_refused(st, "--steps", "--steps 1");
    expect_refused(st, "--steps", "--steps abc");
    expect_refused(st, "--start-lr", "--start-lr 0");
    expect_refused(st, "--end-lr", "--start-lr 1 --end-lr 0.1");
    expect_refused(st, "--seeds", "--seeds 0");
    expect_refused(st, "did you mean --steps", "--stpes 10");
    expect_refused(st, "did you mean \"adam\"", "--optimizer adamm");
    expect_refused(st, "--seed", "--seed 2 --seeds 3");
    expect_refused(st, "nesterov", "--nesterov --momentum 0");
    expect_refused(st, "--model", "--model conv:4:3,bogus");
    expect_refused(st, "--steps", "--steps");
    // and lrscope --help lists the command
    char *out, *err;
    assert_int_equal(run_lrscope(st, &out, &err, "--help"), 0);
    assert_non_null(strstr(out, "lrfind"));
    free(out);
    free(err);
    assert_int_equal(run_lrscope(st, &out, &err, "lrfind --help"), 0);
    assert_non_null(strstr(out, "--start-lr"));
    assert_non_null(strstr(out, "--optimizer")); // the knobs, from the table
    free(out);
    free(err);
}

int main(void) {
    const struct CMUnitTest pure[] = {
        cmocka_unit_test(test_rate_is_exponential),
        cmocka_unit_test(test_smoothing_by_hand),
        cmocka_unit_test(test_stop_rule),
        cmocka_unit_test(test_valley),
        cmocka_unit_test(test_steepest_against_log_lr),
        cmocka_unit_test(test_suggest_window),
    };
    const struct CMUnitTest cli[] = {
        cmocka_unit_test(test_lrfind_end_to_end),
        cmocka_unit_test(test_lrfind_seeds_spread),
        cmocka_unit_test(test_run_lrs_auto),
        cmocka_unit_test(test_lr_auto_in_study_file),
        cmocka_unit_test(test_stop_signals),
        cmocka_unit_test(test_bad_flags),
    };
    int failed = cmocka_run_group_tests_name("lrfind", pure, NULL, NULL);
    failed += cmocka_run_group_tests_name("lrfind_cli", cli, group_setup, group_teardown);
    return failed;
}
