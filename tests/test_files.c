// test_files.c: src/util/fsutil.c's one checked path for every file lrscope
// writes: a full disk or a file-size limit never leaves half a file under
// the final name (the old file stays as it was), temporary files never
// linger, and figures that PLplot writes by name are checked whole (PNG
// chunks up to IEND, SVG up to </svg>) before they replace anything.
//
// The disk-full cases use a real tiny tmpfs, which needs root (CAP_SYS_ADMIN)
// to mount; CI and the fresh-machine check run as root. Without it those
// tests FAIL, saying so: they are not skipped.
#include "test_util.h"
#include "study_fixture.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "../src/report/report.h"
#include "../src/util/fsutil.h"

// ---------------------------------------------------------------- helpers

static char *read_file(const char *path, size_t *len_out) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 1 << 16, len = 0, got;
    char *buf = malloc(cap + 1);
    assert_non_null(buf);
    while ((got = fread(buf + len, 1, cap - len, f)) > 0) {
        len += got;
        if (len == cap) {
            cap *= 2;
            buf = realloc(buf, cap + 1);
            assert_non_null(buf);
        }
    }
    fclose(f);
    buf[len] = '\0';
    if (len_out) *len_out = len;
    return buf;
}

static void write_file(const char *dir, const char *rel, const char *text) {
    char path[4400];
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    char *slash = strrchr(path, '/');
    *slash = '\0';
    mkdir(path, 0755);
    *slash = '/';
    test_write_file(path, text, strlen(text));
}

static void assert_file_is(const char *path, const char *want) {
    char *got = read_file(path, NULL);
    if (!got) fail_msg("%s: missing", path);
    if (strcmp(got, want) != 0) fail_msg("%s changed: now \"%.60s\", expected \"%.60s\"", path, got, want);
    free(got);
}

// Fails if any name in dir (and dir/figures) looks like a temporary file.
static void assert_no_tmp(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) fail_msg("%s: cannot list", dir);
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (strstr(de->d_name, ".tmp.")) {
            closedir(d);
            fail_msg("%s: temporary file %s left behind", dir, de->d_name);
        }
    }
    closedir(d);
}

// Independent of fsutil's checks: a whole PNG ends with the 12-byte IEND
// chunk, a whole SVG with </svg> and white space.
static int png_whole(const char *buf, size_t n) {
    static const unsigned char iend[12] = {0, 0, 0, 0, 'I', 'E', 'N', 'D', 0xAE, 0x42, 0x60, 0x82};
    return n >= 20 && memcmp(buf, "\x89PNG\r\n\x1a\n", 8) == 0 && memcmp(buf + n - 12, iend, 12) == 0;
}
static int svg_whole(const char *buf, size_t n) {
    while (n > 0 && strchr(" \t\r\n", buf[n - 1])) n--;
    return n >= 6 && memcmp(buf + n - 6, "</svg>", 6) == 0 && strstr(buf, "<svg") != NULL;
}

// Every .png/.svg in dir is whole, and no temporary file is there; returns
// how many figures there are. No folder at all (the report stopped before
// making it) holds nothing half-written either; any other failure to list it
// fails.
static int check_figures_whole(const char *dir) {
    struct stat st;
    if (stat(dir, &st) != 0 && errno == ENOENT) return 0;
    assert_no_tmp(dir);
    DIR *d = opendir(dir);
    if (!d) fail_msg("%s: cannot list: %s", dir, strerror(errno));
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        size_t len = strlen(de->d_name);
        int png = len > 4 && strcmp(de->d_name + len - 4, ".png") == 0;
        int svg = len > 4 && strcmp(de->d_name + len - 4, ".svg") == 0;
        if (!png && !svg) continue;
        char path[4400];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        size_t size = 0;
        char *buf = read_file(path, &size);
        assert_non_null(buf);
        int ok = png ? png_whole(buf, size) : svg_whole(buf, size);
        free(buf);
        if (!ok) {
            closedir(d);
            fail_msg("%s: a half-written figure (%zu bytes) is in place", path, size);
        }
        n++;
    }
    closedir(d);
    return n;
}

// A pattern no shorter write could pass for.
static char *big_buffer(size_t n) {
    char *b = malloc(n);
    assert_non_null(b);
    for (size_t i = 0; i < n; i++) b[i] = (char)('a' + (i * 7 + i / 4096) % 26);
    return b;
}

// Limits the size of files this process writes (SIGXFSZ is ignored in main,
// so a write past it fails with EFBIG instead of killing the test).
static struct rlimit fsize_limit(rlim_t bytes) {
    struct rlimit old, lim;
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
    lim = old;
    lim.rlim_cur = bytes;
    if (setrlimit(RLIMIT_FSIZE, &lim) != 0) fail_msg("setrlimit(RLIMIT_FSIZE): %s", strerror(errno));
    return old;
}
static void fsize_restore(struct rlimit old) { assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0); }

static const char OLD[] = "the old contents, which must survive\n";

// ---------------------------------------------------------------- tiny tmpfs

typedef struct {
    char dir[512];
    int mounted;
} tmpfs_state;

static int tmpfs_setup(void **state) {
    tmpfs_state *t = calloc(1, sizeof *t);
    if (!t) return -1;
    test_mkdtemp(t->dir, sizeof t->dir);
    *state = t;
    return 0;
}

static void tmpfs_unmount(tmpfs_state *t) {
    if (t->mounted && umount2(t->dir, MNT_DETACH) != 0)
        fprintf(stderr, "warning: cannot unmount %s: %s\n", t->dir, strerror(errno));
    t->mounted = 0;
}

// Unmounts and removes the folder whatever the test did.
static int tmpfs_teardown(void **state) {
    tmpfs_state *t = *state;
    if (!t) return 0;
    tmpfs_unmount(t);
    test_rmtree(t->dir);
    free(t);
    return 0;
}

static void tmpfs_mount(tmpfs_state *t, int kib) {
    tmpfs_unmount(t);
    char opts[64];
    snprintf(opts, sizeof opts, "size=%dk,mode=0755", kib);
    if (mount("tmpfs", t->dir, "tmpfs", MS_NOSUID | MS_NODEV, opts) != 0)
        fail_msg("mount -t tmpfs -o size=%dk tmpfs %s failed (%s): this test needs root "
                 "(CAP_SYS_ADMIN) to mount a tiny file system and fill it; run the suite as root, "
                 "as CI and the fresh-machine check do", kib, t->dir, strerror(errno));
    t->mounted = 1;
}

// ---------------------------------------------------------------- a small study

static const char HEADER[] = "epoch,lr,train_loss,train_acc,train_f1,test_loss,test_acc,test_f1,seconds\n";

// Two runs of six epochs with a confusion matrix: every figure kind is drawn.
static void small_study_write(const char *dir) {
    study_fixture f;
    study_fixture_write(&f, dir, "0.1,0.01", 6, 0);
    assert_int_equal(f.n, 2);
    for (int r = 0; r < 2; r++) {
        char csv[2048];
        int n = snprintf(csv, sizeof csv, "%s", HEADER);
        for (int ep = 1; ep <= 6; ep++) {
            double acc = 0.2 + 0.08 * ep * (r ? 0.6 : 1.0);
            n += snprintf(csv + n, sizeof csv - n, "%d,%g,%.3f,%.3f,%.3f,%.3f,%.3f,%.3f,1.5\n", ep,
                          r ? 0.01 : 0.1, 2.2 - 0.2 * ep, acc + 0.02, acc, 2.1 - 0.18 * ep, acc, acc - 0.01);
        }
        study_fixture_put(dir, f.folder[r], "metrics.csv", csv);
        study_fixture_put(dir, f.folder[r], "run.json",
                          "{\"status\": \"finished\", \"epochs_done\": 6, \"seconds\": 9.0,"
                          " \"classes\": [\"a\", \"b\", \"c\"],"
                          " \"confusion_matrix\": [[8, 1, 1], [2, 7, 1], [0, 3, 7]]}");
    }
}

// ---------------------------------------------------------------- tests

// The path works when nothing goes wrong: whole contents, replaced in place,
// nothing left over; and a failed rename removes its temporary file.
static void test_atomic_write_ok(void **state) {
    (void)state;
    char dir[512], path[600];
    test_mkdtemp(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/a.csv", dir);
    lr_err e = {{0}};
    assert_int_equal(fs_write_atomic(path, OLD, strlen(OLD), &e), 0);
    assert_file_is(path, OLD);
    fs_atomic_file af;
    assert_int_equal(fs_begin(&af, path, &e), 0);
    fprintf(af.f, "new %d\n", 42);
    assert_int_equal(fs_commit(&af, &e), 0);
    assert_file_is(path, "new 42\n");
    // fs_abort leaves the old file and no temporary one
    assert_int_equal(fs_begin(&af, path, &e), 0);
    fprintf(af.f, "never\n");
    fs_abort(&af);
    assert_file_is(path, "new 42\n");
    assert_no_tmp(dir);
    // rename over a non-empty folder fails: message, and the temporary file goes
    char sub[700];
    snprintf(sub, sizeof sub, "%s/busy", dir);
    write_file(sub, "inside", "x");
    assert_int_equal(fs_write_atomic(sub, OLD, strlen(OLD), &e), -1);
    if (!strstr(e.msg, "busy") || !strstr(e.msg, "cannot rename into place"))
        fail_msg("unexpected message: %s", e.msg);
    assert_no_tmp(dir);
    // a folder that does not exist: a message naming the path, nothing created
    snprintf(path, sizeof path, "%s/nope/a.csv", dir);
    assert_int_equal(fs_write_atomic(path, OLD, strlen(OLD), &e), -1);
    if (!strstr(e.msg, path) || !strstr(e.msg, "cannot write")) fail_msg("unexpected message: %s", e.msg);
    test_rmtree(dir);
}

// (a) A file-size limit (RLIMIT_FSIZE, no root needed) cuts every write
// short: both ways of writing fail, the old file is untouched, nothing is
// left in the folder.
static void test_fsize_limit(void **state) {
    (void)state;
    char dir[512], path[600];
    test_mkdtemp(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/weights.lrsw", dir);
    test_write_file(path, OLD, strlen(OLD));
    enum { BIG = 1 << 20 };
    char *big = big_buffer(BIG);
    lr_err e1 = {{0}}, e2 = {{0}}, e3 = {{0}};
    struct rlimit old = fsize_limit(64 * 1024);
    int rc1 = fs_write_atomic(path, big, BIG, &e1);
    fs_atomic_file af;
    int rc2 = fs_begin(&af, path, &e2);
    if (rc2 == 0) {
        for (int i = 0; i < BIG / 64; i++) fwrite(big + 64 * i, 1, 64, af.f);
        rc2 = fs_commit(&af, &e2);
    }
    // a small file still fits: the limit is what made the others fail
    char small[600];
    snprintf(small, sizeof small, "%s/small.json", dir);
    int rc3 = fs_write_atomic(small, OLD, strlen(OLD), &e3);
    fsize_restore(old);
    free(big);
    assert_int_equal(rc1, -1);
    assert_int_equal(rc2, -1);
    if (rc3 != 0) fail_msg("a small write under the limit failed: %s", e3.msg);
    if (!strstr(e1.msg, path) || !strstr(e2.msg, path))
        fail_msg("messages do not name the file: '%s' / '%s'", e1.msg, e2.msg);
    assert_file_is(path, OLD);
    assert_file_is(small, OLD);
    assert_no_tmp(dir);
    test_rmtree(dir);
}

// (b) The same on a real 64 KiB tmpfs that fills up.
static void test_tmpfs_full(void **state) {
    tmpfs_state *t = *state;
    tmpfs_mount(t, 64);
    char path[600], other[600];
    snprintf(path, sizeof path, "%s/metrics.csv", t->dir);
    snprintf(other, sizeof other, "%s/summary.csv", t->dir);
    lr_err e = {{0}};
    assert_int_equal(fs_write_atomic(path, OLD, strlen(OLD), &e), 0);
    enum { BIG = 256 * 1024 };
    char *big = big_buffer(BIG);
    assert_int_equal(fs_write_atomic(path, big, BIG, &e), -1);
    if (!strstr(e.msg, path)) fail_msg("message does not name the file: %s", e.msg);
    assert_file_is(path, OLD);
    assert_no_tmp(t->dir);
    fs_atomic_file af;
    assert_int_equal(fs_begin(&af, path, &e), 0);
    for (int i = 0; i < BIG / 100; i++) fprintf(af.f, "%.99s", big + 100 * i);
    assert_int_equal(fs_commit(&af, &e), -1);
    if (!strstr(e.msg, path) || !strstr(e.msg, "cannot write")) fail_msg("unexpected message: %s", e.msg);
    assert_file_is(path, OLD);
    assert_no_tmp(t->dir);
    // Space was given back: a file that fits is written whole.
    assert_int_equal(fs_write_atomic(other, big, 16 * 1024, &e), 0);
    size_t n = 0;
    char *got = read_file(other, &n);
    assert_int_equal(n, 16 * 1024);
    assert_memory_equal(got, big, 16 * 1024);
    free(got);
    free(big);
    tmpfs_unmount(t);
}

// fsutil's figure checks: a whole PNG/SVG passes; cut anywhere, or with
// bytes after the end, it does not.
static void test_figure_checks(void **state) {
    (void)state;
    char dir[512];
    test_mkdtemp(dir, sizeof dir);
    small_study_write(dir);
    lr_err e = {{0}};
    if (report_build(dir, &e) != 0) fail_msg("report_build: %s", e.msg);
    static const char *const exts[2] = {"png", "svg"};
    static const fs_check_fn checks[2] = {fs_check_png, fs_check_svg};
    for (int k = 0; k < 2; k++) {
        char path[700], cut[700];
        snprintf(path, sizeof path, "%s/figures/test_acc.%s", dir, exts[k]);
        snprintf(cut, sizeof cut, "%s/cut.%s", dir, exts[k]);
        size_t n = 0;
        char *whole = read_file(path, &n);
        assert_non_null(whole);
        assert_true(n > 1000);
        if (checks[k](path, "whole", &e) != 0) fail_msg("a whole %s is refused: %s", exts[k], e.msg);
        // (the SVG ends "</svg>\n": cutting only the newline leaves it whole)
        size_t cuts[] = {0, 7, 8, 20, 33, n / 3, n / 2, n - 13, n - 12, n - 7, n - 2, k == 0 ? n - 1 : n - 3};
        for (size_t c = 0; c < sizeof cuts / sizeof cuts[0]; c++) {
            test_write_file(cut, whole, cuts[c]);
            if (checks[k](cut, "fig", &e) == 0)
                fail_msg("a %s cut to %zu of %zu bytes passes as whole", exts[k], cuts[c], n);
            if (!strstr(e.msg, "fig: ")) fail_msg("message does not name the figure: %s", e.msg);
        }
        if (k == 0) { // trailing bytes after IEND
            char *more = malloc(n + 4);
            assert_non_null(more);
            memcpy(more, whole, n);
            memcpy(more + n, "junk", 4);
            test_write_file(cut, more, n + 4);
            assert_int_equal(fs_check_png(cut, "fig", &e), -1);
            free(more);
        } else { // trailing white space is fine
            char *more = malloc(n + 3);
            assert_non_null(more);
            memcpy(more, whole, n);
            memcpy(more + n, " \n\n", 3);
            test_write_file(cut, more, n + 3);
            assert_int_equal(fs_check_svg(cut, "fig", &e), 0);
            free(more);
        }
        free(whole);
    }
    test_rmtree(dir);
}

// (c) Figures under a file-size limit: report_build fails with a message,
// and no truncated PNG or SVG is renamed into place (before the fix, a
// figure was accepted when it was not empty).
static void test_figures_fsize_limit(void **state) {
    (void)state;
    char dir[512], figs[600];
    test_mkdtemp(dir, sizeof dir);
    small_study_write(dir);
    snprintf(figs, sizeof figs, "%s/figures", dir);
    static const rlim_t limits[] = {1000, 12 * 1024, 24 * 1024, 40 * 1024};
    for (size_t i = 0; i < sizeof limits / sizeof limits[0]; i++) {
        lr_err e = {{0}};
        struct rlimit old = fsize_limit(limits[i]);
        int rc = report_build(dir, &e);
        fsize_restore(old);
        if (rc == 0) fail_msg("report_build succeeded with files limited to %lu bytes", (unsigned long)limits[i]);
        if (!strstr(e.msg, "figures/") || !strstr(e.msg, "not written whole"))
            fail_msg("limit %lu: message does not say which figure failed: %s", (unsigned long)limits[i], e.msg);
        check_figures_whole(figs);
        assert_no_tmp(dir);
    }
    // Without the limit the same study reports in full.
    lr_err e = {{0}};
    if (report_build(dir, &e) != 0) fail_msg("report_build: %s", e.msg);
    assert_int_equal(check_figures_whole(figs), 22); // 9 per-run figures and 2 against lr, PNG + SVG
    test_rmtree(dir);
}

// (c) The same on a tiny tmpfs, at sizes that run out inside the PNGs and
// inside the SVGs of the first figures; an old figure at the path stays
// whole.
static void test_figures_tmpfs_full(void **state) {
    tmpfs_state *t = *state;
    // A whole figure made on a real disk, to stand for an earlier report's.
    char ref[512];
    test_mkdtemp(ref, sizeof ref);
    small_study_write(ref);
    lr_err e = {{0}};
    if (report_build(ref, &e) != 0) fail_msg("report_build: %s", e.msg);
    char ref_png[700];
    snprintf(ref_png, sizeof ref_png, "%s/figures/train_loss.png", ref);
    size_t ref_len = 0;
    char *old_png = read_file(ref_png, &ref_len);
    assert_non_null(old_png);
    test_rmtree(ref);

    int failures = 0;
    for (int kib = 48; kib <= 240; kib += 24) {
        tmpfs_mount(t, kib);
        char study[600], figs[700], old_path[800];
        snprintf(study, sizeof study, "%s/study", t->dir);
        small_study_write(study);
        snprintf(figs, sizeof figs, "%s/figures", study);
        mkdir(figs, 0755);
        snprintf(old_path, sizeof old_path, "%s/train_loss.png", figs);
        FILE *f = fopen(old_path, "wb");
        int have_old = f && fwrite(old_png, 1, ref_len, f) == ref_len;
        if (f && fclose(f) != 0) have_old = 0;
        if (!have_old) remove(old_path); // no room for it at this size
        int rc = report_build(study, &e);
        if (rc != 0) {
            failures++;
            if (!strstr(e.msg, study)) fail_msg("%d KiB: message does not name the file: %s", kib, e.msg);
        }
        check_figures_whole(figs);
        assert_no_tmp(study);
        tmpfs_unmount(t);
    }
    free(old_png);
    assert_true(failures >= 4); // most sizes are too small for the whole report
}

// End to end: `lrscope report` on a study folder on a nearly full tmpfs
// exits non-zero with a message naming the figure, and leaves no half
// figure and no temporary file.
static void test_cli_report_disk_full(void **state) {
    tmpfs_state *t = *state;
    const char *bin = getenv("LRSCOPE_BIN");
    if (!bin || !*bin) bin = "build/lrscope";
    if (access(bin, X_OK) != 0) fail_msg("%s is not an executable (set LRSCOPE_BIN)", bin);
    for (int kib = 60; kib <= 180; kib += 40) {
        tmpfs_mount(t, kib);
        char study[600], figs[700], err_path[700], cmd[2400];
        snprintf(study, sizeof study, "%s/study", t->dir);
        small_study_write(study);
        snprintf(figs, sizeof figs, "%s/figures", study);
        char outdir[512];
        test_mkdtemp(outdir, sizeof outdir); // stderr goes to a real disk
        snprintf(err_path, sizeof err_path, "%s/stderr.txt", outdir);
        snprintf(cmd, sizeof cmd, "'%s' report '%s' >/dev/null 2>'%s'", bin, study, err_path);
        int status = system(cmd);
        char *err = read_file(err_path, NULL);
        assert_non_null(err);
        if (!WIFEXITED(status) || WEXITSTATUS(status) == 0)
            fail_msg("%d KiB: lrscope report on a full disk: status %d, stderr: %s", kib, status, err);
        assert_int_equal(WEXITSTATUS(status), 2);
        if (!strstr(err, "lrscope: ") || !strstr(err, study))
            fail_msg("%d KiB: the message does not name the file: %s", kib, err);
        // It is a figure that did not fit, not a study that could not be read.
        if (!strstr(err, "/figures/") || !strstr(err, "not written whole"))
            fail_msg("%d KiB: the message does not name a figure cut short: %s", kib, err);
        free(err);
        test_rmtree(outdir);
        check_figures_whole(figs);
        assert_no_tmp(study);
        tmpfs_unmount(t);
    }
}

int main(void) {
    signal(SIGXFSZ, SIG_IGN); // a write past RLIMIT_FSIZE fails with EFBIG
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_atomic_write_ok),
        cmocka_unit_test(test_fsize_limit),
        cmocka_unit_test_setup_teardown(test_tmpfs_full, tmpfs_setup, tmpfs_teardown),
        cmocka_unit_test(test_figure_checks),
        cmocka_unit_test(test_figures_fsize_limit),
        cmocka_unit_test_setup_teardown(test_figures_tmpfs_full, tmpfs_setup, tmpfs_teardown),
        cmocka_unit_test_setup_teardown(test_cli_report_disk_full, tmpfs_setup, tmpfs_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

// Under `make DEBUG=1`, fontconfig (loaded by PLplot's cairo drivers) keeps
// its font cache until exit, which LeakSanitizer reports; it is not ours.
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void) { return "leak:libfontconfig.so\n"; }
