// weights.c: writes and reads the versioned, checksummed weights file.
#include "weights.h"
#include "../util/fsutil.h"

#include <string.h>
#include <zlib.h>

typedef struct {
    unsigned char *data;
    size_t len, cap;
} bytes;

static void put(bytes *b, const void *p, size_t n) {
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 1024;
        while (cap < b->len + n) cap *= 2;
        b->data = lr_realloc(b->data, cap);
        b->cap = cap;
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
}
static void put_u32(bytes *b, uint32_t v) {
    unsigned char x[4] = {v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, v >> 24};
    put(b, x, 4);
}
static uint32_t get_u32(const unsigned char *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

int weights_save(const char *path, const model_desc *m, const float *params, lr_err *e) {
    bytes b = {0};
    put(&b, "LRSW", 4);
    put_u32(&b, WEIGHTS_VERSION);
    uint32_t slen = (uint32_t)strlen(m->spec);
    put_u32(&b, slen);
    put(&b, m->spec, slen);
    put_u32(&b, (uint32_t)m->in_c);
    put_u32(&b, (uint32_t)m->in_h);
    put_u32(&b, (uint32_t)m->in_w);
    put_u32(&b, (uint32_t)m->num_classes);
    uint64_t n = m->n_params;
    put_u32(&b, (uint32_t)(n & 0xffffffffu));
    put_u32(&b, (uint32_t)(n >> 32));
    for (size_t i = 0; i < m->n_params; i++) { // little-endian floats
        uint32_t u;
        memcpy(&u, &params[i], 4);
        put_u32(&b, u);
    }
    put_u32(&b, (uint32_t)crc32_z(0L, b.data, b.len));
    int rc = fs_write_atomic(path, b.data, b.len, e);
    free(b.data);
    return rc;
}

// Caps on what a weights file may declare, checked before anything is built
// or allocated from it: far above any model lrscope trains.
enum { MAX_CHANNELS = 64, MAX_SIDE = 8192, MAX_CLASSES = 65535 };
static const size_t MAX_FILE_BYTES = (size_t)1 << 30;

int weights_load(const char *path, model_desc *m, float **params, lr_err *e) {
    char *data;
    size_t len;
    if (fs_read_all_max(path, MAX_FILE_BYTES, &data, &len, e) != 0) return -1;
    const unsigned char *p = (const unsigned char *)data;
    int rc = -1;
    if (len < 40 || memcmp(p, "LRSW", 4) != 0) {
        lr_fail(e, "%s: not an lrscope weights file (no LRSW magic)", path);
        goto done;
    }
    if (get_u32(p + 4) != WEIGHTS_VERSION) {
        lr_fail(e, "%s: weights format version %u, this lrscope reads version %d", path,
                get_u32(p + 4), WEIGHTS_VERSION);
        goto done;
    }
    uint32_t stored = get_u32(p + len - 4), actual = (uint32_t)crc32_z(0L, p, len - 4);
    if (stored != actual) {
        lr_fail(e, "%s: checksum mismatch (stored %08x, computed %08x): the file is damaged", path,
                stored, actual);
        goto done;
    }
    uint32_t slen = get_u32(p + 8);
    if (12 + (size_t)slen + 24 + 4 > len || slen >= sizeof m->spec) {
        lr_fail(e, "%s: model description length %u does not fit the file", path, slen);
        goto done;
    }
    char spec[512];
    memcpy(spec, p + 12, slen);
    spec[slen] = '\0';
    const unsigned char *q = p + 12 + slen;
    uint32_t uc = get_u32(q), uh = get_u32(q + 4), uw = get_u32(q + 8), uk = get_u32(q + 12);
    uint64_t n = (uint64_t)get_u32(q + 16) | (uint64_t)get_u32(q + 20) << 32;
    q += 24;
    if (uc < 1 || uc > MAX_CHANNELS || uh < 1 || uh > MAX_SIDE || uw < 1 || uw > MAX_SIDE ||
        uk < 1 || uk > MAX_CLASSES) {
        lr_fail(e, "%s: header says inputs of %u channels of %ux%u and %u classes; expected 1..%d "
                   "channels, sides of 1..%d and 1..%d classes",
                path, uc, uh, uw, uk, MAX_CHANNELS, MAX_SIDE, MAX_CLASSES);
        goto done;
    }
    // The parameters must be in the file: compared before any model is built.
    if (n > (len - (size_t)(q - p) - 4) / 4 || (size_t)(q - p) + n * 4 + 4 != len) {
        lr_fail(e, "%s: header says %llu parameters, but the file holds room for %zu after its "
                   "header; the header is wrong or the file is cut",
                path, (unsigned long long)n, (len - (size_t)(q - p) - 4) / 4);
        goto done;
    }
    int c = (int)uc, h = (int)uh, w = (int)uw, k = (int)uk;
    if (model_build(m, spec, c, h, w, k, e) != 0) {
        char why[sizeof e->msg];
        snprintf(why, sizeof why, "%s", e->msg);
        lr_fail(e, "%s: its model description does not build: %s", path, why);
        goto done;
    }
    if (n != m->n_params || (size_t)(q - p) + n * 4 + 4 != len) {
        lr_fail(e, "%s: holds %llu parameters, its model needs %zu", path, (unsigned long long)n,
                m->n_params);
        goto done;
    }
    *params = lr_aligned_alloc(n * sizeof(float)); // n * 4 < len <= 1 GiB
    for (size_t i = 0; i < n; i++) {
        uint32_t u = get_u32(q + 4 * i);
        memcpy(&(*params)[i], &u, 4);
    }
    rc = 0;
done:
    free(data);
    return rc;
}
