// test_train_bn.c: training models with batch norm and dropout through the
// batch driver (train.c -> model_batch.c): they learn, every bit (parameters
// and running statistics) is the same for any thread count and across a
// save/restore, a step through the trainer is model_batch + the optimiser
// done by hand, evaluation reproduces the recorded test metrics with the
// running statistics, and the refusals (a batch leaving bn one value per
// channel, the memory estimate) hold. End to end: `lrscope run --model
// resnet20` writes weights v3 that evaluate, predict and ensemble use, a
// killed run resumes to the same bits, and a study file's bn model gives the
// same bits for --jobs 1 and 2.
#include "cli_fixture.h"
#include "train_data.h"

#include "../src/data/loader.h"
#include "../src/model/model_batch.h"
#include "../src/train/metrics.h"
#include "../src/train/optim.h"
#include "../src/train/pool.h"
#include "../src/train/schedule.h"
#include "../src/train/checkpoint.h"
#include "../src/train/knobs.h"
#include "../src/train/train.h"
#include "../src/util/rng.h"

// A small network with batch norm after a padded, bias-free convolution.
#define BN_SPEC "conv:8:3:p=1:bias=0,bn,relu,maxpool:2,conv:8:3:p=1:bias=0,bn,relu,gap,linear"
// The same with dropout before the classifier.
#define BN_DROP_SPEC "conv:8:3:p=1:bias=0,bn,relu,maxpool:2,conv:8:3:p=1:bias=0,bn,relu,gap,dropout:0.3,linear"

// n images of 3x32x32 whose class (k % 10) sets a colour and a bright square
// position, plus noise (test_train.c's generator).


static run_config bn_config(const char *spec) {
    run_config c;
    config_defaults(&c);
    snprintf(c.model, sizeof c.model, "%s", spec);
    c.epochs = 3;
    c.batch_size = 40; // 2 full groups + a partial one
    c.lr = 0.05;
    c.weight_decay = 1e-4;
    c.threads = 1;
    c.seed = 3;
    return c;
}

// The running statistics of every bn layer moved away from their start
// (mean 0, variance 1): training updated them and the result holds them.
static void assert_buffers_trained(const run_result *r) {
    const model_desc *m = &r->model;
    assert_true(m->n_buffers > 0);
    const float *buf = r->params + m->n_params;
    int moved_mean = 0, moved_var = 0;
    for (int i = 0; i < m->n_layers; i++) {
        const layer *ly = &m->layers[i];
        if (ly->kind != LAYER_BN) continue;
        for (int c = 0; c < ly->c; c++) {
            moved_mean += buf[ly->buf_off + c] != 0.0f;
            moved_var += buf[ly->buf_off + ly->c + c] != 1.0f;
            assert_true(isfinite(buf[ly->buf_off + c]) && buf[ly->buf_off + ly->c + c] > 0.0f);
        }
    }
    assert_int_equal(moved_mean, (int)m->n_buffers / 2);
    assert_int_equal(moved_var, (int)m->n_buffers / 2);
}

typedef struct {
    double first, last;
    long steps;
} step_log;

static int log_step(void *ctx, long step, double lr, double loss) {
    (void)lr;
    step_log *s = ctx;
    if (step == 0) s->first = loss;
    s->last = loss;
    s->steps++;
    return 0;
}

// It learns, and the parameters and running statistics are the same bits
// for 1, 2 and 3 threads, with and without dropout.
static void test_bn_learns_same_bits_any_threads(void **state) {
    (void)state;
    dataset tr, te;
    make_data(&tr, 300, 21);
    make_data(&te, 100, 22);
    const char *specs[2] = {BN_SPEC, BN_DROP_SPEC};
    for (int s = 0; s < 2; s++) {
        run_result r[3];
        int threads[3] = {1, 2, 3};
        lr_err e;
        for (int i = 0; i < 3; i++) {
            run_config c = bn_config(specs[s]);
            c.threads = threads[i];
            step_log log = {0};
            train_hooks hooks = {.on_step = log_step, .ctx = &log};
            if (train_run(&c, &tr, &te, cifar(), &hooks, &r[i], &e) != 0) fail_msg("%s", e.msg);
            assert_int_equal(r[i].status, RUN_FINISHED);
            assert_int_equal(log.steps, 3 * 8);
            if (i == 0) print_message("# %s: step loss %.3f -> %.3f, test acc %.3f\n", specs[s], log.first,
                                      log.last, r[i].epochs[2].test_acc);
            assert_true(log.last < log.first);
            assert_true(r[i].epochs[2].train_loss < r[i].epochs[0].train_loss);
            assert_true(r[i].epochs[2].test_acc > 0.2); // chance is 0.1
        }
        assert_buffers_trained(&r[0]);
        size_t S = model_state_floats(&r[0].model);
        for (int i = 1; i < 3; i++) {
            assert_memory_equal(r[i].params, r[0].params, S * sizeof(float));
            for (int ep = 0; ep < 3; ep++) {
                assert_memory_equal(&r[i].epochs[ep].train_loss, &r[0].epochs[ep].train_loss, sizeof(double));
                assert_memory_equal(&r[i].epochs[ep].test_loss, &r[0].epochs[ep].test_loss, sizeof(double));
            }
            assert_memory_equal(r[i].test_cm, r[0].test_cm, 100 * sizeof(int64_t));
        }
        // another seed gives other weights (the comparison can fail)
        run_config c = bn_config(specs[s]);
        c.seed = 4;
        run_result other;
        assert_int_equal(train_run(&c, &tr, &te, cifar(), NULL, &other, &e), 0);
        assert_memory_not_equal(other.params, r[0].params, r[0].model.n_params * sizeof(float));
        run_result_free(&other);
        for (int i = 0; i < 3; i++) run_result_free(&r[i]);
    }
    dataset_free(&tr);
    dataset_free(&te);
}

// Dropout is on in training (its masks drawn from (seed, step)): the same
// model with dropout 0.3 trains to other weights than without, and is
// still deterministic (the thread test above).
static void test_dropout_is_active_in_training(void **state) {
    (void)state;
    dataset tr, te;
    make_data(&tr, 120, 23);
    make_data(&te, 40, 24);
    run_config a = bn_config(BN_DROP_SPEC), b = bn_config(BN_DROP_SPEC);
    a.epochs = b.epochs = 1;
    snprintf(b.model, sizeof b.model, "%s",
             "conv:8:3:p=1:bias=0,bn,relu,maxpool:2,conv:8:3:p=1:bias=0,bn,relu,gap,dropout:0,linear");
    run_result ra, rb;
    lr_err e;
    assert_int_equal(train_run(&a, &tr, &te, cifar(), NULL, &ra, &e), 0);
    assert_int_equal(train_run(&b, &tr, &te, cifar(), NULL, &rb, &e), 0);
    assert_int_equal(ra.model.n_params, rb.model.n_params);
    assert_memory_not_equal(ra.params, rb.params, ra.model.n_params * sizeof(float));
    run_result_free(&ra);
    run_result_free(&rb);
    dataset_free(&tr);
    dataset_free(&te);
}

// Saved after epoch 1 and restored into a fresh trainer, the run ends with
// the uninterrupted run's bits: parameters, running statistics, records.
static void test_bn_save_restore_same_bits(void **state) {
    (void)state;
    dataset tr, te;
    make_data(&tr, 200, 25);
    make_data(&te, 60, 26);
    run_config c = bn_config(BN_DROP_SPEC);
    lr_err e;
    run_result ref;
    assert_int_equal(train_run(&c, &tr, &te, cifar(), NULL, &ref, &e), 0);
    trainer *t1 = trainer_create(&c, &tr, &te, cifar(), &e);
    assert_non_null(t1);
    assert_int_equal(trainer_epoch(t1, NULL), RUN_RUNNING);
    uint8_t *saved;
    size_t len;
    trainer_save(t1, &saved, &len);
    const model_desc *m = &trainer_result(t1)->model;
    const size_t S = model_state_floats(m);
    float *after1 = malloc(S * sizeof(float));
    assert_non_null(after1);
    memcpy(after1, trainer_result(t1)->params, S * sizeof(float));
    trainer_destroy(t1);
    // the state holds the buffers: one float fewer does not restore
    trainer *t2 = trainer_create(&c, &tr, &te, cifar(), &e);
    assert_non_null(t2);
    assert_int_equal(trainer_restore(t2, saved, len - 4, &e), -1);
    assert_int_equal(trainer_restore(t2, saved, len, &e), 0);
    assert_memory_equal(trainer_result(t2)->params, after1, S * sizeof(float)); // buffers included
    while (trainer_epoch(t2, NULL) == RUN_RUNNING) {}
    run_result r2;
    trainer_take_result(t2, &r2);
    trainer_destroy(t2);
    assert_int_equal(r2.status, RUN_FINISHED);
    assert_memory_equal(r2.params, ref.params, S * sizeof(float));
    for (int ep = 0; ep < 3; ep++) {
        assert_memory_equal(&r2.epochs[ep].train_loss, &ref.epochs[ep].train_loss, sizeof(double));
        assert_memory_equal(&r2.epochs[ep].test_loss, &ref.epochs[ep].test_loss, sizeof(double));
    }
    free(after1);
    free(saved);
    run_result_free(&r2);
    run_result_free(&ref);
    dataset_free(&tr);
    dataset_free(&te);
}

// Two optimiser steps (SGD, momentum, nesterov, weight decay) through the
// trainer equal the same steps done by hand: the loader's batches, the batch
// driver over all groups, softmax_xent at 1 / batch, the group slots summed
// in group order and optim_update with the schedule's rate.
static void test_bn_steps_equal_by_hand(void **state) {
    (void)state;
    dataset tr, te;
    make_data(&tr, 72, 27); // batches of 40 and 32: 3 groups, then 2
    make_data(&te, 20, 28);
    run_config c = bn_config(BN_DROP_SPEC);
    c.epochs = 1;
    c.nesterov = 1;
    c.weight_decay = 5e-3;
    c.lr = 0.1;
    lr_err e;
    run_result r;
    assert_int_equal(train_run(&c, &tr, &te, cifar(), NULL, &r, &e), 0);

    model_desc m;
    assert_int_equal(model_build(&m, c.model, 3, 32, 32, 10, &e), 0);
    const size_t S = model_state_floats(&m), P = m.n_params;
    float *state_ = lr_aligned_alloc(S * sizeof(float)), *slots = lr_aligned_alloc(3 * P * sizeof(float));
    float *grads = lr_aligned_alloc(P * sizeof(float));
    model_init_params(&m, state_, c.seed);
    const kernel_table *kt = kernels_select(c.isa, &e);
    assert_non_null(kt);
    optim_state opt;
    assert_int_equal(optim_init(&opt, &c, P, &e), 0);
    schedule sched;
    assert_int_equal(schedule_init(&sched, &c, 2, &e), 0);
    loader *ld = loader_create(&tr, cifar(), c.batch_size, 1, c.seed, 0);
    loader_set_isa(ld, c.isa);
    pool *p = pool_create(1);
    model_batch mb;
    model_batch_init(&mb, &m, 3);
    const size_t img = 3 * 32 * 32 * LANES;
    float *x = lr_aligned_alloc(3 * img * sizeof(float));
    float loss[3 * LANES];
    int pred[3 * LANES];
    loader_start_epoch(ld, 0);
    for (long step = 0; step < 2; step++) {
        const batch *b = loader_next(ld);
        assert_non_null(b);
        const float *xg[3];
        int nvalid[3];
        for (int g = 0; g < b->groups; g++) {
            loader_fill_group(ld, b, g, x + g * img);
            xg[g] = x + g * img;
            nvalid[g] = b->n - g * LANES < LANES ? b->n - g * LANES : LANES;
        }
        model_batch_step st = {.train = 1, .seed = c.seed, .step = (uint64_t)step};
        assert_int_equal(model_batch_forward(&mb, kt, state_, xg, nvalid, b->groups, &st, p, &e), 0);
        for (int g = 0; g < b->groups; g++)
            softmax_xent(mb.ws[g].dlogits, loss + g * LANES, pred + g * LANES, mb.ws[g].act[m.n_layers],
                         b->labels + g * LANES, 10, 1.0f / (float)b->n);
        model_batch_backward(&mb, kt, state_, slots, b->groups, p);
        for (size_t i = 0; i < P; i++) {
            grads[i] = slots[i];
            for (int g = 1; g < b->groups; g++) grads[i] += slots[(size_t)g * P + i];
        }
        schedule_point sp;
        assert_int_equal(schedule_at(&sched, step, &sp, &e), 0);
        optim_hyper h = optim_hyper_from(&c, &sp);
        optim_update(&opt, &h, state_, grads, 0, P);
        optim_step_done(&opt);
    }
    loader_stop_epoch(ld);
    assert_memory_equal(r.params, state_, S * sizeof(float)); // parameters and running statistics
    free(x);
    model_batch_free(&mb);
    pool_destroy(p);
    loader_destroy(ld);
    optim_free(&opt);
    free(grads);
    free(slots);
    free(state_);
    run_result_free(&r);
    dataset_free(&tr);
    dataset_free(&te);
}

// train_evaluate of a trained run's state reproduces its last recorded test
// metrics to the bit; with the running statistics reset it does not.
static void test_bn_evaluate_reproduces_run(void **state) {
    (void)state;
    dataset tr, te;
    make_data(&tr, 200, 29);
    make_data(&te, 90, 30);
    run_config c = bn_config(BN_DROP_SPEC);
    c.epochs = 2;
    lr_err e;
    run_result r;
    assert_int_equal(train_run(&c, &tr, &te, cifar(), NULL, &r, &e), 0);
    double loss;
    int64_t cm[100];
    assert_int_equal(train_evaluate(&r.model, r.params, &te, cifar(), "auto", 2, &loss, cm, &e), 0);
    assert_memory_equal(&loss, &r.epochs[1].test_loss, sizeof loss);
    assert_memory_equal(cm, r.test_cm, sizeof cm);
    assert_true(metrics_accuracy(cm, 10) == r.epochs[1].test_acc);
    // train_predict_probs: the same loss
    float *probs = malloc((size_t)te.n * 10 * sizeof(float));
    assert_non_null(probs);
    double ploss;
    assert_int_equal(train_predict_probs(&r.model, r.params, &te, cifar(), "auto", 1, probs, &ploss, NULL, &e), 0);
    assert_memory_equal(&ploss, &loss, sizeof loss);
    free(probs);
    // the running statistics matter: reset, the loss changes
    for (size_t i = 0; i < r.model.n_buffers / 2; i++) r.params[r.model.n_params + i] = 0.0f;
    double reset_loss;
    assert_int_equal(train_evaluate(&r.model, r.params, &te, cifar(), "auto", 1, &reset_loss, cm, &e), 0);
    assert_true(reset_loss != loss);
    run_result_free(&r);
    dataset_free(&tr);
    dataset_free(&te);
}

// A batch size that leaves a bn seeing one value per channel is refused at
// creation, naming --batch-size and the data size; a bn over 32x32 maps
// takes a last batch of one image, as PyTorch does.
static void test_bn_batch_of_one_refused(void **state) {
    (void)state;
    dataset tr41, tr80, te;
    make_data(&tr41, 41, 31);
    make_data(&tr80, 80, 32);
    make_data(&te, 20, 33);
    lr_err e;
    run_config c = bn_config("conv:4:3:p=1,relu,gap,bn,linear"); // a 1-D bn after pooling
    c.epochs = 1;
    trainer *t = trainer_create(&c, &tr41, &te, cifar(), &e);
    assert_null(t);
    print_message("# %s\n", e.msg);
    assert_non_null(strstr(e.msg, "--batch-size 40"));
    assert_non_null(strstr(e.msg, "41 training images"));
    assert_non_null(strstr(e.msg, "last batch of 1 image"));
    assert_non_null(strstr(e.msg, "layer 4 (bn)"));
    model_desc mb;
    assert_int_equal(model_build(&mb, c.model, 3, 32, 32, 10, &e), 0);
    assert_int_equal(train_check_batches(&mb, 40, 41, &e), -1);
    assert_int_equal(train_check_batches(&mb, 40, 42, &e), 0);  // a last batch of 2
    assert_int_equal(train_check_batches(&mb, 1, 42, &e), -1);  // every batch one image
    assert_int_equal(train_check_batches(&mb, 64, 1, &e), -1);  // one image, less than a batch
    // a batch size that divides the data, or a bn over a 32x32 map: trains
    t = trainer_create(&c, &tr80, &te, cifar(), &e);
    assert_non_null(t);
    assert_int_equal(trainer_epoch(t, NULL), RUN_FINISHED);
    trainer_destroy(t);
    run_config c2 = bn_config(BN_SPEC);
    c2.epochs = 1;
    t = trainer_create(&c2, &tr41, &te, cifar(), &e);
    if (!t) fail_msg("%s", e.msg);
    assert_int_equal(trainer_epoch(t, NULL), RUN_FINISHED);
    trainer_destroy(t);
    // a model without bn takes any batch size
    model_desc m;
    assert_int_equal(model_build(&m, "conv:4:3:p=1,relu,gap,linear", 3, 32, 32, 10, &e), 0);
    assert_int_equal(train_check_batches(&m, 40, 41, &e), 0);
    dataset_free(&tr41);
    dataset_free(&tr80);
    dataset_free(&te);
}

// The memory estimate counts the batch driver's workspace per group: it
// grows with the batch by at least every activation of every group.
static void test_memory_counts_batch_driver(void **state) {
    (void)state;
    lr_err e;
    model_desc bn, plain;
    assert_int_equal(model_build(&bn, "resnet20", 3, 32, 32, 10, &e), 0);
    assert_int_equal(model_build(&plain, "seed", 3, 32, 32, 10, &e), 0);
    assert_true(train_batched(&bn));
    assert_false(train_batched(&plain));
    size_t acts = 0;
    for (int i = 1; i <= bn.n_layers; i++) acts += bn.act_floats[i];
    size_t small = train_memory_bytes(&bn, 16, 1), big = train_memory_bytes(&bn, 1024, 1);
    assert_true(big - small >= 63 * acts * sizeof(float));
    print_message("# resnet20: %.1f MB at batch 128, 2 threads\n", train_memory_bytes(&bn, 128, 2) / 1e6);
    // without bn the batch adds gradient slots only
    size_t psmall = train_memory_bytes(&plain, 16, 1), pbig = train_memory_bytes(&plain, 1024, 1);
    assert_true(pbig - psmall == 63 * plain.n_params * sizeof(float));
}

// ---------------------------------------------------------------- He et al.'s recipe in steps

// Multistep milestones in optimiser steps: MultiStepLR stepped per batch.
static void test_milestones_in_steps(void **state) {
    (void)state;
    run_config c;
    config_defaults(&c);
    snprintf(c.schedule, sizeof c.schedule, "multistep");
    c.lr = 0.1;
    c.gamma = 0.1;
    c.epochs = 4;
    lr_err e;
    const knob *k = knob_find("milestones");
    assert_int_equal(knob_parse(k, "3,5", &c, "--milestones", &e), 0);
    assert_int_equal(knob_parse(knob_find("milestone_unit"), "steps", &c, "--milestone-unit", &e), 0);
    schedule s;
    assert_int_equal(schedule_init(&s, &c, 4, &e), 0);
    double want[8] = {0.1, 0.1, 0.1, 0.1 * 0.1, 0.1 * 0.1, 0.1 * 0.1 * 0.1, 0.1 * 0.1 * 0.1, 0.1 * 0.1 * 0.1};
    for (long step = 0; step < 8; step++) {
        schedule_point p;
        assert_int_equal(schedule_at(&s, step, &p, &e), 0);
        if (memcmp(&p.lr, &want[step], sizeof p.lr) != 0) fail_msg("step %ld: lr %.17g, want %.17g", step, p.lr, want[step]);
    }
    // the default unit: epochs, unchanged (milestone 3 = epoch 3, step 12)
    assert_int_equal(knob_parse(knob_find("milestone_unit"), "epochs", &c, "--milestone-unit", &e), 0);
    assert_int_equal(schedule_init(&s, &c, 4, &e), 0);
    schedule_point p;
    assert_int_equal(schedule_at(&s, 11, &p, &e), 0);
    assert_true(p.lr == 0.1);
    assert_int_equal(schedule_at(&s, 12, &p, &e), 0);
    assert_true(p.lr == 0.1 * 0.1);
    assert_int_equal(knob_parse(knob_find("milestone_unit"), "weeks", &c, "--milestone-unit", &e), -1);
    assert_non_null(strstr(e.msg, "--milestone-unit"));
    // He et al.'s milestones fit the knob's range
    assert_int_equal(knob_parse(k, "32000,48000", &c, "--milestones", &e), 0);
    assert_int_equal(c.milestones.v[1], 48000);
}

static int stop_at_step6(void *ctx, long step, double lr, double loss) {
    (void)ctx; (void)lr; (void)loss;
    return step == 6;
}

// --max-steps ends the run inside an epoch, evaluates there and finishes;
// its parameters are those of the same 7 steps stopped by a hook; a
// checkpoint of it restores; past the run's steps it is refused.
static void test_max_steps(void **state) {
    (void)state;
    dataset tr, te;
    make_data(&tr, 200, 41); // 5 steps of 40 per epoch
    make_data(&te, 40, 42);
    run_config c = bn_config(BN_SPEC);
    c.max_steps = 7;
    snprintf(c.schedule, sizeof c.schedule, "multistep");
    snprintf(c.milestone_unit, sizeof c.milestone_unit, "steps");
    c.milestones.n = 1;
    c.milestones.v[0] = 5; // epoch 2's first step
    c.gamma = 0.1;
    lr_err e;
    trainer *t = trainer_create(&c, &tr, &te, cifar(), &e);
    if (!t) fail_msg("%s", e.msg);
    assert_int_equal(trainer_epoch(t, NULL), RUN_RUNNING);
    assert_int_equal(trainer_epoch(t, NULL), RUN_FINISHED);
    const run_result *r = trainer_result(t);
    assert_int_equal(r->epochs_done, 2);
    assert_true(r->epochs[1].has_test);
    assert_true(r->epochs[0].lr == 0.05 && r->epochs[1].lr == 0.05 * 0.1);
    uint8_t *saved;
    size_t len;
    trainer_save(t, &saved, &len);
    trainer *t2 = trainer_create(&c, &tr, &te, cifar(), &e);
    if (trainer_restore(t2, saved, len, &e) != 0) fail_msg("%s", e.msg);
    assert_int_equal(trainer_epoch(t2, NULL), RUN_FINISHED); // nothing left to do
    trainer_destroy(t2);
    free(saved);
    // the same 7 steps, stopped by the range test's hook
    run_config c2 = c;
    c2.max_steps = 0;
    train_hooks hooks = {.on_step = stop_at_step6};
    run_result r2;
    assert_int_equal(train_run(&c2, &tr, &te, cifar(), &hooks, &r2, &e), 0);
    assert_memory_equal(r2.params, r->params, model_state_floats(&r->model) * sizeof(float));
    assert_true(r2.epochs[1].train_loss == r->epochs[1].train_loss);
    run_result_free(&r2);
    trainer_destroy(t);
    // a max_steps the epochs never reach
    c.max_steps = 16;
    assert_null(trainer_create(&c, &tr, &te, cifar(), &e));
    assert_non_null(strstr(e.msg, "max_steps 16 is beyond the run's 15 steps (3 epochs x 5 batches): raise epochs "
                                  "to at least 4"));
    // max_steps is part of the configuration a checkpoint is written for
    run_config d;
    config_defaults(&d);
    run_config d2 = d;
    d2.max_steps = 3;
    assert_true(checkpoint_config_id(&d) != checkpoint_config_id(&d2));
    dataset_free(&tr);
    dataset_free(&te);
}

// ---------------------------------------------------------------- end to end

// A CIFAR-10 folder of 5 x 4 training and 10 test images (cli_fixture.h's
// colours): small enough for ResNet-20 on scalar kernels.
static int small_setup(void **state) {
    cli_state *st = calloc(1, sizeof *st);
    if (!st) return -1;
    const char *bin = getenv("LRSCOPE_BIN");
    st->bin = bin && *bin ? bin : "build/lrscope";
    if (access(st->bin, X_OK) != 0) {
        fprintf(stderr, "test_train_bn: %s is not an executable (set LRSCOPE_BIN)\n", st->bin);
        free(st);
        return -1;
    }
    test_mkdtemp(st->root, sizeof st->root);
    join(st->data, sizeof st->data, st->root, "data");
    if (mkdir(st->data, 0755) != 0) return -1;
    for (int b = 1; b <= 5; b++) {
        char name[32];
        snprintf(name, sizeof name, "data_batch_%d.bin", b);
        write_cifar_file(st->data, name, 4, b);
    }
    write_cifar_file(st->data, "test_batch.bin", 10, 6);
    *state = st;
    return 0;
}

// `lrscope ARGS...` with LRSCOPE_CRASH_AT=crash (NULL: unset); the wait status.
static int spawn(const cli_state *st, const char *crash, char *const argv[]) {
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (!freopen("/dev/null", "w", stdout) || !freopen("/dev/null", "w", stderr)) _exit(126);
        if (crash) setenv("LRSCOPE_CRASH_AT", crash, 1);
        else unsetenv("LRSCOPE_CRASH_AT");
        execv(st->bin, argv);
        _exit(127);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    return status;
}

// metrics.csv without its last column (seconds).
static char *metrics_no_time(const char *run_dir) {
    char path[4700];
    snprintf(path, sizeof path, "%s/metrics.csv", run_dir);
    char *t = slurp_must(path, NULL);
    strip_last_field(t);
    return t;
}

#define R20_ARGS "--model", "resnet20", "--epochs", "2", "--lr", "0.1", "--weight-decay", "1e-4", "--batch-size", \
                 "8", "--quiet", "--no-report"

static void test_cli_resnet20_run_evaluate_predict_resume(void **state) {
    cli_state *st = *state;
    char ref[4400], cut[4400], ref_run[4600], cut_run[4600], wpath[4700];
    snprintf(ref, sizeof ref, "%s/r20", st->root);
    snprintf(cut, sizeof cut, "%s/r20-killed", st->root);
    // uninterrupted, one thread
    char *argv_ref[] = {"lrscope", "run", "--data", st->data, "--out", ref, R20_ARGS, "--threads", "1", NULL};
    int ws = spawn(st, NULL, argv_ref);
    if (!WIFEXITED(ws) || WEXITSTATUS(ws) != 0) fail_msg("lrscope run --model resnet20: status %d", ws);
    snprintf(ref_run, sizeof ref_run, "%s/runs/lr=0.1/seed-1", ref);
    snprintf(wpath, sizeof wpath, "%s/weights.lrsw", ref_run);
    // weights v3: the running statistics saved, trained away from their start
    model_desc m;
    float *params = NULL;
    weights_meta meta;
    lr_err e;
    if (weights_read(wpath, NULL, &m, &params, &meta, &e) != 0) fail_msg("%s", e.msg);
    assert_int_equal(meta.version, 3);
    assert_int_equal(m.n_params, 269722);
    assert_int_equal(m.n_buffers, 2 * (16 * 7 + 32 * 6 + 64 * 6));
    int moved = 0;
    for (size_t i = 0; i < m.n_buffers / 2; i++) moved += params[m.n_params + i] != 0.0f;
    assert_true(moved > (int)m.n_buffers / 4);
    weights_meta_free(&meta);

    // evaluate reproduces the run's final test metrics to the bit
    char run_json[4700];
    snprintf(run_json, sizeof run_json, "%s/run.json", ref_run);
    json_t *run = load_json(run_json);
    json_t *fin = json_object_get(run, "final");
    double loss = json_real_value(json_object_get(fin, "test_loss"));
    double acc = json_real_value(json_object_get(fin, "test_acc"));
    assert_string_equal(json_string_value(json_object_get(run, "status")), "finished");
    json_decref(run);
    char *err, *out;
    int rc = run_lrscope(st, &err, &out, "evaluate '%s' --data '%s' --json --threads 2", ref_run, st->data);
    if (rc != 0) fail_msg("evaluate exited %d: %s", rc, err);
    json_error_t je;
    json_t *ev = json_loads(out, 0, &je);
    if (!ev) fail_msg("evaluate --json: %s", je.text);
    if (json_real_value(json_object_get(ev, "test_loss")) != loss || json_real_value(json_object_get(ev, "test_acc")) != acc)
        fail_msg("evaluate: loss %.17g acc %.17g; run.json %.17g %.17g", json_real_value(json_object_get(ev, "test_loss")),
                 json_real_value(json_object_get(ev, "test_acc")), loss, acc);
    json_decref(ev);
    free(err);
    free(out);

    // predict: test image 3's probabilities are train_predict_probs's (eval mode, running statistics)
    dataset train, test;
    if (dataset_load(dataset_find("cifar10"), st->data, &train, &test, &e) != 0) fail_msg("%s", e.msg);
    float probs[10 * 10];
    if (train_predict_probs(&m, params, &test, dataset_find("cifar10"), "auto", 1, probs, NULL, NULL, &e) != 0)
        fail_msg("%s", e.msg);
    char bin[4600];
    snprintf(bin, sizeof bin, "%s/test_batch.bin", st->data);
    rc = run_lrscope(st, &err, &out, "predict '%s' '%s' --index 3 --json --top 10", wpath, bin);
    if (rc != 0) fail_msg("predict exited %d: %s", rc, err);
    json_t *root = json_loads(out, 0, &je);
    assert_non_null(root);
    json_t *top = json_object_get(json_array_get(json_object_get(root, "images"), 0), "top");
    assert_int_equal(json_array_size(top), 10);
    for (size_t j = 0; j < 10; j++) {
        int label = (int)json_integer_value(json_object_get(json_array_get(top, j), "label"));
        double p = json_real_value(json_object_get(json_array_get(top, j), "probability"));
        if (fabs(p - probs[3 * 10 + label]) > 1e-5)
            fail_msg("predict: class %d p %.9g, train_predict_probs %.9g", label, p, (double)probs[3 * 10 + label]);
    }
    json_decref(root);
    free(err);
    free(out);
    dataset_free(&train);
    dataset_free(&test);
    free(params);

    // ensemble of the run with itself: its member metrics are evaluate's
    rc = run_lrscope(st, &err, &out, "ensemble '%s' '%s' --data '%s'", ref_run, wpath, st->data);
    if (rc != 0) fail_msg("ensemble exited %d: %s", rc, err);
    free(err);
    free(out);

    // killed (kill -9) after the first checkpoint, resumed with two threads: the same bits
    char *argv_cut[] = {"lrscope", "run", "--data", st->data, "--out", cut, R20_ARGS, "--threads", "1", NULL};
    ws = spawn(st, "epoch:1", argv_cut);
    if (!WIFSIGNALED(ws) || WTERMSIG(ws) != SIGKILL) fail_msg("not killed (status %d)", ws);
    char *argv_resume[] = {"lrscope", "resume", cut, "--quiet", NULL};
    ws = spawn(st, NULL, argv_resume);
    if (!WIFEXITED(ws) || WEXITSTATUS(ws) != 0) fail_msg("lrscope resume: status %d", ws);
    snprintf(cut_run, sizeof cut_run, "%s/runs/lr=0.1/seed-1", cut);
    char wcut[4700];
    snprintf(wcut, sizeof wcut, "%s/weights.lrsw", cut_run);
    size_t la, lb;
    char *wa = slurp_must(wpath, &la), *wb = slurp_must(wcut, &lb);
    assert_int_equal(la, lb);
    assert_memory_equal(wa, wb, la);
    free(wa);
    free(wb);
    char *ma = metrics_no_time(ref_run), *mb = metrics_no_time(cut_run);
    assert_string_equal(ma, mb);
    free(ma);
    free(mb);
}

// A study file with a bn + dropout description in its model axis: --jobs 1
// and --jobs 2 (one thread each or shared) write the same weights.
static void test_cli_study_file_bn_jobs(void **state) {
    cli_state *st = *state;
    char yaml_path[4400], out1[4400], out2[4400];
    snprintf(yaml_path, sizeof yaml_path, "%s/bn-study.yaml", st->root);
    const char *yaml = "name: bn-jobs\nepochs: 2\nseeds: [1, 2]\nbase:\n  batch_size: 8\n  lr: 0.05\n"
                       "grid:\n  model: [\"conv:4:3:p=1:bias=0,bn,relu,maxpool:2,conv:4:3:bias=0,bn,relu,gap,"
                       "dropout:0.2,linear\", seed]\n";
    test_write_file(yaml_path, yaml, strlen(yaml));
    snprintf(out1, sizeof out1, "%s/bn-j1", st->root);
    snprintf(out2, sizeof out2, "%s/bn-j2", st->root);
    char *err;
    int rc = run_lrscope(st, &err, NULL, "run '%s' --data '%s' --out '%s' --jobs 1 --threads 2 --quiet --no-report",
                         yaml_path, st->data, out1);
    if (rc != 0) fail_msg("--jobs 1: exit %d: %s", rc, err);
    free(err);
    rc = run_lrscope(st, &err, NULL, "run '%s' --data '%s' --out '%s' --jobs 2 --quiet --no-report", yaml_path,
                     st->data, out2);
    if (rc != 0) fail_msg("--jobs 2: exit %d: %s", rc, err);
    free(err);
    report_study s;
    lr_err e;
    if (report_study_read(out1, &s, &e) != 0) fail_msg("%s", e.msg);
    assert_int_equal(s.n_runs, 4);
    int bn_runs = 0;
    for (int i = 0; i < s.n_runs; i++) {
        char pa[4800], pb[4800];
        snprintf(pa, sizeof pa, "%s/%s/weights.lrsw", out1, s.runs[i].name);
        snprintf(pb, sizeof pb, "%s/%s/weights.lrsw", out2, s.runs[i].name);
        size_t la, lb;
        char *wa = slurp_must(pa, &la), *wb = slurp_must(pb, &lb);
        assert_int_equal(la, lb);
        assert_memory_equal(wa, wb, la);
        bn_runs += strstr(s.runs[i].config.model, "bn") != NULL && wa[4] == 3; // weights v3
        free(wa);
        free(wb);
    }
    assert_int_equal(bn_runs, 2);
    report_study_free(&s);
}

// Refused before anything is written: a bn model too large for memory, a
// batch size that leaves a 1-D bn one image.
static void test_cli_refusals(void **state) {
    cli_state *st = *state;
    expect_bad_input(st, "needs about", "--data '%s' --model "
                     "'conv:4096:3:p=1:bias=0,bn,relu,conv:4096:3:p=1:bias=0,bn,relu,gap,linear' --batch-size 65536 "
                     "--lr 0.1", st->data);
    expect_bad_input(st, "--batch-size 19: 20 training images leave a last batch of 1 image",
                     "--data '%s' --model 'conv:4:3,relu,gap,bn,linear' --batch-size 19 --lr 0.1", st->data);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bn_learns_same_bits_any_threads),
        cmocka_unit_test(test_dropout_is_active_in_training),
        cmocka_unit_test(test_bn_save_restore_same_bits),
        cmocka_unit_test(test_bn_steps_equal_by_hand),
        cmocka_unit_test(test_bn_evaluate_reproduces_run),
        cmocka_unit_test(test_bn_batch_of_one_refused),
        cmocka_unit_test(test_memory_counts_batch_driver),
        cmocka_unit_test(test_milestones_in_steps),
        cmocka_unit_test(test_max_steps),
    };
    const struct CMUnitTest cli[] = {
        cmocka_unit_test(test_cli_refusals),
        cmocka_unit_test(test_cli_resnet20_run_evaluate_predict_resume),
        cmocka_unit_test(test_cli_study_file_bn_jobs),
    };
    int failed = cmocka_run_group_tests_name("train_bn", tests, NULL, NULL);
    return failed + cmocka_run_group_tests_name("train_bn_cli", cli, small_setup, group_teardown);
}
