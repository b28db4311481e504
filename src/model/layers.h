// layers.h: scalar reference kernels of the layers residual networks need
// (convolution with padding, stride and optional bias; batch norm; residual
// addition with He et al.'s option-A shortcut; average pooling; dropout), in
// the (C, H, W, L) "images in lanes" layout of kernels.h. The _ref functions
// are the scalar reference; layer_table below holds them and the vector
// versions (layers_simd.c, compiled for AVX2 and AVX-512), reached from a
// kernel table as kt->layers.
//
// Letters: C in-channels, OC out-channels, H W input size, OH OW output size,
// K kernel, S stride, P padding, HW = H*W, L = LANES, NV = lanes holding an
// image (lanes [0, NV); the others are empty and excluded from statistics).
// Conventions as kernels.h: outputs first; forward overwrites; backward
// writes din (if not NULL) and ACCUMULATES into parameter gradients.
#ifndef LRSCOPE_LAYERS_H
#define LRSCOPE_LAYERS_H

#include "kernels.h"

// PyTorch's output size of a convolution or pooling: floor((H+2P-K)/S)+1,
// or 0 when nothing fits.
int conv_out_size(int H, int K, int S, int P);

// out (OC, OH, OW, L) = conv(in (C, H, W, L), w (OC, C, K, K), stride S, zero padding P) + b (OC) (b may be NULL)
void conv2_forward_ref(float *out, const float *in, const float *w, const float *b,
                       int C, int H, int W, int OC, int K, int S, int P);
// din (C, H, W, L) or NULL; dw (OC, C, K, K) +=; db (OC) += (NULL: no bias)
void conv2_backward_ref(float *din, float *dw, float *db, const float *dout, const float *in,
                        const float *w, int C, int H, int W, int OC, int K, int S, int P);

// Batch norm, split so that statistics can span many groups: per-group
// partial sums (double) that the caller adds in group order, then a
// normalisation that every group applies with the batch's mean and invstd.
// One group's moments over HW and lanes [0, NV), per channel: mean[c] and
// m2[c] = sum of (x - mean[c])^2, both in double, two passes over the
// channel while it is in cache (0 and 0 when NV = 0). The caller combines
// groups in group order with Chan et al.'s formula (bn_moments_combine).
void bn_moments_ref(double *mean, double *m2, const float *x, int C, int HW, int NV);
// Adds group b (nb values, mean mb, centred sum of squares m2b) into the
// running a (na values): Chan, Golub and LeVeque's pairwise update.
void bn_moments_combine(double *na, double *ma, double *m2a, double nb, double mb, double m2b);
// out = (x - mean) * invstd * gamma + beta, every lane
void bn_normalise_ref(float *out, const float *x, const float *mean, const float *invstd,
                      const float *gamma, const float *beta, int C, int HW);
// sdy[c] = sum dy, sdyx[c] = sum dy * xhat (xhat = (x - mean) * invstd), lanes [0, NV)
void bn_grad_sums_ref(double *sdy, double *sdyx, const float *dout, const float *x,
                      const float *mean, const float *invstd, int C, int HW, int NV);
// Training mode: din = gamma * invstd * (dy - mdy - xhat * mdyx), where mdy and
// mdyx are the batch means of dy and dy * xhat; zero in lanes >= NV.
void bn_backward_train_ref(float *din, const float *dout, const float *x, const float *mean,
                           const float *invstd, const float *gamma, const float *mdy,
                           const float *mdyx, int C, int HW, int NV);
// bn followed by an in-place ReLU (bn_normalise_relu), the ReLU's backward
// folded in: dy = dout where the bn's output y = (x - mean) * invstd * gamma
// + beta (recomputed with the forward's operations) is > 0, else 0 -- the
// same bits as relu_backward into a buffer, then the two kernels above.
void bn_grad_sums_relu_ref(double *sdy, double *sdyx, const float *dout, const float *x,
                           const float *mean, const float *invstd, const float *gamma,
                           const float *beta, int C, int HW, int NV);
void bn_backward_train_relu_ref(float *din, const float *dout, const float *x, const float *mean,
                                const float *invstd, const float *gamma, const float *beta,
                                const float *mdy, const float *mdyx, int C, int HW, int NV);
// Eval mode (fixed statistics): din = dy * gamma * invstd (din may be NULL);
// dgamma += sum dy * xhat, dbeta += sum dy over lanes [0, NV).
void bn_backward_eval_ref(float *din, float *dgamma, float *dbeta, const float *dout,
                          const float *x, const float *mean, const float *invstd,
                          const float *gamma, int C, int HW, int NV);

// Residual addition. out (C, H, W, L) = a + shortcut(s), s (SC, SH, SW, L).
// Same shapes: identity. Option A (He et al., CIFAR): s subsampled with
// stride ST = SH / H (x[:, :, ::ST, ::ST]) and zero-padded with
// (C - SC) / 2 channels on each side, as akamaster/pytorch_resnet_cifar10's
// F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, planes // 4, planes // 4)).
void add_forward_ref(float *out, const float *a, const float *s, int C, int H, int W,
                     int SC, int SH, int SW);
// ds (SC, SH, SW, L) += shortcut^T(dout); the gradient of `a` is dout itself.
void add_backward_skip_ref(float *ds, const float *dout, int C, int H, int W, int SC, int SH, int SW);
// add followed by an in-place ReLU (torch.relu: NaN passes), fused:
// out = relu(a + shortcut(s)). Backward: din = dout where y (the ReLU's
// output) > 0, else 0 (the gradient of `a`), and ds += shortcut^T(din)
// when ds is not NULL: relu_backward then add_backward_skip, same bits.
void add_relu_forward_ref(float *out, const float *a, const float *s, int C, int H, int W,
                          int SC, int SH, int SW);
// bn, then the add that reads its output, then an in-place ReLU, in one
// pass: out = relu(bn_normalise(x) + shortcut(s)), x (C, H, W, L); the bn's
// own output is not stored (nothing else reads it; its backward needs x).
void bn_normalise_add_relu_ref(float *out, const float *x, const float *mean, const float *invstd,
                               const float *gamma, const float *beta, const float *s, int C, int H, int W,
                               int SC, int SH, int SW);
void relu_add_backward_ref(float *din, float *ds, const float *dout, const float *y, int C, int H, int W,
                           int SC, int SH, int SW);

// out (C, OH, OW, L): mean over K x K windows, stride S, no padding (AvgPool2d(K, S))
void avgpool_forward_ref(float *out, const float *in, int C, int H, int W, int K, int S);
void avgpool_backward_ref(float *din, const float *dout, int C, int H, int W, int K, int S);
// Global average pooling: out (C, L) = mean of in (C, HW, L) over HW
void gap_forward_ref(float *out, const float *in, int C, int HW);
void gap_backward_ref(float *din, const float *dout, int C, int HW);

// Inverted dropout (PyTorch): each element kept with probability 1 - p and
// scaled by 1 / (1 - p). mask (N, L) receives 0 or 1 / (1 - p); it is drawn
// per image from rng.h's stream (seed, RNG_DROPOUT, key) with key mixing
// the step, the layer and the image's index in the batch, so the bits do
// not depend on which thread computes which group.
void dropout_mask_ref(float *mask, size_t N, float p, uint64_t seed, uint64_t step, int layer,
                      long first_image, int NV);
// out = in * mask (n = N * L floats); backward: din = dout * mask
void mul_ref(float *out, const float *in, const float *mask, size_t n);

// Floats of scratch conv2_forward/conv2_backward need (64-byte multiples).
size_t conv2_scratch_floats(int C, int H, int W, int OC, int K, int S, int P);

// The layers above, one entry per ISA, each with the signature of its _ref
// (conv2 also takes scratch: conv2_scratch_floats floats). bn_normalise_relu
// is bn_normalise followed by torch.relu in the same pass; the _relu
// backward kernels are its backward, and add_relu_* the residual addition's.
typedef struct layer_table {
    void (*conv2_forward)(float *out, const float *in, const float *w, const float *b, float *scratch,
                          int C, int H, int W, int OC, int K, int S, int P);
    void (*conv2_backward)(float *din, float *dw, float *db, const float *dout, const float *in,
                           const float *w, float *scratch, int C, int H, int W, int OC, int K, int S, int P);
    void (*bn_moments)(double *mean, double *m2, const float *x, int C, int HW, int NV);
    void (*bn_normalise)(float *out, const float *x, const float *mean, const float *invstd,
                         const float *gamma, const float *beta, int C, int HW);
    void (*bn_normalise_relu)(float *out, const float *x, const float *mean, const float *invstd,
                              const float *gamma, const float *beta, int C, int HW);
    void (*bn_grad_sums)(double *sdy, double *sdyx, const float *dout, const float *x,
                         const float *mean, const float *invstd, int C, int HW, int NV);
    void (*bn_backward_train)(float *din, const float *dout, const float *x, const float *mean,
                              const float *invstd, const float *gamma, const float *mdy,
                              const float *mdyx, int C, int HW, int NV);
    void (*bn_backward_eval)(float *din, float *dgamma, float *dbeta, const float *dout,
                             const float *x, const float *mean, const float *invstd,
                             const float *gamma, int C, int HW, int NV);
    void (*bn_grad_sums_relu)(double *sdy, double *sdyx, const float *dout, const float *x,
                              const float *mean, const float *invstd, const float *gamma,
                              const float *beta, int C, int HW, int NV);
    void (*bn_backward_train_relu)(float *din, const float *dout, const float *x, const float *mean,
                                   const float *invstd, const float *gamma, const float *beta,
                                   const float *mdy, const float *mdyx, int C, int HW, int NV);
    void (*add_forward)(float *out, const float *a, const float *s, int C, int H, int W,
                        int SC, int SH, int SW);
    void (*add_backward_skip)(float *ds, const float *dout, int C, int H, int W, int SC, int SH, int SW);
    void (*add_relu_forward)(float *out, const float *a, const float *s, int C, int H, int W,
                             int SC, int SH, int SW);
    void (*relu_add_backward)(float *din, float *ds, const float *dout, const float *y, int C, int H, int W,
                              int SC, int SH, int SW);
    void (*bn_normalise_add_relu)(float *out, const float *x, const float *mean, const float *invstd,
                                  const float *gamma, const float *beta, const float *s, int C, int H, int W,
                                  int SC, int SH, int SW);
    void (*gap_forward)(float *out, const float *in, int C, int HW);
    void (*gap_backward)(float *din, const float *dout, int C, int HW);
} layer_table;

extern const layer_table layers_scalar;
extern const layer_table layers_avx2;
extern const layer_table layers_avx512;

#endif
