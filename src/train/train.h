// train.h: one run: train a model under one configuration, evaluating on the
// test set as configured, and hand back what was recorded.
//
//   run_result r;
//   train_hooks hooks = {.on_epoch = save_files, .ctx = &files, .stop = &sigint_flag};
//   if (train_run(&cfg, &train, &test, info, &hooks, &r, &err) != 0) ...  // setup error
//   ... r.status, r.epochs[0 .. r.epochs_done-1], r.params ...
//   run_result_free(&r);
#ifndef LRSCOPE_TRAIN_H
#define LRSCOPE_TRAIN_H

#include <signal.h>

#include "config.h"
#include "../data/dataset.h"
#include "../model/model.h"

// RUN_PRUNED: stopped early by the epoch hook (after_epoch; a search's ASHA),
// its files and checkpoint kept so that it can be continued later.
typedef enum { RUN_RUNNING, RUN_FINISHED, RUN_DIVERGED, RUN_INTERRUPTED, RUN_FAILED, RUN_PRUNED } run_status;
const char *run_status_name(run_status s);

typedef struct {
    int epoch;            // from 1
    double lr;            // the rate of the epoch's first optimiser step (schedule.h)
    double train_loss, train_acc, train_f1;
    int has_test;         // 0 in epochs without evaluation
    double test_loss, test_acc, test_f1;
    double seconds;       // training + evaluation wall time
} epoch_record;

typedef struct {
    run_status status;
    int epochs_done;      // complete epoch rows in epochs[] (a diverged epoch counts)
    int diverged_epoch;   // from 1; 0 if it did not diverge
    epoch_record *epochs; // (config epochs), owned
    int num_classes;
    int64_t *test_cm;     // (classes, classes) of the last evaluation, owned
    int has_test_cm;
    double seconds;       // whole run
    double train_images_per_s;  // training passes: transform + forward + backward + update
    double eval_images_per_s;   // test passes: transform + forward + loss
    model_desc model;
    float *params;        // (model_state_floats(&model)) trained parameters, then buffers
                          // (batch norm's running statistics), owned
    const char *isa;      // kernels used
    int threads;
    int steps_per_epoch;  // optimiser steps (batches) per epoch: what schedule_replay needs
} run_result;

typedef struct {
    // Called from the training thread after every batch (may be NULL).
    void (*on_batch)(void *ctx, int epoch, int batch, int n_batches, double running_loss,
                     double images_per_s);
    // Called after every epoch with the record just added (may be NULL).
    void (*on_epoch)(void *ctx, const run_result *r);
    // Called after on_epoch while the run goes on (may be NULL): nonzero stops
    // the run there, status pruned (the epoch is complete and recorded).
    int (*after_epoch)(void *ctx, const run_result *r);
    void *ctx;
    volatile sig_atomic_t *stop; // set asynchronously (Ctrl-C): stop, mark interrupted
    // The range test (lrfind.c), both may be NULL: step_lr gives the rate of
    // optimiser step `step` (from 0) in place of the schedule's; on_step gets
    // each step's rate and mean batch loss after the step, and returning nonzero
    // ends the run there: status finished, that epoch not evaluated.
    double (*step_lr)(void *ctx, long step);
    int (*on_step)(void *ctx, long step, double lr, double batch_loss);
} train_hooks;

// 0 when the run ended in any status (see r->status); -1 with e on a setup
// error (bad model description, unknown ISA...).
int train_run(const run_config *cfg, const dataset *train, const dataset *test,
              const dataset_info *info, const train_hooks *hooks, run_result *r, lr_err *e);
void run_result_free(run_result *r);

// ---------------------------------------------------------------- the trainer
// A run as a value: created, stepped one epoch at a time, its whole state
// saved between epochs and restored into a fresh trainer of the same
// configuration and data. train_run is the loop over it.
//
//   trainer *t = trainer_create(&cfg, &train, &test, info, &err);
//   while (trainer_epoch(t, &hooks) == RUN_RUNNING) {
//       uint8_t *state; size_t len;
//       trainer_save(t, &state, &len);         // checkpoint.h writes it to a file
//       ...
//   }
//   trainer_destroy(t);
//
// The state: parameters and buffers (batch norm's running statistics),
// optimiser state (steps and buffers), the schedule's moving part
// (ReduceLROnPlateau), the epoch counter and optimiser step, the records so
// far (epochs, last confusion matrix, divergence) and the time spent. The
// random streams need no position of their own: the loader's shuffle and
// augmentation streams are counter-based on (seed, epoch) (loader.c),
// dropout's on (seed, optimiser step) (layers.h), and the initial parameters
// are drawn once, at creation, so the epoch counter is their position. A
// restored run continues bit for bit as the uninterrupted one; only the
// timing fields differ.
typedef struct trainer trainer;

// NULL with e on a setup error (as train_run's -1). cfg is copied; the data
// sets must outlive the trainer.
trainer *trainer_create(const run_config *cfg, const dataset *train, const dataset *test,
                        const dataset_info *info, lr_err *e);
// Trains the next epoch (a no-op once the run has ended); returns the status
// after it: RUN_RUNNING while there are epochs to go.
run_status trainer_epoch(trainer *t, const train_hooks *hooks);
const run_result *trainer_result(const trainer *t);
int trainer_epochs_done(const trainer *t);
// A pruned run continues (a search promotes it): its status is running again.
void trainer_promote(trainer *t);
// Moves the result out (the caller frees it); the trainer keeps nothing.
void trainer_take_result(trainer *t, run_result *out);
void trainer_destroy(trainer *t);

// The state after the last complete epoch as bytes (*out owned by the
// caller). Not after an interrupted epoch (its parameters moved part way).
void trainer_save(const trainer *t, uint8_t **out, size_t *len);
// An upper bound of trainer_save's length for this trainer.
size_t trainer_state_size(const trainer *t);
// Replaces a fresh trainer's state with a saved one of the same
// configuration and data; -1 with e (nothing changed) when the bytes do not
// fit it. Callers check the file's integrity first (checkpoint.h).
int trainer_restore(trainer *t, const uint8_t *p, size_t len, lr_err *e);

// Evaluates params (model_state_floats: batch norm uses the running
// statistics, dropout is off: PyTorch's eval mode) on d exactly as train_run evaluates its test set (the
// same loader, groups, kernels and loss sum in image order): the mean loss
// and the confusion matrix cm (classes, classes). threads 0 = all cores.
// -1 with e for an unknown ISA or a data set whose shape is not the model's.
int train_evaluate(const model_desc *m, const float *params, const dataset *d,
                   const dataset_info *info, const char *isa, int threads, double *loss,
                   int64_t *cm, lr_err *e);

// train_evaluate that also hands back each image's softmax: probs (d->n,
// classes), row i for data set image i. loss and cm (classes, classes) may be
// NULL; when given they are train_evaluate's to the bit (same loader, groups,
// kernels and per-image losses summed in image order). For ensembles.
int train_predict_probs(const model_desc *m, const float *params, const dataset *d, const dataset_info *info,
                        const char *isa, int threads, float *probs, double *loss, int64_t *cm, lr_err *e);

// Bytes a run of this model needs beyond the data set (state, gradients,
// optimiser buffers, per-group gradient slots, per-thread workspaces and,
// for a model trained through the batch driver, one workspace and input per
// group of the batch), to refuse a model that cannot fit before anything is
// written.
size_t train_memory_bytes(const model_desc *m, int batch_size, int threads);

// Models with batch norm or dropout train through the batch driver
// (model_batch.h): batch norm's statistics span the whole batch, dropout is
// active. The others train group by group (the seed study's path, unchanged).
int train_batched(const model_desc *m);

// Refuses, before training, a batch size that would leave an epoch a batch
// in which a batch norm sees one value per channel (e.g. a last batch of one
// image and a bn after global pooling), which PyTorch refuses mid-epoch:
// -1 with e naming --batch-size and the number of training images.
int train_check_batches(const model_desc *m, int batch_size, long n_train, lr_err *e);

// Threads used for threads = 0 (all cores).
int train_default_threads(void);

#endif
