// test_study.c: how a study uses the cores (study_plan): forced jobs, forced
// threads, and the automatic choice, which never mixes conditions; and
// common random numbers: runs of one seed start from the same weights and
// see the same batches in every condition.
#include "test_util.h"

#include "../src/data/loader.h"
#include "../src/model/model.h"
#include "../src/study/grid.h"
#include "../src/study/study.h"

static study_plan plan(int n_runs, int threads, int jobs, int cores) {
    static run_config runs[16];
    for (int i = 0; i < n_runs; i++) {
        config_defaults(&runs[i]);
        runs[i].threads = threads;
    }
    study s;
    memset(&s, 0, sizeof s);
    s.runs = runs;
    s.n_runs = n_runs;
    s.jobs = jobs;
    return study_plan_cores(&s, cores);
}

static void expect(study_plan p, int jobs, int threads) {
    if (p.jobs != jobs || p.threads != threads)
        fail_msg("jobs %d threads %d; expected jobs %d threads %d", p.jobs, p.threads, jobs, threads);
}

static void test_auto_side_by_side_only_when_even(void **state) {
    (void)state;
    expect(plan(3, 0, 0, 2), 1, 2); // the seed study on two cores: one at a time
    expect(plan(4, 0, 0, 2), 2, 1); // fills the cores evenly: side by side
    expect(plan(8, 0, 0, 4), 4, 1);
    expect(plan(6, 0, 0, 4), 1, 4); // never a mix of conditions
}

static void test_single_run_or_core(void **state) {
    (void)state;
    expect(plan(1, 0, 0, 2), 1, 2);
    expect(plan(3, 0, 0, 1), 1, 1);
}

static void test_forced(void **state) {
    (void)state;
    expect(plan(3, 1, 0, 2), 1, 1); // --threads 1: one run at a time
    expect(plan(3, 0, 1, 2), 1, 2); // --jobs 1: one run at a time on all cores
    expect(plan(3, 0, 5, 2), 3, 1); // --jobs above the runs: capped
    expect(plan(4, 2, 2, 2), 2, 2); // both given: as asked
}

// ---- common random numbers ----

// A small CIFAR-shaped data set in memory: 64 images, pixel (i, j) = f(i, j).
static void small_dataset(dataset *d) {
    dataset_alloc(d, 64, 3, 32, 32, 10);
    for (int i = 0; i < 64; i++) {
        d->labels[i] = (uint16_t)(i % 10);
        for (int j = 0; j < 3 * 32 * 32; j++) d->pixels[(size_t)i * 3 * 32 * 32 + j] = test_pixel(i, j);
    }
    dataset_default_class_names(d);
}

// The initial weights and the first training batch (images after
// augmentation, labels, order, draws) of a run, as train_run makes them.
typedef struct {
    float *params;
    size_t n_params;
    float *x;
    size_t n_x;
    int labels[64], index[64];
    uint8_t top[64], left[64], flip[64];
} run_start;

static void start_of(const run_config *c, const dataset *d, run_start *out) {
    memset(out, 0, sizeof *out); // same_start compares whole arrays, past the batch's n too
    model_desc m;
    lr_err e;
    if (model_build(&m, c->model, d->c, d->h, d->w, d->num_classes, &e) != 0) fail_msg("%s", e.msg);
    out->n_params = m.n_params;
    out->params = lr_aligned_alloc(m.n_params * sizeof(float));
    model_init_params(&m, out->params, c->seed);
    loader *ld = loader_create(d, dataset_find(c->dataset), c->batch_size, 1, c->seed, 1);
    loader_start_epoch(ld, 0);
    const batch *b = loader_next(ld);
    assert_non_null(b);
    assert_non_null(b->x);
    out->n_x = (size_t)b->groups * 3 * 32 * 32 * LANES;
    out->x = malloc(out->n_x * sizeof(float));
    assert_non_null(out->x);
    memcpy(out->x, b->x, out->n_x * sizeof(float));
    assert_true(b->n <= 64);
    memcpy(out->labels, b->labels, (size_t)b->n * sizeof(int));
    memcpy(out->index, b->index, (size_t)b->n * sizeof(int));
    memcpy(out->top, b->top, (size_t)b->n);
    memcpy(out->left, b->left, (size_t)b->n);
    memcpy(out->flip, b->flip, (size_t)b->n);
    loader_stop_epoch(ld);
    loader_destroy(ld);
}

static int same_start(const run_start *a, const run_start *b) {
    return a->n_params == b->n_params && memcmp(a->params, b->params, a->n_params * sizeof(float)) == 0 &&
           a->n_x == b->n_x && memcmp(a->x, b->x, a->n_x * sizeof(float)) == 0 &&
           memcmp(a->labels, b->labels, sizeof a->labels) == 0 && memcmp(a->index, b->index, sizeof a->index) == 0 &&
           memcmp(a->top, b->top, sizeof a->top) == 0 && memcmp(a->left, b->left, sizeof a->left) == 0 &&
           memcmp(a->flip, b->flip, sizeof a->flip) == 0;
}

static void start_free(run_start *s) {
    free(s->params);
    free(s->x);
}

// Two conditions that differ only in lr (and momentum): seed k starts from
// bit-identical weights and sees the same first batch in both; another seed
// does not.
static void test_common_random_numbers(void **state) {
    (void)state;
    dataset d;
    small_dataset(&d);
    study_spec sp;
    spec_init(&sp);
    lr_err e;
    sp.base.batch_size = 32;
    if (spec_parse_grid_flag(&sp, "lr=0.1,0.001", &e) != 0 || spec_parse_grid_flag(&sp, "momentum=0,0.9", &e) != 0 ||
        spec_set_seeds(&sp, "1,2", "--seeds", &e) != 0)
        fail_msg("%s", e.msg);
    run_config *runs;
    int n;
    if (spec_expand(&sp, &runs, &n, &e) != 0) fail_msg("%s", e.msg);
    assert_int_equal(n, 8);
    run_start st[8];
    for (int i = 0; i < n; i++) start_of(&runs[i], &d, &st[i]);
    for (int i = 0; i < n; i++)
        for (int j = 0; j < i; j++) {
            int want = runs[i].seed == runs[j].seed;
            if (same_start(&st[i], &st[j]) != want)
                fail_msg("%s and %s: starts %s", runs[i].name, runs[j].name,
                         want ? "differ for the same seed" : "are equal for different seeds");
        }
    // the draws are really random: the batch is shuffled and augmented
    int moved = 0, flipped = 0;
    for (int k = 0; k < 32; k++) moved += st[0].index[k] != k, flipped += st[0].flip[k];
    assert_true(moved > 16 && flipped > 4 && flipped < 28);
    for (int i = 0; i < n; i++) start_free(&st[i]);
    free(runs);
    spec_free(&sp);
    dataset_free(&d);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_auto_side_by_side_only_when_even),
        cmocka_unit_test(test_single_run_or_core),
        cmocka_unit_test(test_forced),
        cmocka_unit_test(test_common_random_numbers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
