// model.h: a network as a list of layers built from a text description, its
// parameters in one flat array, and forward/backward over one image group.
//
//   model_desc m;
//   model_build(&m, MODEL_SEED_SPEC, 3, 32, 32, 10, &err);
//   float *params = lr_aligned_alloc(m.n_params * sizeof(float));
//   model_init_params(&m, params, seed);
//   model_ws ws; model_ws_alloc(&ws, &m);
//   const float *logits = model_forward(&m, kt, params, &ws, x);   // x (C, H, W, L)
//   model_backward(&m, kt, params, grads, &ws, dlogits);           // grads +=
//
// Description: comma-separated layers, `conv:OUT:K` (valid, stride 1),
// `relu`, `maxpool:P` (P x P, stride P, floor), `linear:OUT` (flattens its
// input as PyTorch's flatten does); a final bare `linear` has one output per
// class. Parameters are laid out layer by layer, weight then bias, with
// PyTorch's shapes: conv (OUT, IN, K, K), linear (OUT, IN).
#ifndef LRSCOPE_MODEL_H
#define LRSCOPE_MODEL_H

#include "kernels.h"

// The seed study's ConvNet.
#define MODEL_SEED_SPEC "conv:4:3,relu,maxpool:2,conv:8:3,relu,maxpool:2,linear:32,relu,linear"
#define MODEL_MAX_LAYERS 32

typedef enum { LAYER_CONV, LAYER_RELU, LAYER_MAXPOOL, LAYER_LINEAR } layer_kind;

typedef struct {
    layer_kind kind;
    int c, h, w;          // input shape; a linear layer sees c*h*w features
    int oc, oh, ow;       // output shape (linear: oc features, oh = ow = 1)
    int k;                // conv kernel or pool size
    size_t w_off, w_n;    // weight slice of the parameter array
    size_t b_off, b_n;    // bias slice
    int fan_in;           // for PyTorch's default initialisation
} layer;

typedef struct {
    char spec[512];
    int in_c, in_h, in_w, num_classes;
    int n_layers;
    layer layers[MODEL_MAX_LAYERS];
    size_t n_params;
    size_t act_floats[MODEL_MAX_LAYERS + 1]; // activation i for one group (with lanes); 0 = input
    size_t max_act_floats;
    size_t scratch_floats;
    double flops_forward;  // per image, multiply-add = 2
    double flops_backward; // per image, weight and input gradients (first layer: weights only)
} model_desc;

int model_build(model_desc *m, const char *spec, int c, int h, int w, int num_classes, lr_err *e);
// PyTorch's default: weights and biases uniform in +-1/sqrt(fan_in).
void model_init_params(const model_desc *m, float *params, uint64_t seed);
// "conv1.weight"-style name of the i-th parameter tensor, and its shape.
void model_describe(const model_desc *m, char *out, size_t cap);

// Per-thread buffers for one group: activations, gradient ping-pong, scratch.
typedef struct {
    float *act[MODEL_MAX_LAYERS + 1]; // act[0] is not owned: points at the input
    int owned[MODEL_MAX_LAYERS + 1];  // 0 where a layer works in place on its input
    int n_layers;
    float *dact[2];
    float *scratch;
    float *dlogits;  // (classes, L)
    float *loss;     // (L)
    int pred[LANES];
} model_ws;

void model_ws_alloc(model_ws *ws, const model_desc *m);
void model_ws_free(model_ws *ws);

// x (C, H, W, L) -> logits (classes, L), owned by ws.
const float *model_forward(const model_desc *m, const kernel_table *kt, const float *params,
                           model_ws *ws, const float *x);
// Accumulates parameter gradients for the group into grads (n_params).
void model_backward(const model_desc *m, const kernel_table *kt, const float *params,
                    float *grads, model_ws *ws, const float *dlogits);

#endif
