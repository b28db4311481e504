// fuzz_util.h: helpers shared by the libFuzzer harnesses (fuzz/fuzz_*.c).
//
// Parsers that take a path get their input as files in a private folder on
// tmpfs (/dev/shm, else $TMPDIR or /tmp), removed at exit. Harnesses that
// need several files split the input on FUZZ_SEP: part i becomes file i of
// the harness's list; a missing part leaves its file absent (not empty), so
// "file missing" paths are fuzzed too.
#ifndef LRSCOPE_FUZZ_UTIL_H
#define LRSCOPE_FUZZ_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FUZZ_SEP "--FILE--"
#define FUZZ_SEP_LEN 8

static char fuzz_root[256];

static inline void fuzz_cleanup(void) {
    if (!fuzz_root[0]) return;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", fuzz_root);
    if (system(cmd) != 0) fprintf(stderr, "fuzz: could not remove %s\n", fuzz_root);
}

// The private folder, created on first use.
static inline const char *fuzz_dir(void) {
    if (fuzz_root[0]) return fuzz_root;
    struct stat st;
    const char *base = stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) ? "/dev/shm" : getenv("TMPDIR");
    snprintf(fuzz_root, sizeof fuzz_root, "%s/lrscope-fuzz-XXXXXX", base ? base : "/tmp");
    if (!mkdtemp(fuzz_root)) {
        perror("fuzz: mkdtemp");
        abort();
    }
    atexit(fuzz_cleanup);
    return fuzz_root;
}

// Creates every parent folder of dir/rel below dir.
static inline void fuzz_mkparents(const char *dir, const char *rel) {
    char path[512];
    for (const char *s = strchr(rel, '/'); s; s = strchr(s + 1, '/')) {
        snprintf(path, sizeof path, "%s/%.*s", dir, (int)(s - rel), rel);
        mkdir(path, 0755);
    }
}

// Writes data to dir/rel (parents created); aborts on a write error, which
// would be the harness's fault, not the parser's.
static inline void fuzz_write(const char *dir, const char *rel, const uint8_t *data, size_t n) {
    char path[512];
    fuzz_mkparents(dir, rel);
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    FILE *f = fopen(path, "wb");
    if (!f || (n && fwrite(data, 1, n, f) != n) || fclose(f) != 0) {
        perror(path);
        abort();
    }
}

static inline void fuzz_unlink(const char *dir, const char *rel) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    unlink(path);
}

// Splits data on FUZZ_SEP into files names[0..count) under dir; returns the
// number of parts written (the rest are removed).
static inline int fuzz_write_parts(const char *dir, const char *const *names, int count, const uint8_t *data,
                            size_t n) {
    int k = 0;
    const uint8_t *p = data, *end = data + n;
    while (k < count && p <= end) {
        const uint8_t *sep = memmem(p, (size_t)(end - p), FUZZ_SEP, FUZZ_SEP_LEN);
        const uint8_t *stop = sep ? sep : end;
        fuzz_write(dir, names[k++], p, (size_t)(stop - p));
        if (!sep) break;
        p = sep + FUZZ_SEP_LEN;
    }
    for (int i = k; i < count; i++) fuzz_unlink(dir, names[i]);
    return k;
}

#endif
