// kernels_simd.c: the vector kernels, written once with GCC's portable vector
// types and compiled twice by the Makefile: for AVX-512 (VL = 16 floats, one
// zmm register per image group) and for AVX2 + FMA (VL = 8: a group is two
// ymm halves, handled by an outer loop over the halves). KERNEL_ISA names the
// build; the table at the end is kernels_<isa>.
//
// Register tiles: a convolution computes 4 output channels x XT output
// columns per pass over the inputs, so each input vector loaded feeds 4 FMAs
// (XT = 4 on AVX-512's 32 registers, 2 on AVX2's 16); weight gradients keep
// 4 channels x 3 taps in registers while sweeping the image.
#include "kernels.h"
#include "layers.h"

#include <string.h>

#include "simd.h"
#define STR_(x) #x
#define CAT_STR(x) STR_(x)

#if VL == 16
#define XT 4
#else
#define XT 2
#endif
typedef float vfu __attribute__((vector_size(VL * 4), aligned(4))); // unaligned access
ALWAYS_INLINE vf select_mask(vi mask, vf a, vf b) { return (vf)(((vi)a & mask) | ((vi)b & ~mask)); }

// 4 output channels x NX columns at (oy, ox0), lanes [h, h + VL).
ALWAYS_INLINE void conv_tile(float *out, const float *in, const float *w, const float *b, int C,
                             int H, int W, int K, int OH, int OW, int oc0, int oy, int ox0, int h,
                             const int NX, const int RELU) {
    const size_t wstride = (size_t)C * K * K;
    vf acc[4][4];
#pragma GCC unroll 4
    for (int o = 0; o < 4; o++)
#pragma GCC unroll 4
        for (int x = 0; x < NX; x++) acc[o][x] = splat(b[oc0 + o]);
    for (int c = 0; c < C; c++)
        for (int ky = 0; ky < K; ky++) {
            const float *row = in + (((size_t)c * H + oy + ky) * W + ox0) * L + h;
            const float *wr = w + (((size_t)oc0 * C + c) * K + ky) * K;
            for (int kx = 0; kx < K; kx++) {
                vf v[4];
#pragma GCC unroll 4
                for (int x = 0; x < NX; x++) v[x] = LD(row + (size_t)(kx + x) * L);
#pragma GCC unroll 4
                for (int o = 0; o < 4; o++) {
                    vf wv = splat(wr[o * wstride + kx]);
#pragma GCC unroll 4
                    for (int x = 0; x < NX; x++) acc[o][x] += wv * v[x];
                }
            }
        }
#pragma GCC unroll 4
    for (int o = 0; o < 4; o++)
#pragma GCC unroll 4
        for (int x = 0; x < NX; x++)
            ST(out + (((size_t)(oc0 + o) * OH + oy) * OW + ox0 + x) * L + h, RELU ? relu(acc[o][x]) : acc[o][x]);
}

// One output channel, one column: for channel counts that are not a multiple of 4.
ALWAYS_INLINE void conv_one(float *out, const float *in, const float *w, float bias, int C, int H,
                            int W, int K, int OH, int OW, int oc, int oy, int ox, int h, const int RELU) {
    vf acc = splat(bias);
    for (int c = 0; c < C; c++)
        for (int ky = 0; ky < K; ky++) {
            const float *row = in + (((size_t)c * H + oy + ky) * W + ox) * L + h;
            const float *wr = w + (((size_t)oc * C + c) * K + ky) * K;
            for (int kx = 0; kx < K; kx++) acc += splat(wr[kx]) * LD(row + (size_t)kx * L);
        }
    ST(out + (((size_t)oc * OH + oy) * OW + ox) * L + h, RELU ? relu(acc) : acc);
}

ALWAYS_INLINE void conv_forward_impl(float *out, const float *in, const float *w, const float *b,
                                     int C, int H, int W, int OC, int K, const int RELU) {
    const int OH = H - K + 1, OW = W - K + 1;
    for (int h = 0; h < L; h += VL) {
        int oc0 = 0;
        for (; oc0 + 4 <= OC; oc0 += 4)
            for (int oy = 0; oy < OH; oy++) {
                int ox0 = 0;
                for (; ox0 + XT <= OW; ox0 += XT)
                    conv_tile(out, in, w, b, C, H, W, K, OH, OW, oc0, oy, ox0, h, XT, RELU);
                switch (OW - ox0) { // the remaining columns, still 4 channels at a time
                case 3: conv_tile(out, in, w, b, C, H, W, K, OH, OW, oc0, oy, ox0, h, 3, RELU); break;
                case 2: conv_tile(out, in, w, b, C, H, W, K, OH, OW, oc0, oy, ox0, h, 2, RELU); break;
                case 1: conv_tile(out, in, w, b, C, H, W, K, OH, OW, oc0, oy, ox0, h, 1, RELU); break;
                default: break;
                }
            }
        for (; oc0 < OC; oc0++)
            for (int oy = 0; oy < OH; oy++)
                for (int ox = 0; ox < OW; ox++)
                    conv_one(out, in, w, b[oc0], C, H, W, K, OH, OW, oc0, oy, ox, h, RELU);
    }
}

static void FN(conv_forward)(float *out, const float *in, const float *w, const float *b,
                             int C, int H, int W, int OC, int K) {
    conv_forward_impl(out, in, w, b, C, H, W, OC, K, 0);
}

static void FN(conv_relu_forward)(float *out, const float *in, const float *w, const float *b,
                                  int C, int H, int W, int OC, int K) {
    conv_forward_impl(out, in, w, b, C, H, W, OC, K, 1);
}

// dw for channels [oc0, oc0+4) and kernel size 3: 12 accumulators in registers.
static void conv_dw_tile3(float *dw, const float *dout, const float *in, int C, int H, int W,
                          int oc0, int OH, int OW) {
    const int K = 3;
    const size_t dstride = (size_t)OH * OW * L;
    for (int c = 0; c < C; c++)
        for (int ky = 0; ky < K; ky++) {
            vf acc[4][3];
#pragma GCC unroll 4
            for (int o = 0; o < 4; o++)
#pragma GCC unroll 3
                for (int kx = 0; kx < 3; kx++) acc[o][kx] = splat(0.0f);
            for (int h = 0; h < L; h += VL)
                for (int oy = 0; oy < OH; oy++) {
                    const float *row = in + (((size_t)c * H + oy + ky) * W) * L + h;
                    const float *d0 = dout + (((size_t)oc0 * OH + oy) * OW) * L + h;
                    for (int ox = 0; ox < OW; ox++) {
                        vf v0 = LD(row + (size_t)(ox + 0) * L), v1 = LD(row + (size_t)(ox + 1) * L),
                           v2 = LD(row + (size_t)(ox + 2) * L);
#pragma GCC unroll 4
                        for (int o = 0; o < 4; o++) {
                            vf d = LD(d0 + o * dstride + (size_t)ox * L);
                            acc[o][0] += d * v0;
                            acc[o][1] += d * v1;
                            acc[o][2] += d * v2;
                        }
                    }
                }
            for (int o = 0; o < 4; o++)
                for (int kx = 0; kx < 3; kx++)
                    dw[(((size_t)(oc0 + o) * C + c) * K + ky) * K + kx] += hsum(acc[o][kx]);
        }
}

// dw for one channel, any kernel size: the general path.
static void conv_dw_one(float *dw, const float *dout, const float *in, int C, int H, int W, int K,
                        int oc, int OH, int OW) {
    for (int c = 0; c < C; c++)
        for (int ky = 0; ky < K; ky++)
            for (int kx = 0; kx < K; kx++) {
                vf acc = splat(0.0f);
                for (int h = 0; h < L; h += VL)
                    for (int oy = 0; oy < OH; oy++) {
                        const float *row = in + (((size_t)c * H + oy + ky) * W + kx) * L + h;
                        const float *d = dout + (((size_t)oc * OH + oy) * OW) * L + h;
                        for (int ox = 0; ox < OW; ox++) acc += LD(d + (size_t)ox * L) * LD(row + (size_t)ox * L);
                    }
                dw[(((size_t)oc * C + c) * K + ky) * K + kx] += hsum(acc);
            }
}

static void FN(conv_backward)(float *din, float *dw, float *db, const float *dout,
                              const float *in, const float *w, float *scratch,
                              int C, int H, int W, int OC, int K) {
    const int OH = H - K + 1, OW = W - K + 1;
    for (int oc = 0; oc < OC; oc++) {
        vf acc = splat(0.0f);
        const float *d = dout + (size_t)oc * OH * OW * L;
        for (size_t p = 0; p < (size_t)OH * OW * L; p += VL) acc += LD(d + p);
        db[oc] += hsum(acc);
    }
    int oc0 = 0;
    if (K == 3)
        for (; oc0 + 4 <= OC; oc0 += 4) conv_dw_tile3(dw, dout, in, C, H, W, oc0, OH, OW);
    for (; oc0 < OC; oc0++) conv_dw_one(dw, dout, in, C, H, W, K, oc0, OH, OW);
    if (!din) return;
    // din is the full correlation of dout with the flipped kernel: pad dout
    // with K-1 zeros all round and run the forward convolution on it.
    const int PH = OH + 2 * (K - 1), PW = OW + 2 * (K - 1);
    float *dpad = scratch;                                          // (OC, PH, PW, L)
    float *wflip = dpad + (size_t)OC * PH * PW * L;                 // (C, OC, K, K)
    float *zero = wflip + ((size_t)C * OC * K * K + L - 1) / L * L; // (C)
    for (int oc = 0; oc < OC; oc++) {
        float *plane = dpad + (size_t)oc * PH * PW * L;
        // zero only the border; the interior is copied over
        memset(plane, 0, (size_t)(K - 1) * PW * L * sizeof *plane);
        memset(plane + (size_t)(PH - K + 1) * PW * L, 0, (size_t)(K - 1) * PW * L * sizeof *plane);
        for (int oy = 0; oy < OH; oy++) {
            float *prow = plane + (size_t)(oy + K - 1) * PW * L;
            memset(prow, 0, (size_t)(K - 1) * L * sizeof *prow);
            memcpy(prow + (size_t)(K - 1) * L, dout + (((size_t)oc * OH + oy) * OW) * L, (size_t)OW * L * sizeof *dout);
            memset(prow + (size_t)(K - 1 + OW) * L, 0, (size_t)(K - 1) * L * sizeof *prow);
        }
    }
    for (int c = 0; c < C; c++)
        for (int oc = 0; oc < OC; oc++)
            for (int ky = 0; ky < K; ky++)
                for (int kx = 0; kx < K; kx++)
                    wflip[(((size_t)c * OC + oc) * K + ky) * K + kx] =
                        w[(((size_t)oc * C + c) * K + (K - 1 - ky)) * K + (K - 1 - kx)];
    memset(zero, 0, (size_t)C * sizeof *zero);
    FN(conv_forward)(din, dpad, wflip, zero, OC, PH, PW, C, K);
}

static void FN(relu_forward)(float *out, const float *in, size_t n) {
    for (size_t i = 0; i < n; i += VL) {
        vf v = LD(in + i);
        vi keep = (vi)(v > 0.0f) | (vi)(v != v); // NaN passes, as torch.relu
        ST(out + i, (vf)((vi)v & keep));
    }
}

static void FN(relu_backward)(float *din, const float *dout, const float *out, size_t n) {
    for (size_t i = 0; i < n; i += VL) {
        vi pos = (vi)(LD(out + i) > 0.0f);
        ST(din + i, (vf)((vi)LD(dout + i) & pos));
    }
}

static void FN(maxpool_forward)(float *out, const float *in, int C, int H, int W, int P) {
    const int OH = H / P, OW = W / P;
    for (int c = 0; c < C; c++)
        for (int oy = 0; oy < OH; oy++)
            for (int ox = 0; ox < OW; ox++)
                for (int h = 0; h < L; h += VL) {
                    const float *base = in + (((size_t)c * H + oy * P) * W + ox * P) * L + h;
                    vf m = LD(base);
                    for (int dy = 0; dy < P; dy++)
                        for (int dx = 0; dx < P; dx++) {
                            vf v = LD(base + ((size_t)dy * W + dx) * L);
                            m = select_mask((vi)(v > m) | (vi)(v != v), v, m);
                        }
                    ST(out + (((size_t)c * OH + oy) * OW + ox) * L + h, m);
                }
}

ALWAYS_INLINE void maxpool_backward_impl(float *din, const float *dout, const float *in,
                                         const float *out, int C, int H, int W, int P, const int RELU) {
    const int OH = H / P, OW = W / P;
    if (H % P || W % P) memset(din, 0, (size_t)C * H * W * L * sizeof *din); // rows/cols no window covers
    for (int c = 0; c < C; c++)
        for (int oy = 0; oy < OH; oy++)
            for (int ox = 0; ox < OW; ox++)
                for (int h = 0; h < L; h += VL) {
                    size_t o = (((size_t)c * OH + oy) * OW + ox) * L + h;
                    vf m = LD(out + o), d = LD(dout + o);
                    if (RELU) d = (vf)((vi)d & (vi)(m > 0.0f)); // the maximum is the ReLU output
                    vi taken = (vi){0};
                    for (int dy = 0; dy < P; dy++)
                        for (int dx = 0; dx < P; dx++) {
                            size_t i = (((size_t)c * H + oy * P + dy) * W + ox * P + dx) * L + h;
                            vi first = (vi)(LD(in + i) == m) & ~taken;
                            ST(din + i, (vf)((vi)d & first));
                            taken |= first;
                        }
                }
}

static void FN(maxpool_backward)(float *din, const float *dout, const float *in,
                                 const float *out, int C, int H, int W, int P) {
    maxpool_backward_impl(din, dout, in, out, C, H, W, P, 0);
}

static void FN(maxpool_relu_backward)(float *din, const float *dout, const float *in,
                                      const float *out, int C, int H, int W, int P) {
    maxpool_backward_impl(din, dout, in, out, C, H, W, P, 1);
}

static void FN(linear_forward)(float *out, const float *in, const float *w, const float *b,
                               int I, int O) {
    for (int h = 0; h < L; h += VL) {
        int o0 = 0;
        for (; o0 + 8 <= O; o0 += 8) {
            vf acc[8];
#pragma GCC unroll 8
            for (int o = 0; o < 8; o++) acc[o] = splat(b[o0 + o]);
            for (int i = 0; i < I; i++) {
                vf v = LD(in + (size_t)i * L + h);
#pragma GCC unroll 8
                for (int o = 0; o < 8; o++) acc[o] += splat(w[(size_t)(o0 + o) * I + i]) * v;
            }
            for (int o = 0; o < 8; o++) ST(out + (size_t)(o0 + o) * L + h, acc[o]);
        }
        for (; o0 < O; o0++) {
            vf acc = splat(b[o0]);
            for (int i = 0; i < I; i++) acc += splat(w[(size_t)o0 * I + i]) * LD(in + (size_t)i * L + h);
            ST(out + (size_t)o0 * L + h, acc);
        }
    }
}

static void FN(linear_backward)(float *din, float *dw, float *db, const float *dout,
                                const float *in, const float *w, float *scratch, int I, int O) {
    for (int o = 0; o < O; o++) {
        vf acc = splat(0.0f);
        for (int h = 0; h < L; h += VL) acc += LD(dout + (size_t)o * L + h);
        db[o] += hsum(acc);
    }
    // dw (O, I) += dout (O, L) @ in^T: transpose in to (L, I) so each FMA
    // fills VL weights at once instead of reducing lanes per weight.
    float *inT = scratch; // (L, I)
    for (int i = 0; i < I; i++)
        for (int l = 0; l < L; l++) inT[(size_t)l * I + i] = in[(size_t)i * L + l];
    for (int o = 0; o < O; o++) {
        const float *d = dout + (size_t)o * L;
        float *dwr = dw + (size_t)o * I;
        int i0 = 0;
        for (; i0 + VL <= I; i0 += VL) {
            vf acc = splat(0.0f);
            for (int l = 0; l < L; l++) acc += splat(d[l]) * *(const vfu *)(inT + (size_t)l * I + i0);
            *(vfu *)(dwr + i0) = *(const vfu *)(dwr + i0) + acc;
        }
        for (; i0 < I; i0++) {
            float acc = 0.0f;
            for (int l = 0; l < L; l++) acc += d[l] * inT[(size_t)l * I + i0];
            dwr[i0] += acc;
        }
    }
    if (!din) return;
    for (int h = 0; h < L; h += VL) {
        int i0 = 0;
        for (; i0 + 8 <= I; i0 += 8) {
            vf acc[8];
#pragma GCC unroll 8
            for (int i = 0; i < 8; i++) acc[i] = splat(0.0f);
            for (int o = 0; o < O; o++) {
                vf d = LD(dout + (size_t)o * L + h);
#pragma GCC unroll 8
                for (int i = 0; i < 8; i++) acc[i] += splat(w[(size_t)o * I + i0 + i]) * d;
            }
            for (int i = 0; i < 8; i++) ST(din + (size_t)(i0 + i) * L + h, acc[i]);
        }
        for (; i0 < I; i0++) {
            vf acc = splat(0.0f);
            for (int o = 0; o < O; o++) acc += splat(w[(size_t)o * I + i0]) * LD(dout + (size_t)o * L + h);
            ST(din + (size_t)i0 * L + h, acc);
        }
    }
}

const kernel_table CAT(kernels_, KERNEL_ISA) = {
    CAT_STR(KERNEL_ISA), &CAT(layers_, KERNEL_ISA),
    FN(conv_forward), FN(conv_relu_forward), FN(conv_backward),
    FN(relu_forward), FN(relu_backward),
    FN(maxpool_forward), FN(maxpool_backward), FN(maxpool_relu_backward),
    FN(linear_forward), FN(linear_backward),
};
