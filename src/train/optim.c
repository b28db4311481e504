// optim.c: schedules and the SGD-momentum update.
#include "optim.h"

#include <string.h>

int schedule_known(const char *name) {
    return strcmp(name, "step") == 0 || strcmp(name, "constant") == 0;
}

double schedule_lr(const run_config *c, int epoch) {
    double lr = c->lr;
    if (strcmp(c->schedule, "step") == 0 && c->step_size > 0)
        for (int k = c->step_size; k <= epoch; k += c->step_size) lr *= c->gamma;
    return lr;
}

void sgd_step(float *params, const float *grads, float *buf, size_t n, float lr,
              float momentum, float weight_decay, int *first) {
    for (size_t i = 0; i < n; i++) {
        float g = grads[i];
        if (weight_decay != 0.0f) g += weight_decay * params[i];
        if (momentum != 0.0f) {
            // buf.mul_(momentum).add_(g): two roundings, as PyTorch
            buf[i] = *first ? g : buf[i] * momentum + g;
            g = buf[i];
        }
        params[i] -= lr * g;
    }
    *first = 0;
}
