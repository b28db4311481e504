// pool.h: a fixed team of threads that all run the same function, each with
// its index, and meet again at the end (fork-join with barriers). Work is
// split by index, never taken from a queue, so who computes what is fixed.
#ifndef LRSCOPE_POOL_H
#define LRSCOPE_POOL_H

typedef struct pool pool;
typedef void (*pool_fn)(void *ctx, int tid, int nthreads);

// nthreads >= 1; the caller is thread 0, so nthreads-1 threads are started.
pool *pool_create(int nthreads);
int pool_size(const pool *p);
// Runs fn(ctx, tid, n) on every thread and returns when all are done.
void pool_run(pool *p, pool_fn fn, void *ctx);
void pool_destroy(pool *p);

// A hint to the CPU inside a spin-wait loop.
static inline void pool_cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

// Number of online cores.
int pool_cores(void);

#endif
