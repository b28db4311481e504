// test_study.c: how a study uses the cores (study_plan): forced jobs, forced
// threads, and the automatic choice, which never mixes conditions.
#include "test_util.h"

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

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_auto_side_by_side_only_when_even),
        cmocka_unit_test(test_single_run_or_core),
        cmocka_unit_test(test_forced),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
