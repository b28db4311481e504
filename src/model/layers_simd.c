// layers_simd.c: the vector kernels of layers.h (convolution with padding and
// stride, batch norm, residual addition, global average pooling), written
// once with GCC's vector types and compiled for AVX2 + FMA (VL = 8: a group
// of 16 images is two ymm halves) and for AVX-512 (VL = 16), as
// kernels_simd.c. Letters as layers.h.
//
// Convolution: a pass computes OT = 4 output channels x XT output columns
// (3 on AVX2's 16 registers, 4 on AVX-512's 32), so each input vector loaded
// feeds 4 FMAs and each broadcast weight XT. Padding is handled by ranges,
// not by tests in the inner loop: rows clip the ky range, the columns where
// every tap lands inside the image run the full tile, and the few border
// columns run a one-column tile over their valid kx. The input gradient is a
// forward convolution of dout with the flipped, transposed kernel (stride 1,
// padding K-1-P); with stride S it is gathered per residue class of the
// input pixel mod S, which meets only the taps that reach it. The
// weight gradient keeps 4 channels x 3 taps in registers over a band of
// output rows (about 64 output pixels, so that the band's dout and input
// rows stay in L1 while every input channel and ky sweeps them), adds them
// into per-lane sums in scratch, and reduces the lanes once per weight.
#include "layers.h"

#include <immintrin.h>
#include <string.h>

#include "simd.h"

#if VL == 16
#define XT 4
#else
#define XT 3
#endif
#define OT 4
// VL floats widened to double: two registers of VL / 2 doubles, written as
// a pair (GCC 12 spills a vector twice the register's width to the stack and
// converts it lane by lane; a pair stays in registers). Lane l of the VL is
// v.h[l / (VL / 2)][l % (VL / 2)].
typedef float vfh __attribute__((vector_size(VL * 2)));
typedef double vdh __attribute__((vector_size(VL * 4)));
typedef int64_t vlh __attribute__((vector_size(VL * 4)));
typedef int32_t vih __attribute__((vector_size(VL * 2)));
typedef struct { vdh h[2]; } vd;
typedef struct { vlh h[2]; } vl;
#if VL == 16
#define HALF_LO 0, 1, 2, 3, 4, 5, 6, 7
#define HALF_HI 8, 9, 10, 11, 12, 13, 14, 15
#else
#define HALF_LO 0, 1, 2, 3
#define HALF_HI 4, 5, 6, 7
#endif
// The conversion by its intrinsic: GCC 12's __builtin_convertvector from
// half a register splits it into 2-lane conversions through the stack.
#if VL == 16
#define CVT_PS_PD(x) ((vdh)_mm512_cvtps_pd((__m256)(x)))
#else
#define CVT_PS_PD(x) ((vdh)_mm256_cvtps_pd((__m128)(x)))
#endif
ALWAYS_INLINE vd widen(vf v) {
    return (vd){{CVT_PS_PD(__builtin_shufflevector(v, v, HALF_LO)), CVT_PS_PD(__builtin_shufflevector(v, v, HALF_HI))}};
}
ALWAYS_INLINE vl widen_mask(vi m) {
    return (vl){{__builtin_convertvector(__builtin_shufflevector(m, m, HALF_LO), vlh),
                 __builtin_convertvector(__builtin_shufflevector(m, m, HALF_HI), vlh)}};
}
ALWAYS_INLINE vd vd_zero(void) { return (vd){{(vdh){0}, (vdh){0}}}; }
ALWAYS_INLINE vd vd_splat(double x) { return (vd){{(vdh){0} + x, (vdh){0} + x}}; }
ALWAYS_INLINE vd vd_add(vd a, vd b) { return (vd){{a.h[0] + b.h[0], a.h[1] + b.h[1]}}; }
ALWAYS_INLINE vd vd_sub(vd a, vd b) { return (vd){{a.h[0] - b.h[0], a.h[1] - b.h[1]}}; }
// acc + a * b (one FMA per register under -ffp-contract=fast, as `acc += a * b` was)
ALWAYS_INLINE vd vd_madd(vd acc, vd a, vd b) { return (vd){{acc.h[0] + a.h[0] * b.h[0], acc.h[1] + a.h[1] * b.h[1]}}; }
ALWAYS_INLINE vd vd_keep(vd a, vl m) { return (vd){{(vdh)((vlh)a.h[0] & m.h[0]), (vdh)((vlh)a.h[1] & m.h[1])}}; }
// Lanes [h, h + VL) that hold an image (l < NV): all ones, else zero.
ALWAYS_INLINE vi lane_mask(int h, int NV) {
    vi m;
    for (int l = 0; l < VL; l++) m[l] = h + l < NV ? -1 : 0;
    return m;
}
ALWAYS_INLINE vf keep(vf v, vi m) { return (vf)((vi)v & m); }

static int imin(int a, int b) { return a < b ? a : b; }
static int imax(int a, int b) { return a > b ? a : b; }

// The outputs o in [*lo, *hi) whose input o * S + off lies in [0, n_in).
static void valid_range(int *lo, int *hi, int n_in, int n_out, int S, int off) {
    int a = off >= 0 ? 0 : (-off + S - 1) / S;
    int last = n_in - 1 - off;
    int b = last < 0 ? 0 : imin(n_out, last / S + 1);
    *lo = imin(a, b);
    *hi = b;
}

// ---- convolution ----------------------------------------------------------------

// The weights (OC, C, K, K) repacked as (ceil(OC/OT), C, K, K, OT): the OT
// channels of a tile's taps side by side, zero for channels past OC.
static void pack_weights(float *wp, const float *w, int C, int OC, int K) {
    const int KK = K * K, NB = (OC + OT - 1) / OT;
    for (int blk = 0; blk < NB; blk++)
        for (int c = 0; c < C; c++)
            for (int t = 0; t < KK; t++)
                for (int o = 0; o < OT; o++) {
                    const int oc = blk * OT + o;
                    wp[(((size_t)blk * C + c) * KK + t) * OT + o] = oc < OC ? w[((size_t)oc * C + c) * KK + t] : 0.0f;
                }
}

// The edge tiles of a padding-1 convolution: EDGE_L, columns [0, NX) with
// P = 1, where column x lacks the taps kx < 1 - x S (column 0's kx = 0);
// EDGE_R, the last NX columns when the last one lacks kx = K - 1 alone, so
// column x lacks kx > K - 2 + (NX - 1 - x) S. Known at compile time: the
// missing taps cost neither a load nor an FMA, and the edge columns run the
// full-width tile instead of a column at a time.
enum { EDGE_NONE, EDGE_L, EDGE_R };
ALWAYS_INLINE int edge_has(const int EDGE, int x, int kx, const int K, const int S, const int NX) {
    return EDGE == EDGE_L ? kx >= 1 - x * S : EDGE == EDGE_R ? kx <= K - 2 + (NX - 1 - x) * S : 1;
}

// NO output channels from oc0 (packed weights wp of its block, from channel
// oc0 within it) x NX columns from ox0 of output row oy, lanes [h, h + VL),
// taps ky in [ky0, ky1), kx in [kx0, kx1), all inside the image but those
// EDGE leaves out.
ALWAYS_INLINE void conv_tile(float *out, const float *in, const float *wp, const float *b, int C, int H,
                             int W, int S, int P, int OH, int OW, int oc0, int oy, int ox0, int h, int ky0,
                             int ky1, int kx0, int kx1, const int K, const int NO, const int NX, const int EDGE) {
    vf acc[OT][XT];
#pragma GCC unroll 4
    for (int o = 0; o < NO; o++)
#pragma GCC unroll 4
        for (int x = 0; x < NX; x++) acc[o][x] = splat(b ? b[oc0 + o] : 0.0f);
    const int ix0 = ox0 * S - P;
    const size_t plane = (size_t)H * W * L;
    const float *pc = in + (size_t)(oy * S - P + ky0) * W * L + h; // row iy = oy S - P + ky0 of channel c
    for (int c = 0; c < C; c++, pc += plane, wp += K * K * OT)
#pragma GCC unroll 3
        for (int ky = ky0; ky < ky1; ky++) {
            const float *row = pc + (size_t)(ky - ky0) * W * L;
#pragma GCC unroll 3
            for (int kx = kx0; kx < kx1; kx++) {
                vf v[XT];
#pragma GCC unroll 4
                for (int x = 0; x < NX; x++)
                    v[x] = edge_has(EDGE, x, kx, K, S, NX) ? LD(row + (size_t)(ix0 + x * S + kx) * L) : splat(0.0f);
#pragma GCC unroll 4
                for (int o = 0; o < NO; o++) {
                    vf wv = splat(wp[(ky * K + kx) * OT + o]);
#pragma GCC unroll 4
                    for (int x = 0; x < NX; x++)
                        if (edge_has(EDGE, x, kx, K, S, NX)) acc[o][x] += wv * v[x];
                }
            }
        }
#pragma GCC unroll 4
    for (int o = 0; o < NO; o++)
#pragma GCC unroll 4
        for (int x = 0; x < NX; x++) ST(out + (((size_t)(oc0 + o) * OH + oy) * OW + ox0 + x) * L + h, acc[o][x]);
}

// Columns [ox0, ox1) of row oy, all with every kx inside, for NO channels.
ALWAYS_INLINE void conv_interior(float *out, const float *in, const float *wp, const float *b, int C, int H,
                                 int W, int S, int P, int OH, int OW, int oc0, int oy, int ox0, int ox1,
                                 int ky0, int ky1, const int K, const int NO) {
    int ox = ox0;
    for (; ox + XT <= ox1; ox += XT)
        for (int h = 0; h < L; h += VL)
            conv_tile(out, in, wp, b, C, H, W, S, P, OH, OW, oc0, oy, ox, h, ky0, ky1, 0, K, K, NO, XT, EDGE_NONE);
    for (int h = 0; h < L; h += VL) switch (ox1 - ox) { // the remaining columns, still NO channels at a time
        case 3: conv_tile(out, in, wp, b, C, H, W, S, P, OH, OW, oc0, oy, ox, h, ky0, ky1, 0, K, K, NO, 3, EDGE_NONE); break;
        case 2: conv_tile(out, in, wp, b, C, H, W, S, P, OH, OW, oc0, oy, ox, h, ky0, ky1, 0, K, K, NO, 2, EDGE_NONE); break;
        case 1: conv_tile(out, in, wp, b, C, H, W, S, P, OH, OW, oc0, oy, ox, h, ky0, ky1, 0, K, K, NO, 1, EDGE_NONE); break;
        default: break;
        }
}

// An edge tile (3x3, stride S_), both halves of the lanes, in its own
// function: inlined into the row sweep, its variants made GCC allocate the
// interior tile's registers worse.
#define CONV_EDGE_FN(name, S_, E_)                                                                                 \
    static __attribute__((noinline)) void name(float *out, const float *in, const float *wb, const float *b,      \
                                               int C, int H, int W, int P, int OH, int OW, int oc0, int oy,       \
                                               int ox0, int ky0, int ky1, int four) {                             \
        for (int h = 0; h < L; h += VL) {                                                                         \
            if (ky0 == 0 && ky1 == 3) {                                                                           \
                if (four) conv_tile(out, in, wb, b, C, H, W, S_, P, OH, OW, oc0, oy, ox0, h, 0, 3, 0, 3, 3, OT, XT, E_); \
                else conv_tile(out, in, wb, b, C, H, W, S_, P, OH, OW, oc0, oy, ox0, h, 0, 3, 0, 3, 3, 1, XT, E_);   \
            } else {                                                                                              \
                if (four) conv_tile(out, in, wb, b, C, H, W, S_, P, OH, OW, oc0, oy, ox0, h, ky0, ky1, 0, 3, 3, OT, XT, E_); \
                else conv_tile(out, in, wb, b, C, H, W, S_, P, OH, OW, oc0, oy, ox0, h, ky0, ky1, 0, 3, 3, 1, XT, E_); \
            }                                                                                                     \
        }                                                                                                         \
    }
CONV_EDGE_FN(conv_edge_l1, 1, EDGE_L)
CONV_EDGE_FN(conv_edge_r1, 1, EDGE_R)
CONV_EDGE_FN(conv_edge_l2, 2, EDGE_L)
CONV_EDGE_FN(conv_edge_r2, 2, EDGE_R)
#undef CONV_EDGE_FN

// Output row oy, taps ky in [ky0, ky1); [ia, ib) the columns where every kx is inside.
ALWAYS_INLINE void conv_row(float *out, const float *in, const float *wp, const float *b, int C, int H, int W,
                            int OC, int S, int P, int OH, int OW, int oy, int ia, int ib, int ky0, int ky1,
                            const int K) {
    // 3x3 with padding 1 (column 0 lacks kx = 0 alone; the last column lacks
    // kx = 2 or nothing): the edge columns in full-width edge tiles, unless
    // that leaves a single column after the middle's tiles (the one-column
    // tile is the slow one: 16 columns at stride 1 keep the border columns)
    const int ie = ib == OW ? OW : OW - XT; // with edges: the middle is [XT, ie)
    const int edges = K == 3 && (S == 1 || S == 2) && P == 1 && ia == 1 && (ib == OW || ib == OW - 1) &&
                      OW >= 2 * XT && (ie - XT) % XT != 1;
    for (int oc0 = 0; oc0 < OC;) {
        const int four = oc0 + OT <= OC;
        const float *wb = wp + (size_t)(oc0 / OT) * C * K * K * OT + oc0 % OT;
        if (edges) {
            (S == 1 ? conv_edge_l1 : conv_edge_l2)(out, in, wb, b, C, H, W, P, OH, OW, oc0, oy, 0, ky0, ky1, four);
            if (four) conv_interior(out, in, wb, b, C, H, W, S, P, OH, OW, oc0, oy, XT, ie, ky0, ky1, K, OT);
            else conv_interior(out, in, wb, b, C, H, W, S, P, OH, OW, oc0, oy, XT, ie, ky0, ky1, K, 1);
            if (ie < OW)
                (S == 1 ? conv_edge_r1 : conv_edge_r2)(out, in, wb, b, C, H, W, P, OH, OW, oc0, oy, ie, ky0, ky1, four);
            oc0 += four ? OT : 1;
            continue;
        }
        for (int ox = 0; ox < OW; ox++) {
            if (ox == ia && ia < ib) { // the interior in one sweep
                if (four) conv_interior(out, in, wb, b, C, H, W, S, P, OH, OW, oc0, oy, ia, ib, ky0, ky1, K, OT);
                else conv_interior(out, in, wb, b, C, H, W, S, P, OH, OW, oc0, oy, ia, ib, ky0, ky1, K, 1);
                ox = ib - 1;
                continue;
            }
            const int kx0 = imax(0, P - ox * S), kx1 = imin(K, W + P - ox * S);
            for (int h = 0; h < L; h += VL) {
                if (four) conv_tile(out, in, wb, b, C, H, W, S, P, OH, OW, oc0, oy, ox, h, ky0, ky1, kx0, kx1, K, OT, 1, EDGE_NONE);
                else conv_tile(out, in, wb, b, C, H, W, S, P, OH, OW, oc0, oy, ox, h, ky0, ky1, kx0, kx1, K, 1, 1, EDGE_NONE);
            }
        }
        oc0 += four ? OT : 1;
    }
}

ALWAYS_INLINE void conv_forward_k(float *out, const float *in, const float *wp, const float *b, int C, int H,
                                  int W, int OC, int S, int P, const int K) {
    const int OH = conv_out_size(H, K, S, P), OW = conv_out_size(W, K, S, P);
    int ia, ib; // the columns where every kx is inside
    valid_range(&ia, &ib, W - K + 1, OW, S, -P);
    for (int oy = 0; oy < OH; oy++) {
        const int ky0 = imax(0, P - oy * S), ky1 = imin(K, H + P - oy * S);
        if (ky0 == 0 && ky1 == K) // an interior row: every tap unrolled
            conv_row(out, in, wp, b, C, H, W, OC, S, P, OH, OW, oy, ia, ib, 0, K, K);
        else
            conv_row(out, in, wp, b, C, H, W, OC, S, P, OH, OW, oy, ia, ib, ky0, ky1, K);
    }
}

// wp: scratch for the packed weights, ceil(OC / OT) * OT * C * K * K floats.
// The ResNet shapes get their kernel size and stride as constants, so that
// every tap's address is a constant offset.
static void conv_forward_any(float *out, const float *in, const float *w, const float *b, float *wp, int C,
                             int H, int W, int OC, int K, int S, int P) {
    pack_weights(wp, w, C, OC, K);
    if (K == 3 && S == 1) conv_forward_k(out, in, wp, b, C, H, W, OC, 1, P, 3);
    else if (K == 3 && S == 2) conv_forward_k(out, in, wp, b, C, H, W, OC, 2, P, 3);
    else if (K == 1 && S == 2) conv_forward_k(out, in, wp, b, C, H, W, OC, 2, P, 1);
    else conv_forward_k(out, in, wp, b, C, H, W, OC, S, P, K);
}

static void FN(conv2_forward)(float *out, const float *in, const float *w, const float *b, float *scratch,
                              int C, int H, int W, int OC, int K, int S, int P) {
    conv_forward_any(out, in, w, b, scratch, C, H, W, OC, K, S, P);
}

// part (NO, C, K, K) vectors, the oc0 block's (channel o at part + o C K K):
// += the products of output rows [ya, yb) (per lane; the lanes are reduced
// once, after the last band).
ALWAYS_INLINE void dw_tile(vf *part, const float *dout, const float *in, int C, int H, int W, int K, int S,
                           int P, int OH, int OW, int oc0, int c, int ky, int kx0, int ya, int yb, const int NO,
                           const int NK) {
    const size_t dstride = (size_t)OH * OW * L;
    vf acc[OT][3];
#pragma GCC unroll 4
    for (int o = 0; o < NO; o++)
#pragma GCC unroll 3
        for (int k = 0; k < NK; k++) acc[o][k] = splat(0.0f);
    int oy0, oy1, ia, ib;
    valid_range(&oy0, &oy1, H, OH, S, ky - P);
    oy0 = imax(oy0, ya), oy1 = imin(oy1, yb);
    if (oy0 >= oy1) return;
    valid_range(&ia, &ib, W - NK + 1, OW, S, kx0 - P); // every kx of the block inside
    int lo[3], hi[3];
    int bl = OW, br = 0; // the columns some tap reaches
    for (int k = 0; k < NK; k++) {
        valid_range(&lo[k], &hi[k], W, OW, S, kx0 + k - P);
        if (lo[k] < hi[k]) bl = imin(bl, lo[k]), br = imax(br, hi[k]);
    }
    for (int oy = oy0; oy < oy1; oy++)
        for (int h = 0; h < L; h += VL) {
            const float *row = in + (((size_t)c * H + oy * S - P + ky) * W) * L + h; // ix = ox S + kx0 + k - P
            const float *d0 = dout + (((size_t)oc0 * OH + oy) * OW) * L + h;
            for (int ox = ia; ox < ib; ox++) {
                vf v[3];
#pragma GCC unroll 3
                for (int k = 0; k < NK; k++) v[k] = LD(row + (size_t)(ox * S + kx0 + k - P) * L);
#pragma GCC unroll 4
                for (int o = 0; o < NO; o++) {
                    vf d = LD(d0 + o * dstride + (size_t)ox * L);
#pragma GCC unroll 3
                    for (int k = 0; k < NK; k++) acc[o][k] += d * v[k];
                }
            }
            // the border columns, where some taps fall outside (k unrolled:
            // the accumulators stay in registers)
            for (int ox = bl; ox < br; ox++) {
                if (ox == ia && ia < ib) ox = ib;
                if (ox >= br) break;
#pragma GCC unroll 3
                for (int k = 0; k < NK; k++) {
                    if (ox < lo[k] || ox >= hi[k]) continue;
                    vf v = LD(row + (size_t)(ox * S + kx0 + k - P) * L);
#pragma GCC unroll 4
                    for (int o = 0; o < NO; o++) acc[o][k] += LD(d0 + o * dstride + (size_t)ox * L) * v;
                }
            }
        }
#pragma GCC unroll 4
    for (int o = 0; o < NO; o++)
#pragma GCC unroll 3
        for (int k = 0; k < NK; k++) part[(((size_t)o * C + c) * K + ky) * K + kx0 + k] += acc[o][k];
}

// Output rows per band of the weight gradient: about DW_BAND_PIXELS / S
// output pixels, so that a band's dout rows of a 4-channel block and the
// input rows they meet (S times as many) stay in L1 while every (c, ky) of
// the block sweeps them.
#define DW_BAND_PIXELS 64

// part: scratch of OT * C * K * K vectors (the block's per-lane sums).
ALWAYS_INLINE void conv_dw_k(float *dw, vf *part, const float *dout, const float *in, int C, int H, int W,
                             int OC, int P, const int K, const int S) {
    const int OH = conv_out_size(H, K, S, P), OW = conv_out_size(W, K, S, P);
    const int R = imax(1, DW_BAND_PIXELS / S / imax(1, OW));
    const size_t KK = (size_t)K * K;
    for (int oc0 = 0; oc0 < OC;) {
        const int four = oc0 + OT <= OC, NO = four ? OT : 1;
        for (size_t i = 0; i < (size_t)NO * C * KK; i++) part[i] = splat(0.0f);
        for (int ya = 0; ya < OH; ya += R) {
            const int yb = imin(OH, ya + R);
            for (int c = 0; c < C; c++)
                for (int ky = 0; ky < K; ky++) {
                    int kx = 0;
                    for (; kx + 3 <= K; kx += 3) {
                        if (four) dw_tile(part, dout, in, C, H, W, K, S, P, OH, OW, oc0, c, ky, kx, ya, yb, OT, 3);
                        else dw_tile(part, dout, in, C, H, W, K, S, P, OH, OW, oc0, c, ky, kx, ya, yb, 1, 3);
                    }
                    for (; kx < K; kx++) {
                        if (four) dw_tile(part, dout, in, C, H, W, K, S, P, OH, OW, oc0, c, ky, kx, ya, yb, OT, 1);
                        else dw_tile(part, dout, in, C, H, W, K, S, P, OH, OW, oc0, c, ky, kx, ya, yb, 1, 1);
                    }
                }
        }
        for (int o = 0; o < NO; o++)
            for (size_t i = 0; i < (size_t)C * KK; i++) dw[((size_t)oc0 + o) * C * KK + i] += hsum(part[o * C * KK + i]);
        oc0 += NO;
    }
}

// The input gradient of a strided convolution, gathered: din[c, iy, ix] =
// sum over oc and the taps with iy + P - ky and ix + P - kx multiples of S
// of w[oc, c, ky, kx] dout[oc, (iy + P - ky) / S, (ix + P - kx) / S]. The
// columns of one residue class (ix + P) mod S use the same kx, so a tile is
// NO input channels x NX columns S apart; wp: w transposed to (C, OC, K, K)
// and packed (pack_weights). Taps ky in [ky0, ky1), kx in [kx0, kx1), step S.
ALWAYS_INLINE void din_tile(float *din, const float *dout, const float *wp, int OC, int OH, int OW, int H, int W,
                            int P, int c0, int iy, int ix0, int h, int ky0, int ky1, int kx0, int kx1, const int K,
                            const int S, const int NO, const int NX) {
    vf acc[OT][XT];
#pragma GCC unroll 4
    for (int o = 0; o < NO; o++)
#pragma GCC unroll 4
        for (int x = 0; x < NX; x++) acc[o][x] = splat(0.0f);
    const float *dp = dout + h;
    for (int oc = 0; oc < OC; oc++, wp += K * K * OT, dp += (size_t)OH * OW * L)
        for (int ky = ky0; ky < ky1; ky += S) {
            const float *row = dp + (size_t)((iy + P - ky) / S) * OW * L;
            for (int kx = kx0; kx < kx1; kx += S) {
                const float *d = row + (size_t)((ix0 + P - kx) / S) * L;
                vf v[XT];
#pragma GCC unroll 4
                for (int x = 0; x < NX; x++) v[x] = LD(d + (size_t)x * L);
#pragma GCC unroll 4
                for (int o = 0; o < NO; o++) {
                    vf wv = splat(wp[(ky * K + kx) * OT + o]);
#pragma GCC unroll 4
                    for (int x = 0; x < NX; x++) acc[o][x] += wv * v[x];
                }
            }
        }
#pragma GCC unroll 4
    for (int o = 0; o < NO; o++)
#pragma GCC unroll 4
        for (int x = 0; x < NX; x++) ST(din + (((size_t)(c0 + o) * H + iy) * W + ix0 + x * S) * L + h, acc[o][x]);
}

// The smallest tap >= lo congruent to r mod S (lo may be negative).
static int tap_from(int lo, int r, int S) {
    int k = r;
    if (k < lo) k += (lo - k + S - 1) / S * S;
    return k;
}

ALWAYS_INLINE void din_class(float *din, const float *dout, const float *wb, int OC, int OH, int OW, int H, int W,
                             int P, int c0, int iy, int ky0, int ky1, int rx, const int K, const int S, const int NO) {
    const int ixs = ((rx - P) % S + S) % S; // the first column of the class
    if (rx >= K || ky0 >= ky1) {            // no tap reaches these pixels
        for (int ix = ixs; ix < W; ix += S)
            for (int o = 0; o < NO; o++) memset(din + (((size_t)(c0 + o) * H + iy) * W + ix) * L, 0, L * sizeof *din);
        return;
    }
    const int kxmax = rx + (K - 1 - rx) / S * S;
    // columns ixs + S t with every kx of the class inside: t in [ta, tb)
    const int ta = imax(0, (kxmax - P - ixs + S - 1) / S);
    const int last = S * (OW - 1) + rx - P - ixs;
    const int tb = last < 0 ? 0 : imin((W - 1 - ixs) / S + 1, last / S + 1);
    const int nt = ixs < W ? (W - 1 - ixs) / S + 1 : 0;
    for (int t = 0; t < nt; t++) {
        const int ix = ixs + S * t;
        if (t == ta && ta < tb) {
            int u = ta;
            for (; u + XT <= tb; u += XT)
                for (int h = 0; h < L; h += VL)
                    din_tile(din, dout, wb, OC, OH, OW, H, W, P, c0, iy, ixs + S * u, h, ky0, ky1, rx, K, K, S, NO, XT);
            for (int h = 0; h < L; h += VL) switch (tb - u) {
                case 3: din_tile(din, dout, wb, OC, OH, OW, H, W, P, c0, iy, ixs + S * u, h, ky0, ky1, rx, K, K, S, NO, 3); break;
                case 2: din_tile(din, dout, wb, OC, OH, OW, H, W, P, c0, iy, ixs + S * u, h, ky0, ky1, rx, K, K, S, NO, 2); break;
                case 1: din_tile(din, dout, wb, OC, OH, OW, H, W, P, c0, iy, ixs + S * u, h, ky0, ky1, rx, K, K, S, NO, 1); break;
                default: break;
                }
            t = tb - 1;
            continue;
        }
        // a border column: the taps whose ox = (ix + P - kx) / S is in [0, OW)
        const int kx0 = tap_from(ix + P - S * (OW - 1), rx, S), kx1 = imin(K, ix + P + 1);
        for (int h = 0; h < L; h += VL)
            din_tile(din, dout, wb, OC, OH, OW, H, W, P, c0, iy, ix, h, ky0, ky1, kx0, imax(kx0, kx1), K, S, NO, 1);
    }
}

ALWAYS_INLINE void din_strided_k(float *din, const float *dout, const float *wp, int C, int H, int W, int OC,
                                 int OH, int OW, int P, const int K, const int S) {
    for (int iy = 0; iy < H; iy++) {
        // the taps whose oy = (iy + P - ky) / S is in [0, OH)
        const int ky0 = tap_from(iy + P - S * (OH - 1), (iy + P) % S, S), ky1 = imin(K, iy + P + 1);
        for (int c0 = 0; c0 < C;) {
            const int four = c0 + OT <= C;
            const float *wb = wp + (size_t)(c0 / OT) * OC * K * K * OT + c0 % OT;
            for (int rx = 0; rx < S; rx++) {
                if (four) din_class(din, dout, wb, OC, OH, OW, H, W, P, c0, iy, ky0, ky1, rx, K, S, OT);
                else din_class(din, dout, wb, OC, OH, OW, H, W, P, c0, iy, ky0, ky1, rx, K, S, 1);
            }
            c0 += four ? OT : 1;
        }
    }
}

static void conv_dw(float *dw, vf *part, const float *dout, const float *in, int C, int H, int W, int OC, int K,
                    int S, int P) {
    if (K == 3 && S == 1) conv_dw_k(dw, part, dout, in, C, H, W, OC, P, 3, 1);
    else if (K == 3 && S == 2) conv_dw_k(dw, part, dout, in, C, H, W, OC, P, 3, 2);
    else if (K == 1 && S == 2) conv_dw_k(dw, part, dout, in, C, H, W, OC, P, 1, 2);
    else conv_dw_k(dw, part, dout, in, C, H, W, OC, P, K, S);
}

static void FN(conv2_backward)(float *din, float *dw, float *db, const float *dout, const float *in,
                               const float *w, float *scratch, int C, int H, int W, int OC, int K, int S, int P) {
    if (P > K - 1) { // padding wider than the kernel: no use in practice, the reference does it
        conv2_backward_ref(din, dw, db, dout, in, w, C, H, W, OC, K, S, P);
        return;
    }
    const int OH = conv_out_size(H, K, S, P), OW = conv_out_size(W, K, S, P);
    if (db)
        for (int oc = 0; oc < OC; oc++) {
            vf acc = splat(0.0f);
            const float *d = dout + (size_t)oc * OH * OW * L;
            for (size_t p = 0; p < (size_t)OH * OW * L; p += VL) acc += LD(d + p);
            db[oc] += hsum(acc);
        }
    conv_dw(dw, (vf *)scratch, dout, in, C, H, W, OC, K, S, P); // scratch: the per-lane sums, then reused below
    if (!din) return;
    // din[c, iy, ix] = sum over oc, ky, kx of w[oc, c, ky, kx] dout[oc, oy, ox]
    // where iy = oy * S - P + ky: the correlation of dout with wt (C, OC, K, K),
    // the kernel flipped and transposed.
    float *wt = scratch;                                              // (C, OC, K, K)
    float *wp = wt + ((size_t)C * OC * K * K + L - 1) / L * L;        // packed wt
    if (S == 1) { // the output size works out: OH + 2 (K-1-P) - K + 1 = H
        for (int c = 0; c < C; c++)
            for (int oc = 0; oc < OC; oc++)
                for (int ky = 0; ky < K; ky++)
                    for (int kx = 0; kx < K; kx++)
                        wt[(((size_t)c * OC + oc) * K + ky) * K + kx] =
                            w[(((size_t)oc * C + c) * K + (K - 1 - ky)) * K + (K - 1 - kx)];
        conv_forward_any(din, dout, wt, NULL, wp, OC, OH, OW, C, K, 1, K - 1 - P);
        return;
    }
    // Stride S: gathered by residue class, with w transposed (not flipped).
    for (int c = 0; c < C; c++)
        for (int oc = 0; oc < OC; oc++)
            for (int t = 0; t < K * K; t++) wt[((size_t)c * OC + oc) * K * K + t] = w[((size_t)oc * C + c) * K * K + t];
    pack_weights(wp, wt, OC, C, K);
    if (K == 3 && S == 2) din_strided_k(din, dout, wp, C, H, W, OC, OH, OW, P, 3, 2);
    else if (K == 1 && S == 2) din_strided_k(din, dout, wp, C, H, W, OC, OH, OW, P, 1, 2);
    else din_strided_k(din, dout, wp, C, H, W, OC, OH, OW, P, K, S);
}

// ---- batch norm ---------------------------------------------------------------------

// Partial sums in double, per lane, added over the lanes in a fixed order.
ALWAYS_INLINE double dsum(const vd *v) {
    double s = 0.0;
    for (int l = 0; l < VL; l++) s += v->h[l / (VL / 2)][l % (VL / 2)];
    return s;
}

// Per channel: the sum (per lane, in double), the mean, then the centred sum
// of squares, the channel read twice while it is in cache. Empty lanes count
// as nothing (their contents, whatever they are, are masked out). Even and
// odd rows go to separate accumulators: twice the independent chains.
static void FN(bn_moments)(double *mean, double *m2, const float *x, int C, int HW, int NV) {
    enum { NH = L / VL };
    const double n = (double)HW * NV;
    vi m[NH];
    vl ml[NH];
    for (int h = 0; h < NH; h++) m[h] = lane_mask(h * VL, NV), ml[h] = widen_mask(m[h]);
    for (int c = 0; c < C; c++) {
        const float *p = x + (size_t)c * HW * L;
        vd acc[2][NH];
        for (int h = 0; h < NH; h++) acc[0][h] = acc[1][h] = vd_zero();
        int i = 0;
        for (; i + 2 <= HW; i += 2)
#pragma GCC unroll 2
            for (int r = 0; r < 2; r++)
#pragma GCC unroll 2
                for (int h = 0; h < NH; h++) acc[r][h] = vd_add(acc[r][h], widen(keep(LD(p + (size_t)(i + r) * L + h * VL), m[h])));
        if (i < HW)
            for (int h = 0; h < NH; h++) acc[0][h] = vd_add(acc[0][h], widen(keep(LD(p + (size_t)i * L + h * VL), m[h])));
        double s = 0.0;
        for (int h = 0; h < NH; h++) {
            vd t = vd_add(acc[0][h], acc[1][h]);
            s += dsum(&t);
        }
        const double mu = n > 0 ? s / n : 0.0;
        const vd mv = vd_splat(mu);
        for (int h = 0; h < NH; h++) acc[0][h] = acc[1][h] = vd_zero();
        for (i = 0; i + 2 <= HW; i += 2)
#pragma GCC unroll 2
            for (int r = 0; r < 2; r++)
#pragma GCC unroll 2
                for (int h = 0; h < NH; h++) {
                    vd d = vd_keep(vd_sub(widen(LD(p + (size_t)(i + r) * L + h * VL)), mv), ml[h]);
                    acc[r][h] = vd_madd(acc[r][h], d, d);
                }
        if (i < HW)
            for (int h = 0; h < NH; h++) {
                vd d = vd_keep(vd_sub(widen(LD(p + (size_t)i * L + h * VL)), mv), ml[h]);
                acc[0][h] = vd_madd(acc[0][h], d, d);
            }
        double ss = 0.0;
        for (int h = 0; h < NH; h++) {
            vd t = vd_add(acc[0][h], acc[1][h]);
            ss += dsum(&t);
        }
        mean[c] = mu;
        m2[c] = ss;
    }
}

// The bn's output (x - mean) * invstd * gamma + beta, in the reference's
// order of operations: bn_normalise and the masks of the fused ReLU
// backward share it, so a mask is > 0 exactly where the forward's output was.
ALWAYS_INLINE vf bn_value(vf x, vf mu, vf is, vf g, vf bt) {
    vf t = (x - mu) * is;
    vf v = t * g;
    return v + bt;
}

ALWAYS_INLINE void bn_normalise_impl(float *out, const float *x, const float *mean, const float *invstd,
                                     const float *gamma, const float *beta, int C, int HW, const int RELU) {
    for (int c = 0; c < C; c++) {
        // (x - mean) * invstd * gamma + beta, in the reference's order of operations
        const vf mu = splat(mean[c]), is = splat(invstd[c]), g = splat(gamma[c]), bt = splat(beta[c]);
        const size_t lo = (size_t)c * HW * L, hi = lo + (size_t)HW * L;
        for (size_t i = lo; i < hi; i += VL) {
            vf v = bn_value(LD(x + i), mu, is, g, bt);
            ST(out + i, RELU ? relu(v) : v);
        }
    }
}

static void FN(bn_normalise)(float *out, const float *x, const float *mean, const float *invstd,
                             const float *gamma, const float *beta, int C, int HW) {
    bn_normalise_impl(out, x, mean, invstd, gamma, beta, C, HW, 0);
}

static void FN(bn_normalise_relu)(float *out, const float *x, const float *mean, const float *invstd,
                                  const float *gamma, const float *beta, int C, int HW) {
    bn_normalise_impl(out, x, mean, invstd, gamma, beta, C, HW, 1);
}

// RELU: the bn's output feeds an in-place ReLU whose backward is folded in:
// dy = dout where bn_value > 0, else 0 (relu_backward's mask, same bits).
ALWAYS_INLINE void bn_grad_sums_impl(double *sdy, double *sdyx, const float *dout, const float *x,
                                     const float *mean, const float *invstd, const float *gamma,
                                     const float *beta, int C, int HW, int NV, const int RELU) {
    enum { NH = L / VL };
    vi m[NH];
    for (int h = 0; h < NH; h++) m[h] = lane_mask(h * VL, NV);
    for (int c = 0; c < C; c++) {
        vd a[2][NH], b[2][NH]; // even and odd rows: twice the independent chains
        for (int h = 0; h < NH; h++) a[0][h] = b[0][h] = a[1][h] = b[1][h] = vd_zero();
        const vf mu = splat(mean[c]), is = splat(invstd[c]);
        const vf g = splat(RELU ? gamma[c] : 0.0f), bt = splat(RELU ? beta[c] : 0.0f);
        const size_t base = (size_t)c * HW * L;
        for (int i = 0; i < HW; i += 2)
#pragma GCC unroll 2
            for (int r = 0; r < 2; r++)
#pragma GCC unroll 2
                for (int h = 0; h < NH; h++) {
                    if (r && i + 1 == HW) break;
                    const size_t k = base + (size_t)(i + r) * L + h * VL;
                    const vf xv = LD(x + k);
                    vi keep_m = m[h];
                    if (RELU) keep_m &= (vi)(bn_value(xv, mu, is, g, bt) > 0.0f);
                    vf dy = keep(LD(dout + k), keep_m);
                    vf xhat = (xv - mu) * is;
                    const vd dyw = widen(dy);
                    a[r][h] = vd_add(a[r][h], dyw);
                    b[r][h] = vd_madd(b[r][h], dyw, widen(xhat));
                }
        double sa = 0.0, sb = 0.0;
        for (int h = 0; h < NH; h++) {
            vd ta = vd_add(a[0][h], a[1][h]), tb = vd_add(b[0][h], b[1][h]);
            sa += dsum(&ta), sb += dsum(&tb);
        }
        sdy[c] = sa;
        sdyx[c] = sb;
    }
}

static void FN(bn_grad_sums)(double *sdy, double *sdyx, const float *dout, const float *x, const float *mean,
                             const float *invstd, int C, int HW, int NV) {
    bn_grad_sums_impl(sdy, sdyx, dout, x, mean, invstd, NULL, NULL, C, HW, NV, 0);
}

static void FN(bn_grad_sums_relu)(double *sdy, double *sdyx, const float *dout, const float *x,
                                  const float *mean, const float *invstd, const float *gamma, const float *beta,
                                  int C, int HW, int NV) {
    bn_grad_sums_impl(sdy, sdyx, dout, x, mean, invstd, gamma, beta, C, HW, NV, 1);
}

ALWAYS_INLINE void bn_backward_train_impl(float *din, const float *dout, const float *x, const float *mean,
                                          const float *invstd, const float *gamma, const float *beta,
                                          const float *mdy, const float *mdyx, int C, int HW, int NV,
                                          const int RELU) {
    vi m[L / VL];
    for (int h = 0; h < L; h += VL) m[h / VL] = lane_mask(h, NV);
    for (int c = 0; c < C; c++) {
        const vf g = splat(gamma[c] * invstd[c]), mu = splat(mean[c]), is = splat(invstd[c]);
        const vf m1 = splat(mdy[c]), m2 = splat(mdyx[c]);
        const vf gm = splat(gamma[c]), bt = splat(RELU ? beta[c] : 0.0f);
        const size_t base = (size_t)c * HW * L;
        for (int i = 0; i < HW; i++)
#pragma GCC unroll 2
            for (int h = 0; h < L; h += VL) {
                const size_t k = base + (size_t)i * L + h;
                const vf xv = LD(x + k);
                vf dy = LD(dout + k);
                if (RELU) dy = keep(dy, (vi)(bn_value(xv, mu, is, gm, bt) > 0.0f));
                vf xhat = (xv - mu) * is;
                ST(din + k, keep(g * (dy - m1 - xhat * m2), m[h / VL]));
            }
    }
}

static void FN(bn_backward_train)(float *din, const float *dout, const float *x, const float *mean,
                                  const float *invstd, const float *gamma, const float *mdy, const float *mdyx,
                                  int C, int HW, int NV) {
    bn_backward_train_impl(din, dout, x, mean, invstd, gamma, NULL, mdy, mdyx, C, HW, NV, 0);
}

static void FN(bn_backward_train_relu)(float *din, const float *dout, const float *x, const float *mean,
                                       const float *invstd, const float *gamma, const float *beta,
                                       const float *mdy, const float *mdyx, int C, int HW, int NV) {
    bn_backward_train_impl(din, dout, x, mean, invstd, gamma, beta, mdy, mdyx, C, HW, NV, 1);
}

static void FN(bn_backward_eval)(float *din, float *dgamma, float *dbeta, const float *dout, const float *x,
                                 const float *mean, const float *invstd, const float *gamma, int C, int HW,
                                 int NV) {
    for (int c = 0; c < C; c++) {
        const vf g = splat(gamma[c] * invstd[c]), mu = splat(mean[c]), is = splat(invstd[c]);
        vd a = vd_zero(), b = vd_zero();
        for (int h = 0; h < L; h += VL) {
            const vi m = lane_mask(h, NV);
            const size_t base = (size_t)c * HW * L + h;
            for (int i = 0; i < HW; i++) {
                const size_t k = base + (size_t)i * L;
                vf dy = keep(LD(dout + k), m);
                if (din) ST(din + k, dy * g);
                a = vd_add(a, widen(dy));
                b = vd_add(b, widen(dy * ((LD(x + k) - mu) * is)));
            }
        }
        dbeta[c] += (float)dsum(&a);
        dgamma[c] += (float)dsum(&b);
    }
}

// ---- residual addition, global average pooling --------------------------------------------

ALWAYS_INLINE void add_forward_impl(float *out, const float *a, const float *s, int C, int H, int W, int SC,
                                    int SH, int SW, const int RELU) {
    const int pad = (C - SC) / 2, st = SH == H ? 1 : 2;
    for (int c = 0; c < C; c++) {
        const int sc = c - pad;
        const size_t plane = (size_t)H * W * L, o = (size_t)c * plane;
        if (sc < 0 || sc >= SC) { // a zero-padded channel
            if (RELU) {
                for (size_t i = 0; i < plane; i += VL) ST(out + o + i, relu(LD(a + o + i)));
            } else if (out != a) {
                memcpy(out + o, a + o, plane * sizeof *out);
            }
            continue;
        }
        if (st == 1 && SH == H && SW == W) {
            const float *sp = s + (size_t)sc * plane;
            for (size_t i = 0; i < plane; i += VL) {
                vf v = LD(a + o + i) + LD(sp + i);
                ST(out + o + i, RELU ? relu(v) : v);
            }
            continue;
        }
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++) {
                const size_t k = o + ((size_t)y * W + x) * L;
                const float *sp = s + (((size_t)sc * SH + y * st) * SW + x * st) * L;
                for (int h = 0; h < L; h += VL) {
                    vf v = LD(a + k + h) + LD(sp + h);
                    ST(out + k + h, RELU ? relu(v) : v);
                }
            }
    }
}

static void FN(add_forward)(float *out, const float *a, const float *s, int C, int H, int W, int SC, int SH,
                            int SW) {
    add_forward_impl(out, a, s, C, H, W, SC, SH, SW, 0);
}

static void FN(add_relu_forward)(float *out, const float *a, const float *s, int C, int H, int W, int SC, int SH,
                                 int SW) {
    add_forward_impl(out, a, s, C, H, W, SC, SH, SW, 1);
}

static void FN(bn_normalise_add_relu)(float *out, const float *x, const float *mean, const float *invstd,
                                      const float *gamma, const float *beta, const float *s, int C, int H, int W,
                                      int SC, int SH, int SW) {
    const int pad = (C - SC) / 2, st = SH == H ? 1 : 2;
    const size_t plane = (size_t)H * W * L;
    for (int c = 0; c < C; c++) {
        const vf mu = splat(mean[c]), is = splat(invstd[c]), g = splat(gamma[c]), bt = splat(beta[c]);
        const int sc = c - pad;
        const size_t o = (size_t)c * plane;
        if (sc < 0 || sc >= SC) { // a zero-padded channel
            for (size_t i = 0; i < plane; i += VL) ST(out + o + i, relu(bn_value(LD(x + o + i), mu, is, g, bt)));
            continue;
        }
        if (st == 1 && SH == H && SW == W) {
            const float *sp = s + (size_t)sc * plane;
            for (size_t i = 0; i < plane; i += VL)
                ST(out + o + i, relu(bn_value(LD(x + o + i), mu, is, g, bt) + LD(sp + i)));
            continue;
        }
        for (int y = 0; y < H; y++)
            for (int xx = 0; xx < W; xx++) {
                const size_t k = o + ((size_t)y * W + xx) * L;
                const float *sp = s + (((size_t)sc * SH + y * st) * SW + xx * st) * L;
                for (int h = 0; h < L; h += VL) ST(out + k + h, relu(bn_value(LD(x + k + h), mu, is, g, bt) + LD(sp + h)));
            }
    }
}

static void FN(add_backward_skip)(float *ds, const float *dout, int C, int H, int W, int SC, int SH, int SW) {
    const int pad = (C - SC) / 2, st = SH == H ? 1 : 2;
    for (int sc = 0; sc < SC; sc++)
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++) {
                float *dp = ds + (((size_t)sc * SH + y * st) * SW + x * st) * L;
                const float *gp = dout + ((((size_t)sc + pad) * H + y) * W + x) * L;
                for (int h = 0; h < L; h += VL) ST(dp + h, LD(dp + h) + LD(gp + h));
            }
}

// Channel by channel: din's plane masked, then (a shortcut channel) added
// into ds while it is in cache; the identity shortcut in the same sweep.
static void FN(relu_add_backward)(float *din, float *ds, const float *dout, const float *y, int C, int H, int W,
                                  int SC, int SH, int SW) {
    const int pad = (C - SC) / 2, st = SH == H ? 1 : 2;
    const size_t plane = (size_t)H * W * L;
    for (int c = 0; c < C; c++) {
        const int sc = c - pad;
        const size_t o = (size_t)c * plane;
        const int skip = ds && sc >= 0 && sc < SC;
        if (skip && st == 1 && SH == H && SW == W) {
            float *dp = ds + (size_t)sc * plane;
            for (size_t i = 0; i < plane; i += VL) {
                vf d = (vf)((vi)LD(dout + o + i) & (vi)(LD(y + o + i) > 0.0f));
                ST(din + o + i, d);
                ST(dp + i, LD(dp + i) + d);
            }
            continue;
        }
        for (size_t i = 0; i < plane; i += VL) ST(din + o + i, (vf)((vi)LD(dout + o + i) & (vi)(LD(y + o + i) > 0.0f)));
        if (!skip) continue;
        for (int yy = 0; yy < H; yy++)
            for (int x = 0; x < W; x++) {
                float *dp = ds + (((size_t)sc * SH + yy * st) * SW + x * st) * L;
                const float *gp = din + o + ((size_t)yy * W + x) * L;
                for (int h = 0; h < L; h += VL) ST(dp + h, LD(dp + h) + LD(gp + h));
            }
    }
}

static void FN(gap_forward)(float *out, const float *in, int C, int HW) {
    for (int c = 0; c < C; c++)
        for (int h = 0; h < L; h += VL) {
            vf s = splat(0.0f);
            const float *p = in + (size_t)c * HW * L + h;
            for (int i = 0; i < HW; i++) s += LD(p + (size_t)i * L);
            ST(out + (size_t)c * L + h, s / splat((float)HW));
        }
}

static void FN(gap_backward)(float *din, const float *dout, int C, int HW) {
    for (int c = 0; c < C; c++)
        for (int h = 0; h < L; h += VL) {
            const vf d = LD(dout + (size_t)c * L + h) / splat((float)HW);
            float *p = din + (size_t)c * HW * L + h;
            for (int i = 0; i < HW; i++) ST(p + (size_t)i * L, d);
        }
}

const layer_table CAT(layers_, KERNEL_ISA) = {
    FN(conv2_forward), FN(conv2_backward),
    FN(bn_moments), FN(bn_normalise), FN(bn_normalise_relu),
    FN(bn_grad_sums), FN(bn_backward_train), FN(bn_backward_eval),
    FN(bn_grad_sums_relu), FN(bn_backward_train_relu),
    FN(add_forward), FN(add_backward_skip), FN(add_relu_forward), FN(relu_add_backward),
    FN(bn_normalise_add_relu),
    FN(gap_forward), FN(gap_backward),
};
