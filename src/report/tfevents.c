// tfevents.c: TensorBoard event files (tfevents.h): CRC-32C, TFRecord
// framing, a small protobuf encoder and the Event, Summary and HParams
// messages lrscope writes.
#define _POSIX_C_SOURCE 200809L
#include "tfevents.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../train/schedule.h"
#include "../util/fsutil.h"

static int write_extend(const char *path, const uint8_t *p, size_t n, lr_err *e);

const char *const TFEVENTS_METRIC_TAGS[6] = {"train/loss", "train/acc", "train/f1",
                                              "test/loss",  "test/acc",  "test/f1"};

// ------------------------------------------------------------------ CRC-32C

static uint32_t crc_table[256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

static void crc_table_init(void) {
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0x82F63B78u & (0u - (c & 1u)));
        crc_table[i] = c;
    }
}

uint32_t tfevents_crc32c(const void *data, size_t n) {
    pthread_once(&crc_once, crc_table_init);
    const uint8_t *p = data;
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) c = crc_table[(c ^ p[i]) & 0xFF] ^ (c >> 8);
    return c ^ 0xFFFFFFFFu;
}

uint32_t tfevents_crc_mask(uint32_t crc) { return ((crc >> 15) | (crc << 17)) + 0xa282ead8u; }

// ------------------------------------------------------------------ bytes

void tfevents_buf_free(tfevents_buf *b) {
    free(b->p);
    memset(b, 0, sizeof *b);
}

static void put(tfevents_buf *b, const void *d, size_t n) {
    if (b->n + n > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->n + n) cap *= 2;
        b->p = lr_realloc(b->p, cap);
        b->cap = cap;
    }
    if (n) memcpy(b->p + b->n, d, n);
    b->n += n;
}

static void put_le(tfevents_buf *b, uint64_t v, int bytes) {
    uint8_t le[8];
    for (int i = 0; i < bytes; i++) le[i] = (uint8_t)(v >> (8 * i));
    put(b, le, (size_t)bytes);
}

void tfevents_put_record(tfevents_buf *b, const void *data, size_t n) {
    uint8_t len[8];
    for (int i = 0; i < 8; i++) len[i] = (uint8_t)((uint64_t)n >> (8 * i));
    put(b, len, 8);
    put_le(b, tfevents_crc_mask(tfevents_crc32c(len, 8)), 4);
    put(b, data, n);
    put_le(b, tfevents_crc_mask(tfevents_crc32c(data, n)), 4);
}

// ------------------------------------------------------------------ protobuf
// Wire types: 0 varint, 1 fixed64, 2 length-delimited, 5 fixed32. Fields at
// their proto3 default are left out, as protobuf does, except members of a
// oneof (Summary.Value.simple_value, google.protobuf.Value's kinds, the
// HParamsPluginData messages), which are always written.

static void pb_varint(tfevents_buf *b, uint64_t v) {
    uint8_t out[10];
    int n = 0;
    do {
        out[n] = (uint8_t)(v & 0x7F);
        v >>= 7;
        if (v) out[n] |= 0x80;
        n++;
    } while (v);
    put(b, out, (size_t)n);
}

static void pb_tag(tfevents_buf *b, int field, int wire) { pb_varint(b, (uint64_t)field << 3 | (uint64_t)wire); }

static void pb_double(tfevents_buf *b, int field, double v) {
    uint64_t u;
    memcpy(&u, &v, 8);
    pb_tag(b, field, 1);
    put_le(b, u, 8);
}

static void pb_float(tfevents_buf *b, int field, float v) {
    uint32_t u;
    memcpy(&u, &v, 4);
    pb_tag(b, field, 5);
    put_le(b, u, 4);
}

static void pb_bytes(tfevents_buf *b, int field, const void *d, size_t n) {
    pb_tag(b, field, 2);
    pb_varint(b, n);
    put(b, d, n);
}

static void pb_string(tfevents_buf *b, int field, const char *s) { pb_bytes(b, field, s, strlen(s)); }

// A sub-message: its bytes in m, appended to b as field `field`; m emptied.
static void pb_message(tfevents_buf *b, int field, tfevents_buf *m) {
    pb_bytes(b, field, m->p, m->n);
    m->n = 0;
}

// Event { wall_time = 1 (double), step = 2 (int64), file_version = 3, summary = 5 }
// framed as a record and appended to out.
static void event_put(tfevents_buf *out, double wall_time, int64_t step, const tfevents_buf *summary,
                      const char *file_version) {
    tfevents_buf ev = {0};
    if (wall_time != 0) pb_double(&ev, 1, wall_time);
    if (step != 0) {
        pb_tag(&ev, 2, 0);
        pb_varint(&ev, (uint64_t)step);
    }
    if (file_version) pb_string(&ev, 3, file_version);
    if (summary) pb_bytes(&ev, 5, summary->p, summary->n);
    tfevents_put_record(out, ev.p, ev.n);
    tfevents_buf_free(&ev);
}

void tfevents_put_file_version(tfevents_buf *b, double wall_time) {
    event_put(b, wall_time, 0, NULL, "brain.Event:2");
}

// Summary { value = 1: Value { tag = 1, simple_value = 2 (float) } }
void tfevents_put_scalar(tfevents_buf *b, double wall_time, int64_t step, const char *tag, float value) {
    tfevents_buf v = {0}, s = {0};
    pb_string(&v, 1, tag);
    pb_float(&v, 2, value);
    pb_message(&s, 1, &v);
    event_put(b, wall_time, step, &s, NULL);
    tfevents_buf_free(&v);
    tfevents_buf_free(&s);
}

// ------------------------------------------------------------------ HParams
// As torch.utils.tensorboard.summary.hparams writes them: a Summary.Value
// with the tag and SummaryMetadata { plugin_data = 1: PluginData {
// plugin_name = 1 "hparams", content = 2: HParamsPluginData } } and no value.
// HParamsPluginData { version = 1 (0, left out), experiment = 2,
// session_start_info = 3, session_end_info = 4 }.

enum { HP_EXPERIMENT = 2, HP_SESSION_START = 3, HP_SESSION_END = 4 };
enum { HP_TYPE_STRING = 1, HP_TYPE_BOOL = 2, HP_TYPE_FLOAT64 = 3 };        // api.proto DataType
enum { HP_STATUS_UNKNOWN = 0, HP_STATUS_SUCCESS = 1, HP_STATUS_FAILURE = 2 }; // api.proto Status
enum { HP_DATASET_TRAINING = 1, HP_DATASET_VALIDATION = 2 };               // api.proto DatasetType

static void hparams_event_put(tfevents_buf *out, double wall_time, const char *tag, int which,
                              const tfevents_buf *data) {
    tfevents_buf plugin_data = {0}, pd = {0}, md = {0}, v = {0}, s = {0};
    pb_bytes(&plugin_data, which, data->p, data->n); // version 0 is the default: not written
    pb_string(&pd, 1, "hparams");
    pb_bytes(&pd, 2, plugin_data.p, plugin_data.n);
    pb_message(&md, 1, &pd);
    pb_string(&v, 1, tag);
    pb_message(&v, 9, &md);
    pb_message(&s, 1, &v);
    event_put(out, wall_time, 0, &s, NULL);
    tfevents_buf_free(&plugin_data);
    tfevents_buf_free(&pd);
    tfevents_buf_free(&md);
    tfevents_buf_free(&v);
    tfevents_buf_free(&s);
}

// The type of a knob's values as an hparam.
static int hp_type(const knob *k) {
    switch (k->type) {
    case KNOB_DOUBLE: case KNOB_INT: case KNOB_UINT64: return HP_TYPE_FLOAT64;
    case KNOB_BOOL: return HP_TYPE_BOOL;
    default: return HP_TYPE_STRING;
    }
}

// google.protobuf.Value { number_value = 2 (double), string_value = 3, bool_value = 4 }
// holding knob k's value in c (k NULL: the seed).
static void hp_value(tfevents_buf *b, const knob *k, const run_config *c) {
    if (!k) {
        pb_double(b, 2, (double)c->seed);
        return;
    }
    char text[4200];
    knob_format(k, c, text, sizeof text, KNOB_TEXT_EXACT);
    switch (hp_type(k)) {
    case HP_TYPE_FLOAT64: pb_double(b, 2, strtod(text, NULL)); break;
    case HP_TYPE_BOOL:
        pb_tag(b, 4, 0);
        pb_varint(b, !strcmp(text, "true"));
        break;
    default: pb_string(b, 3, text); break;
    }
}

// The study's hparams: its axes, and the seed unless an axis is the seed.
// Returns the count; keys[i] NULL stands for the seed.
static int hp_keys(const knob *const *axes, int n_axes, const knob **keys) {
    int n = 0, seed_axis = 0;
    for (int i = 0; i < n_axes; i++) {
        keys[n++] = axes[i];
        seed_axis |= !strcmp(axes[i]->name, "seed");
    }
    if (!seed_axis) keys[n++] = NULL;
    return n;
}

int tfevents_study_write(const char *dir, const knob *const *axes, int n_axes, const run_config *runs, int n_runs,
                         double wall_time, lr_err *e) {
    const knob *keys[64];
    LR_ASSERT(n_axes < 63);
    int n_keys = hp_keys(axes, n_axes, keys);
    // Experiment { hparam_infos = 4: HParamInfo { name = 1, type = 4,
    //   domain_discrete = 5: ListValue { values = 1 } }, metric_infos = 5:
    //   MetricInfo { name = 1: MetricName { tag = 2 }, dataset_type = 5 } }
    tfevents_buf exp = {0}, info = {0}, list = {0}, val = {0}, tmp = {0};
    for (int k = 0; k < n_keys; k++) {
        pb_string(&info, 1, keys[k] ? keys[k]->name : "seed");
        pb_tag(&info, 4, 0);
        pb_varint(&info, keys[k] ? (uint64_t)hp_type(keys[k]) : HP_TYPE_FLOAT64);
        // The values the runs take, each once, in study order.
        for (int i = 0; i < n_runs; i++) {
            int seen = 0;
            for (int j = 0; j < i && !seen; j++)
                seen = keys[k] ? knob_equal(keys[k], &runs[i], &runs[j]) : runs[i].seed == runs[j].seed;
            if (seen) continue;
            hp_value(&val, keys[k], &runs[i]);
            pb_message(&list, 1, &val);
        }
        pb_message(&info, 5, &list);
        pb_message(&exp, 4, &info);
    }
    for (int m = 0; m < 6; m++) {
        pb_string(&tmp, 2, TFEVENTS_METRIC_TAGS[m]);
        pb_message(&info, 1, &tmp);
        pb_tag(&info, 5, 0);
        pb_varint(&info, m < 3 ? HP_DATASET_TRAINING : HP_DATASET_VALIDATION);
        pb_message(&exp, 5, &info);
    }
    tfevents_buf out = {0};
    tfevents_put_file_version(&out, wall_time);
    hparams_event_put(&out, wall_time, "_hparams_/experiment", HP_EXPERIMENT, &exp);
    char path[4400];
    tfevents_file_path(path, sizeof path, dir, "");
    int rc = fs_mkdirs(dir, e) == 0 && write_extend(path, (const uint8_t *)out.p, out.n, e) == 0 ? 0 : -1;
    tfevents_buf_free(&exp);
    tfevents_buf_free(&info);
    tfevents_buf_free(&list);
    tfevents_buf_free(&val);
    tfevents_buf_free(&tmp);
    tfevents_buf_free(&out);
    return rc;
}

// The session's hparams: SessionStartInfo { hparams = 1: map entry { key = 1,
// value = 2 }, start_time_secs = 5 }.
static void session_start_put(tfevents_buf *out, const run_config *cfg, const knob *const *axes, int n_axes,
                              double start_wall) {
    const knob *keys[64];
    LR_ASSERT(n_axes < 63);
    int n_keys = hp_keys(axes, n_axes, keys);
    tfevents_buf ssi = {0}, entry = {0}, val = {0};
    for (int k = 0; k < n_keys; k++) {
        pb_string(&entry, 1, keys[k] ? keys[k]->name : "seed");
        hp_value(&val, keys[k], cfg);
        pb_message(&entry, 2, &val);
        pb_message(&ssi, 1, &entry);
    }
    if (start_wall != 0) pb_double(&ssi, 5, start_wall);
    hparams_event_put(out, start_wall, "_hparams_/session_start_info", HP_SESSION_START, &ssi);
    tfevents_buf_free(&ssi);
    tfevents_buf_free(&entry);
    tfevents_buf_free(&val);
}

// TensorBoard keeps an event file open and reads what is appended to it: a
// file replaced by rename would leave a live TensorBoard reading the old one.
// Each rebuild of a run's file extends the previous bytes (same records, same
// wall times), so when the file on disk is exactly a prefix of the new bytes
// only the tail is appended, then fsync'd; a reader sees whole records or a
// torn last record, which TFRecord's length CRC lets it detect and wait on.
// Anything else (no file yet, a resumed run with a new start time, a file that
// differs) is replaced atomically as every other file is.
static int write_extend(const char *path, const uint8_t *p, size_t n, lr_err *e) {
    int fd = open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return fs_write_atomic(path, p, n, e);
    struct stat st;
    uint8_t *old = NULL;
    int same = 0;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (uint64_t)st.st_size <= n) {
        size_t len = (size_t)st.st_size, got = 0;
        old = lr_malloc(len + 1);
        while (got < len) {
            ssize_t k = pread(fd, old + got, len - got, (off_t)got);
            if (k <= 0) break;
            got += (size_t)k;
        }
        same = got == len && memcmp(old, p, len) == 0;
        if (same) {
            size_t put = len;
            while (put < n) {
                ssize_t k = pwrite(fd, p + put, n - put, (off_t)put);
                if (k <= 0) break;
                put += (size_t)k;
            }
            if (put < n || fsync(fd) != 0) {
                int err = errno;
                int tr = ftruncate(fd, (off_t)len); // else a torn tail, which a reader skips
                (void)tr;
                free(old);
                close(fd);
                return lr_fail(e, "%s: cannot append to the event file: %s", path, strerror(err ? err : EIO));
            }
        }
    }
    free(old);
    close(fd);
    return same ? 0 : fs_write_atomic(path, p, n, e);
}

int tfevents_run_write(const char *dir, const run_config *cfg, const knob *const *axes, int n_axes,
                       const run_result *r, double start_wall, lr_err *e) {
    tfevents_buf out = {0};
    tfevents_put_file_version(&out, start_wall);
    session_start_put(&out, cfg, axes, n_axes, start_wall);
    // The rate of every step so far, as the schedule gave it (plateau: the
    // recorded rate of each epoch).
    long steps_per_epoch = r->steps_per_epoch, n_steps = steps_per_epoch * r->epochs_done;
    double *lr = NULL, *epoch_lr = NULL;
    if (n_steps > 0) {
        lr = lr_malloc((size_t)n_steps * sizeof *lr);
        epoch_lr = lr_malloc((size_t)r->epochs_done * sizeof *epoch_lr);
        for (int i = 0; i < r->epochs_done; i++) epoch_lr[i] = r->epochs[i].lr;
        if (schedule_replay(cfg, (int)steps_per_epoch, epoch_lr, lr, n_steps, e) != 0) {
            free(lr);
            free(epoch_lr);
            tfevents_buf_free(&out);
            return -1;
        }
    }
    double t = start_wall;
    for (int i = 0; i < r->epochs_done; i++) {
        const epoch_record *ep = &r->epochs[i];
        for (long s = 0; s < steps_per_epoch; s++) {
            long step = (long)i * steps_per_epoch + s;
            tfevents_put_scalar(&out, t + ep->seconds * (double)(s + 1) / (double)steps_per_epoch, step,
                                TFEVENTS_TAG_LR, (float)lr[step]);
        }
        t += ep->seconds;
        const double v[6] = {ep->train_loss, ep->train_acc, ep->train_f1, ep->test_loss, ep->test_acc, ep->test_f1};
        for (int m = 0; m < (ep->has_test ? 6 : 3); m++)
            tfevents_put_scalar(&out, t, ep->epoch, TFEVENTS_METRIC_TAGS[m], (float)v[m]);
    }
    free(lr);
    free(epoch_lr);
    if (r->status != RUN_RUNNING && r->status != RUN_INTERRUPTED) {
        // SessionEndInfo { status = 1, end_time_secs = 2 }. An interrupted run
        // gets none: TensorBoard fixes a session's status at its first end record.
        tfevents_buf sei = {0};
        pb_tag(&sei, 1, 0);
        pb_varint(&sei, r->status == RUN_FINISHED ? HP_STATUS_SUCCESS : HP_STATUS_FAILURE);
        if (t != 0) pb_double(&sei, 2, t);
        hparams_event_put(&out, t, "_hparams_/session_end_info", HP_SESSION_END, &sei);
        tfevents_buf_free(&sei);
    }
    char path[4400];
    tfevents_file_path(path, sizeof path, dir, cfg->name);
    int rc = fs_mkdirs(dir, e) == 0 && write_extend(path, (const uint8_t *)out.p, out.n, e) == 0 ? 0 : -1;
    tfevents_buf_free(&out);
    return rc;
}

// ------------------------------------------------------------------ places

double tfevents_wall_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void tfevents_file_path(char *out, size_t cap, const char *dir, const char *rel) {
    uint32_t h = 2166136261u; // FNV-1a
    for (const char *p = rel; *p; p++) h = (h ^ (uint8_t)*p) * 16777619u;
    char name[TFEVENTS_NAME_LEN + 8];
    snprintf(name, sizeof name, "%s.%08x", TFEVENTS_PREFIX, (unsigned)h);
    fs_join(out, cap, dir, name);
}

int tfevents_study_dir(char *out, size_t cap, const char *study_dir, const char *tb_root, const char *study_name,
                       lr_err *e) {
    if (!tb_root || !tb_root[0]) {
        if (strlen(study_dir) >= cap) return lr_fail(e, "--out %.200s: too long", study_dir);
        snprintf(out, cap, "%s", study_dir);
        return 0;
    }
    char name[256];
    const char *base = study_name;
    if (!base || !base[0]) {
        size_t len = strlen(study_dir);
        while (len > 1 && study_dir[len - 1] == '/') len--;
        size_t start = len;
        while (start > 0 && study_dir[start - 1] != '/') start--;
        snprintf(name, sizeof name, "%.*s", (int)(len - start), study_dir + start);
    } else {
        snprintf(name, sizeof name, "%s", base);
    }
    for (char *p = name; *p; p++)
        if (*p == '/') *p = '_';
    if (!strcmp(name, ".") || !strcmp(name, "..") || !name[0]) snprintf(name, sizeof name, "study");
    if (fs_path(out, cap, tb_root, name, e) != 0) return lr_fail(e, "--tensorboard %.200s: too long", tb_root);
    return 0;
}
