// test_parity.c: the seed ConvNet against PyTorch 1.13: logits, loss, every
// gradient, three SGD-momentum steps across a StepLR boundary, and
// torchvision's augmentation, from tests/data/torch_reference.bin
// (tools/torch_reference.py). Every kernel ISA the CPU has is checked.
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
    const size_t img = 3 * 32 * 32;
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
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
