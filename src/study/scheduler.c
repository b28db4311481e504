// scheduler.c: the in-process transport: a FIFO of items behind a mutex.
#include "scheduler.h"

#include <pthread.h>

struct scheduler {
    pthread_mutex_t mu;
    pthread_cond_t cv;     // signalled when items are pushed, done, or the queue halts
    int active;            // items handed out and not yet done
    study_item *items;
    int n, cap, head;
    int halted;
    scheduler_decide_fn decide;
    scheduler_done_fn done;
    void *ctx;
};

scheduler *scheduler_create(int capacity) {
    scheduler *q = lr_calloc(1, sizeof *q);
    q->cap = capacity > 0 ? capacity : 16;
    q->items = lr_calloc((size_t)q->cap, sizeof *q->items);
    pthread_mutex_init(&q->mu, NULL);
    pthread_cond_init(&q->cv, NULL);
    return q;
}

void scheduler_destroy(scheduler *q) {
    if (!q) return;
    pthread_mutex_destroy(&q->mu);
    pthread_cond_destroy(&q->cv);
    free(q->items);
    free(q);
}

void scheduler_set_callbacks(scheduler *q, scheduler_decide_fn decide, scheduler_done_fn done, void *ctx) {
    q->decide = decide;
    q->done = done;
    q->ctx = ctx;
}

void scheduler_push_locked(scheduler *q, study_item it) {
    LR_ASSERT(it.run >= 0 && it.until_epoch >= 1);
    if (q->n == q->cap) {
        q->cap *= 2;
        q->items = lr_realloc(q->items, (size_t)q->cap * sizeof *q->items);
    }
    q->items[q->n++] = it;
    pthread_cond_broadcast(&q->cv);
}

void scheduler_push(scheduler *q, study_item it) {
    pthread_mutex_lock(&q->mu);
    scheduler_push_locked(q, it);
    pthread_mutex_unlock(&q->mu);
}

int scheduler_pending(scheduler *q) {
    pthread_mutex_lock(&q->mu);
    int n = q->n - q->head;
    pthread_mutex_unlock(&q->mu);
    return n;
}

int scheduler_next(scheduler *q, study_item *it) {
    pthread_mutex_lock(&q->mu);
    while (!q->halted && q->head == q->n && q->active > 0) pthread_cond_wait(&q->cv, &q->mu);
    int got = !q->halted && q->head < q->n;
    if (got) {
        *it = q->items[q->head++];
        q->active++;
    }
    pthread_mutex_unlock(&q->mu);
    return got;
}

int scheduler_epoch_done(scheduler *q, const study_item *it, const run_result *r) {
    if (!q->decide) return 0;
    pthread_mutex_lock(&q->mu);
    int stop = q->decide(q->ctx, it, r);
    pthread_mutex_unlock(&q->mu);
    return stop;
}

void scheduler_item_done(scheduler *q, const study_item *it, const run_result *r) {
    pthread_mutex_lock(&q->mu);
    if (q->done) q->done(q->ctx, q, it, r);
    LR_ASSERT(q->active > 0);
    q->active--;
    pthread_cond_broadcast(&q->cv); // new items, or the last one in progress ended
    pthread_mutex_unlock(&q->mu);
}

void scheduler_halt_locked(scheduler *q) {
    q->halted = 1;
    pthread_cond_broadcast(&q->cv);
}

void scheduler_halt(scheduler *q) {
    pthread_mutex_lock(&q->mu);
    scheduler_halt_locked(q);
    pthread_mutex_unlock(&q->mu);
}

int scheduler_halted(scheduler *q) {
    pthread_mutex_lock(&q->mu);
    int h = q->halted;
    pthread_mutex_unlock(&q->mu);
    return h;
}
