// kernels_simd.c: the vector kernels, written once with GCC's portable vector
// type v16 (16 floats = one image group) and compiled twice by the Makefile:
// with -mavx512f (one zmm register per v16) and with -mavx2 -mfma (two ymm).
// KERNEL_ISA names the build; the table at the end is kernels_<isa>.
//
// Register tiles: a convolution computes 4 output channels x 4 output columns
// (16 accumulators) per pass over the inputs, so each input vector loaded is
// used by 4 FMAs; weight gradients keep 4 channels x 3 taps in registers
// while sweeping the image. Edges fall back to single-accumulator loops.
#include "kernels.h"

#include <string.h>

#ifndef KERNEL_ISA
#error "compile with -DKERNEL_ISA=avx2 or -DKERNEL_ISA=avx512"
#endif
#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
#define FN(name) CAT(name##_, KERNEL_ISA)
#define STR_(x) #x
#define CAT_STR(x) STR_(x)

#define L LANES
typedef float v16 __attribute__((vector_size(64)));
typedef int32_t vi16 __attribute__((vector_size(64)));
typedef float v16u __attribute__((vector_size(64), aligned(4))); // unaligned access

#define LD(p) (*(const v16 *)(p))
#define ST(p, v) (*(v16 *)(p) = (v))

static inline v16 splat(float x) { return (v16){0} + x; }
static inline v16 select_mask(vi16 mask, v16 a, v16 b) {
    return (v16)(((vi16)a & mask) | ((vi16)b & ~mask));
}
static inline float hsum(v16 v) {
    float s = 0.0f;
    for (int l = 0; l < L; l++) s += v[l];
    return s;
}

// One output (channel oc, row oy, column ox): the edge path.
static inline void conv_one(float *out, const float *in, const float *w, float bias,
                            int C, int H, int W, int K, int OH, int OW, int oc, int oy, int ox) {
    v16 acc = splat(bias);
    for (int c = 0; c < C; c++)
        for (int ky = 0; ky < K; ky++) {
            const float *row = in + (((size_t)c * H + oy + ky) * W + ox) * L;
            const float *wr = w + (((size_t)oc * C + c) * K + ky) * K;
            for (int kx = 0; kx < K; kx++) acc += splat(wr[kx]) * LD(row + kx * L);
        }
    ST(out + (((size_t)oc * OH + oy) * OW + ox) * L, acc);
}

static void FN(conv_forward)(float *out, const float *in, const float *w, const float *b,
                             int C, int H, int W, int OC, int K) {
    const int OH = H - K + 1, OW = W - K + 1;
    const size_t wstride = (size_t)C * K * K; // between output channels
    int oc0 = 0;
    for (; oc0 + 4 <= OC; oc0 += 4) {
        for (int oy = 0; oy < OH; oy++) {
            int ox0 = 0;
            for (; ox0 + 4 <= OW; ox0 += 4) {
                v16 acc[4][4];
#pragma GCC unroll 4
                for (int o = 0; o < 4; o++)
#pragma GCC unroll 4
                    for (int x = 0; x < 4; x++) acc[o][x] = splat(b[oc0 + o]);
                for (int c = 0; c < C; c++)
                    for (int ky = 0; ky < K; ky++) {
                        const float *row = in + (((size_t)c * H + oy + ky) * W + ox0) * L;
                        const float *wr = w + (((size_t)oc0 * C + c) * K + ky) * K;
                        for (int kx = 0; kx < K; kx++) {
                            v16 v0 = LD(row + (kx + 0) * L), v1 = LD(row + (kx + 1) * L);
                            v16 v2 = LD(row + (kx + 2) * L), v3 = LD(row + (kx + 3) * L);
#pragma GCC unroll 4
                            for (int o = 0; o < 4; o++) {
                                v16 wv = splat(wr[o * wstride + kx]);
                                acc[o][0] += wv * v0;
                                acc[o][1] += wv * v1;
                                acc[o][2] += wv * v2;
                                acc[o][3] += wv * v3;
                            }
                        }
                    }
#pragma GCC unroll 4
                for (int o = 0; o < 4; o++)
#pragma GCC unroll 4
                    for (int x = 0; x < 4; x++)
                        ST(out + (((size_t)(oc0 + o) * OH + oy) * OW + ox0 + x) * L, acc[o][x]);
            }
            for (; ox0 < OW; ox0++)
                for (int o = 0; o < 4; o++)
                    conv_one(out, in, w, b[oc0 + o], C, H, W, K, OH, OW, oc0 + o, oy, ox0);
        }
    }
    for (; oc0 < OC; oc0++)
        for (int oy = 0; oy < OH; oy++)
            for (int ox = 0; ox < OW; ox++)
                conv_one(out, in, w, b[oc0], C, H, W, K, OH, OW, oc0, oy, ox);
}

// dw for channels [oc0, oc0+4) and kernel size 3: 12 accumulators in registers.
static void conv_dw_tile3(float *dw, const float *dout, const float *in,
                          int C, int H, int W, int oc0, int OH, int OW) {
    const int K = 3;
    for (int c = 0; c < C; c++)
        for (int ky = 0; ky < K; ky++) {
            v16 acc[4][3];
#pragma GCC unroll 4
            for (int o = 0; o < 4; o++)
#pragma GCC unroll 3
                for (int kx = 0; kx < 3; kx++) acc[o][kx] = splat(0.0f);
            for (int oy = 0; oy < OH; oy++) {
                const float *row = in + (((size_t)c * H + oy + ky) * W) * L;
                const float *d0 = dout + (((size_t)oc0 * OH + oy) * OW) * L;
                const size_t dstride = (size_t)OH * OW * L;
                for (int ox = 0; ox < OW; ox++) {
                    v16 v0 = LD(row + (ox + 0) * L), v1 = LD(row + (ox + 1) * L),
                        v2 = LD(row + (ox + 2) * L);
#pragma GCC unroll 4
                    for (int o = 0; o < 4; o++) {
                        v16 d = LD(d0 + o * dstride + (size_t)ox * L);
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
static void conv_dw_one(float *dw, const float *dout, const float *in,
                        int C, int H, int W, int K, int oc, int OH, int OW) {
    for (int c = 0; c < C; c++)
        for (int ky = 0; ky < K; ky++)
            for (int kx = 0; kx < K; kx++) {
                v16 acc = splat(0.0f);
                for (int oy = 0; oy < OH; oy++) {
                    const float *row = in + (((size_t)c * H + oy + ky) * W + kx) * L;
                    const float *d = dout + (((size_t)oc * OH + oy) * OW) * L;
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
        v16 acc = splat(0.0f);
        const float *d = dout + (size_t)oc * OH * OW * L;
        for (int p = 0; p < OH * OW; p++) acc += LD(d + (size_t)p * L);
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
    float *dpad = scratch;                                    // (OC, PH, PW, L)
    float *wflip = dpad + (size_t)OC * PH * PW * L;           // (C, OC, K, K)
    float *zero = wflip + ((size_t)C * OC * K * K + L - 1) / L * L; // (C)
    memset(dpad, 0, (size_t)OC * PH * PW * L * sizeof *dpad);
    for (int oc = 0; oc < OC; oc++)
        for (int oy = 0; oy < OH; oy++)
            memcpy(dpad + (((size_t)oc * PH + oy + K - 1) * PW + K - 1) * L,
                   dout + (((size_t)oc * OH + oy) * OW) * L, (size_t)OW * L * sizeof *dout);
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
    for (size_t i = 0; i < n; i += L) {
        v16 v = LD(in + i);
        vi16 keep = (vi16)(v > 0.0f) | (vi16)(v != v); // NaN passes, as torch.relu
        ST(out + i, (v16)((vi16)v & keep));
    }
}

static void FN(relu_backward)(float *din, const float *dout, const float *out, size_t n) {
    for (size_t i = 0; i < n; i += L) {
        vi16 pos = (vi16)(LD(out + i) > 0.0f);
        ST(din + i, (v16)((vi16)LD(dout + i) & pos));
    }
}

static void FN(maxpool_forward)(float *out, const float *in, int C, int H, int W, int P) {
    const int OH = H / P, OW = W / P;
    for (int c = 0; c < C; c++)
        for (int oy = 0; oy < OH; oy++)
            for (int ox = 0; ox < OW; ox++) {
                const float *base = in + (((size_t)c * H + oy * P) * W + ox * P) * L;
                v16 m = LD(base);
                for (int dy = 0; dy < P; dy++)
                    for (int dx = 0; dx < P; dx++) {
                        v16 v = LD(base + ((size_t)dy * W + dx) * L);
                        m = select_mask((vi16)(v > m) | (vi16)(v != v), v, m);
                    }
                ST(out + (((size_t)c * OH + oy) * OW + ox) * L, m);
            }
}

static void FN(maxpool_backward)(float *din, const float *dout, const float *in,
                                 const float *out, int C, int H, int W, int P) {
    const int OH = H / P, OW = W / P;
    memset(din, 0, (size_t)C * H * W * L * sizeof *din);
    for (int c = 0; c < C; c++)
        for (int oy = 0; oy < OH; oy++)
            for (int ox = 0; ox < OW; ox++) {
                size_t o = (((size_t)c * OH + oy) * OW + ox) * L;
                v16 m = LD(out + o), d = LD(dout + o);
                vi16 taken = (vi16){0};
                for (int dy = 0; dy < P; dy++)
                    for (int dx = 0; dx < P; dx++) {
                        size_t i = (((size_t)c * H + oy * P + dy) * W + ox * P + dx) * L;
                        vi16 first = (vi16)(LD(in + i) == m) & ~taken;
                        ST(din + i, (v16)((vi16)d & first));
                        taken |= first;
                    }
            }
}

static void FN(linear_forward)(float *out, const float *in, const float *w, const float *b,
                               int I, int O) {
    int o0 = 0;
    for (; o0 + 8 <= O; o0 += 8) {
        v16 acc[8];
#pragma GCC unroll 8
        for (int o = 0; o < 8; o++) acc[o] = splat(b[o0 + o]);
        for (int i = 0; i < I; i++) {
            v16 v = LD(in + (size_t)i * L);
#pragma GCC unroll 8
            for (int o = 0; o < 8; o++) acc[o] += splat(w[(size_t)(o0 + o) * I + i]) * v;
        }
        for (int o = 0; o < 8; o++) ST(out + (size_t)(o0 + o) * L, acc[o]);
    }
    for (; o0 < O; o0++) {
        v16 acc = splat(b[o0]);
        for (int i = 0; i < I; i++) acc += splat(w[(size_t)o0 * I + i]) * LD(in + (size_t)i * L);
        ST(out + (size_t)o0 * L, acc);
    }
}

static void FN(linear_backward)(float *din, float *dw, float *db, const float *dout,
                                const float *in, const float *w, float *scratch, int I, int O) {
    for (int o = 0; o < O; o++) db[o] += hsum(LD(dout + (size_t)o * L));
    // dw (O, I) += dout (O, L) @ in^T: transpose in to (L, I) so each FMA
    // fills 16 weights at once instead of reducing 16 lanes per weight.
    float *inT = scratch; // (L, I)
    for (int i = 0; i < I; i++)
        for (int l = 0; l < L; l++) inT[(size_t)l * I + i] = in[(size_t)i * L + l];
    for (int o = 0; o < O; o++) {
        const float *d = dout + (size_t)o * L;
        float *dwr = dw + (size_t)o * I;
        int i0 = 0;
        for (; i0 + L <= I; i0 += L) {
            v16 acc = splat(0.0f);
            for (int l = 0; l < L; l++) acc += splat(d[l]) * *(const v16u *)(inT + (size_t)l * I + i0);
            *(v16u *)(dwr + i0) = *(const v16u *)(dwr + i0) + acc;
        }
        for (; i0 < I; i0++) {
            float acc = 0.0f;
            for (int l = 0; l < L; l++) acc += d[l] * inT[(size_t)l * I + i0];
            dwr[i0] += acc;
        }
    }
    if (!din) return;
    int i0 = 0;
    for (; i0 + 8 <= I; i0 += 8) {
        v16 acc[8];
#pragma GCC unroll 8
        for (int i = 0; i < 8; i++) acc[i] = splat(0.0f);
        for (int o = 0; o < O; o++) {
            v16 d = LD(dout + (size_t)o * L);
#pragma GCC unroll 8
            for (int i = 0; i < 8; i++) acc[i] += splat(w[(size_t)o * I + i0 + i]) * d;
        }
        for (int i = 0; i < 8; i++) ST(din + (size_t)(i0 + i) * L, acc[i]);
    }
    for (; i0 < I; i0++) {
        v16 acc = splat(0.0f);
        for (int o = 0; o < O; o++) acc += splat(w[(size_t)o * I + i0]) * LD(dout + (size_t)o * L);
        ST(din + (size_t)i0 * L, acc);
    }
}

const kernel_table CAT(kernels_, KERNEL_ISA) = {
    CAT_STR(KERNEL_ISA),
    FN(conv_forward), FN(conv_backward),
    FN(relu_forward), FN(relu_backward),
    FN(maxpool_forward), FN(maxpool_backward),
    FN(linear_forward), FN(linear_backward),
};
