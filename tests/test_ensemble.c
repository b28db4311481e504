// test_ensemble.c: the ensemble arithmetic on hand-built softmax outputs,
// ensemble.csv read back, the report's sentences, `lrscope ensemble` end to
// end on the generated CIFAR-10-layout folder of cli_fixture.h (by folders,
// weights files and a glob; one member against `lrscope evaluate`; every
// refusal), and the ensembles a study writes and reports.
#include "cli_fixture.h"

#include "../src/report/ensemble.h"

#include <zlib.h>

// ---------------------------------------------------------------- arithmetic

// 2 members, 3 classes, 3 images. Image 0 (class 0): member 1 says class 1,
// member 2 class 2, both wrong; their mean says class 0, right. Image 1
// (class 1): the mean ties classes 0 and 1, and the tie goes to the lower
// index (0, as torch.argmax), so it is wrong. Image 2 (class 2): right.
static const float P1[9] = {0.4f, 0.6f, 0.0f, 0.5f, 0.5f, 0.0f, 0.1f, 0.1f, 0.8f};
static const float P2[9] = {0.4f, 0.0f, 0.6f, 0.5f, 0.5f, 0.0f, 0.2f, 0.2f, 0.6f};
static const int LABELS[3] = {0, 1, 2};

static void test_arithmetic(void **state) {
    (void)state;
    ensemble_acc a;
    ensemble_init(&a, 3, 3);
    int64_t cm[9];
    ensemble_add(&a, P1);
    ensemble_finish(&a, LABELS, cm);
    // member 1 alone: image 0 -> 1 (wrong), image 1 -> 0 (tie, wrong), image 2 -> 2
    static const int64_t cm1[9] = {0, 1, 0, 1, 0, 0, 0, 0, 1};
    assert_memory_equal(cm, cm1, sizeof cm);
    ensemble_add(&a, P2);
    double loss = ensemble_finish(&a, LABELS, cm);
    static const int64_t want[9] = {1, 0, 0, 1, 0, 0, 0, 0, 1};
    assert_memory_equal(cm, want, sizeof cm);
    // The loss is the NLL of the averaged probabilities, in double...
    double p0 = ((double)P1[0] + (double)P2[0]) * 0.5, p1 = ((double)P1[4] + (double)P2[4]) * 0.5,
           p2 = ((double)P1[8] + (double)P2[8]) * 0.5;
    double expect = (-log(p0) - log(p1) - log(p2)) / 3;
    assert_true(fabs(loss - expect) < 1e-15);
    // ... not the mean of the members' NLLs (a plausible slip).
    double member_mean = ((-log((double)P1[0]) - log((double)P1[4]) - log((double)P1[8])) +
                          (-log((double)P2[0]) - log((double)P2[4]) - log((double)P2[8]))) / 6;
    assert_true(fabs(loss - member_mean) > 1e-3);
    assert_int_equal(a.members, 2);
    ensemble_free(&a);

    // A true class every member gives probability 0: infinite loss, not NaN.
    static const float Z[3] = {1.0f, 0.0f, 0.0f};
    static const int L1[1] = {2};
    ensemble_init(&a, 1, 3);
    ensemble_add(&a, Z);
    ensemble_add(&a, Z);
    loss = ensemble_finish(&a, L1, cm);
    assert_true(isinf(loss) && loss > 0);
    ensemble_free(&a);
}

// The member order does not change the bits (sums of two in double commute),
// and three members average with weight 1/3 each.
static void test_three_members(void **state) {
    (void)state;
    static const float A[2] = {0.9f, 0.1f}, B[2] = {0.3f, 0.7f}, C[2] = {0.35f, 0.65f};
    static const int L[1] = {1};
    int64_t cm[4];
    ensemble_acc a;
    ensemble_init(&a, 1, 2);
    ensemble_add(&a, A);
    ensemble_add(&a, B);
    ensemble_add(&a, C);
    double loss = ensemble_finish(&a, L, cm);
    // mean of class 1: (0.1 + 0.7 + 0.65) / 3 = 0.4833 < 0.5: predicts class 0
    assert_int_equal(cm[1 * 2 + 0], 1);
    double p = ((double)A[1] + (double)B[1] + (double)C[1]) / 3;
    assert_true(fabs(loss - -log(p)) < 1e-12);
    ensemble_free(&a);
}

// ---------------------------------------------------------------- ensemble.csv and sentences

static ensemble_group *make_groups(int n, const double *ens_acc, const double (*member_acc)[2]) {
    ensemble_group *g = calloc((size_t)n, sizeof *g);
    assert_non_null(g);
    for (int i = 0; i < n; i++) {
        snprintf(g[i].name, sizeof g[i].name, "lr=0.%d,momentum=0.9", i + 1); // a comma: quoted
        for (int m = 0; m < 2; m++) {
            char run[64];
            snprintf(run, sizeof run, "runs/lr=0.%d,momentum=0.9/seed-%d", i + 1, m + 1);
            ensemble_group_add(&g[i], 0, run, "finished", 1.5 + m, member_acc[i][m], member_acc[i][m] / 2);
        }
        g[i].formed = 1;
        g[i].test_loss = 1.25;
        g[i].test_acc = ens_acc[i];
        g[i].test_f1 = ens_acc[i] / 2;
    }
    return g;
}

static void test_csv_round_trip(void **state) {
    (void)state;
    const double ens[3] = {0.61, 0.52, 0.43};
    const double mem[3][2] = {{0.55, 0.57}, {0.50, 0.49}, {0.40, 0.41}};
    ensemble_group *g = make_groups(3, ens, mem);
    ensemble_group_add(&g[1], 1, "runs/lr=0.2,momentum=0.9/seed-3", "diverged", NAN, NAN, NAN);
    char dir[4096], path[4200];
    test_mkdtemp(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/ensemble.csv", dir);
    lr_err e;
    assert_int_equal(ensemble_csv_write(path, g, 3, &e), 0);
    char *text = slurp_must(path, NULL);
    assert_true(strncmp(text, "ensemble,role,run,status,test_loss,test_acc,test_f1\n", 52) == 0);
    assert_contains(text, "\"lr=0.2,momentum=0.9\",left_out,\"runs/lr=0.2,momentum=0.9/seed-3\",diverged,,,\n",
                    "ensemble.csv");
    free(text);
    ensemble_group *r;
    int n;
    assert_int_equal(ensemble_csv_read(path, &r, &n, &e), 0);
    assert_int_equal(n, 3);
    for (int i = 0; i < 3; i++) {
        assert_string_equal(r[i].name, g[i].name);
        assert_int_equal(r[i].formed, 1);
        assert_true(r[i].test_acc == g[i].test_acc && r[i].test_f1 == g[i].test_f1 &&
                    r[i].test_loss == g[i].test_loss);
        assert_int_equal(r[i].n_members, 2);
        for (int m = 0; m < 2; m++) {
            assert_string_equal(r[i].members[m].run, g[i].members[m].run);
            assert_true(r[i].members[m].test_acc == g[i].members[m].test_acc);
            assert_true(r[i].members[m].test_loss == g[i].members[m].test_loss);
        }
    }
    assert_int_equal(r[1].n_left_out, 1);
    assert_string_equal(r[1].left_out[0].status, "diverged");
    assert_true(isnan(r[1].left_out[0].test_acc));
    ensemble_groups_free(r, n);
    // A damaged file is refused with the line.
    test_write_file(path, "ensemble,role,run,status,test_loss,test_acc,test_f1\nall,member,a,finished,1,x,0.5\n",
                    83);
    assert_int_equal(ensemble_csv_read(path, &r, &n, &e), -1);
    assert_contains(e.msg, "line 2", "the error");
    assert_contains(e.msg, "test_acc", "the error");
    test_write_file(path, "ensemble,role,run\n", 18);
    assert_int_equal(ensemble_csv_read(path, &r, &n, &e), -1);
    assert_contains(e.msg, "header", "the error");
    ensemble_groups_free(g, 3);
    test_rmtree(dir);
}

static char *joined(char **lines, int n) {
    size_t len = 1;
    for (int i = 0; i < n; i++) len += strlen(lines[i]) + 1;
    char *s = calloc(len, 1);
    assert_non_null(s);
    for (int i = 0; i < n; i++) { strcat(s, lines[i]); strcat(s, "\n"); }
    return s;
}

static void test_sentences(void **state) {
    (void)state;
    // Gains over the best member: +4, +5, +3 points: an interval above 0.
    const double ens[3] = {0.61, 0.55, 0.44};
    const double mem[3][2] = {{0.55, 0.57}, {0.50, 0.49}, {0.40, 0.41}};
    ensemble_group *g = make_groups(3, ens, mem);
    ensemble_gain k = ensemble_gain_of(&g[0]);
    assert_int_equal(k.best, 1);
    assert_true(fabs(k.gain_best - 0.04) < 1e-12);
    assert_true(fabs(k.gain_mean - 0.05) < 1e-12);
    char **lines;
    int n = ensemble_sentences(g, 3, &lines);
    char *text = joined(lines, n);
    // mean gain 4.00, sd 1, t(0.975, 2) = 4.303: 95% CI 1.52 to 6.48
    assert_contains(text, "ensembling gains 4.00 points of test accuracy over the best member (95% CI 1.52 to 6.48",
                    "the sentences");
    free(text);
    ensemble_lines_free(lines, n);
    // Gains -1, +5, +1: the interval covers 0.
    g[0].test_acc = 0.56;
    g[2].test_acc = 0.42;
    n = ensemble_sentences(g, 3, &lines);
    text = joined(lines, n);
    assert_contains(text, "no detectable gain over the best member: 1.67 points", "the sentences");
    assert_true(strstr(text, "ensembling gains") == NULL || strstr(text, "over the best member (") == NULL);
    free(text);
    ensemble_lines_free(lines, n);
    // One ensemble: its gain without an interval, its best member named.
    snprintf(g[0].name, sizeof g[0].name, "all");
    n = ensemble_sentences(g, 1, &lines);
    text = joined(lines, n);
    assert_contains(text, "The ensemble of the study's 2 finished runs reaches 56.00 %", "the sentences");
    assert_contains(text, "runs/lr=0.1,momentum=0.9/seed-2, reaches 57.00 %", "the sentences");
    assert_contains(text, "falls 1.00 points short of it", "the sentences");
    assert_contains(text, "no interval", "the sentences");
    free(text);
    ensemble_lines_free(lines, n);
    ensemble_groups_free(g, 3);
}

// ---------------------------------------------------------------- lrscope ensemble

static const char *const RUN_A = "out1/runs/lr=0.05/seed-1", *const RUN_B = "out1/runs/lr=0.01/seed-1";

static json_t *run_json_cmd(cli_state *st, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static json_t *run_json_cmd(cli_state *st, const char *fmt, ...) {
    char args[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    char *err, *out;
    int rc = run_lrscope(st, &err, &out, "%s", args);
    if (rc != 0) fail_msg("`lrscope %s` exited %d: %s", args, rc, err);
    json_error_t je;
    json_t *root = json_loads(out, 0, &je);
    if (!root) fail_msg("`lrscope %s`: not JSON: %s\n%s", args, je.text, out);
    free(err);
    free(out);
    return root;
}

static double jnum(json_t *o, const char *key) {
    json_t *v = json_object_get(o, key);
    if (!json_is_number(v)) fail_msg("JSON key %s missing or not a number", key);
    return json_number_value(v);
}

static void test_cli_two_members(void **state) {
    cli_state *st = *state;
    ensure_main_run(st);
    json_t *ev[2];
    const char *runs[2] = {RUN_A, RUN_B};
    for (int i = 0; i < 2; i++)
        ev[i] = run_json_cmd(st, "evaluate '%s/%s' --data '%s' --json --threads 1", st->root, runs[i], st->data);
    // by folders, by weights files, by a glob (sorted: lr=0.01 before lr=0.05)
    json_t *byf = run_json_cmd(st, "ensemble '%s/%s' '%s/%s' --data '%s' --json", st->root, RUN_A, st->root, RUN_B,
                               st->data);
    json_t *byw = run_json_cmd(st, "ensemble '%s/%s/weights.lrsw' '%s/%s/weights.lrsw' --data '%s' --json "
                                   "--threads 1", st->root, RUN_A, st->root, RUN_B, st->data);
    json_t *byg = run_json_cmd(st, "ensemble '%s/out1/runs/*/seed-*' --data '%s' --json", st->root, st->data);
    json_t *all[3] = {byf, byw, byg};
    for (int k = 0; k < 3; k++) {
        json_t *mem = json_object_get(all[k], "members"), *ens = json_object_get(all[k], "ensemble");
        assert_true(json_is_array(mem) && json_array_size(mem) == 2);
        assert_non_null(ens);
        assert_int_equal(json_integer_value(json_object_get(all[k], "images")), N_TEST);
        assert_string_equal(json_string_value(json_object_get(all[k], "dataset")), "cifar10");
        for (int i = 0; i < 2; i++) {
            // the glob lists lr=0.01 first
            int src = k == 2 ? 1 - i : i;
            json_t *m = json_array_get(mem, (size_t)i);
            assert_non_null(strstr(json_string_value(json_object_get(m, "weights")), runs[src] + 5));
            // exactly `lrscope evaluate`'s numbers
            assert_true(jnum(m, "test_acc") == jnum(ev[src], "test_acc"));
            assert_true(jnum(m, "test_f1") == jnum(ev[src], "test_f1"));
            assert_true(jnum(m, "test_loss") == jnum(ev[src], "test_loss"));
        }
        assert_int_equal(json_integer_value(json_object_get(ens, "members")), 2);
        json_t *conf = json_object_get(ens, "confusion");
        assert_true(json_is_array(conf) && json_array_size(conf) == 10);
        long total = 0, diag = 0;
        for (size_t r = 0; r < 10; r++)
            for (size_t c = 0; c < 10; c++) {
                long v = (long)json_integer_value(json_array_get(json_array_get(conf, r), c));
                total += v;
                if (r == c) diag += v;
            }
        assert_int_equal(total, N_TEST);
        assert_true(jnum(ens, "test_acc") == (double)diag / N_TEST);
        assert_true(jnum(ens, "test_f1") >= 0 && jnum(ens, "test_loss") > 0);
        (void)jnum(ens, "gain_over_best_acc");
        assert_int_equal(json_array_size(json_object_get(ens, "classes")), 10);
    }
    // the same ensemble whatever the order of the members and the threads
    json_t *e0 = json_object_get(byf, "ensemble"), *e2 = json_object_get(byg, "ensemble");
    assert_true(jnum(e0, "test_acc") == jnum(e2, "test_acc"));
    assert_true(fabs(jnum(e0, "test_loss") - jnum(e2, "test_loss")) < 1e-12);
    assert_true(jnum(e0, "test_loss") == jnum(json_object_get(byw, "ensemble"), "test_loss"));
    for (int k = 0; k < 3; k++) json_decref(all[k]);
    // text output and --out
    char *err, *out, csv[4400];
    snprintf(csv, sizeof csv, "%s/ens-out.csv", st->root);
    int rc = run_lrscope(st, &err, &out, "ensemble '%s/%s' '%s/%s' --data '%s' --out '%s'", st->root, RUN_A,
                         st->root, RUN_B, st->data, csv);
    if (rc != 0) fail_msg("exit %d: %s", rc, err);
    assert_contains(out, "member 1", "the text output");
    assert_contains(out, "ensemble ", "the text output");
    assert_contains(out, "confusion matrix of the ensemble", "the text output");
    ensemble_group *g;
    int n;
    lr_err e;
    if (ensemble_csv_read(csv, &g, &n, &e) != 0) fail_msg("%s", e.msg);
    assert_int_equal(n, 1);
    assert_int_equal(g[0].n_members, 2);
    assert_true(g[0].formed);
    assert_true(g[0].members[0].test_acc == jnum(ev[0], "test_acc"));
    ensemble_groups_free(g, n);
    free(err);
    free(out);
    json_decref(ev[0]);
    json_decref(ev[1]);
}

// One member: the ensemble is that member, and both are `lrscope evaluate`.
static void test_cli_one_member(void **state) {
    cli_state *st = *state;
    ensure_main_run(st);
    json_t *ev = run_json_cmd(st, "evaluate '%s/%s' --data '%s' --json", st->root, RUN_A, st->data);
    json_t *en = run_json_cmd(st, "ensemble '%s/%s' --data '%s' --json", st->root, RUN_A, st->data);
    json_t *ens = json_object_get(en, "ensemble"), *m = json_array_get(json_object_get(en, "members"), 0);
    assert_true(jnum(ens, "test_acc") == jnum(ev, "test_acc"));
    assert_true(jnum(ens, "test_f1") == jnum(ev, "test_f1"));
    assert_true(jnum(m, "test_acc") == jnum(ev, "test_acc"));
    assert_true(jnum(m, "test_loss") == jnum(ev, "test_loss"));
    // -log of the softmax in double against the float log-softmax of the trainer
    assert_true(fabs(jnum(ens, "test_loss") - jnum(ev, "test_loss")) < 1e-5 * jnum(ev, "test_loss"));
    assert_true(json_equal(json_object_get(ens, "confusion"), json_object_get(ev, "confusion")));
    assert_true(jnum(ens, "gain_over_best_acc") == 0.0);
    json_decref(ev);
    json_decref(en);
}

static void expect_refused(cli_state *st, const char *needle, const char *needle2, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void expect_refused(cli_state *st, const char *needle, const char *needle2, const char *fmt, ...) {
    char args[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    char *err, *out;
    int rc = run_lrscope(st, &err, &out, "%s", args);
    if (rc != 2) fail_msg("`lrscope %s`: exit %d, expected 2; stderr: %s", args, rc, err);
    if (!strstr(err, needle)) fail_msg("`lrscope %s`: stderr does not name \"%s\": %s", args, needle, err);
    if (needle2 && !strstr(err, needle2))
        fail_msg("`lrscope %s`: stderr does not name \"%s\": %s", args, needle2, err);
    if (out[0]) fail_msg("`lrscope %s`: printed results although refused: %s", args, out);
    free(err);
    free(out);
}

static void copy_file(const char *from, const char *to, size_t keep) {
    size_t len;
    char *buf = slurp_must(from, &len);
    test_write_file(to, buf, keep && keep < len ? keep : len);
    free(buf);
}

static void test_cli_refusals(void **state) {
    cli_state *st = *state;
    ensure_main_run(st);
    char a[4400], b[4400], path[4600];
    snprintf(a, sizeof a, "%s/%s", st->root, RUN_A);
    snprintf(b, sizeof b, "%s/%s", st->root, RUN_B);
    // another model
    char *err;
    int rc = run_lrscope(st, &err, NULL, "run --data '%s' --out '%s/other-model' --epochs 1 --lrs 0.05 --quiet "
                                         "--no-report --no-ensemble --threads 1 --model conv:4:3,relu,maxpool:2,linear",
                         st->data, st->root);
    if (rc != 0) fail_msg("the second study exited %d: %s", rc, err);
    free(err);
    char other[4400];
    snprintf(other, sizeof other, "%s/other-model/runs/lr=0.05/seed-1", st->root);
    expect_refused(st, "different models", other, "ensemble '%s' '%s' --data '%s'", a, other, st->data);
    expect_refused(st, a, NULL, "ensemble '%s' '%s' --data '%s'", a, other, st->data);
    // another data set: the weights file's data set name changed, its checksum fixed
    snprintf(path, sizeof path, "%s/%s/weights.lrsw", st->root, RUN_B);
    size_t len;
    uint8_t *raw = (uint8_t *)slurp_must(path, &len);
    uint8_t *hit = NULL;
    for (size_t i = 0; i + 7 <= len && !hit; i++)
        if (!memcmp(raw + i, "cifar10", 7) && (i + 7 == len || raw[i + 7] != '0')) hit = raw + i;
    assert_non_null(hit);
    memcpy(hit, "cifar1x", 7);
    uint32_t c = (uint32_t)crc32_z(0L, raw, len - 4);
    for (int i = 0; i < 4; i++) raw[len - 4 + i] = (uint8_t)(c >> (8 * i));
    char foreign[4400];
    snprintf(foreign, sizeof foreign, "%s/foreign-data.lrsw", st->root);
    test_write_file(foreign, raw, len);
    free(raw);
    expect_refused(st, "different data sets (cifar10 and cifar1x)", foreign, "ensemble '%s' '%s' --data '%s'", a,
                   foreign, st->data);
    // a missing member
    expect_refused(st, "nowhere.lrsw", NULL, "ensemble '%s' '%s/nowhere.lrsw' --data '%s'", a, st->root, st->data);
    // a truncated one
    char cut[4400];
    snprintf(cut, sizeof cut, "%s/cut.lrsw", st->root);
    snprintf(path, sizeof path, "%s/weights.lrsw", a);
    copy_file(path, cut, 100);
    expect_refused(st, "cut.lrsw", NULL, "ensemble '%s' '%s' --data '%s'", a, cut, st->data);
    // a glob that matches nothing
    expect_refused(st, "matches nothing", "/nothing-*", "ensemble '%s/nothing-*' --data '%s'", st->root, st->data);
    // no members, no --data
    expect_refused(st, "no members", NULL, "ensemble --data '%s'", st->data);
    expect_refused(st, "--data", NULL, "ensemble '%s'", a);
    // a bad flag value
    expect_refused(st, "--threads", NULL, "ensemble '%s' --data '%s' --threads -1", a, st->data);
}

// ---------------------------------------------------------------- a study's ensembles

static void test_study_seeds(void **state) {
    cli_state *st = *state;
    char out[4400], path[4600];
    snprintf(out, sizeof out, "%s/study-seeds", st->root);
    char *err;
    int rc = run_lrscope(st, &err, NULL, "run --data '%s' --out '%s' --epochs 2 --lrs 0.05,0.01 --seeds 2 --quiet "
                                         "--threads 1", st->data, out);
    if (rc != 0) fail_msg("exit %d: %s", rc, err);
    free(err);
    snprintf(path, sizeof path, "%s/ensemble.csv", out);
    ensemble_group *g;
    int n;
    lr_err e;
    if (ensemble_csv_read(path, &g, &n, &e) != 0) fail_msg("%s", e.msg);
    assert_int_equal(n, 2);
    assert_string_equal(g[0].name, "lr=0.05");
    assert_string_equal(g[1].name, "lr=0.01");
    for (int i = 0; i < 2; i++) {
        assert_true(g[i].formed);
        assert_int_equal(g[i].n_members, 2);
        assert_int_equal(g[i].n_left_out, 0);
        // each member's metrics are `lrscope evaluate`'s of its folder
        for (int m = 0; m < 2; m++) {
            json_t *ev = run_json_cmd(st, "evaluate '%s/%s' --data '%s' --json", out, g[i].members[m].run, st->data);
            assert_true(g[i].members[m].test_acc == jnum(ev, "test_acc"));
            assert_true(g[i].members[m].test_loss == jnum(ev, "test_loss"));
            json_decref(ev);
        }
        // and the ensemble's are `lrscope ensemble`'s of the seeds
        json_t *en = run_json_cmd(st, "ensemble '%s/%s' '%s/%s' --data '%s' --json", out, g[i].members[0].run, out,
                                  g[i].members[1].run, st->data);
        assert_true(g[i].test_acc == jnum(json_object_get(en, "ensemble"), "test_acc"));
        assert_true(g[i].test_loss == jnum(json_object_get(en, "ensemble"), "test_loss"));
        json_decref(en);
    }
    ensemble_groups_free(g, n);
    snprintf(path, sizeof path, "%s/report.md", out);
    char *md = slurp_must(path, NULL);
    assert_contains(md, "## Ensembles", "report.md");
    assert_contains(md, "| lr=0.05 | 2 |", "report.md");
    assert_contains(md, "Over the 2 ensembles", "report.md");
    assert_contains(md, "over the best member", "report.md");
    free(md);
    snprintf(path, sizeof path, "%s/report.html", out);
    char *html = slurp_must(path, NULL);
    assert_contains(html, "<h2 id=\"ensembles\">Ensembles</h2>", "report.html");
    free(html);
}

static void test_study_one_seed(void **state) {
    cli_state *st = *state;
    char out[4400], path[4600];
    snprintf(out, sizeof out, "%s/study-lrs", st->root);
    char *err;
    // lr 1e4 diverges: left out and listed
    int rc = run_lrscope(st, &err, NULL, "run --data '%s' --out '%s' --epochs 2 --lrs 1e4,0.05,0.01 --quiet "
                                         "--threads 1", st->data, out);
    if (rc != 1) fail_msg("exit %d, expected 1 (a run diverged): %s", rc, err);
    free(err);
    snprintf(path, sizeof path, "%s/ensemble.csv", out);
    ensemble_group *g;
    int n;
    lr_err e;
    if (ensemble_csv_read(path, &g, &n, &e) != 0) fail_msg("%s", e.msg);
    assert_int_equal(n, 1);
    assert_string_equal(g[0].name, "all");
    assert_true(g[0].formed);
    assert_int_equal(g[0].n_members, 2);
    assert_string_equal(g[0].members[0].run, "runs/lr=0.05/seed-1");
    assert_string_equal(g[0].members[1].run, "runs/lr=0.01/seed-1");
    assert_int_equal(g[0].n_left_out, 1);
    assert_string_equal(g[0].left_out[0].run, "runs/lr=10000/seed-1");
    assert_string_equal(g[0].left_out[0].status, "diverged");
    ensemble_groups_free(g, n);
    snprintf(path, sizeof path, "%s/report.md", out);
    char *md = slurp_must(path, NULL);
    assert_contains(md, "## Ensembles", "report.md");
    assert_contains(md, "The ensemble of the study's 2 finished runs reaches", "report.md");
    assert_contains(md, "runs/lr=10000/seed-1 is left out of all (diverged)", "report.md");
    free(md);
    // --no-ensemble: no ensemble.csv and no section
    snprintf(out, sizeof out, "%s/study-no-ens", st->root);
    rc = run_lrscope(st, &err, NULL, "run --data '%s' --out '%s' --epochs 1 --lrs 0.05,0.01 --quiet --threads 1 "
                                     "--no-ensemble", st->data, out);
    if (rc != 0) fail_msg("exit %d: %s", rc, err);
    free(err);
    snprintf(path, sizeof path, "%s/ensemble.csv", out);
    assert_false(exists(path));
    snprintf(path, sizeof path, "%s/report.md", out);
    md = slurp_must(path, NULL);
    assert_null(strstr(md, "## Ensembles"));
    free(md);
}

static void test_help_lists_ensemble(void **state) {
    cli_state *st = *state;
    char *err, *out;
    assert_int_equal(run_lrscope(st, &err, &out, "--help"), 0);
    assert_contains(out, "ensemble", "lrscope --help");
    free(err);
    free(out);
    assert_int_equal(run_lrscope(st, &err, &out, "ensemble --help"), 0);
    assert_contains(out, "--data DIR", "lrscope ensemble --help");
    free(err);
    free(out);
    assert_int_equal(run_lrscope(st, &err, &out, "doc bash"), 0);
    assert_contains(out, "ensemble", "the bash completion");
    free(err);
    free(out);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_arithmetic),
        cmocka_unit_test(test_three_members),
        cmocka_unit_test(test_csv_round_trip),
        cmocka_unit_test(test_sentences),
        cmocka_unit_test(test_cli_two_members),
        cmocka_unit_test(test_cli_one_member),
        cmocka_unit_test(test_cli_refusals),
        cmocka_unit_test(test_study_seeds),
        cmocka_unit_test(test_study_one_seed),
        cmocka_unit_test(test_help_lists_ensemble),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
