// test_mpi.c: a study across MPI ranks (src/study/transport_mpi.h), on this
// one machine: `mpirun -np 3 lrscope run` writes every file as the
// single-process study, timing fields aside; a worker rank killed mid-study
// ends the job and `lrscope resume` (without MPI, or under mpirun again)
// finishes it to the same bits; Ctrl-C reaching rank 0 marks the runs in
// flight interrupted on every rank; a rank without the data, with other
// data or another version stops the study before anything is written
// (exit 2, naming host and path or version); -np 1 runs as one process. The
// tests fail, never skip, when mpirun is missing (scripts/install-deps.sh
// installs Open MPI).
#include "cli_fixture.h"
#include "study_compare.h"

#include <unistd.h>

// The study: 3 rates x 2 seeds, 3 epochs, one thread per rank. Without the
// report: with seeds, report.md compares the runs' times, and its p-values
// move with them (the comparer strips time lines, not those); the report's
// files are compared on a one-seed study (REPORT_STUDY).
#define MPI_STUDY "--epochs 3 --lrs 0.05,0.01,0.02 --seeds 2 --quiet --threads 1 --no-report"
#define REPORT_STUDY "--epochs 3 --lrs 0.05,0.01,0.02 --quiet --threads 1"

typedef struct {
    cli_state cli;
    char ref[4400], ref_report[4400];
    int ref_done, ref_report_done, case_no;
} mpi_state;

static int setup(void **state) {
    mpi_state *ms = calloc(1, sizeof *ms);
    void *cli = NULL;
    if (!ms || group_setup(&cli) != 0) return -1;
    ms->cli = *(cli_state *)cli;
    free(cli);
    *state = ms;
    return 0;
}

static int teardown(void **state) {
    mpi_state *ms = *state;
    test_rmtree(ms->cli.root);
    free(ms);
    return 0;
}

// `mpirun -np N [-x VAR=VALUE...] lrscope ARGS` (env: "VAR=VALUE VAR=VALUE"
// or ""); returns mpirun's exit status, *err its stderr. In the sanitizer
// build the leak check unwinds whole stacks, so that Open MPI's leaks are
// named by their library (main.c's suppressions); no effect otherwise.
static int run_mpi(const mpi_state *ms, int np, const char *env, char **err, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static int run_mpi(const mpi_state *ms, int np, const char *env, char **err, const char *fmt, ...) {
    char args[8192], xs[1024] = "", cmd[20480], err_path[4200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    char copy[1024];
    snprintf(copy, sizeof copy, "%s", env);
    for (char *tok = strtok(copy, " "); tok; tok = strtok(NULL, " ")) {
        size_t n = strlen(xs);
        snprintf(xs + n, sizeof xs - n, " -x %s", tok);
    }
    snprintf(err_path, sizeof err_path, "%s/stderr.txt", ms->cli.root);
    snprintf(cmd, sizeof cmd,
             "ASAN_OPTIONS=fast_unwind_on_malloc=0 mpirun --oversubscribe --allow-run-as-root --bind-to none -np %d "
             "-x ASAN_OPTIONS -x LRSCOPE_MPI_STATS=1%s '%s' %s "
             ">/dev/null 2>'%s'", np, xs, ms->cli.bin, args, err_path);
    int rc = system(cmd);
    if (rc == -1 || !WIFEXITED(rc)) fail_msg("`%s` did not exit normally (status %d)", cmd, rc);
    *err = slurp_must(err_path, NULL);
    return WEXITSTATUS(rc);
}

static void new_case(mpi_state *ms, char *out, size_t cap) {
    char dir[4300];
    snprintf(dir, sizeof dir, "%s/case%d", ms->cli.root, ++ms->case_no);
    assert_int_equal(mkdir(dir, 0755), 0);
    snprintf(out, cap, "%s/study", dir); // the same base name as the reference: the report's title
}

// The single-process study, once: ROOT/ref/study.
static const char *reference(mpi_state *ms) {
    if (!ms->ref_done) {
        char dir[4300];
        snprintf(dir, sizeof dir, "%s/ref", ms->cli.root);
        assert_int_equal(mkdir(dir, 0755), 0);
        snprintf(ms->ref, sizeof ms->ref, "%s/study", dir);
        char *err;
        int rc = run_lrscope(&ms->cli, &err, NULL, "run --data '%s' --out '%s' " MPI_STUDY, ms->cli.data, ms->ref);
        if (rc != 0) fail_msg("reference study: exit %d: %s", rc, err);
        free(err);
        ms->ref_done = 1;
    }
    return ms->ref;
}

// The single-process one-seed study with its report, once: ROOT/ref1/study.
static const char *reference_report(mpi_state *ms) {
    if (!ms->ref_report_done) {
        char dir[4300];
        snprintf(dir, sizeof dir, "%s/ref1", ms->cli.root);
        assert_int_equal(mkdir(dir, 0755), 0);
        snprintf(ms->ref_report, sizeof ms->ref_report, "%s/study", dir);
        char *err;
        int rc = run_lrscope(&ms->cli, &err, NULL, "run --data '%s' --out '%s' " REPORT_STUDY, ms->cli.data,
                             ms->ref_report);
        if (rc != 0) fail_msg("reference study: exit %d: %s", rc, err);
        free(err);
        ms->ref_report_done = 1;
    }
    return ms->ref_report;
}

// The trial-epochs rank 0 says other ranks trained (its stats line).
static long remote_epochs(const char *err) {
    const char *p = strstr(err, "bytes for ");
    if (!p) fail_msg("no MPI stats line on stderr:\n%s", err);
    return strtol(p + strlen("bytes for "), NULL, 10);
}

// Not skipped: a machine without mpirun fails here (install-deps installs it).
static void test_mpirun_installed(void **state) {
    (void)state;
    if (system("command -v mpirun >/dev/null 2>&1") != 0)
        fail_msg("mpirun not found: run scripts/install-deps.sh (openmpi-bin, libopenmpi-dev)");
    // and this lrscope was built with MPI: under mpirun it names itself rank-wise
    FILE *f = popen("pkg-config --exists ompi-c && echo yes", "r");
    assert_non_null(f);
    char line[16] = "";
    if (!fgets(line, sizeof line, f)) line[0] = '\0';
    pclose(f);
    if (strncmp(line, "yes", 3) != 0) fail_msg("pkg-config ompi-c missing: install libopenmpi-dev");
}

// 3 ranks (rank 0 and 2 workers) against one process: the same files.
static void test_grid_three_ranks_same_bits(void **state) {
    mpi_state *ms = *state;
    const char *ref = reference(ms);
    char out[4400], *err;
    new_case(ms, out, sizeof out);
    int rc = run_mpi(ms, 3, "", &err, "run --data '%s' --out '%s' " MPI_STUDY, ms->cli.data, out);
    if (rc != 0) fail_msg("mpirun -np 3: exit %d: %s", rc, err);
    assert_contains(err, "MPI: 3 ranks", "stats");
    // 6 runs of 3 epochs on 3 ranks: the workers trained some of them (at
    // least one whole run each is not guaranteed by timing, but at least one epoch is)
    long remote = remote_epochs(err);
    if (remote < 1 || remote > 18) fail_msg("%ld trial-epochs on other ranks, expected 1 to 18", remote);
    free(err);
    assert_same_study(ref, out);
    // with the report and the figures
    new_case(ms, out, sizeof out);
    rc = run_mpi(ms, 3, "", &err, "run --data '%s' --out '%s' " REPORT_STUDY, ms->cli.data, out);
    if (rc != 0) fail_msg("mpirun -np 3: exit %d: %s", rc, err);
    assert_true(remote_epochs(err) >= 1);
    free(err);
    assert_same_study(reference_report(ms), out);
}

// A TPE search with ASHA (its decisions taken by rank 0 in trial order) and
// 2 seeds per point: the same trials, decisions and files as in one process.
#define SEARCH_STUDY "--epochs 9 --search tpe --trials 8 --space lr=loguniform:1e-3:1 --search-seeds 2 " \
                     "--pruner asha:grace=1,eta=3 --quiet --threads 1 --no-report"
static void test_search_asha_three_ranks(void **state) {
    mpi_state *ms = *state;
    char ref[4400], out[4400], *err;
    new_case(ms, ref, sizeof ref);
    int rc = run_lrscope(&ms->cli, &err, NULL, "run --data '%s' --out '%s' " SEARCH_STUDY, ms->cli.data, ref);
    if (rc != 0) fail_msg("single-process search: exit %d: %s", rc, err);
    free(err);
    new_case(ms, out, sizeof out);
    rc = run_mpi(ms, 3, "", &err, "run --data '%s' --out '%s' " SEARCH_STUDY, ms->cli.data, out);
    if (rc != 0) fail_msg("mpirun -np 3 search: exit %d: %s", rc, err);
    assert_true(remote_epochs(err) >= 1);
    free(err);
    assert_same_study(ref, out);
    // some trial was pruned, so the rung decisions were exercised
    char path[4500];
    snprintf(path, sizeof path, "%s/summary.csv", out);
    char *text = slurp_must(path, NULL);
    assert_non_null(strstr(text, "pruned"));
    free(text);
}

// A worker killed (SIGKILL after its 2nd epoch state) ends the job; the
// study resumed without MPI, and another killed one resumed under mpirun,
// give the reference's files.
static void test_worker_killed_then_resume(void **state) {
    mpi_state *ms = *state;
    const char *ref = reference(ms);
    for (int under_mpi = 0; under_mpi < 2; under_mpi++) {
        char out[4400], *err;
        new_case(ms, out, sizeof out);
        int rc = run_mpi(ms, 3, "LRSCOPE_TEST_MPI_KILL=2:2", &err, "run --data '%s' --out '%s' " MPI_STUDY,
                         ms->cli.data, out);
        if (rc == 0) fail_msg("mpirun with a killed rank exited 0: %s", err);
        free(err);
        // The study did not end: summary.csv is written last.
        char path[4500];
        snprintf(path, sizeof path, "%s/summary.csv", out);
        if (exists(path)) {
            char *text = slurp_must(path, NULL);
            int rows = 0;
            for (char *p = text; *p; p++) rows += *p == '\n';
            free(text);
            if (rows == 7) fail_msg("the killed study has all 6 runs in summary.csv: the kill came too late");
        }
        if (under_mpi) {
            rc = run_mpi(ms, 2, "", &err, "resume '%s' --quiet --no-report", out);
            if (rc != 0) fail_msg("mpirun -np 2 lrscope resume: exit %d: %s", rc, err);
            free(err);
        } else {
            rc = run_lrscope(&ms->cli, &err, NULL, "resume '%s' --quiet --no-report", out);
            if (rc != 0) fail_msg("lrscope resume: exit %d: %s", rc, err);
            free(err);
        }
        assert_same_study(ref, out);
    }
}

// The runs' statuses in a study folder of MPI_STUDY: *interrupted, *finished.
static void count_status(const char *out, int *interrupted, int *finished, int *running) {
    static const char *const runs[] = {"lr=0.05/seed-1", "lr=0.05/seed-2", "lr=0.01/seed-1",
                                       "lr=0.01/seed-2", "lr=0.02/seed-1", "lr=0.02/seed-2"};
    *interrupted = *finished = *running = 0;
    for (int i = 0; i < 6; i++) {
        char path[4600];
        snprintf(path, sizeof path, "%s/runs/%s/run.json", out, runs[i]);
        if (!exists(path)) continue;
        json_t *j = load_json(path);
        const char *st = json_string_value(json_object_get(j, "status"));
        *interrupted += !strcmp(st, "interrupted");
        *finished += !strcmp(st, "finished");
        *running += !strcmp(st, "running");
        json_decref(j);
    }
}

static void resume_same(mpi_state *ms, const char *out) {
    char *err;
    int rc = run_lrscope(&ms->cli, &err, NULL, "resume '%s' --quiet --no-report", out);
    if (rc != 0) fail_msg("lrscope resume: exit %d: %s", rc, err);
    free(err);
    assert_same_study(reference(ms), out);
}

// Ctrl-C reaching rank 0 alone (LRSCOPE_CRASH_AT raises SIGINT in its 3rd
// batch) while the workers are slow (a 150 ms nap per batch: still in their
// first run): rank 0 passes it on, and the 3 runs in flight (rank 0's and
// each worker's) are marked interrupted, exit 1; resumed: the reference's files.
static void test_interrupt_rank0_then_resume(void **state) {
    mpi_state *ms = *state;
    reference(ms);
    char out[4400], *err;
    new_case(ms, out, sizeof out);
    int rc = run_mpi(ms, 3, "LRSCOPE_CRASH_AT=batch:3:INT LRSCOPE_TEST_MPI_SLOW_MS=150", &err,
                     "run --data '%s' --out '%s' " MPI_STUDY, ms->cli.data, out);
    if (rc != 1) fail_msg("interrupted MPI study: exit %d, expected 1: %s", rc, err);
    free(err);
    int interrupted, finished, running;
    count_status(out, &interrupted, &finished, &running);
    if (interrupted != 3 || finished != 0 || running != 0)
        fail_msg("%d runs interrupted, %d finished, %d running: expected the 3 in flight (rank 0's and the "
                 "workers') interrupted", interrupted, finished, running);
    resume_same(ms, out);
}

// Ctrl-C on mpirun itself (SIGINT to its pid): Open MPI's mpirun sends
// SIGTERM to every rank about a second later, which lrscope takes as Ctrl-C.
// A longer study (20 epochs) on slow workers, so that they are still
// training then: their runs are marked interrupted, none is left running,
// and a resume finishes every run.
static void test_interrupt_mpirun_then_resume(void **state) {
    mpi_state *ms = *state;
    char out[4400], mark[4600];
    new_case(ms, out, sizeof out);
    snprintf(mark, sizeof mark, "%s/runs", out);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (!freopen("/dev/null", "w", stdout) || !freopen("/dev/null", "w", stderr)) _exit(126);
        setenv("LRSCOPE_TEST_MPI_SLOW_MS", "150", 1);
        char *argv[] = {"mpirun", "--oversubscribe", "--allow-run-as-root", "--bind-to", "none", "-np", "3",
                        "-x", "LRSCOPE_TEST_MPI_SLOW_MS", (char *)ms->cli.bin, "run", "--data", ms->cli.data,
                        "--out", out, "--epochs", "20", "--lrs", "0.05,0.01,0.02", "--seeds", "2", "--quiet",
                        "--threads", "1", "--no-report", NULL};
        execvp("mpirun", argv);
        _exit(127);
    }
    for (int i = 0; i < 600 && !exists(mark); i++) usleep(50 * 1000); // the study has started
    assert_true(exists(mark));
    usleep(300 * 1000);
    assert_int_equal(kill(pid, SIGINT), 0);
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    if (!WIFEXITED(st) || WEXITSTATUS(st) == 0) fail_msg("mpirun after Ctrl-C: status %d, expected a failure", st);
    int interrupted, finished, running;
    count_status(out, &interrupted, &finished, &running);
    if (interrupted < 2 || running != 0)
        fail_msg("%d runs interrupted, %d finished, %d running: expected the workers' runs in flight interrupted",
                 interrupted, finished, running);
    char *err;
    int rc = run_lrscope(&ms->cli, &err, NULL, "resume '%s' --quiet --no-report", out);
    if (rc != 0) fail_msg("lrscope resume: exit %d: %s", rc, err);
    free(err);
    count_status(out, &interrupted, &finished, &running);
    assert_int_equal(finished, 6);
}

static void expect_refused(mpi_state *ms, const char *env, const char *const *needles, int n) {
    char out[4400], *err;
    new_case(ms, out, sizeof out);
    int rc = run_mpi(ms, 3, env, &err, "run --data '%s' --out '%s' " MPI_STUDY, ms->cli.data, out);
    if (rc != 2) fail_msg("%s: exit %d, expected 2: %s", env, rc, err);
    for (int i = 0; i < n; i++) assert_contains(err, needles[i], env);
    if (exists(out)) fail_msg("%s: the refused study wrote %s", env, out);
    free(err);
}

static void test_missing_data_on_a_rank(void **state) {
    mpi_state *ms = *state;
    char host[256] = "", env[4400], missing[4300];
    assert_int_equal(gethostname(host, sizeof host), 0);
    snprintf(missing, sizeof missing, "%s/nowhere", ms->cli.root);
    snprintf(env, sizeof env, "LRSCOPE_TEST_MPI_DATA=2:%s", missing);
    const char *needles[] = {"MPI rank 2", host, missing};
    expect_refused(ms, env, needles, 3);
}

// Other data at the same path (one byte of one image changed): refused by
// the checksum.
static void test_other_data_on_a_rank(void **state) {
    mpi_state *ms = *state;
    char other[4300], env[4400], cmd[9000];
    snprintf(other, sizeof other, "%s/other-data", ms->cli.root);
    snprintf(cmd, sizeof cmd, "cp -r '%s' '%s'", ms->cli.data, other);
    assert_int_equal(system(cmd), 0);
    char path[4400];
    snprintf(path, sizeof path, "%s/test_batch.bin", other);
    size_t len;
    char *bytes = slurp_must(path, &len);
    bytes[100] ^= 1; // a pixel of the first test image
    test_write_file(path, bytes, len);
    free(bytes);
    snprintf(env, sizeof env, "LRSCOPE_TEST_MPI_DATA=1:%s", other);
    const char *needles[] = {"MPI rank 1", "different", "CRC-32"};
    expect_refused(ms, env, needles, 3);
}

static void test_version_mismatch(void **state) {
    mpi_state *ms = *state;
    const char *needles[] = {"MPI rank 1", "lrscope 9.9.9", "same build"};
    expect_refused(ms, "LRSCOPE_TEST_MPI_VERSION=1:9.9.9", needles, 3);
}

// -np 1: one process, with a note; the same files.
static void test_one_rank(void **state) {
    mpi_state *ms = *state;
    const char *ref = reference(ms);

    char out[4400], *err;
    new_case(ms, out, sizeof out);
    int rc = run_mpi(ms, 1, "", &err, "run --data '%s' --out '%s' " MPI_STUDY, ms->cli.data, out);
    if (rc != 0) fail_msg("mpirun -np 1: exit %d: %s", rc, err);
    assert_contains(err, "mpirun with 1 rank: running as one process", "-np 1");
    if (strstr(err, "MPI: ")) fail_msg("-np 1 went through the MPI transport: %s", err);
    free(err);
    assert_same_study(ref, out);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mpirun_installed),
        cmocka_unit_test(test_grid_three_ranks_same_bits),
        cmocka_unit_test(test_search_asha_three_ranks),
        cmocka_unit_test(test_worker_killed_then_resume),
        cmocka_unit_test(test_interrupt_rank0_then_resume),
        cmocka_unit_test(test_interrupt_mpirun_then_resume),
        cmocka_unit_test(test_missing_data_on_a_rank),
        cmocka_unit_test(test_other_data_on_a_rank),
        cmocka_unit_test(test_version_mismatch),
        cmocka_unit_test(test_one_rank),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
