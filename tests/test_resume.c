// test_resume.c: resume, bit for bit. The trainer saved and restored
// between epochs continues exactly as the uninterrupted run (SGD with
// momentum, Adam, a plateau schedule, one-cycle); a checkpoint that is
// truncated, corrupt, of another format or of another configuration is
// refused with a message and the previous one (or a fresh start) is used;
// `lrscope run` killed with SIGKILL at several moments (or stopped with
// SIGINT) and then `lrscope resume`d writes every file as the uninterrupted
// study, timing fields aside, whatever --jobs; a study folder has one owner.
#include "cli_fixture.h"
#include "train_data.h"

#include <sys/file.h>

#include "../src/study/study.h"
#include "../src/train/checkpoint.h"
#include "../src/train/optim.h"
#include "../src/util/rng.h"

// ---------------------------------------------------------------- the trainer

// n images whose class sets a colour and a bright square, plus noise.


typedef struct {
    dataset tr, te;
} data_pair;

static int data_setup(void **state) {
    data_pair *d = calloc(1, sizeof *d);
    if (!d) return -1;
    make_data(&d->tr, 200, 1);
    make_data(&d->te, 60, 2);
    *state = d;
    return 0;
}

static int data_teardown(void **state) {
    data_pair *d = *state;
    dataset_free(&d->tr);
    dataset_free(&d->te);
    free(d);
    return 0;
}

static run_config base_config(void) {
    run_config c;
    config_defaults(&c);
    c.epochs = 6;
    c.batch_size = 40; // 5 steps per epoch
    c.lr = 0.05;
    c.momentum = 0.9;
    c.threads = 1;
    c.seed = 7;
    snprintf(c.name, sizeof c.name, "runs/test/seed-7");
    return c;
}

// Every recorded field but the timing ones, and the parameters, bit for bit.
static void assert_same_result(const run_result *a, const run_result *b) {
    assert_int_equal(a->status, b->status);
    assert_int_equal(a->epochs_done, b->epochs_done);
    assert_int_equal(a->diverged_epoch, b->diverged_epoch);
    assert_int_equal(a->has_test_cm, b->has_test_cm);
    assert_int_equal(a->model.n_params, b->model.n_params);
    assert_int_equal(a->model.n_buffers, b->model.n_buffers);
    assert_int_equal(memcmp(a->params, b->params, model_state_floats(&a->model) * sizeof(float)), 0); // and buffers
    for (int i = 0; i < a->epochs_done; i++) {
        epoch_record x = a->epochs[i], y = b->epochs[i];
        x.seconds = y.seconds = 0;
        assert_int_equal(memcmp(&x, &y, sizeof x), 0);
    }
    size_t kk = (size_t)a->num_classes * (size_t)a->num_classes;
    assert_int_equal(memcmp(a->test_cm, b->test_cm, kk * sizeof *a->test_cm), 0);
}

// The run straight through, then the same run stopped after each k in
// `stops`, its checkpoint written to a folder, the trainer destroyed and a
// fresh one restored from the file: the results must be the same bits.
static void check_roundtrip(const data_pair *d, const run_config *c, const int *stops, int n_stops,
                            run_result *ref_out) {
    lr_err e;
    run_result ref;
    assert_int_equal(train_run(c, &d->tr, &d->te, cifar(), NULL, &ref, &e), 0);
    assert_int_equal(ref.status, RUN_FINISHED);
    char dir[4096];
    test_mkdtemp(dir, sizeof dir);
    trainer *t = trainer_create(c, &d->tr, &d->te, cifar(), &e);
    assert_non_null(t);
    for (int s = 0; s < n_stops; s++) {
        while (trainer_epochs_done(t) < stops[s]) assert_int_equal(trainer_epoch(t, NULL), RUN_RUNNING);
        assert_int_equal(checkpoint_write(dir, t, c, &e), 0);
        trainer_destroy(t);
        t = trainer_create(c, &d->tr, &d->te, cifar(), &e);
        assert_non_null(t);
        assert_int_equal(checkpoint_restore(dir, t, c, stderr), stops[s]);
    }
    while (trainer_epoch(t, NULL) == RUN_RUNNING) {}
    run_result got;
    trainer_take_result(t, &got);
    trainer_destroy(t);
    assert_same_result(&ref, &got);
    run_result_free(&got);
    test_rmtree(dir);
    if (ref_out) *ref_out = ref;
    else run_result_free(&ref);
}

static void test_trainer_roundtrip_sgd_momentum(void **state) {
    run_config c = base_config();
    c.weight_decay = 5e-4;
    static const int stops[] = {1, 3, 4};
    check_roundtrip(*state, &c, stops, 3, NULL);
}

// Batch norm (running statistics in the state) and dropout (masks from
// (seed, step)), trained through the batch driver, with two threads.
static void test_trainer_roundtrip_bn_dropout(void **state) {
    run_config c = base_config();
    snprintf(c.model, sizeof c.model, "conv:4:3:p=1:bias=0,bn,relu,maxpool:2,conv:8:3:bias=0,bn,relu,gap,"
                                      "dropout:0.25,linear");
    c.weight_decay = 1e-4;
    c.nesterov = 1;
    c.threads = 2;
    static const int stops[] = {1, 2, 4};
    run_result ref;
    check_roundtrip(*state, &c, stops, 3, &ref);
    assert_true(ref.model.n_buffers == 2 * (4 + 8));
    assert_true(ref.params[ref.model.n_params] != 0.0f); // a running mean moved
    run_result_free(&ref);
}

static void test_trainer_roundtrip_adam(void **state) {
    run_config c = base_config();
    snprintf(c.optimizer, sizeof c.optimizer, "adam");
    c.lr = 0.003;
    c.amsgrad = 1; // a third buffer
    static const int stops[] = {2, 5};
    check_roundtrip(*state, &c, stops, 2, NULL);
}

// The plateau state machine must travel too: the rate is cut before the
// stop (its best and counters matter after it) and again after it.
static void test_trainer_roundtrip_plateau(void **state) {
    run_config c = base_config();
    snprintf(c.schedule, sizeof c.schedule, "plateau");
    c.plateau_patience = 0;
    c.plateau_threshold = 0.5; // a loss must halve to count as better: a cut after nearly every evaluation
    c.plateau_factor = 0.5;
    c.epochs = 8;
    static const int stops[] = {3};
    run_result ref;
    check_roundtrip(*state, &c, stops, 1, &ref);
    int cuts_before = 0, cuts_after = 0;
    for (int i = 1; i < ref.epochs_done; i++)
        if (ref.epochs[i].lr < ref.epochs[i - 1].lr) *(i < 3 ? &cuts_before : &cuts_after) += 1;
    print_message("# plateau cuts: %d before the stop, %d after\n", cuts_before, cuts_after);
    assert_true(cuts_before >= 1 && cuts_after >= 1);
    run_result_free(&ref);
}

static void test_trainer_roundtrip_onecycle(void **state) {
    run_config c = base_config();
    snprintf(c.schedule, sizeof c.schedule, "onecycle");
    c.lr = 0.1;
    static const int stops[] = {2, 4};
    check_roundtrip(*state, &c, stops, 2, NULL);
}

// The epoch hook may stop a run: status pruned, the epoch recorded, and
// further epochs are no-ops.
static int prune_at_2(void *ctx, const run_result *r) {
    (void)ctx;
    return r->epochs_done == 2;
}

static void test_trainer_pruned(void **state) {
    const data_pair *d = *state;
    run_config c = base_config();
    lr_err e;
    train_hooks hooks = {.after_epoch = prune_at_2};
    run_result r;
    assert_int_equal(train_run(&c, &d->tr, &d->te, cifar(), &hooks, &r, &e), 0);
    assert_int_equal(r.status, RUN_PRUNED);
    assert_int_equal(r.epochs_done, 2);
    assert_string_equal(run_status_name(r.status), "pruned");
    assert_true(r.epochs[1].has_test);
    run_result_free(&r);
}

// A pruned run is continued later from its checkpoint (ASHA's promotion):
// pruned at epoch 2, saved, restored in a fresh trainer, promoted, run to
// the end: the same bits as the run never pruned.
static void test_trainer_pruned_promoted(void **state) {
    const data_pair *d = *state;
    run_config c = base_config();
    lr_err e;
    run_result ref;
    assert_int_equal(train_run(&c, &d->tr, &d->te, cifar(), NULL, &ref, &e), 0);
    char dir[4096];
    test_mkdtemp(dir, sizeof dir);
    train_hooks hooks = {.after_epoch = prune_at_2};
    trainer *t = trainer_create(&c, &d->tr, &d->te, cifar(), &e);
    assert_non_null(t);
    while (trainer_epoch(t, &hooks) == RUN_RUNNING) {}
    assert_int_equal(trainer_result(t)->status, RUN_PRUNED);
    assert_int_equal(trainer_epoch(t, NULL), RUN_PRUNED); // no more epochs while pruned
    assert_int_equal(trainer_epochs_done(t), 2);
    assert_int_equal(checkpoint_write(dir, t, &c, &e), 0);
    trainer_destroy(t);
    t = trainer_create(&c, &d->tr, &d->te, cifar(), &e);
    assert_int_equal(checkpoint_restore(dir, t, &c, stderr), 2);
    assert_int_equal(trainer_result(t)->status, RUN_PRUNED);
    trainer_promote(t);
    while (trainer_epoch(t, NULL) == RUN_RUNNING) {}
    run_result got;
    trainer_take_result(t, &got);
    trainer_destroy(t);
    assert_same_result(&ref, &got);
    run_result_free(&got);
    run_result_free(&ref);
    test_rmtree(dir);
}

// ---------------------------------------------------------------- the file

typedef struct {
    char dir[4096], path[4200], prev[4200];
    run_config c;
    trainer *t;
} ckpt_case;

// A run folder holding the checkpoints of epochs 1 (previous) and 2 (newest).
static void ckpt_make(ckpt_case *k, const data_pair *d) {
    k->c = base_config();
    lr_err e;
    test_mkdtemp(k->dir, sizeof k->dir);
    snprintf(k->path, sizeof k->path, "%s/%s", k->dir, CHECKPOINT_FILE);
    snprintf(k->prev, sizeof k->prev, "%s/%s", k->dir, CHECKPOINT_PREV_FILE);
    trainer *t = trainer_create(&k->c, &d->tr, &d->te, cifar(), &e);
    assert_non_null(t);
    for (int ep = 1; ep <= 2; ep++) {
        assert_int_equal(trainer_epoch(t, NULL), RUN_RUNNING);
        assert_int_equal(checkpoint_write(k->dir, t, &k->c, &e), 0);
    }
    trainer_destroy(t);
}

static trainer *fresh(const ckpt_case *k, const data_pair *d, const run_config *c) {
    lr_err e;
    trainer *t = trainer_create(c ? c : &k->c, &d->tr, &d->te, cifar(), &e);
    assert_non_null(t);
    return t;
}

// checkpoint_restore with its log captured.
static int restore_logged(const ckpt_case *k, trainer *t, char **log) {
    size_t n;
    FILE *f = open_memstream(log, &n);
    assert_non_null(f);
    int got = checkpoint_restore(k->dir, t, &k->c, f);
    fclose(f);
    return got;
}

static char *read_whole(const char *path, size_t *len) {
    char *p = slurp_must(path, len);
    return p;
}

// Refused with a message containing `why`, then the previous file is used.
static void expect_refused_then_prev(const ckpt_case *k, const data_pair *d, const char *why) {
    trainer *t = fresh(k, d, NULL);
    lr_err e;
    assert_int_equal(checkpoint_read(k->path, t, &k->c, &e), -1);
    assert_non_null(strstr(e.msg, why));
    assert_non_null(strstr(e.msg, k->path)); // names the file
    assert_int_equal(trainer_epochs_done(t), 0); // untouched
    char *log;
    assert_int_equal(restore_logged(k, t, &log), 1);
    assert_non_null(strstr(log, why));
    assert_non_null(strstr(log, "previous checkpoint"));
    free(log);
    trainer_destroy(t);
}

static void test_checkpoint_good(void **state) {
    const data_pair *d = *state;
    ckpt_case k;
    ckpt_make(&k, d);
    trainer *t = fresh(&k, d, NULL);
    char *log;
    assert_int_equal(restore_logged(&k, t, &log), 2);
    assert_string_equal(log, ""); // nothing to say
    free(log);
    trainer_destroy(t);
    test_rmtree(k.dir);
}

static void test_checkpoint_truncated(void **state) {
    const data_pair *d = *state;
    ckpt_case k;
    ckpt_make(&k, d);
    size_t len;
    char *whole = read_whole(k.path, &len);
    const size_t cuts[] = {0, 7, CHECKPOINT_HEADER, CHECKPOINT_HEADER + 4, len / 2, len - 1};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        test_write_file(k.path, whole, cuts[i]);
        expect_refused_then_prev(&k, d, cuts[i] < CHECKPOINT_HEADER + 4 ? "shorter than" : "truncated");
    }
    free(whole);
    test_rmtree(k.dir);
}

static void test_checkpoint_flipped_byte(void **state) {
    const data_pair *d = *state;
    ckpt_case k;
    ckpt_make(&k, d);
    size_t len;
    char *whole = read_whole(k.path, &len);
    const size_t at[] = {CHECKPOINT_HEADER + 3, len / 2, len - 5};
    for (size_t i = 0; i < 3; i++) {
        whole[at[i]] ^= 0x10;
        test_write_file(k.path, whole, len);
        expect_refused_then_prev(&k, d, "checksum");
        whole[at[i]] ^= 0x10;
    }
    free(whole);
    test_rmtree(k.dir);
}

static void test_checkpoint_bad_magic(void **state) {
    const data_pair *d = *state;
    ckpt_case k;
    ckpt_make(&k, d);
    size_t len;
    char *whole = read_whole(k.path, &len);
    memcpy(whole, "LRSW", 4); // a weights file's magic
    test_write_file(k.path, whole, len);
    expect_refused_then_prev(&k, d, "magic");
    free(whole);
    test_rmtree(k.dir);
}

// A checkpoint of another configuration (another rate; another folder) is
// refused, even with a good checksum: both files, so the run starts afresh.
static void test_checkpoint_other_config(void **state) {
    const data_pair *d = *state;
    ckpt_case k;
    ckpt_make(&k, d);
    run_config other = k.c;
    other.lr = 0.02;
    trainer *t = fresh(&k, d, &other);
    lr_err e;
    assert_int_equal(checkpoint_read(k.path, t, &other, &e), -1);
    assert_non_null(strstr(e.msg, "another configuration"));
    run_config moved = k.c;
    snprintf(moved.name, sizeof moved.name, "runs/other/seed-7");
    assert_int_equal(checkpoint_read(k.path, t, &moved, &e), -1);
    assert_non_null(strstr(e.msg, "another configuration"));
    // threads and prefetch change no result: accepted
    run_config threads = k.c;
    threads.threads = 2;
    snprintf(threads.prefetch, sizeof threads.prefetch, "off");
    assert_int_equal(checkpoint_config_id(&threads), checkpoint_config_id(&k.c));
    assert_true(checkpoint_config_id(&other) != checkpoint_config_id(&k.c));
    trainer_destroy(t);
    test_rmtree(k.dir);
}

static void test_checkpoint_none_good_from_scratch(void **state) {
    const data_pair *d = *state;
    ckpt_case k;
    ckpt_make(&k, d);
    test_write_file(k.path, "x", 1);
    size_t len;
    char *prev = read_whole(k.prev, &len);
    prev[len - 1] ^= 1;
    test_write_file(k.prev, prev, len);
    free(prev);
    trainer *t = fresh(&k, d, NULL);
    char *log;
    assert_int_equal(restore_logged(&k, t, &log), 0);
    assert_non_null(strstr(log, CHECKPOINT_FILE));
    assert_non_null(strstr(log, CHECKPOINT_PREV_FILE));
    assert_non_null(strstr(log, "from scratch"));
    free(log);
    assert_int_equal(trainer_epochs_done(t), 0);
    trainer_destroy(t);
    // no checkpoint at all: a fresh start, silently
    unlink(k.path);
    unlink(k.prev);
    t = fresh(&k, d, NULL);
    assert_int_equal(restore_logged(&k, t, &log), 0);
    assert_string_equal(log, "");
    free(log);
    trainer_destroy(t);
    test_rmtree(k.dir);
}

// Killed between the rotation and the new file: only the previous one is
// there, and it is used.
static void test_checkpoint_only_prev(void **state) {
    const data_pair *d = *state;
    ckpt_case k;
    ckpt_make(&k, d);
    unlink(k.path);
    trainer *t = fresh(&k, d, NULL);
    char *log;
    assert_int_equal(restore_logged(&k, t, &log), 1);
    assert_non_null(strstr(log, "previous checkpoint"));
    free(log);
    trainer_destroy(t);
    test_rmtree(k.dir);
}

// ---------------------------------------------------------------- the study

#include "study_compare.h"

// The study every kill is compared with: 3 runs of 3 epochs, one thread.
#define STUDY_ARGS "--epochs 3 --lrs 0.05,0.01,0.02 --quiet --threads 1"

typedef struct {
    cli_state cli;
    char ref[4400];
    int ref_done, case_no;
} resume_state;

static int study_setup(void **state) {
    resume_state *rs = calloc(1, sizeof *rs);
    void *cli_state_ptr = NULL;
    if (!rs || group_setup(&cli_state_ptr) != 0) return -1;
    rs->cli = *(cli_state *)cli_state_ptr;
    free(cli_state_ptr);
    *state = rs;
    return 0;
}

static int study_teardown(void **state) {
    resume_state *rs = *state;
    test_rmtree(rs->cli.root);
    free(rs);
    return 0;
}

// The uninterrupted study (with its report), once: ROOT/ref/study.
static const char *reference(resume_state *rs) {
    if (!rs->ref_done) {
        char dir[4300];
        snprintf(dir, sizeof dir, "%s/ref", rs->cli.root);
        assert_int_equal(mkdir(dir, 0755), 0);
        snprintf(rs->ref, sizeof rs->ref, "%s/study", dir);
        char *err;
        int rc = run_lrscope(&rs->cli, &err, NULL, "run --data '%s' --out '%s' " STUDY_ARGS, rs->cli.data, rs->ref);
        if (rc != 0) fail_msg("reference study: exit %d: %s", rc, err);
        free(err);
        rs->ref_done = 1;
    }
    return rs->ref;
}

// A new folder ROOT/caseN/study (same base name as the reference: the
// report's title is the folder's name).
static void new_case(resume_state *rs, char *out, size_t cap) {
    char dir[4300];
    snprintf(dir, sizeof dir, "%s/case%d", rs->cli.root, ++rs->case_no);
    assert_int_equal(mkdir(dir, 0755), 0);
    snprintf(out, cap, "%s/study", dir);
}

// Runs lrscope with LRSCOPE_CRASH_AT=crash (NULL: none) and the arguments;
// returns the wait status.
static int spawn_wait(const resume_state *rs, const char *crash, char *const argv[]) {
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (!freopen("/dev/null", "w", stdout) || !freopen("/dev/null", "w", stderr)) _exit(126);
        if (crash) setenv("LRSCOPE_CRASH_AT", crash, 1);
        else unsetenv("LRSCOPE_CRASH_AT");
        execv(rs->cli.bin, argv);
        _exit(127);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    return status;
}

// `lrscope run` of the study into out, killed at `crash` (SIGKILL, or SIGINT
// with ":INT"); jobs: --jobs.
static void run_killed(resume_state *rs, const char *out, const char *crash, const char *jobs) {
    char *argv[] = {"lrscope", "run", "--data", rs->cli.data, "--out", (char *)out, "--epochs", "3", "--lrs",
                    "0.05,0.01,0.02", "--quiet", "--threads", "1", "--jobs", (char *)jobs, NULL};
    int st = spawn_wait(rs, crash, argv);
    if (strstr(crash, ":INT")) {
        assert_true(WIFEXITED(st));
        assert_int_equal(WEXITSTATUS(st), 1); // interrupted
    } else {
        if (!WIFSIGNALED(st) || WTERMSIG(st) != SIGKILL) fail_msg("%s: the run was not killed (status %d)", crash, st);
    }
}

static void resume_ok(resume_state *rs, const char *out, const char *jobs, const char *crash) {
    char *argv[] = {"lrscope", "resume", (char *)out, "--quiet", "--jobs", (char *)jobs, NULL};
    int st = spawn_wait(rs, crash, argv);
    if (crash) {
        if (!WIFSIGNALED(st) || WTERMSIG(st) != SIGKILL) fail_msg("resume at %s: not killed (status %d)", crash, st);
        return;
    }
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) fail_msg("lrscope resume %s: status %d", out, st);
}

// Killed at each kind of moment, then resumed once: every file as the
// uninterrupted study's. (3 runs x 3 epochs x 2 batches of 128 of the 200
// images: batch 3 is inside run 1's second epoch, batch 9 inside run 2's
// second epoch; epoch 4 is run 2's first checkpoint; run 1 is between runs;
// report before the report.)
static void test_kill9_then_resume(void **state) {
    resume_state *rs = *state;
    const char *ref = reference(rs);
    static const char *const points[] = {"batch:1", "batch:3", "epoch:1", "epoch:4", "batch:9", "run:1",
                                         "run:3", "report:1"};
    for (size_t i = 0; i < sizeof points / sizeof points[0]; i++) {
        char out[4400];
        new_case(rs, out, sizeof out);
        run_killed(rs, out, points[i], "1");
        resume_ok(rs, out, "1", NULL);
        print_message("# killed at %s: resumed\n", points[i]);
        assert_same_study(ref, out);
    }
}

// Killed, resumed and killed again (twice), then resumed to the end.
static void test_kill9_repeatedly(void **state) {
    resume_state *rs = *state;
    const char *ref = reference(rs);
    char out[4400];
    new_case(rs, out, sizeof out);
    run_killed(rs, out, "epoch:2", "1");
    resume_ok(rs, out, "1", "batch:4");  // killed again in run 2's first epoch
    resume_ok(rs, out, "1", "epoch:3");  // and after run 2's second checkpoint
    resume_ok(rs, out, "1", NULL);
    assert_same_study(ref, out);
}

// kill -9 from outside at moments the test does not choose (the folder must
// come out right wherever it lands: in an epoch, a file write or the report).
static void test_kill9_async(void **state) {
    resume_state *rs = *state;
    const char *ref = reference(rs);
    static const int delays_ms[] = {10, 40, 120, 300, 600};
    for (size_t i = 0; i < sizeof delays_ms / sizeof delays_ms[0]; i++) {
        char out[4400];
        new_case(rs, out, sizeof out);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            if (!freopen("/dev/null", "w", stdout) || !freopen("/dev/null", "w", stderr)) _exit(126);
            unsetenv("LRSCOPE_CRASH_AT");
            execl(rs->cli.bin, "lrscope", "run", "--data", rs->cli.data, "--out", out, "--epochs", "3", "--lrs",
                  "0.05,0.01,0.02", "--quiet", "--threads", "1", (char *)NULL);
            _exit(127);
        }
        usleep((useconds_t)delays_ms[i] * 1000);
        kill(pid, SIGKILL);
        int st;
        assert_int_equal(waitpid(pid, &st, 0), pid);
        char study_json[4600];
        snprintf(study_json, sizeof study_json, "%s/study.json", out);
        print_message("# kill -9 after %d ms: %s%s\n", delays_ms[i], WIFSIGNALED(st) ? "killed" : "had ended",
                      exists(study_json) ? "" : " before study.json");
        if (!exists(study_json)) { // nothing to resume yet; the folder can take the study again
            char *err;
            assert_int_equal(run_lrscope(&rs->cli, &err, NULL, "resume '%s'", out), 2);
            assert_non_null(strstr(err, "study.json"));
            free(err);
            assert_int_equal(run_lrscope(&rs->cli, &err, NULL, "run --data '%s' --out '%s' " STUDY_ARGS,
                                         rs->cli.data, out), 0);
            free(err);
        } else {
            resume_ok(rs, out, "1", NULL);
        }
        assert_same_study(ref, out);
    }
}

// A study killed before its study.json was in place leaves its lock file
// and study.json's temporary file: `run` takes the folder again (found by
// test_kill9_async on a fresh machine, where a kill landed in that write)
// and the leftover goes. Anything else in the folder is still refused.
static void test_run_after_killed_start(void **state) {
    resume_state *rs = *state;
    const char *ref = reference(rs);
    char out[4400], path[4600], *err;
    new_case(rs, out, sizeof out);
    assert_int_equal(mkdir(out, 0755), 0);
    snprintf(path, sizeof path, "%s/.lock", out);
    test_write_file(path, "123\n", 4);
    snprintf(path, sizeof path, "%s/study.json.tmp.999999", out);
    test_write_file(path, "{\"half", 6);
    assert_int_equal(run_lrscope(&rs->cli, &err, NULL, "run --data '%s' --out '%s' " STUDY_ARGS, rs->cli.data, out), 0);
    free(err);
    assert_false(exists(path));
    assert_same_study(ref, out);
    // Not a leftover of ours: refused, and kept.
    static const char *const others[] = {"study.json.tmp.12x", "notes.txt", "metrics.csv.tmp.5"};
    for (int i = 0; i < 3; i++) {
        new_case(rs, out, sizeof out);
        assert_int_equal(mkdir(out, 0755), 0);
        snprintf(path, sizeof path, "%s/%s", out, others[i]);
        test_write_file(path, "x", 1);
        assert_int_equal(run_lrscope(&rs->cli, &err, NULL, "run --data '%s' --out '%s' " STUDY_ARGS, rs->cli.data, out), 2);
        assert_non_null(strstr(err, "already holds files"));
        free(err);
        assert_true(exists(path));
    }
}

// Ctrl-C: the run is marked interrupted (exit 1), resume continues it.
static void test_sigint_then_resume(void **state) {
    resume_state *rs = *state;
    const char *ref = reference(rs);
    char out[4400], path[4600];
    new_case(rs, out, sizeof out);
    run_killed(rs, out, "batch:3:INT", "1"); // in run 1's second epoch
    snprintf(path, sizeof path, "%s/runs/lr=0.05/seed-1/run.json", out);
    json_t *root = load_json(path);
    assert_string_equal(json_string_value(json_object_get(root, "status")), "interrupted");
    json_decref(root);
    resume_ok(rs, out, "1", NULL);
    assert_same_study(ref, out);
}

// --jobs differs between the run and the resume, both ways.
static void test_resume_other_jobs(void **state) {
    resume_state *rs = *state;
    const char *ref = reference(rs);
    char out[4400];
    new_case(rs, out, sizeof out);
    run_killed(rs, out, "epoch:4", "2");
    resume_ok(rs, out, "1", NULL);
    assert_same_study(ref, out);
    new_case(rs, out, sizeof out);
    run_killed(rs, out, "batch:11", "1");
    resume_ok(rs, out, "2", "epoch:3");
    resume_ok(rs, out, "2", NULL);
    assert_same_study(ref, out);
}

// A corrupt newest checkpoint in a killed study: the run continues from the
// previous one, says so, and the result is still the uninterrupted one.
static void test_resume_corrupt_checkpoint(void **state) {
    resume_state *rs = *state;
    const char *ref = reference(rs);
    char out[4400], path[4600];
    new_case(rs, out, sizeof out);
    run_killed(rs, out, "batch:5", "1"); // run 1 in its third epoch: checkpoints of epochs 1 and 2
    snprintf(path, sizeof path, "%s/runs/lr=0.05/seed-1/%s", out, CHECKPOINT_FILE);
    size_t len;
    char *bytes = slurp_must(path, &len);
    bytes[len / 2] ^= 0x55;
    test_write_file(path, bytes, len);
    free(bytes);
    char *err;
    assert_int_equal(run_lrscope(&rs->cli, &err, NULL, "resume '%s' --quiet", out), 0);
    assert_non_null(strstr(err, "checksum"));
    assert_non_null(strstr(err, "previous checkpoint"));
    free(err);
    assert_same_study(ref, out);
}

// A finished study: nothing is trained again, nothing changes, exit 0.
static void test_resume_finished_study(void **state) {
    resume_state *rs = *state;
    reference(rs);
    char out[4400], path[4600];
    new_case(rs, out, sizeof out);
    run_killed(rs, out, "report:1", "1");
    resume_ok(rs, out, "1", NULL);
    snprintf(path, sizeof path, "%s/runs/lr=0.01/seed-1/%s", out, CHECKPOINT_FILE);
    size_t l1, l2, m1, m2;
    char *ck1 = slurp_must(path, &l1);
    snprintf(path, sizeof path, "%s/runs/lr=0.01/seed-1/metrics.csv", out);
    char *me1 = slurp_must(path, &m1);
    char *err, *table;
    assert_int_equal(run_lrscope(&rs->cli, &err, &table, "resume '%s' --no-report", out), 0);
    assert_non_null(strstr(err, "3 of 3 runs already ended, 0 to train"));
    assert_null(strstr(err, "epoch"));
    free(err);
    // The closing table shows the kept runs as they ended (read back from
    // their files), not as "not run": lr=0.01's row has its last test
    // accuracy (metrics.csv's last row, column 7) and its 3 epochs.
    assert_null(strstr(table, "not run"));
    char *row = strstr(table, "\nlr=0.01 ");
    assert_non_null(row);
    size_t ml;
    char *me = slurp_must(path, &ml), *last = me + ml - 1;
    while (last > me && last[-1] != '\n') last--;
    const char *c = last;
    for (int col = 0; col < 6; col++) c = strchr(c, ',') + 1;
    char acc[32], want[64];
    snprintf(acc, sizeof acc, "%.2f%%", 100 * strtod(c, NULL));
    snprintf(want, sizeof want, "%-12s %8s", "finished", acc);
    if (!strstr(row, want)) fail_msg("expected \"%s\" in the row: %.120s", want, row + 1);
    assert_non_null(strstr(row, " 3 "));
    free(me);
    free(table);
    char *me2 = slurp_must(path, &m2); // not even the seconds column was rewritten
    snprintf(path, sizeof path, "%s/runs/lr=0.01/seed-1/%s", out, CHECKPOINT_FILE);
    char *ck2 = slurp_must(path, &l2);
    assert_true(l1 == l2 && !memcmp(ck1, ck2, l1));
    assert_true(m1 == m2 && !memcmp(me1, me2, m1));
    free(ck1);
    free(ck2);
    free(me1);
    free(me2);
}

// A study folder has one owner: a second lrscope is refused with exit 2,
// naming the folder and the owner's pid; a dead owner's lock is gone.
static void test_lock(void **state) {
    resume_state *rs = *state;
    char out[4400];
    new_case(rs, out, sizeof out);
    run_killed(rs, out, "epoch:1", "1");
    // held by this process
    int fd = -1;
    lr_err e;
    assert_int_equal(study_lock(out, &fd, &e), 0);
    char *err, pid[32];
    snprintf(pid, sizeof pid, "pid %ld", (long)getpid());
    assert_int_equal(run_lrscope(&rs->cli, &err, NULL, "resume '%s' --quiet", out), 2);
    assert_non_null(strstr(err, out));
    assert_non_null(strstr(err, pid));
    assert_non_null(strstr(err, "in use"));
    free(err);
    study_unlock(fd);
    // held by a process killed with SIGKILL: free again
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        int cfd;
        lr_err ce;
        if (study_lock(out, &cfd, &ce) != 0) _exit(1);
        for (;;) pause();
    }
    for (int i = 0; i < 200; i++) { // until the child holds it
        int probe = open(out, O_RDONLY);
        close(probe);
        char lock[4600];
        snprintf(lock, sizeof lock, "%s/%s", out, STUDY_LOCK_FILE);
        int lfd = open(lock, O_RDONLY);
        int busy = lfd >= 0 && flock(lfd, LOCK_EX | LOCK_NB) != 0;
        if (lfd >= 0) close(lfd);
        if (busy) break;
        usleep(10000);
    }
    assert_int_equal(run_lrscope(&rs->cli, &err, NULL, "resume '%s' --quiet --no-report", out), 2);
    free(err);
    kill(child, SIGKILL);
    int st;
    assert_int_equal(waitpid(child, &st, 0), child);
    assert_int_equal(run_lrscope(&rs->cli, &err, NULL, "resume '%s' --quiet --no-report", out), 0);
    free(err);
}

// Two real lrscope processes: a long `run` owns the folder; a resume of it
// at the same time is refused with the run's pid.
static void test_two_at_once(void **state) {
    resume_state *rs = *state;
    char out[4400], metrics[4600];
    new_case(rs, out, sizeof out);
    snprintf(metrics, sizeof metrics, "%s/runs/lr=0.05/seed-1/metrics.csv", out);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (!freopen("/dev/null", "w", stdout) || !freopen("/dev/null", "w", stderr)) _exit(126);
        execl(rs->cli.bin, "lrscope", "run", "--data", rs->cli.data, "--out", out, "--epochs", "100000", "--lrs",
              "0.05", "--quiet", "--no-report", "--threads", "1", (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 400 && !exists(metrics); i++) usleep(50 * 1000);
    assert_true(exists(metrics));
    char *err, want[32];
    snprintf(want, sizeof want, "pid %ld", (long)pid);
    assert_int_equal(run_lrscope(&rs->cli, &err, NULL, "resume '%s' --quiet", out), 2);
    assert_non_null(strstr(err, want));
    free(err);
    kill(pid, SIGINT);
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 1);
}

static void test_resume_bad_input(void **state) {
    resume_state *rs = *state;
    char *err;
    assert_int_equal(run_lrscope(&rs->cli, &err, NULL, "resume '%s/nowhere'", rs->cli.root), 2);
    assert_non_null(strstr(err, "nowhere"));
    free(err);
    assert_int_equal(run_lrscope(&rs->cli, &err, NULL, "resume"), 2);
    assert_non_null(strstr(err, "STUDY_DIR"));
    free(err);
    assert_int_equal(run_lrscope(&rs->cli, &err, NULL, "resume '%s' --jobs x", rs->cli.root), 2);
    assert_non_null(strstr(err, "--jobs"));
    free(err);
    assert_int_equal(run_lrscope(&rs->cli, &err, NULL, "resume '%s' --epochs 3", rs->cli.root), 2);
    assert_non_null(strstr(err, "--epochs"));
    free(err);
    char *out;
    assert_int_equal(run_lrscope(&rs->cli, &err, &out, "resume --help"), 0);
    assert_non_null(strstr(out, "usage: lrscope resume STUDY_DIR"));
    free(out);
    free(err);
}

int main(void) {
    const struct CMUnitTest trainer_tests[] = {
        cmocka_unit_test(test_trainer_roundtrip_sgd_momentum),
        cmocka_unit_test(test_trainer_roundtrip_bn_dropout),
        cmocka_unit_test(test_trainer_roundtrip_adam),
        cmocka_unit_test(test_trainer_roundtrip_plateau),
        cmocka_unit_test(test_trainer_roundtrip_onecycle),
        cmocka_unit_test(test_trainer_pruned),
        cmocka_unit_test(test_trainer_pruned_promoted),
        cmocka_unit_test(test_checkpoint_good),
        cmocka_unit_test(test_checkpoint_truncated),
        cmocka_unit_test(test_checkpoint_flipped_byte),
        cmocka_unit_test(test_checkpoint_bad_magic),
        cmocka_unit_test(test_checkpoint_other_config),
        cmocka_unit_test(test_checkpoint_none_good_from_scratch),
        cmocka_unit_test(test_checkpoint_only_prev),
    };
    const struct CMUnitTest study_tests[] = {
        cmocka_unit_test(test_kill9_then_resume),
        cmocka_unit_test(test_kill9_repeatedly),
        cmocka_unit_test(test_kill9_async),
        cmocka_unit_test(test_run_after_killed_start),
        cmocka_unit_test(test_sigint_then_resume),
        cmocka_unit_test(test_resume_other_jobs),
        cmocka_unit_test(test_resume_corrupt_checkpoint),
        cmocka_unit_test(test_resume_finished_study),
        cmocka_unit_test(test_lock),
        cmocka_unit_test(test_two_at_once),
        cmocka_unit_test(test_resume_bad_input),
    };
    int failed = cmocka_run_group_tests_name("trainer", trainer_tests, data_setup, data_teardown);
    failed += cmocka_run_group_tests_name("study", study_tests, study_setup, study_teardown);
    return failed;
}
