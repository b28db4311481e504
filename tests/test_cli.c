// test_cli.c: lrscope end to end through the built binary (build/lrscope, or
// $LRSCOPE_BIN), on a small generated CIFAR-10-layout folder: the files a
// study writes, determinism across thread counts, bad input (exit 2, nothing
// created), divergence (exit 1), signals and a lost terminal, and the help texts.
#include "cli_fixture.h"

static void test_run_writes_study(void **state) {
    cli_state *st = *state;
    ensure_main_run(st);
    char out[4400], path[4600];
    join(out, sizeof out, st->root, "out1");

    // study.json
    join(path, sizeof path, out, "study.json");
    json_t *study = load_json(path);
    json_t *runs = json_object_get(study, "runs");
    assert_true(json_is_array(runs));
    assert_int_equal(json_array_size(runs), 2);
    for (int r = 0; r < 2; r++) {
        json_t *run = json_array_get(runs, (size_t)r);
        const char *folder = json_string_value(json_object_get(run, RUN_KEY_FOLDER));
        const char *cond = json_string_value(json_object_get(run, RUN_KEY_CONDITION));
        assert_non_null(folder);
        assert_non_null(cond);
        assert_string_equal(folder, r == 0 ? "runs/lr=0.05/seed-1" : "runs/lr=0.01/seed-1");
        assert_string_equal(cond, r == 0 ? "lr=0.05" : "lr=0.01");
        assert_int_equal(json_integer_value(json_object_get(run, RUN_KEY_SEED)), 1);
        json_t *cfg = json_object_get(run, RUN_KEY_CONFIG);
        assert_true(json_number_value(json_object_get(cfg, "lr")) == (r == 0 ? 0.05 : 0.01));
        assert_int_equal(json_integer_value(json_object_get(cfg, "epochs")), 3);
    }
    json_decref(study);

    // per-run metrics
    double acc[2], f1[2], best[2];
    int best_ep[2];
    const char *names[2] = {"runs/lr=0.05/seed-1", "runs/lr=0.01/seed-1"};
    const double lrs[2] = {0.05, 0.01};
    for (int r = 0; r < 2; r++) {
        char run_dir[4600];
        join(run_dir, sizeof run_dir, out, names[r]);
        check_metrics_csv(run_dir, 3, lrs[r], &acc[r], &f1[r], &best[r], &best_ep[r]);
    }

    // summary.csv agrees with the runs' metrics
    join(path, sizeof path, out, "summary.csv");
    char *text = slurp_must(path, NULL);
    char *lines[8];
    int n = split_lines(text, lines, 8);
    assert_int_equal(n, 3);
    assert_string_equal(lines[0], SUMMARY_HEADER);
    for (int r = 0; r < 2; r++) {
        char *f[16];
        if (split_csv(lines[r + 1], f, 16) != SUMMARY_FIELDS)
            fail_msg("summary row %d: expected %d fields", r + 1, SUMMARY_FIELDS);
        assert_string_equal(f[0], r == 0 ? "lr=0.05" : "lr=0.01");
        assert_true(fabs(parse_num(f[1], "lr") - lrs[r]) < 1e-12);
        assert_int_equal((int)parse_num(f[2], "seed"), 1);
        assert_string_equal(f[3], "finished");
        assert_true(fabs(parse_num(f[4], "final_test_acc") - acc[r]) < 1e-9);
        assert_true(fabs(parse_num(f[5], "final_test_f1") - f1[r]) < 1e-9);
        assert_true(fabs(parse_num(f[6], "best_test_acc") - best[r]) < 1e-9);
        assert_int_equal((int)parse_num(f[7], "best_epoch"), best_ep[r]);
        assert_true(parse_num(f[8], "seconds") >= 0);
        assert_int_equal((int)parse_num(f[9], "epochs_done"), 3);
        assert_string_equal(f[10], ""); // not diverged
        assert_true(isfinite(parse_num(f[11], "final_train_loss")));
        assert_true(isfinite(parse_num(f[12], "final_test_loss")));
        assert_string_equal(f[13], names[r]);
    }
    free(text);
}

static void test_run_json(void **state) {
    cli_state *st = *state;
    ensure_main_run(st);
    char path[4600], mpath[4600];
    snprintf(path, sizeof path, "%s/out1/runs/lr=0.05/seed-1/run.json", st->root);
    snprintf(mpath, sizeof mpath, "%s/out1/runs/lr=0.05/seed-1", st->root);
    double acc, f1, best;
    int best_ep;
    check_metrics_csv(mpath, 3, 0.05, &acc, &f1, &best, &best_ep);

    json_t *root = load_json(path);
    assert_string_equal(json_string_value(json_object_get(root, "status")), "finished");
    assert_true(json_is_null(json_object_get(root, "diverged_epoch")));
    assert_int_equal(json_integer_value(json_object_get(root, "epochs_done")), 3);
    json_t *cfg = json_object_get(root, "config");
    assert_true(json_is_object(cfg));
    assert_true(json_number_value(json_object_get(cfg, "lr")) == 0.05);
    assert_int_equal(json_integer_value(json_object_get(cfg, "epochs")), 3);
    assert_int_equal(json_integer_value(json_object_get(cfg, "threads")), 1);
    json_t *classes = json_object_get(root, "classes");
    assert_int_equal(json_array_size(classes), 10);
    json_t *cm = json_object_get(root, "confusion_matrix");
    assert_true(json_is_array(cm));
    assert_int_equal(json_array_size(cm), 10);
    long long total = 0, diag = 0;
    long long row_sum[10] = {0};
    for (size_t t = 0; t < 10; t++) {
        json_t *row = json_array_get(cm, t);
        assert_int_equal(json_array_size(row), 10);
        for (size_t p = 0; p < 10; p++) {
            json_t *v = json_array_get(row, p);
            assert_true(json_is_integer(v));
            long long c = json_integer_value(v);
            assert_true(c >= 0);
            total += c;
            row_sum[t] += c;
            if (t == p) diag += c;
        }
    }
    assert_int_equal(total, N_TEST);
    for (int t = 0; t < 10; t++) assert_int_equal(row_sum[t], N_TEST / 10); // labels k % 10
    // the matrix is the last evaluation: its accuracy is the last test_acc
    assert_true(fabs((double)diag / N_TEST - acc) < 1e-6);
    json_t *final = json_object_get(root, "final");
    assert_true(fabs(json_number_value(json_object_get(final, "test_acc")) - acc) < 1e-6);
    assert_true(fabs(json_number_value(json_object_get(final, "test_f1")) - f1) < 1e-6);
    json_t *pc = json_object_get(root, "per_class");
    assert_int_equal(json_array_size(pc), 10);
    for (size_t k = 0; k < 10; k++)
        assert_int_equal(json_integer_value(json_object_get(json_array_get(pc, k), "support")), N_TEST / 10);
    json_decref(root);
}

static void test_weights_file(void **state) {
    cli_state *st = *state;
    ensure_main_run(st);
    char path[4600], copy[4600];
    snprintf(path, sizeof path, "%s/out1/runs/lr=0.05/seed-1/weights.lrsw", st->root);
    model_desc m;
    float *params = NULL;
    lr_err e;
    if (weights_load(path, &m, &params, &e) != 0) fail_msg("weights_load: %s", e.msg);
    assert_int_equal(m.in_c, 3);
    assert_int_equal(m.in_h, 32);
    assert_int_equal(m.in_w, 32);
    assert_int_equal(m.num_classes, 10);
    assert_true(m.n_params > 0);
    int nonzero = 0;
    for (size_t i = 0; i < m.n_params; i++) {
        assert_true(isfinite(params[i]));
        nonzero += params[i] != 0.0f;
    }
    assert_true(nonzero > (int)m.n_params / 2);
    free(params);

    // one flipped byte in the middle: refused, with "checksum" in the message
    size_t len;
    char *data = slurp_must(path, &len);
    assert_true(len > 100);
    data[len / 2] ^= 0x10;
    snprintf(copy, sizeof copy, "%s/damaged.lrsw", st->root);
    test_write_file(copy, data, len);
    free(data);
    params = NULL;
    memset(&e, 0, sizeof e);
    assert_int_equal(weights_load(copy, &m, &params, &e), -1);
    assert_null(params);
    assert_contains(e.msg, "checksum", "the damaged-file message");
    remove(copy);
}

static void test_threads_deterministic(void **state) {
    cli_state *st = *state;
    ensure_main_run(st);
    char *err;
    int rc = run_lrscope(st, &err, NULL,
                         "run --data '%s' --out '%s/out2' --epochs 3 --lrs 0.05,0.01 --quiet --no-report "
                         "--threads 2", st->data, st->root);
    if (rc != 0) fail_msg("lrscope run --threads 2 exited %d: %s", rc, err);
    free(err);
    const char *names[2] = {"runs/lr=0.05/seed-1", "runs/lr=0.01/seed-1"};
    for (int r = 0; r < 2; r++) {
        char a[4600], b[4600];
        size_t la, lb;
        snprintf(a, sizeof a, "%s/out1/%s/weights.lrsw", st->root, names[r]);
        snprintf(b, sizeof b, "%s/out2/%s/weights.lrsw", st->root, names[r]);
        char *wa = slurp_must(a, &la), *wb = slurp_must(b, &lb);
        assert_int_equal(la, lb);
        if (memcmp(wa, wb, la) != 0) fail_msg("%s: weights differ between --threads 1 and 2", names[r]);
        free(wa);
        free(wb);
        snprintf(a, sizeof a, "%s/out1/%s/metrics.csv", st->root, names[r]);
        snprintf(b, sizeof b, "%s/out2/%s/metrics.csv", st->root, names[r]);
        char *ma = slurp_must(a, NULL), *mb = slurp_must(b, NULL);
        strip_last_field(ma);
        strip_last_field(mb);
        assert_string_equal(ma, mb);
        free(ma);
        free(mb);
    }
}

static void test_eval_interval(void **state) {
    cli_state *st = *state;
    char *err;
    int rc = run_lrscope(st, &err, NULL,
                         "run --data '%s' --out '%s/out-eval' --epochs 3 --lrs 0.05 --eval-interval 2 "
                         "--quiet --no-report --threads 1", st->data, st->root);
    if (rc != 0) fail_msg("lrscope run exited %d: %s", rc, err);
    free(err);
    char path[4600];
    snprintf(path, sizeof path, "%s/out-eval/runs/lr=0.05/seed-1/metrics.csv", st->root);
    char *text = slurp_must(path, NULL);
    char *lines[8];
    assert_int_equal(split_lines(text, lines, 8), 4);
    for (int i = 1; i <= 3; i++) {
        char *f[16];
        assert_int_equal(split_csv(lines[i], f, 16), 9);
        assert_true(isfinite(parse_num(f[2], "train_loss"))); // trained every epoch
        if (i == 1) {
            // no evaluation in epoch 1
            assert_string_equal(f[5], "");
            assert_string_equal(f[6], "");
            assert_string_equal(f[7], "");
        } else {
            // epoch 2 (the interval) and epoch 3 (the last)
            assert_true(isfinite(parse_num(f[5], "test_loss")));
            double a = parse_num(f[6], "test_acc");
            assert_true(a >= 0 && a <= 1);
            parse_num(f[7], "test_f1");
        }
        parse_num(f[8], "seconds");
    }
    free(text);
    // the run still counts as finished with the last evaluation
    snprintf(path, sizeof path, "%s/out-eval/summary.csv", st->root);
    text = slurp_must(path, NULL);
    assert_true(split_lines(text, lines, 8) == 2);
    char *f[16];
    assert_int_equal(split_csv(lines[1], f, 16), SUMMARY_FIELDS);
    assert_string_equal(f[3], "finished");
    parse_num(f[4], "final_test_acc");
    int best_epoch = (int)parse_num(f[7], "best_epoch");
    assert_true(best_epoch == 2 || best_epoch == 3);
    free(text);
}

static void test_bad_flags(void **state) {
    cli_state *st = *state;
    char data[4400];
    snprintf(data, sizeof data, "--data '%s'", st->data);
    expect_bad_input(st, "--lrs", "%s --lrs abc", data);
    expect_bad_input(st, "--lrs", "%s --lrs 0.1,abc", data);
    expect_bad_input(st, "--lrs", "%s --lrs 0.1,0.1", data);
    expect_bad_input(st, "--lrs", "%s --lrs -0.1", data);
    expect_bad_input(st, "--epochs", "%s --epochs 0", data); // refused before the appended --epochs 1
    expect_bad_input(st, "--isa", "%s --isa bogus", data);
    expect_bad_input(st, "--bogus-flag", "%s --bogus-flag", data);
    expect_bad_input(st, "--batch-size", "%s --batch-size 0", data);
    expect_bad_input(st, "--schedule", "%s --schedule cosin", data);
    expect_bad_input(st, "--momentum", "%s --momentum abc", data);
    // two rates that would share a run folder
    expect_bad_input(st, "runs/lr=0.1", "%s --lrs 0.1,0.10000001", data);
    // a model too large to index or to fit, refused before anything is written
    expect_bad_input(st, "too large", "%s --model conv:1000000:1,linear", data);
    expect_bad_input(st, "GB", "%s --model linear:60000,linear --batch-size 4096", data);
    // a flag value longer than its field is refused, not cut short
    char longmodel[700];
    memset(longmodel, 'x', sizeof longmodel - 1);
    longmodel[sizeof longmodel - 1] = '\0';
    expect_bad_input(st, "--model: longer than", "%s --model %s", data, longmodel);
}

// --epochs given last, so it is the value in force
static void test_bad_epochs_last(void **state) {
    cli_state *st = *state;
    char *err;
    int rc = run_lrscope(st, &err, NULL, "run --data '%s' --out '%s/bad-epochs' --quiet --no-report --epochs 0",
                         st->data, st->root);
    assert_int_equal(rc, 2);
    assert_contains(err, "--epochs", "stderr");
    free(err);
    char out[4400];
    snprintf(out, sizeof out, "%s/bad-epochs", st->root);
    assert_false(exists(out));
}

static void test_bad_out_not_empty(void **state) {
    cli_state *st = *state;
    char full[4400], keep[4600];
    snprintf(full, sizeof full, "%s/full", st->root);
    assert_int_equal(mkdir(full, 0755), 0);
    snprintf(keep, sizeof keep, "%s/keep.txt", full);
    test_write_file(keep, "precious\n", 9);
    char *err;
    int rc = run_lrscope(st, &err, NULL, "run --data '%s' --out '%s' --epochs 1 --lrs 0.05 --quiet --no-report",
                         st->data, full);
    if (rc != 2) fail_msg("exit %d, expected 2; stderr: %s", rc, err);
    assert_contains(err, "--out", "stderr");
    assert_contains(err, full, "stderr");
    free(err);
    char *kept = slurp_must(keep, NULL);
    assert_string_equal(kept, "precious\n");
    free(kept);
    char p[4600];
    snprintf(p, sizeof p, "%s/study.json", full);
    assert_false(exists(p));
    snprintf(p, sizeof p, "%s/runs", full);
    assert_false(exists(p));
    // an --out that cannot be created (its parent is a file): refused before training
    char blocked[4700];
    snprintf(blocked, sizeof blocked, "%s/study", keep);
    rc = run_lrscope(st, &err, NULL, "run --data '%s' --out '%s' --epochs 1 --lrs 0.05 --quiet --no-report",
                     st->data, blocked);
    if (rc != 2) fail_msg("exit %d, expected 2; stderr: %s", rc, err);
    assert_contains(err, "--out", "stderr");
    assert_contains(err, "not a folder", "stderr");
    assert_contains(err, keep, "stderr");
    free(err);
}

static void test_bad_data(void **state) {
    cli_state *st = *state;
    // a folder without test_batch.bin
    char dir[4400], path[4600];
    snprintf(dir, sizeof dir, "%s/data-notest", st->root);
    write_dataset(dir);
    snprintf(path, sizeof path, "%s/test_batch.bin", dir);
    assert_int_equal(remove(path), 0);
    expect_bad_input(st, "test_batch.bin", "--data '%s' --lrs 0.05", dir);
    // a truncated batch file
    snprintf(dir, sizeof dir, "%s/data-trunc", st->root);
    write_dataset(dir);
    snprintf(path, sizeof path, "%s/data_batch_3.bin", dir);
    assert_int_equal(truncate(path, (off_t)N_TRAIN_FILE * REC - 1000), 0);
    expect_bad_input(st, "data_batch_3.bin", "--data '%s' --lrs 0.05", dir);
    // a data folder that does not exist (and is not named for a fetch)
    snprintf(dir, sizeof dir, "%s/nowhere", st->root);
    expect_bad_input(st, "--data", "--data '%s' --lrs 0.05", dir);
    assert_false(exists(dir));
}

static void test_unknown_command(void **state) {
    cli_state *st = *state;
    char *err;
    assert_int_equal(run_lrscope(st, &err, NULL, "frobnicate"), 2);
    assert_contains(err, "frobnicate", "stderr");
    free(err);
    assert_int_equal(run_lrscope(st, &err, NULL, "%s", ""), 2); // no command at all
    free(err);
}

static void test_divergence(void **state) {
    cli_state *st = *state;
    char *err;
    int rc = run_lrscope(st, &err, NULL,
                         "run --data '%s' --out '%s/out-div' --epochs 3 --lrs 1e4 --quiet --no-report --threads 1",
                         st->data, st->root);
    if (rc != 1) fail_msg("exit %d, expected 1; stderr: %s", rc, err);
    free(err);
    char dir[4400], buf[4096], *f[16], path[4600];
    snprintf(dir, sizeof dir, "%s/out-div", st->root);
    read_summary_row(dir, 1, buf, sizeof buf, f);
    assert_string_equal(f[3], "diverged");
    int div_epoch = (int)parse_num(f[10], "diverged_epoch");
    assert_true(div_epoch >= 1 && div_epoch <= 3);
    assert_int_equal((int)parse_num(f[9], "epochs_done"), div_epoch); // stops at the diverged epoch
    assert_string_equal(f[13], "runs/lr=10000/seed-1");
    snprintf(path, sizeof path, "%s/runs/lr=10000/seed-1/run.json", dir);
    json_t *root = load_json(path);
    assert_string_equal(json_string_value(json_object_get(root, "status")), "diverged");
    json_t *de = json_object_get(root, "diverged_epoch");
    assert_true(json_is_integer(de));
    assert_int_equal(json_integer_value(de), div_epoch);
    json_decref(root);
    // metrics.csv holds the epochs done, the diverged one included
    snprintf(path, sizeof path, "%s/runs/lr=10000/seed-1/metrics.csv", dir);
    char *text = slurp_must(path, NULL);
    char *lines[8];
    assert_int_equal(split_lines(text, lines, 8), div_epoch + 1);
    free(text);
}

static void test_divergence_does_not_stop_other_runs(void **state) {
    cli_state *st = *state;
    ensure_main_run(st);
    char *err;
    int rc = run_lrscope(st, &err, NULL,
                         "run --data '%s' --out '%s/out-mixed' --epochs 3 --lrs 1e4,0.05 --quiet --no-report "
                         "--threads 1", st->data, st->root);
    if (rc != 1) fail_msg("exit %d, expected 1; stderr: %s", rc, err);
    free(err);
    char dir[4400], buf[4096], *f[16];
    snprintf(dir, sizeof dir, "%s/out-mixed", st->root);
    read_summary_row(dir, 1, buf, sizeof buf, f);
    assert_string_equal(f[3], "diverged");
    read_summary_row(dir, 2, buf, sizeof buf, f);
    assert_string_equal(f[3], "finished");
    assert_int_equal((int)parse_num(f[9], "epochs_done"), 3);
    assert_string_equal(f[10], "");
    assert_string_equal(f[13], "runs/lr=0.05/seed-1");
    // runs are independent: the fine run is bit-identical to the same run alone
    char a[4600], b[4600];
    size_t la, lb;
    snprintf(a, sizeof a, "%s/runs/lr=0.05/seed-1/weights.lrsw", dir);
    snprintf(b, sizeof b, "%s/out1/runs/lr=0.05/seed-1/weights.lrsw", st->root);
    char *wa = slurp_must(a, &la), *wb = slurp_must(b, &lb);
    assert_int_equal(la, lb);
    assert_memory_equal(wa, wb, la);
    free(wa);
    free(wb);
    snprintf(a, sizeof a, "%s/runs/lr=0.05/seed-1/run.json", dir);
    json_t *root = load_json(a);
    assert_string_equal(json_string_value(json_object_get(root, "status")), "finished");
    json_decref(root);
}

// ---------------------------------------------------------------- help

static void test_help(void **state) {
    cli_state *st = *state;
    char *err, *out;
    assert_int_equal(run_lrscope(st, &err, &out, "--help"), 0);
    assert_contains(out, "run", "lrscope --help");
    assert_contains(out, "--help", "lrscope --help");
    free(err);
    free(out);
    assert_int_equal(run_lrscope(st, &err, &out, "run --help"), 0);
    const char *flags[] = {"--lrs", "--epochs", "--batch-size", "--momentum", "--step-size", "--gamma",
                           "--eval-interval", "--seed", "--threads", "--quiet", "--data", "--out"};
    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++) assert_contains(out, flags[i], "lrscope run --help");
    free(err);
    free(out);
    assert_int_equal(run_lrscope(st, &err, &out, "run -h"), 0);
    assert_contains(out, "--lrs", "lrscope run -h");
    free(err);
    free(out);
}

// ---------------------------------------------------------------- Ctrl-C

// SIGINT in the middle of a long run: the run is marked interrupted, its
// finished epochs are kept, the next run never starts, the exit status is 1.
static void test_interrupt(void **state) {
    cli_state *st = *state;
    char out[4400], metrics[4600];
    snprintf(out, sizeof out, "%s/out-int", st->root);
    snprintf(metrics, sizeof metrics, "%s/runs/lr=0.05/seed-1/metrics.csv", out);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (!freopen("/dev/null", "w", stdout) || !freopen("/dev/null", "w", stderr)) _exit(126);
        execl(st->bin, "lrscope", "run", "--data", st->data, "--out", out, "--epochs", "100000", "--lrs",
              "0.05,0.01", "--quiet", "--no-report", "--threads", "1", (char *)NULL);
        _exit(127);
    }
    // wait (at most ~20 s) until two epochs are on disk
    int rows = 0;
    for (int i = 0; i < 400 && rows < 3; i++) {
        usleep(50 * 1000);
        FILE *f = fopen(metrics, "r");
        if (!f) continue;
        rows = 0;
        for (int c; (c = fgetc(f)) != EOF;) rows += c == '\n';
        fclose(f);
    }
    kill(pid, SIGINT);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (rows < 3) fail_msg("the run wrote no epochs within 20 s");
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 1);
    char path[4600];
    snprintf(path, sizeof path, "%s/runs/lr=0.05/seed-1/run.json", out);
    json_t *root = load_json(path);
    assert_string_equal(json_string_value(json_object_get(root, "status")), "interrupted");
    int done = (int)json_integer_value(json_object_get(root, "epochs_done"));
    assert_true(done >= 2 && done < 100000);
    json_decref(root);
    char *text = slurp_must(metrics, NULL);
    int n = 0;
    for (char *c = text; *c; c++) n += *c == '\n';
    free(text);
    assert_int_equal(n, done + 1); // the header and every finished epoch
    char buf[4096], *f[16];
    read_summary_row(out, 1, buf, sizeof buf, f);
    assert_string_equal(f[3], "interrupted");
    snprintf(path, sizeof path, "%s/runs/lr=0.01", out);
    assert_int_not_equal(access(path, F_OK), 0); // the second run never started
    snprintf(path, sizeof path, "%s/runs/lr=0.05/seed-1/weights.lrsw", out);
    assert_int_equal(access(path, F_OK), 0);     // the interrupted run's weights are kept
}

// ---------------------------------------------------------------- the terminal

// Where the child's stdout / stderr go.
typedef enum { TO_NULL, TO_CLOSED_PIPE, TO_FULL } sink;

static void redirect(int fd, sink to) {
    int target = -1;
    if (to == TO_CLOSED_PIPE) {
        int p[2];
        if (pipe(p) != 0) _exit(126);
        close(p[0]); // nobody will ever read: writes get EPIPE (or SIGPIPE)
        target = p[1];
    } else {
        target = open(to == TO_FULL ? "/dev/full" : "/dev/null", O_WRONLY);
    }
    if (target < 0 || dup2(target, fd) < 0) _exit(126);
    close(target);
}

// Starts `lrscope run --data DATA --out OUT ARGS...` with stdout and stderr
// sent as asked, as a shell would start it (SIGPIPE at its default).
static pid_t spawn_run(const cli_state *st, const char *out, sink out_to, sink err_to,
                       const char *const *args) {
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        signal(SIGPIPE, SIG_DFL);
        redirect(1, out_to);
        redirect(2, err_to);
        const char *argv[32] = {"lrscope", "run", "--data", st->data, "--out", out};
        int n = 6;
        for (; *args && n < 31; args++) argv[n++] = *args;
        argv[n] = NULL;
        execv(st->bin, (char *const *)argv);
        _exit(127);
    }
    return pid;
}

static void wait_exit(pid_t pid, int want, const char *what) {
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (WIFSIGNALED(status))
        fail_msg("%s: lrscope was killed by signal %d (%s)", what, WTERMSIG(status), strsignal(WTERMSIG(status)));
    assert_true(WIFEXITED(status));
    if (WEXITSTATUS(status) != want) fail_msg("%s: exit status %d, expected %d", what, WEXITSTATUS(status), want);
}

// Every file of a study whose runs all finished, report included.
static void check_whole_study(const char *out, const char *const *runs, int n_runs, int epochs) {
    char path[4600];
    static const char *const top[] = {"study.json", "summary.csv", "report.md", "report.html",
                                      "figures/test_acc.png", "figures/test_acc.svg"};
    for (size_t i = 0; i < sizeof top / sizeof top[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", out, top[i]);
        if (!exists(path)) fail_msg("%s: missing", path);
    }
    for (int r = 0; r < n_runs; r++) {
        char buf[4096], *f[16];
        read_summary_row(out, r + 1, buf, sizeof buf, f);
        assert_string_equal(f[3], "finished");
        assert_int_equal(atoi(f[9]), epochs);
        snprintf(path, sizeof path, "%s/%s/run.json", out, runs[r]);
        json_t *root = load_json(path);
        assert_string_equal(json_string_value(json_object_get(root, "status")), "finished");
        json_decref(root);
        snprintf(path, sizeof path, "%s/%s/weights.lrsw", out, runs[r]);
        if (!exists(path)) fail_msg("%s: missing", path);
    }
    char *md;
    snprintf(path, sizeof path, "%s/report.md", out);
    md = slurp_must(path, NULL);
    assert_contains(md, "| lr=0.05 | 1 | finished |", "report.md");
    free(md);
}

// `lrscope run ... | head -1`: stdout a pipe nobody reads. The study must
// finish with every file and its report, exit 0 (it was killed by SIGPIPE
// before the report). Then stderr closed too, and the progress lines with it.
static void test_closed_pipe(void **state) {
    cli_state *st = *state;
    static const char *const runs[] = {"runs/lr=0.05/seed-1", "runs/lr=0.01/seed-1"};
    static const char *const args[] = {"--epochs", "2", "--lrs", "0.05,0.01", "--threads", "1", NULL};
    static const sink errs[2] = {TO_NULL, TO_CLOSED_PIPE};
    for (int k = 0; k < 2; k++) {
        char out[4400];
        snprintf(out, sizeof out, "%s/out-pipe%d", st->root, k);
        pid_t pid = spawn_run(st, out, TO_CLOSED_PIPE, errs[k], args);
        wait_exit(pid, 0, k ? "stdout and stderr closed pipes" : "stdout a closed pipe");
        check_whole_study(out, runs, 2, 2);
    }
}

// stdout and stderr on a full disk (/dev/full): every result file is written.
static void test_console_full(void **state) {
    cli_state *st = *state;
    static const char *const runs[] = {"runs/lr=0.05/seed-1"};
    static const char *const args[] = {"--epochs", "2", "--lrs", "0.05", "--threads", "1", NULL};
    char out[4400];
    snprintf(out, sizeof out, "%s/out-full", st->root);
    pid_t pid = spawn_run(st, out, TO_FULL, TO_FULL, args);
    wait_exit(pid, 0, "stdout and stderr on /dev/full");
    check_whole_study(out, runs, 1, 2);
}

// SIGHUP (a closed terminal, sent twice: by the terminal and then by the
// shell) and SIGTERM end the study as Ctrl-C does: the current run is
// interrupted with its epochs kept, summary.csv and the report are written,
// exit 1. SIGHUP is also tried with the terminal gone: output to a closed pipe.
static void stop_mid_run(cli_state *st, int sig, sink to, const char *tag) {
    char out[4400], metrics[4600];
    snprintf(out, sizeof out, "%s/out-%s", st->root, tag);
    snprintf(metrics, sizeof metrics, "%s/runs/lr=0.05/seed-1/metrics.csv", out);
    static const char *const args[] = {"--epochs", "100000", "--lrs", "0.05,0.01", "--threads", "1", NULL};
    pid_t pid = spawn_run(st, out, to, to, args);
    int rows = 0;
    for (int i = 0; i < 400 && rows < 3; i++) { // at most ~20 s until two epochs are on disk
        usleep(50 * 1000);
        int status;
        if (waitpid(pid, &status, WNOHANG) == pid)
            fail_msg("%s: lrscope ended before the signal (%s %d)", tag,
                     WIFSIGNALED(status) ? "killed by signal" : "exit status",
                     WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
        FILE *f = fopen(metrics, "r");
        if (!f) continue;
        rows = 0;
        for (int c; (c = fgetc(f)) != EOF;) rows += c == '\n';
        fclose(f);
    }
    kill(pid, sig);
    if (sig == SIGHUP) {
        usleep(20 * 1000);
        kill(pid, SIGHUP);
    }
    if (rows < 3) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        fail_msg("%s: the run wrote no epochs within 20 s", tag);
    }
    wait_exit(pid, 1, tag);
    char path[4600];
    snprintf(path, sizeof path, "%s/runs/lr=0.05/seed-1/run.json", out);
    json_t *root = load_json(path);
    assert_string_equal(json_string_value(json_object_get(root, "status")), "interrupted");
    int done = (int)json_integer_value(json_object_get(root, "epochs_done"));
    assert_true(done >= 2 && done < 100000);
    json_decref(root);
    char *text = slurp_must(metrics, NULL);
    int n = 0;
    for (char *c = text; *c; c++) n += *c == '\n';
    free(text);
    assert_int_equal(n, done + 1);
    char buf[4096], *f[16];
    read_summary_row(out, 1, buf, sizeof buf, f);
    assert_string_equal(f[3], "interrupted");
    assert_int_equal(atoi(f[9]), done);
    snprintf(path, sizeof path, "%s/runs/lr=0.01", out);
    assert_int_not_equal(access(path, F_OK), 0); // the next run never started
    static const char *const kept[] = {"runs/lr=0.05/seed-1/weights.lrsw", "report.md", "report.html",
                                       "figures/test_acc.png"};
    for (size_t i = 0; i < sizeof kept / sizeof kept[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", out, kept[i]);
        if (!exists(path)) fail_msg("%s: %s missing", tag, path);
    }
    snprintf(path, sizeof path, "%s/report.md", out);
    text = slurp_must(path, NULL);
    assert_contains(text, "| lr=0.05 | 1 | interrupted |", "report.md");
    free(text);
}

static void test_sighup(void **state) {
    stop_mid_run(*state, SIGHUP, TO_NULL, "sighup");
    stop_mid_run(*state, SIGHUP, TO_CLOSED_PIPE, "sighup-terminal-gone");
}
static void test_sigterm(void **state) { stop_mid_run(*state, SIGTERM, TO_NULL, "sigterm"); }

// ================================================================ bounded input (issue 8)
// Input from outside through the binary: paths of any length, empty flag
// values and special files all end in exit 2 with a message naming them,
// never an assertion, a hang or a created study.

static void assert_bad_input_rc(int rc, char *err, const char *needle, const char *what) {
    if (rc != 2) fail_msg("%s: exit %d, expected 2; stderr: %s", what, rc, err);
    if (!strstr(err, needle)) fail_msg("%s: stderr lacks \"%s\": %s", what, needle, err);
    if (strstr(err, "assertion")) fail_msg("%s: an assertion instead of a message: %s", what, err);
    free(err);
}

static void test_inputs_long_paths(void **state) {
    cli_state *st = *state;
    char *err;
    // 5,000 characters: longer than any path buffer
    char huge[5001];
    memset(huge, 'x', 5000);
    huge[0] = '/';
    huge[5000] = '\0';
    int rc = run_lrscope(st, &err, NULL, "run --data '%s' --out '%s' --epochs 1 --quiet", st->data, huge);
    assert_bad_input_rc(rc, err, "--out", "--out of 5000 characters");
    rc = run_lrscope(st, &err, NULL, "run --data '%s' --out '%s/o' --epochs 1 --quiet", huge, st->root);
    assert_bad_input_rc(rc, err, "--data", "--data of 5000 characters");
    rc = run_lrscope(st, &err, NULL, "report '%s'", huge);
    assert_bad_input_rc(rc, err, "/xxxxxxxx", "report of a 5000-character folder");
    // Short enough for the flag, too long for the names written inside it:
    // refused before training, with nothing created.
    char out[4200];
    int n = snprintf(out, sizeof out, "%s/", st->root);
    memset(out + n, 'o', 4050 - (size_t)n);
    out[4050] = '\0';
    rc = run_lrscope(st, &err, NULL, "run --data '%s' --out '%s' --epochs 1 --quiet --no-report",
                     st->data, out);
    assert_bad_input_rc(rc, err, "Choose a shorter folder", "--out of 4050 characters");
    assert_false(exists(out));
    char data[4200];
    n = snprintf(data, sizeof data, "%s/", st->root);
    memset(data + n, 'd', 4060 - (size_t)n);
    data[4060] = '\0';
    rc = run_lrscope(st, &err, NULL, "run --data '%s' --out '%s/o2' --epochs 1 --quiet", data, st->root);
    assert_bad_input_rc(rc, err, "--data", "--data of 4060 characters");
}

static void test_inputs_empty_values(void **state) {
    cli_state *st = *state;
    const char *flags[] = {"--data", "--out", "--model", "--dataset", "--isa"};
    for (int i = 0; i < 5; i++) {
        char *err, what[64];
        snprintf(what, sizeof what, "run %s ''", flags[i]);
        int rc = run_lrscope(st, &err, NULL, "run --data '%s' --out '%s/empty-%d' --epochs 1 --quiet %s ''",
                             st->data, st->root, i, flags[i]);
        if (rc == 2 && !strstr(err, flags[i])) fail_msg("%s: message does not name the flag: %s", what, err);
        assert_bad_input_rc(rc, err, "empty", what);
    }
    char *err;
    int rc = run_lrscope(st, &err, NULL, "fetch ''");
    assert_bad_input_rc(rc, err, "empty", "fetch ''");
    rc = run_lrscope(st, &err, NULL, "fetch cifar10 --dir ''");
    assert_bad_input_rc(rc, err, "--dir is empty", "fetch --dir ''");
    rc = run_lrscope(st, &err, NULL, "report ''");
    assert_bad_input_rc(rc, err, "empty", "report ''");
}

static void test_inputs_special_files(void **state) {
    cli_state *st = *state;
    alarm(120); // a FIFO read would hang the binary: fail instead
    char dir[4400], path[4600], *err;
    // a FIFO where a batch file belongs
    snprintf(dir, sizeof dir, "%s/data-fifo", st->root);
    write_dataset(dir);
    snprintf(path, sizeof path, "%s/data_batch_4.bin", dir);
    assert_int_equal(remove(path), 0);
    assert_int_equal(mkfifo(path, 0644), 0);
    int rc = run_lrscope(st, &err, NULL, "run --data '%s' --out '%s/o-fifo' --epochs 1 --quiet", dir, st->root);
    assert_bad_input_rc(rc, err, "data_batch_4.bin: is a FIFO", "run with a FIFO batch file");
    // --data itself a FIFO
    snprintf(path, sizeof path, "%s/data-is-fifo", st->root);
    assert_int_equal(mkfifo(path, 0644), 0);
    rc = run_lrscope(st, &err, NULL, "run --data '%s' --out '%s/o-fifo2' --epochs 1 --quiet", path, st->root);
    assert_bad_input_rc(rc, err, "data-is-fifo: is a FIFO", "run with --data a FIFO");
    // a study whose metrics.csv is a FIFO
    snprintf(dir, sizeof dir, "%s/study-fifo", st->root);
    rc = run_lrscope(st, &err, NULL, "run --data '%s' --out '%s' --epochs 1 --lrs 0.05 --quiet --no-report",
                     st->data, dir);
    if (rc != 0) fail_msg("the study to break failed (%d): %s", rc, err);
    free(err);
    snprintf(path, sizeof path, "%s/runs/lr=0.05/seed-1/metrics.csv", dir);
    assert_int_equal(remove(path), 0);
    assert_int_equal(mkfifo(path, 0644), 0);
    rc = run_lrscope(st, &err, NULL, "report '%s'", dir);
    assert_bad_input_rc(rc, err, "metrics.csv: is a FIFO", "report with a FIFO metrics.csv");
    // fetch from /dev/zero
    rc = run_lrscope(st, &err, NULL, "fetch cifar10 --quiet --dir '%s/fetched' --url file:///dev/zero "
                     "--md5 00000000000000000000000000000000", st->root);
    assert_bad_input_rc(rc, err, "is a character device", "fetch --url file:///dev/zero");
    alarm(0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_run_writes_study),
        cmocka_unit_test(test_run_json),
        cmocka_unit_test(test_weights_file),
        cmocka_unit_test(test_threads_deterministic),
        cmocka_unit_test(test_eval_interval),
        cmocka_unit_test(test_bad_flags),
        cmocka_unit_test(test_bad_epochs_last),
        cmocka_unit_test(test_bad_out_not_empty),
        cmocka_unit_test(test_bad_data),
        cmocka_unit_test(test_unknown_command),
        cmocka_unit_test(test_divergence),
        cmocka_unit_test(test_divergence_does_not_stop_other_runs),
        cmocka_unit_test(test_interrupt),
        cmocka_unit_test(test_closed_pipe),
        cmocka_unit_test(test_console_full),
        cmocka_unit_test(test_sighup),
        cmocka_unit_test(test_sigterm),
        cmocka_unit_test(test_help),
        cmocka_unit_test(test_inputs_long_paths),
        cmocka_unit_test(test_inputs_empty_values),
        cmocka_unit_test(test_inputs_special_files),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
