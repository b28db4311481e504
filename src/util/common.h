// common.h: the few things every file needs: an always-on assert, checked
// allocation, and an error buffer that carries a precise message upward.
#ifndef LRSCOPE_COMMON_H
#define LRSCOPE_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define LRSCOPE_VERSION "0.1.0"
#ifndef LRSCOPE_COMMIT
#define LRSCOPE_COMMIT "unknown" // the build passes the git commit (Makefile)
#endif
#ifndef LRSCOPE_DATE
#define LRSCOPE_DATE "2026-11-28" // the commit's date, for the manual (Makefile)
#endif

// Programming errors: stays on in release builds (ggml's GGML_ASSERT).
#define LR_ASSERT(cond)                                                        \
    do {                                                                       \
        if (!(cond)) {                                                         \
            fprintf(stderr, "lrscope: %s:%d: assertion failed: %s\n",          \
                    __FILE__, __LINE__, #cond);                                \
            abort();                                                           \
        }                                                                      \
    } while (0)

// Exit statuses (STYLE rule 6).
enum { EXIT_OK = 0, EXIT_RUN_FAILED = 1, EXIT_BAD_INPUT = 2 };

// Input and environment errors travel up as a message; the caller prints it.
typedef struct {
    char msg[1024];
} lr_err;

// Formats into e (if not NULL) and returns -1, so `return lr_fail(e, ...)`.
int lr_fail(lr_err *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

// Allocation that never returns NULL. Running out of memory is an
// environment problem, not a programming error: these print
// "lrscope: out of memory allocating N bytes" and exit with status 2
// (EXIT_BAD_INPUT), never abort(). Paths that size an allocation from
// outside input (loaders, downloads) use lr_try_malloc instead and fail
// with a message naming the file.
void *lr_malloc(size_t size);
void *lr_calloc(size_t count, size_t size);
void *lr_realloc(void *p, size_t size);
void *lr_aligned_alloc(size_t size); // 64-byte aligned, zeroed, free with free()
char *lr_strdup(const char *s);
// NULL when out of memory (or when count * size overflows), for the caller
// to turn into a message naming what was being loaded.
void *lr_try_malloc(size_t size);
void *lr_try_calloc(size_t count, size_t size);
// Prints the out-of-memory message and exits with status 2.
_Noreturn void lr_out_of_memory(size_t size);

// A library's failure reason, never NULL or empty: stbi_failure_reason,
// archive_error_string and friends may return NULL ("(null)" in a message
// says nothing), so this gives "no reason given" instead.
const char *lr_reason(const char *why);
// strerror that never says "Success": errno 0 (a library failed without
// setting it) reads "unknown error".
const char *lr_strerror(int errnum);

// Monotonic wall-clock seconds.
double lr_now(void);

#endif
