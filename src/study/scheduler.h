// scheduler.h: the study as a queue of work over its runs. A work item is
// (run, epochs to run up to); the grid fills the queue with every run to its
// full epochs, a resume with what is left, a search (later) with its trials
// and rungs. Workers (threads now; other processes later) take items in the
// queue's fixed order and report each epoch's result back.
//
//   scheduler *q = scheduler_create(n_runs);
//   scheduler_push(q, (study_item){run, cfg.epochs});
//   // each worker:
//   study_item it;
//   while (scheduler_next(q, &it)) {
//       ... train run it.run epoch by epoch up to it.until_epoch ...
//       if (scheduler_epoch_done(q, &it, r)) ... stop the run: pruned
//       scheduler_item_done(q, &it, r);
//   }
//
// The transport is these four functions: a distributed study (MPI ranks)
// hands items out and collects results through its own versions of them,
// with the same decision callback. Decisions are taken in the callback under
// the scheduler's lock, from what has been reported so far.
#ifndef LRSCOPE_SCHEDULER_H
#define LRSCOPE_SCHEDULER_H

#include "../train/train.h"

typedef struct {
    int run;          // index into the study's runs
    int until_epoch;  // train up to this epoch (from 1; the run's epochs for a whole run)
    int prune;        // 1: once at until_epoch, the run ends there as pruned (a search's decision
                      // taken while it waited at a rung); 0: it goes on as its status says
} study_item;

typedef struct scheduler scheduler;

// Called under the lock after every epoch of an item (may be NULL): nonzero
// stops that run there (pruned). For a search's early stopping (ASHA).
typedef int (*scheduler_decide_fn)(void *ctx, const study_item *it, const run_result *r);
// Called under the lock when an item ends (may be NULL): a search may push
// new items (scheduler_push_locked) from here.
typedef void (*scheduler_done_fn)(void *ctx, scheduler *q, const study_item *it, const run_result *r);

scheduler *scheduler_create(int capacity);
void scheduler_destroy(scheduler *q);
void scheduler_set_callbacks(scheduler *q, scheduler_decide_fn decide, scheduler_done_fn done, void *ctx);
void scheduler_push(scheduler *q, study_item it);
void scheduler_push_locked(scheduler *q, study_item it); // from inside a callback
int scheduler_pending(scheduler *q);

// ---- the transport
// The next item in queue order: 1 with *it, 0 when none is left or the study
// halts. While the queue is empty but items are still in progress (handed
// out, not yet done), it waits: their done callbacks may push more work (a
// search's next trials and rungs). Every item handed out must be answered by
// scheduler_item_done.
int scheduler_next(scheduler *q, study_item *it);
// An epoch of it ended with r (the run goes on): 1 to stop it now (pruned).
int scheduler_epoch_done(scheduler *q, const study_item *it, const run_result *r);
// Item it ended (r->status; r may be NULL for a run that failed to start);
// wakes the waiting workers.
void scheduler_item_done(scheduler *q, const study_item *it, const run_result *r);
// No more items are handed out (Ctrl-C, a failure that stops the study).
void scheduler_halt(scheduler *q);
void scheduler_halt_locked(scheduler *q); // from inside a callback
int scheduler_halted(scheduler *q);

#endif
