// model.h: a network as a graph of layers built from a text description
// (docs/models.md), its parameters and buffers in one flat array, and
// forward/backward over one image group.
//
//   model_desc m;
//   model_build(&m, "resnet20", 3, 32, 32, 10, &err);   // a name or a description
//   float *state = lr_aligned_alloc(model_state_floats(&m) * sizeof(float));
//   model_init_params(&m, state, seed);                  // parameters, then buffers
//   model_ws ws; model_ws_alloc(&ws, &m);
//   const float *logits = model_forward(&m, kt, state, &ws, x);  // x (C, H, W, L)
//   model_backward(&m, kt, state, grads, &ws, dlogits);          // grads (n_params) +=
//
// The state array: n_params trained parameters, layer by layer, weight then
// bias, with PyTorch's shapes (conv (OUT, IN, K, K), linear (OUT, IN), bn
// weight (C) and bias (C)), followed by n_buffers floats of state that is
// not trained: each batch norm's running mean (C) and running variance (C).
// Gradients and the optimiser cover the first n_params floats only.
//
// model_forward/model_backward work on one group alone: batch norm there
// uses its running statistics (PyTorch's eval mode). Training a model with
// batch norm takes statistics over the whole batch: model_batch.h.
//
// Description (docs/models.md): comma-separated layers, each optionally
// named, `NAME=LAYER`; a layer is `KIND[:ARG...][:KEY=VALUE...]`:
//   conv:OUT:K[:s=S][:p=P][:bias=0]  convolution, stride S (1), zero padding P (0)
//   linear:OUT[:in=N]   flattens its input; a final bare `linear` has one output per class
//   relu, bn, gap, flatten, maxpool:P, avgpool:K[:s=S], dropout:P
//   add:NAME[:A]        adds the output of layer NAME (`input`: the network's
//                       input); `A` allows He et al.'s option-A shortcut
// Every layer takes `from=NAME` (its input is NAME's output instead of the
// previous layer's), conv and linear take `init=default|kaiming_normal_fan_in|
// kaiming_normal_fan_out`. Errors name the layer by number (from 1) and as written.
#ifndef LRSCOPE_MODEL_H
#define LRSCOPE_MODEL_H

#include "kernels.h"

// The seed study's ConvNet.
#define MODEL_SEED_SPEC "conv:4:3,relu,maxpool:2,conv:8:3,relu,maxpool:2,linear:32,relu,linear"
#define MODEL_MAX_LAYERS 256
enum { MODEL_SPEC_MAX = 16384 }; // bytes of an expanded description
#define MODEL_NAMES "seed, resnet20, resnet32, resnet56, lenet5, mlp"

typedef enum {
    LAYER_CONV, LAYER_RELU, LAYER_MAXPOOL, LAYER_LINEAR, LAYER_BN, LAYER_ADD, LAYER_GAP,
    LAYER_AVGPOOL, LAYER_FLATTEN, LAYER_DROPOUT
} layer_kind;

typedef enum { INIT_DEFAULT, INIT_KAIMING_FAN_IN, INIT_KAIMING_FAN_OUT } layer_init;

typedef struct {
    layer_kind kind;
    char name[32];        // "" when unnamed
    char text[96];        // the layer as written, for messages
    int in;               // activation it reads: i for layer i (the previous layer's output), 0 = input
    int src;              // add: the activation of its shortcut
    int c, h, w;          // input shape; a linear layer sees c*h*w features
    int oc, oh, ow;       // output shape (linear, gap, flatten: oc features, oh = ow = 1)
    int sc, sh, sw;       // add: the shortcut's shape
    int k, s, p;          // kernel or pool size, stride, padding
    int bias;             // conv: has a bias
    int option_a;         // add: He et al.'s option-A shortcut allowed
    int std_conv;         // conv: valid, stride 1, with bias: today's kernel_table path
    float drop;           // dropout probability
    layer_init init;
    size_t w_off, w_n;    // weight slice of the parameter array
    size_t b_off, b_n;    // bias slice
    size_t buf_off;       // bn: running mean (C), running var (C) at n_params + buf_off
    int fan_in, fan_out;  // for initialisation
} layer;

typedef struct {
    char spec[512];       // as given: a name or a description
    int in_c, in_h, in_w, num_classes;
    int n_layers;
    layer layers[MODEL_MAX_LAYERS];
    size_t n_params;
    size_t n_buffers;
    int n_bn, n_dropout;
    int max_bn_channels;
    size_t act_floats[MODEL_MAX_LAYERS + 1]; // activation i for one group (with lanes); 0 = input
    int acc[MODEL_MAX_LAYERS + 1];          // activation i's gradient is accumulated (several or non-adjacent readers)
    size_t max_act_floats;
    size_t scratch_floats;
    double flops_forward;  // per image, multiply-add = 2 (convolutions and linear layers)
    double flops_backward; // per image, weight and input gradients (first layer: weights only)
} model_desc;

// A model name (MODEL_NAMES) expands to its description; anything else is
// copied as it is. -1 with e when it does not fit cap.
int model_spec_expand(const char *name_or_spec, char *out, size_t cap, lr_err *e);
int model_build(model_desc *m, const char *spec, int c, int h, int w, int num_classes, lr_err *e);
static inline size_t model_state_floats(const model_desc *m) { return m->n_params + m->n_buffers; }
// Parameters per layer: PyTorch's default (weights and biases uniform in
// +-1/sqrt(fan_in)), or the layer's init= for weights (kaiming_normal_,
// gain sqrt(2)); bn weight 1, bias 0. Buffers: running mean 0, var 1.
void model_init_params(const model_desc *m, float *state, uint64_t seed);
// One line: the input, each layer's kind and output shape, the parameter count.
void model_describe(const model_desc *m, char *out, size_t cap);

// Per-thread buffers for one group: activations, gradients, scratch.
typedef struct {
    float *act[MODEL_MAX_LAYERS + 1]; // act[0] is not owned: points at the input
    int owned[MODEL_MAX_LAYERS + 1];  // 0 where a layer's output aliases its input
    int n_layers;
    float *dact[2];                   // gradient ping-pong
    float *gacc[MODEL_MAX_LAYERS + 1]; // accumulated gradients (model_desc.acc)
    const float *g[MODEL_MAX_LAYERS + 1]; // during backward: the gradient of activation i
    int gslot[MODEL_MAX_LAYERS + 1];  // which dact holds it, -1 none
    float *mask[MODEL_MAX_LAYERS];    // dropout masks (N, L)
    float *scratch;
    float *bnbuf;                     // (2 * max bn channels) eval statistics
    float *dlogits;  // (classes, L)
    float *loss;     // (L)
    int pred[LANES];
    // Set by the caller (zero by model_ws_alloc = eval mode):
    int train;              // dropout active
    uint64_t seed, step;    // dropout's stream
    long first_image;       // index in the batch of lane 0
    int nvalid;             // lanes holding an image (model_ws_alloc: LANES)
    const float *bn_stats;  // model_batch: batch mean, invstd per bn layer (buffers' layout), else NULL
    const float *bn_gstats; // model_batch: batch means of dy, dy * xhat
} model_ws;

void model_ws_alloc(model_ws *ws, const model_desc *m);
void model_ws_free(model_ws *ws);

// x (C, H, W, L) -> logits (classes, L), owned by ws.
const float *model_forward(const model_desc *m, const kernel_table *kt, const float *state,
                           model_ws *ws, const float *x);
// Accumulates parameter gradients for the group into grads (n_params).
void model_backward(const model_desc *m, const kernel_table *kt, const float *state,
                    float *grads, model_ws *ws, const float *dlogits);

// The pieces model_batch.c runs phase by phase: layers [lo, hi) forward;
// backward from the gradient of activation hi down to layer lo, after
// model_backward_begin.
void model_forward_layers(const model_desc *m, const kernel_table *kt, const float *state,
                          model_ws *ws, int lo, int hi);
void model_backward_begin(const model_desc *m, model_ws *ws, const float *dlogits);
void model_backward_layers(const model_desc *m, const kernel_table *kt, const float *state,
                           float *grads, model_ws *ws, int hi, int lo);
// 1 when bn layer i's output feeds only an in-place ReLU (layer i + 1).
// With batch statistics (ws->bn_gstats) that ReLU's backward is folded into
// the bn's: model_backward_layers leaves the ReLU's output gradient as the
// bn's (unmasked) and the bn masks it (bn_*_relu kernels); model_batch
// takes the bn's gradient sums the same way.
int model_bn_relu_fused(const model_desc *m, int i);

#endif
