// test_parity.c: the seed ConvNet against PyTorch 1.13: logits, loss, every
// gradient, three SGD-momentum steps across a StepLR boundary, and
// torchvision's augmentation, from tests/data/torch_reference.bin
// (tools/torch_reference.py). Then five small models on 12x12 inputs whose
// layer orders select every fused and unfused kernel path of model.c, each
// with three SGD-momentum steps with weight decay. Every kernel ISA the CPU
// has is checked.
#include "test_util.h"
#include "tensor_file.h"

#include "../src/data/augment.h"
#include "../src/model/model.h"
#include "../src/train/config.h"
#include "../src/train/optim.h"

static const char *PARAM_NAMES[8] = {"conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias",
                                     "fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"};
static ref_file REF;

static int setup(void **state) {
    (void)state;
    return ref_file_load(&REF, "tests/data/torch_reference.bin");
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

// Copies the 8 tensors prefix.NAME into the flat parameter array, in order.
static void load_params(const model_desc *m, float *params, const char *prefix) {
    size_t off = 0;
    for (int i = 0; i < 8; i++) {
        char name[96];
        snprintf(name, sizeof name, "%s.%s", prefix, PARAM_NAMES[i]);
        const ref_tensor *t = need(name);
        memcpy(params + off, t->data, t->n * sizeof(float));
        off += t->n;
    }
    assert_int_equal(off, m->n_params);
}

// The lane layout of batch rows [g*16, g*16+16): x (N, C, H, W) -> (C, H, W, L).
static void to_lanes(float *dst, const float *x, int n, int g, size_t img) {
    memset(dst, 0, img * LANES * sizeof(float));
    for (int l = 0; l < LANES && g * LANES + l < n; l++)
        for (size_t i = 0; i < img; i++) dst[i * LANES + l] = x[(size_t)(g * LANES + l) * img + i];
}

// Forward + loss + backward over one batch as the trainer does it; returns
// the mean loss and writes logits (N, 10) and grads.
static double batch_step(const model_desc *m, const kernel_table *kt, const float *params,
                         float *grads, const ref_tensor *x, const ref_tensor *y, float *logits_out) {
    const int N = x->dims[0], K = 10;
    const size_t img = (size_t)m->in_c * m->in_h * m->in_w;
    assert_int_equal(x->ndim, 4);
    assert_int_equal((size_t)x->dims[1] * x->dims[2] * x->dims[3], img);
    float *xl = lr_aligned_alloc(img * LANES * sizeof(float));
    model_ws ws;
    model_ws_alloc(&ws, m);
    memset(grads, 0, m->n_params * sizeof(float));
    double loss_sum = 0;
    for (int g = 0; g * LANES < N; g++) {
        to_lanes(xl, x->data, N, g, img);
        int labels[LANES];
        for (int l = 0; l < LANES; l++) labels[l] = g * LANES + l < N ? (int)y->data[g * LANES + l] : -1;
        const float *logits = model_forward(m, kt, params, &ws, xl);
        for (int l = 0; l < LANES && g * LANES + l < N; l++)
            for (int k = 0; k < K; k++) logits_out[(g * LANES + l) * K + k] = logits[k * LANES + l];
        softmax_xent(ws.dlogits, ws.loss, ws.pred, logits, labels, K, 1.0f / N);
        for (int l = 0; l < LANES; l++) loss_sum += ws.loss[l];
        model_backward(m, kt, params, grads, &ws, ws.dlogits);
    }
    model_ws_free(&ws);
    free(xl);
    return loss_sum / N;
}

static void check_isa(const char *isa) {
    lr_err e;
    const kernel_table *kt = kernels_select(isa, &e);
    if (!kt) {
        // Not a pass in disguise: the scalar path always runs, so parity is
        // always checked; only a vector ISA the CPU lacks is left out.
        assert_string_not_equal(isa, "scalar");
        print_message("# %s not available on this CPU\n", isa);
        return;
    }
    model_desc m;
    assert_int_equal(model_build(&m, MODEL_SEED_SPEC, 3, 32, 32, 10, &e), 0);
    float *params = lr_aligned_alloc(m.n_params * sizeof(float));
    float *grads = lr_aligned_alloc(m.n_params * sizeof(float));
    float *buf = lr_aligned_alloc(m.n_params * sizeof(float));
    float *expect = lr_aligned_alloc(m.n_params * sizeof(float));
    float logits[20 * 10];
    load_params(&m, params, "init");

    double loss = batch_step(&m, kt, params, grads, need("x0"), need("y0"), logits);
    test_assert_close(logits, need("logits0")->data, 200, 1e-5, 1e-6, "logits");
    assert_true(fabs(loss - need("loss0")->data[0]) <= 1e-5 * fabs(need("loss0")->data[0]));
    load_params(&m, expect, "grad");
    // Gradients are sums of many products: 1e-5 relative plus a floor for
    // entries that cancel to near zero.
    test_assert_close(grads, expect, m.n_params, 1e-5, 1e-6, "gradients");

    // Three SGD-momentum steps with StepLR(step 2, gamma 0.5) per step.
    run_config c;
    config_defaults(&c);
    c.lr = 0.1;
    c.step_size = 2;
    c.gamma = 0.5;
    const ref_tensor *lrs = need("lrs");
    int first = 1;
    for (int s = 0; s < 3; s++) {
        char xn[16], yn[16];
        snprintf(xn, sizeof xn, "x%d", s);
        snprintf(yn, sizeof yn, "y%d", s);
        double lr = schedule_lr(&c, s);
        assert_true(fabs(lr - lrs->data[s]) <= 1e-7 * lr); // stored as float32
        batch_step(&m, kt, params, grads, need(xn), need(yn), logits);
        sgd_step(params, grads, buf, m.n_params, (float)lr, 0.9f, 0.0f, &first);
    }
    load_params(&m, expect, "final");
    test_assert_close(params, expect, m.n_params, 1e-5, 1e-6, "weights after 3 SGD steps");
    free(params);
    free(grads);
    free(buf);
    free(expect);
}

static void test_parity_scalar(void **state) { (void)state; check_isa("scalar"); }
static void test_parity_avx2(void **state) { (void)state; check_isa("avx2"); }
static void test_parity_avx512(void **state) { (void)state; check_isa("avx512"); }

// ---- small models: every fused and unfused path, and weight decay ----------

enum { N_MODELS = 5 };

// Copies n floats of a flat reference tensor, checking its size.
static void load_flat(float *dst, size_t n, const char *name) {
    const ref_tensor *t = need(name);
    if (t->n != n) fail_msg("%s: %zu floats, the model has %zu parameters", name, t->n, n);
    memcpy(dst, t->data, n * sizeof(float));
}

// Which kernels a model's forward and backward select (mirrors the rules in
// model.c), so the test can show that the models together reach them all.
enum { P_CONV, P_CONV_RELU, P_RELU_FWD, P_RELU_BWD, P_POOL_BWD, P_POOL_RELU_BWD,
       P_CONV_DIN, P_LINEAR_DIN, N_PATHS };
static const char *PATH_NAMES[N_PATHS] = {"conv_forward", "conv_relu_forward", "relu_forward",
                                          "relu_backward", "maxpool_backward",
                                          "maxpool_relu_backward", "conv_backward with din",
                                          "linear_backward with din"};

static void mark_paths(const model_desc *m, int *seen) {
    for (int i = 0; i < m->n_layers; i++) {
        layer_kind k = m->layers[i].kind;
        int next_relu = i + 1 < m->n_layers && m->layers[i + 1].kind == LAYER_RELU;
        int prev_relu = i >= 2 && m->layers[i - 1].kind == LAYER_RELU;
        if (k == LAYER_CONV) seen[next_relu ? P_CONV_RELU : P_CONV] = 1;
        if (k == LAYER_CONV && i > 0) seen[P_CONV_DIN] = 1;
        if (k == LAYER_LINEAR && i > 0) seen[P_LINEAR_DIN] = 1;
        if (k == LAYER_RELU && !(i > 0 && m->layers[i - 1].kind == LAYER_CONV)) seen[P_RELU_FWD] = 1;
        if (k == LAYER_RELU && i > 0 && !(i + 1 < m->n_layers && m->layers[i + 1].kind == LAYER_MAXPOOL))
            seen[P_RELU_BWD] = 1;
        if (k == LAYER_MAXPOOL && i > 0) seen[prev_relu ? P_POOL_RELU_BWD : P_POOL_BWD] = 1;
    }
}

static void check_small_model(const kernel_table *kt, int k, int *seen) {
    char name[32], spec[256];
    snprintf(name, sizeof name, "m%d.spec", k);
    const ref_tensor *st = need(name);
    assert_true(st->n < sizeof spec);
    for (size_t i = 0; i < st->n; i++) spec[i] = (char)st->data[i];
    spec[st->n] = '\0';

    model_desc m;
    lr_err e;
    if (model_build(&m, spec, 3, 12, 12, 10, &e) != 0) fail_msg("%s: %s", spec, e.msg);
    mark_paths(&m, seen);
    float *params = lr_aligned_alloc(m.n_params * sizeof(float));
    float *grads = lr_aligned_alloc(m.n_params * sizeof(float));
    float *buf = lr_aligned_alloc(m.n_params * sizeof(float));
    float *expect = lr_aligned_alloc(m.n_params * sizeof(float));
    float logits[20 * 10];
    char what[320];
    snprintf(name, sizeof name, "m%d.init", k);
    load_flat(params, m.n_params, name);

    double loss = batch_step(&m, kt, params, grads, need("s.x0"), need("s.y0"), logits);
    snprintf(name, sizeof name, "m%d.logits0", k);
    snprintf(what, sizeof what, "%s %s: logits", kt->isa, spec);
    test_assert_close(logits, need(name)->data, 200, 1e-5, 1e-6, what);
    snprintf(name, sizeof name, "m%d.loss0", k);
    double want = need(name)->data[0];
    if (!(fabs(loss - want) <= 1e-5 * fabs(want)))
        fail_msg("%s %s: loss %.9g, PyTorch %.9g", kt->isa, spec, loss, want);
    snprintf(name, sizeof name, "m%d.grad", k);
    load_flat(expect, m.n_params, name);
    snprintf(what, sizeof what, "%s %s: gradients", kt->isa, spec);
    test_assert_close(grads, expect, m.n_params, 1e-5, 1e-6, what);

    // SGD(lr 0.1, momentum 0.9, weight_decay 5e-4), StepLR(2, 0.5) per step.
    run_config c;
    config_defaults(&c);
    c.lr = 0.1;
    c.step_size = 2;
    c.gamma = 0.5;
    int first = 1;
    for (int s = 0; s < 3; s++) {
        char xn[16], yn[16];
        snprintf(xn, sizeof xn, "s.x%d", s);
        snprintf(yn, sizeof yn, "s.y%d", s);
        batch_step(&m, kt, params, grads, need(xn), need(yn), logits);
        sgd_step(params, grads, buf, m.n_params, (float)schedule_lr(&c, s), 0.9f, 5e-4f, &first);
    }
    snprintf(name, sizeof name, "m%d.final", k);
    load_flat(expect, m.n_params, name);
    snprintf(what, sizeof what, "%s %s: weights after 3 SGD steps with weight decay", kt->isa, spec);
    test_assert_close(params, expect, m.n_params, 1e-5, 1e-6, what);
    free(params);
    free(grads);
    free(buf);
    free(expect);
}

static void check_models_isa(const char *isa) {
    lr_err e;
    const kernel_table *kt = kernels_select(isa, &e);
    if (!kt) {
        assert_string_not_equal(isa, "scalar");
        print_message("# %s not available on this CPU\n", isa);
        return;
    }
    int seen[N_PATHS] = {0};
    for (int k = 0; k < N_MODELS; k++) check_small_model(kt, k, seen);
    // The reference must keep reaching every path, whatever its models become.
    for (int p = 0; p < N_PATHS; p++)
        if (!seen[p]) fail_msg("no reference model exercises %s", PATH_NAMES[p]);
}

static void test_models_scalar(void **state) { (void)state; check_models_isa("scalar"); }
static void test_models_avx2(void **state) { (void)state; check_models_isa("avx2"); }
static void test_models_avx512(void **state) { (void)state; check_models_isa("avx512"); }

// Weight decay on its own: one step of sgd_step against PyTorch's formula
// computed here in double, with and without momentum, so a dropped or
// mis-signed decay term fails even where gradients dominate.
static void test_sgd_weight_decay_formula(void **state) {
    (void)state;
    float p[4] = {1.0f, -2.0f, 0.5f, 0.0f}, g[4] = {0.0f, 0.25f, -1.0f, 3.0f}, buf[4];
    const float lr = 0.1f, wd = 0.01f, mu = 0.9f;
    double want[4];
    for (int i = 0; i < 4; i++) want[i] = p[i] - lr * (g[i] + wd * (double)p[i]);
    int first = 1;
    sgd_step(p, g, buf, 4, lr, mu, wd, &first);
    for (int i = 0; i < 4; i++) assert_true(fabs(p[i] - want[i]) <= 1e-6);
    // A parameter with zero gradient still shrinks by lr * wd * p.
    assert_true(p[0] < 1.0f);
    // Second step: buf = mu * buf + (g + wd * p).
    double b0 = buf[1], p1 = p[1];
    sgd_step(p, g, buf, 4, lr, mu, wd, &first);
    double b1 = mu * b0 + (g[1] + wd * p1);
    assert_true(fabs(buf[1] - b1) <= 1e-6);
    assert_true(fabs(p[1] - (p1 - lr * b1)) <= 1e-6);
}

static void test_augment_matches_torchvision(void **state) {
    (void)state;
    const float mean[3] = {0.4914f, 0.4822f, 0.4465f}, std[3] = {0.2023f, 0.1994f, 0.2010f};
    float lut[3 * 256];
    augment_build_lut(lut, 3, mean, std);
    float *dst = lr_aligned_alloc(3 * 32 * 32 * LANES * sizeof(float));
    for (int k = 0; k < 3; k++) {
        char name[32];
        snprintf(name, sizeof name, "aug%d.image", k);
        const ref_tensor *img = need(name);
        snprintf(name, sizeof name, "aug%d.draw", k);
        const ref_tensor *draw = need(name);
        snprintf(name, sizeof name, "aug%d.out", k);
        const ref_tensor *out = need(name);
        uint8_t bytes[3 * 32 * 32];
        for (int i = 0; i < 3 * 32 * 32; i++) bytes[i] = (uint8_t)img->data[i];
        int lane = 3 + k;
        augment_image(dst, lane, bytes, 3, 32, 32, 4, (int)draw->data[0], (int)draw->data[1],
                      (int)draw->data[2], lut);
        float got[3 * 32 * 32];
        for (int i = 0; i < 3 * 32 * 32; i++) got[i] = dst[(size_t)i * LANES + lane];
        test_assert_close(got, out->data, 3 * 32 * 32, 1e-6, 1e-6, name);
    }
    free(dst);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parity_scalar),
        cmocka_unit_test(test_parity_avx2),
        cmocka_unit_test(test_parity_avx512),
        cmocka_unit_test(test_augment_matches_torchvision),
        cmocka_unit_test(test_models_scalar),
        cmocka_unit_test(test_models_avx2),
        cmocka_unit_test(test_models_avx512),
        cmocka_unit_test(test_sgd_weight_decay_formula),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
