// optim.c: SGD, Adam and AdamW as torch/optim/{sgd,adam,adamw}.py's
// _single_tensor_* functions compute them: every tensor operation is one
// float rounding, scalars are rounded to float where they enter a kernel,
// and scalar arithmetic (bias corrections, step size) is done in double.
#include "optim.h"

#include <math.h>
#include <string.h>

int optim_known(const char *name) {
    return strcmp(name, "sgd") == 0 || strcmp(name, "adam") == 0 || strcmp(name, "adamw") == 0;
}

static optim_kind optim_kind_of(const char *name) {
    return strcmp(name, "adam") == 0 ? OPTIM_ADAM : strcmp(name, "adamw") == 0 ? OPTIM_ADAMW : OPTIM_SGD;
}

size_t optim_state_floats(const run_config *c) {
    if (optim_kind_of(c->optimizer) == OPTIM_SGD) return 1;
    return c->amsgrad ? 3 : 2;
}

int optim_init(optim_state *o, const run_config *c, size_t n, lr_err *e) {
    memset(o, 0, sizeof *o);
    if (!optim_known(c->optimizer))
        return lr_fail(e, "unknown optimizer '%s': expected one of sgd, adam, adamw", c->optimizer);
    o->kind = optim_kind_of(c->optimizer);
    o->amsgrad = o->kind != OPTIM_SGD && c->amsgrad;
    o->n = n;
    size_t k = optim_state_floats(c);
    o->mem = lr_aligned_alloc((k * n > 0 ? k * n : 1) * sizeof(float)); // zeroed
    if (o->kind == OPTIM_SGD) {
        o->momentum_buf = o->mem;
    } else {
        o->exp_avg = o->mem;
        o->exp_avg_sq = o->mem + n;
        if (o->amsgrad) o->max_exp_avg_sq = o->mem + 2 * n;
    }
    return 0;
}

void optim_free(optim_state *o) {
    free(o->mem);
    memset(o, 0, sizeof *o);
}

optim_hyper optim_hyper_from(const run_config *c, const schedule_point *p) {
    optim_hyper h = {.kind = optim_kind_of(c->optimizer), .lr = p ? p->lr : c->lr,
                     .momentum = c->momentum, .dampening = c->dampening, .nesterov = c->nesterov,
                     .beta1 = c->beta1, .beta2 = c->beta2, .eps = c->eps, .amsgrad = c->amsgrad,
                     .weight_decay = c->weight_decay};
    if (p && p->has_momentum) { // OneCycleLR sets group['momentum'] or group['betas'][0]
        if (h.kind == OPTIM_SGD) h.momentum = p->momentum;
        else h.beta1 = p->momentum;
    }
    return h;
}

// _single_tensor_sgd over n elements.
static void sgd_range(float *params, const float *grads, float *buf, size_t n, const optim_hyper *h,
                      int first) {
    const float lr = (float)h->lr, wd = (float)h->weight_decay, mom = (float)h->momentum;
    const float damp = (float)(1 - h->dampening); // add_(d_p, alpha=1 - dampening)
    const int nesterov = h->nesterov;
    for (size_t i = 0; i < n; i++) {
        float g = grads[i];
        if (wd != 0.0f) g += wd * params[i]; // d_p.add(param, alpha=weight_decay)
        if (mom != 0.0f) {
            // buf = clone(d_p) on the first step, else buf.mul_(momentum).add_(d_p, ...)
            buf[i] = first ? g : buf[i] * mom + damp * g;
            g = nesterov ? g + mom * buf[i] : buf[i];
        }
        params[i] -= lr * g; // param.add_(d_p, alpha=-lr)
    }
}

// _single_tensor_adam / _single_tensor_adamw (capturable=False) over [lo, hi).
static void adam_range(const optim_state *o, const optim_hyper *h, float *params, const float *grads,
                       size_t lo, size_t hi) {
    const double step = (double)(o->steps + 1); // step_t += 1 first
    const double bias_correction1 = 1 - pow(h->beta1, step);
    const double bias_correction2 = 1 - pow(h->beta2, step);
    const double step_size = h->lr / bias_correction1;
    const float bc2_sqrt = (float)sqrt(bias_correction2);
    const float neg_step = (float)-step_size, eps = (float)h->eps;
    const float b1 = (float)h->beta1, b2 = (float)h->beta2;
    const float omb1 = (float)(1 - h->beta1), omb2 = (float)(1 - h->beta2);
    const int adamw = h->kind == OPTIM_ADAMW;
    const float wd = (float)h->weight_decay;
    const float decay = (float)(1 - h->lr * h->weight_decay); // AdamW: param.mul_(1 - lr * wd)
    float *m = o->exp_avg, *v = o->exp_avg_sq, *vmax = o->max_exp_avg_sq;
    for (size_t i = lo; i < hi; i++) {
        float g = grads[i], p = params[i];
        if (adamw) p = p * decay;
        else if (wd != 0.0f) g = g + wd * p; // grad.add(param, alpha=weight_decay)
        m[i] = m[i] * b1 + omb1 * g;         // exp_avg.mul_(beta1).add_(grad, alpha=1 - beta1)
        v[i] = v[i] * b2 + omb2 * g * g;     // exp_avg_sq.mul_(beta2).addcmul_(grad, grad, 1 - beta2)
        float s = v[i];
        if (vmax) { // torch.maximum: NaN propagates
            if (!(vmax[i] <= s)) s = isnan(s) ? s : vmax[i];
            vmax[i] = s;
        }
        float denom = sqrtf(s) / bc2_sqrt + eps;
        params[i] = p + neg_step * m[i] / denom; // param.addcdiv_(exp_avg, denom, value=-step_size)
    }
}

void optim_update(const optim_state *o, const optim_hyper *h, float *params, const float *grads,
                  size_t lo, size_t hi) {
    LR_ASSERT(lo <= hi && hi <= o->n && h->kind == o->kind);
    if (o->kind == OPTIM_SGD)
        sgd_range(params + lo, grads + lo, o->momentum_buf + lo, hi - lo, h, o->steps == 0);
    else
        adam_range(o, h, params, grads, lo, hi);
}

void optim_step_done(optim_state *o) { o->steps++; }

void sgd_step(float *params, const float *grads, float *buf, size_t n, float lr,
              float momentum, float weight_decay, int *first) {
    optim_hyper h = {.kind = OPTIM_SGD, .lr = lr, .momentum = momentum, .weight_decay = weight_decay};
    sgd_range(params, grads, buf, n, &h, *first);
    *first = 0;
}
