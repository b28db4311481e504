// test_layers.c: the layers of residual networks against PyTorch 1.13
// (tests/data/torch_layers.bin, tools/torch_reference_layers.py): each
// kernel forward and backward; batch norm through the batch driver in both
// modes with its running statistics; a whole ResNet-8 with three SGD steps;
// finite differences of every new layer's backward; determinism over thread
// counts; the model language's errors; named models; initialisation; the
// weights file's buffers.
#include "test_util.h"
#include "tensor_file.h"

#include "../src/model/layers.h"
#include "../src/model/model.h"
#include "../src/model/model_batch.h"
#include "../src/study/weights.h"
#include "../src/train/config.h"
#include "../src/train/knobs.h"
#include "../src/train/optim.h"
#include "../src/train/pool.h"
#include "../src/util/fsutil.h"
#include "../src/util/rng.h"

#include <zlib.h>

enum { N = 20, K = 10 };

// The kernels under test (main runs the suite once per available ISA).
static const kernel_table *KT;
static ref_file REF;

static int setup(void **state) {
    (void)state;
    return ref_file_load(&REF, "tests/data/torch_layers.bin");
}
static int teardown(void **state) {
    (void)state;
    ref_file_free(&REF);
    return 0;
}

static const ref_tensor *need(const char *name) {
    const ref_tensor *t = ref_get(&REF, name);
    if (!t) fail_msg("reference tensor %s missing", name);
    return t;
}
static const ref_tensor *needf(const char *prefix, const char *name) {
    char full[96];
    snprintf(full, sizeof full, "%s.%s", prefix, name);
    return need(full);
}

// Batch rows [g*16, g*16+16) of x (n, img) into the lane layout (img, L); empty lanes zero.
static void to_lanes(float *dst, const float *x, int n, int g, size_t img) {
    memset(dst, 0, img * LANES * sizeof(float));
    for (int l = 0; l < LANES && g * LANES + l < n; l++)
        for (size_t i = 0; i < img; i++) dst[i * LANES + l] = x[(size_t)(g * LANES + l) * img + i];
}
static void from_lanes(float *x, const float *src, int n, int g, size_t img) {
    for (int l = 0; l < LANES && g * LANES + l < n; l++)
        for (size_t i = 0; i < img; i++) x[(size_t)(g * LANES + l) * img + i] = src[i * LANES + l];
}
static int nvalid_of(int n, int g) { return n - g * LANES >= LANES ? LANES : n - g * LANES; }

// ---- kernels, layer by layer --------------------------------------------------

// Runs a layer over the 2 groups of N images: fwd(out, in) per group, and
// bwd(din, dout) per group; checks y and dx against the reference.
typedef struct {
    void (*fwd)(void *ctx, float *out, const float *in);
    void (*bwd)(void *ctx, float *din, const float *dout, const float *in);
    void *ctx;
} layer_fns;

static void check_layer(const char *nm, size_t in_img, size_t out_img, layer_fns f) {
    const ref_tensor *x = needf(nm, "x"), *y = needf(nm, "y"), *dy = needf(nm, "dy"), *dx = needf(nm, "dx");
    assert_int_equal(x->n, N * in_img);
    assert_int_equal(y->n, N * out_img);
    float *xl = lr_aligned_alloc(in_img * LANES * 4), *yl = lr_aligned_alloc(out_img * LANES * 4);
    float *dyl = lr_aligned_alloc(out_img * LANES * 4), *dxl = lr_aligned_alloc(in_img * LANES * 4);
    float *yo = lr_calloc(y->n, 4), *dxo = lr_calloc(x->n, 4);
    for (int g = 0; g * LANES < N; g++) {
        to_lanes(xl, x->data, N, g, in_img);
        f.fwd(f.ctx, yl, xl);
        from_lanes(yo, yl, N, g, out_img);
        to_lanes(dyl, dy->data, N, g, out_img);
        f.bwd(f.ctx, dxl, dyl, xl);
        from_lanes(dxo, dxl, N, g, in_img);
    }
    char what[96];
    snprintf(what, sizeof what, "%s forward", nm);
    test_assert_close(yo, y->data, y->n, 1e-5, 1e-6, what);
    snprintf(what, sizeof what, "%s input gradient", nm);
    test_assert_close(dxo, dx->data, dx->n, 1e-5, 1e-6, what);
    free(xl), free(yl), free(dyl), free(dxl), free(yo), free(dxo);
}

typedef struct {
    int C, H, W, OC, K, S, P;
    const float *w, *b;
    float *dw, *db;
} conv_ctx;
static void conv_fwd(void *p, float *out, const float *in) {
    conv_ctx *c = p;
    conv2_forward_ref(out, in, c->w, c->b, c->C, c->H, c->W, c->OC, c->K, c->S, c->P);
}
static void conv_bwd(void *p, float *din, const float *dout, const float *in) {
    conv_ctx *c = p;
    conv2_backward_ref(din, c->dw, c->db, dout, in, c->w, c->C, c->H, c->W, c->OC, c->K, c->S, c->P);
}

static void check_conv(const char *nm, int C, int H, int W, int OC, int Kk, int S, int P, int bias) {
    conv_ctx c = {C, H, W, OC, Kk, S, P, needf(nm, "w")->data, bias ? needf(nm, "b")->data : NULL, NULL, NULL};
    const size_t nw = (size_t)OC * C * Kk * Kk;
    c.dw = lr_calloc(nw, 4);
    c.db = bias ? lr_calloc((size_t)OC, 4) : NULL;
    int OH = conv_out_size(H, Kk, S, P), OW = conv_out_size(W, Kk, S, P);
    check_layer(nm, (size_t)C * H * W, (size_t)OC * OH * OW, (layer_fns){conv_fwd, conv_bwd, &c});
    test_assert_close(c.dw, needf(nm, "dw")->data, nw, 1e-5, 1e-5, "conv weight gradient");
    if (bias) test_assert_close(c.db, needf(nm, "db")->data, (size_t)OC, 1e-5, 1e-5, "conv bias gradient");
    free(c.dw);
    free(c.db);
}

static void test_conv_padding_stride_bias(void **state) {
    (void)state;
    assert_int_equal(conv_out_size(7, 3, 2, 1), 4);
    assert_int_equal(conv_out_size(5, 2, 1, 2), 8);
    assert_int_equal(conv_out_size(3, 5, 2, 0), 0);
    check_conv("convA", 3, 7, 7, 4, 3, 2, 1, 0);
    check_conv("convB", 3, 5, 6, 5, 2, 1, 2, 1);
}

// Option A: a (N, 8, 4, 4) plus the shortcut of s (N, 4, 7, 7) subsampled by
// 2 and padded with 2 zero channels on each side.
static void test_add_option_a(void **state) {
    (void)state;
    const ref_tensor *a = need("addA.x"), *s = need("addA.s"), *y = need("addA.y"), *dy = need("addA.dy");
    const size_t AI = 8 * 4 * 4, SI = 4 * 7 * 7;
    float *al = lr_aligned_alloc(AI * LANES * 4), *sl = lr_aligned_alloc(SI * LANES * 4);
    float *yl = lr_aligned_alloc(AI * LANES * 4), *dyl = lr_aligned_alloc(AI * LANES * 4);
    float *dsl = lr_aligned_alloc(SI * LANES * 4);
    float *yo = lr_calloc(y->n, 4), *dso = lr_calloc(s->n, 4);
    for (int g = 0; g < 2; g++) {
        to_lanes(al, a->data, N, g, AI);
        to_lanes(sl, s->data, N, g, SI);
        add_forward_ref(yl, al, sl, 8, 4, 4, 4, 7, 7);
        from_lanes(yo, yl, N, g, AI);
        to_lanes(dyl, dy->data, N, g, AI);
        memset(dsl, 0, SI * LANES * 4);
        add_backward_skip_ref(dsl, dyl, 8, 4, 4, 4, 7, 7);
        from_lanes(dso, dsl, N, g, SI);
    }
    test_assert_close(yo, y->data, y->n, 1e-6, 1e-7, "option-A add forward");
    test_assert_close(dso, need("addA.ds")->data, s->n, 1e-6, 1e-7, "option-A shortcut gradient");
    // The residual branch's gradient is dy itself (model.c passes it through).
    test_assert_close(need("addA.dx")->data, dy->data, dy->n, 0, 0, "add dx");
    // Channels outside the padded band get nothing from the shortcut.
    for (int c = 0; c < 8; c++)
        if (c < 2 || c >= 6) assert_true(y->data[c * 16 + 5] == a->data[c * 16 + 5]);
    free(al), free(sl), free(yl), free(dyl), free(dsl), free(yo), free(dso);
}

static void gap_fwd(void *p, float *out, const float *in) { (void)p, gap_forward_ref(out, in, 3, 25); }
static void gap_bwd(void *p, float *din, const float *dout, const float *in) {
    (void)p, (void)in;
    gap_backward_ref(din, dout, 3, 25);
}
static void avg_fwd(void *p, float *out, const float *in) { (void)p, avgpool_forward_ref(out, in, 2, 7, 7, 3, 2); }
static void avg_bwd(void *p, float *din, const float *dout, const float *in) {
    (void)p, (void)in;
    avgpool_backward_ref(din, dout, 2, 7, 7, 3, 2);
}

static void test_gap_avgpool(void **state) {
    (void)state;
    check_layer("gap", 3 * 25, 3, (layer_fns){gap_fwd, gap_bwd, NULL});
    check_layer("avgpool", 2 * 49, 2 * 9, (layer_fns){avg_fwd, avg_bwd, NULL});
}

typedef struct {
    float mean[3], invstd[3], dw[3], db[3];
    const float *w, *b;
    int nv;
} bne_ctx;
static void bne_fwd(void *p, float *out, const float *in) {
    bne_ctx *c = p;
    bn_normalise_ref(out, in, c->mean, c->invstd, c->w, c->b, 3, 20);
}
static void bne_bwd(void *p, float *din, const float *dout, const float *in) {
    bne_ctx *c = p;
    bn_backward_eval_ref(din, c->dw, c->db, dout, in, c->mean, c->invstd, c->w, 3, 20, LANES);
}

static void test_bn_eval_kernels(void **state) {
    (void)state;
    bne_ctx c = {.w = need("bnE.w")->data, .b = need("bnE.b")->data};
    for (int k = 0; k < 3; k++) {
        c.mean[k] = need("bnE.rm")->data[k];
        c.invstd[k] = 1.0f / sqrtf(need("bnE.rv")->data[k] + 1e-5f);
    }
    check_layer("bnE", 3 * 20, 3 * 20, (layer_fns){bne_fwd, bne_bwd, &c});
    test_assert_close(c.dw, need("bnE.dw")->data, 3, 1e-5, 1e-5, "bn eval weight gradient");
    test_assert_close(c.db, need("bnE.db")->data, 3, 1e-5, 1e-5, "bn eval bias gradient");
}

// ---- the batch driver ----------------------------------------------------------

typedef struct {
    model_desc m;
    model_batch b;
    pool *p;
    float *state, *slots, *grads, *xl;
    size_t img;
    int groups;
} rig;

static void rig_open(rig *r, const char *spec, int c, int h, int w, int n, int threads) {
    memset(r, 0, sizeof *r);
    lr_err e;
    if (model_build(&r->m, spec, c, h, w, K, &e) != 0) fail_msg("%s", e.msg);
    r->groups = (n + LANES - 1) / LANES;
    model_batch_init(&r->b, &r->m, r->groups);
    r->p = pool_create(threads);
    r->state = lr_aligned_alloc(model_state_floats(&r->m) * sizeof(float));
    model_init_params(&r->m, r->state, 1);
    r->slots = lr_aligned_alloc((size_t)r->groups * r->m.n_params * sizeof(float));
    r->grads = lr_aligned_alloc(r->m.n_params * sizeof(float));
    r->img = (size_t)c * h * w;
    r->xl = lr_aligned_alloc((size_t)r->groups * r->img * LANES * sizeof(float));
}
static void rig_close(rig *r) {
    model_batch_free(&r->b);
    pool_destroy(r->p);
    free(r->state), free(r->slots), free(r->grads), free(r->xl);
}

// Forward (and backward when grads) of n images x (n, img) with labels y;
// returns the mean loss; logits (n, K) when not NULL; grads = the slots
// added in group order. -1.0 with e when the driver refuses.
static double rig_step(rig *r, const float *x, const float *y, int n, int train, uint64_t step,
                       float *logits, int backward, lr_err *e) {
    const float *xs[64];
    int nv[64];
    LR_ASSERT(r->groups <= 64);
    for (int g = 0; g < r->groups; g++) {
        to_lanes(r->xl + (size_t)g * r->img * LANES, x, n, g, r->img);
        xs[g] = r->xl + (size_t)g * r->img * LANES;
        nv[g] = nvalid_of(n, g);
    }
    model_batch_step st = {.train = train, .seed = 5, .step = step};
    if (model_batch_forward(&r->b, KT, r->state, xs, nv, r->groups, &st, r->p, e) != 0) return -1.0;
    double loss = 0.0;
    for (int g = 0; g < r->groups; g++) {
        model_ws *ws = &r->b.ws[g];
        int labels[LANES];
        for (int l = 0; l < LANES; l++) labels[l] = l < nv[g] ? (int)y[g * LANES + l] : -1;
        const float *lg = ws->act[r->m.n_layers];
        softmax_xent(ws->dlogits, ws->loss, ws->pred, lg, labels, K, 1.0f / (float)n);
        for (int l = 0; l < nv[g]; l++) loss += ws->loss[l];
        if (logits) from_lanes(logits, lg, n, g, K);
    }
    if (backward) {
        model_batch_backward(&r->b, KT, r->state, r->slots, r->groups, r->p);
        memcpy(r->grads, r->slots, r->m.n_params * sizeof(float));
        for (int g = 1; g < r->groups; g++)
            for (size_t i = 0; i < r->m.n_params; i++) r->grads[i] += r->slots[(size_t)g * r->m.n_params + i];
    }
    return loss / n;
}

static void check_bn_model(const char *nm, const char *spec, int c, int h, int w, int threads) {
    rig r;
    lr_err e;
    rig_open(&r, spec, c, h, w, N, threads);
    const ref_tensor *init = needf(nm, "init");
    assert_int_equal(init->n, r.m.n_params);
    memcpy(r.state, init->data, init->n * 4);
    float logits[N * K];
    double loss = rig_step(&r, needf(nm, "x0")->data, needf(nm, "y0")->data, N, 1, 0, logits, 1, &e);
    test_assert_close(logits, needf(nm, "logits0")->data, N * K, 1e-5, 1e-6, "bn model logits");
    assert_true(fabs(loss - needf(nm, "loss0")->data[0]) <= 1e-5 * fabs(needf(nm, "loss0")->data[0]));
    test_assert_close(r.grads, needf(nm, "grad0")->data, r.m.n_params, 1e-5, 1e-6, "bn model gradients");
    test_assert_close(r.state + r.m.n_params, needf(nm, "buf1")->data, r.m.n_buffers, 1e-5, 1e-6,
                      "running statistics after one update");
    rig_step(&r, needf(nm, "x1")->data, needf(nm, "y0")->data, N, 1, 1, NULL, 0, &e);
    test_assert_close(r.state + r.m.n_params, needf(nm, "buf2")->data, r.m.n_buffers, 1e-5, 1e-6,
                      "running statistics after two updates");
    rig_step(&r, needf(nm, "x1")->data, needf(nm, "y0")->data, N, 0, 2, logits, 0, &e);
    test_assert_close(logits, needf(nm, "eval1")->data, N * K, 1e-5, 1e-6, "bn eval-mode logits");
    // Eval mode left the running statistics alone.
    test_assert_close(r.state + r.m.n_params, needf(nm, "buf2")->data, r.m.n_buffers, 1e-5, 1e-6,
                      "running statistics after eval");
    rig_close(&r);
}

static void test_bn2d_train_and_eval(void **state) {
    (void)state;
    check_bn_model("bn2", "conv:4:3:p=1, bn, relu, linear", 3, 6, 6, 1);
    check_bn_model("bn2", "conv:4:3:p=1, bn, relu, linear", 3, 6, 6, 2);
}
static void test_bn1d_train_and_eval(void **state) {
    (void)state;
    check_bn_model("bn1", "linear:8,bn,relu,linear", 3, 4, 4, 2);
}

#define RESNET8 "conv:16:3:p=1:bias=0,bn,r0=relu," \
    "conv:16:3:p=1:bias=0,bn,relu,conv:16:3:p=1:bias=0,bn,add:r0,r1=relu," \
    "conv:32:3:s=2:p=1:bias=0,bn,relu,conv:32:3:p=1:bias=0,bn,add:r1:A,r2=relu," \
    "conv:64:3:s=2:p=1:bias=0,bn,relu,conv:64:3:p=1:bias=0,bn,add:r2:A,r3=relu,gap,linear"

// ResNet-8 for three SGD steps; returns the final state (caller frees).
static float *run_resnet8(int threads) {
    rig r;
    lr_err e;
    rig_open(&r, RESNET8, 3, 16, 16, N, threads);
    assert_int_equal(r.m.n_params, 75290);
    assert_int_equal(r.m.n_buffers, 2 * (16 + 16 * 2 + 32 * 2 + 64 * 2));
    memcpy(r.state, need("r8.init")->data, r.m.n_params * 4);
    test_assert_close(r.state + r.m.n_params, need("r8.buf0")->data, r.m.n_buffers, 0, 0, "initial buffers");
    float *mom = lr_aligned_alloc(r.m.n_params * 4), logits[N * K];
    int first = 1;
    for (int s = 0; s < 3; s++) {
        char xn[8], yn[8];
        snprintf(xn, sizeof xn, "r8.x%d", s);
        snprintf(yn, sizeof yn, "r8.y%d", s);
        double loss = rig_step(&r, need(xn)->data, need(yn)->data, N, 1, (uint64_t)s, logits, 1, &e);
        if (s == 0) {
            test_assert_close(logits, need("r8.logits0")->data, N * K, 1e-5, 1e-5, "ResNet-8 logits");
            assert_true(fabs(loss - need("r8.loss0")->data[0]) <= 1e-5 * fabs(need("r8.loss0")->data[0]));
            test_assert_close(r.grads, need("r8.grad0")->data, r.m.n_params, 1e-5, 1e-5, "ResNet-8 gradients");
        }
        sgd_step(r.state, r.grads, mom, r.m.n_params, 0.1f, 0.9f, 5e-4f, &first);
    }
    test_assert_close(r.state, need("r8.final")->data, r.m.n_params, 1e-5, 1e-5, "ResNet-8 after 3 SGD steps");
    test_assert_close(r.state + r.m.n_params, need("r8.buffinal")->data, r.m.n_buffers, 1e-5, 1e-5,
                      "ResNet-8 running statistics");
    rig_step(&r, need("r8.x0")->data, need("r8.y0")->data, N, 0, 3, logits, 0, &e);
    test_assert_close(logits, need("r8.evalx0")->data, N * K, 1e-5, 1e-5, "ResNet-8 eval logits");
    float *out = lr_aligned_alloc(model_state_floats(&r.m) * 4);
    memcpy(out, r.state, model_state_floats(&r.m) * 4);
    free(mom);
    rig_close(&r);
    return out;
}

static void test_resnet8_parity_and_threads(void **state) {
    (void)state;
    float *a = run_resnet8(1), *b = run_resnet8(2);
    model_desc m;
    lr_err e;
    assert_int_equal(model_build(&m, RESNET8, 3, 16, 16, K, &e), 0);
    // Same bits whatever the thread count: the sums run in group order.
    assert_memory_equal(a, b, model_state_floats(&m) * sizeof(float));
    free(a);
    free(b);
}

// Models without batch norm: the driver gives the per-group path's bits.
static void test_driver_matches_group_path(void **state) {
    (void)state;
    rig r;
    lr_err e;
    rig_open(&r, MODEL_SEED_SPEC, 3, 12, 12, N, 2);
    float x[N * 3 * 144], y[N];
    for (int i = 0; i < N * 3 * 144; i++) x[i] = sinf(0.37f * i);
    for (int i = 0; i < N; i++) y[i] = (float)(i % K);
    float logits[N * K];
    rig_step(&r, x, y, N, 1, 0, logits, 1, &e);
    model_ws ws;
    model_ws_alloc(&ws, &r.m);
    float *grads = lr_aligned_alloc(r.m.n_params * 4), *xl = lr_aligned_alloc(r.img * LANES * 4);
    for (int g = 0; g < r.groups; g++) {
        to_lanes(xl, x, N, g, r.img);
        int labels[LANES];
        for (int l = 0; l < LANES; l++) labels[l] = g * LANES + l < N ? (int)y[g * LANES + l] : -1;
        const float *lg = model_forward(&r.m, KT, r.state, &ws, xl);
        softmax_xent(ws.dlogits, ws.loss, ws.pred, lg, labels, K, 1.0f / N);
        memset(grads, 0, r.m.n_params * 4);
        model_backward(&r.m, KT, r.state, grads, &ws, ws.dlogits);
        assert_memory_equal(grads, r.slots + (size_t)g * r.m.n_params, r.m.n_params * 4);
        float lo[N * K] = {0}, want[N * K] = {0};
        from_lanes(lo, lg, N, g, K);
        memcpy(want, logits, sizeof want);
        for (int l = 0; l < nvalid_of(N, g); l++)
            assert_memory_equal(lo + (g * LANES + l) * K, want + (g * LANES + l) * K, K * 4);
    }
    model_ws_free(&ws);
    free(grads), free(xl);
    rig_close(&r);
}

// ---- finite differences ----------------------------------------------------------

static void fd_check(const char *spec, int c, int h, int w, int train) {
    rig r;
    lr_err e;
    rig_open(&r, spec, c, h, w, N, 2);
    rng_state g;
    rng_seed(&g, 11, 99, 0);
    // Batch norm's weight and bias away from 1 and 0, so no term hides.
    for (int i = 0; i < r.m.n_layers; i++) {
        const layer *ly = &r.m.layers[i];
        if (ly->kind != LAYER_BN) continue;
        for (int k = 0; k < ly->c; k++) {
            r.state[ly->w_off + k] = 0.7f + 0.6f * rng_float(&g);
            r.state[ly->b_off + k] = 0.4f * rng_float(&g) - 0.2f;
            r.state[r.m.n_params + ly->buf_off + k] = 0.3f * rng_float(&g);
            r.state[r.m.n_params + ly->buf_off + ly->c + k] = 0.5f + rng_float(&g);
        }
    }
    float *x = lr_calloc((size_t)N * r.img, 4), y[N];
    for (size_t i = 0; i < N * r.img; i++) x[i] = 2.0f * rng_float(&g) - 1.0f;
    for (int i = 0; i < N; i++) y[i] = (float)rng_below(&g, K);
    rig_step(&r, x, y, N, train, 3, NULL, 1, &e);
    float *an = lr_calloc(r.m.n_params, 4);
    memcpy(an, r.grads, r.m.n_params * 4);
    int checked = 0;
    for (int i = 0; i < r.m.n_layers; i++) {
        const layer *ly = &r.m.layers[i];
        size_t pick[5] = {ly->w_off, ly->w_off + ly->w_n / 2, ly->w_off + ly->w_n - 1, ly->b_off, ly->b_off + ly->b_n - 1};
        for (int j = 0; j < 5; j++) {
            if (ly->w_n == 0 || (j >= 3 && ly->b_n == 0)) continue;
            size_t k = pick[j];
            const float h0 = 1e-2f, keep = r.state[k];
            r.state[k] = keep + h0;
            double lp = rig_step(&r, x, y, N, train, 3, NULL, 0, &e);
            r.state[k] = keep - h0;
            double lm = rig_step(&r, x, y, N, train, 3, NULL, 0, &e);
            r.state[k] = keep;
            double fd = (lp - lm) / (2.0 * h0);
            if (!(fabs(fd - an[k]) <= 2e-3 + 3e-2 * fabs(an[k])))
                fail_msg("%s: layer %d (%s) parameter %zu: analytic %.6g, finite difference %.6g", spec, i + 1,
                         ly->text, k, (double)an[k], fd);
            checked++;
        }
    }
    assert_true(checked >= 6);
    free(x), free(an);
    rig_close(&r);
}

static void test_finite_differences(void **state) {
    (void)state;
    fd_check("conv:3:3:p=1,conv:4:3:s=2:p=1:bias=0,linear", 3, 8, 8, 1);
    fd_check("conv:3:3:p=1,bn,linear", 3, 6, 6, 1);  // bn 2-D through the batch
    fd_check("conv:3:3:p=1,bn,linear", 3, 6, 6, 0);  // bn eval mode
    fd_check("linear:6,bn,linear", 3, 4, 4, 1);      // bn 1-D through the batch
    fd_check("conv:4:3:p=1,r=conv:4:3:p=1,conv:8:3:s=2:p=1,add:r:A,linear", 3, 8, 8, 1);
    fd_check("a=conv:4:3:p=1,b=conv:4:3:p=1,conv:4:1:from=a,add:b,linear", 3, 6, 6, 1);
    // option B: a strided 1x1 conv and bn on the shortcut, both through the batch
    fd_check("r=conv:4:3:p=1,conv:8:3:s=2:p=1,m=bn,conv:8:1:s=2:bias=0:from=r,bn,add:m,linear", 3, 8, 8, 1);
    fd_check("conv:4:3:p=1,gap,linear", 3, 6, 6, 1);
    fd_check("conv:3:3,avgpool:3:s=2,linear", 3, 9, 9, 1);
    fd_check("conv:4:3,dropout:0.3,linear", 3, 6, 6, 1);
    fd_check("conv:4:3,flatten,linear:6,linear", 3, 5, 5, 1);
}

// ---- dropout ---------------------------------------------------------------------

static void test_dropout(void **state) {
    (void)state;
    lr_err e;
    rig a, b;
    rig_open(&a, "conv:4:3,dropout:0.5,linear", 3, 8, 8, N, 1);
    rig_open(&b, "conv:4:3,linear", 3, 8, 8, N, 1);
    assert_int_equal(a.m.n_params, b.m.n_params);
    float x[N * 192], y[N], la[N * K], lb[N * K];
    for (int i = 0; i < N * 192; i++) x[i] = cosf(0.11f * i);
    for (int i = 0; i < N; i++) y[i] = (float)(i % K);
    rig_step(&a, x, y, N, 0, 0, la, 0, &e);
    rig_step(&b, x, y, N, 0, 0, lb, 0, &e);
    assert_memory_equal(la, lb, sizeof la); // eval: the identity
    rig_step(&a, x, y, N, 1, 0, la, 0, &e);
    const float *mask = a.b.ws[0].mask[1];
    size_t zero = 0, two = 0, n = a.m.act_floats[2];
    for (size_t i = 0; i < n; i++) zero += mask[i] == 0.0f, two += mask[i] == 2.0f;
    assert_int_equal(zero + two, n);
    assert_true(fabs((double)zero / n - 0.5) < 0.05);
    float keep[4 * 36 * LANES];
    memcpy(keep, mask, sizeof keep);
    rig_step(&a, x, y, N, 1, 0, la, 0, &e);
    assert_memory_equal(keep, a.b.ws[0].mask[1], sizeof keep); // same step: same mask
    rig_step(&a, x, y, N, 1, 1, la, 0, &e);
    assert_memory_not_equal(keep, a.b.ws[0].mask[1], sizeof keep); // next step: another
    // Group 1's lanes are images 16..19 whoever computes them.
    float m2[4 * 36 * LANES];
    rig c;
    rig_open(&c, "conv:4:3,dropout:0.5,linear", 3, 8, 8, N, 2);
    rig_step(&c, x, y, N, 1, 1, NULL, 0, &e);
    memcpy(m2, c.b.ws[1].mask[1], sizeof m2);
    assert_memory_equal(m2, a.b.ws[1].mask[1], sizeof m2);
    rig_close(&a), rig_close(&b), rig_close(&c);
}

// ---- the model language ------------------------------------------------------------

static void expect_error(const char *spec, int c, int h, int w, const char *msg) {
    model_desc m;
    lr_err e = {0};
    assert_int_equal(model_build(&m, spec, c, h, w, K, &e), -1);
    if (!strstr(e.msg, msg)) fail_msg("%s: got \"%s\", expected it to contain \"%s\"", spec, e.msg, msg);
}

static void test_language_errors(void **state) {
    (void)state;
    expect_error("conv:8:3:p=1,r=relu,conv:16:3:s=2:p=1,add:r,linear", 3, 8, 8,
                 "--model: layer 4 (add:r): shapes 16x4x4 and 8x8x8 (r) do not meet; add :A for He et al.'s "
                 "option-A shortcut");
    expect_error("conv:8:3:p=1,r=relu,conv:9:3:s=2:p=1,add:r:A,linear", 3, 8, 8,
                 "--model: layer 4 (add:r:A): shapes 9x4x4 and 8x8x8 (r) do not meet (option A");
    expect_error("conv:4:5:s=2,linear", 3, 3, 3,
                 "--model: layer 1 (conv:4:5:s=2): a 3x3x3 input gives no output (kernel 5, stride 2, padding 0)");
    expect_error("conv:8:3,gap,linear:10:in=16", 3, 8, 8,
                 "--model: layer 3 (linear:10:in=16): expects 16 inputs, gets 8x1x1 = 8");
    expect_error("conv:4:3,add:nope,linear", 3, 8, 8, "--model: layer 2 (add:nope): add:nope names no earlier layer");
    expect_error("conv:4:3,linear:5:from=zz,linear", 3, 8, 8, "layer 2 (linear:5:from=zz): from=zz names no earlier layer");
    expect_error("a=conv:4:3,a=relu,linear", 3, 8, 8, "--model: layer 2 (a=relu): the name a is already taken");
    expect_error("conv:4:3,conv:4:3:from=input,linear", 3, 8, 8, "--model: layer 1 (conv:4:3): its output is never used");
    expect_error("conv:4:3,swish,linear", 3, 8, 8, "layer 2 (swish): unknown layer \"swish\"");
    expect_error("conv:4:3:q=1,linear", 3, 8, 8, "layer 1 (conv:4:3:q=1): unknown key q= for conv");
    expect_error("conv:4:3,dropout:1,linear", 3, 8, 8, "expected dropout:P with 0 <= P < 1");
    expect_error("conv:4:3,avgpool:9,linear", 3, 8, 8, "layer 2 (avgpool:9): a 4x6x6 input gives no output");
    expect_error("relu:3,linear", 3, 8, 8, "`relu` takes no arguments");
    expect_error("conv:4:3,linear:7", 3, 8, 8, "the last layer must be linear with 10 outputs");
    expect_error("resnet21", 3, 8, 8, "unknown layer \"resnet21\"");
    // Today's descriptions keep working, with spaces allowed after commas.
    model_desc m;
    lr_err e;
    assert_int_equal(model_build(&m, "conv:4:3, relu, maxpool:2, linear", 3, 8, 8, K, &e), 0);
    assert_int_equal(m.n_layers, 4);
    assert_int_equal(m.n_buffers, 0);
}

static void test_bn_batch_of_one(void **state) {
    (void)state;
    rig r;
    lr_err e = {0};
    float x[48] = {1, 2, 3}, y[1] = {3};
    rig_open(&r, "linear:8,bn,linear", 3, 4, 4, 1, 1);
    assert_true(rig_step(&r, x, y, 1, 1, 0, NULL, 1, &e) < 0);
    assert_string_equal(e.msg, "layer 2 (bn): expected more than 1 value per channel when training, got a batch "
                               "of 1 image of 8x1x1 (PyTorch refuses it too)");
    assert_true(rig_step(&r, x, y, 1, 0, 0, NULL, 0, &e) >= 0); // eval mode is fine
    rig_close(&r);
    // 2-D: one image still has H*W values per channel, as PyTorch allows.
    rig_open(&r, "conv:2:3,bn,linear", 3, 4, 4, 1, 1);
    assert_true(rig_step(&r, x, y, 1, 1, 0, NULL, 1, &e) >= 0);
    rig_close(&r);
}

// ---- named models, flops, initialisation -------------------------------------------

static void test_named_models(void **state) {
    (void)state;
    model_desc m, s;
    lr_err e;
    const char *names[] = {"resnet20", "resnet32", "resnet56"};
    const size_t counts[] = {269722, 464154, 853018};
    for (int i = 0; i < 3; i++) {
        assert_int_equal(model_build(&m, names[i], 3, 32, 32, 10, &e), 0);
        assert_int_equal(m.n_params, counts[i]);
        assert_string_equal(m.spec, names[i]);
    }
    assert_int_equal(model_build(&m, "resnet20", 3, 32, 32, 10, &e), 0);
    // About 243 MFLOP per training image (the figure): 2 forward, 4 backward per MAC.
    double f = m.flops_forward + m.flops_backward;
    if (!(f > 2.40e8 && f < 2.46e8)) fail_msg("resnet20: %.4g FLOP per training image", f);
    char d[4096];
    model_describe(&m, d, sizeof d);
    assert_non_null(strstr(d, "(269722 parameters, 1376 buffers,"));
    if (!strstr(d, "add(A r3) 32x16x16")) fail_msg("%s", d);
    assert_int_equal(model_build(&m, "seed", 3, 32, 32, 10, &e), 0);
    assert_int_equal(model_build(&s, MODEL_SEED_SPEC, 3, 32, 32, 10, &e), 0);
    assert_int_equal(m.n_params, s.n_params);
    assert_int_equal(m.n_layers, s.n_layers);
    assert_int_equal(model_build(&m, "lenet5", 3, 32, 32, 10, &e), 0);
    assert_int_equal(m.n_params, 62006);
    assert_int_equal(model_build(&m, "mlp", 3, 32, 32, 10, &e), 0);
    assert_int_equal(m.n_params, 1707274);
    char out[MODEL_SPEC_MAX];
    assert_int_equal(model_spec_expand("resnet20", out, sizeof out, &e), 0);
    assert_non_null(strstr(out, "add:r3:A"));
    assert_int_equal(model_spec_expand("resnet56", out, 100, &e), -1);
}

// The option-B block of docs/models.md builds, with its shortcut's conv and bn.
static void test_option_b_and_knob(void **state) {
    (void)state;
    model_desc m;
    lr_err e;
    const char *spec = "conv:16:3:p=1:bias=0,bn,r1=relu,"
                       "conv:32:3:s=2:p=1:bias=0,bn,relu,conv:32:3:p=1:bias=0,main=bn,"
                       "conv:32:1:s=2:bias=0:from=r1,bn,add:main,r2=relu,gap,linear";
    if (model_build(&m, spec, 3, 8, 8, 10, &e) != 0) fail_msg("%s", e.msg);
    assert_int_equal(m.n_params, 432 + 32 + 4608 + 64 + 9216 + 64 + 512 + 64 + 330);
    assert_int_equal(m.layers[8].in, 3);          // the shortcut conv reads r1 (activation 3)
    assert_true(m.acc[3] && m.acc[8] && !m.acc[4]); // r1 and main are read out of line
    assert_int_equal(model_build(&m, "seed", 3, 32, 32, 10, &e), 0);
    assert_int_equal(m.n_params, 9986);
    // --model takes names and descriptions with bn and dropout (trained through the batch driver).
    run_config c;
    config_defaults(&c);
    const knob *k = knob_find("model");
    assert_int_equal(knob_parse(k, "lenet5", &c, "--model", &e), 0);
    assert_string_equal(c.model, "lenet5");
    assert_int_equal(knob_parse(k, "resnet20", &c, "--model", &e), 0);
    assert_string_equal(c.model, "resnet20");
    assert_int_equal(knob_parse(k, "main=bn,dropout:0.5,linear", &c, "--model", &e), 0);
    assert_int_equal(knob_parse(k, "main=bnorm,linear", &c, "--model", &e), -1);
    assert_non_null(strstr(e.msg, "--model main=bnorm,linear: unknown; expected a model name"));
}

static void sample_stats(const float *w, size_t n, double *mean, double *sd, double *maxabs) {
    double s = 0, ss = 0;
    *maxabs = 0;
    for (size_t i = 0; i < n; i++) {
        s += w[i];
        ss += (double)w[i] * w[i];
        if (fabs(w[i]) > *maxabs) *maxabs = fabs(w[i]);
    }
    *mean = s / n;
    *sd = sqrt(ss / n - *mean * *mean);
}

static void test_init_variants(void **state) {
    (void)state;
    model_desc m;
    lr_err e;
    assert_int_equal(model_build(&m, "conv:64:3:init=kaiming_normal_fan_out,conv:64:3:init=kaiming_normal_fan_in,"
                                     "conv:32:3,bn,linear", 16, 12, 12, 10, &e), 0);
    float *st = lr_aligned_alloc(model_state_floats(&m) * 4);
    model_init_params(&m, st, 3);
    double mean, sd, mx;
    const layer *l0 = &m.layers[0], *l1 = &m.layers[1], *l2 = &m.layers[2], *bn = &m.layers[3];
    sample_stats(st + l0->w_off, l0->w_n, &mean, &sd, &mx);
    double want = sqrt(2.0 / (64 * 9)); // fan_out = OUT * K * K
    assert_true(fabs(sd / want - 1) < 0.05 && fabs(mean) < 0.1 * want && mx > 2.5 * want);
    sample_stats(st + l1->w_off, l1->w_n, &mean, &sd, &mx);
    want = sqrt(2.0 / (64 * 9)); // fan_in = IN * K * K, IN = 64
    assert_true(fabs(sd / want - 1) < 0.05);
    sample_stats(st + l2->w_off, l2->w_n, &mean, &sd, &mx);
    double bound = 1.0 / sqrt(64 * 9); // PyTorch's default: uniform +-1/sqrt(fan_in)
    assert_true(mx <= bound && fabs(sd / (bound / sqrt(3.0)) - 1) < 0.05);
    for (int k = 0; k < bn->c; k++) {
        assert_true(st[bn->w_off + k] == 1.0f && st[bn->b_off + k] == 0.0f);
        assert_true(st[m.n_params + bn->buf_off + k] == 0.0f && st[m.n_params + bn->buf_off + bn->c + k] == 1.0f);
    }
    free(st);
    // The seed ConvNet draws as before: default init is unchanged.
    assert_int_equal(model_build(&m, "conv:4:3,linear:init=kaiming_normal_fan_in", 3, 8, 8, 10, &e), 0);
    expect_error("relu:init=default,linear", 3, 8, 8, "init= applies to conv and linear only");
    expect_error("conv:4:3:init=xavier,linear", 3, 8, 8, "init=xavier; expected default");
}

// ---- weights: buffers ----------------------------------------------------------------

static void test_weights_buffers(void **state) {
    (void)state;
    char dir[256], path[512];
    test_mkdtemp(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/w.lrsw", dir);
    model_desc m, back;
    lr_err e;
    assert_int_equal(model_build(&m, "conv:4:3:p=1:bias=0,bn,relu,gap,linear", 3, 32, 32, 10, &e), 0);
    float *st = lr_aligned_alloc(model_state_floats(&m) * 4), *got = NULL;
    model_init_params(&m, st, 9);
    for (size_t i = 0; i < m.n_buffers; i++) st[m.n_params + i] = 0.25f * (float)i + 0.5f;
    weights_meta meta, rmeta;
    weights_meta_from(&meta, dataset_find("cifar10"), 3, 10, NULL);
    assert_int_equal(weights_save(path, &m, st, &meta, &e), 0);
    if (weights_read(path, NULL, &back, &got, &rmeta, &e) != 0) fail_msg("%s", e.msg);
    assert_int_equal(rmeta.version, 3);
    assert_int_equal(back.n_buffers, m.n_buffers);
    assert_memory_equal(got, st, model_state_floats(&m) * 4);
    weights_meta_free(&rmeta);
    free(got);
    // The same file claiming version 2 (checksum fixed) lacks the buffers.
    char *data;
    size_t len;
    assert_int_equal(fs_read_all_max(path, 1 << 20, &data, &len, &e), 0);
    data[4] = 2;
    uint32_t crc = (uint32_t)crc32_z(0L, (unsigned char *)data, len - 4);
    memcpy(data + len - 4, &crc, 4);
    test_write_file(path, data, len);
    assert_int_equal(weights_read(path, NULL, &back, &got, NULL, &e), -1);
    assert_non_null(strstr(e.msg, "holds 0 buffer values (batch norm's running statistics), its model needs 8"));
    free(data);
    // A model without buffers still writes version 2.
    assert_int_equal(model_build(&m, MODEL_SEED_SPEC, 3, 32, 32, 10, &e), 0);
    free(st);
    st = lr_aligned_alloc(model_state_floats(&m) * 4);
    model_init_params(&m, st, 9);
    assert_int_equal(weights_save(path, &m, st, &meta, &e), 0);
    if (weights_read(path, NULL, &back, &got, &rmeta, &e) != 0) fail_msg("%s", e.msg);
    assert_int_equal(rmeta.version, 2);
    weights_meta_free(&rmeta);
    weights_meta_free(&meta);
    free(got);
    free(st);
    test_rmtree(dir);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conv_padding_stride_bias),
        cmocka_unit_test(test_add_option_a),
        cmocka_unit_test(test_gap_avgpool),
        cmocka_unit_test(test_bn_eval_kernels),
        cmocka_unit_test(test_bn2d_train_and_eval),
        cmocka_unit_test(test_bn1d_train_and_eval),
        cmocka_unit_test(test_resnet8_parity_and_threads),
        cmocka_unit_test(test_driver_matches_group_path),
        cmocka_unit_test(test_finite_differences),
        cmocka_unit_test(test_dropout),
        cmocka_unit_test(test_language_errors),
        cmocka_unit_test(test_bn_batch_of_one),
        cmocka_unit_test(test_named_models),
        cmocka_unit_test(test_option_b_and_knob),
        cmocka_unit_test(test_init_variants),
        cmocka_unit_test(test_weights_buffers),
    };
    // Everything that runs a model runs once per ISA this CPU has: the
    // vector layers must pass the same PyTorch parity as the reference.
    int failed = 0;
    static const char *const ISAS[] = {"scalar", "avx2", "avx512"};
    for (size_t i = 0; i < sizeof ISAS / sizeof *ISAS; i++) {
        lr_err e;
        KT = kernels_select(ISAS[i], &e);
        if (!KT) continue;
        printf("isa %s\n", ISAS[i]);
        failed += cmocka_run_group_tests(tests, setup, teardown);
    }
    return failed;
}
