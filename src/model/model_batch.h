// model_batch.h: forward and backward over a whole batch, for models whose
// layers need the batch: batch norm in training mode takes its statistics
// over every image of the batch (all groups, the lanes that hold an image),
// as PyTorch does. Layers run group by group, in parallel over the pool's
// threads, up to each batch norm; the per-group partial results (double:
// each group's mean and centred sum of squares, taken while its output is
// in cache, then the gradient sums) are combined in group order, so every
// bit is the same for any thread count.
//
//   model_batch b;
//   model_batch_init(&b, &m, max_groups);
//   model_batch_step st = {.train = 1, .seed = seed, .step = step};
//   if (model_batch_forward(&b, kt, state, x, nvalid, groups, &st, pool, &err) != 0) ...  // exit 2
//   for g: softmax_xent(b.ws[g].dlogits, ..., b.ws[g].act[m.n_layers], ...);
//   model_batch_backward(&b, kt, state, grad_slots, groups, pool);   // slot g: group g's share
//   model_batch_free(&b);
//
// Training mode updates each batch norm's running mean and unbiased running
// variance (momentum 0.1) in the state's buffers. Models without batch norm
// give the same bits here as model_forward/model_backward group by group.
#ifndef LRSCOPE_MODEL_BATCH_H
#define LRSCOPE_MODEL_BATCH_H

#include "model.h"
#include "../train/pool.h"

typedef struct {
    int train;         // batch statistics, running statistics updated, dropout active
    uint64_t seed;     // dropout's stream
    uint64_t step;
} model_batch_step;

typedef struct {
    const model_desc *m;
    int max_groups;
    model_ws *ws;      // (max_groups) one per group
    float *stats;      // (n_buffers) per bn: batch mean (C), invstd (C)
    float *gstats;     // (n_buffers) per bn: batch means of dy (C) and dy * xhat (C)
    double *part;      // (max_groups, 2 * max bn channels) per group: mean, centred sum of squares (forward); sums (backward)
    double *mean;      // (max bn channels) the batch mean of the bn at hand
    double *part_sum;  // (2 * max bn channels) the batch's centred sum of squares; the gradient sums added over the groups
    int bn[MODEL_MAX_LAYERS]; // indices of the bn layers
    int n_bn;
    int rev;           // the next phase takes each thread's groups in reverse order
} model_batch;

void model_batch_init(model_batch *b, const model_desc *m, int max_groups);
void model_batch_free(model_batch *b);
// x[g]: group g's input (C, H, W, L); nvalid[g]: its images (lanes [0, nvalid)).
// Fails (training mode) when a batch norm would see one value per channel,
// as PyTorch refuses ("Expected more than 1 value per channel when training").
int model_batch_forward(model_batch *b, const kernel_table *kt, float *state, const float *const *x,
                        const int *nvalid, int groups, const model_batch_step *st, pool *p, lr_err *e);
// From b->ws[g].dlogits; grad_slots (groups, n_params): overwritten, slot g
// with group g's gradient (bn weight and bias: its share of the batch sums).
void model_batch_backward(model_batch *b, const kernel_table *kt, const float *state,
                          float *grad_slots, int groups, pool *p);

#endif
