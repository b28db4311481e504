// test_metrics.c: accuracy, per-class scores and macro-F1 on confusion
// matrices worked out by hand; the learning-rate schedule against PyTorch's
// StepLR; SGD with momentum against hand-computed steps.
#include "test_util.h"

#include "../src/train/config.h"
#include "../src/train/metrics.h"
#include "../src/train/optim.h"

#define TOL 1e-12

static void assert_near(double got, double want, const char *what) {
    if (!(fabs(got - want) <= TOL)) fail_msg("%s: got %.17g, expected %.17g", what, got, want);
}

// ---------------------------------------------------------------- metrics

// Rows true class, columns predicted:
//         p0 p1 p2
//   t0 [   5, 1, 0 ]   row 6
//   t1 [   2, 3, 1 ]   row 6
//   t2 [   0, 2, 6 ]   row 8
//   col    7  6  7     total 20, diagonal 14 -> accuracy 0.7
// class 0: tp 5, fp 2, fn 1 -> P 5/7, R 5/6, F1 10/13
// class 1: tp 3, fp 3, fn 3 -> P 1/2, R 1/2, F1 6/12 = 1/2
// class 2: tp 6, fp 1, fn 2 -> P 6/7, R 6/8, F1 12/15 = 4/5
// macro-F1 = (10/13 + 1/2 + 4/5) / 3 = 0.68974358974358974...
static void test_metrics_three_classes(void **state) {
    (void)state;
    const int64_t cm[9] = {5, 1, 0, 2, 3, 1, 0, 2, 6};
    assert_near(metrics_accuracy(cm, 3), 0.7, "accuracy");
    double p[3], r[3], f[3];
    int64_t s[3];
    metrics_per_class(cm, 3, p, r, f, s);
    assert_near(p[0], 5.0 / 7.0, "precision 0");
    assert_near(p[1], 0.5, "precision 1");
    assert_near(p[2], 6.0 / 7.0, "precision 2");
    assert_near(r[0], 5.0 / 6.0, "recall 0");
    assert_near(r[1], 0.5, "recall 1");
    assert_near(r[2], 0.75, "recall 2");
    assert_near(f[0], 10.0 / 13.0, "f1 0");
    assert_near(f[1], 0.5, "f1 1");
    assert_near(f[2], 0.8, "f1 2");
    assert_int_equal(s[0], 6);
    assert_int_equal(s[1], 6);
    assert_int_equal(s[2], 8);
    assert_near(metrics_macro_f1(cm, 3), 0.68974358974358974, "macro f1");
    // the NULL outputs are optional
    double f_only[3];
    metrics_per_class(cm, 3, NULL, NULL, f_only, NULL);
    assert_near(f_only[2], 0.8, "f1 2 alone");
    int64_t s_only[3] = {-1, -1, -1};
    metrics_per_class(cm, 3, NULL, NULL, NULL, s_only);
    assert_int_equal(s_only[2], 8);
}

// Class 3 never true and never predicted: F1 0 (zero_division=0), and it
// still counts in the mean.
//   [2 0 0 0; 0 2 0 0; 0 0 2 0; 0 0 0 0] -> F1 1, 1, 1, 0; macro 3/4; acc 1
static void test_metrics_absent_class(void **state) {
    (void)state;
    const int64_t cm[16] = {2, 0, 0, 0, 0, 2, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0};
    assert_near(metrics_accuracy(cm, 4), 1.0, "accuracy");
    double p[4], r[4], f[4];
    int64_t s[4];
    metrics_per_class(cm, 4, p, r, f, s);
    assert_near(f[0], 1.0, "f1 0");
    assert_near(f[3], 0.0, "f1 3");
    assert_near(p[3], 0.0, "precision 3");
    assert_near(r[3], 0.0, "recall 3");
    assert_false(isnan(f[3]) || isnan(p[3]) || isnan(r[3]));
    assert_int_equal(s[3], 0);
    assert_near(metrics_macro_f1(cm, 4), 0.75, "macro f1");
}

// Class 2 predicted once but never true:
//   [3 0 1; 0 2 0; 0 0 0]
// class 0: tp 3, fp 0, fn 1 -> P 1, R 3/4, F1 6/7
// class 1: tp 2 -> P 1, R 1, F1 1
// class 2: tp 0, fp 1, fn 0 -> P 0/1 = 0, R 0 (no support), F1 0/1 = 0
// macro (6/7 + 1 + 0) / 3 = 13/21; accuracy 5/6
static void test_metrics_predicted_never_true(void **state) {
    (void)state;
    const int64_t cm[9] = {3, 0, 1, 0, 2, 0, 0, 0, 0};
    assert_near(metrics_accuracy(cm, 3), 5.0 / 6.0, "accuracy");
    double p[3], r[3], f[3];
    int64_t s[3];
    metrics_per_class(cm, 3, p, r, f, s);
    assert_near(p[0], 1.0, "precision 0");
    assert_near(r[0], 0.75, "recall 0");
    assert_near(f[0], 6.0 / 7.0, "f1 0");
    assert_near(p[2], 0.0, "precision 2");
    assert_near(r[2], 0.0, "recall 2");
    assert_near(f[2], 0.0, "f1 2");
    assert_int_equal(s[0], 4);
    assert_int_equal(s[1], 2);
    assert_int_equal(s[2], 0);
    assert_near(metrics_macro_f1(cm, 3), 13.0 / 21.0, "macro f1");
}

// Class 1 true three times, never predicted:
//   [2 0; 3 0]
// class 0: tp 2, fp 3, fn 0 -> P 2/5, R 1, F1 4/7
// class 1: tp 0, fp 0, fn 3 -> P 0 (nothing predicted), R 0, F1 0
// macro 2/7, accuracy 2/5
static void test_metrics_true_never_predicted(void **state) {
    (void)state;
    const int64_t cm[4] = {2, 0, 3, 0};
    assert_near(metrics_accuracy(cm, 2), 0.4, "accuracy");
    double p[2], r[2], f[2];
    int64_t s[2];
    metrics_per_class(cm, 2, p, r, f, s);
    assert_near(p[0], 0.4, "precision 0");
    assert_near(r[0], 1.0, "recall 0");
    assert_near(f[0], 4.0 / 7.0, "f1 0");
    assert_near(p[1], 0.0, "precision 1");
    assert_near(r[1], 0.0, "recall 1");
    assert_near(f[1], 0.0, "f1 1");
    assert_int_equal(s[0], 2);
    assert_int_equal(s[1], 3);
    assert_near(metrics_macro_f1(cm, 2), 2.0 / 7.0, "macro f1");
}

static void test_metrics_perfect_and_empty(void **state) {
    (void)state;
    int64_t cm[100] = {0};
    // all zero: nothing to score; 0, never NaN
    assert_near(metrics_accuracy(cm, 10), 0.0, "empty accuracy");
    assert_near(metrics_macro_f1(cm, 10), 0.0, "empty macro f1");
    double p[10], r[10], f[10];
    int64_t s[10];
    metrics_per_class(cm, 10, p, r, f, s);
    for (int k = 0; k < 10; k++) {
        assert_near(p[k], 0.0, "empty precision");
        assert_near(r[k], 0.0, "empty recall");
        assert_near(f[k], 0.0, "empty f1");
        assert_int_equal(s[k], 0);
    }
    // perfect: diagonal with different supports
    for (int k = 0; k < 10; k++) cm[k * 10 + k] = k + 1;
    assert_near(metrics_accuracy(cm, 10), 1.0, "perfect accuracy");
    assert_near(metrics_macro_f1(cm, 10), 1.0, "perfect macro f1");
    metrics_per_class(cm, 10, p, r, f, s);
    for (int k = 0; k < 10; k++) {
        assert_near(p[k], 1.0, "perfect precision");
        assert_near(r[k], 1.0, "perfect recall");
        assert_near(f[k], 1.0, "perfect f1");
        assert_int_equal(s[k], k + 1);
    }
    // counts beyond 32 bits: 3e9 right, 1e9 wrong -> 0.75
    int64_t big[4] = {3000000000LL, 1000000000LL, 0, 0};
    assert_near(metrics_accuracy(big, 2), 0.75, "large counts");
}

// ---------------------------------------------------------------- schedule

static run_config step_config(double lr, int step, double gamma) {
    run_config c;
    config_defaults(&c);
    c.lr = lr;
    snprintf(c.schedule, sizeof c.schedule, "step");
    c.step_size = step;
    c.gamma = gamma;
    return c;
}

static void test_schedule_step(void **state) {
    (void)state;
    run_config c = step_config(0.1, 5, 0.5);
    // PyTorch StepLR: lr = lr * gamma at every multiple of step_size (chained, double)
    const double e5 = 0.1 * 0.5, e10 = 0.1 * 0.5 * 0.5, e15 = 0.1 * 0.5 * 0.5 * 0.5;
    for (int ep = 0; ep <= 4; ep++) assert_true(schedule_lr(&c, ep) == 0.1);
    for (int ep = 5; ep <= 9; ep++) assert_true(schedule_lr(&c, ep) == e5);
    assert_true(schedule_lr(&c, 5) == 0.05);
    for (int ep = 10; ep <= 14; ep++) assert_true(schedule_lr(&c, ep) == e10);
    assert_true(schedule_lr(&c, 10) == 0.025);
    assert_true(schedule_lr(&c, 15) == e15);

    // gamma 0.1: chained products differ in the last bits from pow(); PyTorch chains
    c = step_config(0.1, 3, 0.1);
    double want = 0.1;
    for (int ep = 0; ep < 30; ep++) {
        if (ep > 0 && ep % 3 == 0) want *= 0.1;
        if (schedule_lr(&c, ep) != want)
            fail_msg("epoch %d: got %.17g, expected %.17g", ep, schedule_lr(&c, ep), want);
    }
    // a pure function of the epoch: asking out of order gives the same
    assert_true(schedule_lr(&c, 7) == 0.1 * 0.1 * 0.1);
    assert_true(schedule_lr(&c, 2) == 0.1);
}

static void test_schedule_constant(void **state) {
    (void)state;
    run_config c = step_config(0.037, 5, 0.5);
    snprintf(c.schedule, sizeof c.schedule, "constant");
    for (int ep = 0; ep < 40; ep++) assert_true(schedule_lr(&c, ep) == 0.037);
    assert_true(schedule_known("step"));
    assert_true(schedule_known("constant"));
    assert_true(schedule_known("cosine")); // issue 10: every schedule.h name is known
    assert_false(schedule_known("cosin"));
    assert_false(schedule_known("Step"));
    assert_false(schedule_known(""));
}

// ---------------------------------------------------------------- SGD

// p0 = (1, -2), lr 0.1; gradients per step g1 = (0.5, 1), g2 = (-0.25, 0.5),
// g3 = (1, -1).
static const float G[3][2] = {{0.5f, 1.0f}, {-0.25f, 0.5f}, {1.0f, -1.0f}};

static void run_sgd(float momentum, float wd, float p_after[3][2], float buf_after[3][2]) {
    float p[2] = {1.0f, -2.0f};
    float buf[2] = {99.0f, -99.0f}; // garbage: the first step must overwrite it
    int first = 1;
    for (int s = 0; s < 3; s++) {
        sgd_step(p, G[s], buf, 2, 0.1f, momentum, wd, &first);
        assert_int_equal(first, 0);
        memcpy(p_after[s], p, sizeof p);
        memcpy(buf_after[s], buf, sizeof buf);
    }
}

static void test_sgd_momentum(void **state) {
    (void)state;
    float p[3][2], b[3][2];
    run_sgd(0.9f, 0.0f, p, b);
    // step 1: buf = g = (0.5, 1); p = (1 - 0.05, -2 - 0.1) = (0.95, -2.1)
    // step 2: buf = 0.9*(0.5, 1) + (-0.25, 0.5) = (0.2, 1.4); p = (0.93, -2.24)
    // step 3: buf = 0.9*(0.2, 1.4) + (1, -1) = (1.18, 0.26); p = (0.812, -2.266)
    const float want_b[3][2] = {{0.5f, 1.0f}, {0.2f, 1.4f}, {1.18f, 0.26f}};
    const float want_p[3][2] = {{0.95f, -2.1f}, {0.93f, -2.24f}, {0.812f, -2.266f}};
    for (int s = 0; s < 3; s++) {
        test_assert_close(b[s], want_b[s], 2, 1e-6, 1e-7, "momentum buffer");
        test_assert_close(p[s], want_p[s], 2, 1e-6, 1e-7, "params");
    }
}

static void test_sgd_momentum_weight_decay(void **state) {
    (void)state;
    float p[3][2], b[3][2];
    run_sgd(0.9f, 0.01f, p, b);
    // step 1: g = (0.5 + 0.01, 1 - 0.02) = (0.51, 0.98) = buf; p = (0.949, -2.098)
    // step 2: g = (-0.25 + 0.00949, 0.5 - 0.02098) = (-0.24051, 0.47902)
    //         buf = (0.459 - 0.24051, 0.882 + 0.47902) = (0.21849, 1.36102)
    //         p = (0.927151, -2.234102)
    // step 3: g = (1.00927151, -1.02234102)
    //         buf = (0.196641 + 1.00927151, 1.224918 - 1.02234102) = (1.20591251, 0.20257698)
    //         p = (0.806559749, -2.254359698)
    const float want_b[3][2] = {{0.51f, 0.98f}, {0.21849f, 1.36102f}, {1.20591251f, 0.20257698f}};
    const float want_p[3][2] = {{0.949f, -2.098f}, {0.927151f, -2.234102f}, {0.806559749f, -2.254359698f}};
    for (int s = 0; s < 3; s++) {
        test_assert_close(b[s], want_b[s], 2, 2e-6, 1e-7, "momentum buffer");
        test_assert_close(p[s], want_p[s], 2, 1e-6, 1e-7, "params");
    }
}

static void test_sgd_plain(void **state) {
    (void)state;
    float p[3][2], b[3][2];
    run_sgd(0.0f, 0.0f, p, b);
    // p -= 0.1 g: (0.95, -2.1), (0.975, -2.15), (0.875, -2.05)
    const float want_p[3][2] = {{0.95f, -2.1f}, {0.975f, -2.15f}, {0.875f, -2.05f}};
    for (int s = 0; s < 3; s++) test_assert_close(p[s], want_p[s], 2, 1e-6, 1e-7, "params");
}

// Restarting: a fresh first step after a buffer was used sets buf = g again.
static void test_sgd_first_flag(void **state) {
    (void)state;
    float p[1] = {0.0f}, buf[1] = {0.0f};
    const float g[1] = {2.0f};
    int first = 1;
    sgd_step(p, g, buf, 1, 1.0f, 0.5f, 0.0f, &first); // buf 2, p -2
    sgd_step(p, g, buf, 1, 1.0f, 0.5f, 0.0f, &first); // buf 3, p -5
    assert_true(buf[0] == 3.0f);
    assert_true(p[0] == -5.0f);
    first = 1;
    sgd_step(p, g, buf, 1, 1.0f, 0.5f, 0.0f, &first); // buf = g = 2, p -7
    assert_true(buf[0] == 2.0f);
    assert_true(p[0] == -7.0f);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_metrics_three_classes),
        cmocka_unit_test(test_metrics_absent_class),
        cmocka_unit_test(test_metrics_predicted_never_true),
        cmocka_unit_test(test_metrics_true_never_predicted),
        cmocka_unit_test(test_metrics_perfect_and_empty),
        cmocka_unit_test(test_schedule_step),
        cmocka_unit_test(test_schedule_constant),
        cmocka_unit_test(test_sgd_momentum),
        cmocka_unit_test(test_sgd_momentum_weight_decay),
        cmocka_unit_test(test_sgd_plain),
        cmocka_unit_test(test_sgd_first_flag),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
