// optim.h: the learning-rate schedule (a pure function of the epoch) and
// SGD with momentum in PyTorch's form.
#ifndef LRSCOPE_OPTIM_H
#define LRSCOPE_OPTIM_H

#include "config.h"

// The rate used during epoch `epoch` (from 0). "step" is StepLR stepped once
// per epoch, computed the way PyTorch chains it (lr *= gamma at each
// boundary, in double); "constant" keeps the base rate.
double schedule_lr(const run_config *c, int epoch);
// 1 if the name is a known schedule.
int schedule_known(const char *name);

// PyTorch's SGD: g += wd * p; buf = momentum * buf + g (buf = g on the first
// step); p -= lr * buf. params, grads, buf: n floats; *first is cleared.
void sgd_step(float *params, const float *grads, float *buf, size_t n, float lr,
              float momentum, float weight_decay, int *first);

#endif
