// test_cli_study.c: studies end to end through the built binary: every knob
// from its flag into run.json, study files and flags, grids and seeds round
// tripping through the report, the conditions and their statistics in the
// report, the report rebuilt identically, --jobs 2 against --jobs 1, and the
// optimiser and schedule knobs refused before training.
#include "cli_fixture.h"

// ---------------------------------------------------------------- knobs, grids, seeds

// Every knob of the table set from its flag, off its default where the test
// data allows, shows up in run.json (and study.json) with that value.
static void test_every_knob_flag_in_run_json(void **state) {
    cli_state *st = *state;
    char args[8192], out[4400];
    size_t len = 0;
    snprintf(out, sizeof out, "%s/out-knobs", st->root);
    run_config want;
    config_defaults(&want);
    for (int i = 0; i < N_KNOBS; i++) {
        const knob *k = &KNOBS[i];
        char v[4200], flag[64];
        knob_flag(k, flag, sizeof flag);
        if (!strcmp(k->name, "dataset")) snprintf(v, sizeof v, "cifar10");            // the data on disk
        else if (!strcmp(k->name, "data")) snprintf(v, sizeof v, "%s", st->data);
        else if (!strcmp(k->name, "model")) snprintf(v, sizeof v, "conv:4:3,relu,linear");
        else if (!strcmp(k->name, "epochs")) snprintf(v, sizeof v, "2");
        else if (!strcmp(k->name, "isa")) snprintf(v, sizeof v, "scalar");              // on every CPU
        else if (!strcmp(k->name, "threads")) snprintf(v, sizeof v, "1");
        // issue 10: knobs that exclude each other stay at their defaults
        else if (!strcmp(k->name, "dampening")) snprintf(v, sizeof v, "0");     // nesterov is on
        else if (!strcmp(k->name, "warmup_epochs")) snprintf(v, sizeof v, "0"); // warmup_steps is set
        else if (k->type == KNOB_DOUBLE) snprintf(v, sizeof v, "%.17g", k->lo + (k->hi - k->lo) * 0.375 > 1
                                                  ? 0.0375 : k->lo + (k->hi - k->lo) * 0.375);
        else if (k->type == KNOB_INT || k->type == KNOB_UINT64) snprintf(v, sizeof v, "%.0f", k->lo + 2);
        else if (k->type == KNOB_BOOL) snprintf(v, sizeof v, "%s", strcmp(k->def, "true") ? "true" : "false");
        else if (k->type == KNOB_ENUM) snprintf(v, sizeof v, "%.*s", (int)strcspn(strrchr(k->values, '|') + 1, "|"),
                                                strrchr(k->values, '|') + 1); // the last value
        else if (k->type == KNOB_INT_LIST) snprintf(v, sizeof v, "%.0f,%.0f", k->lo + 1, k->lo + 2);
        else snprintf(v, sizeof v, "x");
        lr_err e;
        if (knob_parse(k, v, &want, flag, &e) != 0) fail_msg("test value: %s", e.msg);
        // a bool flag alone means true, so its value goes after '='
        len += (size_t)snprintf(args + len, sizeof args - len, k->type == KNOB_BOOL ? " %s='%s'" : " %s '%s'", flag, v);
        assert_true(len < sizeof args);
    }
    char *err;
    int rc = run_lrscope(st, &err, NULL, "run%s --out '%s' --quiet --no-report", args, out);
    if (rc != 0 && rc != 1) fail_msg("lrscope run%s: exit %d: %s", args, rc, err);
    free(err);
    char cond[128], path[4800];
    snprintf(cond, sizeof cond, "lr=%g", want.lr); // --lr alone: a study of that one rate
    snprintf(path, sizeof path, "%s/runs/%s/seed-%llu/run.json", out, cond, (unsigned long long)want.seed);
    json_t *root = load_json(path);
    assert_string_equal(json_string_value(json_object_get(root, RUN_KEY_CONDITION)), cond);
    assert_int_equal(json_integer_value(json_object_get(root, RUN_KEY_SEED)), want.seed);
    run_config got;
    config_defaults(&got);
    lr_err e;
    json_t *cfg = json_object_get(root, RUN_KEY_CONFIG);
    assert_int_equal((int)json_object_size(cfg), N_KNOBS);
    if (knobs_from_json(cfg, &got, "run.json", &e) != 0) fail_msg("%s", e.msg);
    for (int i = 0; i < N_KNOBS; i++)
        if (!knob_equal(&KNOBS[i], &got, &want)) fail_msg("run.json: %s differs from its flag", KNOBS[i].name);
    json_decref(root);
    // study.json records the same, and the report reads it back through the table
    report_study s;
    if (report_study_read(out, &s, &e) != 0) fail_msg("%s", e.msg);
    assert_int_equal(s.n_runs, 1);
    for (int i = 0; i < N_KNOBS; i++)
        if (!knob_equal(&KNOBS[i], &s.runs[0].config, &want)) fail_msg("study.json: %s differs", KNOBS[i].name);
    report_study_free(&s);
}

static void expect_bad_file(cli_state *st, const char *yaml, const char *needle) {
    char path[4400];
    snprintf(path, sizeof path, "%s/bad-study.yaml", st->root);
    test_write_file(path, yaml, strlen(yaml));
    char file_arg[8800];
    snprintf(file_arg, sizeof file_arg, "'%s' --data '%s'", path, st->data);
    expect_bad_input(st, needle, "%s", file_arg);
    expect_bad_input(st, "bad-study.yaml", "%s", file_arg); // names the file
}

static void test_study_file_and_flags(void **state) {
    cli_state *st = *state;
    char path[4400], out[4400];
    snprintf(path, sizeof path, "%s/study.yaml", st->root);
    const char *yaml = "name: two-axes\nepochs: 5\nseeds: [3]\nbase:\n  momentum: 0.5\n  batch_size: 64\n"
                       "grid:\n  lr: [0.05, 0.01]\n  weight_decay: [0, 0.001]\n";
    test_write_file(path, yaml, strlen(yaml));
    snprintf(out, sizeof out, "%s/out-yaml", st->root);
    char *err;
    // flags override the file's settings: --epochs 1 over epochs: 5, --seeds 2 over seeds: [3]
    int rc = run_lrscope(st, &err, NULL, "run '%s' --data '%s' --out '%s' --epochs 1 --seeds 2 --quiet --no-report "
                         "--threads 1", path, st->data, out);
    if (rc != 0) fail_msg("exit %d: %s", rc, err);
    free(err);
    report_study s;
    lr_err e;
    if (report_study_read(out, &s, &e) != 0) fail_msg("%s", e.msg);
    assert_string_equal(s.name, "two-axes");
    assert_int_equal(s.n_axes, 2);
    assert_string_equal(s.axes[0]->name, "lr");
    assert_string_equal(s.axes[1]->name, "weight_decay");
    assert_int_equal(s.n_runs, 8);
    assert_string_equal(s.runs[0].name, "runs/lr=0.05,weight_decay=0/seed-1");
    assert_string_equal(s.runs[3].name, "runs/lr=0.05,weight_decay=0.001/seed-2");
    assert_string_equal(s.runs[7].name, "runs/lr=0.01,weight_decay=0.001/seed-2");
    for (int i = 0; i < 8; i++) {
        assert_int_equal(s.runs[i].config.epochs, 1);
        assert_true(s.runs[i].config.momentum == 0.5);
        assert_int_equal(s.runs[i].config.batch_size, 64);
        assert_int_equal(s.runs[i].n_epochs, 1);
    }
    report_study_free(&s);
    // a knob the grid varies cannot also be set by its flag
    expect_bad_input(st, "--grid weight_decay=", "'%s' --data '%s' --weight-decay 0.1", path, st->data);
    // bad files: nothing runs, nothing is written, the message names file, line and key
    expect_bad_file(st, "grid:\n  lr: [0.1]\n  momentun: [0, 0.9]\n", ":3: grid: \"momentun\": unknown key; "
                                                                      "did you mean \"momentum\"?");
    expect_bad_file(st, "base:\n  gamma: 20\n", ":2: gamma 20: expected a number in [0, 10]");
    expect_bad_file(st, "grid: {}\n", "empty grid");
    expect_bad_file(st, "grid:\n  lr: [0.1, 0.1]\n", "listed twice");
    expect_bad_file(st, "runs: 3\n", "unknown section");
    // flags: suggestions and checks
    char data[4400];
    snprintf(data, sizeof data, "--data '%s'", st->data);
    expect_bad_input(st, "did you mean --momentum?", "%s --momentun 0.5", data);
    expect_bad_input(st, "did you mean --grid?", "%s --grdi lr=0.1", data);
    expect_bad_input(st, "did you mean momentum?", "%s --grid momentun=0,0.9", data);
    expect_bad_input(st, "--grid", "%s --grid momentum=", data);
    expect_bad_input(st, "--seeds", "%s --seeds 0", data);
    expect_bad_input(st, "--seeds", "%s --seeds ''", data);
    expect_bad_input(st, "--momentum: empty value", "%s --momentum ''", data);
    expect_bad_input(st, "--out: empty value", "%s --out ''", data);
    expect_bad_input(st, "--jobs", "%s --jobs x", data);
    expect_bad_input(st, "either --seed N", "%s --seed 3 --seeds 2", data);
    expect_bad_input(st, "either --seed N", "%s --grid seed=1,2 --seed 3", data);
    expect_bad_input(st, "no-such-study.yaml", "'%s/no-such-study.yaml' %s", st->root, data);
}

// Drops the seconds column of a metrics.csv (the only one that may differ).
static char *metrics_without_seconds(const char *path) {
    char *m = slurp_must(path, NULL);
    strip_last_field(m);
    return m;
}

// 2 conditions x 2 seeds, 2 epochs, the report on: every file the study
// writes reads back (study.json, metrics.csv, run.json, summary.csv through
// the report's reader, the conditions for the statistics, report.md), and
// --jobs 2 gives the same bits as --jobs 1.
static void test_study_round_trip_and_jobs(void **state) {
    cli_state *st = *state;
    char a[4400], b[4400];
    snprintf(a, sizeof a, "%s/out-rt1", st->root);
    snprintf(b, sizeof b, "%s/out-rt2", st->root);
    char *err;
    int rc = run_lrscope(st, &err, NULL, "run --data '%s' --out '%s' --epochs 2 --grid lr=0.05,0.01 --seeds 2 "
                         "--jobs 1 --threads 1 --quiet", st->data, a);
    if (rc != 0) fail_msg("--jobs 1: exit %d: %s", rc, err);
    free(err);
    rc = run_lrscope(st, &err, NULL, "run --data '%s' --out '%s' --epochs 2 --grid lr=0.05,0.01 --seeds 2 "
                     "--jobs 2 --threads 1 --quiet --no-report", st->data, b);
    if (rc != 0) fail_msg("--jobs 2: exit %d: %s", rc, err);
    free(err);

    report_study s;
    lr_err e;
    if (report_study_read(a, &s, &e) != 0) fail_msg("%s", e.msg);
    assert_int_equal(s.n_runs, 4);
    assert_int_equal(s.n_axes, 1);
    const char *cond[4] = {"lr=0.05", "lr=0.05", "lr=0.01", "lr=0.01"};
    for (int i = 0; i < 4; i++) {
        const report_run *r = &s.runs[i];
        char want[128];
        snprintf(want, sizeof want, "runs/%s/seed-%d", cond[i], i % 2 + 1);
        assert_string_equal(r->name, want);
        assert_string_equal(r->condition, cond[i]);
        assert_int_equal(r->seed, (uint64_t)(i % 2 + 1));
        assert_true(r->config.lr == (i < 2 ? 0.05 : 0.01));
        assert_int_equal(r->config.seed, r->seed);
        assert_true(r->has_metrics && r->has_run_json);
        assert_string_equal(r->status, "finished");
        assert_int_equal(r->status_inferred, 0);
        assert_int_equal(r->n_epochs, 2);
        assert_int_equal(r->planned_epochs, 2);
        assert_int_equal(r->n_classes, 10);
        // metrics.csv as the reader saw it, against the file
        char dir[4800];
        snprintf(dir, sizeof dir, "%s/%s", a, r->name);
        double acc, f1, best;
        int best_ep;
        check_metrics_csv(dir, 2, r->config.lr, &acc, &f1, &best, &best_ep);
        assert_true(r->epochs[1].test_acc == acc && r->epochs[1].test_f1 == f1);
        // identical bits with --jobs 2
        char pa[4800], pb[4800];
        size_t la, lb;
        snprintf(pa, sizeof pa, "%s/%s/weights.lrsw", a, r->name);
        snprintf(pb, sizeof pb, "%s/%s/weights.lrsw", b, r->name);
        char *wa = slurp_must(pa, &la), *wb = slurp_must(pb, &lb);
        assert_int_equal(la, lb);
        if (memcmp(wa, wb, la) != 0) fail_msg("%s: weights differ between --jobs 1 and 2", r->name);
        free(wa);
        free(wb);
        snprintf(pa, sizeof pa, "%s/%s/metrics.csv", a, r->name);
        snprintf(pb, sizeof pb, "%s/%s/metrics.csv", b, r->name);
        char *ma = metrics_without_seconds(pa), *mb = metrics_without_seconds(pb);
        assert_string_equal(ma, mb);
        free(ma);
        free(mb);
    }
    // the two seeds differ (their own draws), the two rates too
    assert_false(s.runs[0].epochs[1].train_loss == s.runs[1].epochs[1].train_loss);
    assert_false(s.runs[0].epochs[1].train_loss == s.runs[2].epochs[1].train_loss);

    // summary.csv: one row per run, in study order, agreeing with the reader
    char path[4600];
    snprintf(path, sizeof path, "%s/summary.csv", a);
    char *text = slurp_must(path, NULL), *lines[8];
    assert_int_equal(split_lines(text, lines, 8), 5);
    assert_string_equal(lines[0], SUMMARY_HEADER);
    for (int i = 0; i < 4; i++) {
        char *f[16];
        assert_int_equal(split_csv(lines[i + 1], f, 16), SUMMARY_FIELDS);
        assert_string_equal(f[0], s.runs[i].condition);
        assert_true(parse_num(f[1], "lr") == s.runs[i].config.lr);
        assert_int_equal((int)parse_num(f[2], "seed"), (int)s.runs[i].seed);
        assert_string_equal(f[3], "finished");
        assert_true(fabs(parse_num(f[4], "final_test_acc") - s.runs[i].epochs[1].test_acc) < 1e-6);
        assert_string_equal(f[13], s.runs[i].name);
    }
    free(text);

    // the conditions handed to the statistics
    report_condition *conds;
    int nc;
    report_conditions_from_study(&s, &conds, &nc);
    assert_int_equal(nc, 2);
    for (int c = 0; c < 2; c++) {
        assert_string_equal(conds[c].name, c ? "lr=0.01" : "lr=0.05");
        assert_int_equal(conds[c].n_axes, 1);
        assert_string_equal(conds[c].axis_key[0], "lr");
        assert_true(conds[c].axis_num[0] == (c ? 0.01 : 0.05));
        assert_string_equal(conds[c].axis_text[0], c ? "0.01" : "0.05");
        assert_int_equal(conds[c].n_runs, 2);
        assert_int_equal(conds[c].n_epochs, 2);
        for (int k = 0; k < 2; k++) {
            const report_run *r = &s.runs[2 * c + k];
            assert_int_equal(conds[c].seeds[k], r->seed);
            assert_true(conds[c].final_test_acc[k] == r->epochs[1].test_acc);
            assert_true(conds[c].final_test_f1[k] == r->epochs[1].test_f1);
            assert_true(conds[c].final_test_loss[k] == r->epochs[1].test_loss);
            assert_true(conds[c].seconds[k] == r->seconds);
            double best = r->epochs[0].test_acc > r->epochs[1].test_acc ? r->epochs[0].test_acc : r->epochs[1].test_acc;
            assert_true(conds[c].best_test_acc[k] == best);
            for (int ep = 0; ep < 2; ep++) {
                const double *cv = conds[c].curves + (size_t)k * REPORT_N_CURVES * 2;
                assert_true(cv[0 * 2 + ep] == r->epochs[ep].train_loss);
                assert_true(cv[1 * 2 + ep] == r->epochs[ep].train_acc);
                assert_true(cv[2 * 2 + ep] == r->epochs[ep].train_f1);
                assert_true(cv[3 * 2 + ep] == r->epochs[ep].test_loss);
                assert_true(cv[4 * 2 + ep] == r->epochs[ep].test_acc);
                assert_true(cv[5 * 2 + ep] == r->epochs[ep].test_f1);
            }
        }
    }
    report_conditions_free(conds, nc);
    report_study_free(&s);

    // the report: configuration from the knobs, the axis and the seeds, runs by condition
    snprintf(path, sizeof path, "%s/report.md", a);
    char *md = slurp_must(path, NULL);
    assert_contains(md, "| momentum | 0.9 |", "report.md");
    assert_contains(md, "| epochs | 2 |", "report.md");
    assert_contains(md, "| lr (axis) | 0.05; 0.01 |", "report.md");
    assert_contains(md, "| seeds | 1; 2 |", "report.md");
    assert_contains(md, "| lr=0.01 | 2 | finished | 2 / 2 |", "report.md");
    assert_contains(md, "The highest mean final test accuracy is", "report.md"); // sentences speak of conditions
    free(md);
    snprintf(path, sizeof path, "%s/report.html", a);
    assert_true(exists(path));
}


// ================================================================ the conditions in the report (issue 9)

static int count_lines(const char *text) {
    int n = 0;
    for (const char *p = text; *p; p++) n += *p == '\n';
    return n;
}

static void assert_figure(const char *study, const char *name, int want) {
    char path[4600];
    snprintf(path, sizeof path, "%s/figures/%s.png", study, name);
    if (exists(path) != want) fail_msg("%s: %s", path, want ? "missing" : "drawn, but should not be");
    snprintf(path, sizeof path, "%s/figures/%s.svg", study, name);
    if (exists(path) != want) fail_msg("%s: %s", path, want ? "missing" : "drawn, but should not be");
}

// A real 2-condition x 3-seed study with the report on.
static void test_report_conditions_study(void **state) {
    cli_state *st = *state;
    char out[4400], path[4600];
    snprintf(out, sizeof out, "%s/out-cond", st->root);
    char *err;
    int rc = run_lrscope(st, &err, NULL, "run --data '%s' --out '%s' --epochs 2 --grid lr=0.05,0.01 --seeds 3 "
                         "--threads 1 --quiet", st->data, out);
    if (rc != 0) fail_msg("exit %d: %s", rc, err);
    free(err);
    report_study s;
    lr_err e;
    if (report_study_read(out, &s, &e) != 0) fail_msg("%s", e.msg);
    assert_int_equal(s.n_runs, 6);

    // conditions.csv: 2 rows, n = 3, the mean of the runs' final test accuracies
    snprintf(path, sizeof path, "%s/conditions.csv", out);
    char *text = slurp_must(path, NULL), *lines[8];
    assert_int_equal(split_lines(text, lines, 8), 3);
    assert_true(strncmp(lines[0], "condition,lr,final_test_acc_n,final_test_acc_mean,", 50) == 0);
    for (int c = 0; c < 2; c++) {
        char *f[40];
        assert_int_equal(split_csv(lines[c + 1], f, 40), 2 + 5 * 5);
        assert_string_equal(f[0], c ? "lr=0.01" : "lr=0.05");
        assert_int_equal((int)parse_num(f[2], "final_test_acc_n"), 3);
        double want = 0;
        for (int k = 0; k < 3; k++) want += s.runs[3 * c + k].epochs[1].test_acc / 3;
        assert_true(fabs(parse_num(f[3], "final_test_acc_mean") - want) < 1e-9);
    }
    free(text);
    // curves.csv: 2 conditions x 2 epochs x 6 metrics
    snprintf(path, sizeof path, "%s/curves.csv", out);
    text = slurp_must(path, NULL);
    assert_int_equal(count_lines(text), 1 + 2 * 2 * 6);
    assert_true(strncmp(text, "condition,epoch,metric,n,mean,ci_lo,ci_hi\n", 42) == 0);
    free(text);
    report_study_free(&s);

    // report.md: the table, a comparison sentence with its interval, the figures
    snprintf(path, sizeof path, "%s/report.md", out);
    char *md = slurp_must(path, NULL);
    assert_contains(md, "## Conditions", "report.md");
    assert_contains(md, "| lr=0.05 | 3 | ", "report.md");
    assert_contains(md, "| lr=0.01 | 3 | ", "report.md");
    assert_contains(md, "## Comparisons", "report.md");
    const char *cmp = strstr(md, "## Comparisons");
    assert_true(strstr(cmp, "beats") || strstr(cmp, "No difference detectable"));
    assert_contains(cmp, "95% CI", "the comparisons");
    assert_contains(cmp, "paired t-test", "the comparisons");
    assert_contains(md, "n = 3 seeds", "report.md");
    assert_contains(md, "The highest mean final test accuracy is", "report.md");
    assert_contains(md, "figures/cond_test_acc.png", "report.md");
    assert_contains(md, "figures/cond_final_acc_vs_lr.png", "report.md");
    free(md);
    static const char *const figs[] = {"cond_train_loss", "cond_test_loss", "cond_train_acc", "cond_test_acc",
                                       "cond_train_f1", "cond_test_f1", "cond_final_acc_vs_lr",
                                       "cond_final_loss_vs_lr", "test_acc", "confusion"}; // 6 runs: per-run figures too
    for (size_t i = 0; i < sizeof figs / sizeof figs[0]; i++) assert_figure(out, figs[i], 1);
    assert_figure(out, "cond_heatmap", 0); // one axis

    // `lrscope report` rebuilds conditions.csv and curves.csv
    snprintf(path, sizeof path, "%s/conditions.csv", out);
    assert_int_equal(remove(path), 0);
    snprintf(path, sizeof path, "%s/curves.csv", out);
    assert_int_equal(remove(path), 0);
    rc = run_lrscope(st, &err, NULL, "report '%s'", out);
    if (rc != 0) fail_msg("lrscope report: exit %d: %s", rc, err);
    free(err);
    assert_true(exists(path));
    snprintf(path, sizeof path, "%s/conditions.csv", out);
    assert_true(exists(path));
}

// One seed: the report says differences cannot be judged and shows the
// command with the study's own axis; --no-report still writes the CSVs.
static void test_report_one_seed_hint(void **state) {
    cli_state *st = *state;
    char out[4400], path[4600];
    snprintf(out, sizeof out, "%s/out-one-seed", st->root);
    char *err;
    int rc = run_lrscope(st, &err, NULL, "run --data '%s' --out '%s' --epochs 1 --lrs 0.05,0.01 --threads 1 --quiet",
                         st->data, out);
    if (rc != 0) fail_msg("exit %d: %s", rc, err);
    free(err);
    snprintf(path, sizeof path, "%s/report.md", out);
    char *md = slurp_must(path, NULL);
    assert_contains(md, "differences between conditions cannot be judged", "report.md");
    char want[4600];
    snprintf(want, sizeof want, "lrscope run --seeds 5 --grid lr=0.05,0.01 --data %s --epochs 1", st->data);
    assert_contains(md, want, "report.md");
    assert_contains(md, "figures/test_acc.png", "report.md");       // per-run figures
    assert_false(strstr(md, "figures/cond_test_acc.png") != NULL);  // the same curves, not twice
    free(md);
    // the default axis is recorded in study.json
    snprintf(path, sizeof path, "%s/study.json", out);
    char *js = slurp_must(path, NULL);
    assert_contains(js, "\"key\": \"lr\"", "study.json");
    free(js);

    snprintf(out, sizeof out, "%s/out-no-report", st->root);
    rc = run_lrscope(st, &err, NULL, "run --data '%s' --out '%s' --epochs 1 --lrs 0.05 --seeds 2 --threads 1 --quiet "
                     "--no-report", st->data, out);
    if (rc != 0) fail_msg("exit %d: %s", rc, err);
    free(err);
    snprintf(path, sizeof path, "%s/conditions.csv", out);
    assert_true(exists(path));
    snprintf(path, sizeof path, "%s/report.md", out);
    assert_false(exists(path));
}

// 12 conditions: the per-epoch figures show the best 8 and say so; 12 runs
// get no per-run figures, and the report says that too.
static void test_report_twelve_conditions(void **state) {
    cli_state *st = *state;
    char out[4400], path[4600];
    snprintf(out, sizeof out, "%s/out-twelve", st->root);
    char *err;
    int rc = run_lrscope(st, &err, NULL, "run --data '%s' --out '%s' --epochs 1 --grid lr=logspace:0.0001:0.1:12 "
                         "--threads 1 --quiet", st->data, out);
    if (rc != 0) fail_msg("exit %d: %s", rc, err);
    free(err);
    snprintf(path, sizeof path, "%s/report.md", out);
    char *md = slurp_must(path, NULL);
    assert_contains(md, "showing the best 8 of 12 conditions", "report.md");
    assert_contains(md, "With 12 runs, figures with one line per run would be unreadable", "report.md");
    free(md);
    assert_figure(out, "cond_test_acc", 1);
    assert_figure(out, "cond_final_acc_vs_lr", 1);
    assert_figure(out, "test_acc", 0);
    assert_figure(out, "time", 0);
    snprintf(path, sizeof path, "%s/conditions.csv", out);
    char *csv = slurp_must(path, NULL);
    assert_int_equal(count_lines(csv), 13);
    free(csv);
}

// Two axes: the heat map.
static void test_report_two_axes_heatmap(void **state) {
    cli_state *st = *state;
    char out[4400], path[4600];
    snprintf(out, sizeof out, "%s/out-two-axes", st->root);
    char *err;
    int rc = run_lrscope(st, &err, NULL, "run --data '%s' --out '%s' --epochs 1 --grid lr=0.05,0.005 "
                         "--grid momentum=0,0.9 --seeds 2 --threads 1 --quiet", st->data, out);
    if (rc != 0) fail_msg("exit %d: %s", rc, err);
    free(err);
    assert_figure(out, "cond_heatmap", 1);
    snprintf(path, sizeof path, "%s/report.md", out);
    char *md = slurp_must(path, NULL);
    assert_contains(md, "](figures/cond_heatmap.png)", "report.md");
    assert_contains(md, "by lr and momentum", "report.md");
    assert_contains(md, "Holm-adjusted", "report.md");
    free(md);
    snprintf(path, sizeof path, "%s/conditions.csv", out);
    char *csv = slurp_must(path, NULL);
    assert_true(strncmp(csv, "condition,lr,momentum,final_test_acc_n,", 39) == 0);
    assert_int_equal(count_lines(csv), 5);
    free(csv);
}

// ================================================================ issue 8, point 6
// Writer meets reader: a real study with the report on, and --jobs 2 end to
// end. (Kept in one block; helpers above are reused, not changed.)

// The study both tests below run: the generated data, 2 rates, 2 epochs.
static void run_small_study(cli_state *st, const char *out_name, const char *extra) {
    char *err;
    int rc = run_lrscope(st, &err, NULL, "run --data '%s' --out '%s/%s' --epochs 2 --lrs 0.05,0.01 --quiet %s",
                         st->data, st->root, out_name, extra);
    if (rc != 0) fail_msg("lrscope run --out %s %s exited %d: %s", out_name, extra, rc, err);
    free(err);
}

// The results-table row of report.md for a run: the line that starts "| NAME |".
static char *report_row(char *report, const char *name, char *row, size_t cap) {
    char start[128];
    snprintf(start, sizeof start, "| %s |", name);
    for (char *p = report; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
        if (strncmp(p, start, strlen(start)) != 0) continue;
        size_t len = strcspn(p, "\n");
        // the results table's row (condition | seed | status ...), not the Conditions table's
        char *status = strstr(p, " | finished |");
        if (!status || (size_t)(status - p) > len) continue;
        if (len >= cap) len = cap - 1;
        memcpy(row, p, len);
        row[len] = '\0';
        return row;
    }
    fail_msg("report.md has no results row for %s:\n%s", name, report);
    return NULL;
}

static void test_report_on_end_to_end(void **state) {
    cli_state *st = *state;
    run_small_study(st, "rep", "--threads 1");
    char dir[4200], path[4400];
    snprintf(dir, sizeof dir, "%s/rep", st->root);
    join(path, sizeof path, dir, "report.md");
    char *report = slurp_must(path, NULL);
    join(path, sizeof path, dir, "report.html");
    char *html = slurp_must(path, NULL);
    join(path, sizeof path, dir, "figures/test_acc.png");
    assert_true(exists(path));

    // Both runs, with summary.csv's numbers as the report prints them
    // (summary.csv: condition, lr, seed, status, final acc, final F1, best acc, best epoch, ...).
    for (int r = 1; r <= 2; r++) {
        char line[1024], *f[16], row[1024], want[96];
        read_summary_row(dir, r, line, sizeof line, f);
        const char *name = f[0];
        assert_string_equal(name, r == 1 ? "lr=0.05" : "lr=0.01");
        assert_string_equal(f[1], r == 1 ? "0.05" : "0.01");
        assert_string_equal(f[3], "finished");
        report_row(report, name, row, sizeof row);
        snprintf(want, sizeof want, "| %s | %s | finished |", name, f[2]);
        assert_contains(row, want, "the results row");
        snprintf(want, sizeof want, "| %.1f%% |", 100 * parse_num(f[4], "final_test_acc"));
        assert_contains(row, want, "the results row (final test acc)");
        snprintf(want, sizeof want, "| %.3f |", parse_num(f[5], "final_test_f1"));
        assert_contains(row, want, "the results row (final test F1)");
        snprintf(want, sizeof want, "| %.1f%% |", 100 * parse_num(f[6], "best_test_acc"));
        assert_contains(row, want, "the results row (best test acc)");
        snprintf(want, sizeof want, "| %s |", f[7]);
        assert_contains(row, want, "the results row (best epoch)");
        assert_contains(row, "| 2 / 2 |", "the results row (epochs)");
        assert_contains(html, name, "report.html");
    }

    // `lrscope report DIR` rebuilds the same report from the files alone.
    join(path, sizeof path, dir, "report.md");
    assert_int_equal(remove(path), 0);
    join(path, sizeof path, dir, "report.html");
    assert_int_equal(remove(path), 0);
    join(path, sizeof path, dir, "figures/test_acc.png");
    assert_int_equal(remove(path), 0);
    char *err;
    int rc = run_lrscope(st, &err, NULL, "report '%s'", dir);
    if (rc != 0) fail_msg("lrscope report exited %d: %s", rc, err);
    free(err);
    assert_true(exists(path));
    join(path, sizeof path, dir, "report.md");
    char *again = slurp_must(path, NULL);
    assert_string_equal(again, report);
    free(again);
    free(report);
    free(html);
}

// Removes the timing fields of a run.json, and config.threads, which --jobs
// sets by design (threads per run); everything else must match.
static json_t *load_run_json_untimed(const char *path) {
    json_t *j = load_json(path);
    const char *timing[] = {"seconds", "train_images_per_s", "eval_images_per_s"};
    for (size_t i = 0; i < sizeof timing / sizeof *timing; i++)
        if (json_object_del(j, timing[i]) != 0) fail_msg("%s: no \"%s\"", path, timing[i]);
    json_t *cfg = json_object_get(j, "config");
    if (!cfg || json_object_del(cfg, "threads") != 0) fail_msg("%s: no config.threads", path);
    return j;
}

// Drops field `col` of every CSV line (in place).
static void drop_csv_column(char *text, int col) {
    char *lines[64];
    int n = split_lines(text, lines, 64);
    char *w = text;
    for (int i = 0; i < n; i++) {
        char *fields[16];
        int nf = split_csv(lines[i], fields, 16);
        if (col >= nf) fail_msg("line %d has %d fields, no field %d", i + 1, nf, col);
        for (int k = 0; k < nf; k++) {
            if (k == col) continue;
            size_t l = strlen(fields[k]);
            memmove(w, fields[k], l);
            w += l;
            *w++ = k == nf - 1 || (k == nf - 2 && col == nf - 1) ? '\n' : ',';
        }
    }
    *w = '\0';
}

static void compare_untimed(const char *a_dir, const char *b_dir, const char *rel, int seconds_col) {
    char a[4600], b[4600];
    snprintf(a, sizeof a, "%s/%s", a_dir, rel);
    snprintf(b, sizeof b, "%s/%s", b_dir, rel);
    char *ta = slurp_must(a, NULL), *tb = slurp_must(b, NULL);
    drop_csv_column(ta, seconds_col);
    drop_csv_column(tb, seconds_col);
    if (strcmp(ta, tb) != 0) fail_msg("%s differs between --jobs 1 and --jobs 2:\n%s\n---\n%s", rel, ta, tb);
    free(ta);
    free(tb);
}

static void test_jobs_deterministic(void **state) {
    cli_state *st = *state;
    // Threads left to auto: one run at a time on both cores, then two side by side.
    run_small_study(st, "jobs1", "--no-report --jobs 1");
    run_small_study(st, "jobs2", "--no-report --jobs 2");
    char d1[4200], d2[4200], a[4600], b[4600];
    snprintf(d1, sizeof d1, "%s/jobs1", st->root);
    snprintf(d2, sizeof d2, "%s/jobs2", st->root);

    // study.json: the same bytes but for the creation time.
    snprintf(a, sizeof a, "%s/study.json", d1);
    snprintf(b, sizeof b, "%s/study.json", d2);
    json_t *sa = load_json(a), *sb = load_json(b);
    assert_int_equal(json_object_del(sa, "created"), 0);
    assert_int_equal(json_object_del(sb, "created"), 0);
    if (!json_equal(sa, sb)) fail_msg("study.json differs between --jobs 1 and --jobs 2");
    json_decref(sa);
    json_decref(sb);

    compare_untimed(d1, d2, "summary.csv", 8); // seconds
    const char *names[2] = {"runs/lr=0.05/seed-1", "runs/lr=0.01/seed-1"};
    for (int r = 0; r < 2; r++) {
        char rel[96];
        snprintf(rel, sizeof rel, "%s/metrics.csv", names[r]);
        compare_untimed(d1, d2, rel, 8); // seconds
        snprintf(a, sizeof a, "%s/%s/weights.lrsw", d1, names[r]);
        snprintf(b, sizeof b, "%s/%s/weights.lrsw", d2, names[r]);
        size_t la, lb;
        char *wa = slurp_must(a, &la), *wb = slurp_must(b, &lb);
        assert_int_equal(la, lb);
        if (memcmp(wa, wb, la) != 0) fail_msg("%s: weights differ between --jobs 1 and 2", names[r]);
        free(wa);
        free(wb);
        snprintf(a, sizeof a, "%s/%s/run.json", d1, names[r]);
        snprintf(b, sizeof b, "%s/%s/run.json", d2, names[r]);
        json_t *ja = load_run_json_untimed(a), *jb = load_run_json_untimed(b);
        if (!json_equal(ja, jb)) fail_msg("%s: run.json differs between --jobs 1 and 2", names[r]);
        json_decref(ja);
        json_decref(jb);
    }
    // Nothing else was written in either folder.
    char cmd[9400];
    snprintf(cmd, sizeof cmd, "test \"$(cd '%s' && find . | sort)\" = \"$(cd '%s' && find . | sort)\"", d1, d2);
    assert_int_equal(system(cmd), 0);
}

// ---------------------------------------------------------------- issue 10: optimiser and schedule knobs

// A bad optimiser or schedule knob, alone or in combination with the run's
// shape (200 training images), is refused with exit 2 naming the knob, before
// any training and without a study folder (expect_bad_input checks both).
static void test_optim_knobs_refused_before_training(void **state) {
    cli_state *st = *state;
    char data[4400];
    snprintf(data, sizeof data, "--data '%s'", st->data);
    expect_bad_input(st, "did you mean \"cosine\"", "%s --schedule cosin", data);
    expect_bad_input(st, "--optimizer", "%s --optimizer adamm", data);
    expect_bad_input(st, "did you mean \"adam\"", "%s --optimizer adamm", data);
    expect_bad_input(st, "--gamma", "%s --gamma -0.5", data);
    expect_bad_input(st, "gamma 0 is out of range", "%s --schedule exponential --gamma 0", data);
    expect_bad_input(st, "--pct-start", "%s --schedule onecycle --pct-start 1.5", data);
    expect_bad_input(st, "pct_start 1 is out of range", "%s --schedule onecycle --pct-start 1", data);
    expect_bad_input(st, "pct_start 0 is out of range", "%s --schedule onecycle --pct-start 0", data);
    expect_bad_input(st, "t_max 0 is out of range", "%s --schedule cosine --t-max 0", data);
    expect_bad_input(st, "milestones must be increasing: 3 comes after 5", "%s --schedule multistep --milestones 5,3",
                     data);
    expect_bad_input(st, "milestones", "%s --schedule multistep", data); // it needs at least one
    expect_bad_input(st, "nesterov needs momentum > 0", "%s --nesterov --momentum 0", data);
    // one-cycle: 1 epoch x 1 batch of 200 images leaves no rising phase
    expect_bad_input(st, "one-cycle run of 1 steps (1 epochs x 1 batches) is shorter than its schedule",
                     "%s --schedule onecycle --batch-size 200", data);
    // warm-up as long as the run: 1 epoch of 2 batches (128 + 72 images)
    expect_bad_input(st, "a warm-up of 2 steps (warmup_epochs 1) leaves nothing of the run's 2 steps",
                     "%s --warmup-epochs 1", data);
    expect_bad_input(st, "warmup_steps 5", "%s --warmup-steps 5", data);
    // in a study of several conditions, the message says which one; a later
    // condition's fault still stops the whole study before its first run
    expect_bad_input(st, "condition batch_size=200", "%s --schedule onecycle --grid batch_size=64,200", data);
    // from a study file
    char path[4400], arg[8900];
    snprintf(path, sizeof path, "%s/bad-onecycle.yaml", st->root);
    const char *yaml = "base:\n  schedule: onecycle\n  pct_start: 1\ngrid:\n  lr: [0.1]\n";
    test_write_file(path, yaml, strlen(yaml));
    snprintf(arg, sizeof arg, "'%s' %s", path, data);
    expect_bad_input(st, "pct_start 1 is out of range", "%s", arg);
}

// run.json records the steps per epoch (the schedule figure's clock):
// 200 images in batches of 128 are 2 steps.
static void test_run_json_steps_per_epoch(void **state) {
    cli_state *st = *state;
    ensure_main_run(st);
    char path[4600];
    snprintf(path, sizeof path, "%s/out1/runs/lr=0.05/seed-1/run.json", st->root);
    json_t *root = load_json(path);
    assert_int_equal(json_integer_value(json_object_get(root, RUN_KEY_STEPS_PER_EPOCH)), 2);
    json_decref(root);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_knob_flag_in_run_json),
        cmocka_unit_test(test_study_file_and_flags),
        cmocka_unit_test(test_study_round_trip_and_jobs),
        cmocka_unit_test(test_report_conditions_study),
        cmocka_unit_test(test_report_one_seed_hint),
        cmocka_unit_test(test_report_twelve_conditions),
        cmocka_unit_test(test_report_two_axes_heatmap),
        cmocka_unit_test(test_report_on_end_to_end),
        cmocka_unit_test(test_jobs_deterministic),
        cmocka_unit_test(test_optim_knobs_refused_before_training),
        cmocka_unit_test(test_run_json_steps_per_epoch),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
