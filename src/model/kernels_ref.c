// kernels_ref.c: the scalar reference kernels, plain loops written to be read
// against PyTorch's definitions; the vector kernels are tested against these.
// Letters: C in-channels, OC out-channels, H W input size, OH OW output size,
// K kernel, P pool, I O linear in/out features, L lanes (images).
#include "kernels.h"
#include "layers.h"

#include <math.h>
#include <string.h>

#define L LANES

size_t conv_scratch_floats(int C, int H, int W, int OC, int K) {
    int OH = H - K + 1, OW = W - K + 1;
    // zero-bordered copy of dout, flipped weights and a zero bias (kernels_simd.c)
    size_t pad = (size_t)OC * (OH + 2 * (K - 1)) * (OW + 2 * (K - 1)) * L;
    size_t wflip = (size_t)C * OC * K * K;
    return pad + (wflip + L - 1) / L * L + ((size_t)C + L - 1) / L * L;
}

size_t linear_scratch_floats(int I) { return (size_t)I * L; }

static void conv_forward_ref(float *out, const float *in, const float *w, const float *b,
                             int C, int H, int W, int OC, int K) {
    int OH = H - K + 1, OW = W - K + 1;
    for (int oc = 0; oc < OC; oc++)
        for (int oy = 0; oy < OH; oy++)
            for (int ox = 0; ox < OW; ox++)
                for (int l = 0; l < L; l++) {
                    float acc = b[oc];
                    for (int c = 0; c < C; c++)
                        for (int ky = 0; ky < K; ky++)
                            for (int kx = 0; kx < K; kx++)
                                acc += w[((oc * C + c) * K + ky) * K + kx] *
                                       in[(((size_t)c * H + oy + ky) * W + ox + kx) * L + l];
                    out[(((size_t)oc * OH + oy) * OW + ox) * L + l] = acc;
                }
}

static void relu_forward_ref(float *out, const float *in, size_t n);

static void conv_relu_forward_ref(float *out, const float *in, const float *w, const float *b,
                                  int C, int H, int W, int OC, int K) {
    conv_forward_ref(out, in, w, b, C, H, W, OC, K);
    relu_forward_ref(out, out, (size_t)OC * (H - K + 1) * (W - K + 1) * L);
}

static void conv_backward_ref(float *din, float *dw, float *db, const float *dout,
                              const float *in, const float *w, float *scratch,
                              int C, int H, int W, int OC, int K) {
    (void)scratch;
    int OH = H - K + 1, OW = W - K + 1;
    if (din) memset(din, 0, (size_t)C * H * W * L * sizeof *din);
    for (int oc = 0; oc < OC; oc++) {
        float bsum = 0.0f;
        for (int oy = 0; oy < OH; oy++)
            for (int ox = 0; ox < OW; ox++)
                for (int l = 0; l < L; l++) bsum += dout[(((size_t)oc * OH + oy) * OW + ox) * L + l];
        db[oc] += bsum;
        for (int c = 0; c < C; c++)
            for (int ky = 0; ky < K; ky++)
                for (int kx = 0; kx < K; kx++) {
                    float acc = 0.0f;
                    const float wv = w[((oc * C + c) * K + ky) * K + kx];
                    for (int oy = 0; oy < OH; oy++)
                        for (int ox = 0; ox < OW; ox++)
                            for (int l = 0; l < L; l++) {
                                float d = dout[(((size_t)oc * OH + oy) * OW + ox) * L + l];
                                size_t ii = (((size_t)c * H + oy + ky) * W + ox + kx) * L + l;
                                acc += d * in[ii];
                                if (din) din[ii] += d * wv;
                            }
                    dw[((oc * C + c) * K + ky) * K + kx] += acc;
                }
    }
}

static void relu_forward_ref(float *out, const float *in, size_t n) {
    for (size_t i = 0; i < n; i++) out[i] = in[i] > 0.0f ? in[i] : (isnan(in[i]) ? in[i] : 0.0f);
}

// PyTorch: grad * (out > 0)
static void relu_backward_ref(float *din, const float *dout, const float *out, size_t n) {
    for (size_t i = 0; i < n; i++) din[i] = out[i] > 0.0f ? dout[i] : 0.0f;
}

static void maxpool_forward_ref(float *out, const float *in, int C, int H, int W, int P) {
    int OH = H / P, OW = W / P;
    for (int c = 0; c < C; c++)
        for (int oy = 0; oy < OH; oy++)
            for (int ox = 0; ox < OW; ox++)
                for (int l = 0; l < L; l++) {
                    float m = in[(((size_t)c * H + oy * P) * W + ox * P) * L + l];
                    for (int dy = 0; dy < P; dy++)
                        for (int dx = 0; dx < P; dx++) {
                            float v = in[(((size_t)c * H + oy * P + dy) * W + ox * P + dx) * L + l];
                            if (v > m || isnan(v)) m = v;
                        }
                    out[(((size_t)c * OH + oy) * OW + ox) * L + l] = m;
                }
}

static void maxpool_backward_ref(float *din, const float *dout, const float *in,
                                 const float *out, int C, int H, int W, int P) {
    int OH = H / P, OW = W / P;
    memset(din, 0, (size_t)C * H * W * L * sizeof *din);
    for (int c = 0; c < C; c++)
        for (int oy = 0; oy < OH; oy++)
            for (int ox = 0; ox < OW; ox++)
                for (int l = 0; l < L; l++) {
                    size_t o = (((size_t)c * OH + oy) * OW + ox) * L + l;
                    int done = 0;
                    for (int dy = 0; dy < P && !done; dy++)
                        for (int dx = 0; dx < P && !done; dx++) {
                            size_t i = (((size_t)c * H + oy * P + dy) * W + ox * P + dx) * L + l;
                            if (in[i] == out[o]) {
                                din[i] = dout[o];
                                done = 1;
                            }
                        }
                }
}

static void maxpool_relu_backward_ref(float *din, const float *dout, const float *in,
                                      const float *out, int C, int H, int W, int P) {
    maxpool_backward_ref(din, dout, in, out, C, H, W, P);
    relu_backward_ref(din, din, in, (size_t)C * H * W * L);
}

static void linear_forward_ref(float *out, const float *in, const float *w, const float *b,
                               int I, int O) {
    for (int o = 0; o < O; o++)
        for (int l = 0; l < L; l++) {
            float acc = b[o];
            for (int i = 0; i < I; i++) acc += w[(size_t)o * I + i] * in[(size_t)i * L + l];
            out[(size_t)o * L + l] = acc;
        }
}

static void linear_backward_ref(float *din, float *dw, float *db, const float *dout,
                                const float *in, const float *w, float *scratch, int I, int O) {
    (void)scratch;
    for (int o = 0; o < O; o++) {
        float bsum = 0.0f;
        for (int l = 0; l < L; l++) bsum += dout[(size_t)o * L + l];
        db[o] += bsum;
        for (int i = 0; i < I; i++) {
            float acc = 0.0f;
            for (int l = 0; l < L; l++) acc += dout[(size_t)o * L + l] * in[(size_t)i * L + l];
            dw[(size_t)o * I + i] += acc;
        }
    }
    if (din)
        for (int i = 0; i < I; i++)
            for (int l = 0; l < L; l++) {
                float acc = 0.0f;
                for (int o = 0; o < O; o++) acc += w[(size_t)o * I + i] * dout[(size_t)o * L + l];
                din[(size_t)i * L + l] = acc;
            }
}

// Mirrors PyTorch's log_softmax (max-shifted, float) followed by nll_loss;
// the gradient is exp(log_softmax) - onehot, times the reduction's scale.
void softmax_xent(float *dlogits, float *loss, int *pred, const float *logits,
                  const int *labels, int K, float scale) {
    for (int l = 0; l < L; l++) {
        if (labels[l] < 0) {
            for (int k = 0; k < K; k++) dlogits[k * L + l] = 0.0f;
            loss[l] = 0.0f;
            pred[l] = -1;
            continue;
        }
        float m = logits[l];
        int arg = 0;
        for (int k = 1; k < K; k++) {
            float v = logits[k * L + l];
            if (v > m || (isnan(v) && !isnan(m))) { m = v; arg = k; }
        }
        float sum = 0.0f;
        for (int k = 0; k < K; k++) sum += expf(logits[k * L + l] - m);
        float logsum = logf(sum);
        int y = labels[l];
        loss[l] = -(logits[y * L + l] - m - logsum);
        pred[l] = arg;
        for (int k = 0; k < K; k++) {
            float p = expf(logits[k * L + l] - m - logsum);
            dlogits[k * L + l] = (p - (k == y ? 1.0f : 0.0f)) * scale;
        }
    }
}

const kernel_table kernels_scalar = {
    "scalar", &layers_scalar,
    conv_forward_ref, conv_relu_forward_ref, conv_backward_ref,
    relu_forward_ref, relu_backward_ref,
    maxpool_forward_ref, maxpool_backward_ref, maxpool_relu_backward_ref,
    linear_forward_ref, linear_backward_ref,
};
