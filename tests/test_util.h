// test_util.h: helpers shared by the cmocka tests: temporary folders, small
// generated data sets, and float comparisons that print where they differ.
#ifndef LRSCOPE_TEST_UTIL_H
#define LRSCOPE_TEST_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

// A fresh folder under $TMPDIR (or /tmp); removed by test_rmtree.
static inline void test_mkdtemp(char *out, size_t cap) {
    const char *base = getenv("TMPDIR");
    snprintf(out, cap, "%s/lrscope-test-XXXXXX", base ? base : "/tmp");
    if (!mkdtemp(out)) fail_msg("mkdtemp failed");
}

static inline void test_rmtree(const char *dir) {
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "warning: could not remove %s\n", dir);
}

// Asserts |a - b| <= atol + rtol * |b| elementwise; reports the first miss.
static inline void test_assert_close(const float *a, const float *b, size_t n,
                                     double rtol, double atol, const char *what) {
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - (double)b[i]);
        if (!(d <= atol + rtol * fabs((double)b[i]))) {
            fail_msg("%s: element %zu differs: got %.9g, expected %.9g (|diff| %.3g)",
                     what, i, (double)a[i], (double)b[i], d);
        }
    }
}

static inline void test_write_file(const char *path, const void *data, size_t len) {
    FILE *f = fopen(path, "wb");
    if (!f) fail_msg("cannot write %s", path);
    if (len && fwrite(data, 1, len, f) != len) fail_msg("short write %s", path);
    fclose(f);
}

// Writes a small CIFAR-10-layout folder: 5 train batches and a test batch of
// n_per_file records each (real files hold 10,000; loaders that insist on the
// real size are tested with their own files). Labels are i % 10.
static inline uint8_t test_pixel(int i, int j) { return (uint8_t)((i * 31 + j * 7) & 0xff); }

#endif
