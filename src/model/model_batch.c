// model_batch.c: forward and backward over a batch of groups, with batch
// norm's statistics reduced over the whole batch in group order.
#include "model_batch.h"
#include "layers.h"

#include <math.h>
#include <string.h>

static const double BN_EPS = 1e-5, BN_MOMENTUM = 0.1;

void model_batch_init(model_batch *b, const model_desc *m, int max_groups) {
    memset(b, 0, sizeof *b);
    LR_ASSERT(max_groups >= 1);
    b->m = m;
    b->max_groups = max_groups;
    b->ws = lr_calloc((size_t)max_groups, sizeof *b->ws);
    for (int g = 0; g < max_groups; g++) model_ws_alloc(&b->ws[g], m);
    b->stats = lr_aligned_alloc((m->n_buffers + 1) * sizeof(float));
    b->gstats = lr_aligned_alloc((m->n_buffers + 1) * sizeof(float));
    b->part = lr_aligned_alloc(((size_t)max_groups * 2 * m->max_bn_channels + 1) * sizeof(double));
    b->mean = lr_aligned_alloc(((size_t)m->max_bn_channels + 1) * sizeof(double));
    b->part_sum = lr_aligned_alloc((2 * (size_t)m->max_bn_channels + 1) * sizeof(double));
    for (int i = 0; i < m->n_layers; i++)
        if (m->layers[i].kind == LAYER_BN) b->bn[b->n_bn++] = i;
}

void model_batch_free(model_batch *b) {
    for (int g = 0; g < b->max_groups; g++) model_ws_free(&b->ws[g]);
    free(b->ws);
    free(b->stats);
    free(b->gstats);
    free(b->part);
    free(b->mean);
    free(b->part_sum);
    memset(b, 0, sizeof *b);
}

typedef enum { PHASE_FORWARD, PHASE_BACKWARD } phase;

typedef struct {
    model_batch *b;
    const kernel_table *kt;
    const float *state;
    float *grad_slots;
    int groups;
    phase ph;
    int lo, hi;  // layers of this phase
    int bn;      // the bn layer whose partial sums end the phase, or -1
    int zero;    // backward: clear the group's gradient slot and model_backward_begin first
} phase_ctx;

// Each thread takes groups tid, tid + n, ...: every group's work and its
// partial sums are its own, so the assignment does not change any bit.
// Phases alternate the order (b->rev), so that a thread starts a phase with
// the group it ended the last one with, whose data are still in cache.
static void phase_worker(void *arg, int tid, int nthreads) {
    phase_ctx *c = arg;
    model_batch *b = c->b;
    const model_desc *m = b->m;
    const int C2 = 2 * m->max_bn_channels;
    const int mine = tid < c->groups ? (c->groups - tid + nthreads - 1) / nthreads : 0;
    for (int j = 0; j < mine; j++) {
        const int g = tid + (b->rev ? mine - 1 - j : j) * nthreads;
        model_ws *ws = &b->ws[g];
        double *part = b->part + (size_t)g * C2;
        const layer *ly = c->bn >= 0 ? &m->layers[c->bn] : NULL;
        const int HW = ly ? ly->h * ly->w : 0;
        switch (c->ph) {
        case PHASE_FORWARD:
            model_forward_layers(m, c->kt, c->state, ws, c->lo, c->hi);
            // the group's mean and centred sum of squares while its output is in cache
            if (ly) c->kt->layers->bn_moments(part, part + ly->c, ws->act[ly->in], ly->c, HW, ws->nvalid);
            break;
        case PHASE_BACKWARD: {
            float *slot = c->grad_slots + (size_t)g * m->n_params;
            if (c->zero) { // the first phase: the group's slot and accumulated gradients cleared
                memset(slot, 0, m->n_params * sizeof(float));
                model_backward_begin(m, ws, ws->dlogits);
            }
            model_backward_layers(m, c->kt, c->state, slot, ws, c->hi, c->lo);
            if (!ly) break;
            const float *mean = b->stats + ly->buf_off, *invstd = mean + ly->c;
            if (model_bn_relu_fused(m, c->bn)) // the ReLU's mask folded in (model_backward_layers left dy unmasked)
                c->kt->layers->bn_grad_sums_relu(part, part + ly->c, ws->g[c->bn + 1], ws->act[ly->in], mean, invstd,
                                                 c->state + ly->w_off, c->state + ly->b_off, ly->c, HW, ws->nvalid);
            else
                c->kt->layers->bn_grad_sums(part, part + ly->c, ws->g[c->bn + 1], ws->act[ly->in], mean, invstd,
                                            ly->c, HW, ws->nvalid);
            for (int k = 0; k < ly->c; k++) {
                slot[ly->b_off + k] += (float)part[k];         // dbeta = sum dy
                slot[ly->w_off + k] += (float)part[ly->c + k]; // dgamma = sum dy * xhat
            }
            break;
        }
        }
    }
}

// out[k] = sum over groups, in group order, of part[g][off + k].
static void reduce(const model_batch *b, int groups, int off, int n, double *out) {
    const int C2 = 2 * b->m->max_bn_channels;
    for (int k = 0; k < n; k++) out[k] = 0.0;
    for (int g = 0; g < groups; g++)
        for (int k = 0; k < n; k++) out[k] += b->part[(size_t)g * C2 + off + k];
}

int model_batch_forward(model_batch *b, const kernel_table *kt, float *state, const float *const *x,
                        const int *nvalid, int groups, const model_batch_step *st, pool *p, lr_err *e) {
    const model_desc *m = b->m;
    LR_ASSERT(groups >= 1 && groups <= b->max_groups);
    long images = 0;
    for (int g = 0; g < groups; g++) {
        LR_ASSERT(nvalid[g] >= 0 && nvalid[g] <= LANES);
        model_ws *ws = &b->ws[g];
        ws->act[0] = (float *)x[g];
        ws->nvalid = nvalid[g];
        ws->train = st->train;
        ws->seed = st->seed;
        ws->step = st->step;
        ws->first_image = (long)g * LANES;
        ws->bn_stats = st->train && b->n_bn ? b->stats : NULL;
        ws->bn_gstats = NULL;
        images += nvalid[g];
    }
    const int use_batch = st->train && b->n_bn > 0;
    if (use_batch)
        for (int k = 0; k < b->n_bn; k++) {
            const layer *ly = &m->layers[b->bn[k]];
            if (images * ly->h * ly->w <= 1)
                return lr_fail(e, "layer %d (%s): expected more than 1 value per channel when training, "
                                  "got a batch of %ld image%s of %dx%dx%d (PyTorch refuses it too)",
                               b->bn[k] + 1, ly->text, images, images == 1 ? "" : "s", ly->c, ly->h, ly->w);
        }
    phase_ctx c = {.b = b, .kt = kt, .state = state, .groups = groups, .ph = PHASE_FORWARD, .lo = 0, .bn = -1};
    int nb = use_batch ? b->n_bn : 0;
    for (int k = 0; k <= nb; k++) {
        c.hi = k < nb ? b->bn[k] : m->n_layers;
        c.bn = k < nb ? b->bn[k] : -1;
        c.ph = PHASE_FORWARD;
        pool_run(p, phase_worker, &c);
        b->rev = !b->rev;
        if (k == nb) break;
        // The groups' means and centred sums of squares combined in group
        // order (Chan et al.), in double: no cancellation, any thread count.
        const layer *ly = &m->layers[c.bn];
        const int HW = ly->h * ly->w, C2 = 2 * m->max_bn_channels;
        const double n = (double)images * HW;
        for (int j = 0; j < ly->c; j++) {
            double na = 0.0, mu = 0.0, m2 = 0.0;
            for (int g = 0; g < groups; g++) {
                const double *part = b->part + (size_t)g * C2;
                bn_moments_combine(&na, &mu, &m2, (double)b->ws[g].nvalid * HW, part[j], part[ly->c + j]);
            }
            b->mean[j] = mu;
            b->part_sum[j] = m2;
        }
        float *mean = b->stats + ly->buf_off, *invstd = mean + ly->c;
        float *run_mean = state + m->n_params + ly->buf_off, *run_var = run_mean + ly->c;
        for (int j = 0; j < ly->c; j++) {
            double var = b->part_sum[j] / n; // biased: what normalises
            mean[j] = (float)b->mean[j];
            invstd[j] = (float)(1.0 / sqrt(var + BN_EPS));
            // PyTorch: running = (1 - momentum) * running + momentum * batch, unbiased variance.
            run_mean[j] = (float)((1.0 - BN_MOMENTUM) * run_mean[j] + BN_MOMENTUM * b->mean[j]);
            run_var[j] = (float)((1.0 - BN_MOMENTUM) * run_var[j] + BN_MOMENTUM * var * n / (n - 1.0));
        }
        c.lo = c.bn; // the next phase starts by normalising with these statistics
    }
    return 0;
}

void model_batch_backward(model_batch *b, const kernel_table *kt, const float *state,
                          float *grad_slots, int groups, pool *p) {
    const model_desc *m = b->m;
    LR_ASSERT(groups >= 1 && groups <= b->max_groups);
    const int use_batch = b->ws[0].bn_stats != NULL;
    for (int g = 0; g < groups; g++) b->ws[g].bn_gstats = use_batch ? b->gstats : NULL;
    long images = 0;
    for (int g = 0; g < groups; g++) images += b->ws[g].nvalid;
    phase_ctx c = {.b = b, .kt = kt, .state = state, .grad_slots = grad_slots, .groups = groups,
                   .ph = PHASE_BACKWARD, .hi = m->n_layers, .zero = 1}; // each thread clears its groups' gradients
    int nb = use_batch ? b->n_bn : 0;
    for (int k = nb - 1; k >= -1; k--) {
        c.bn = k >= 0 ? b->bn[k] : -1;
        c.lo = k >= 0 ? b->bn[k] + 1 : 0;
        pool_run(p, phase_worker, &c);
        b->rev = !b->rev;
        c.zero = 0;
        if (k < 0) break;
        const layer *ly = &m->layers[c.bn];
        const double n = (double)images * ly->h * ly->w;
        float *mdy = b->gstats + ly->buf_off, *mdyx = mdy + ly->c;
        reduce(b, groups, 0, 2 * ly->c, b->part_sum);
        for (int j = 0; j < ly->c; j++) {
            mdy[j] = (float)(b->part_sum[j] / n);
            mdyx[j] = (float)(b->part_sum[ly->c + j] / n);
        }
        c.hi = c.bn + 1; // the next phase starts with this bn's input gradient
    }
}
