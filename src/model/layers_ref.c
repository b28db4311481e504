// layers_ref.c: the scalar reference kernels of layers.h, plain loops written
// to be read against PyTorch's definitions. Letters as layers.h.
#include "layers.h"
#include "../util/rng.h"

#include <math.h>
#include <string.h>

#define L LANES

int conv_out_size(int H, int K, int S, int P) {
    int span = H + 2 * P - K;
    return span < 0 ? 0 : span / S + 1;
}

void conv2_forward_ref(float *out, const float *in, const float *w, const float *b,
                       int C, int H, int W, int OC, int K, int S, int P) {
    const int OH = conv_out_size(H, K, S, P), OW = conv_out_size(W, K, S, P);
    for (int oc = 0; oc < OC; oc++)
        for (int oy = 0; oy < OH; oy++)
            for (int ox = 0; ox < OW; ox++) {
                float acc[L];
                for (int l = 0; l < L; l++) acc[l] = b ? b[oc] : 0.0f;
                for (int c = 0; c < C; c++)
                    for (int ky = 0; ky < K; ky++) {
                        int iy = oy * S - P + ky;
                        if (iy < 0 || iy >= H) continue;
                        for (int kx = 0; kx < K; kx++) {
                            int ix = ox * S - P + kx;
                            if (ix < 0 || ix >= W) continue;
                            const float wv = w[((oc * C + c) * K + ky) * K + kx];
                            const float *x = in + (((size_t)c * H + iy) * W + ix) * L;
                            for (int l = 0; l < L; l++) acc[l] += wv * x[l];
                        }
                    }
                memcpy(out + (((size_t)oc * OH + oy) * OW + ox) * L, acc, sizeof acc);
            }
}

void conv2_backward_ref(float *din, float *dw, float *db, const float *dout, const float *in,
                        const float *w, int C, int H, int W, int OC, int K, int S, int P) {
    const int OH = conv_out_size(H, K, S, P), OW = conv_out_size(W, K, S, P);
    if (din) memset(din, 0, (size_t)C * H * W * L * sizeof *din);
    for (int oc = 0; oc < OC; oc++) {
        if (db) {
            float bsum = 0.0f;
            for (size_t i = 0; i < (size_t)OH * OW * L; i++) bsum += dout[(size_t)oc * OH * OW * L + i];
            db[oc] += bsum;
        }
        for (int c = 0; c < C; c++)
            for (int ky = 0; ky < K; ky++)
                for (int kx = 0; kx < K; kx++) {
                    float acc = 0.0f;
                    const float wv = w[((oc * C + c) * K + ky) * K + kx];
                    for (int oy = 0; oy < OH; oy++) {
                        int iy = oy * S - P + ky;
                        if (iy < 0 || iy >= H) continue;
                        for (int ox = 0; ox < OW; ox++) {
                            int ix = ox * S - P + kx;
                            if (ix < 0 || ix >= W) continue;
                            const float *d = dout + (((size_t)oc * OH + oy) * OW + ox) * L;
                            size_t ii = (((size_t)c * H + iy) * W + ix) * L;
                            for (int l = 0; l < L; l++) {
                                acc += d[l] * in[ii + l];
                                if (din) din[ii + l] += d[l] * wv;
                            }
                        }
                    }
                    dw[((oc * C + c) * K + ky) * K + kx] += acc;
                }
    }
}

void bn_moments_ref(double *mean, double *m2, const float *x, int C, int HW, int NV) {
    const double n = (double)HW * NV;
    for (int c = 0; c < C; c++) {
        double s = 0.0;
        for (int i = 0; i < HW; i++)
            for (int l = 0; l < NV; l++) s += x[((size_t)c * HW + i) * L + l];
        const double mu = n > 0 ? s / n : 0.0;
        double ss = 0.0;
        for (int i = 0; i < HW; i++)
            for (int l = 0; l < NV; l++) {
                double d = x[((size_t)c * HW + i) * L + l] - mu;
                ss += d * d;
            }
        mean[c] = mu;
        m2[c] = ss;
    }
}

void bn_moments_combine(double *na, double *ma, double *m2a, double nb, double mb, double m2b) {
    if (nb <= 0) return;
    const double n = *na + nb, delta = mb - *ma;
    *ma += delta * (nb / n);
    *m2a += m2b + delta * delta * (*na * nb / n);
    *na = n;
}

void bn_normalise_ref(float *out, const float *x, const float *mean, const float *invstd,
                      const float *gamma, const float *beta, int C, int HW) {
    for (int c = 0; c < C; c++)
        for (size_t i = (size_t)c * HW * L; i < (size_t)(c + 1) * HW * L; i++)
            out[i] = (x[i] - mean[c]) * invstd[c] * gamma[c] + beta[c];
}

void bn_grad_sums_ref(double *sdy, double *sdyx, const float *dout, const float *x,
                      const float *mean, const float *invstd, int C, int HW, int NV) {
    for (int c = 0; c < C; c++) {
        double a = 0.0, b = 0.0;
        for (int i = 0; i < HW; i++)
            for (int l = 0; l < NV; l++) {
                size_t k = ((size_t)c * HW + i) * L + l;
                float xhat = (x[k] - mean[c]) * invstd[c];
                a += dout[k];
                b += (double)dout[k] * xhat;
            }
        sdy[c] = a;
        sdyx[c] = b;
    }
}

void bn_backward_train_ref(float *din, const float *dout, const float *x, const float *mean,
                           const float *invstd, const float *gamma, const float *mdy,
                           const float *mdyx, int C, int HW, int NV) {
    for (int c = 0; c < C; c++) {
        const float g = gamma[c] * invstd[c];
        for (int i = 0; i < HW; i++)
            for (int l = 0; l < L; l++) {
                size_t k = ((size_t)c * HW + i) * L + l;
                float xhat = (x[k] - mean[c]) * invstd[c];
                din[k] = l < NV ? g * (dout[k] - mdy[c] - xhat * mdyx[c]) : 0.0f;
            }
    }
}

// The bn's output as bn_normalise_ref computes it, > 0: where an in-place
// ReLU after it passes the gradient.
static int bn_relu_passes(float x, float mean, float invstd, float gamma, float beta) {
    return (x - mean) * invstd * gamma + beta > 0.0f;
}

void bn_grad_sums_relu_ref(double *sdy, double *sdyx, const float *dout, const float *x,
                           const float *mean, const float *invstd, const float *gamma,
                           const float *beta, int C, int HW, int NV) {
    for (int c = 0; c < C; c++) {
        double a = 0.0, b = 0.0;
        for (int i = 0; i < HW; i++)
            for (int l = 0; l < NV; l++) {
                size_t k = ((size_t)c * HW + i) * L + l;
                float dy = bn_relu_passes(x[k], mean[c], invstd[c], gamma[c], beta[c]) ? dout[k] : 0.0f;
                float xhat = (x[k] - mean[c]) * invstd[c];
                a += dy;
                b += (double)dy * xhat;
            }
        sdy[c] = a;
        sdyx[c] = b;
    }
}

void bn_backward_train_relu_ref(float *din, const float *dout, const float *x, const float *mean,
                                const float *invstd, const float *gamma, const float *beta,
                                const float *mdy, const float *mdyx, int C, int HW, int NV) {
    for (int c = 0; c < C; c++) {
        const float g = gamma[c] * invstd[c];
        for (int i = 0; i < HW; i++)
            for (int l = 0; l < L; l++) {
                size_t k = ((size_t)c * HW + i) * L + l;
                float dy = bn_relu_passes(x[k], mean[c], invstd[c], gamma[c], beta[c]) ? dout[k] : 0.0f;
                float xhat = (x[k] - mean[c]) * invstd[c];
                din[k] = l < NV ? g * (dy - mdy[c] - xhat * mdyx[c]) : 0.0f;
            }
    }
}

void bn_backward_eval_ref(float *din, float *dgamma, float *dbeta, const float *dout,
                          const float *x, const float *mean, const float *invstd,
                          const float *gamma, int C, int HW, int NV) {
    for (int c = 0; c < C; c++) {
        float a = 0.0f, b = 0.0f;
        const float g = gamma[c] * invstd[c];
        for (int i = 0; i < HW; i++)
            for (int l = 0; l < L; l++) {
                size_t k = ((size_t)c * HW + i) * L + l;
                if (din) din[k] = l < NV ? dout[k] * g : 0.0f;
                if (l >= NV) continue;
                a += dout[k];
                b += dout[k] * ((x[k] - mean[c]) * invstd[c]);
            }
        dbeta[c] += a;
        dgamma[c] += b;
    }
}

// The shortcut's geometry: channel offset and spatial stride.
static void shortcut_geometry(int C, int H, int SC, int SH, int *pad, int *st) {
    *pad = (C - SC) / 2;
    *st = SH == H ? 1 : 2;
}

void add_forward_ref(float *out, const float *a, const float *s, int C, int H, int W,
                     int SC, int SH, int SW) {
    int pad, st;
    shortcut_geometry(C, H, SC, SH, &pad, &st);
    for (int c = 0; c < C; c++)
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++)
                for (int l = 0; l < L; l++) {
                    size_t k = (((size_t)c * H + y) * W + x) * L + l;
                    int sc = c - pad;
                    float v = sc >= 0 && sc < SC ? s[(((size_t)sc * SH + y * st) * SW + x * st) * L + l] : 0.0f;
                    out[k] = a[k] + v;
                }
}

void add_backward_skip_ref(float *ds, const float *dout, int C, int H, int W, int SC, int SH, int SW) {
    int pad, st;
    shortcut_geometry(C, H, SC, SH, &pad, &st);
    for (int sc = 0; sc < SC; sc++)
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++)
                for (int l = 0; l < L; l++)
                    ds[(((size_t)sc * SH + y * st) * SW + x * st) * L + l] +=
                        dout[((((size_t)sc + pad) * H + y) * W + x) * L + l];
}

void add_relu_forward_ref(float *out, const float *a, const float *s, int C, int H, int W,
                          int SC, int SH, int SW) {
    add_forward_ref(out, a, s, C, H, W, SC, SH, SW);
    for (size_t i = 0; i < (size_t)C * H * W * L; i++)
        if (out[i] <= 0.0f) out[i] = 0.0f; // torch.relu: NaN passes
}

void bn_normalise_add_relu_ref(float *out, const float *x, const float *mean, const float *invstd,
                               const float *gamma, const float *beta, const float *s, int C, int H, int W,
                               int SC, int SH, int SW) {
    bn_normalise_ref(out, x, mean, invstd, gamma, beta, C, H * W);
    add_relu_forward_ref(out, out, s, C, H, W, SC, SH, SW); // element by element: in place is fine
}

void relu_add_backward_ref(float *din, float *ds, const float *dout, const float *y, int C, int H, int W,
                           int SC, int SH, int SW) {
    for (size_t i = 0; i < (size_t)C * H * W * L; i++) din[i] = y[i] > 0.0f ? dout[i] : 0.0f;
    if (ds) add_backward_skip_ref(ds, din, C, H, W, SC, SH, SW);
}

void avgpool_forward_ref(float *out, const float *in, int C, int H, int W, int K, int S) {
    const int OH = conv_out_size(H, K, S, 0), OW = conv_out_size(W, K, S, 0);
    const float inv = 1.0f / (float)(K * K);
    for (int c = 0; c < C; c++)
        for (int oy = 0; oy < OH; oy++)
            for (int ox = 0; ox < OW; ox++)
                for (int l = 0; l < L; l++) {
                    float s = 0.0f;
                    for (int dy = 0; dy < K; dy++)
                        for (int dx = 0; dx < K; dx++)
                            s += in[(((size_t)c * H + oy * S + dy) * W + ox * S + dx) * L + l];
                    out[(((size_t)c * OH + oy) * OW + ox) * L + l] = s * inv;
                }
}

void avgpool_backward_ref(float *din, const float *dout, int C, int H, int W, int K, int S) {
    const int OH = conv_out_size(H, K, S, 0), OW = conv_out_size(W, K, S, 0);
    const float inv = 1.0f / (float)(K * K);
    memset(din, 0, (size_t)C * H * W * L * sizeof *din);
    for (int c = 0; c < C; c++)
        for (int oy = 0; oy < OH; oy++)
            for (int ox = 0; ox < OW; ox++)
                for (int l = 0; l < L; l++) {
                    float d = dout[(((size_t)c * OH + oy) * OW + ox) * L + l] * inv;
                    for (int dy = 0; dy < K; dy++)
                        for (int dx = 0; dx < K; dx++)
                            din[(((size_t)c * H + oy * S + dy) * W + ox * S + dx) * L + l] += d;
                }
}

void gap_forward_ref(float *out, const float *in, int C, int HW) {
    for (int c = 0; c < C; c++)
        for (int l = 0; l < L; l++) {
            float s = 0.0f;
            for (int i = 0; i < HW; i++) s += in[((size_t)c * HW + i) * L + l];
            out[(size_t)c * L + l] = s / (float)HW;
        }
}

void gap_backward_ref(float *din, const float *dout, int C, int HW) {
    for (int c = 0; c < C; c++)
        for (int i = 0; i < HW; i++)
            for (int l = 0; l < L; l++) din[((size_t)c * HW + i) * L + l] = dout[(size_t)c * L + l] / (float)HW;
}

void dropout_mask_ref(float *mask, size_t N, float p, uint64_t seed, uint64_t step, int layer,
                      long first_image, int NV) {
    const float scale = 1.0f / (1.0f - p);
    for (int l = 0; l < L; l++) {
        if (l >= NV) {
            for (size_t i = 0; i < N; i++) mask[i * L + l] = 0.0f;
            continue;
        }
        rng_state r;
        uint64_t key = ((step * 0x9e3779b97f4a7c15ULL) ^ ((uint64_t)layer << 48)) + (uint64_t)(first_image + l);
        rng_seed(&r, seed, RNG_DROPOUT, key);
        for (size_t i = 0; i < N; i++) mask[i * L + l] = rng_float(&r) < p ? 0.0f : scale;
    }
}

void mul_ref(float *out, const float *in, const float *mask, size_t n) {
    for (size_t i = 0; i < n; i++) out[i] = in[i] * mask[i];
}

size_t conv2_scratch_floats(int C, int H, int W, int OC, int K, int S, int P) {
    (void)P;
    (void)H, (void)W, (void)S;
    // layers_simd.c: the weights repacked in blocks of 4 channels (forward's
    // (OC, C) or backward's (C, OC)), after backward's transposed weights (C, OC, K, K)
    const size_t KK = (size_t)K * K;
    size_t wt = ((size_t)C * OC * KK + L - 1) / L * L;
    size_t packed = (((size_t)(OC + 3) / 4 * 4 * C * KK + L - 1) / L * L);
    size_t packed_t = (((size_t)(C + 3) / 4 * 4 * OC * KK + L - 1) / L * L);
    // the weight gradient's per-lane sums of one 4-channel block, (4, C, K, K) vectors, before din's
    size_t dw_part = (size_t)4 * C * KK * L;
    size_t need = packed > wt + packed_t ? packed : wt + packed_t;
    return need > dw_part ? need : dw_part;
}

static void conv2_forward_scalar(float *out, const float *in, const float *w, const float *b, float *scratch,
                                 int C, int H, int W, int OC, int K, int S, int P) {
    (void)scratch;
    conv2_forward_ref(out, in, w, b, C, H, W, OC, K, S, P);
}

static void conv2_backward_scalar(float *din, float *dw, float *db, const float *dout, const float *in,
                                  const float *w, float *scratch, int C, int H, int W, int OC, int K, int S,
                                  int P) {
    (void)scratch;
    conv2_backward_ref(din, dw, db, dout, in, w, C, H, W, OC, K, S, P);
}

static void bn_normalise_relu_ref(float *out, const float *x, const float *mean, const float *invstd,
                                  const float *gamma, const float *beta, int C, int HW) {
    bn_normalise_ref(out, x, mean, invstd, gamma, beta, C, HW);
    for (size_t i = 0; i < (size_t)C * HW * L; i++)
        if (out[i] <= 0.0f) out[i] = 0.0f; // torch.relu: NaN passes
}

const layer_table layers_scalar = {
    conv2_forward_scalar, conv2_backward_scalar,
    bn_moments_ref, bn_normalise_ref, bn_normalise_relu_ref,
    bn_grad_sums_ref, bn_backward_train_ref, bn_backward_eval_ref,
    bn_grad_sums_relu_ref, bn_backward_train_relu_ref,
    add_forward_ref, add_backward_skip_ref, add_relu_forward_ref, relu_add_backward_ref,
    bn_normalise_add_relu_ref,
    gap_forward_ref, gap_backward_ref,
};
