// config.h: one run = one complete configuration: every knob of the
// training, the seed included, plus where the run sits in its study (its
// condition and folder). A study is a list of these. The knobs themselves
// (names, types, ranges, defaults, help) are described once, in knobs.c:
// add a field here and a row there.
#ifndef LRSCOPE_CONFIG_H
#define LRSCOPE_CONFIG_H

#include "../util/common.h"

enum { CONFIG_LIST_MAX = 32 };

// A list of whole numbers (e.g. MultiStepLR milestones), a knob of type KNOB_INT_LIST.
typedef struct {
    int n;
    int v[CONFIG_LIST_MAX];
} int_list;

typedef struct {
    // Where the run sits in its study (not knobs).
    char condition[256];   // the condition's name, e.g. "lr=0.01,momentum=0.9"
    char name[320];        // the run's folder inside the study, "runs/<condition>/seed-<k>"

    // Knobs (knobs.c describes each one).
    char dataset[32];      // dataset_find() name
    char data_dir[4096];   // folder holding the data set's files; "" = data/<the data set's folder>
    char model[512];       // model description (model.h)
    double lr;             // base learning rate
    double momentum;       // SGD momentum (PyTorch form)
    double weight_decay;   // L2 added to the gradient (PyTorch form)
    int epochs;
    int batch_size;
    char schedule[16];     // "step", "cosine", "onecycle", ... (schedule.h)
    int step_size;         // StepLR step (epochs)
    double gamma;          // StepLR factor
    int eval_interval;     // evaluate on the test set every N epochs (and after the last)
    uint64_t seed;
    int threads;           // compute threads for this run (results do not depend on it)
    char isa[16];          // "auto", "scalar", "avx2", "avx512"
    char prefetch[8];      // transform images on a loader thread: "on", "off" (the compute
                           // threads do it), "auto" (on when a core is spare)

    // ---- optimiser and schedule knobs (issue 10; src/train/optim.h, schedule.h) ----
    // Names and defaults are PyTorch 1.13's. The SGD momentum, weight_decay,
    // schedule, step_size and gamma above belong here too.
    char optimizer[16];        // "sgd", "adam", "adamw"
    int nesterov;              // SGD: 0 or 1 (needs momentum > 0 and dampening 0)
    double dampening;          // SGD, in [0, 1]
    double beta1, beta2;       // Adam/AdamW betas, each in [0, 1)
    double eps;                // Adam/AdamW denominator term, >= 0
    int amsgrad;               // Adam/AdamW: 0 or 1
    int_list milestones;       // multistep: epochs (or steps, milestone_unit), increasing, >= 1
    char milestone_unit[8];    // multistep: "epochs" (stepped per epoch) or "steps" (per batch)
    int max_steps;             // end the run after this many optimiser steps; 0: its epochs
    int t_max;                 // cosine: period in epochs; -1: the run's epochs after any warm-up
    double eta_min;            // cosine and cosine-restarts: lowest rate
    int t_0, t_mult;           // cosine-restarts: first period (epochs) and its growth factor
    double max_lr;             // onecycle: peak rate; -1: the run's lr (an lr axis is a max_lr axis)
    double pct_start;          // onecycle: share of the steps rising, in (0, 1)
    double div_factor;         // onecycle: initial lr = max_lr / div_factor
    double final_div_factor;   // onecycle: final lr = initial lr / final_div_factor
    char anneal[8];            // onecycle: "cos" or "linear"
    int three_phase;           // onecycle: 0 or 1
    int cycle_momentum;        // onecycle: cycle SGD momentum / Adam beta1 inversely to the lr
    double base_momentum, max_momentum; // onecycle: momentum at the peak / at the ends
    double warmup_start_factor; // warm-up: lr * start_factor rising linearly to lr, in (0, 1]
    int warmup_epochs;         // warm-up length in epochs (stepped per epoch); 0: none
    int warmup_steps;          // warm-up length in optimiser steps (per batch); 0: none
    char plateau_mode[4];      // plateau: "min" or "max"
    char plateau_metric[16];   // plateau: "test_loss" or "test_acc"
    double plateau_factor;     // plateau: lr *= factor, in (0, 1)
    int plateau_patience;      // plateau: evaluations without improvement before a cut
    double plateau_threshold;  // plateau: what counts as an improvement, >= 0
    char plateau_threshold_mode[4]; // plateau: "rel" or "abs"
    int plateau_cooldown;      // plateau: evaluations ignored after a cut
    double plateau_min_lr;     // plateau: floor of the rate
    double plateau_eps;        // plateau: smaller cuts than this are skipped
    // ---- end of the optimiser and schedule knobs ----
} run_config;

// Every knob at its default (the seed study's settings); name and condition empty.
void config_defaults(run_config *c);

// Refuses an unknown optimiser or schedule, a parameter out of range, a
// one-cycle run too short for its phases or a warm-up as long as the run,
// for a run of batches_per_epoch optimiser steps per epoch: -1 with e naming
// the knob (the configuration's field name, e.g. `pct_start`) and the numbers.
// (knobs_check.c; knob_parse already checked each value against its row.)
int config_check_optim(const run_config *c, int batches_per_epoch, lr_err *e);

#endif
