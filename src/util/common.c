// common.c: error formatting, checked allocation and the clock.
#define _POSIX_C_SOURCE 200809L
#include "common.h"

#include <stdarg.h>
#include <string.h>
#include <time.h>

int lr_fail(lr_err *e, const char *fmt, ...) {
    if (e) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(e->msg, sizeof e->msg, fmt, ap);
        va_end(ap);
    }
    return -1;
}

_Noreturn void lr_out_of_memory(size_t size) {
    fprintf(stderr, "lrscope: out of memory allocating %zu bytes; free some memory or use "
                    "a smaller data set, model or batch\n", size);
    exit(EXIT_BAD_INPUT);
}

void *lr_malloc(size_t size) {
    void *p = malloc(size ? size : 1);
    if (!p) lr_out_of_memory(size);
    return p;
}

void *lr_calloc(size_t count, size_t size) {
    if (size && count > SIZE_MAX / size) lr_out_of_memory(SIZE_MAX);
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (!p) lr_out_of_memory(count * size);
    return p;
}

void *lr_realloc(void *p, size_t size) {
    void *q = realloc(p, size ? size : 1);
    if (!q) lr_out_of_memory(size);
    return q;
}

void *lr_try_malloc(size_t size) { return malloc(size ? size : 1); }

void *lr_try_calloc(size_t count, size_t size) {
    if (size && count > SIZE_MAX / size) return NULL;
    return calloc(count ? count : 1, size ? size : 1);
}

const char *lr_reason(const char *why) { return why && why[0] ? why : "no reason given"; }

const char *lr_strerror(int errnum) { return errnum ? strerror(errnum) : "unknown error"; }

void *lr_aligned_alloc(size_t size) {
    size_t rounded = (size + 63) / 64 * 64;
    void *p = NULL;
    if (posix_memalign(&p, 64, rounded ? rounded : 64) != 0) lr_out_of_memory(size);
    memset(p, 0, rounded ? rounded : 64);
    return p;
}

char *lr_strdup(const char *s) {
    size_t n = strlen(s) + 1;
    char *p = lr_malloc(n);
    memcpy(p, s, n);
    return p;
}

double lr_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}
