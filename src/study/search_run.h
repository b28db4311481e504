// search_run.h: a search (search.h) run by the study's scheduler
// (scheduler.h): trials suggested as the order rule allows, each as K runs
// (one per seed) in runs/trial-NNN/seed-S/, stepped rung by rung, pruned or
// continued by the pruner, promoted by ASHA at the end (docs/search.md).
//
//   search_run *sr = search_run_create(s, &e);           // s->search set
//   scheduler_set_callbacks(q, NULL, search_run_item_done, sr);
//   search_run_start(sr, q);                              // the first trials' items
//   ... workers: scheduler_next / execute / scheduler_item_done ...
//   search_run_n_runs(sr);                                // runs made
//   search_run_destroy(sr);
//
// Everything happens under the scheduler's lock, in the done callback: when
// the items of a trial have all ended, its curve (the metric's mean over its
// runs, epoch by epoch) is recorded; then, in trial order, every decision
// the order rule allows is taken (prune_can_decide, prune_decide), every
// trial it allows is suggested (search_can_suggest), and once all have
// settled, ASHA's promotions (asha_promotable), one at a time.
//
// The work items: a trial's runs go up to its next decision epoch (the next
// rung for ASHA, the next epoch for the median rule, the last epoch without
// a pruner) and end there with status "running"; their state is the
// checkpoint. Continue = items to the next decision epoch; prune = items
// that end the runs where they are as "pruned" (study_item.prune). A test
// metric needs an evaluation at every decision epoch: with a pruner, the
// runs must evaluate every epoch (eval_interval 1, checked by the caller).
//
// Resume: the machine starts again from trial 0. The points are re-derived
// (a pure function of the spec and the earlier trials) and checked against
// study.json's; each item restores its run's checkpoint, which is at or past
// the item's epoch for the work already done, so nothing is trained twice,
// and the values read back from the restored records are the ones the
// decisions read the first time: the same decisions, the same files.
#ifndef LRSCOPE_SEARCH_RUN_H
#define LRSCOPE_SEARCH_RUN_H

#include "scheduler.h"
#include "study.h"

typedef struct search_run search_run;

// NULL with e when the study's search cannot start.
search_run *search_run_create(const study *s, lr_err *e);
void search_run_destroy(search_run *sr);
// Suggests the first trials and pushes their items (before the workers start).
void search_run_start(search_run *sr, scheduler *q);
// The scheduler's done callback (ctx = sr).
void search_run_item_done(void *ctx, scheduler *q, const study_item *it, const run_result *r);
// Runs made so far (trials suggested x seeds): s->runs[0 .. n).
int search_run_n_runs(const search_run *sr);
// 0, or -1 with the message when the search stopped on an error (a resumed
// study whose recorded trial differs from the one re-derived, study.json not
// written).
int search_run_error(const search_run *sr, lr_err *e);

// The search's part of study.json (run_files.h STUDY_KEY_SEARCH) and back.
// base: the runs' configuration before a point is applied; seeds: each
// point's runs' seeds (k of them).
json_t *search_spec_to_json(const search_spec *sp, const run_config *base, const uint64_t *seeds, int k);
// Reads it into sp (defaults on entry), base, seeds (SEARCH_MAX_SEEDS) and *k;
// where names the file.
int search_spec_from_json(json_t *j, search_spec *sp, run_config *base, uint64_t *seeds, int *k, const char *where,
                          lr_err *e);

// The run's folder: "runs/trial-NNN/seed-S" (NNN at least 3 digits).
void search_run_folder(char *out, size_t cap, int trial, uint64_t seed);

#endif
