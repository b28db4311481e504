// kernels.h: the arithmetic of the layers, for one group of LANES images at a
// time, in the "images in the vector lanes" layout: a tensor (C, H, W) of a
// group is stored as (C, H, W, L) with L = LANES = 16 images innermost, so one
// AVX-512 register holds the same pixel of 16 images and every kernel is a
// broadcast-weight FMA with no shuffles. Channel counts of 3..8 would waste
// most of a vector in the usual NCHW/NHWC layouts; image lanes never do.
//
// Each kernel comes in a scalar reference version (kernels_ref.c) and vector
// versions (kernels_simd.c compiled for AVX2 and for AVX-512); kernels_select
// picks one table at start-up from the CPU's features.
//
// Conventions: outputs first, then inputs, then sizes. Forward overwrites its
// output. Backward writes din (if not NULL) and ACCUMULATES (+=) into the
// parameter gradients dw, db. All buffers are 64-byte aligned. Convolutions
// are valid (no padding), stride 1; pooling is k x k with stride k, floor.
#ifndef LRSCOPE_KERNELS_H
#define LRSCOPE_KERNELS_H

#include "../util/common.h"

#define LANES 16

struct layer_table;

typedef struct kernel_table {
    const char *isa; // "scalar", "avx2", "avx512"
    // The same ISA's kernels of the residual-network layers (layers.h).
    const struct layer_table *layers;

    // out (OC, H-K+1, W-K+1, L) = conv(in (C, H, W, L), w (OC, C, K, K)) + b (OC)
    void (*conv_forward)(float *out, const float *in, const float *w, const float *b,
                         int C, int H, int W, int OC, int K);
    // The same followed by ReLU, in one pass over the output (saves a pass
    // over the largest activation; backward is unchanged).
    void (*conv_relu_forward)(float *out, const float *in, const float *w, const float *b,
                              int C, int H, int W, int OC, int K);
    // din (C, H, W, L) or NULL; dw (OC, C, K, K) +=; db (OC) +=.
    // scratch: conv_scratch_floats(...) floats.
    void (*conv_backward)(float *din, float *dw, float *db, const float *dout,
                          const float *in, const float *w, float *scratch,
                          int C, int H, int W, int OC, int K);
    // n = number of floats (elements x L)
    void (*relu_forward)(float *out, const float *in, size_t n);
    void (*relu_backward)(float *din, const float *dout, const float *out, size_t n);
    // out (C, H/P, W/P, L); the first maximum in scan order wins, NaN propagates (as PyTorch)
    void (*maxpool_forward)(float *out, const float *in, int C, int H, int W, int P);
    // din (C, H, W, L) = dout routed to the first position equal to the maximum
    void (*maxpool_backward)(float *din, const float *dout, const float *in,
                             const float *out, int C, int H, int W, int P);
    // The same followed by the backward of the ReLU that produced `in` (kept
    // only where in > 0): one pass instead of two over the largest gradient.
    void (*maxpool_relu_backward)(float *din, const float *dout, const float *in,
                                  const float *out, int C, int H, int W, int P);
    // out (O, L) = w (O, I) @ in (I, L) + b (O)
    void (*linear_forward)(float *out, const float *in, const float *w, const float *b,
                           int I, int O);
    // din (I, L) or NULL; dw (O, I) +=; db (O) +=. scratch: linear_scratch_floats(I) floats.
    void (*linear_backward)(float *din, float *dw, float *db, const float *dout,
                            const float *in, const float *w, float *scratch, int I, int O);
} kernel_table;

size_t conv_scratch_floats(int C, int H, int W, int OC, int K);
size_t linear_scratch_floats(int I);

// Softmax cross-entropy over a group (shared by every ISA; it is cheap).
// logits (K, L); labels (L), -1 for an empty lane; writes loss (L) and
// pred (L) (first arg-max, as torch.argmax), and dlogits (K, L) =
// (softmax - onehot) * scale, zero for empty lanes. Returns nothing: a
// non-finite loss shows up in loss[].
void softmax_xent(float *dlogits, float *loss, int *pred, const float *logits,
                  const int *labels, int K, float scale);

extern const kernel_table kernels_scalar;
extern const kernel_table kernels_avx2;
extern const kernel_table kernels_avx512;

// isa: NULL or "auto" = the best the CPU has; else "scalar", "avx2", "avx512".
// Fails with a message when the name is unknown or the CPU lacks it.
const kernel_table *kernels_select(const char *isa, lr_err *e);
// Comma-separated ISAs this CPU can run, best last.
const char *kernels_available(void);

#endif
