// test_kernels.c: every vector kernel equals the scalar reference to float
// rounding, on odd sizes (edge tiles, remainders) and random data; and each
// layer's backward agrees with central finite differences of its forward,
// with the scalar objective accumulated in double.
#include "test_util.h"

#include "../src/data/augment.h"
#include "../src/model/kernels.h"
#include "../src/util/rng.h"

static float *rnd(size_t n, rng_state *r, float scale) {
    float *p = lr_aligned_alloc(n * sizeof(float));
    for (size_t i = 0; i < n; i++) p[i] = (2 * rng_float(r) - 1) * scale;
    return p;
}

static float *copy(const float *src, size_t n) {
    float *p = lr_aligned_alloc(n * sizeof(float));
    memcpy(p, src, n * sizeof(float));
    return p;
}

typedef struct { int C, H, W, OC, K; } conv_shape;
static const conv_shape CONV_SHAPES[] = {
    {3, 32, 32, 4, 3}, {4, 15, 15, 8, 3}, {3, 11, 9, 5, 3}, {2, 7, 10, 6, 2}, {5, 9, 8, 7, 5}, {1, 4, 4, 1, 1},
};

// How many vector ISAs this CPU supports, asked of the CPU directly (not of
// kernels_select, which is what is under test).
static int cpu_vector_isas(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    int avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    int avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
                 __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl");
    return avx2 + (avx2 && avx512);
#else
    return 0;
#endif
}

// The vector tables the CPU can run (the scalar one is the reference). Fails
// unless every vector ISA the CPU supports is there, and says which are
// compared, so that a machine without them never passes silently.
static int vector_tables(const kernel_table **out) {
    int n = 0;
    lr_err e;
    const char *names[] = {"avx2", "avx512"};
    char list[64] = "scalar";
    for (int i = 0; i < 2; i++) {
        const kernel_table *t = kernels_select(names[i], &e);
        if (!t) continue;
        assert_string_equal(t->isa, names[i]);
        out[n++] = t;
        strcat(list, ", ");
        strcat(list, names[i]);
    }
    int want = cpu_vector_isas();
    if (n < want) fail_msg("%d vector ISAs usable, but the CPU supports %d", n, want);
    print_message("# compared: %s%s\n", list, n ? "" : " only (this CPU has no AVX2: nothing to compare with)");
    return n;
}

static void test_conv_vector_equals_scalar(void **state) {
    (void)state;
    const kernel_table *vt[2];
    int nv = vector_tables(vt);
    rng_state r;
    rng_seed(&r, 7, 0, 0);
    for (size_t s = 0; s < sizeof CONV_SHAPES / sizeof *CONV_SHAPES; s++) {
        conv_shape c = CONV_SHAPES[s];
        int OH = c.H - c.K + 1, OW = c.W - c.K + 1;
        size_t nin = (size_t)c.C * c.H * c.W * LANES, nout = (size_t)c.OC * OH * OW * LANES;
        size_t nw = (size_t)c.OC * c.C * c.K * c.K;
        float *in = rnd(nin, &r, 1), *w = rnd(nw, &r, 0.5f), *b = rnd(c.OC, &r, 0.5f), *dout = rnd(nout, &r, 1);
        float *out_ref = lr_aligned_alloc(nout * 4), *din_ref = lr_aligned_alloc(nin * 4);
        float *dw_ref = rnd(nw, &r, 1), *db_ref = rnd(c.OC, &r, 1); // accumulate onto non-zero
        float *scratch = lr_aligned_alloc(conv_scratch_floats(c.C, c.H, c.W, c.OC, c.K) * 4);
        float *dw0 = copy(dw_ref, nw), *db0 = copy(db_ref, c.OC);
        kernels_scalar.conv_forward(out_ref, in, w, b, c.C, c.H, c.W, c.OC, c.K);
        kernels_scalar.conv_backward(din_ref, dw_ref, db_ref, dout, in, w, scratch, c.C, c.H, c.W, c.OC, c.K);
        for (int v = 0; v < nv; v++) {
            float *out = lr_aligned_alloc(nout * 4), *din = lr_aligned_alloc(nin * 4);
            float *dw = copy(dw0, nw), *db = copy(db0, c.OC);
            vt[v]->conv_forward(out, in, w, b, c.C, c.H, c.W, c.OC, c.K);
            vt[v]->conv_backward(din, dw, db, dout, in, w, scratch, c.C, c.H, c.W, c.OC, c.K);
            char what[96];
            snprintf(what, sizeof what, "%s conv %dx%dx%d->%d k%d", vt[v]->isa, c.C, c.H, c.W, c.OC, c.K);
            test_assert_close(out, out_ref, nout, 1e-5, 1e-5, what);
            // fused conv + ReLU equals ReLU of the convolution
            float *fused = lr_aligned_alloc(nout * 4), *relu_ref = lr_aligned_alloc(nout * 4);
            vt[v]->conv_relu_forward(fused, in, w, b, c.C, c.H, c.W, c.OC, c.K);
            kernels_scalar.relu_forward(relu_ref, out_ref, nout);
            test_assert_close(fused, relu_ref, nout, 1e-5, 1e-5, what);
            kernels_scalar.conv_relu_forward(fused, in, w, b, c.C, c.H, c.W, c.OC, c.K);
            assert_memory_equal(fused, relu_ref, nout * 4);
            free(fused);
            free(relu_ref);
            test_assert_close(din, din_ref, nin, 1e-5, 1e-5, what);
            test_assert_close(dw, dw_ref, nw, 1e-4, 1e-4, what);
            test_assert_close(db, db_ref, c.OC, 1e-4, 1e-4, what);
            // without din: parameter gradients still right, nothing else touched
            float *dw2 = copy(dw0, nw), *db2 = copy(db0, c.OC);
            vt[v]->conv_backward(NULL, dw2, db2, dout, in, w, scratch, c.C, c.H, c.W, c.OC, c.K);
            test_assert_close(dw2, dw_ref, nw, 1e-4, 1e-4, what);
            free(out); free(din); free(dw); free(db); free(dw2); free(db2);
        }
        free(in); free(w); free(b); free(dout); free(out_ref); free(din_ref);
        free(dw_ref); free(db_ref); free(scratch); free(dw0); free(db0);
    }
}

static void test_pool_relu_linear_vector_equals_scalar(void **state) {
    (void)state;
    const kernel_table *vt[2];
    int nv = vector_tables(vt);
    rng_state r;
    rng_seed(&r, 8, 0, 0);
    // pooling: even, odd (floor) and 3x3 windows; ties and NaN included
    int shapes[][4] = {{4, 30, 30, 2}, {8, 13, 13, 2}, {3, 7, 11, 3}};
    for (int s = 0; s < 3; s++) {
        int C = shapes[s][0], H = shapes[s][1], W = shapes[s][2], P = shapes[s][3];
        size_t nin = (size_t)C * H * W * LANES, nout = (size_t)C * (H / P) * (W / P) * LANES;
        float *in = rnd(nin, &r, 1), *dout = rnd(nout, &r, 1);
        for (size_t i = 0; i < nin; i += 7) in[i] = 0.0f; // ties after ReLU
        in[5 * LANES + 3] = NAN;
        float *o_ref = lr_aligned_alloc(nout * 4), *d_ref = lr_aligned_alloc(nin * 4);
        kernels_scalar.maxpool_forward(o_ref, in, C, H, W, P);
        kernels_scalar.maxpool_backward(d_ref, dout, in, o_ref, C, H, W, P);
        // fused with the ReLU backward: the routed gradient kept only where in > 0
        float *dr_ref = lr_aligned_alloc(nin * 4);
        kernels_scalar.maxpool_relu_backward(dr_ref, dout, in, o_ref, C, H, W, P);
        size_t kept = 0;
        for (size_t i = 0; i < nin; i++) {
            assert_true(dr_ref[i] == (in[i] > 0.0f ? d_ref[i] : 0.0f));
            kept += dr_ref[i] != 0.0f;
        }
        assert_true(kept > 0 && kept < nin);
        for (int v = 0; v < nv; v++) {
            float *o = lr_aligned_alloc(nout * 4), *d = lr_aligned_alloc(nin * 4);
            vt[v]->maxpool_forward(o, in, C, H, W, P);
            vt[v]->maxpool_backward(d, dout, in, o, C, H, W, P);
            assert_memory_equal(o, o_ref, nout * 4); // max is exact, NaN bits included
            assert_memory_equal(d, d_ref, nin * 4);  // routing is exact
            vt[v]->maxpool_relu_backward(d, dout, in, o, C, H, W, P);
            assert_memory_equal(d, dr_ref, nin * 4);
            free(o); free(d);
        }
        free(dr_ref);
        free(in); free(dout); free(o_ref); free(d_ref);
    }
    // relu, NaN propagating forward
    size_t n = 37 * LANES;
    float *x = rnd(n, &r, 1), *g = rnd(n, &r, 1);
    x[3] = NAN;
    x[4] = 0.0f;
    float *y_ref = lr_aligned_alloc(n * 4), *dx_ref = lr_aligned_alloc(n * 4);
    kernels_scalar.relu_forward(y_ref, x, n);
    kernels_scalar.relu_backward(dx_ref, g, y_ref, n);
    assert_true(isnan(y_ref[3]) && y_ref[4] == 0.0f && dx_ref[4] == 0.0f);
    for (int v = 0; v < nv; v++) {
        float *y = lr_aligned_alloc(n * 4), *dx = lr_aligned_alloc(n * 4);
        vt[v]->relu_forward(y, x, n);
        vt[v]->relu_backward(dx, g, y, n);
        assert_memory_equal(y, y_ref, n * 4);
        assert_memory_equal(dx, dx_ref, n * 4);
        free(y); free(dx);
    }
    free(x); free(g); free(y_ref); free(dx_ref);
    // linear: remainders in both dimensions
    int dims[][2] = {{288, 32}, {32, 10}, {37, 11}, {5, 3}, {100, 17}};
    for (int s = 0; s < 5; s++) {
        int I = dims[s][0], O = dims[s][1];
        float *in = rnd((size_t)I * LANES, &r, 1), *w = rnd((size_t)O * I, &r, 0.5f), *b = rnd(O, &r, 1);
        float *dout = rnd((size_t)O * LANES, &r, 1), *dw0 = rnd((size_t)O * I, &r, 1), *db0 = rnd(O, &r, 1);
        float *scratch = lr_aligned_alloc(linear_scratch_floats(I) * 4);
        float *o_ref = lr_aligned_alloc((size_t)O * LANES * 4), *di_ref = lr_aligned_alloc((size_t)I * LANES * 4);
        float *dw_ref = copy(dw0, (size_t)O * I), *db_ref = copy(db0, O);
        kernels_scalar.linear_forward(o_ref, in, w, b, I, O);
        kernels_scalar.linear_backward(di_ref, dw_ref, db_ref, dout, in, w, scratch, I, O);
        for (int v = 0; v < nv; v++) {
            float *o = lr_aligned_alloc((size_t)O * LANES * 4), *di = lr_aligned_alloc((size_t)I * LANES * 4);
            float *dw = copy(dw0, (size_t)O * I), *db = copy(db0, O);
            vt[v]->linear_forward(o, in, w, b, I, O);
            vt[v]->linear_backward(di, dw, db, dout, in, w, scratch, I, O);
            char what[64];
            snprintf(what, sizeof what, "%s linear %d->%d", vt[v]->isa, I, O);
            test_assert_close(o, o_ref, (size_t)O * LANES, 1e-5, 1e-5, what);
            test_assert_close(di, di_ref, (size_t)I * LANES, 1e-5, 1e-5, what);
            test_assert_close(dw, dw_ref, (size_t)O * I, 1e-5, 1e-5, what);
            test_assert_close(db, db_ref, O, 1e-5, 1e-5, what);
            free(o); free(di); free(dw); free(db);
        }
        free(in); free(w); free(b); free(dout); free(dw0); free(db0); free(scratch);
        free(o_ref); free(di_ref); free(dw_ref); free(db_ref);
    }
}

// ---- finite differences ------------------------------------------------
// Objective J = sum(out * R) accumulated in double; dJ/dout = R. Convolution
// and linear layers are linear in each argument, so a central difference is
// exact up to rounding; ReLU and max pooling are tested on inputs kept at
// least 10 eps from their kinks (ggml's approach).

static double objective(const float *out, const float *R, size_t n) {
    double s = 0;
    for (size_t i = 0; i < n; i++) s += (double)out[i] * (double)R[i];
    return s;
}

typedef void (*fwd_fn)(const kernel_table *kt, float *out, float *const *args);

static void check_fd(const char *what, const kernel_table *kt, fwd_fn fwd, float **args, int which,
                     size_t n_arg, const float *analytic, float *out, const float *R, size_t n_out,
                     float eps, double tol) {
    for (size_t i = 0; i < n_arg; i += 1 + n_arg / 97) { // ~100 entries spread over the tensor
        float saved = args[which][i];
        args[which][i] = saved + eps;
        fwd(kt, out, args);
        double jp = objective(out, R, n_out);
        args[which][i] = saved - eps;
        fwd(kt, out, args);
        double jm = objective(out, R, n_out);
        args[which][i] = saved;
        double numeric = (jp - jm) / (2.0 * (double)eps);
        double err = fabs(numeric - analytic[i]);
        if (err > tol * (1.0 + fabs(numeric)))
            fail_msg("%s (%s) arg %d entry %zu: analytic %.7g, numeric %.7g", what, kt->isa, which, i,
                     (double)analytic[i], numeric);
    }
}

static int G_C = 3, G_H = 9, G_W = 8, G_OC = 5, G_K = 3, G_I = 23, G_O = 7, G_P = 2;

static void conv_fwd(const kernel_table *kt, float *out, float *const *a) {
    kt->conv_forward(out, a[0], a[1], a[2], G_C, G_H, G_W, G_OC, G_K);
}
static void linear_fwd(const kernel_table *kt, float *out, float *const *a) {
    kt->linear_forward(out, a[0], a[1], a[2], G_I, G_O);
}
static void relu_fwd(const kernel_table *kt, float *out, float *const *a) {
    kt->relu_forward(out, a[0], (size_t)G_C * G_H * G_W * LANES);
}
static void pool_fwd(const kernel_table *kt, float *out, float *const *a) {
    kt->maxpool_forward(out, a[0], G_C, G_H, G_W, G_P);
}

static void test_gradients_finite_differences(void **state) {
    (void)state;
    const kernel_table *tables[3] = {&kernels_scalar};
    int nt = 1 + vector_tables(tables + 1);
    rng_state r;
    rng_seed(&r, 9, 0, 0);
    const float eps = 1e-2f;
    for (int t = 0; t < nt; t++) {
        const kernel_table *kt = tables[t];
        { // convolution: input, weight, bias
            int OH = G_H - G_K + 1, OW = G_W - G_K + 1;
            size_t nin = (size_t)G_C * G_H * G_W * LANES, nout = (size_t)G_OC * OH * OW * LANES;
            size_t nw = (size_t)G_OC * G_C * G_K * G_K;
            float *a[3] = {rnd(nin, &r, 1), rnd(nw, &r, 0.5f), rnd(G_OC, &r, 0.5f)};
            float *R = rnd(nout, &r, 1), *out = lr_aligned_alloc(nout * 4);
            float *din = lr_aligned_alloc(nin * 4), *dw = lr_aligned_alloc(nw * 4), *db = lr_aligned_alloc(G_OC * 4);
            float *scratch = lr_aligned_alloc(conv_scratch_floats(G_C, G_H, G_W, G_OC, G_K) * 4);
            kt->conv_backward(din, dw, db, R, a[0], a[1], scratch, G_C, G_H, G_W, G_OC, G_K);
            check_fd("conv input", kt, conv_fwd, a, 0, nin, din, out, R, nout, eps, 5e-4);
            check_fd("conv weight", kt, conv_fwd, a, 1, nw, dw, out, R, nout, eps, 5e-4);
            check_fd("conv bias", kt, conv_fwd, a, 2, G_OC, db, out, R, nout, eps, 5e-4);
            for (int i = 0; i < 3; i++) free(a[i]);
            free(R); free(out); free(din); free(dw); free(db); free(scratch);
        }
        { // linear: input, weight, bias
            size_t nin = (size_t)G_I * LANES, nout = (size_t)G_O * LANES, nw = (size_t)G_O * G_I;
            float *a[3] = {rnd(nin, &r, 1), rnd(nw, &r, 0.5f), rnd(G_O, &r, 0.5f)};
            float *R = rnd(nout, &r, 1), *out = lr_aligned_alloc(nout * 4);
            float *din = lr_aligned_alloc(nin * 4), *dw = lr_aligned_alloc(nw * 4), *db = lr_aligned_alloc(G_O * 4);
            float *scratch = lr_aligned_alloc(linear_scratch_floats(G_I) * 4);
            kt->linear_backward(din, dw, db, R, a[0], a[1], scratch, G_I, G_O);
            check_fd("linear input", kt, linear_fwd, a, 0, nin, din, out, R, nout, eps, 5e-4);
            check_fd("linear weight", kt, linear_fwd, a, 1, nw, dw, out, R, nout, eps, 5e-4);
            check_fd("linear bias", kt, linear_fwd, a, 2, G_O, db, out, R, nout, eps, 5e-4);
            for (int i = 0; i < 3; i++) free(a[i]);
            free(R); free(out); free(din); free(dw); free(db); free(scratch);
        }
        { // relu and max pooling on distinct values >= 10 eps apart and from 0
            size_t n = (size_t)G_C * G_H * G_W * LANES;
            size_t npool = (size_t)G_C * (G_H / G_P) * (G_W / G_P) * LANES;
            float *a[1] = {lr_aligned_alloc(n * 4)};
            for (size_t i = 0; i < n; i++) { // a shuffled ladder of values 0.1 apart, none near 0
                uint32_t j = rng_below(&r, (uint32_t)(i + 1));
                a[0][i] = a[0][j];
                a[0][j] = ((float)i - (float)n / 2 + 0.5f) * 0.1f;
            }
            float *R = rnd(n, &r, 1), *out = lr_aligned_alloc(n * 4), *din = lr_aligned_alloc(n * 4);
            kt->relu_forward(out, a[0], n);
            kt->relu_backward(din, R, out, n);
            check_fd("relu", kt, relu_fwd, a, 0, n, din, out, R, n, eps, 5e-4);
            float *Rp = rnd(npool, &r, 1), *pout = lr_aligned_alloc(npool * 4);
            kt->maxpool_forward(pout, a[0], G_C, G_H, G_W, G_P);
            kt->maxpool_backward(din, Rp, a[0], pout, G_C, G_H, G_W, G_P);
            check_fd("maxpool", kt, pool_fwd, a, 0, n, din, pout, Rp, npool, eps, 5e-4);
            free(a[0]); free(R); free(out); free(din); free(Rp); free(pout);
        }
    }
}

static void test_softmax_xent_finite_differences(void **state) {
    (void)state;
    rng_state r;
    rng_seed(&r, 10, 0, 0);
    const int K = 10;
    float *logits = rnd((size_t)K * LANES, &r, 3), *dlogits = lr_aligned_alloc((size_t)K * LANES * 4);
    float loss[LANES];
    int pred[LANES], labels[LANES];
    for (int l = 0; l < LANES; l++) labels[l] = l < 13 ? (int)rng_below(&r, K) : -1; // 3 empty lanes
    const float scale = 1.0f / 13;
    softmax_xent(dlogits, loss, pred, logits, labels, K, scale);
    for (int l = 13; l < LANES; l++) {
        assert_true(loss[l] == 0.0f && pred[l] == -1);
        for (int k = 0; k < K; k++) assert_true(dlogits[k * LANES + l] == 0.0f);
    }
    const float eps = 1e-2f;
    for (int i = 0; i < K * 13; i++) {
        int idx = (i % K) * LANES + i / K;
        float saved = logits[idx];
        double jp = 0, jm = 0;
        float tmp[K * LANES];
        logits[idx] = saved + eps;
        softmax_xent(tmp, loss, pred, logits, labels, K, scale);
        for (int l = 0; l < LANES; l++) jp += loss[l];
        logits[idx] = saved - eps;
        softmax_xent(tmp, loss, pred, logits, labels, K, scale);
        for (int l = 0; l < LANES; l++) jm += loss[l];
        logits[idx] = saved;
        double numeric = (jp - jm) / (2.0 * eps) * scale;
        assert_true(fabs(numeric - dlogits[idx]) <= 1e-3 * (1e-2 + fabs(numeric)) + 1e-4);
    }
    free(logits);
    free(dlogits);
}

// The AVX-512 image transform equals augment_group bit for bit: random
// crops and flips, empty lanes, and no padding (evaluation).
static void test_transform_avx512_equals_scalar(void **state) {
    (void)state;
    if (!augment_avx512_usable("avx512", 32)) {
        // Not a pass in disguise: the portable transform is what runs then,
        // and test_data checks it against torchvision's definition.
        print_message("# AVX-512 VBMI not available: portable transform only\n");
        assert_false(augment_avx512_usable("avx512", 32));
        return;
    }
    assert_false(augment_avx512_usable("avx2", 32));   // follows --isa
    assert_false(augment_avx512_usable("auto", 28));   // 32-pixel rows only
    rng_state r;
    rng_seed(&r, 12, 0, 0);
    const int n = 50, C = 3, H = 32, W = 32;
    const size_t img = (size_t)C * H * W, nf = img * LANES;
    uint8_t *pixels = lr_malloc(n * img);
    for (size_t i = 0; i < n * img; i++) pixels[i] = (uint8_t)rng_u64(&r);
    float mean[3] = {0.4914f, 0.4822f, 0.4465f}, std[3] = {0.2023f, 0.1994f, 0.2010f}, lut[3 * 256];
    augment_build_lut(lut, C, mean, std);
    float *ref = lr_aligned_alloc(nf * 4), *got = lr_aligned_alloc(nf * 4);
    for (int trial = 0; trial < 60; trial++) {
        int pad = trial % 3 == 2 ? 0 : 4;
        const uint8_t *src[LANES];
        uint8_t top[LANES], left[LANES], flip[LANES];
        for (int l = 0; l < LANES; l++) {
            int empty = trial % 4 == 3 && l >= 9;
            src[l] = empty ? NULL : pixels + (size_t)rng_below(&r, n) * img;
            top[l] = empty ? 0 : (uint8_t)rng_below(&r, (uint32_t)(2 * pad + 1));
            left[l] = empty ? 0 : (uint8_t)rng_below(&r, (uint32_t)(2 * pad + 1));
            flip[l] = empty ? 0 : (uint8_t)(rng_u64(&r) & 1);
        }
        augment_group(ref, src, top, left, flip, C, H, W, pad, lut);
        memset(got, 0xff, nf * 4);
        augment_group_avx512(got, src, top, left, flip, C, H, W, pad, mean, std);
        assert_memory_equal(got, ref, nf * 4);
    }
    free(pixels);
    free(ref);
    free(got);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conv_vector_equals_scalar),
        cmocka_unit_test(test_pool_relu_linear_vector_equals_scalar),
        cmocka_unit_test(test_gradients_finite_differences),
        cmocka_unit_test(test_softmax_xent_finite_differences),
        cmocka_unit_test(test_transform_avx512_equals_scalar),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
