// test_study.c: how a study uses the cores (study_plan): forced jobs, forced
// threads, and the automatic rounds of side-by-side runs plus the remainder.
#include "test_util.h"

#include "../src/study/study.h"

static int plan(int n_runs, int threads, int jobs, int cores, study_phase *ph) {
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
    return study_plan(&s, cores, ph);
}

static void expect(const study_phase *p, int first, int end, int jobs, int threads) {
    if (p->first != first || p->end != end || p->jobs != jobs || p->threads != threads)
        fail_msg("phase [%d, %d) jobs %d threads %d; expected [%d, %d) jobs %d threads %d", p->first, p->end,
                 p->jobs, p->threads, first, end, jobs, threads);
}

static void test_auto_rounds_then_remainder(void **state) {
    (void)state;
    study_phase ph[2];
    assert_int_equal(plan(3, 0, 0, 2, ph), 2); // the seed study on two cores
    expect(&ph[0], 0, 2, 2, 1);
    expect(&ph[1], 2, 3, 1, 2);
    assert_int_equal(plan(4, 0, 0, 2, ph), 1);
    expect(&ph[0], 0, 4, 2, 1);
    assert_int_equal(plan(6, 0, 0, 4, ph), 2);
    expect(&ph[0], 0, 4, 4, 1);
    expect(&ph[1], 4, 6, 2, 2);
    assert_int_equal(plan(3, 0, 0, 4, ph), 1); // fewer runs than cores: side by side
    expect(&ph[0], 0, 3, 3, 1);
}

static void test_single_run_or_core(void **state) {
    (void)state;
    study_phase ph[2];
    assert_int_equal(plan(1, 0, 0, 2, ph), 1);
    expect(&ph[0], 0, 1, 1, 2);
    assert_int_equal(plan(3, 0, 0, 1, ph), 1);
    expect(&ph[0], 0, 3, 1, 1);
}

static void test_forced(void **state) {
    (void)state;
    study_phase ph[2];
    assert_int_equal(plan(3, 1, 0, 2, ph), 1); // --threads 1: one run at a time
    expect(&ph[0], 0, 3, 1, 1);
    assert_int_equal(plan(3, 0, 1, 2, ph), 1); // --jobs 1: one run at a time on all cores
    expect(&ph[0], 0, 3, 1, 2);
    assert_int_equal(plan(3, 0, 5, 2, ph), 1); // --jobs above the runs: capped
    expect(&ph[0], 0, 3, 3, 1);
    assert_int_equal(plan(4, 2, 2, 2, ph), 1); // both given: as asked
    expect(&ph[0], 0, 4, 2, 2);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_auto_rounds_then_remainder),
        cmocka_unit_test(test_single_run_or_core),
        cmocka_unit_test(test_forced),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
