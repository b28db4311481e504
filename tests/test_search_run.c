// test_search_run.c: `lrscope run --search` end to end on tiny data: the
// folder layout (runs/trial-NNN/seed-S, run.json "trial" and "point",
// study.json "search"); ASHA's decisions recomputed from the files with the
// library's own asha_decide / asha_promotable under the order rule; K seeds
// per point decided on their mean; the same bits with --jobs 1 and 2, and
// after kill -9 and `lrscope resume`; bad input refused with exit 2.
#include "cli_fixture.h"
#include "study_compare.h"

#include "../src/search/prune.h"
#include "../src/study/search_run.h"

#include <math.h>
#include <sys/wait.h>

#define TPE_ARGS "--search tpe --trials 12 --space lr=loguniform:1e-3:1 --space momentum=uniform:0:0.99 " \
                 "--pruner asha:grace=1,eta=3 --epochs 9 --threads 1 --quiet --no-report"

typedef struct {
    cli_state cli;
    char ref[4400];   // the TPE + ASHA search with --jobs 1
    int case_no;
} search_state;

static int setup(void **state) {
    search_state *ss = calloc(1, sizeof *ss);
    void *cs = NULL;
    if (!ss || group_setup(&cs) != 0) return -1;
    ss->cli = *(cli_state *)cs;
    free(cs);
    *state = ss;
    return 0;
}

static int teardown(void **state) {
    search_state *ss = *state;
    test_rmtree(ss->cli.root);
    free(ss);
    return 0;
}

static void new_dir(search_state *ss, char *out, size_t cap) {
    char dir[4300];
    snprintf(dir, sizeof dir, "%s/case%d", ss->cli.root, ++ss->case_no);
    assert_int_equal(mkdir(dir, 0755), 0);
    snprintf(out, cap, "%s/study", dir);
}

// The reference search (TPE + ASHA, --jobs 1), made once.
static const char *reference(search_state *ss) {
    if (!ss->ref[0]) {
        new_dir(ss, ss->ref, sizeof ss->ref);
        char *err;
        int rc = run_lrscope(&ss->cli, &err, NULL, "run --data '%s' --out '%s' " TPE_ARGS " --jobs 1", ss->cli.data,
                             ss->ref);
        if (rc != 0) fail_msg("reference search: exit %d: %s", rc, err);
        free(err);
    }
    return ss->ref;
}

// The test_acc column of a run's metrics.csv: the number of rows.
static int read_curve(const char *dir, const char *folder, double *acc, int cap) {
    char path[4800];
    snprintf(path, sizeof path, "%s/%s/metrics.csv", dir, folder);
    char *text = slurp_must(path, NULL), *lines[256] = {0};
    int n = split_lines(text, lines, 256), rows = 0;
    assert_true(n > 0);
    assert_string_equal(lines[0], METRICS_HEADER);
    for (int i = 1; i < n; i++) {
        if (!lines[i][0]) continue;
        char *f[16];
        assert_int_equal(split_csv(lines[i], f, 16), 9);
        assert_true(rows < cap);
        assert_int_equal(atoi(f[0]), rows + 1);
        acc[rows++] = parse_num(f[6], "test_acc");
    }
    free(text);
    return rows;
}

static const char *status_of(const char *dir, const char *folder) {
    static char st[32];
    char path[4800];
    snprintf(path, sizeof path, "%s/%s/run.json", dir, folder);
    json_t *j = load_json(path);
    snprintf(st, sizeof st, "%s", json_string_value(json_object_get(j, "status")));
    json_decref(j);
    return st;
}

enum { MAXT = 64, MAXE = 16 };

// ASHA as the order rule takes it, recomputed from full curves: first pass
// in trial order (trial t's decisions read trials s < t as they stood when
// they stopped), then promotions one at a time. stop[t]: the epochs trial t
// ends with.
static int asha_expected(const prune_cfg *cfg, double curves[][MAXE], int n, int R, int *stop) {
    search_trial tr[MAXT];
    memset(tr, 0, sizeof tr);
    for (int t = 0; t < n; t++) {
        tr[t].curve = curves[t];
        tr[t].state = TRIAL_RUNNING;
        stop[t] = R;
        for (int e = 1; e < R; e++) {
            tr[t].n_epochs = e;
            if (asha_rung(cfg, e) < 0) continue;
            if (asha_decide(cfg, 1, tr, t, t, e) == PRUNE_STOP) {
                stop[t] = e;
                break;
            }
        }
        tr[t].n_epochs = stop[t];
        tr[t].state = stop[t] < R ? TRIAL_PRUNED : TRIAL_COMPLETE;
        tr[t].value = curves[t][stop[t] - 1];
    }
    int promoted = 0;
    for (int t; (t = asha_promotable(cfg, 1, tr, n)) >= 0; promoted++) {
        tr[t].state = TRIAL_RUNNING;
        int e = stop[t] + 1;
        stop[t] = R;
        for (; e < R; e++) {
            tr[t].n_epochs = e;
            if (asha_rung(cfg, e) >= 0 && asha_decide(cfg, 1, tr, n, t, e) == PRUNE_STOP) {
                stop[t] = e;
                break;
            }
        }
        tr[t].n_epochs = stop[t];
        tr[t].state = stop[t] < R ? TRIAL_PRUNED : TRIAL_COMPLETE;
        tr[t].value = curves[t][stop[t] - 1];
    }
    return promoted;
}

// Every trial of study (n trials, seeds 1..k, R epochs, ASHA grace 1 eta 3)
// stopped where ASHA says on the mean of its runs' test accuracy; returns
// the number pruned; *promoted: how many promotions ASHA made.
static int check_asha(const char *dir, int n, int k, int R, int *promoted) {
    static double curves[MAXT][MAXE];
    int rows[MAXT], stop[MAXT];
    for (int t = 0; t < n; t++) {
        for (int e = 0; e < MAXE; e++) curves[t][e] = 0;
        for (int j = 1; j <= k; j++) {
            char folder[128];
            search_run_folder(folder, sizeof folder, t, (uint64_t)j);
            double acc[MAXE];
            int r = read_curve(dir, folder, acc, MAXE);
            if (j > 1 && r != rows[t]) fail_msg("trial %d: its seeds have %d and %d epochs", t, rows[t], r);
            rows[t] = r;
            for (int e = 0; e < r; e++) curves[t][e] += acc[e] / k;
        }
    }
    prune_cfg cfg;
    prune_defaults(&cfg, PRUNER_ASHA);
    cfg.max_epochs = R;
    int p = asha_expected(&cfg, curves, n, R, stop);
    if (promoted) *promoted = p;
    int pruned = 0;
    for (int t = 0; t < n; t++) {
        if (rows[t] != stop[t]) fail_msg("trial %d: %d epochs in metrics.csv, ASHA says %d", t, rows[t], stop[t]);
        char folder[128];
        search_run_folder(folder, sizeof folder, t, 1);
        const char *st = status_of(dir, folder);
        assert_string_equal(st, stop[t] < R ? "pruned" : "finished");
        pruned += stop[t] < R;
    }
    return pruned;
}

// ---------------------------------------------------------------- tests

static void test_random_layout(void **state) {
    search_state *ss = *state;
    char out[4400];
    new_dir(ss, out, sizeof out);
    char *err;
    int rc = run_lrscope(&ss->cli, &err, NULL,
                         "run --data '%s' --out '%s' --search random --trials 6 --space lr=loguniform:1e-3:1 "
                         "--epochs 3 --threads 1 --quiet", ss->cli.data, out);
    if (rc != 0) fail_msg("exit %d: %s", rc, err);
    free(err);
    char path[4800];
    snprintf(path, sizeof path, "%s/study.json", out);
    json_t *sj = load_json(path);
    json_t *sp = json_object_get(sj, STUDY_KEY_SEARCH), *runs = json_object_get(sj, STUDY_KEY_RUNS);
    assert_string_equal(json_string_value(json_object_get(sp, SEARCH_KEY_METHOD)), "random");
    assert_int_equal(json_integer_value(json_object_get(sp, SEARCH_KEY_TRIALS)), 6);
    assert_string_equal(json_string_value(json_object_get(sp, SEARCH_KEY_METRIC)), "test_acc");
    assert_string_equal(json_string_value(json_object_get(sp, SEARCH_KEY_DIRECTION)), "maximize");
    assert_string_equal(json_string_value(json_object_get(json_object_get(sp, SEARCH_KEY_SPACE), "lr")),
                        "loguniform:0.001:1");
    assert_string_equal(json_string_value(json_object_get(json_object_get(sp, SEARCH_KEY_PRUNER), "type")), "none");
    assert_int_equal(json_array_size(runs), 6);
    double lrs[6];
    for (int t = 0; t < 6; t++) {
        char folder[128];
        search_run_folder(folder, sizeof folder, t, 1);
        json_t *entry = json_array_get(runs, (size_t)t);
        assert_string_equal(json_string_value(json_object_get(entry, RUN_KEY_FOLDER)), folder);
        assert_int_equal(json_integer_value(json_object_get(entry, RUN_KEY_TRIAL)), t);
        snprintf(path, sizeof path, "%s/%s/run.json", out, folder);
        json_t *rj = load_json(path);
        assert_int_equal(json_integer_value(json_object_get(rj, RUN_KEY_TRIAL)), t);
        double lr = json_real_value(json_object_get(json_object_get(rj, RUN_KEY_POINT), "lr"));
        // the point is the configuration the run trained with, and lies in the space
        assert_true(lr == json_real_value(json_object_get(json_object_get(rj, RUN_KEY_CONFIG), "lr")));
        assert_true(lr >= 1e-3 && lr <= 1);
        assert_string_equal(json_string_value(json_object_get(rj, "status")), "finished");
        char cond[128];
        snprintf(cond, sizeof cond, "lr=%.17g", lr);
        json_t *c = json_object_get(rj, RUN_KEY_CONDITION);
        assert_true(!strncmp(json_string_value(c), "lr=", 3));
        assert_true(strtod(json_string_value(c) + 3, NULL) == lr);
        for (int s = 0; s < t; s++) assert_true(lrs[s] != lr); // no point twice
        lrs[t] = lr;
        json_decref(rj);
        double acc[8];
        assert_int_equal(read_curve(out, folder, acc, 8), 3);
    }
    json_decref(sj);
    // summary.csv: a row per trial; the report was built
    snprintf(path, sizeof path, "%s/summary.csv", out);
    char *text = slurp_must(path, NULL), *lines[64];
    int n = split_lines(text, lines, 64);
    while (n > 0 && !lines[n - 1][0]) n--;
    assert_int_equal(n, 7);
    free(text);
    snprintf(path, sizeof path, "%s/report.html", out);
    assert_true(exists(path));
    // ... with the search's own section, read back from what the scheduler wrote
    snprintf(path, sizeof path, "%s/report.md", out);
    char *md = slurp_must(path, NULL);
    assert_non_null(strstr(md, "\n## Search\n"));
    assert_non_null(strstr(md, "The search spent 18 epochs")); // 6 trials x 3 epochs, no pruner
    free(md);
    snprintf(path, sizeof path, "%s/figures/search_history.png", out);
    assert_true(exists(path));
}

static void test_tpe_asha_decisions(void **state) {
    search_state *ss = *state;
    const char *ref = reference(ss);
    int pruned = check_asha(ref, 12, 1, 9, NULL);
    assert_true(pruned >= 1);
    assert_true(pruned <= 11);
}

static void test_jobs_same_bits(void **state) {
    search_state *ss = *state;
    const char *ref = reference(ss);
    char out[4400];
    new_dir(ss, out, sizeof out);
    char *err;
    int rc = run_lrscope(&ss->cli, &err, NULL, "run --data '%s' --out '%s' " TPE_ARGS " --jobs 2", ss->cli.data, out);
    if (rc != 0) fail_msg("exit %d: %s", rc, err);
    free(err);
    assert_same_study(ref, out);
}

// Runs `lrscope ARGS` with LRSCOPE_CRASH_AT=crash: it must be killed.
static void run_killed(search_state *ss, const char *crash, const char *args) {
    char cmd[20000];
    snprintf(cmd, sizeof cmd, "LRSCOPE_CRASH_AT=%s '%s' %s >/dev/null 2>&1", crash, ss->cli.bin, args);
    int rc = system(cmd);
    int killed = (WIFSIGNALED(rc) && WTERMSIG(rc) == SIGKILL) || (WIFEXITED(rc) && WEXITSTATUS(rc) == 128 + SIGKILL);
    if (!killed) fail_msg("`%s`: not killed (status %d)", cmd, rc);
}

static void test_kill9_then_resume(void **state) {
    search_state *ss = *state;
    const char *ref = reference(ss);
    static const char *const crashes[] = {"epoch:7", "run:12", "batch:30"};
    for (int c = 0; c < 3; c++) {
        char out[4400], args[9000];
        new_dir(ss, out, sizeof out);
        snprintf(args, sizeof args, "run --data '%s' --out '%s' " TPE_ARGS " --jobs 2", ss->cli.data, out);
        run_killed(ss, crashes[c], args);
        if (c == 1) { // killed again during the resume
            snprintf(args, sizeof args, "resume '%s' --quiet --no-report --jobs 1", out);
            run_killed(ss, "run:9", args);
        }
        char *err;
        int rc = run_lrscope(&ss->cli, &err, NULL, "resume '%s' --quiet --no-report --jobs %d", out, 1 + c % 2);
        if (rc != 0) fail_msg("resume after %s: exit %d: %s", crashes[c], rc, err);
        free(err);
        assert_same_study(ref, out);
    }
}

static void test_seeds_mean(void **state) {
    search_state *ss = *state;
    char out[4400];
    new_dir(ss, out, sizeof out);
    char *err;
    int rc = run_lrscope(&ss->cli, &err, NULL,
                         "run --data '%s' --out '%s' --search tpe --trials 8 --space lr=loguniform:1e-3:1 "
                         "--search-seeds 2 --pruner asha:grace=1,eta=3 --epochs 3 --threads 1 --quiet --no-report",
                         ss->cli.data, out);
    if (rc != 0) fail_msg("exit %d: %s", rc, err);
    free(err);
    char path[4800];
    snprintf(path, sizeof path, "%s/study.json", out);
    json_t *sj = load_json(path);
    json_t *rs = json_object_get(json_object_get(sj, STUDY_KEY_SEARCH), SEARCH_KEY_RUN_SEEDS);
    assert_int_equal(json_array_size(rs), 2);
    assert_int_equal(json_array_size(json_object_get(sj, STUDY_KEY_RUNS)), 16);
    json_decref(sj);
    for (int t = 0; t < 8; t++)
        for (int j = 1; j <= 2; j++) {
            char folder[128];
            search_run_folder(folder, sizeof folder, t, (uint64_t)j);
            snprintf(path, sizeof path, "%s/%s/run.json", out, folder);
            json_t *rj = load_json(path);
            assert_int_equal(json_integer_value(json_object_get(rj, RUN_KEY_SEED)), j);
            assert_int_equal(json_integer_value(json_object_get(rj, RUN_KEY_TRIAL)), t);
            json_decref(rj);
        }
    check_asha(out, 8, 2, 3, NULL); // decided on the mean of the 2 seeds
}

// A search where ASHA promotes pruned trials once all have settled (random
// search; search seed 6 makes 3 promotions on this data): each promoted
// trial continues from its checkpoint to where ASHA says; killed late and
// resumed, the same bits.
#define PROMOTE_ARGS "--search random --search-seed 6 --trials 12 --space lr=loguniform:1e-3:1 " \
                     "--space momentum=uniform:0:0.99 --pruner asha:grace=1,eta=3 --epochs 9 --threads 1 " \
                     "--quiet --no-report"

static void test_promotion(void **state) {
    search_state *ss = *state;
    char out[4400], killed[4400], args[9000];
    new_dir(ss, out, sizeof out);
    char *err;
    int rc = run_lrscope(&ss->cli, &err, NULL, "run --data '%s' --out '%s' " PROMOTE_ARGS, ss->cli.data, out);
    if (rc != 0) fail_msg("exit %d: %s", rc, err);
    free(err);
    int promoted = 0;
    check_asha(out, 12, 1, 9, &promoted);
    assert_true(promoted >= 1);
    // With two runners the promoted trials' items go to whichever is free
    // (a runner may take a run's next item while the one that ended it is
    // still returning): the same bits, and no race (`make race`).
    char jobs2[4400];
    new_dir(ss, jobs2, sizeof jobs2);
    rc = run_lrscope(&ss->cli, &err, NULL, "run --data '%s' --out '%s' " PROMOTE_ARGS " --jobs 2", ss->cli.data, jobs2);
    if (rc != 0) fail_msg("--jobs 2: exit %d: %s", rc, err);
    free(err);
    assert_same_study(out, jobs2);
    new_dir(ss, killed, sizeof killed);
    snprintf(args, sizeof args, "run --data '%s' --out '%s' " PROMOTE_ARGS " --jobs 2", ss->cli.data, killed);
    run_killed(ss, "run:24", args);
    rc = run_lrscope(&ss->cli, &err, NULL, "resume '%s' --quiet --no-report --jobs 1", killed);
    if (rc != 0) fail_msg("resume: exit %d: %s", rc, err);
    free(err);
    assert_same_study(out, killed);
}

static void test_bad_input(void **state) {
    search_state *ss = *state;
    cli_state *st = &ss->cli;
    char data[4400];
    snprintf(data, sizeof data, "--data '%s'", st->data);
    expect_bad_input(st, "momentom", "%s --search random --trials 3 --space momentom=uniform:0:1", data);
    expect_bad_input(st, "--trials", "%s --search random --trials 0 --space lr=loguniform:1e-3:1", data);
    expect_bad_input(st, "a search and a grid", "%s --search random --trials 3 --space lr=loguniform:1e-3:1 "
                     "--lrs 0.1,0.01", data);
    expect_bad_input(st, "--eval-interval", "%s --search random --trials 3 --space lr=loguniform:1e-3:1 "
                     "--pruner asha:max_epochs=3 --eval-interval 2", data);
    char yaml[4400];
    snprintf(yaml, sizeof yaml, "%s/bad-search.yaml", st->root);
    test_write_file(yaml, "search:\n  method: random\n  trails: 4\n  space:\n    lr: loguniform:1e-3:1\n", 64);
    expect_bad_input(st, "trails", "%s '%s'", data, yaml);
}

// A resumed search re-derives every trial and refuses one that differs
// from study.json's record, naming it.
static void test_resume_refuses_other_trials(void **state) {
    search_state *ss = *state;
    char out[4400], args[9000];
    new_dir(ss, out, sizeof out);
    snprintf(args, sizeof args, "run --data '%s' --out '%s' " TPE_ARGS " --jobs 1", ss->cli.data, out);
    run_killed(ss, "run:6", args);
    char path[4800];
    snprintf(path, sizeof path, "%s/study.json", out);
    json_t *sj = load_json(path);
    json_t *r1 = json_array_get(json_object_get(sj, STUDY_KEY_RUNS), 1);
    json_object_set_new(r1, RUN_KEY_CONDITION, json_string("lr=0.5,momentum=0.5"));
    assert_int_equal(json_dump_file(sj, path, JSON_INDENT(2)), 0);
    json_decref(sj);
    char *err;
    int rc = run_lrscope(&ss->cli, &err, NULL, "resume '%s' --quiet --no-report", out);
    assert_int_equal(rc, 2);
    assert_contains(err, "trial 1", "the refused trial");
    free(err);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_layout),
        cmocka_unit_test(test_tpe_asha_decisions),
        cmocka_unit_test(test_jobs_same_bits),
        cmocka_unit_test(test_kill9_then_resume),
        cmocka_unit_test(test_seeds_mean),
        cmocka_unit_test(test_promotion),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_resume_refuses_other_trials),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
