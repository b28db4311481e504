// transport_mpi.c: a study's runs across MPI ranks (transport_mpi.h).
//
// Messages (MPI_BYTE, the first byte says what follows):
//   rank 0 -> worker, TAG_WORK:  CHECK json | ITEM run until json_len json state | QUIT
//   rank 0 -> worker, TAG_DECIDE: stop (1 byte), the answer to an ASK
//   rank 0 -> worker, TAG_STOP:  Ctrl-C reached rank 0 and not the worker
//   worker -> rank 0, TAG_REPORT: CHECKED json | EPOCH status diverged record |
//                                 ASK | STATE bytes | ENDED status message
// Per epoch of a remote run: EPOCH (rank 0 calls on_epoch), ASK and DECIDE
// when the run goes on (rank 0 calls after_epoch: the scheduler's decision,
// e.g. ASHA), then STATE (trainer_save after the epoch, restored into rank
// 0's trainer of the run, from which it writes every file). Both sides stop
// an item by the same rule: the run ended or reached the item's epoch.
//
// Every MPI call is made under one mutex (MPI_THREAD_SERIALIZED): rank 0's
// runner threads each drive one rank. Waiting never blocks inside MPI (Open
// MPI's blocking calls spin a core): a request is tested, then the thread
// naps, so an idle rank costs nothing while the others train.
#include "transport_mpi.h"

#include "../model/kernels.h"
#include "../train/knobs.h"

#include <zlib.h>

uint32_t mpi_dataset_crc(const dataset *d) {
    int32_t dims[5] = {d->n, d->c, d->h, d->w, d->num_classes};
    uLong crc = crc32_z(0L, (const Bytef *)dims, sizeof dims);
    crc = crc32_z(crc, (const Bytef *)d->labels, (size_t)d->n * sizeof *d->labels);
    return (uint32_t)crc32_z(crc, d->pixels, (size_t)d->n * d->c * d->h * d->w);
}

#ifndef LRSCOPE_MPI

// Started by mpirun with several ranks but built without MPI: every rank
// would run the whole study into the same folder. Refused on every rank.
static int launched_ranks(void) {
    const char *n = getenv("OMPI_COMM_WORLD_SIZE");
    return n ? atoi(n) : 1;
}
#define NO_MPI_MSG "this lrscope was built without MPI (make MPI=0, or Open MPI missing); it cannot spread a " \
                   "study over mpirun's ranks: rebuild it with libopenmpi-dev installed, or run it without mpirun"
void mpi_start(int *argc, char ***argv, const char *commit) {
    (void)argc;
    (void)argv;
    (void)commit;
}
int mpi_rank(void) {
    const char *r = getenv("OMPI_COMM_WORLD_RANK");
    return r && launched_ranks() > 1 ? atoi(r) : 0;
}
int mpi_size(void) { return 1; }
int mpi_active(void) { return 0; }
int mpi_worker_main(void) {
    fprintf(stderr, "lrscope (rank %d): %s\n", mpi_rank(), NO_MPI_MSG);
    return EXIT_BAD_INPUT;
}
void mpi_stop(void) {}
int mpi_study_check(const study *s, lr_err *e) {
    (void)s;
    return launched_ranks() > 1 ? lr_fail(e, "%s", NO_MPI_MSG) : 0;
}
mpi_study *mpi_study_open(const study *s) {
    (void)s;
    return NULL;
}
int mpi_study_ranks(const mpi_study *m) {
    (void)m;
    return 1;
}
mpi_slot *mpi_slot_claim(mpi_study *m) {
    (void)m;
    return NULL;
}
void mpi_slot_release(mpi_study *m, mpi_slot *sl) {
    (void)m;
    (void)sl;
}
int mpi_slot_remote(const mpi_slot *sl) {
    (void)sl;
    return 0;
}
void mpi_slot_config(const mpi_slot *sl, run_config *cfg) {
    (void)sl;
    (void)cfg;
}
run_status mpi_slot_epoch(mpi_slot *sl, trainer *t, const train_hooks *hooks, const study_item *it,
                          const run_config *cfg) {
    (void)sl;
    (void)it;
    (void)cfg;
    return trainer_epoch(t, hooks);
}
void mpi_study_end(mpi_study *m, int quiet) {
    (void)m;
    (void)quiet;
}

#else

#include <mpi.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum { TAG_WORK = 11, TAG_DECIDE = 12, TAG_STOP = 13, TAG_REPORT = 14 };
enum { MSG_CHECK = 1, MSG_ITEM, MSG_QUIT, MSG_CHECKED, MSG_EPOCH, MSG_ASK, MSG_STATE, MSG_ENDED };

// The process's MPI state: MPI itself is per process.
static struct {
    int on;            // MPI_Init was called
    int rank, size;
    int quit_sent;     // rank 0 told the workers the study is over
    char commit[64];
    char host[MPI_MAX_PROCESSOR_NAME];
    int *threads;      // (size) each rank's default threads (the cores it is bound to)
    pthread_mutex_t mu;
    atomic_llong msgs, bytes, epochs; // rank 0's traffic with the workers; remote trial-epochs
} g_mpi = {.rank = 0, .size = 1, .mu = PTHREAD_MUTEX_INITIALIZER};

static volatile sig_atomic_t g_worker_stop; // a worker's Ctrl-C / SIGTERM (as cmd_run.c)
static void on_worker_signal(int sig) {
    (void)sig;
    g_worker_stop = 1;
}

// The cores this process may run on (what mpirun bound it to).
static int bound_cores(void) {
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0) return CPU_COUNT(&set);
    return train_default_threads();
}

// Test hooks: NAME=RANK:VALUE applies VALUE on that rank only (the tests
// fake a rank with other data or another version on one machine).
static const char *rank_hook(const char *name) {
    const char *v = getenv(name);
    if (!v || !*v) return NULL;
    char *end;
    long r = strtol(v, &end, 10);
    return *end == ':' && r == g_mpi.rank ? end + 1 : NULL;
}

static const char *my_version(void) {
    const char *v = rank_hook("LRSCOPE_TEST_MPI_VERSION");
    return v ? v : LRSCOPE_VERSION;
}

void mpi_start(int *argc, char ***argv, const char *commit) {
    snprintf(g_mpi.commit, sizeof g_mpi.commit, "%s", commit);
    // Only under mpirun (or another PMIx launcher): never a singleton init,
    // so a plain `lrscope run` is the program it always was.
    if (!getenv("OMPI_COMM_WORLD_SIZE") && !getenv("PMIX_RANK")) return;
    int provided = 0;
    if (MPI_Init_thread(argc, argv, MPI_THREAD_SERIALIZED, &provided) != MPI_SUCCESS) {
        fprintf(stderr, "lrscope: MPI_Init failed; running as one process\n");
        return;
    }
    g_mpi.on = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &g_mpi.rank);
    MPI_Comm_size(MPI_COMM_WORLD, &g_mpi.size);
    int len = 0;
    MPI_Get_processor_name(g_mpi.host, &len);
    if (provided < MPI_THREAD_SERIALIZED && g_mpi.size > 1) {
        if (g_mpi.rank == 0)
            fprintf(stderr, "lrscope: this MPI library gives no thread support (level %d); running as one "
                            "process on rank 0\n", provided);
        g_mpi.size = 1; // the workers quit at once (mpi_worker_main sees size 1)
    }
    g_mpi.threads = lr_calloc((size_t)g_mpi.size, sizeof *g_mpi.threads);
    if (g_mpi.rank == 0 && g_mpi.size == 1)
        fprintf(stderr, "lrscope: mpirun with 1 rank: running as one process (give -np 2 or more to spread "
                        "the runs over ranks)\n");
}

int mpi_rank(void) { return g_mpi.rank; }
int mpi_size(void) { return g_mpi.size; }
int mpi_active(void) { return g_mpi.on && g_mpi.size > 1; }

// ---------------------------------------------------------------- messages

static void nap(unsigned *us, unsigned cap) {
    struct timespec ts = {0, (long)*us * 1000};
    nanosleep(&ts, NULL);
    *us = *us * 2 > cap ? cap : *us * 2;
}

static void wait_request(MPI_Request *rq) {
    unsigned us = 20;
    for (int done = 0;;) {
        pthread_mutex_lock(&g_mpi.mu);
        MPI_Test(rq, &done, MPI_STATUS_IGNORE);
        pthread_mutex_unlock(&g_mpi.mu);
        if (done) return;
        nap(&us, 100); // a transfer in flight: keep it moving
    }
}

static void count(size_t n) {
    if (g_mpi.rank != 0) return;
    atomic_fetch_add(&g_mpi.msgs, 1);
    atomic_fetch_add(&g_mpi.bytes, (long long)n);
}

// One message of kind + the parts given (NULL-terminated pairs).
static void send_parts(int dest, int tag, int kind, const void *a, size_t na, const void *b, size_t nb,
                       const void *c, size_t nc) {
    size_t n = 1 + na + nb + nc;
    LR_ASSERT(n <= (size_t)INT32_MAX); // one state of ~2 GB (500M parameters with momentum) at most
    uint8_t *buf = lr_malloc(n);
    buf[0] = (uint8_t)kind;
    if (na) memcpy(buf + 1, a, na);
    if (nb) memcpy(buf + 1 + na, b, nb);
    if (nc) memcpy(buf + 1 + na + nb, c, nc);
    MPI_Request rq;
    pthread_mutex_lock(&g_mpi.mu);
    MPI_Isend(buf, (int)n, MPI_BYTE, dest, tag, MPI_COMM_WORLD, &rq);
    pthread_mutex_unlock(&g_mpi.mu);
    wait_request(&rq);
    free(buf);
    count(n);
}

static void send_kind(int dest, int tag, int kind) { send_parts(dest, tag, kind, NULL, 0, NULL, 0, NULL, 0); }

// 1 with the message (*buf owned, *len bytes) if one from src with tag is
// there; 0 otherwise.
static int try_recv(int src, int tag, uint8_t **buf, size_t *len) {
    int flag = 0;
    MPI_Message msg;
    MPI_Status st;
    MPI_Request rq;
    pthread_mutex_lock(&g_mpi.mu);
    MPI_Improbe(src, tag, MPI_COMM_WORLD, &flag, &msg, &st);
    int n = 0;
    if (flag) {
        MPI_Get_count(&st, MPI_BYTE, &n);
        *buf = lr_malloc(n > 0 ? (size_t)n : 1);
        MPI_Imrecv(*buf, n, MPI_BYTE, &msg, &rq);
    }
    pthread_mutex_unlock(&g_mpi.mu);
    if (!flag) return 0;
    wait_request(&rq);
    *len = (size_t)n;
    count(*len);
    return 1;
}

// Waits for the next message from src with tag; poll(ctx) between looks.
static uint8_t *recv_wait(int src, int tag, size_t *len, void (*poll)(void *), void *ctx) {
    uint8_t *buf = NULL;
    unsigned us = 20;
    while (!try_recv(src, tag, &buf, len)) {
        if (poll) poll(ctx);
        nap(&us, 1000);
    }
    return buf;
}

static char *json_text(json_t *j) {
    char *text = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17));
    LR_ASSERT(text != NULL);
    json_decref(j);
    return text;
}

// ---------------------------------------------------------------- the worker

typedef struct {
    const dataset_info *info;
    char dir[4096];
    dataset train, test;
    int loaded;
} worker_data;

static void data_free(worker_data *d) {
    if (!d->loaded) return;
    dataset_free(&d->train);
    dataset_free(&d->test);
    d->loaded = 0;
}

// The data set (name, dir) in memory, as this rank sees it.
static int data_get(worker_data *d, const char *name, const char *dir, lr_err *e) {
    const char *other = rank_hook("LRSCOPE_TEST_MPI_DATA");
    if (other) dir = other;
    const dataset_info *info = dataset_find(name);
    if (!info) return lr_fail(e, "--dataset %s: unknown to this lrscope", name);
    if (d->loaded && d->info == info && !strcmp(d->dir, dir)) return 0;
    data_free(d);
    if (dataset_load(info, dir, &d->train, &d->test, e) != 0) return -1;
    d->info = info;
    snprintf(d->dir, sizeof d->dir, "%s", dir);
    d->loaded = 1;
    return 0;
}

// What this rank has: host, version, kernels for each --isa asked, and each
// data set's sizes and CRC-32 (or why it could not be loaded).
static json_t *check_answer(json_t *ask, worker_data *d) {
    json_t *isa = json_array(), *data = json_array();
    json_t *asked = json_object_get(ask, "isa");
    for (size_t i = 0; i < json_array_size(asked); i++) {
        lr_err e;
        const kernel_table *kt = kernels_select(json_string_value(json_array_get(asked, i)), &e);
        json_array_append_new(isa, json_string(kt ? kt->isa : ""));
    }
    json_t *sets = json_object_get(ask, "data");
    for (size_t i = 0; i < json_array_size(sets); i++) {
        json_t *ds = json_array_get(sets, i);
        lr_err e;
        const char *dir = json_string_value(json_object_get(ds, "data_dir"));
        const char *hooked = rank_hook("LRSCOPE_TEST_MPI_DATA");
        if (data_get(d, json_string_value(json_object_get(ds, "dataset")), dir, &e) != 0) {
            json_array_append_new(data, json_pack("{s:s, s:s}", "error", e.msg, "dir", hooked ? hooked : dir));
            continue;
        }
        json_array_append_new(data, json_pack("{s:i, s:i, s:I, s:I, s:s}", "n_train", d->train.n, "n_test",
                                              d->test.n, "crc_train", (json_int_t)mpi_dataset_crc(&d->train),
                                              "crc_test", (json_int_t)mpi_dataset_crc(&d->test), "dir", d->dir));
    }
    return json_pack("{s:s, s:s, s:s, s:i, s:o, s:o}", "host", g_mpi.host, "version", my_version(), "commit",
                     g_mpi.commit, "threads", bound_cores(), "isa", isa, "data", data);
}

typedef struct {
    int slow_ms; // LRSCOPE_TEST_MPI_SLOW_MS: a nap after every batch (tests only)
} worker_ctx;

static void worker_on_batch(void *ctx, int epoch, int b, int nb, double loss, double ips) {
    worker_ctx *wc = ctx;
    (void)epoch;
    (void)b;
    (void)nb;
    (void)loss;
    (void)ips;
    if (wc->slow_ms > 0) { // test hook: a slow worker, still training when rank 0 is stopped
        struct timespec ts = {wc->slow_ms / 1000, (long)(wc->slow_ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
    }
    uint8_t *buf;
    size_t len;
    if (try_recv(0, TAG_STOP, &buf, &len)) {
        free(buf);
        g_worker_stop = 1;
    }
}

static void worker_on_epoch(void *ctx, const run_result *r) {
    (void)ctx;
    int32_t head[2] = {(int32_t)r->status, r->diverged_epoch};
    send_parts(0, TAG_REPORT, MSG_EPOCH, head, sizeof head, &r->epochs[r->epochs_done - 1], sizeof(epoch_record),
               NULL, 0);
}

static int worker_after_epoch(void *ctx, const run_result *r) {
    (void)ctx;
    (void)r;
    send_kind(0, TAG_REPORT, MSG_ASK);
    size_t len;
    uint8_t *buf = recv_wait(0, TAG_DECIDE, &len, NULL, NULL);
    int stop = len >= 2 && buf[1]; // [kind, stop]
    free(buf);
    return stop;
}

static void worker_ended(int status, const char *why) {
    int32_t st = status;
    send_parts(0, TAG_REPORT, MSG_ENDED, &st, sizeof st, why, strlen(why) + 1, NULL, 0);
}

// Test hook LRSCOPE_TEST_MPI_KILL=RANK:N: that rank dies (SIGKILL, as a
// crashed node) right after sending its N-th state.
static void worker_kill_point(int *states) {
    const char *v = rank_hook("LRSCOPE_TEST_MPI_KILL");
    if (v && ++*states == atoi(v)) raise(SIGKILL);
}

// One item: the run's configuration and state from rank 0; each epoch's
// record and state back.
static void worker_item(const uint8_t *p, size_t len, worker_data *d, int *states) {
    uint32_t run, until;
    uint64_t jlen;
    LR_ASSERT(len >= 16);
    memcpy(&run, p, 4);
    memcpy(&until, p + 4, 4);
    memcpy(&jlen, p + 8, 8);
    LR_ASSERT(16 + jlen <= len);
    const uint8_t *state = p + 16 + jlen;
    size_t state_len = len - 16 - jlen;
    run_config cfg;
    config_defaults(&cfg);
    lr_err e;
    json_error_t je;
    json_t *j = json_loadb((const char *)p + 16, jlen, 0, &je);
    char why[sizeof e.msg + 256];
    if (!j || knobs_from_json(j, &cfg, "the run sent by rank 0", &e) != 0) {
        json_decref(j);
        snprintf(why, sizeof why, "%s", j ? e.msg : je.text);
        worker_ended(RUN_FAILED, why);
        return;
    }
    json_decref(j);
    if (cfg.threads <= 0) cfg.threads = bound_cores();
    if (data_get(d, cfg.dataset, cfg.data_dir, &e) != 0) {
        worker_ended(RUN_FAILED, e.msg);
        return;
    }
    trainer *t = trainer_create(&cfg, &d->train, &d->test, d->info, &e);
    if (!t) {
        worker_ended(RUN_FAILED, e.msg);
        return;
    }
    if (state_len > 0 && trainer_restore(t, state, state_len, &e) != 0) {
        snprintf(why, sizeof why, "run %u: the state from rank 0 does not fit: %s", run, e.msg);
        trainer_destroy(t);
        worker_ended(RUN_FAILED, why);
        return;
    }
    const char *slow = getenv("LRSCOPE_TEST_MPI_SLOW_MS");
    worker_ctx wc = {.slow_ms = slow ? atoi(slow) : 0};
    train_hooks hooks = {.on_batch = worker_on_batch, .on_epoch = worker_on_epoch,
                         .after_epoch = worker_after_epoch, .ctx = &wc, .stop = &g_worker_stop};
    run_status st = trainer_result(t)->status;
    while (st == RUN_RUNNING && trainer_epochs_done(t) < (int)until) {
        st = trainer_epoch(t, &hooks);
        if (st == RUN_INTERRUPTED) {
            worker_ended(RUN_INTERRUPTED, "");
            break;
        }
        uint8_t *bytes;
        size_t n;
        trainer_save(t, &bytes, &n);
        send_parts(0, TAG_REPORT, MSG_STATE, bytes, n, NULL, 0, NULL, 0);
        free(bytes);
        worker_kill_point(states);
    }
    trainer_destroy(t);
}

int mpi_worker_main(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_worker_signal;
    sa.sa_flags = SA_RESETHAND;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    worker_data d = {0};
    int states = 0;
    for (;;) {
        size_t len;
        uint8_t *buf = recv_wait(0, TAG_WORK, &len, NULL, NULL);
        LR_ASSERT(len >= 1);
        if (buf[0] == MSG_QUIT) {
            free(buf);
            break;
        }
        if (buf[0] == MSG_CHECK) {
            json_error_t je;
            json_t *ask = json_loadb((const char *)buf + 1, len - 1, 0, &je);
            LR_ASSERT(ask != NULL);
            char *text = json_text(check_answer(ask, &d));
            json_decref(ask);
            send_parts(0, TAG_REPORT, MSG_CHECKED, text, strlen(text), NULL, 0, NULL, 0);
            free(text);
        } else {
            LR_ASSERT(buf[0] == MSG_ITEM);
            worker_item(buf + 1, len - 1, &d, &states);
        }
        free(buf);
    }
    // A STOP sent while this rank was between items is never read: drop it.
    uint8_t *left;
    size_t n;
    while (try_recv(0, TAG_STOP, &left, &n)) free(left);
    data_free(&d);
    return EXIT_OK;
}

void mpi_stop(void) {
    if (!g_mpi.on) return;
    if (g_mpi.rank == 0 && !g_mpi.quit_sent)
        for (int r = 1; r < g_mpi.size; r++) send_kind(r, TAG_WORK, MSG_QUIT);
    g_mpi.quit_sent = 1;
    free(g_mpi.threads);
    g_mpi.threads = NULL;
    MPI_Finalize();
    g_mpi.on = 0;
}

// ---------------------------------------------------------------- rank 0

struct mpi_slot {
    int rank;           // 0: rank 0 trains it here
    int busy;           // a claimed slot
    int item_open;      // the worker holds an item (ITEM sent, not ended)
    int stop_sent;      // STOP forwarded for the item
    epoch_record *recs; // (cap) the records so far + the one just reported
    int cap;
    const volatile sig_atomic_t *stop;
};

struct mpi_study {
    mpi_slot *slots; // (size)
    int n;
    pthread_mutex_t mu;
    pthread_cond_t cv;
};

// The whole check runs before any file is written: a rank that cannot take
// part stops the study here.
int mpi_study_check(const study *s, lr_err *e) {
    if (!mpi_active()) return 0;
    // What is asked: each distinct --isa and (data set, folder) of the study.
    json_t *isa = json_array(), *data = json_array();
    for (int i = 0; i < s->n_runs; i++) {
        const run_config *r = &s->runs[i];
        int seen = 0;
        for (int j = 0; j < i && !seen; j++) seen = !strcmp(s->runs[j].isa, r->isa);
        if (!seen) json_array_append_new(isa, json_string(r->isa));
        seen = 0;
        for (int j = 0; j < i && !seen; j++)
            seen = !strcmp(s->runs[j].dataset, r->dataset) && !strcmp(s->runs[j].data_dir, r->data_dir);
        if (!seen) json_array_append_new(data, json_pack("{s:s, s:s}", "dataset", r->dataset, "data_dir", r->data_dir));
    }
    json_t *ask = json_pack("{s:s, s:s, s:o, s:o}", "version", my_version(), "commit", g_mpi.commit, "isa", isa,
                            "data", data);
    char *text = json_text(json_incref(ask));
    for (int r = 1; r < g_mpi.size; r++) send_parts(r, TAG_WORK, MSG_CHECK, text, strlen(text), NULL, 0, NULL, 0);
    free(text);
    worker_data mine = {0};
    json_t *own = check_answer(ask, &mine); // rank 0 the same way
    data_free(&mine);
    json_t **answers = lr_calloc((size_t)g_mpi.size, sizeof *answers);
    answers[0] = own;
    for (int r = 1; r < g_mpi.size; r++) {
        size_t len;
        uint8_t *buf = recv_wait(r, TAG_REPORT, &len, NULL, NULL);
        LR_ASSERT(len >= 1 && buf[0] == MSG_CHECKED);
        json_error_t je;
        answers[r] = json_loadb((const char *)buf + 1, len - 1, 0, &je);
        LR_ASSERT(answers[r] != NULL);
        free(buf);
    }
    int rc = 0;
    // Rank 0 first: its own data missing is the plain message of one process.
    for (int r = 0; r < g_mpi.size && rc == 0; r++) {
        json_t *a = answers[r];
        const char *host = json_string_value(json_object_get(a, "host"));
        const char *ver = json_string_value(json_object_get(a, "version"));
        const char *commit = json_string_value(json_object_get(a, "commit"));
        g_mpi.threads[r] = (int)json_integer_value(json_object_get(a, "threads"));
        if (strcmp(ver, LRSCOPE_VERSION) || strcmp(commit, g_mpi.commit)) {
            rc = lr_fail(e, "MPI rank %d on %s runs lrscope %s (commit %s), rank 0 runs lrscope %s (commit %s): "
                            "every rank must run the same build; install the same lrscope on every host",
                         r, host, ver, commit, LRSCOPE_VERSION, g_mpi.commit);
            break;
        }
        for (size_t i = 0; i < json_array_size(isa) && rc == 0; i++) {
            const char *want = json_string_value(json_array_get(isa, i));
            const char *mine0 = json_string_value(json_array_get(json_object_get(answers[0], "isa"), i));
            const char *theirs = json_string_value(json_array_get(json_object_get(a, "isa"), i));
            // Different kernels give different bits: refused, with the common choice to give.
            if (!*theirs)
                rc = lr_fail(e, "--isa %s: MPI rank %d on %s cannot use these kernels; give --isa scalar "
                                "(or one every host has)", want, r, host);
            else if (strcmp(theirs, mine0))
                rc = lr_fail(e, "--isa %s: MPI rank %d on %s would use the %s kernels, rank 0 the %s kernels, and "
                                "the results would differ in their last bits; give --isa with kernels every host "
                                "has (e.g. --isa %s)", want, r, host, theirs, mine0,
                             strcmp(theirs, "scalar") && strcmp(mine0, "scalar") ? "avx2" : "scalar");
        }
        json_t *sets = json_object_get(a, "data"), *sets0 = json_object_get(answers[0], "data");
        for (size_t i = 0; i < json_array_size(sets) && rc == 0; i++) {
            json_t *ds = json_array_get(sets, i), *ds0 = json_array_get(sets0, i);
            const char *dir = json_string_value(json_object_get(ds, "dir"));
            const char *name = json_string_value(json_object_get(json_array_get(data, i), "dataset"));
            json_t *err = json_object_get(ds, "error");
            if (err)
                rc = lr_fail(e, "--data %s: MPI rank %d on %s cannot load %s: %s (every host needs the data set "
                                "at the same path)", dir, r, host, name, json_string_value(err));
            else if (r > 0 && (!json_equal(json_object_get(ds, "n_train"), json_object_get(ds0, "n_train")) ||
                               !json_equal(json_object_get(ds, "n_test"), json_object_get(ds0, "n_test")) ||
                               !json_equal(json_object_get(ds, "crc_train"), json_object_get(ds0, "crc_train")) ||
                               !json_equal(json_object_get(ds, "crc_test"), json_object_get(ds0, "crc_test"))))
                rc = lr_fail(e, "--data %s: MPI rank %d on %s has a different %s (%lld train, %lld test images, "
                                "CRC-32 %08llx/%08llx) from rank 0's (%lld, %lld, %08llx/%08llx); copy the same files "
                                "to every host", dir, r, host, name,
                             (long long)json_integer_value(json_object_get(ds, "n_train")),
                             (long long)json_integer_value(json_object_get(ds, "n_test")),
                             (long long)json_integer_value(json_object_get(ds, "crc_train")),
                             (long long)json_integer_value(json_object_get(ds, "crc_test")),
                             (long long)json_integer_value(json_object_get(ds0, "n_train")),
                             (long long)json_integer_value(json_object_get(ds0, "n_test")),
                             (long long)json_integer_value(json_object_get(ds0, "crc_train")),
                             (long long)json_integer_value(json_object_get(ds0, "crc_test")));
        }
    }
    for (int r = 0; r < g_mpi.size; r++) json_decref(answers[r]);
    free(answers);
    json_decref(ask);
    return rc;
}

mpi_study *mpi_study_open(const study *s) {
    if (!mpi_active()) return NULL;
    mpi_study *m = lr_calloc(1, sizeof *m);
    m->n = g_mpi.size;
    m->slots = lr_calloc((size_t)m->n, sizeof *m->slots);
    for (int r = 0; r < m->n; r++) {
        m->slots[r].rank = r;
        m->slots[r].stop = s->stop;
    }
    pthread_mutex_init(&m->mu, NULL);
    pthread_cond_init(&m->cv, NULL);
    atomic_store(&g_mpi.msgs, 0);
    atomic_store(&g_mpi.bytes, 0);
    atomic_store(&g_mpi.epochs, 0);
    return m;
}

int mpi_study_ranks(const mpi_study *m) { return m ? m->n : 1; }

// The workers first: rank 0 also writes every file.
mpi_slot *mpi_slot_claim(mpi_study *m) {
    if (!m) return NULL;
    pthread_mutex_lock(&m->mu);
    mpi_slot *got = NULL;
    while (!got) {
        for (int k = 1; k <= m->n && !got; k++)
            if (!m->slots[k % m->n].busy) got = &m->slots[k % m->n];
        if (!got) pthread_cond_wait(&m->cv, &m->mu);
    }
    got->busy = 1;
    got->stop_sent = 0;
    pthread_mutex_unlock(&m->mu);
    return got;
}

void mpi_slot_release(mpi_study *m, mpi_slot *sl) {
    if (!m || !sl) return;
    LR_ASSERT(!sl->item_open);
    pthread_mutex_lock(&m->mu);
    sl->busy = 0;
    pthread_cond_signal(&m->cv);
    pthread_mutex_unlock(&m->mu);
}

int mpi_slot_remote(const mpi_slot *sl) { return sl && sl->rank > 0; }

void mpi_slot_config(const mpi_slot *sl, run_config *cfg) {
    if (!sl) return;
    if (cfg->threads <= 0) cfg->threads = g_mpi.threads[sl->rank];
    if (sl->rank > 0) snprintf(cfg->prefetch, sizeof cfg->prefetch, "off"); // it only holds the state
}

// Ctrl-C that reached rank 0 only (kill -INT of its pid): passed on.
static void forward_stop(void *ctx) {
    mpi_slot *sl = ctx;
    if (sl->stop && *sl->stop && !sl->stop_sent) {
        send_kind(sl->rank, TAG_STOP, MSG_QUIT);
        sl->stop_sent = 1;
    }
}

static void send_item(mpi_slot *sl, const trainer *t, const study_item *it, const run_config *cfg) {
    char *text = json_text(knobs_to_json(cfg));
    uint8_t head[16];
    uint32_t run = (uint32_t)it->run, until = (uint32_t)it->until_epoch;
    uint64_t jlen = strlen(text);
    memcpy(head, &run, 4);
    memcpy(head + 4, &until, 4);
    memcpy(head + 8, &jlen, 8);
    uint8_t *state = NULL;
    size_t n = 0;
    if (trainer_epochs_done(t) > 0) trainer_save(t, &state, &n); // the run continues (resume, a promotion)
    send_parts(sl->rank, TAG_WORK, MSG_ITEM, head, sizeof head, text, jlen, state, n);
    free(state);
    free(text);
    sl->item_open = 1;
}

run_status mpi_slot_epoch(mpi_slot *sl, trainer *t, const train_hooks *hooks, const study_item *it,
                          const run_config *cfg) {
    if (!sl || sl->rank == 0) return trainer_epoch(t, hooks);
    if (!sl->item_open) send_item(sl, t, it, cfg);
    const run_result *cur = trainer_result(t);
    if (sl->cap < cfg->epochs) {
        sl->recs = lr_realloc(sl->recs, (size_t)cfg->epochs * sizeof *sl->recs);
        sl->cap = cfg->epochs;
    }
    int done = cur->epochs_done;
    if (done > 0) memcpy(sl->recs, cur->epochs, (size_t)done * sizeof *sl->recs);
    run_result view = *cur; // the records as the worker's trainer has them now
    view.epochs = sl->recs;
    for (;;) {
        size_t len;
        uint8_t *buf = recv_wait(sl->rank, TAG_REPORT, &len, forward_stop, sl);
        LR_ASSERT(len >= 1);
        int kind = buf[0];
        if (kind == MSG_EPOCH) {
            int32_t head[2];
            LR_ASSERT(len == 1 + sizeof head + sizeof(epoch_record) && done < cfg->epochs);
            memcpy(head, buf + 1, sizeof head);
            memcpy(&sl->recs[done], buf + 1 + sizeof head, sizeof(epoch_record));
            view.status = (run_status)head[0];
            view.diverged_epoch = head[1];
            view.epochs_done = done + 1;
            if (hooks->on_epoch) hooks->on_epoch(hooks->ctx, &view);
        } else if (kind == MSG_ASK) { // the run goes on: the scheduler decides
            uint8_t stop = hooks->after_epoch ? (uint8_t)(hooks->after_epoch(hooks->ctx, &view) != 0) : 0;
            send_parts(sl->rank, TAG_DECIDE, MSG_ASK, &stop, 1, NULL, 0, NULL, 0);
        } else if (kind == MSG_STATE) {
            lr_err e;
            // The same build and configuration on both sides (checked): a
            // state that does not fit is a bug.
            if (trainer_restore(t, buf + 1, len - 1, &e) != 0) {
                fprintf(stderr, "lrscope: MPI rank %d sent run %s a state rank 0 cannot restore: %s\n", sl->rank,
                        cfg->name, e.msg);
                LR_ASSERT(!"a state from a worker fits rank 0's trainer");
            }
            free(buf);
            atomic_fetch_add(&g_mpi.epochs, 1);
            run_status st = trainer_result(t)->status;
            if (st != RUN_RUNNING || trainer_epochs_done(t) >= it->until_epoch) sl->item_open = 0;
            return st;
        } else {
            LR_ASSERT(kind == MSG_ENDED && len >= 1 + 4 + 1);
            int32_t st;
            memcpy(&st, buf + 1, 4);
            const char *why = (const char *)buf + 5;
            if (why[0]) fprintf(stderr, "lrscope: run %s on MPI rank %d: %s\n", cfg->name, sl->rank, why);
            free(buf);
            sl->item_open = 0;
            return (run_status)st;
        }
        free(buf);
    }
}

void mpi_study_end(mpi_study *m, int quiet) {
    if (!m) return;
    long long msgs = atomic_load(&g_mpi.msgs), bytes = atomic_load(&g_mpi.bytes), ep = atomic_load(&g_mpi.epochs);
    if (!quiet || getenv("LRSCOPE_MPI_STATS"))
        fprintf(stderr, "lrscope: MPI: %d ranks; rank 0 handled %lld messages, %lld bytes for %lld trial-epochs "
                        "trained on other ranks (%.1f messages, %.0f bytes per trial-epoch)\n",
                m->n, msgs, bytes, ep, ep ? (double)msgs / ep : 0.0, ep ? (double)bytes / ep : 0.0);
    for (int r = 0; r < m->n; r++) free(m->slots[r].recs);
    free(m->slots);
    pthread_mutex_destroy(&m->mu);
    pthread_cond_destroy(&m->cv);
    free(m);
}

#endif
