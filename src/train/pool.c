// pool.c: fork-join thread team. A batch's work is short (about a
// millisecond), so the team meets by spinning on atomic counters for a
// while before falling asleep on a condition variable: waking a sleeping
// thread costs tens of microseconds, a spin costs nothing on an idle core.
#include "pool.h"
#include "../util/common.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <unistd.h>

enum { SPIN_ROUNDS = 20000 }; // ~100 us of polling before sleeping

struct pool {
    int n;
    pthread_t *threads;
    pool_fn fn;
    void *ctx;
    atomic_uint generation; // bumped by pool_run to start a round
    atomic_int done;        // workers finished in this round
    atomic_int sleepers;    // workers blocked on cv
    atomic_int quit;
    pthread_mutex_t mu;
    pthread_cond_t cv;
};

typedef struct {
    pool *p;
    int tid;
} worker_arg;


// Waits until generation differs from seen; returns the new value.
static unsigned wait_round(pool *p, unsigned seen) {
    for (int i = 0; i < SPIN_ROUNDS; i++) {
        unsigned g = atomic_load_explicit(&p->generation, memory_order_acquire);
        if (g != seen) return g;
        pool_cpu_relax();
    }
    pthread_mutex_lock(&p->mu);
    atomic_fetch_add(&p->sleepers, 1);
    unsigned g;
    while ((g = atomic_load(&p->generation)) == seen) pthread_cond_wait(&p->cv, &p->mu);
    atomic_fetch_sub(&p->sleepers, 1);
    pthread_mutex_unlock(&p->mu);
    return g;
}

static void *worker(void *arg) {
    worker_arg *w = arg;
    pool *p = w->p;
    int tid = w->tid;
    free(w);
    unsigned seen = 0;
    for (;;) {
        seen = wait_round(p, seen);
        if (atomic_load(&p->quit)) break;
        p->fn(p->ctx, tid, p->n);
        atomic_fetch_add_explicit(&p->done, 1, memory_order_release);
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
    atomic_init(&p->generation, 0);
    atomic_init(&p->done, 0);
    atomic_init(&p->sleepers, 0);
    atomic_init(&p->quit, 0);
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
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

static void start_round(pool *p) {
    // Sequentially consistent, like the sleeper's increment then load: either
    // it sees the new round or we see it asleep and wake it.
    atomic_fetch_add(&p->generation, 1);
    if (atomic_load(&p->sleepers) > 0) {
        pthread_mutex_lock(&p->mu);
        pthread_cond_broadcast(&p->cv);
        pthread_mutex_unlock(&p->mu);
    }
}

void pool_run(pool *p, pool_fn fn, void *ctx) {
    if (p->n == 1) {
        fn(ctx, 0, 1);
        return;
    }
    p->fn = fn;
    p->ctx = ctx;
    atomic_store(&p->done, 0);
    start_round(p);
    fn(ctx, 0, p->n);
    for (int i = 0; atomic_load_explicit(&p->done, memory_order_acquire) < p->n - 1; i++) {
        if (i < SPIN_ROUNDS) pool_cpu_relax();
        else sched_yield(); // a worker was descheduled: let it run
    }
}

void pool_destroy(pool *p) {
    if (!p) return;
    if (p->n > 1) {
        atomic_store(&p->quit, 1);
        start_round(p);
        for (int t = 1; t < p->n; t++) pthread_join(p->threads[t], NULL);
    }
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
    free(p->threads);
    free(p);
}
