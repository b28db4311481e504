// study.c: runs a study: checks the data and the output folder before any
// training, then trains each run, saving its files after every epoch.
#include "study.h"
#include "console.h"
#include "scheduler.h"
#include "search_run.h"
#include "../train/checkpoint.h"
#include "run_files.h"
#include "study_ensemble.h"
#include "transport_mpi.h"
#include "weights.h"
#include "../data/augment.h"
#include "../data/loader.h"
#include "../report/report.h"
#include "../report/tfevents.h"
#include "../util/fsutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/file.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

void study_default_dir(char *out, size_t cap) {
    char stamp[32];
    time_t now = time(NULL);
    strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", localtime(&now));
    snprintf(out, cap, "results/study-%s", stamp);
    for (int k = 2; fs_exists(out); k++) snprintf(out, cap, "results/study-%s-%d", stamp, k);
}

// Fault injection for the resume tests: LRSCOPE_CRASH_AT=POINT:N kills the
// process with SIGKILL (as `kill -9` would) the N-th time it passes POINT:
// "batch" (inside an epoch), "epoch" (a checkpoint written, the epoch's other
// files not yet), "run" (a run's files all written) or "report" (before the
// summary and the report). POINT:N:INT sends SIGINT instead (as Ctrl-C).
// Unset: nothing happens.
static void crash_point(const char *point) {
    static atomic_int counts[4];
    static const char *const POINTS[4] = {"batch", "epoch", "run", "report"};
    const char *env = getenv("LRSCOPE_CRASH_AT");
    if (!env || !*env) return;
    size_t n = strlen(point);
    if (strncmp(env, point, n) != 0 || env[n] != ':') return;
    int k = 0;
    while (k < 4 && strcmp(POINTS[k], point) != 0) k++;
    LR_ASSERT(k < 4);
    char *end;
    long at = strtol(env + n + 1, &end, 10);
    if (atomic_fetch_add(&counts[k], 1) + 1 == at) raise(strcmp(end, ":INT") == 0 ? SIGINT : SIGKILL);
}

typedef struct study_exec study_exec;

typedef struct {
    console *con;
    study_exec *x;
    const study_item *it;
    // TensorBoard and the live report (tfevents.h, report.h)
    char tb_dir[4200];      // where the run's event file goes
    double tb_start;        // the run's start, wall clock
} epoch_saver;

static void on_batch(void *ctx, int epoch, int b, int nb, double loss, double ips) {
    epoch_saver *sv = ctx;
    console_batch(sv->con, epoch, b, nb, loss, ips);
    crash_point("batch");
}

static void on_epoch(void *ctx, const run_result *r) {
    epoch_saver *sv = ctx;
    console_epoch(sv->con, r);
    // (the epoch's files are written by execute_run once the trainer returns)
}

// Shared by the runner threads of one study.
struct study_exec {
    const study *s;
    const dataset_info *info;
    const dataset *train, *test;
    run_result *results;       // (n_runs)
    const run_result **done;   // (n_runs) set once a run has ended
    scheduler *queue;          // the work of the data set in memory
    int jobs;                  // runs side by side
    char tb_dir[4200];         // the study's TensorBoard folder (tfevents_study_dir)
    report_live *live;         // the report while the study runs; NULL with --no-report
    mpi_study *mpi;            // ---- MPI: the ranks that train (transport_mpi.h); NULL in one process
    double start;              // study start, for the time left
    double summary_time;       // when summary.csv was last written
    pthread_mutex_t mu;        // guards done, status and summary.csv
    int status;
};

// After each epoch of a run that goes on: the scheduler may stop it (pruned).
static int after_epoch(void *ctx, const run_result *r) {
    epoch_saver *sv = ctx;
    return scheduler_epoch_done(sv->x->queue, sv->it, r);
}

study_plan study_plan_cores(const study *s, int cores) {
    int n = s->n_runs, threads = s->runs[0].threads;
    if (s->jobs > 0) { // forced: that many at a time
        int j = s->jobs < n ? s->jobs : n;
        return (study_plan){j, threads > 0 ? threads : (cores / j > 0 ? cores / j : 1)};
    }
    if (threads > 0 || cores < 2 || n < 2) return (study_plan){1, threads > 0 ? threads : cores};
    // Auto: one run per core side by side (no per-batch synchronisation at
    // all) when the runs fill the cores evenly; otherwise one run at a time
    // on all cores. Never a mix: every run's time is then measured under the
    // same conditions, and the time-cost table compares like with like.
    if (n % cores == 0) return (study_plan){cores, 1};
    return (study_plan){1, cores};
}

// The weights file describes what the model was trained on (weights.h).
static int save_weights(const char *path, const study_exec *x, const run_result *r, lr_err *e) {
    weights_meta meta;
    weights_meta_from(&meta, x->info, x->train->c, x->train->num_classes, x->train->class_names);
    int rc = weights_save(path, &r->model, r->params, &meta, e);
    weights_meta_free(&meta);
    return rc;
}

static int run_ended(run_status st) { return st != RUN_RUNNING; }

// Trains item it (run it.run, from its checkpoint if it has one, up to
// it.until_epoch) and writes its files; returns 0, or -1 when the study must
// stop. After each epoch: the checkpoint, then metrics.csv, then run.json
// ("running"). When the run ends: weights, metrics.csv, and run.json last,
// so a run.json that says the run ended is never ahead of the other files.
static int execute_run(study_exec *x, const study_item *it) {
    const study *s = x->s;
    const int i = it->run;
    const run_config *cfg = &s->runs[i];
    char *const *class_names = x->train->class_names;
    console con;
    console_init(&con, s->quiet, s->n_runs, cfg->epochs);
    con.study_start = x->start;
    if (x->jobs > 1) con.tty = 0; // several runs at once: plain lines, no bar
    epoch_saver sv = {.con = &con, .x = x, .it = it};
    char run_dir[4096];
    fs_join(run_dir, sizeof run_dir, s->out_dir, cfg->name);
    // ---- TensorBoard
    sv.tb_start = tfevents_wall_now();
    fs_join(sv.tb_dir, sizeof sv.tb_dir, x->tb_dir, cfg->name);
    lr_err e;
    if (fs_mkdirs(run_dir, &e) != 0) {
        fprintf(stderr, "lrscope: %s\n", e.msg);
        pthread_mutex_lock(&x->mu);
        x->status = EXIT_RUN_FAILED;
        pthread_mutex_unlock(&x->mu);
        scheduler_item_done(x->queue, it, NULL);
        return -1;
    }
    const run_trial *trial = s->run_trials ? &s->run_trials[i] : NULL; // a search's run: its trial and point
    console_begin_run(&con, i, cfg->name);
    train_hooks hooks = {.on_batch = on_batch, .on_epoch = on_epoch, .after_epoch = after_epoch, .ctx = &sv,
                         .stop = s->stop};
    run_result *r = &x->results[i];
    run_result_free(r); // an earlier item of the same run (a search's rung)
    memset(r, 0, sizeof *r);
    int failed = 0, write_failed = 0;
    lr_err we;
    // ---- MPI: a free rank trains the item; rank 0's trainer holds its state (transport_mpi.h)
    mpi_slot *slot = mpi_slot_claim(x->mpi);
    run_config tcfg = *cfg;
    mpi_slot_config(slot, &tcfg);
    trainer *t = trainer_create(&tcfg, x->train, x->test, x->info, &e);
    if (!t) {
        fprintf(stderr, "lrscope: run %s: %s\n", cfg->name, e.msg);
        failed = 1;
        memset(r, 0, sizeof *r);
        r->status = RUN_FAILED;
    } else {
        int restored = checkpoint_restore(run_dir, t, cfg, stderr);
        // A pruned run that a search continues (ASHA's promotion).
        if (trainer_result(t)->status == RUN_PRUNED && !it->prune) trainer_promote(t);
        if (restored > 0 && restored < it->until_epoch && !s->quiet)
            fprintf(stderr, "lrscope: run %s: continuing after epoch %d of %d\n", cfg->name, restored, cfg->epochs);
        run_status st = trainer_result(t)->status;
        while (!run_ended(st) && trainer_epochs_done(t) < it->until_epoch) {
            st = mpi_slot_epoch(slot, t, &hooks, it, cfg); // trainer_epoch, here or on another rank
            if (st == RUN_INTERRUPTED || st == RUN_FAILED) break; // the last checkpoint stays the run's state
            const run_result *cur = trainer_result(t);
            if (write_failed) continue;
            if (checkpoint_write(run_dir, t, cfg, &we) != 0) {
                write_failed = 1;
                continue;
            }
            crash_point("epoch");
            if (!run_ended(st) && (run_files_write_metrics(run_dir, cur, &we) != 0 ||
                                   run_files_write_json_trial(run_dir, cfg, cur, class_names, trial, &we) != 0))
                write_failed = 1;
            // ---- TensorBoard: the run's event file so far (tfevents.h)
            if (!write_failed && !run_ended(st) &&
                tfevents_run_write(sv.tb_dir, cfg, s->axes, s->n_axes, cur, sv.tb_start, &we) != 0)
                write_failed = 1;
            // ---- live report: report.html rebuilt (throttled) while the study runs
            lr_err le;
            if (x->live && report_live_epoch(x->live, &le) < 0)
                fprintf(stderr, "lrscope: the report during the study: %s (tried again at the end)\n", le.msg);
        }
        trainer_take_result(t, r);
        if (st == RUN_INTERRUPTED || st == RUN_FAILED) r->status = st; // ---- MPI: as the worker's trainer ended
        trainer_destroy(t);
        // A search's decision taken while the run waited at this epoch: it ends here.
        if (it->prune && r->status == RUN_RUNNING && r->epochs_done >= it->until_epoch) r->status = RUN_PRUNED;
    }
    mpi_slot_release(x->mpi, slot);
    console_end_run(&con, r);
    char path[4096];
    fs_join(path, sizeof path, run_dir, "weights.lrsw");
    // run.json last: once it says the run ended, a resume keeps every other
    // file as it is, so they must all be whole before it.
    if (write_failed || (r->params && save_weights(path, x, r, &we) != 0) ||
        tfevents_run_write(sv.tb_dir, cfg, s->axes, s->n_axes, r, sv.tb_start, &we) != 0 || // ---- TensorBoard
        run_files_write_metrics(run_dir, r, &we) != 0 ||
        run_files_write_json_trial(run_dir, cfg, r, class_names, trial, &we) != 0) {
        fprintf(stderr, "lrscope: run %s: %s\n", cfg->name, we.msg);
        failed = 1;
    }
    crash_point("run");
    // The weights are on disk: only the records stay in memory (for the table).
    free(r->params);
    r->params = NULL;
    free(r->test_cm);
    r->test_cm = NULL;
    const run_status st = r->status;
    pthread_mutex_lock(&x->mu);
    x->done[i] = r;
    // summary.csv is built from the folders read back; with many short runs,
    // at most every 2 s (and once at the end of the study).
    if (lr_now() - x->summary_time >= 2.0) {
        if (report_summary_write(s->out_dir, &we) != 0) {
            fprintf(stderr, "lrscope: summary.csv: %s\n", we.msg);
            failed = 1;
        }
        x->summary_time = lr_now();
    }
    if (failed || (st != RUN_FINISHED && st != RUN_PRUNED && st != RUN_RUNNING)) x->status = EXIT_RUN_FAILED;
    pthread_mutex_unlock(&x->mu);
    // Last: a search may hand run i's next item to another runner from here
    // on, which starts by clearing x->results[i]; r is not touched after it.
    scheduler_item_done(x->queue, it, r);
    return st == RUN_INTERRUPTED ? -1 : 0;
}

static void *runner(void *arg) {
    study_exec *x = arg;
    study_item it;
    while (scheduler_next(x->queue, &it)) {
        if (x->s->stop && *x->s->stop) { // Ctrl-C between runs: the rest never start
            pthread_mutex_lock(&x->mu);
            x->status = EXIT_RUN_FAILED;
            pthread_mutex_unlock(&x->mu);
            scheduler_halt(x->queue);
            break;
        }
        if (execute_run(x, &it) != 0) {
            scheduler_halt(x->queue); // stop handing out runs
            break;
        }
    }
    return NULL;
}

// ---------------------------------------------------------------- ownership

int study_lock(const char *dir, int *fd_out, lr_err *e) {
    char path[FS_PATH_MAX];
    if (fs_path(path, sizeof path, dir, STUDY_LOCK_FILE, e) != 0) return -1;
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return lr_fail(e, "%s: cannot open the study's lock file (%s)", path, strerror(errno));
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int err = errno;
        char owner[256] = "";
        ssize_t n = pread(fd, owner, sizeof owner - 1, 0);
        owner[n > 0 ? n : 0] = '\0';
        owner[strcspn(owner, "\n")] = '\0';
        close(fd);
        if (err == EWOULDBLOCK)
            return lr_fail(e, "%s: the study is in use by another lrscope (%s); wait for it to end or stop it, "
                              "then run `lrscope resume %s`", dir, owner[0] ? owner : "owner unknown", dir);
        return lr_fail(e, "%s: cannot lock the study (%s)", path, strerror(err));
    }
    char host[128] = "?", text[300];
    gethostname(host, sizeof host - 1);
    host[sizeof host - 1] = '\0';
    int len = snprintf(text, sizeof text, "pid %ld on %s\n", (long)getpid(), host);
    if (ftruncate(fd, 0) != 0 || pwrite(fd, text, (size_t)len, 0) != len) { /* the lock holds anyway */ }
    *fd_out = fd;
    return 0;
}

void study_unlock(int fd) {
    if (fd >= 0) close(fd); // releases the flock; the file stays (removing it would race a waiting owner)
}

// The length of NAME when base is an atomic write's temporary file,
// fs_begin's NAME.tmp.<pid>; 0 when it is not one.
static size_t tmp_stem(const char *base) {
    const char *t = strstr(base, ".tmp.");
    if (!t || t == base) return 0;
    const char *d = t + 5;
    if (!*d || strspn(d, "0123456789") != strlen(d)) return 0;
    return (size_t)(t - base);
}

// A temporary file whose writer is gone: removed when the study is taken over.
static int remove_stale_tmp(const char *path, const struct stat *st, int type, struct FTW *ftw) {
    (void)st;
    (void)ftw;
    const char *base = strrchr(path, '/');
    if (type == FTW_F && tmp_stem(base ? base + 1 : path) > 0) unlink(path);
    return 0;
}

// 1 if dir holds anything but what a study killed before it wrote
// study.json leaves: the lock file, and study.json's temporary file
// (removed once the folder's lock is taken).
static int holds_files(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return fs_dir_nonempty(dir);
    int any = 0;
    static const char STUDY_JSON[] = "study.json";
    for (struct dirent *de; !any && (de = readdir(d)) != NULL;) {
        const char *n = de->d_name;
        int tmp = tmp_stem(n) == sizeof STUDY_JSON - 1 && strncmp(n, STUDY_JSON, sizeof STUDY_JSON - 1) == 0;
        any = strcmp(n, ".") && strcmp(n, "..") && strcmp(n, STUDY_LOCK_FILE) && !tmp;
    }
    closedir(d);
    return any;
}

// What a resume finds in a run folder: the status run.json says, "" if none.
static void read_run_status(const char *out_dir, const run_config *cfg, char *status, size_t cap) {
    status[0] = '\0';
    char dir[FS_PATH_MAX], path[FS_PATH_MAX];
    lr_err e;
    if (fs_path(dir, sizeof dir, out_dir, cfg->name, &e) != 0 || fs_path(path, sizeof path, dir, "run.json", &e) != 0)
        return;
    json_error_t je;
    json_t *root = json_load_file(path, 0, &je);
    if (!root) return;
    json_t *v = json_object_get(root, "status");
    if (json_is_string(v)) snprintf(status, cap, "%s", json_string_value(v));
    json_decref(root);
}

static int same_data(const run_config *a, const run_config *b) {
    return strcmp(a->dataset, b->dataset) == 0 && strcmp(a->data_dir, b->data_dir) == 0;
}

// Settles a run's model against the data's shape, and refuses one that
// cannot fit in memory, or a batch size that leaves a batch norm one value
// per channel (n_train images; 0: not known yet, trainer_create checks it),
// before anything is written.
static int check_model(const study *s, const run_config *cfg, int c, int h, int w, int classes, long n_train,
                       lr_err *e) {
    model_desc probe;
    if (model_build(&probe, cfg->model, c, h, w, classes, e) != 0 || !kernels_select(cfg->isa, e) ||
        train_check_batches(&probe, cfg->batch_size, n_train, e) != 0)
        return -1;
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    size_t need = train_memory_bytes(&probe, cfg->batch_size, cfg->threads);
    if (s->jobs > 1) need *= (size_t)s->jobs;
    if (pages > 0 && page > 0 && need > (size_t)pages / 10 * 8 * (size_t)page)
        return lr_fail(e, "--model %s with --batch-size %d needs about %.1f GB to train, more than this machine's "
                          "%.1f GB of memory", cfg->model, cfg->batch_size, need / 1e9, (double)pages * page / 1e9);
    return 0;
}

// Trains the runs of one data set (x->order), side by side as planned.
// config_check_optim for one run; in a study of several runs the message
// says which condition.
static int check_optim(const run_config *r, int batches_per_epoch, int n_runs, lr_err *e) {
    if (config_check_optim(r, batches_per_epoch, e) == 0) return 0;
    if (n_runs > 1 && r->condition[0]) {
        char why[sizeof e->msg];
        snprintf(why, sizeof why, "%s", e->msg);
        lr_fail(e, "condition %s: %s", r->condition, why);
    }
    return -1;
}

static void execute_group(study_exec *x, int jobs) {
    if (jobs <= 1) {
        runner(x);
        return;
    }
    pthread_t *th = lr_calloc((size_t)jobs, sizeof *th);
    int started = 0;
    for (; started < jobs; started++)
        if (pthread_create(&th[started], NULL, runner, x) != 0) break;
    if (started == 0) runner(x); // no thread could start: run them here
    for (int j = 0; j < started; j++) pthread_join(th[j], NULL);
    free(th);
}

int study_execute(const study *s, lr_err *e) {
    for (int i = 0; i < s->n_runs; i++)
        if (!dataset_find(s->runs[i].dataset)) {
            lr_fail(e, "--dataset %s: unknown; expected one of %s", s->runs[i].dataset, dataset_names());
            return EXIT_BAD_INPUT;
        }
    // The first data set is loaded now (a bad one is bad input); the others
    // in their turn, so that one data set at a time is in memory.
    const run_config *first = &s->runs[0];
    // An --out too long for the names written inside it is refused before any work.
    if (fs_check_room(s->out_dir, FS_STUDY_NAME_MAX, "--out", e) != 0) return EXIT_BAD_INPUT;
    const dataset_info *info = dataset_find(first->dataset);
    dataset train, test;
    if (dataset_load(info, first->data_dir, &train, &test, e) != 0) return EXIT_BAD_INPUT;
    for (int i = 0; i < s->n_runs; i++) {
        const run_config *r = &s->runs[i];
        const dataset_info *ri = dataset_find(r->dataset);
        int rc = 0;
        if (same_data(r, first)) rc = check_model(s, r, train.c, train.h, train.w, train.num_classes, train.n, e);
        else if (ri->c && ri->num_classes) rc = check_model(s, r, ri->c, ri->h, ri->w, ri->num_classes, 0, e);
        if (rc != 0) {
            dataset_free(&train);
            dataset_free(&test);
            return EXIT_BAD_INPUT;
        }
    }
    // The optimiser and schedule knobs of every run, with the run's shape
    // (batches per epoch = ceil(train images / batch_size)), before anything
    // is trained or written. A run on another data set, not loaded yet, is
    // checked here as if its epochs were long, and again with its size when
    // its data set is loaded (below, before its group trains).
    for (int i = 0; i < s->n_runs; i++) {
        const run_config *r = &s->runs[i];
        int bpe = same_data(r, first) ? (train.n + r->batch_size - 1) / r->batch_size : 1 << 20;
        if (check_optim(r, bpe, s->n_runs, e) != 0) {
            dataset_free(&train);
            dataset_free(&test);
            return EXIT_BAD_INPUT;
        }
    }
    // ---- MPI: every rank has the same build, kernels and data, before anything is written
    if (mpi_study_check(s, e) != 0) {
        dataset_free(&train);
        dataset_free(&test);
        return EXIT_BAD_INPUT;
    }
    int lock_fd = -1;
    if (s->resume) {
        if (study_lock(s->out_dir, &lock_fd, e) != 0) {
            dataset_free(&train);
            dataset_free(&test);
            return EXIT_BAD_INPUT;
        }
        // Whoever wrote here before is gone: its half-written temporary files go.
        nftw(s->out_dir, remove_stale_tmp, 16, FTW_PHYS);
    } else {
        if (holds_files(s->out_dir)) {
            lr_fail(e, "--out %s: the folder already holds files; lrscope never overwrites a study. "
                       "Choose another folder or remove it, or continue it with `lrscope resume %s`",
                    s->out_dir, s->out_dir);
            dataset_free(&train);
            dataset_free(&test);
            return EXIT_BAD_INPUT;
        }
        // A search's study.json lists no run yet: its trials are added as they are suggested.
        json_t *search_json = s->search ? search_spec_to_json(s->search, s->search_base, s->search_seeds,
                                                              s->n_search_seeds) : NULL;
        study_header h = {s->name, s->axes, s->n_axes, s->lrfind, s->tensorboard, s->no_ensemble, search_json,
                          s->run_trials};
        char finder_csv[4200];
        fs_join(finder_csv, sizeof finder_csv, s->out_dir, "lrfind.csv");
        int locked = fs_mkdirs(s->out_dir, e) == 0 && study_lock(s->out_dir, &lock_fd, e) == 0;
        if (locked) nftw(s->out_dir, remove_stale_tmp, 16, FTW_PHYS); // a killed start's study.json.tmp.<pid>
        if (!locked ||
            run_files_write_study(s->out_dir, &h, s->runs, s->search ? 0 : s->n_runs, e) != 0 ||
            (s->lrfind_curve && lrfind_write_csv(finder_csv, s->lrfind_curve, e) != 0)) {
            char why[sizeof e->msg];
            snprintf(why, sizeof why, "%s", e->msg); // e->msg is both source and destination
            lr_fail(e, "--out %s: cannot write the study there (%s)", s->out_dir, why);
            json_decref(search_json);
            study_unlock(lock_fd);
            dataset_free(&train);
            dataset_free(&test);
            return EXIT_BAD_INPUT;
        }
        json_decref(search_json);
    }
    // What is left to do: every run to its last epoch; on a resume, the runs
    // whose run.json says they ended are kept as they are.
    char *kept = lr_calloc((size_t)s->n_runs, 1);
    int kept_status = EXIT_OK, n_kept = 0;
    for (int i = 0; s->resume && !s->search && i < s->n_runs; i++) { // a search replays (search_run.h)
        char st[32];
        read_run_status(s->out_dir, &s->runs[i], st, sizeof st);
        if (strcmp(st, "finished") && strcmp(st, "diverged") && strcmp(st, "pruned")) continue;
        kept[i] = 1;
        n_kept++;
        if (!strcmp(st, "diverged")) kept_status = EXIT_RUN_FAILED;
    }
    // ---- TensorBoard: the HParams experiment in the study's TensorBoard folder (tfevents.h)
    char tb_dir[4200];
    if (tfevents_study_dir(tb_dir, sizeof tb_dir, s->out_dir, s->tensorboard, s->name, e) != 0 ||
        // (a search's runs are made as it goes: its experiment is written from the base configuration)
        tfevents_study_write(tb_dir, s->axes, s->n_axes, s->search ? s->search_base : s->runs,
                             s->search ? 1 : s->n_runs, tfevents_wall_now(), e) != 0) {
        study_unlock(lock_fd);
        free(kept);
        dataset_free(&train);
        dataset_free(&test);
        return EXIT_BAD_INPUT;
    }

    if (s->resume && !s->quiet)
        fprintf(stderr, "lrscope: resuming %s: %d of %d run%s already ended, %d to train\n", s->out_dir, n_kept,
                s->n_runs, s->n_runs == 1 ? "" : "s", s->n_runs - n_kept);
    const int cores = train_default_threads();
    study_plan plan = study_plan_cores(s, cores);
    // ---- MPI: one run per rank at a time, each on --threads or the cores its rank is bound to
    mpi_study *mpi = mpi_study_open(s);
    if (mpi) plan = (study_plan){mpi_study_ranks(mpi), s->runs[0].threads};
    for (int i = 0; i < s->n_runs; i++) {
        s->runs[i].threads = plan.threads;
        // a loader thread only where a core is left over
        if (!strcmp(s->runs[i].prefetch, "auto") && plan.jobs * plan.threads >= cores)
            snprintf(s->runs[i].prefetch, sizeof s->runs[i].prefetch, "off");
    }
    if (!s->quiet) {
        model_desc probe;
        char desc[1024] = "?";
        lr_err pe;
        if (model_build(&probe, first->model, train.c, train.h, train.w, train.num_classes, &pe) == 0)
            model_describe(&probe, desc, sizeof desc);
        fprintf(stderr, "lrscope: %d run%s on %s (%d train, %d test images) -> %s\nmodel: %s\n",
                s->n_runs, s->n_runs == 1 ? "" : "s", info->name, train.n, test.n, s->out_dir, desc);
        if (mpi) // ---- MPI
            fprintf(stderr, "lrscope: %d MPI ranks, one run at a time each on %s\n", plan.jobs,
                    plan.threads > 0 ? "--threads" : "the cores it is bound to");
        else if (plan.jobs > 1)
            fprintf(stderr, "lrscope: %d runs side by side, %d thread%s each\n", plan.jobs, plan.threads,
                    plan.threads == 1 ? "" : "s");
    }
    study_exec x = {.s = s, .status = kept_status, .start = lr_now(), .jobs = plan.jobs, .mpi = mpi};
    // ---- TensorBoard and the live report
    snprintf(x.tb_dir, sizeof x.tb_dir, "%s", tb_dir);
    report_live live;
    report_live_init(&live, s->out_dir, x.start);
    x.live = s->no_report ? NULL : &live;
    x.results = lr_calloc((size_t)s->n_runs, sizeof *x.results);
    x.done = lr_calloc((size_t)s->n_runs, sizeof *x.done);
    char *grouped = lr_calloc((size_t)s->n_runs, 1);
    pthread_mutex_init(&x.mu, NULL);
    int loaded = 1, halted = 0; // train/test hold the first group's data
    search_run *sr = NULL;      // a search: its trials fill the queue as they go
    int n_made = s->n_runs, search_bad = 0;
    for (int g0 = 0; g0 < s->n_runs && !halted; g0++) {
        if (grouped[g0]) continue;
        const run_config *lead = &s->runs[g0];
        // The work on this data set, in study order: each run to its last epoch.
        x.queue = scheduler_create(s->n_runs);
        int n_group = 0;
        for (int i = g0; i < s->n_runs; i++)
            if (!grouped[i] && same_data(&s->runs[i], lead)) {
                grouped[i] = 1;
                n_group++;
                if (!kept[i] && !s->search) scheduler_push(x.queue, (study_item){i, s->runs[i].epochs, 0});
            }
        if (s->search) { // one group: the search's data set (its space has no data knob)
            lr_err ce;
            sr = search_run_create(s, &ce);
            if (!sr) {
                lr_fail(e, "%s", ce.msg);
                search_bad = 1;
                scheduler_destroy(x.queue);
                x.queue = NULL;
                break;
            }
            scheduler_set_callbacks(x.queue, NULL, search_run_item_done, sr);
            search_run_start(sr, x.queue);
        }
        int n_work = scheduler_pending(x.queue);
        x.info = dataset_find(lead->dataset);
        if (n_work == 0) { // a resume with nothing left on this data set
            if (loaded) {
                dataset_free(&train);
                dataset_free(&test);
                loaded = 0;
            }
            scheduler_destroy(x.queue);
            x.queue = NULL;
            continue;
        }
        if (!loaded) {
            lr_err le;
            if (dataset_load(x.info, lead->data_dir, &train, &test, &le) != 0) {
                fprintf(stderr, "lrscope: %s; its %d run%s did not run\n", le.msg, n_work, n_work == 1 ? "" : "s");
                x.status = EXIT_RUN_FAILED;
                scheduler_destroy(x.queue);
                x.queue = NULL;
                continue;
            }
            if (!s->quiet)
                fprintf(stderr, "lrscope: %s from %s (%d train, %d test images)\n", x.info->name, lead->data_dir,
                        train.n, test.n);
        }
        loaded = 0;
        // Runs on a data set loaded only now: their shape checked with its size.
        int refused = 0;
        for (int i = g0; i < s->n_runs && !refused; i++) {
            const run_config *r = &s->runs[i];
            lr_err ce;
            if (!same_data(r, lead)) continue;
            if (check_optim(r, (train.n + r->batch_size - 1) / r->batch_size, s->n_runs, &ce) != 0) {
                fprintf(stderr, "lrscope: %s; the %d run%s on %s did not run\n", ce.msg, n_group,
                        n_group == 1 ? "" : "s", x.info->name);
                refused = 1;
            }
        }
        if (refused) {
            x.status = EXIT_RUN_FAILED;
            dataset_free(&train);
            dataset_free(&test);
            scheduler_destroy(x.queue);
            x.queue = NULL;
            continue;
        }
        // The test set is transformed the same way at every evaluation. With the
        // AVX-512 transform, doing it again from the bytes (3 KB per image) beats
        // reading it back transformed (12 KB per image); without it, keep it.
        if (!augment_avx512_usable(lead->isa, test.w))
            loader_prepare_lanes(&test, x.info, (size_t)256 << 20); // too large: transformed every time
        x.train = &train;
        x.test = &test;
        execute_group(&x, s->search || plan.jobs < n_work ? plan.jobs : n_work);
        halted = scheduler_halted(x.queue);
        if (sr) {
            n_made = search_run_n_runs(sr);
            if (search_run_error(sr, e) != 0) search_bad = 1;
        }
        scheduler_destroy(x.queue);
        x.queue = NULL;
        dataset_free(&train);
        dataset_free(&test);
    }
    if (loaded) { // never used: a resume with nothing left to train
        dataset_free(&train);
        dataset_free(&test);
    }
    pthread_mutex_destroy(&x.mu);
    mpi_study_end(mpi, s->quiet); // ---- MPI
    report_live_free(&live); // ---- live report
    free(grouped);
    free(kept);
    search_run_destroy(sr);
    run_result *results = x.results;
    const run_result **done = x.done;
    int status = x.status;
    if (search_bad) { // a search that cannot go on (a resume whose trials differ): nothing more is written
        for (int i = 0; i < s->n_runs; i++) run_result_free(&results[i]);
        free(results);
        free(done);
        study_unlock(lock_fd);
        return EXIT_BAD_INPUT;
    }
    crash_point("report");
    lr_err se;
    if (report_summary_write(s->out_dir, &se) != 0) {
        fprintf(stderr, "lrscope: summary.csv: %s\n", se.msg);
        status = EXIT_RUN_FAILED;
    }
    if (s->no_report && report_conditions_write(s->out_dir, &se) != 0) { // else report_build writes them
        fprintf(stderr, "lrscope: conditions.csv: %s\n", se.msg);
        status = EXIT_RUN_FAILED;
    }
    // The runs kept from before a resume have no result in memory: their
    // rows are read back from their files, as the report reads them.
    run_result *kept_rows = lr_calloc((size_t)n_made + 1, sizeof *kept_rows);
    report_study rs_kept;
    lr_err ke;
    int have_kept = 0;
    for (int i = 0; i < n_made && !have_kept; i++) have_kept = done[i] == NULL;
    if (have_kept && report_study_read(s->out_dir, &rs_kept, &ke) == 0) {
        for (int i = 0; i < n_made; i++) {
            const report_run *rr = NULL;
            for (int k = 0; k < rs_kept.n_runs && !rr; k++)
                if (!done[i] && strcmp(rs_kept.runs[k].name, s->runs[i].name) == 0) rr = &rs_kept.runs[k];
            if (!rr || !rr->has_run_json) continue;
            run_status st = RUN_RUNNING;
            while (st <= RUN_PRUNED && strcmp(run_status_name(st), rr->status) != 0) st++;
            if (st > RUN_PRUNED) continue;
            run_result *k = &kept_rows[i];
            k->status = st;
            k->epochs_done = rr->n_epochs;
            k->seconds = rr->seconds;
            k->epochs = lr_calloc((size_t)rr->n_epochs + 1, sizeof *k->epochs);
            for (int j = 0; j < rr->n_epochs; j++) {
                const report_epoch *re = &rr->epochs[j];
                k->epochs[j] = (epoch_record){.epoch = re->epoch, .lr = re->lr, .train_loss = re->train_loss,
                                              .train_acc = re->train_acc, .train_f1 = re->train_f1,
                                              .has_test = !isnan(re->test_acc), .test_loss = re->test_loss,
                                              .test_acc = re->test_acc, .test_f1 = re->test_f1,
                                              .seconds = re->seconds};
            }
            done[i] = k;
        }
    }
    if (have_kept) report_study_free(&rs_kept);
    console_table(stdout, s->runs, done, n_made);
    for (int i = 0; i < n_made; i++) {
        if (done[i] != &kept_rows[i]) continue;
        done[i] = NULL;
        free(kept_rows[i].epochs);
    }
    free(kept_rows);
    fflush(stdout);
    // The study's ensembles (ensemble.csv), before the report that reads them.
    if (!s->no_ensemble && !s->search && !(s->stop && *s->stop) && study_ensemble_write(s->out_dir, s->quiet, &se) != 0) {
        fprintf(stderr, "lrscope: ensemble.csv: %s\n", se.msg);
        status = EXIT_RUN_FAILED;
    }
    if (!s->no_report) {
        lr_err re;
        if (report_build(s->out_dir, &re) != 0) {
            fprintf(stderr, "lrscope: report: %s (the results are kept; retry with `lrscope report %s`)\n",
                    re.msg, s->out_dir);
            status = EXIT_RUN_FAILED;
        } else if (!s->quiet) {
            fprintf(stderr, "lrscope: report written to %s/report.html\n", s->out_dir);
        }
    }
    if (!s->quiet) fprintf(stderr, "lrscope: results in %s\n", s->out_dir);
    for (int i = 0; i < s->n_runs; i++) run_result_free(&results[i]);
    free(results);
    free(done);
    study_unlock(lock_fd);
    return status;
}
