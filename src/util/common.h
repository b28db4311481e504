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

// Allocation that never returns NULL: out of memory is not recoverable here.
void *lr_malloc(size_t size);
void *lr_calloc(size_t count, size_t size);
void *lr_aligned_alloc(size_t size); // 64-byte aligned, zeroed, free with free()
char *lr_strdup(const char *s);

// Monotonic wall-clock seconds.
double lr_now(void);

#endif
