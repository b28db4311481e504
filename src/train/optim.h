// optim.h: the optimisers, with PyTorch 1.13's single-tensor (foreach=False)
// formulas and order of float operations: SGD (momentum, dampening,
// nesterov, weight decay), Adam and AdamW (betas, eps, weight decay, amsgrad).
//
//   optim_state o;
//   if (optim_init(&o, &cfg, n_params, &err) != 0) ...            // unknown optimiser
//   optim_hyper h = optim_hyper_from(&cfg, &point);                 // this step's lr, momentum
//   optim_update(&o, &h, params, grads, lo, hi);                    // any slices, any threads
//   optim_step_done(&o);                                            // once per step
//   optim_free(&o);
//
// The state (momentum or moment buffers and the step count) lives in one
// struct and one allocation, so it can be saved and restored whole.
#ifndef LRSCOPE_OPTIM_H
#define LRSCOPE_OPTIM_H

#include "config.h"
#include "schedule.h"

typedef enum { OPTIM_SGD, OPTIM_ADAM, OPTIM_ADAMW } optim_kind;

// What one step uses. lr and momentum (SGD) / beta1 (Adam) may follow the
// schedule step by step; the scalars are doubles, as PyTorch's Python
// floats are, and are rounded to float where PyTorch hands them to a kernel.
typedef struct {
    optim_kind kind;
    double lr;
    double momentum, dampening; // SGD
    int nesterov;               // SGD
    double beta1, beta2, eps;   // Adam, AdamW
    int amsgrad;                // Adam, AdamW
    double weight_decay;        // SGD/Adam: added to the gradient; AdamW: decoupled
} optim_hyper;

typedef struct {
    optim_kind kind;
    int amsgrad;
    size_t n;             // parameters
    long steps;           // steps taken (PyTorch's state['step'])
    float *mem;           // the one allocation the buffers below point into
    float *momentum_buf;  // SGD: (n)
    float *exp_avg;       // Adam: (n) first moment
    float *exp_avg_sq;    // Adam: (n) second moment
    float *max_exp_avg_sq; // Adam with amsgrad: (n)
} optim_state;

// 1 if the name is a known optimiser ("sgd", "adam", "adamw").
int optim_known(const char *name);

// Allocates zeroed state for n parameters; -1 with e for an unknown optimiser.
int optim_init(optim_state *o, const run_config *c, size_t n, lr_err *e);
void optim_free(optim_state *o);
// Floats of state per parameter for this configuration (1 SGD, 2 or 3 Adam).
size_t optim_state_floats(const run_config *c);

// The hyper-parameters of a step at schedule point p (NULL: the base lr).
// One-cycle's momentum replaces SGD's momentum, or Adam's beta1.
optim_hyper optim_hyper_from(const run_config *c, const schedule_point *p);

// One step over parameters [lo, hi): slices may be updated by different
// threads; every slice of a step sees the same o->steps. Then
// optim_step_done, once.
void optim_update(const optim_state *o, const optim_hyper *h, float *params, const float *grads,
                  size_t lo, size_t hi);
void optim_step_done(optim_state *o);

// PyTorch's SGD with momentum and weight decay (no dampening, not
// nesterov): g += wd * p; buf = momentum * buf + g (buf = g on the first
// step); p -= lr * buf. params, grads, buf: n floats; *first is cleared.
void sgd_step(float *params, const float *grads, float *buf, size_t n, float lr,
              float momentum, float weight_decay, int *first);

#endif
