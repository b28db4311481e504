// pool.c: fork-join thread team on two pthread barriers.
#include "pool.h"
#include "../util/common.h"

#include <pthread.h>
#include <unistd.h>

struct pool {
    int n;
    pthread_t *threads;
    pthread_barrier_t start, done;
    pool_fn fn;
    void *ctx;
    int quit;
};

typedef struct {
    pool *p;
    int tid;
} worker_arg;

static void *worker(void *arg) {
    worker_arg *w = arg;
    pool *p = w->p;
    int tid = w->tid;
    free(w);
    for (;;) {
        pthread_barrier_wait(&p->start);
        if (p->quit) break;
        p->fn(p->ctx, tid, p->n);
        pthread_barrier_wait(&p->done);
    }
    return NULL;
}

int pool_cores(void) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

pool *pool_create(int nthreads) {
    LR_ASSERT(nthreads >= 1);
    pool *p = lr_calloc(1, sizeof *p);
    p->n = nthreads;
    p->threads = lr_calloc((size_t)nthreads, sizeof *p->threads);
    pthread_barrier_init(&p->start, NULL, (unsigned)nthreads);
    pthread_barrier_init(&p->done, NULL, (unsigned)nthreads);
    for (int t = 1; t < nthreads; t++) {
        worker_arg *w = lr_malloc(sizeof *w);
        w->p = p;
        w->tid = t;
        if (pthread_create(&p->threads[t], NULL, worker, w) != 0) {
            fprintf(stderr, "lrscope: cannot start compute thread %d\n", t);
            abort();
        }
    }
    return p;
}

int pool_size(const pool *p) { return p->n; }

void pool_run(pool *p, pool_fn fn, void *ctx) {
    if (p->n == 1) {
        fn(ctx, 0, 1);
        return;
    }
    p->fn = fn;
    p->ctx = ctx;
    pthread_barrier_wait(&p->start);
    fn(ctx, 0, p->n);
    pthread_barrier_wait(&p->done);
}

void pool_destroy(pool *p) {
    if (!p) return;
    if (p->n > 1) {
        p->quit = 1;
        pthread_barrier_wait(&p->start);
        for (int t = 1; t < p->n; t++) pthread_join(p->threads[t], NULL);
    }
    pthread_barrier_destroy(&p->start);
    pthread_barrier_destroy(&p->done);
    free(p->threads);
    free(p);
}
