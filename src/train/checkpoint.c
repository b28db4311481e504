// checkpoint.c: the checkpoint file: header, the trainer's state, CRC-32.
#include "checkpoint.h"
#include "knobs.h"
#include "optim.h"
#include "../util/fsutil.h"

#include <errno.h>
#include <jansson.h>
#include <string.h>
#include <zlib.h>

static const char MAGIC[8] = {'L', 'R', 'S', 'C', 'C', 'K', 'P', 'T'};

uint64_t checkpoint_config_id(const run_config *cfg) {
    run_config c = *cfg;
    c.threads = 0;
    snprintf(c.prefetch, sizeof c.prefetch, "auto");
    json_t *j = knobs_to_json(&c);
    // Knobs added after checkpoints were first written leave the identity of
    // a configuration that does not use them as it was, so that a run
    // checkpointed by an earlier lrscope still resumes.
    if (!strcmp(c.milestone_unit, "epochs")) json_object_del(j, "milestone_unit");
    if (c.max_steps == 0) json_object_del(j, "max_steps");
    char *text = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(17));
    json_decref(j);
    LR_ASSERT(text != NULL);
    uint64_t h = 0xcbf29ce484222325ull; // FNV-1a
    for (const char *s = text; *s; s++) h = (h ^ (uint8_t)*s) * 0x100000001b3ull;
    h = (h ^ 0xff) * 0x100000001b3ull; // separator
    for (const char *s = cfg->name; *s; s++) h = (h ^ (uint8_t)*s) * 0x100000001b3ull;
    free(text);
    return h;
}

static void put_u32(uint8_t *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static void put_u64(uint8_t *p, uint64_t v) {
    for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static uint32_t get_u32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t get_u64(const uint8_t *p) { return (uint64_t)get_u32(p) | (uint64_t)get_u32(p + 4) << 32; }

void checkpoint_encode(const trainer *t, const run_config *cfg, uint8_t **out, size_t *len) {
    uint8_t *state;
    size_t n;
    trainer_save(t, &state, &n);
    const run_result *r = trainer_result(t);
    uint8_t *b = lr_malloc(CHECKPOINT_HEADER + n + 4);
    memcpy(b, MAGIC, 8);
    put_u32(b + 8, CHECKPOINT_VERSION);
    put_u32(b + 12, CHECKPOINT_HEADER);
    put_u64(b + 16, checkpoint_config_id(cfg));
    put_u64(b + 24, r->model.n_params);
    put_u32(b + 32, (uint32_t)r->num_classes);
    put_u32(b + 36, (uint32_t)trainer_epochs_done(t));
    put_u64(b + 40, n);
    memcpy(b + CHECKPOINT_HEADER, state, n);
    free(state);
    put_u32(b + CHECKPOINT_HEADER + n, (uint32_t)crc32_z(0L, b, CHECKPOINT_HEADER + n));
    *out = b;
    *len = CHECKPOINT_HEADER + n + 4;
}

int checkpoint_decode(const uint8_t *p, size_t len, trainer *t, const run_config *cfg, lr_err *e) {
    if (len < CHECKPOINT_HEADER + 4)
        return lr_fail(e, "%zu bytes, shorter than a checkpoint's header (%d bytes)", len, CHECKPOINT_HEADER + 4);
    if (memcmp(p, MAGIC, 8) != 0) return lr_fail(e, "not an lrscope checkpoint (bad magic)");
    uint32_t version = get_u32(p + 8), header = get_u32(p + 12);
    if (version != CHECKPOINT_VERSION || header != CHECKPOINT_HEADER)
        return lr_fail(e, "checkpoint version %u (header %u bytes); this lrscope reads version %d",
                       version, header, CHECKPOINT_VERSION);
    uint64_t payload = get_u64(p + 40);
    if (payload != len - CHECKPOINT_HEADER - 4)
        return lr_fail(e, "truncated or padded: the header says %llu bytes of state, the file holds %zu",
                       (unsigned long long)payload, len - CHECKPOINT_HEADER - 4);
    if (payload > trainer_state_size(t))
        return lr_fail(e, "%llu bytes of state, more than this run's state can take (%zu)",
                       (unsigned long long)payload, trainer_state_size(t));
    uint32_t stored = get_u32(p + len - 4), actual = (uint32_t)crc32_z(0L, p, len - 4);
    if (stored != actual) return lr_fail(e, "checksum mismatch (stored %08x, computed %08x): the file is corrupt",
                                         stored, actual);
    if (get_u64(p + 16) != checkpoint_config_id(cfg))
        return lr_fail(e, "written for another configuration than this run's (study.json)");
    const run_result *r = trainer_result(t);
    if (get_u64(p + 24) != r->model.n_params || get_u32(p + 32) != (uint32_t)r->num_classes)
        return lr_fail(e, "a model of %llu parameters and %u classes; this run's has %zu and %d",
                       (unsigned long long)get_u64(p + 24), get_u32(p + 32), r->model.n_params, r->num_classes);
    lr_err se;
    if (trainer_restore(t, p + CHECKPOINT_HEADER, (size_t)payload, &se) != 0)
        return lr_fail(e, "bad state: %s", se.msg);
    if ((uint32_t)trainer_epochs_done(t) != get_u32(p + 36)) // cannot happen with a good checksum
        return lr_fail(e, "the header says %u epochs, the state %d", get_u32(p + 36), trainer_epochs_done(t));
    return 0;
}

int checkpoint_write(const char *run_dir, const trainer *t, const run_config *cfg, lr_err *e) {
    char path[FS_PATH_MAX], prev[FS_PATH_MAX];
    if (fs_path(path, sizeof path, run_dir, CHECKPOINT_FILE, e) != 0 ||
        fs_path(prev, sizeof prev, run_dir, CHECKPOINT_PREV_FILE, e) != 0)
        return -1;
    uint8_t *b;
    size_t n;
    checkpoint_encode(t, cfg, &b, &n);
    if (fs_exists(path) && rename(path, prev) != 0) {
        free(b);
        return lr_fail(e, "%s: cannot keep it as %s (%s)", path, CHECKPOINT_PREV_FILE, strerror(errno));
    }
    int rc = fs_write_atomic(path, b, n, e);
    free(b);
    return rc;
}

int checkpoint_read(const char *path, trainer *t, const run_config *cfg, lr_err *e) {
    char *p;
    size_t n;
    lr_err re;
    if (fs_read_all(path, &p, &n, &re) != 0) return lr_fail(e, "%s", re.msg);
    int rc = checkpoint_decode((const uint8_t *)p, n, t, cfg, &re);
    free(p);
    if (rc != 0) return lr_fail(e, "%s: %s", path, re.msg);
    return 0;
}

int checkpoint_restore(const char *run_dir, trainer *t, const run_config *cfg, FILE *log) {
    char path[2][FS_PATH_MAX];
    const char *names[2] = {CHECKPOINT_FILE, CHECKPOINT_PREV_FILE};
    int present[2], refused = 0;
    for (int k = 0; k < 2; k++) {
        lr_err e;
        if (fs_path(path[k], sizeof path[k], run_dir, names[k], &e) != 0) return 0;
        present[k] = fs_exists(path[k]);
    }
    for (int k = 0; k < 2; k++) {
        if (!present[k]) continue;
        lr_err e;
        if (checkpoint_read(path[k], t, cfg, &e) == 0) {
            if (log && (refused || k == 1))
                fprintf(log, "lrscope: %s: continuing from the previous checkpoint %s (epoch %d)\n", run_dir,
                        names[k], trainer_epochs_done(t));
            return trainer_epochs_done(t);
        }
        refused = 1;
        if (log) fprintf(log, "lrscope: checkpoint refused: %s\n", e.msg);
    }
    if (log && refused) fprintf(log, "lrscope: %s: no good checkpoint; the run starts again from scratch\n", run_dir);
    return 0;
}
