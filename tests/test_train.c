// test_train.c: the training loop on small generated data: it learns a
// learnable task well above chance, gives the same bits whatever the thread
// count, reports divergence and interruption, and honours eval_interval.
#include "test_util.h"
#include "train_data.h"

#include "../src/data/loader.h"
#include "../src/train/train.h"
#include "../src/util/rng.h"

// n images of 3x32x32 whose class (k % 10) sets a colour and a bright square
// position, plus noise: learnable by the ConvNet in a few epochs.


static run_config small_config(void) {
    run_config c;
    config_defaults(&c);
    c.epochs = 3;
    c.batch_size = 40; // 2 full groups + a partial one
    c.lr = 0.05;
    c.threads = 1;
    c.seed = 3;
    return c;
}

static void test_learns_above_chance(void **state) {
    (void)state;
    dataset tr, te;
    make_data(&tr, 1200, 1);
    make_data(&te, 300, 2);
    run_config c = small_config();
    c.epochs = 6;
    c.lr = 0.01;
    run_result r;
    lr_err e;
    assert_int_equal(train_run(&c, &tr, &te, cifar(), NULL, &r, &e), 0);
    assert_int_equal(r.status, RUN_FINISHED);
    assert_int_equal(r.epochs_done, 6);
    const epoch_record *last = &r.epochs[5];
    print_message("# test acc %.3f, f1 %.3f, loss %.3f\n", last->test_acc, last->test_f1, last->test_loss);
    assert_true(last->has_test);
    assert_true(last->test_acc > 0.5); // chance is 0.1
    assert_true(last->test_f1 > 0.4);
    assert_true(last->train_loss < r.epochs[0].train_loss);
    // the final confusion matrix holds every test image once
    int64_t total = 0;
    for (int i = 0; i < 100; i++) total += r.test_cm[i];
    assert_int_equal(total, 300);
    run_result_free(&r);
    dataset_free(&tr);
    dataset_free(&te);
}

static void test_same_bits_any_thread_count(void **state) {
    (void)state;
    dataset tr, te;
    make_data(&tr, 300, 3);
    make_data(&te, 100, 4);
    run_result r[3];
    int threads[3] = {1, 2, 3};
    lr_err e;
    for (int i = 0; i < 3; i++) {
        run_config c = small_config();
        c.threads = threads[i];
        assert_int_equal(train_run(&c, &tr, &te, cifar(), NULL, &r[i], &e), 0);
        assert_int_equal(r[i].threads, threads[i]);
    }
    for (int i = 1; i < 3; i++) {
        assert_memory_equal(r[i].params, r[0].params, r[0].model.n_params * sizeof(float));
        for (int ep = 0; ep < 3; ep++) {
            assert_memory_equal(&r[i].epochs[ep].train_loss, &r[0].epochs[ep].train_loss, sizeof(double));
            assert_memory_equal(&r[i].epochs[ep].test_loss, &r[0].epochs[ep].test_loss, sizeof(double));
            assert_true(r[i].epochs[ep].train_acc == r[0].epochs[ep].train_acc);
            assert_true(r[i].epochs[ep].test_f1 == r[0].epochs[ep].test_f1);
        }
    }
    // and a different seed gives different weights (the comparison can fail)
    run_config c = small_config();
    c.seed = 4;
    run_result other;
    assert_int_equal(train_run(&c, &tr, &te, cifar(), NULL, &other, &e), 0);
    assert_memory_not_equal(other.params, r[0].params, r[0].model.n_params * sizeof(float));
    run_result_free(&other);
    for (int i = 0; i < 3; i++) run_result_free(&r[i]);
    dataset_free(&tr);
    dataset_free(&te);
}

// Evaluating from the prepared (transformed once) test set gives the same
// bits as transforming it at every evaluation.
static void test_prepared_test_set_same_results(void **state) {
    (void)state;
    dataset tr, te;
    make_data(&tr, 200, 13);
    make_data(&te, 90, 14); // not a multiple of 16: a partial last group
    run_config c = small_config();
    run_result a, b;
    lr_err e;
    assert_int_equal(train_run(&c, &tr, &te, cifar(), NULL, &a, &e), 0);
    assert_null(te.lanes);
    assert_int_equal(loader_prepare_lanes(&te, cifar(), (size_t)1 << 30), 0);
    assert_non_null(te.lanes);
    assert_int_equal(train_run(&c, &tr, &te, cifar(), NULL, &b, &e), 0);
    for (int ep = 0; ep < c.epochs; ep++) {
        assert_memory_equal(&a.epochs[ep].test_loss, &b.epochs[ep].test_loss, sizeof(double));
        assert_true(a.epochs[ep].test_f1 == b.epochs[ep].test_f1);
    }
    assert_memory_equal(a.test_cm, b.test_cm, 100 * sizeof(int64_t));
    // and a size limit below the data set's is refused
    dataset small;
    make_data(&small, 40, 15);
    assert_int_equal(loader_prepare_lanes(&small, cifar(), 1000), -1);
    assert_null(small.lanes);
    dataset_free(&small);
    run_result_free(&a);
    run_result_free(&b);
    dataset_free(&tr);
    dataset_free(&te);
}

// The ISA changes only rounding: a short run trained with the scalar, AVX2
// and AVX-512 kernels ends with nearly the same weights and metrics.
static void test_isa_changes_only_rounding(void **state) {
    (void)state;
    dataset tr, te;
    make_data(&tr, 300, 16);
    make_data(&te, 100, 17);
    run_config c = small_config();
    c.epochs = 1;
    c.lr = 0.01;
    snprintf(c.isa, sizeof c.isa, "scalar");
    run_result ref;
    lr_err e;
    assert_int_equal(train_run(&c, &tr, &te, cifar(), NULL, &ref, &e), 0);
    const char *isas[] = {"avx2", "avx512"};
    int compared = 0;
    for (int i = 0; i < 2; i++) {
        if (!kernels_select(isas[i], &e)) continue;
        snprintf(c.isa, sizeof c.isa, "%s", isas[i]);
        run_result r;
        assert_int_equal(train_run(&c, &tr, &te, cifar(), NULL, &r, &e), 0);
        assert_string_equal(r.isa, isas[i]);
        // 8 SGD steps from the same start: differences stay at rounding scale
        test_assert_close(r.params, ref.params, ref.model.n_params, 1e-3, 1e-5, isas[i]);
        assert_true(fabs(r.epochs[0].train_loss - ref.epochs[0].train_loss) < 1e-4);
        assert_true(fabs(r.epochs[0].test_loss - ref.epochs[0].test_loss) < 1e-4);
        run_result_free(&r);
        compared++;
    }
    lr_err e2;
    if (kernels_select("avx2", &e2)) assert_true(compared >= 1); // the comparison really ran
    run_result_free(&ref);
    dataset_free(&tr);
    dataset_free(&te);
}

static void test_divergence_is_reported(void **state) {
    (void)state;
    dataset tr, te;
    make_data(&tr, 400, 5);
    make_data(&te, 100, 6);
    run_config c = small_config();
    c.lr = 1e5;
    c.epochs = 5;
    run_result r;
    lr_err e;
    assert_int_equal(train_run(&c, &tr, &te, cifar(), NULL, &r, &e), 0);
    assert_int_equal(r.status, RUN_DIVERGED);
    assert_true(r.diverged_epoch >= 1 && r.diverged_epoch <= 5);
    assert_int_equal(r.epochs_done, r.diverged_epoch);
    assert_false(isfinite(r.epochs[r.diverged_epoch - 1].train_loss) &&
                 isfinite(r.epochs[r.diverged_epoch - 1].test_loss) &&
                 r.epochs[r.diverged_epoch - 1].has_test);
    run_result_free(&r);
    dataset_free(&tr);
    dataset_free(&te);
}

typedef struct {
    volatile sig_atomic_t flag;
    int stop_after;
    int batches;
} stopper;

static void stop_soon(void *ctx, int epoch, int b, int nb, double loss, double ips) {
    (void)epoch; (void)b; (void)nb; (void)loss; (void)ips;
    stopper *s = ctx;
    if (++s->batches == s->stop_after) s->flag = 1;
}

static void test_interrupt_keeps_finished_epochs(void **state) {
    (void)state;
    dataset tr, te;
    make_data(&tr, 400, 7);
    make_data(&te, 100, 8);
    run_config c = small_config();
    c.epochs = 4;
    stopper s = {0, 10 + 5, 0}; // 10 batches per epoch: stop in epoch 2
    train_hooks hooks = {.on_batch = stop_soon, .ctx = &s, .stop = &s.flag};
    run_result r;
    lr_err e;
    assert_int_equal(train_run(&c, &tr, &te, cifar(), &hooks, &r, &e), 0);
    assert_int_equal(r.status, RUN_INTERRUPTED);
    assert_int_equal(r.epochs_done, 1);
    assert_true(r.epochs[0].has_test);
    run_result_free(&r);
    dataset_free(&tr);
    dataset_free(&te);
}

static void test_eval_interval_and_schedule(void **state) {
    (void)state;
    dataset tr, te;
    make_data(&tr, 200, 9);
    make_data(&te, 50, 10);
    run_config c = small_config();
    c.epochs = 5;
    c.eval_interval = 2;
    c.step_size = 2;
    c.gamma = 0.1;
    c.lr = 0.01;
    run_result r;
    lr_err e;
    assert_int_equal(train_run(&c, &tr, &te, cifar(), NULL, &r, &e), 0);
    int expect_test[5] = {0, 1, 0, 1, 1}; // every 2nd epoch and the last
    double expect_lr[5] = {0.01, 0.01, 0.01 * 0.1, 0.01 * 0.1, 0.01 * 0.1 * 0.1};
    for (int i = 0; i < 5; i++) {
        assert_int_equal(r.epochs[i].has_test, expect_test[i]);
        assert_true(r.epochs[i].lr == expect_lr[i]);
        assert_int_equal(r.epochs[i].epoch, i + 1);
    }
    run_result_free(&r);
    dataset_free(&tr);
    dataset_free(&te);
}

static void test_bad_model_spec_is_an_error(void **state) {
    (void)state;
    dataset tr, te;
    make_data(&tr, 20, 11);
    make_data(&te, 20, 12);
    run_config c = small_config();
    snprintf(c.model, sizeof c.model, "conv:4:3,relu,pool:2,linear");
    run_result r;
    lr_err e;
    assert_int_equal(train_run(&c, &tr, &te, cifar(), NULL, &r, &e), -1);
    assert_non_null(strstr(e.msg, "pool:2"));
    run_result_free(&r);
    snprintf(c.model, sizeof c.model, "conv:4:3,relu,linear:7");
    assert_int_equal(train_run(&c, &tr, &te, cifar(), NULL, &r, &e), -1);
    assert_non_null(strstr(e.msg, "10 outputs"));
    run_result_free(&r);
    dataset_free(&tr);
    dataset_free(&te);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_learns_above_chance),
        cmocka_unit_test(test_same_bits_any_thread_count),
        cmocka_unit_test(test_prepared_test_set_same_results),
        cmocka_unit_test(test_isa_changes_only_rounding),
        cmocka_unit_test(test_divergence_is_reported),
        cmocka_unit_test(test_interrupt_keeps_finished_epochs),
        cmocka_unit_test(test_eval_interval_and_schedule),
        cmocka_unit_test(test_bad_model_spec_is_an_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
