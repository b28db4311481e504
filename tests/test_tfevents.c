// test_tfevents.c: the TensorBoard event files (tfevents.h) and the report
// while a study runs. The writer is checked against fixed byte vectors
// (computed apart from it, with a bitwise CRC), against a reader written
// here (its own bitwise CRC-32C over every record, its own protobuf walk),
// and against `protoc --decode_raw`; then end to end through a tiny study,
// with and without --tensorboard.
#include "cli_fixture.h"
#include "study_fixture.h"

#include "../src/report/tfevents.h"
#include "../src/train/schedule.h"

#include <dirent.h>

// ---------------------------------------------------------------- a second reader

// CRC-32C bit by bit (no table), so a wrong table in the writer shows.
static uint32_t crc_bitwise(const uint8_t *p, size_t n) {
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
    }
    return ~c;
}
static uint32_t mask_ref(uint32_t c) { return ((c >> 15) | (c << 17)) + 0xa282ead8u; }
static uint64_t le(const uint8_t *p, int n) {
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--) v = v << 8 | p[i];
    return v;
}

typedef struct {
    double wall;
    int64_t step;
    char file_version[32];
    char tag[64];
    int has_value;
    float value;
    char plugin[32];
    int hp_kind;          // HParamsPluginData's field: 2 experiment, 3 session start, 4 session end
    int end_status;       // SessionEndInfo.status
    int n_hparams;        // SessionStartInfo.hparams entries
    char hparam_names[8][32];
    double hparam_num[8];
} ev_t;

// One protobuf field from [*p, end): its number, wire type and value
// (varint / fixed in *v, length-delimited as *sub, *sub_n).
static void pb_field(const uint8_t **p, const uint8_t *end, int *field, int *wire, uint64_t *v,
                     const uint8_t **sub, size_t *sub_n) {
    uint64_t key = 0, x = 0;
    for (int s = 0;; s += 7) {
        assert_true(*p < end && s < 64);
        uint8_t b = *(*p)++;
        key |= (uint64_t)(b & 0x7F) << s;
        if (!(b & 0x80)) break;
    }
    *field = (int)(key >> 3);
    *wire = (int)(key & 7);
    switch (*wire) {
    case 0:
    case 2:
        for (int s = 0;; s += 7) {
            assert_true(*p < end && s < 64);
            uint8_t b = *(*p)++;
            x |= (uint64_t)(b & 0x7F) << s;
            if (!(b & 0x80)) break;
        }
        if (*wire == 0) { *v = x; break; }
        assert_true(x <= (uint64_t)(end - *p));
        *sub = *p;
        *sub_n = (size_t)x;
        *p += x;
        break;
    case 1: assert_true(end - *p >= 8); *v = le(*p, 8); *p += 8; break;
    case 5: assert_true(end - *p >= 4); *v = le(*p, 4); *p += 4; break;
    default: fail_msg("wire type %d", *wire);
    }
}

static void copy_str(char *out, size_t cap, const uint8_t *s, size_t n) {
    assert_true(n < cap);
    memcpy(out, s, n);
    out[n] = '\0';
}

static void decode_hparams(ev_t *ev, const uint8_t *p, size_t n) {
    const uint8_t *end = p + n, *sub = NULL;
    size_t sn = 0;
    int f, w;
    uint64_t v;
    while (p < end) {
        pb_field(&p, end, &f, &w, &v, &sub, &sn);
        if (f == 1) assert_int_equal(v, 0); // version 0, as torch writes it (normally left out)
        if (f < 2 || f > 4) continue;
        ev->hp_kind = f;
        const uint8_t *q = sub, *qe = sub + sn, *s2 = NULL;
        size_t n2 = 0;
        while (q < qe) {
            pb_field(&q, qe, &f, &w, &v, &s2, &n2);
            if (ev->hp_kind == 4 && f == 1) ev->end_status = (int)v;
            if (ev->hp_kind == 3 && f == 1) { // map entry {key = 1, value = 2: Value}
                assert_true(ev->n_hparams < 8);
                const uint8_t *r = s2, *re = s2 + n2, *s3 = NULL;
                size_t n3 = 0;
                while (r < re) {
                    pb_field(&r, re, &f, &w, &v, &s3, &n3);
                    if (f == 1) copy_str(ev->hparam_names[ev->n_hparams], 32, s3, n3);
                    if (f == 2) {
                        const uint8_t *t = s3, *te = s3 + n3, *s4;
                        size_t n4;
                        pb_field(&t, te, &f, &w, &v, &s4, &n4);
                        if (f == 2) memcpy(&ev->hparam_num[ev->n_hparams], &v, 8);
                    }
                }
                ev->n_hparams++;
            }
        }
    }
}

static void decode_event(ev_t *ev, const uint8_t *p, size_t n) {
    memset(ev, 0, sizeof *ev);
    const uint8_t *end = p + n, *sub = NULL;
    size_t sn = 0;
    int f, w;
    uint64_t v;
    while (p < end) {
        pb_field(&p, end, &f, &w, &v, &sub, &sn);
        if (f == 1) { assert_int_equal(w, 1); memcpy(&ev->wall, &v, 8); }
        if (f == 2) { assert_int_equal(w, 0); ev->step = (int64_t)v; }
        if (f == 3) copy_str(ev->file_version, sizeof ev->file_version, sub, sn);
        if (f != 5) continue;
        const uint8_t *q = sub, *qe = sub + sn, *val, *s2;
        size_t vn, n2;
        pb_field(&q, qe, &f, &w, &v, &val, &vn); // Summary.value (one per event)
        assert_int_equal(f, 1);
        assert_true(q == qe);
        for (const uint8_t *r = val, *re = val + vn; r < re;) {
            pb_field(&r, re, &f, &w, &v, &s2, &n2);
            if (f == 1) copy_str(ev->tag, sizeof ev->tag, s2, n2);
            if (f == 2) {
                assert_int_equal(w, 5);
                uint32_t u = (uint32_t)v;
                memcpy(&ev->value, &u, 4);
                ev->has_value = 1;
            }
            if (f == 9) { // SummaryMetadata.plugin_data {plugin_name = 1, content = 2}
                const uint8_t *m = s2, *me = s2 + n2, *pd, *s3;
                size_t pn, n3;
                pb_field(&m, me, &f, &w, &v, &pd, &pn);
                assert_int_equal(f, 1);
                for (const uint8_t *t = pd, *te = pd + pn; t < te;) {
                    pb_field(&t, te, &f, &w, &v, &s3, &n3);
                    if (f == 1) copy_str(ev->plugin, sizeof ev->plugin, s3, n3);
                    if (f == 2) decode_hparams(ev, s3, n3);
                }
            }
        }
    }
}

// Reads a whole event file: every record's framing and both CRCs checked
// (bitwise), the payloads decoded into *evs; returns the count. *payloads
// (if given) receives each payload's offset and length.
static int read_events(const char *path, ev_t **evs, size_t (*payloads)[2], int cap_payloads) {
    size_t len;
    uint8_t *d = (uint8_t *)slurp_must(path, &len);
    int n = 0, cap = 64;
    *evs = malloc((size_t)cap * sizeof **evs);
    assert_non_null(*evs);
    for (size_t i = 0; i < len;) {
        if (len - i < 16) fail_msg("%s: %zu bytes left at offset %zu: not a whole record", path, len - i, i);
        uint64_t n_data = le(d + i, 8);
        assert_int_equal(le(d + i + 8, 4), mask_ref(crc_bitwise(d + i, 8)));
        if (n_data > len - i - 16) fail_msg("%s: record at %zu longer than the file", path, i);
        assert_int_equal(le(d + i + 12 + n_data, 4), mask_ref(crc_bitwise(d + i + 12, n_data)));
        if (n == cap) {
            cap *= 2;
            *evs = realloc(*evs, (size_t)cap * sizeof **evs);
            assert_non_null(*evs);
        }
        decode_event(&(*evs)[n], d + i + 12, n_data);
        if (payloads && n < cap_payloads) {
            payloads[n][0] = i + 12;
            payloads[n][1] = n_data;
        }
        n++;
        i += 16 + n_data;
    }
    free(d);
    return n;
}

// The one event file in dir (fails if none or several).
static void find_event_file(const char *dir, char *out, size_t cap) {
    DIR *dd = opendir(dir);
    if (!dd) fail_msg("%s: cannot open", dir);
    int found = 0;
    for (struct dirent *de; (de = readdir(dd)) != NULL;)
        if (strstr(de->d_name, "tfevents")) {
            found++;
            snprintf(out, cap, "%s/%s", dir, de->d_name);
        }
    closedir(dd);
    if (found != 1) fail_msg("%s: %d event files, expected 1", dir, found);
}

// protoc --decode_raw of one payload of the file, as text (caller frees).
static char *decode_raw(const char *path, size_t off, size_t n) {
    char tmp[4400], cmd[9000];
    snprintf(tmp, sizeof tmp, "%s.payload", path);
    size_t len;
    char *d = slurp_must(path, &len);
    test_write_file(tmp, d + off, n);
    free(d);
    snprintf(cmd, sizeof cmd, "protoc --decode_raw < '%s' > '%s.txt' 2>&1", tmp, tmp);
    if (system(cmd) != 0) fail_msg("`%s` failed (is protobuf-compiler installed? scripts/install-deps.sh)", cmd);
    snprintf(cmd, sizeof cmd, "%s.txt", tmp);
    char *text = slurp_must(cmd, NULL);
    remove(cmd);
    remove(tmp);
    return text;
}

// ---------------------------------------------------------------- bytes

static void test_crc32c_check_values(void **state) {
    (void)state;
    assert_int_equal(tfevents_crc32c("123456789", 9), 0xE3069283u); // CRC-32C's check value
    uint8_t zeros[32] = {0};
    assert_int_equal(tfevents_crc32c(zeros, 32), 0x8A9136AAu);     // RFC 3720 B.4
    assert_int_equal(tfevents_crc32c("", 0), 0u);
    assert_int_equal(tfevents_crc_mask(0xE3069283u), 0xC78AB0E5u);
    // every byte value through the table, against the bitwise form
    uint8_t all[256];
    for (int i = 0; i < 256; i++) all[i] = (uint8_t)(255 - i);
    assert_int_equal(tfevents_crc32c(all, 256), crc_bitwise(all, 256));
}

// Bytes computed apart from the writer (a bitwise CRC-32C and the protobuf
// encoding by hand): Event{wall_time 1.5, file_version "brain.Event:2"}.
static const uint8_t FILE_VERSION_RECORD[] = {
    0x18, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xa3, 0x7f, 0x4b, 0x22, 0x09, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0xf8, 0x3f, 0x1a, 0x0d, 0x62, 0x72, 0x61, 0x69, 0x6e, 0x2e, 0x45, 0x76, 0x65,
    0x6e, 0x74, 0x3a, 0x32, 0x2a, 0x28, 0x64, 0x6c};
// Event{wall_time 2.0, step 300, summary {value {tag "lr", simple_value 0.5}}}.
static const uint8_t SCALAR_RECORD[] = {
    0x19, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x8b, 0xf1, 0x08, 0x28, 0x09, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x40, 0x10, 0xac, 0x02, 0x2a, 0x0b, 0x0a, 0x09, 0x0a, 0x02, 0x6c, 0x72,
    0x15, 0x00, 0x00, 0x00, 0x3f, 0xd6, 0xe4, 0x9e, 0x1d};

static void test_fixed_byte_vectors(void **state) {
    (void)state;
    tfevents_buf b = {0};
    tfevents_put_file_version(&b, 1.5);
    assert_int_equal(b.n, sizeof FILE_VERSION_RECORD);
    assert_memory_equal(b.p, FILE_VERSION_RECORD, sizeof FILE_VERSION_RECORD);
    b.n = 0;
    tfevents_put_scalar(&b, 2.0, 300, "lr", 0.5f);
    assert_int_equal(b.n, sizeof SCALAR_RECORD);
    assert_memory_equal(b.p, SCALAR_RECORD, sizeof SCALAR_RECORD);
    // a zero value is still written (simple_value is in a oneof); step 0 and
    // wall_time 0 are left out (proto3 defaults)
    b.n = 0;
    tfevents_put_scalar(&b, 0.0, 0, "x", 0.0f);
    static const uint8_t zero_payload[] = {0x2a, 0x0a, 0x0a, 0x08, 0x0a, 0x01, 'x', 0x15, 0, 0, 0, 0};
    assert_int_equal(b.n, 16 + sizeof zero_payload);
    assert_memory_equal(b.p + 12, zero_payload, sizeof zero_payload);
    tfevents_buf_free(&b);
}

// A hand-built run: the file decodes, the rewrite after a later epoch extends
// the earlier bytes exactly, and only a wall_time changes with the start time.
static void test_run_file_by_records(void **state) {
    (void)state;
    char dir[4096];
    test_mkdtemp(dir, sizeof dir);
    run_config cfg;
    config_defaults(&cfg);
    cfg.epochs = 3;
    snprintf(cfg.schedule, sizeof cfg.schedule, "cosine");
    snprintf(cfg.name, sizeof cfg.name, "runs/lr=0.1/seed-1");
    epoch_record eps[3];
    memset(eps, 0, sizeof eps);
    for (int i = 0; i < 3; i++) {
        eps[i] = (epoch_record){.epoch = i + 1, .lr = schedule_lr(&cfg, i), .train_loss = 2.0 - i * 0.5,
                                .train_acc = 0.3 + 0.1 * i, .train_f1 = 0.2 + 0.1 * i, .has_test = i != 1,
                                .test_loss = 2.1 - i * 0.5, .test_acc = 0.25 + 0.1 * i, .test_f1 = 0.15 + 0.1 * i,
                                .seconds = 10.0 + i};
    }
    run_result r;
    memset(&r, 0, sizeof r);
    r.status = RUN_RUNNING;
    r.epochs = eps;
    r.steps_per_epoch = 4;
    const knob *axes[1] = {knob_find("lr")};
    lr_err e;
    char path[4400], run_dir[4300];
    snprintf(run_dir, sizeof run_dir, "%s/run", dir);
    tfevents_file_path(path, sizeof path, run_dir, cfg.name);
    size_t len1, len2, len3;
    r.epochs_done = 1;
    assert_int_equal(tfevents_run_write(run_dir, &cfg, axes, 1, &r, 1000.0, &e), 0);
    char *one = slurp_must(path, &len1);
    struct stat st1, st2, st3;
    assert_int_equal(stat(path, &st1), 0);
    r.epochs_done = 3;
    r.status = RUN_FINISHED;
    assert_int_equal(tfevents_run_write(run_dir, &cfg, axes, 1, &r, 1000.0, &e), 0);
    char *three = slurp_must(path, &len2);
    assert_true(len2 > len1);
    assert_memory_equal(one, three, len1); // an appending writer's bytes
    // ... appended in place, so a TensorBoard holding the file open sees them
    assert_int_equal(stat(path, &st2), 0);
    assert_true(st1.st_ino == st2.st_ino);
    assert_int_equal(tfevents_run_write(run_dir, &cfg, axes, 1, &r, 2000.0, &e), 0);
    char *later = slurp_must(path, &len3);
    // a new start time (a resumed run): not a prefix, so replaced whole
    assert_int_equal(stat(path, &st3), 0);
    assert_true(st3.st_ino != st2.st_ino);
    assert_int_equal(len3, len2);
    size_t differ = 0;
    for (size_t i = 0; i < len2; i++) differ += three[i] != later[i];
    assert_true(differ > 0);

    assert_int_equal(tfevents_run_write(run_dir, &cfg, axes, 1, &r, 1000.0, &e), 0);
    ev_t *ev;
    int n = read_events(path, &ev, NULL, 0);
    // file_version, session start, 3 x (4 lr + scalars), session end
    assert_int_equal(n, 2 + 3 * 4 + 6 + 3 + 6 + 1);
    assert_string_equal(ev[0].file_version, "brain.Event:2");
    assert_true(ev[0].wall == 1000.0);
    assert_string_equal(ev[1].tag, "_hparams_/session_start_info");
    assert_string_equal(ev[1].plugin, "hparams");
    assert_int_equal(ev[1].hp_kind, 3);
    assert_int_equal(ev[1].n_hparams, 2);
    assert_string_equal(ev[1].hparam_names[0], "lr");
    assert_true(ev[1].hparam_num[0] == cfg.lr);
    assert_string_equal(ev[1].hparam_names[1], "seed");
    assert_true(ev[1].hparam_num[1] == (double)cfg.seed);
    double lr_ref[12];
    assert_int_equal(schedule_replay(&cfg, 4, NULL, lr_ref, 12, &e), 0);
    int k = 2, lr_seen = 0;
    for (int i = 0; i < 3; i++) {
        for (int s = 0; s < 4; s++, k++) {
            assert_string_equal(ev[k].tag, "lr");
            assert_int_equal(ev[k].step, i * 4 + s);
            assert_true(ev[k].value == (float)lr_ref[i * 4 + s]);
            lr_seen++;
        }
        // an epoch's first step runs at the rate metrics.csv records
        assert_true(ev[k - 4].value == (float)eps[i].lr);
        const double want[6] = {eps[i].train_loss, eps[i].train_acc, eps[i].train_f1,
                                eps[i].test_loss,  eps[i].test_acc,  eps[i].test_f1};
        for (int m = 0; m < (eps[i].has_test ? 6 : 3); m++, k++) {
            assert_string_equal(ev[k].tag, TFEVENTS_METRIC_TAGS[m]);
            assert_int_equal(ev[k].step, i + 1);
            assert_true(ev[k].has_value);
            assert_true(ev[k].value == (float)want[m]);
        }
        // the epoch's scalars at the end of its recorded time
        double end = 1000.0;
        for (int j = 0; j <= i; j++) end += eps[j].seconds;
        assert_true(ev[k - 1].wall == end);
    }
    assert_int_equal(lr_seen, 12);
    assert_string_equal(ev[k].tag, "_hparams_/session_end_info");
    assert_int_equal(ev[k].hp_kind, 4);
    assert_int_equal(ev[k].end_status, 1); // STATUS_SUCCESS
    // a diverged run ends in STATUS_FAILURE; an interrupted one has no end record
    free(ev);
    r.status = RUN_DIVERGED;
    assert_int_equal(tfevents_run_write(run_dir, &cfg, axes, 1, &r, 1000.0, &e), 0);
    n = read_events(path, &ev, NULL, 0);
    assert_int_equal(ev[n - 1].end_status, 2);
    free(ev);
    r.status = RUN_INTERRUPTED;
    assert_int_equal(tfevents_run_write(run_dir, &cfg, axes, 1, &r, 1000.0, &e), 0);
    n = read_events(path, &ev, NULL, 0);
    assert_int_equal(n, 2 + 3 * 4 + 6 + 3 + 6);
    assert_string_not_equal(ev[n - 1].tag, "_hparams_/session_end_info");
    free(ev);
    free(one);
    free(three);
    free(later);
    test_rmtree(dir);
}

// ---------------------------------------------------------------- a study

// Checks one run's event file against its metrics.csv (epochs x scalars, the
// lr of each epoch's first step) and run.json's steps per epoch.
static void check_run_events(const char *run_dir, const char *tb_dir, int epochs, int steps_per_epoch) {
    char path[4400], metrics[4400];
    find_event_file(tb_dir, path, sizeof path);
    snprintf(metrics, sizeof metrics, "%s/metrics.csv", run_dir);
    char *csv = slurp_must(metrics, NULL);
    char *lines[64];
    int n_lines = split_lines(csv, lines, 64);
    assert_int_equal(n_lines, 1 + epochs);
    ev_t *ev;
    size_t payloads[256][2];
    int n = read_events(path, &ev, payloads, 256);
    int count_lr = 0, count_scalar[6] = {0}, n_tested = 0, ends = 0;
    for (int i = 0; i < n; i++) {
        if (!strcmp(ev[i].tag, "lr")) count_lr++;
        for (int m = 0; m < 6; m++) count_scalar[m] += !strcmp(ev[i].tag, TFEVENTS_METRIC_TAGS[m]);
        ends += ev[i].hp_kind == 4;
    }
    for (int l = 1; l < n_lines; l++) {
        char *f[16];
        assert_int_equal(split_csv(lines[l], f, 16), 9);
        int epoch = atoi(f[0]);
        int tested = f[6][0] != '\0';
        n_tested += tested;
        // train/acc and, when evaluated, test/acc of this epoch equal metrics.csv's (as float)
        int seen_train = 0, seen_test = 0, seen_lr = 0;
        for (int i = 0; i < n; i++) {
            if (!strcmp(ev[i].tag, "train/acc") && ev[i].step == epoch) {
                assert_true(ev[i].value == (float)parse_num(f[3], "train_acc"));
                seen_train++;
            }
            if (!strcmp(ev[i].tag, "test/acc") && ev[i].step == epoch) {
                assert_true(ev[i].value == (float)parse_num(f[6], "test_acc"));
                seen_test++;
            }
            if (!strcmp(ev[i].tag, "lr") && ev[i].step == (int64_t)(epoch - 1) * steps_per_epoch) {
                assert_true(ev[i].value == (float)parse_num(f[1], "lr"));
                seen_lr++;
            }
        }
        assert_int_equal(seen_train, 1);
        assert_int_equal(seen_test, tested);
        assert_int_equal(seen_lr, 1);
    }
    assert_int_equal(count_lr, epochs * steps_per_epoch);
    for (int m = 0; m < 3; m++) assert_int_equal(count_scalar[m], epochs);
    for (int m = 3; m < 6; m++) assert_int_equal(count_scalar[m], n_tested);
    assert_int_equal(ends, 1);
    assert_int_equal(ev[n - 1].end_status, 1);
    // The second decoder: protoc --decode_raw on the session start, a test
    // scalar and the end.
    char *text = decode_raw(path, payloads[1][0], payloads[1][1]);
    assert_contains(text, "\"_hparams_/session_start_info\"", "decode_raw of the session start");
    assert_contains(text, "\"hparams\"", "decode_raw of the session start");
    assert_contains(text, "\"seed\"", "decode_raw of the session start");
    free(text);
    int last_test = -1;
    for (int i = 0; i < n; i++)
        if (!strcmp(ev[i].tag, "test/f1")) last_test = i;
    assert_true(last_test > 0 && last_test < 256);
    text = decode_raw(path, payloads[last_test][0], payloads[last_test][1]);
    assert_contains(text, "\"test/f1\"", "decode_raw of a scalar");
    char step[32];
    snprintf(step, sizeof step, "2: %lld\n", (long long)ev[last_test].step);
    assert_contains(text, step, "decode_raw of a scalar");
    free(text);
    text = decode_raw(path, payloads[n - 1][0], payloads[n - 1][1]);
    assert_contains(text, "\"_hparams_/session_end_info\"", "decode_raw of the session end");
    free(text);
    free(ev);
    free(csv);
}

static void check_study_events(const char *tb_dir) {
    char path[4400];
    find_event_file(tb_dir, path, sizeof path);
    ev_t *ev;
    size_t payloads[4][2];
    int n = read_events(path, &ev, payloads, 4);
    assert_int_equal(n, 2);
    assert_string_equal(ev[0].file_version, "brain.Event:2");
    assert_string_equal(ev[1].tag, "_hparams_/experiment");
    assert_string_equal(ev[1].plugin, "hparams");
    assert_int_equal(ev[1].hp_kind, 2);
    char *text = decode_raw(path, payloads[1][0], payloads[1][1]);
    assert_contains(text, "\"hparams\"", "decode_raw of the experiment");
    assert_contains(text, "\"lr\"", "decode_raw of the experiment");
    assert_contains(text, "\"seed\"", "decode_raw of the experiment");
    assert_contains(text, "\"test/acc\"", "decode_raw of the experiment");
    assert_contains(text, "2: 0x3fa999999999999a", "decode_raw of the experiment"); // lr 0.05 in the domain
    free(text);
    free(ev);
}

static void test_study_writes_event_files(void **state) {
    cli_state *st = *state;
    char *err;
    int rc = run_lrscope(st, &err, NULL,
                         "run --data '%s' --out '%s/tb1' --epochs 3 --eval-interval 2 --lrs 0.05,0.01 --quiet "
                         "--no-report --threads 1", st->data, st->root);
    if (rc != 0) fail_msg("lrscope run exited %d: %s", rc, err);
    free(err);
    char dir[4400], run[4600];
    snprintf(dir, sizeof dir, "%s/tb1", st->root);
    check_study_events(dir);
    const char *runs[2] = {"runs/lr=0.05/seed-1", "runs/lr=0.01/seed-1"};
    for (int i = 0; i < 2; i++) {
        snprintf(run, sizeof run, "%s/%s", dir, runs[i]);
        check_run_events(run, run, 3, 2); // 200 images in batches of 128: 2 steps
    }
}

static void test_tensorboard_flag(void **state) {
    cli_state *st = *state;
    char *err;
    int rc = run_lrscope(st, &err, NULL,
                         "run --data '%s' --out '%s/tb2' --tensorboard '%s/tblogs' --epochs 2 --lrs 0.05 --seeds 2 "
                         "--quiet --no-report --threads 1", st->data, st->root, st->root);
    if (rc != 0) fail_msg("lrscope run exited %d: %s", rc, err);
    free(err);
    char dir[4400], tb[4400], run[4600], tbrun[4600];
    snprintf(dir, sizeof dir, "%s/tb2", st->root);
    snprintf(tb, sizeof tb, "%s/tblogs/tb2", st->root); // no name: the study folder's
    check_study_events(tb);
    for (int k = 1; k <= 2; k++) {
        snprintf(run, sizeof run, "%s/runs/lr=0.05/seed-%d", dir, k);
        snprintf(tbrun, sizeof tbrun, "%s/runs/lr=0.05/seed-%d", tb, k);
        check_run_events(run, tbrun, 2, 2);
        // and none in the run folder itself
        DIR *dd = opendir(run);
        assert_non_null(dd);
        for (struct dirent *de; (de = readdir(dd)) != NULL;) assert_null(strstr(de->d_name, "tfevents"));
        closedir(dd);
    }
    // A second study of the same name into the same folder is refused before training.
    rc = run_lrscope(st, &err, NULL,
                     "run --data '%s' --out '%s/tb3/tb2' --tensorboard '%s/tblogs' --epochs 1 --lrs 0.05 --quiet "
                     "--no-report", st->data, st->root, st->root);
    assert_int_equal(rc, 2);
    assert_contains(err, "--tensorboard", "the refusal");
    assert_contains(err, "already holds files", "the refusal");
    free(err);
    snprintf(dir, sizeof dir, "%s/tb3/tb2", st->root);
    assert_false(exists(dir));
    rc = run_lrscope(st, &err, NULL, "run --data '%s' --tensorboard= --epochs 1", st->data);
    assert_int_equal(rc, 2);
    assert_contains(err, "--tensorboard: empty value", "the refusal");
    free(err);
}

// ---------------------------------------------------------------- the live report

static void test_live_report(void **state) {
    (void)state;
    char dir[4096];
    test_mkdtemp(dir, sizeof dir);
    study_fixture f;
    study_fixture_write(&f, dir, "0.1,0.01", 3, 0);
    study_fixture_put(dir, f.folder[0], "metrics.csv",
                      "epoch,lr,train_loss,train_acc,train_f1,test_loss,test_acc,test_f1,seconds\n"
                      "1,0.1,2.0,0.3,0.2,2.1,0.25,0.2,1.5\n");
    // the second run has not started: no folder yet
    report_live live;
    report_live_init(&live, dir, lr_now() - 1000.0); // 1000 s in: 1% is 10 s, the first rebuild is due
    lr_err e;
    int rc = report_live_epoch(&live, &e);
    if (rc < 0) fail_msg("report_live_epoch: %s", e.msg);
    assert_int_equal(rc, 1);
    char path[4400];
    snprintf(path, sizeof path, "%s/report.html", dir);
    char *html = slurp_must(path, NULL);
    assert_contains(html, "<meta http-equiv=\"refresh\" content=\"5\">", "the live report.html");
    assert_contains(html, "still running", "the live report.html");
    free(html);
    // the next epoch, at once: not due (the gap after a rebuild)
    study_fixture_put(dir, f.folder[0], "metrics.csv",
                      "epoch,lr,train_loss,train_acc,train_f1,test_loss,test_acc,test_f1,seconds\n"
                      "1,0.1,2.0,0.3,0.2,2.1,0.25,0.2,1.5\n2,0.1,1.8,0.35,0.3,2.0,0.3,0.25,1.5\n");
    assert_int_equal(report_live_epoch(&live, &e), 0);
    assert_int_equal(live.builds, 1);
    assert_true(live.spent > 0 && live.spent == live.last_cost);
    report_live_free(&live);
    // the final report has no refresh
    if (report_build(dir, &e) != 0) fail_msg("report_build: %s", e.msg);
    html = slurp_must(path, NULL);
    assert_null(strstr(html, "http-equiv=\"refresh\""));
    assert_null(strstr(html, "still running"));
    free(html);
    test_rmtree(dir);
}

// When the live report is due: within 1% of the study's time, counting the
// next rebuild at the last one's cost, and at least 5 s apart.
static void test_live_report_throttle(void **state) {
    (void)state;
    report_live l;
    report_live_init(&l, "unused", 0.0);
    assert_false(report_live_due(&l, 99.0));  // the first rebuild, estimated at 1 s: not before 100 s
    assert_true(report_live_due(&l, 100.0));
    l.builds = 1;
    l.last_end = 200.0;
    l.last_cost = 2.0;
    l.spent = 2.0;
    assert_false(report_live_due(&l, 204.0)); // (2 + 2) s within 1% only from 400 s on
    assert_false(report_live_due(&l, 399.0));
    assert_true(report_live_due(&l, 400.0));
    l.last_cost = 0.01;                       // cheap rebuilds: still 5 s apart
    assert_false(report_live_due(&l, 204.9));
    assert_true(report_live_due(&l, 205.0));
    l.failed = 1;
    assert_false(report_live_due(&l, 1e6));
    report_live_free(&l);
}

// At the end of a study (report on) report.html does not reload itself.
static void test_study_report_final_no_refresh(void **state) {
    cli_state *st = *state;
    char *err;
    int rc = run_lrscope(st, &err, NULL, "run --data '%s' --out '%s/tb4' --epochs 2 --lrs 0.05 --quiet --threads 1",
                         st->data, st->root);
    if (rc != 0) fail_msg("lrscope run exited %d: %s", rc, err);
    free(err);
    char path[4600];
    snprintf(path, sizeof path, "%s/tb4/report.html", st->root);
    char *html = slurp_must(path, NULL);
    assert_null(strstr(html, "http-equiv=\"refresh\""));
    assert_contains(html, "<img", "report.html");
    free(html);
}

// Under `make DEBUG=1`, fontconfig (loaded by PLplot's cairo drivers, through
// report_build here) keeps its font cache until exit, which LeakSanitizer
// reports; it is not ours.
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void) { return "leak:libfontconfig.so\n"; }

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crc32c_check_values),
        cmocka_unit_test(test_fixed_byte_vectors),
        cmocka_unit_test(test_run_file_by_records),
        cmocka_unit_test(test_study_writes_event_files),
        cmocka_unit_test(test_tensorboard_flag),
        cmocka_unit_test(test_live_report),
        cmocka_unit_test(test_live_report_throttle),
        cmocka_unit_test(test_study_report_final_no_refresh),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
