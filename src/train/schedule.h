// schedule.h: the learning rate (and, for one-cycle, the momentum) as a
// function of the optimiser step, exactly as PyTorch 1.13's
// torch.optim.lr_scheduler produces it when stepped the usual way.
//
//   schedule s;
//   if (schedule_init(&s, &cfg, batches_per_epoch, &err) != 0) ...   // bad knob
//   for (long step = 0; ...; step++) {
//       schedule_point p;
//       if (schedule_at(&s, step, &p, &err) != 0) ...                // past one-cycle's end
//       ... train one batch with p.lr (and p.momentum if p.has_momentum) ...
//       if (end of an evaluated epoch && schedule_feeds_plateau(&s, epoch))
//           schedule_plateau_step(&s, metric);
//   }
//
// Every schedule but plateau is a pure function of the step (computed in
// double, with PyTorch's own recursive forms where it uses them, so the bits
// agree too); plateau is a state machine fed the monitored metric once per
// evaluated epoch. A `schedule` is a plain value (no pointers): copying it
// saves the schedule's whole state.
//
// Steps are optimiser steps from 0; epoch e's steps are e*B .. e*B + B-1 for
// B batches per epoch. What steps when:
//   per epoch: constant, step (StepLR), multistep (MultiStepLR), exponential
//              (ExponentialLR), cosine (CosineAnnealingLR), plateau
//              (ReduceLROnPlateau, after each evaluated epoch);
//   per batch: cosine-restarts (CosineAnnealingWarmRestarts stepped with the
//              fractional epoch e + i/B of batch i), onecycle (OneCycleLR),
//              multistep with milestone_unit steps (MultiStepLR stepped
//              after every batch: the rate of step k is lr * gamma^(number
//              of milestones <= k), as He et al.'s 32k/48k iterations).
// max_steps cuts a run short; the schedule still spans the run's epochs.
// A warm-up (LinearLR from start_factor to 1) comes before any of them except
// onecycle (which has its own), with SequentialLR's semantics: the main
// schedule's clock starts at 0 when the warm-up ends. warmup_epochs steps the
// warm-up per epoch, warmup_steps per batch; after a warm-up of N steps a
// per-epoch schedule keeps stepping every B steps, counted from step N.
#ifndef LRSCOPE_SCHEDULE_H
#define LRSCOPE_SCHEDULE_H

#include "config.h"

typedef enum {
    SCHED_CONSTANT,
    SCHED_STEP,
    SCHED_MULTISTEP,
    SCHED_EXPONENTIAL,
    SCHED_COSINE,
    SCHED_COSINE_RESTARTS,
    SCHED_ONECYCLE,
    SCHED_PLATEAU,
} schedule_kind;

// ReduceLROnPlateau: parameters and state.
typedef struct {
    int mode_max;        // 0 "min", 1 "max"
    int threshold_abs;   // 0 "rel", 1 "abs"
    int metric_acc;      // 0 test_loss, 1 test_acc
    double factor, threshold, min_lr, eps;
    int patience, cooldown;
    // state (PyTorch's attributes of the same names)
    double lr;           // the current rate
    double best;         // +-inf until the first metric
    int num_bad_epochs, cooldown_counter, last_epoch;
} plateau_state;

typedef struct {
    schedule_kind kind;
    int per_batch;            // the main schedule steps per batch
    int batches;              // optimiser steps per epoch (B)
    long total_steps;         // the run's steps: epochs * B
    double base_lr;
    // warm-up: steps [0, main_start) belong to it
    double warmup_start_factor;
    int warmup_epochs, warmup_steps;
    long main_start;
    // main schedules (PyTorch's names)
    int step_size;
    double gamma;
    int_list milestones;
    int milestone_steps;      // milestones count optimiser steps (multistep per batch)
    int t_max;                // resolved: never the -1 default
    double eta_min;
    int t_0, t_mult;
    double max_lr, pct_start, div_factor, final_div_factor;
    int anneal_linear, three_phase, cycle_momentum;
    double base_momentum, max_momentum;
    long onecycle_steps;      // total_steps of OneCycleLR
    plateau_state plateau;
} schedule;

typedef struct {
    double lr;
    int has_momentum;         // one-cycle with cycle_momentum: momentum (SGD) or beta1 (Adam)
    double momentum;
} schedule_point;

// 1 if the name is a known schedule.
int schedule_known(const char *name);

// Resolves the configuration for a run of B = batches_per_epoch optimiser
// steps per epoch; -1 with e naming the knob when config_check_optim refuses.
int schedule_init(schedule *s, const run_config *c, int batches_per_epoch, lr_err *e);

// The rate (and momentum) of optimiser step `step`. -1 with e only when a
// one-cycle schedule is stepped past its end, as PyTorch raises.
int schedule_at(const schedule *s, long step, schedule_point *p, lr_err *e);

// 1 if the plateau state machine is fed the metric of epoch `epoch` (from 0):
// it is a plateau schedule and the warm-up is over by the end of the epoch.
// Epochs without evaluation are not fed: patience counts evaluations.
int schedule_feeds_plateau(const schedule *s, int epoch);

// ReduceLROnPlateau.step(metric).
void plateau_step(plateau_state *p, double metric);
void schedule_plateau_step(schedule *s, double metric);

// The rate of every step of a run, for the schedule figure: out[0 .. n-1]
// for steps 0 .. n-1 (n at most the run's steps). Plateau, which depends on
// the metrics, takes each epoch's recorded rate from epoch_lr (one per epoch;
// may be NULL for the other schedules).
int schedule_replay(const run_config *c, int batches_per_epoch, const double *epoch_lr,
                    double *out, long n, lr_err *e);

// The rate of epoch `epoch` (from 0) of a per-epoch schedule without a
// warm-up in steps: the rate at that epoch's first step.
double schedule_lr(const run_config *c, int epoch);

#endif
