// test_layer_kernels.c: the vector kernels of layers.h (layers_simd.c) equal
// the scalar reference to 1e-5 relative on random data, for every shape
// class of the residual networks (3x3 convolutions with padding 1 and stride
// 1 or 2 at 16/32/64 channels, the 3 -> 16 first convolution, the 1x1
// stride-2 shortcut) and odd ones (7x7, 5x9, channel counts that are not a
// multiple of the 4-channel tile, padding wider than the kernel, bias);
// batch norm with empty lanes; option-A addition; global pooling. Every
// vector kernel gives the same bits when run twice, and a ResNet through
// model_batch gives the same bits on 1 and 2 threads and agrees with the
// scalar path.
#include "test_util.h"

#include "../src/model/layers.h"
#include "../src/model/model_batch.h"
#include "../src/util/rng.h"

#define L LANES

// The vector tables this CPU can run, asked of the CPU (not of kernels_select).
static int vector_tables(const kernel_table **out) {
    int n = 0;
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) out[n++] = &kernels_avx2;
    if (n && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
        __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl"))
        out[n++] = &kernels_avx512;
    return n;
}

static float *rnd(size_t n, rng_state *r) {
    float *p = lr_aligned_alloc((n + 1) * sizeof(float));
    for (size_t i = 0; i < n; i++) p[i] = 2 * rng_float(r) - 1;
    return p;
}

static float *zeros(size_t n) {
    float *p = lr_aligned_alloc((n + 1) * sizeof(float));
    memset(p, 0, (n + 1) * sizeof(float));
    return p;
}

// |got - ref| <= 1e-5 (|ref| + max |ref|): relative to the element, or to the
// tensor's scale where a sum cancels to near zero.
static void assert_near_ref(const float *got, const float *ref, size_t n, const char *what) {
    double mx = 0.0;
    for (size_t i = 0; i < n; i++) mx = fmax(mx, fabs((double)ref[i]));
    LR_ASSERT(mx > 0.0); // an all-zero reference would prove nothing
    test_assert_close(got, ref, n, 1e-5, 1e-5 * mx, what);
}

static void assert_near_ref_d(const double *got, const double *ref, size_t n, const char *what) {
    for (size_t i = 0; i < n; i++)
        if (!(fabs(got[i] - ref[i]) <= 1e-9 * (fabs(ref[i]) + 1.0)))
            fail_msg("%s: element %zu differs: got %.12g, expected %.12g", what, i, got[i], ref[i]);
}

typedef struct { int C, H, W, OC, K, S, P, bias; } conv_case;
static const conv_case CONV_CASES[] = {
    {3, 32, 32, 16, 3, 1, 1, 0},  // the first convolution
    {16, 32, 32, 16, 3, 1, 1, 0}, // stage 1
    {16, 32, 32, 32, 3, 2, 1, 0}, // into stage 2
    {32, 16, 16, 32, 3, 1, 1, 0},
    {32, 16, 16, 64, 3, 2, 1, 0}, // into stage 3
    {64, 8, 8, 64, 3, 1, 1, 0},
    {16, 32, 32, 32, 1, 2, 0, 0}, // option B's shortcut
    {5, 7, 7, 6, 3, 1, 1, 1},     // odd sizes, channels not a multiple of 4, bias
    {3, 5, 9, 7, 3, 2, 1, 1},
    {4, 9, 5, 5, 3, 2, 1, 0},
    {6, 7, 7, 9, 3, 2, 1, 0},
    {3, 7, 10, 5, 5, 1, 2, 1},    // 5x5
    {2, 6, 7, 3, 3, 1, 0, 0},     // valid, no bias
    {3, 9, 11, 4, 3, 3, 1, 1},    // stride 3
    {2, 5, 5, 3, 3, 1, 2, 0},     // padding K-1
    {2, 4, 5, 3, 3, 2, 3, 1},     // padding wider than the kernel
    {3, 6, 6, 8, 2, 2, 1, 0},     // even kernel
    {4, 7, 8, 5, 3, 2, 0, 1},     // stride 2 without padding: border columns in the input gradient
    {3, 9, 10, 6, 5, 2, 1, 0},    // 5x5 stride 2, little padding
    {2, 8, 9, 4, 1, 3, 0, 0},     // 1x1 stride 3: pixels no tap reaches
    // the weight gradient in bands of output rows (64 / S / OW rows): several
    // bands and a short last one, stride 1 and 2, channels not a multiple of 4
    {5, 13, 20, 6, 3, 1, 1, 0},   // OW 20: bands of 3 rows, 13 = 4 x 3 + 1
    {4, 23, 40, 7, 3, 2, 1, 0},   // OW 20, OH 12: bands of one row
    {3, 11, 64, 5, 3, 1, 1, 1},   // OW 64: one row a band
    // the forward's edge tiles (3x3, padding 1): a right edge at stride 2
    // (the last column lacks kx = 2), and middles of every length mod 3 (AVX2)
    {3, 9, 15, 5, 3, 2, 1, 0},    // OW 8, right edge
    {2, 6, 6, 5, 3, 1, 1, 0},     // OW 6: the edges alone, no middle
    {2, 5, 7, 4, 3, 1, 1, 1},     // OW 7: a middle of 1 column, so the border-column path
    {2, 5, 9, 4, 3, 1, 1, 0},     // OW 9: middle 3
};

static void check_conv(const kernel_table *kt, const conv_case *cc, rng_state *r) {
    const int C = cc->C, H = cc->H, W = cc->W, OC = cc->OC, K = cc->K, S = cc->S, P = cc->P;
    const int OH = conv_out_size(H, K, S, P), OW = conv_out_size(W, K, S, P);
    const size_t nin = (size_t)C * H * W * L, nout = (size_t)OC * OH * OW * L, nw = (size_t)OC * C * K * K;
    char what[160];
    snprintf(what, sizeof what, "%s conv C%d %dx%d OC%d K%d S%d P%d%s", kt->isa, C, H, W, OC, K, S, P,
             cc->bias ? " bias" : "");
    float *in = rnd(nin, r), *w = rnd(nw, r), *b = cc->bias ? rnd((size_t)OC, r) : NULL;
    float *dout = rnd(nout, r);
    float *scratch = zeros(conv2_scratch_floats(C, H, W, OC, K, S, P));
    float *ref = zeros(nout), *got = zeros(nout), *again = zeros(nout);
    conv2_forward_ref(ref, in, w, b, C, H, W, OC, K, S, P);
    for (size_t i = 0; i < nout; i++) got[i] = again[i] = NAN; // every output must be written
    kt->layers->conv2_forward(got, in, w, b, scratch, C, H, W, OC, K, S, P);
    kt->layers->conv2_forward(again, in, w, b, scratch, C, H, W, OC, K, S, P);
    char msg[200];
    snprintf(msg, sizeof msg, "%s forward", what);
    assert_near_ref(got, ref, nout, msg);
    assert_memory_equal(got, again, nout * sizeof *got);

    // backward: dw and db accumulate onto what is there, din is overwritten
    float *dw0 = rnd(nw, r), *db0 = rnd((size_t)OC, r);
    float *rdin = zeros(nin), *rdw = zeros(nw), *rdb = zeros((size_t)OC);
    float *gdin = zeros(nin), *gdw = zeros(nw), *gdb = zeros((size_t)OC);
    memcpy(rdw, dw0, nw * 4), memcpy(gdw, dw0, nw * 4);
    memcpy(rdb, db0, (size_t)OC * 4), memcpy(gdb, db0, (size_t)OC * 4);
    conv2_backward_ref(rdin, rdw, cc->bias ? rdb : NULL, dout, in, w, C, H, W, OC, K, S, P);
    for (size_t i = 0; i < nin; i++) gdin[i] = NAN;
    kt->layers->conv2_backward(gdin, gdw, cc->bias ? gdb : NULL, dout, in, w, scratch, C, H, W, OC, K, S, P);
    // the accumulated part alone, so that the initial values do not hide an error
    for (size_t i = 0; i < nw; i++) rdw[i] -= dw0[i], gdw[i] -= dw0[i];
    snprintf(msg, sizeof msg, "%s din", what);
    assert_near_ref(gdin, rdin, nin, msg);
    snprintf(msg, sizeof msg, "%s dw", what);
    assert_near_ref(gdw, rdw, nw, msg);
    if (cc->bias) {
        for (int i = 0; i < OC; i++) rdb[i] -= db0[i], gdb[i] -= db0[i];
        snprintf(msg, sizeof msg, "%s db", what);
        assert_near_ref(gdb, rdb, (size_t)OC, msg);
    } else {
        assert_memory_equal(gdb, db0, (size_t)OC * 4); // no bias: db untouched
    }
    // the same bits again; and without din, the same dw
    float *din2 = zeros(nin), *dw2 = zeros(nw), *dw3 = zeros(nw);
    memcpy(dw2, dw0, nw * 4), memcpy(dw3, dw0, nw * 4);
    kt->layers->conv2_backward(din2, dw2, NULL, dout, in, w, scratch, C, H, W, OC, K, S, P);
    kt->layers->conv2_backward(NULL, dw3, NULL, dout, in, w, scratch, C, H, W, OC, K, S, P);
    for (size_t i = 0; i < nw; i++) dw2[i] -= dw0[i], dw3[i] -= dw0[i];
    assert_memory_equal(din2, gdin, nin * 4);
    assert_memory_equal(dw2, gdw, nw * 4);
    assert_memory_equal(dw3, gdw, nw * 4);
    free(in), free(w), free(b), free(dout), free(scratch), free(ref), free(got), free(again);
    free(dw0), free(db0), free(rdin), free(rdw), free(rdb), free(gdin), free(gdw), free(gdb);
    free(din2), free(dw2), free(dw3);
}

static void test_conv_matches_reference(void **state) {
    (void)state;
    const kernel_table *kts[2];
    int n = vector_tables(kts);
    if (n == 0) fail_msg("this CPU has no AVX2: nothing to test the vector kernels on");
    rng_state r;
    rng_seed(&r, 13, 0, 0);
    for (int t = 0; t < n; t++)
        for (size_t i = 0; i < sizeof CONV_CASES / sizeof *CONV_CASES; i++) check_conv(kts[t], &CONV_CASES[i], &r);
}

// The scalar table's conv2 entries are the reference itself.
static void test_scalar_table_is_reference(void **state) {
    (void)state;
    rng_state r;
    rng_seed(&r, 14, 0, 0);
    const conv_case cc = {3, 5, 9, 7, 3, 2, 1, 1};
    const int OH = conv_out_size(5, 3, 2, 1), OW = conv_out_size(9, 3, 2, 1);
    const size_t nin = 3 * 5 * 9 * L, nout = (size_t)7 * OH * OW * L;
    float *in = rnd(nin, &r), *w = rnd(7 * 27, &r), *b = rnd(7, &r), *a = zeros(nout), *c = zeros(nout);
    conv2_forward_ref(a, in, w, b, cc.C, cc.H, cc.W, cc.OC, cc.K, cc.S, cc.P);
    kernels_scalar.layers->conv2_forward(c, in, w, b, NULL, cc.C, cc.H, cc.W, cc.OC, cc.K, cc.S, cc.P);
    assert_memory_equal(a, c, nout * 4);
    assert_ptr_equal(kernels_scalar.layers->bn_moments, bn_moments_ref);
    assert_ptr_equal(kernels_scalar.layers->bn_backward_train, bn_backward_train_ref);
    assert_ptr_equal(kernels_scalar.layers->bn_grad_sums_relu, bn_grad_sums_relu_ref);
    assert_ptr_equal(kernels_scalar.layers->bn_backward_train_relu, bn_backward_train_relu_ref);
    assert_ptr_equal(kernels_scalar.layers->add_relu_forward, add_relu_forward_ref);
    assert_ptr_equal(kernels_scalar.layers->relu_add_backward, relu_add_backward_ref);
    assert_ptr_equal(kernels_scalar.layers->bn_normalise_add_relu, bn_normalise_add_relu_ref);
    free(in), free(w), free(b), free(a), free(c);
}

// The fused bn + ReLU backward kernels of table kt (and of the scalar table).
static void check_bn_relu(const kernel_table *kt, int C, int HW, int NV, const float *x, const float *dy,
                          const float *mean, const float *invstd, const float *gamma, const float *beta,
                          const float *mdy, const float *mdyx) {
    const size_t n = (size_t)C * HW * L;
    char what[120];
    snprintf(what, sizeof what, "%s bn+relu C%d HW%d NV%d", kt->isa, C, HW, NV);
    const kernel_table *both[2] = {&kernels_scalar, kt};
    float *y = zeros(n), *dyr = zeros(n), *o1 = zeros(n), *o2 = zeros(n), *ro = zeros(n);
    double s1[64], s2[64], f1[64], f2[64], r1[64], r2[64];
    bn_grad_sums_relu_ref(r1, r2, dy, x, mean, invstd, gamma, beta, C, HW, NV);
    bn_backward_train_relu_ref(ro, dy, x, mean, invstd, gamma, beta, mdy, mdyx, C, HW, NV);
    for (int t = 0; t < 2; t++) {
        const kernel_table *k = both[t];
        k->layers->bn_normalise_relu(y, x, mean, invstd, gamma, beta, C, HW);
        size_t masked = 0;
        for (size_t i = 0; i < n; i++) masked += y[i] == 0.0f;
        assert_true(masked > n / 10 && masked < n * 9 / 10); // both sides of the ReLU are exercised
        k->relu_backward(dyr, dy, y, n);
        k->layers->bn_grad_sums(s1, s2, dyr, x, mean, invstd, C, HW, NV);
        k->layers->bn_grad_sums_relu(f1, f2, dy, x, mean, invstd, gamma, beta, C, HW, NV);
        assert_memory_equal(f1, s1, (size_t)C * sizeof *f1);
        assert_memory_equal(f2, s2, (size_t)C * sizeof *f2);
        k->layers->bn_backward_train(o1, dyr, x, mean, invstd, gamma, mdy, mdyx, C, HW, NV);
        for (size_t i = 0; i < n; i++) o2[i] = NAN;
        k->layers->bn_backward_train_relu(o2, dy, x, mean, invstd, gamma, beta, mdy, mdyx, C, HW, NV);
        assert_memory_equal(o2, o1, n * 4);
        // and against the scalar reference
        for (int c = 0; c < C; c++)
            if (!(fabs(f1[c] - r1[c]) <= 1e-9 * (fabs(r1[c]) + 1.0)) ||
                !(fabs(f2[c] - r2[c]) <= 1e-5 * (fabs(r2[c]) + 1.0)))
                fail_msg("%s: grad sums of channel %d: %g %g, expected %g %g", what, c, f1[c], f2[c], r1[c], r2[c]);
        assert_near_ref(o2, ro, n, what);
    }
    free(y), free(dyr), free(o1), free(o2), free(ro);
}

// Batch norm with C channels of HW pixels; NV lanes hold images.
static void check_bn(const kernel_table *kt, int C, int HW, int NV, rng_state *r) {
    const size_t n = (size_t)C * HW * L;
    const layer_table *lt = kt->layers;
    char what[120];
    snprintf(what, sizeof what, "%s bn C%d HW%d NV%d", kt->isa, C, HW, NV);
    float *x = rnd(n, r), *dy = rnd(n, r);
    for (size_t i = 0; i < n; i++) x[i] = 3.0f * x[i] + 0.7f; // a mean away from zero
    float *mean = rnd((size_t)C, r), *invstd = rnd((size_t)C, r), *gamma = rnd((size_t)C, r), *beta = rnd((size_t)C, r);
    float *mdy = rnd((size_t)C, r), *mdyx = rnd((size_t)C, r);
    for (int c = 0; c < C; c++) invstd[c] = 0.5f + fabsf(invstd[c]);
    double rs[64], gs[64], rs2[64], gs2[64];
    LR_ASSERT(C <= 64);
    // the group's moments: against a plain two-pass sum in this test
    bn_moments_ref(rs, rs2, x, C, HW, NV);
    lt->bn_moments(gs, gs2, x, C, HW, NV);
    for (int c = 0; c < C; c++) {
        double s = 0.0, ss = 0.0;
        for (int i = 0; i < HW; i++)
            for (int l = 0; l < NV; l++) s += x[((size_t)c * HW + i) * L + l];
        const double mu = s / ((double)HW * NV);
        for (int i = 0; i < HW; i++)
            for (int l = 0; l < NV; l++) ss += pow(x[((size_t)c * HW + i) * L + l] - mu, 2);
        gs[c] -= mu, rs[c] -= mu; // compared as deviations from the mean
        assert_near_ref_d(&gs[c], &rs[c], 1, what);
        assert_true(fabs(rs[c]) <= 1e-12 * (fabs(mu) + 1.0));
        assert_near_ref_d(&rs2[c], &ss, 1, what);
        assert_near_ref_d(&gs2[c], &ss, 1, what);
    }
    bn_grad_sums_ref(rs, rs2, dy, x, mean, invstd, C, HW, NV);
    lt->bn_grad_sums(gs, gs2, dy, x, mean, invstd, C, HW, NV);
    for (int c = 0; c < C; c++)
        if (!(fabs(gs[c] - rs[c]) <= 1e-9 * (fabs(rs[c]) + 1.0)) ||
            !(fabs(gs2[c] - rs2[c]) <= 1e-5 * (fabs(rs2[c]) + 1.0)))
            fail_msg("%s: grad sums of channel %d: %g %g, expected %g %g", what, c, gs[c], gs2[c], rs[c], rs2[c]);

    float *ro = zeros(n), *go = zeros(n);
    bn_normalise_ref(ro, x, mean, invstd, gamma, beta, C, HW);
    lt->bn_normalise(go, x, mean, invstd, gamma, beta, C, HW);
    assert_near_ref(go, ro, n, what);
    for (size_t i = 0; i < n; i++) ro[i] = ro[i] > 0.0f ? ro[i] : 0.0f;
    lt->bn_normalise_relu(go, x, mean, invstd, gamma, beta, C, HW);
    assert_near_ref(go, ro, n, what);

    bn_backward_train_ref(ro, dy, x, mean, invstd, gamma, mdy, mdyx, C, HW, NV);
    for (size_t i = 0; i < n; i++) go[i] = NAN;
    lt->bn_backward_train(go, dy, x, mean, invstd, gamma, mdy, mdyx, C, HW, NV);
    assert_near_ref(go, ro, n, what);

    // bn + in-place ReLU, backward fused: against the reference, and the same
    // bits as this table's relu_backward into a buffer then the plain kernels
    check_bn_relu(kt, C, HW, NV, x, dy, mean, invstd, gamma, beta, mdy, mdyx);

    float *rg = zeros((size_t)C), *rb = zeros((size_t)C), *gg = zeros((size_t)C), *gb = zeros((size_t)C);
    for (int c = 0; c < C; c++) rg[c] = gg[c] = 0.25f, rb[c] = gb[c] = -0.5f;
    bn_backward_eval_ref(ro, rg, rb, dy, x, mean, invstd, gamma, C, HW, NV);
    for (size_t i = 0; i < n; i++) go[i] = NAN;
    lt->bn_backward_eval(go, gg, gb, dy, x, mean, invstd, gamma, C, HW, NV);
    assert_near_ref(go, ro, n, what);
    test_assert_close(gg, rg, (size_t)C, 1e-5, 1e-4, what);
    test_assert_close(gb, rb, (size_t)C, 1e-5, 1e-4, what);
    free(x), free(dy), free(mean), free(invstd), free(gamma), free(beta), free(mdy), free(mdyx);
    free(ro), free(go), free(rg), free(rb), free(gg), free(gb);
}

static void test_bn_matches_reference(void **state) {
    (void)state;
    const kernel_table *kts[2];
    int n = vector_tables(kts);
    if (n == 0) fail_msg("this CPU has no AVX2");
    rng_state r;
    rng_seed(&r, 15, 0, 0);
    for (int t = 0; t < n; t++) {
        check_bn(kts[t], 16, 64, 16, &r);
        check_bn(kts[t], 5, 35, 9, &r); // lanes 9..15 empty: across the AVX2 halves
        check_bn(kts[t], 3, 7, 5, &r);  // empty upper half
        check_bn(kts[t], 64, 1, 16, &r); // BatchNorm1d
    }
}

// Batch statistics of inputs with a large mean and a small spread (1000 +
// noise of +-0.05): the groups' moments combined in group order give the
// batch variance of a two-pass sum in double, in every table and through
// model_batch (which must not depend on the thread count), where the
// one-pass E[x^2] - E[x]^2 in float is off by more than the variance.
static void test_bn_moments_large_mean(void **state) {
    (void)state;
    enum { C = 3, HW = 50, G = 3 };
    const int nv[G] = {16, 5, 16}; // a partial group in the middle
    rng_state r;
    rng_seed(&r, 16, 0, 0);
    float *x = zeros((size_t)G * C * HW * L);
    for (size_t i = 0; i < (size_t)G * C * HW * L; i++) x[i] = 1000.0f + 0.05f * (2 * rng_float(&r) - 1);
    double want_mean[C], want_var[C], n = 0;
    for (int g = 0; g < G; g++) n += (double)nv[g] * HW;
    for (int c = 0; c < C; c++) {
        double s = 0, ss = 0;
        float fs = 0, fss = 0;
        for (int g = 0; g < G; g++)
            for (int i = 0; i < HW; i++)
                for (int l = 0; l < nv[g]; l++) {
                    float v = x[(((size_t)g * C + c) * HW + i) * L + l];
                    s += v, fs += v, fss += v * v;
                }
        want_mean[c] = s / n;
        for (int g = 0; g < G; g++)
            for (int i = 0; i < HW; i++)
                for (int l = 0; l < nv[g]; l++) ss += pow(x[(((size_t)g * C + c) * HW + i) * L + l] - want_mean[c], 2);
        want_var[c] = ss / n;
        assert_true(want_var[c] > 5e-4 && want_var[c] < 1e-3); // (0.1)^2 / 12
        float naive = fss / (float)n - (fs / (float)n) * (fs / (float)n);
        assert_true(fabs(naive - want_var[c]) > want_var[c]); // the case the one-pass float formula fails
    }
    const kernel_table *kts[3] = {&kernels_scalar};
    int nt = 1 + vector_tables(kts + 1);
    for (int t = 0; t < nt; t++) {
        for (int c = 0; c < C; c++) {
            double na = 0, mu = 0, m2 = 0, gm[C], gm2[C];
            for (int g = 0; g < G; g++) {
                kts[t]->layers->bn_moments(gm, gm2, x + (size_t)g * C * HW * L, C, HW, nv[g]);
                bn_moments_combine(&na, &mu, &m2, (double)nv[g] * HW, gm[c], gm2[c]);
            }
            assert_true(na == n);
            if (!(fabs(mu - want_mean[c]) <= 1e-12 * want_mean[c]) || !(fabs(m2 / n - want_var[c]) <= 1e-9 * want_var[c]))
                fail_msg("%s channel %d: mean %.15g var %.15g, expected %.15g %.15g", kts[t]->isa, c, mu, m2 / n,
                         want_mean[c], want_var[c]);
        }
        // through model_batch: bn straight on the input, 1 and 2 threads
        model_desc m;
        lr_err e;
        if (model_build(&m, "bn,gap,linear", C, 5, 10, 10, &e) != 0) fail_msg("%s", e.msg);
        float out[2][2 * C];
        for (int threads = 1; threads <= 2; threads++) {
            model_batch b;
            model_batch_init(&b, &m, G);
            float *st = zeros(model_state_floats(&m));
            model_init_params(&m, st, 1);
            const float *xs[G];
            for (int g = 0; g < G; g++) xs[g] = x + (size_t)g * C * HW * L;
            pool *p = pool_create(threads);
            model_batch_step step = {.train = 1, .seed = 1, .step = 0};
            if (model_batch_forward(&b, kts[t], st, xs, nv, G, &step, p, &e) != 0) fail_msg("%s", e.msg);
            for (int c = 0; c < C; c++) {
                const float *mean = b.stats + m.layers[0].buf_off, *invstd = mean + C;
                const float *run_var = st + m.n_params + m.layers[0].buf_off + C;
                assert_float_equal(mean[c], (float)want_mean[c], 1e-4); // within an ulp of 1000
                assert_float_equal(invstd[c], (float)(1.0 / sqrt(want_var[c] + 1e-5)), 1e-6 * invstd[c]);
                assert_float_equal(run_var[c], (float)(0.9 + 0.1 * want_var[c] * n / (n - 1)), 2e-7);
                out[threads - 1][c] = invstd[c], out[threads - 1][C + c] = run_var[c];
            }
            pool_destroy(p);
            free(st);
            model_batch_free(&b);
        }
        assert_memory_equal(out[0], out[1], sizeof out[0]);
    }
    free(x);
}

static void check_add_gap(const kernel_table *kt, int C, int H, int W, int SC, int SH, int SW, rng_state *r) {
    const size_t n = (size_t)C * H * W * L, ns = (size_t)SC * SH * SW * L;
    char what[120];
    snprintf(what, sizeof what, "%s add %dx%dx%d <- %dx%dx%d", kt->isa, C, H, W, SC, SH, SW);
    float *a = rnd(n, r), *s = rnd(ns, r), *ro = zeros(n), *go = zeros(n);
    add_forward_ref(ro, a, s, C, H, W, SC, SH, SW);
    kt->layers->add_forward(go, a, s, C, H, W, SC, SH, SW);
    assert_memory_equal(go, ro, n * 4); // one addition per element: exact
    float *rds = rnd(ns, r), *gds = zeros(ns);
    memcpy(gds, rds, ns * 4);
    add_backward_skip_ref(rds, a, C, H, W, SC, SH, SW);
    kt->layers->add_backward_skip(gds, a, C, H, W, SC, SH, SW);
    assert_memory_equal(gds, rds, ns * 4);
    // add + in-place ReLU: forward = add then relu_forward; backward =
    // relu_backward then add_backward_skip, bit for bit, in both tables
    const kernel_table *both[2] = {&kernels_scalar, kt};
    float *y = zeros(n), *y2 = zeros(n), *dout = rnd(n, r), *din = zeros(n), *din2 = zeros(n);
    float *ds0 = rnd(ns, r), *ds1 = zeros(ns), *ds2 = zeros(ns);
    for (int t = 0; t < 2; t++) {
        const kernel_table *k = both[t];
        k->layers->add_forward(y, a, s, C, H, W, SC, SH, SW);
        k->relu_forward(y, y, n);
        k->layers->add_relu_forward(y2, a, s, C, H, W, SC, SH, SW);
        assert_memory_equal(y2, y, n * 4);
        size_t zero = 0;
        for (size_t i = 0; i < n; i++) zero += y[i] == 0.0f;
        assert_true(zero > n / 10 && zero < n * 9 / 10);
        memcpy(ds1, ds0, ns * 4), memcpy(ds2, ds0, ns * 4);
        k->relu_backward(din, dout, y, n);
        k->layers->add_backward_skip(ds1, din, C, H, W, SC, SH, SW);
        for (size_t i = 0; i < n; i++) din2[i] = NAN;
        k->layers->relu_add_backward(din2, ds2, dout, y, C, H, W, SC, SH, SW);
        assert_memory_equal(din2, din, n * 4);
        assert_memory_equal(ds2, ds1, ns * 4);
        k->layers->relu_add_backward(din2, NULL, dout, y, C, H, W, SC, SH, SW); // the input as the shortcut
        assert_memory_equal(din2, din, n * 4);
        // bn + add + ReLU forward: bn_normalise then add_relu_forward
        float *bnx = zeros(n), *mean = rnd((size_t)C, r), *invstd = rnd((size_t)C, r), *gamma = rnd((size_t)C, r),
              *beta = rnd((size_t)C, r);
        for (int c = 0; c < C; c++) invstd[c] = 0.5f + fabsf(invstd[c]);
        k->layers->bn_normalise(bnx, a, mean, invstd, gamma, beta, C, H * W);
        k->layers->add_relu_forward(y, bnx, s, C, H, W, SC, SH, SW);
        for (size_t i = 0; i < n; i++) y2[i] = NAN;
        k->layers->bn_normalise_add_relu(y2, a, mean, invstd, gamma, beta, s, C, H, W, SC, SH, SW);
        assert_memory_equal(y2, y, n * 4);
        zero = 0;
        for (size_t i = 0; i < n; i++) zero += y[i] == 0.0f;
        assert_true(zero > n / 10 && zero < n * 9 / 10);
        bn_normalise_add_relu_ref(din, a, mean, invstd, gamma, beta, s, C, H, W, SC, SH, SW);
        assert_near_ref(y2, din, n, what);
        free(bnx), free(mean), free(invstd), free(gamma), free(beta);
    }
    free(y), free(y2), free(dout), free(din), free(din2), free(ds0), free(ds1), free(ds2);
    // global average pooling of a
    float *rp = zeros((size_t)C * L), *gp = zeros((size_t)C * L);
    gap_forward_ref(rp, a, C, H * W);
    kt->layers->gap_forward(gp, a, C, H * W);
    assert_near_ref(gp, rp, (size_t)C * L, what);
    gap_backward_ref(ro, rp, C, H * W);
    kt->layers->gap_backward(go, rp, C, H * W);
    assert_near_ref(go, ro, n, what);
    free(a), free(s), free(ro), free(go), free(rds), free(gds), free(rp), free(gp);
}

static void test_add_gap_match_reference(void **state) {
    (void)state;
    const kernel_table *kts[2];
    int n = vector_tables(kts);
    if (n == 0) fail_msg("this CPU has no AVX2");
    rng_state r;
    rng_seed(&r, 16, 0, 0);
    for (int t = 0; t < n; t++) {
        check_add_gap(kts[t], 16, 8, 8, 16, 8, 8, &r);  // identity
        check_add_gap(kts[t], 32, 8, 8, 16, 16, 16, &r); // option A
        check_add_gap(kts[t], 12, 5, 9, 4, 10, 18, &r);  // option A, odd
        check_add_gap(kts[t], 6, 4, 5, 6, 7, 9, &r);     // stride 2, same channels, odd source
    }
}

// ---- whole models through model_batch -------------------------------------------

#define NIMG 40 // three groups, the last with 8 images
#define NCLS 10

static void run_model(const char *spec, const kernel_table *kt, int threads, int train, float *logits,
                      float *grads, float *state_out) {
    model_desc m;
    lr_err e;
    if (model_build(&m, spec, 3, 12, 12, NCLS, &e) != 0) fail_msg("%s", e.msg);
    const int groups = (NIMG + L - 1) / L;
    model_batch b;
    model_batch_init(&b, &m, groups);
    pool *p = pool_create(threads);
    float *state = lr_aligned_alloc(model_state_floats(&m) * sizeof(float));
    model_init_params(&m, state, 7);
    const size_t img = 3 * 12 * 12;
    float *xl = lr_aligned_alloc((size_t)groups * img * L * sizeof(float));
    float *slots = lr_aligned_alloc((size_t)groups * m.n_params * sizeof(float));
    const float *xs[8];
    int nv[8];
    for (int g = 0; g < groups; g++) {
        nv[g] = NIMG - g * L >= L ? L : NIMG - g * L;
        for (size_t i = 0; i < img; i++)
            for (int l = 0; l < L; l++)
                xl[((size_t)g * img + i) * L + l] = l < nv[g] ? sinf(0.1f * (float)i + 0.7f * (float)(g * L + l)) : 0.0f;
        xs[g] = xl + (size_t)g * img * L;
    }
    model_batch_step st = {.train = train, .seed = 3, .step = 1};
    if (model_batch_forward(&b, kt, state, xs, nv, groups, &st, p, &e) != 0) fail_msg("%s", e.msg);
    for (int g = 0; g < groups; g++) {
        int labels[L];
        for (int l = 0; l < L; l++) labels[l] = l < nv[g] ? (g * L + l) % NCLS : -1;
        model_ws *ws = &b.ws[g];
        softmax_xent(ws->dlogits, ws->loss, ws->pred, ws->act[m.n_layers], labels, NCLS, 1.0f / NIMG);
        memcpy(logits + (size_t)g * NCLS * L, ws->act[m.n_layers], NCLS * L * sizeof(float));
    }
    if (train) {
        model_batch_backward(&b, kt, state, slots, groups, p);
        memset(grads, 0, m.n_params * sizeof(float));
        for (int g = 0; g < groups; g++)
            for (size_t i = 0; i < m.n_params; i++) grads[i] += slots[(size_t)g * m.n_params + i];
    }
    memcpy(state_out, state, model_state_floats(&m) * sizeof(float));
    free(state), free(xl), free(slots);
    pool_destroy(p);
    model_batch_free(&b);
}

// A ResNet-8 with both shortcuts and a biased strided conv: the shape classes in one graph.
static const char *RESNET =
    "conv:16:3:p=1:bias=0,bn,r0=relu,"
    "conv:16:3:p=1:bias=0,bn,relu,conv:16:3:p=1:bias=0,bn,add:r0,r1=relu,"
    "conv:32:3:s=2:p=1:bias=0,bn,relu,conv:32:3:p=1:bias=0,bn,add:r1:A,r2=relu,"
    "conv:32:3:s=2:p=1,bn,relu,conv:32:3:p=1:bias=0,main=bn,"
    "conv:32:1:s=2:bias=0:from=r2,bn,add:main,relu,gap,linear";

static void test_model_threads_and_reference(void **state) {
    (void)state;
    const kernel_table *kts[2];
    int n = vector_tables(kts);
    if (n == 0) fail_msg("this CPU has no AVX2");
    model_desc m;
    lr_err e;
    if (model_build(&m, RESNET, 3, 12, 12, NCLS, &e) != 0) fail_msg("%s", e.msg);
    const size_t nl = (size_t)3 * NCLS * L, np = m.n_params, ns = model_state_floats(&m);
    float *l0 = zeros(nl), *g0 = zeros(np), *s0 = zeros(ns);
    run_model(RESNET, &kernels_scalar, 1, 1, l0, g0, s0);
    for (int t = 0; t < n; t++)
        for (int train = 0; train <= 1; train++) {
            float *l1 = zeros(nl), *g1 = zeros(np), *s1 = zeros(ns), *l2 = zeros(nl), *g2 = zeros(np), *s2 = zeros(ns);
            run_model(RESNET, kts[t], 1, train, l1, g1, s1);
            run_model(RESNET, kts[t], 2, train, l2, g2, s2);
            assert_memory_equal(l1, l2, nl * 4);
            assert_memory_equal(s1, s2, ns * 4); // the running statistics
            if (train) {
                assert_memory_equal(g1, g2, np * 4);
                // against the scalar path: logits, every gradient, the running statistics
                char what[64];
                snprintf(what, sizeof what, "%s logits", kts[t]->isa);
                test_assert_close(l1, l0, nl, 1e-4, 1e-4, what);
                snprintf(what, sizeof what, "%s gradients", kts[t]->isa);
                double mx = 0;
                for (size_t i = 0; i < np; i++) mx = fmax(mx, fabs(g0[i]));
                test_assert_close(g1, g0, np, 1e-3, 1e-4 * mx, what);
                snprintf(what, sizeof what, "%s state", kts[t]->isa);
                test_assert_close(s1, s0, ns, 1e-5, 1e-5, what);
            }
            free(l1), free(g1), free(s1), free(l2), free(g2), free(s2);
        }
    free(l0), free(g0), free(s0);
}

// spec with "dropout:0," before every ReLU: the same arithmetic (dropout
// with p = 0 copies forward and passes the gradient through), but no ReLU
// follows a bn or an add any more, so model.c folds nothing.
static void unfused_spec(char *out, size_t cap, const char *spec) {
    size_t n = 0;
    for (const char *t = spec; *t;) {
        size_t len = strcspn(t, ",");
        int relu = len >= 4 && !strncmp(t + len - 4, "relu", 4);
        int w = snprintf(out + n, cap - n, "%s%s%.*s", n ? "," : "", relu ? "dropout:0," : "", (int)len, t);
        LR_ASSERT(w > 0 && (size_t)w < cap - n);
        n += (size_t)w;
        t += len + (t[len] == ',');
    }
}

// The fused bn + ReLU and add + ReLU kernels change no bit of a model:
// logits, gradients and running statistics equal those of the unfused
// graph, in the scalar and the vector tables, on 1 and 2 threads; also next
// to named outputs another layer reads (b: its ReLU is not in place).
static void test_model_fusions_exact(void **state) {
    (void)state;
    const char *SPECS[] = {
        RESNET,
        "conv:4:3:p=1:bias=0,bn,relu,conv:4:3:p=1:bias=0,b=bn,relu,conv:4:3:p=1:bias=0,bn,add:b,relu,"
        "conv:8:3:s=2:p=1:bias=0,bn,relu,a=add:b:A,r=relu,conv:8:3:p=1:bias=0,bn,add:a,relu,gap,linear",
    };
    const kernel_table *kts[3] = {&kernels_scalar};
    int nt = 1 + vector_tables(kts + 1);
    for (size_t k = 0; k < sizeof SPECS / sizeof *SPECS; k++) {
        char plain[1024];
        unfused_spec(plain, sizeof plain, SPECS[k]);
        LR_ASSERT(strstr(plain, "bn,dropout:0,relu") && strstr(plain, "dropout:0,r"));
        model_desc m;
        lr_err e;
        if (model_build(&m, SPECS[k], 3, 12, 12, NCLS, &e) != 0) fail_msg("%s", e.msg);
        const size_t nl = (size_t)3 * NCLS * L, np = m.n_params, ns = model_state_floats(&m);
        for (int t = 0; t < nt; t++)
            for (int threads = 1; threads <= 2; threads++) {
                float *l1 = zeros(nl), *g1 = zeros(np), *s1 = zeros(ns), *l2 = zeros(nl), *g2 = zeros(np), *s2 = zeros(ns);
                run_model(SPECS[k], kts[t], threads, 1, l1, g1, s1);
                run_model(plain, kts[t], threads, 1, l2, g2, s2);
                assert_memory_equal(l1, l2, nl * 4);
                assert_memory_equal(g1, g2, np * 4);
                assert_memory_equal(s1, s2, ns * 4);
                size_t nonzero = 0;
                for (size_t i = 0; i < np; i++) nonzero += g1[i] != 0.0f;
                assert_true(nonzero > np / 2);
                free(l1), free(g1), free(s1), free(l2), free(g2), free(s2);
            }
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conv_matches_reference),
        cmocka_unit_test(test_scalar_table_is_reference),
        cmocka_unit_test(test_bn_matches_reference),
        cmocka_unit_test(test_bn_moments_large_mean),
        cmocka_unit_test(test_add_gap_match_reference),
        cmocka_unit_test(test_model_threads_and_reference),
        cmocka_unit_test(test_model_fusions_exact),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
