// weights.c: writes and reads the versioned, checksummed weights file.
// Version 2 (written): version 1's fields, then the model's description
// (data set, normalisation, class names) after the parameters, so that the
// offsets of version 1's header fields are unchanged. Version 3 (written for
// models with buffers): version 2 with a u64 buffer count and the buffers
// (batch norm's running mean and variance) between the parameters and the
// description.
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
static void put_f32(bytes *b, float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    put_u32(b, u);
}
static void put_name(bytes *b, const char *s) {
    size_t n = strlen(s);
    LR_ASSERT(n <= WEIGHTS_NAME_MAX);
    put_u32(b, (uint32_t)n);
    put(b, s, n);
}
static uint32_t get_u32(const unsigned char *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static float get_f32(const unsigned char *p) {
    uint32_t u = get_u32(p);
    float f;
    memcpy(&f, &u, 4);
    return f;
}

void weights_meta_from(weights_meta *w, const dataset_info *info, int c, int num_classes,
                       char *const *class_names) {
    memset(w, 0, sizeof *w);
    w->version = WEIGHTS_VERSION;
    snprintf(w->dataset, sizeof w->dataset, "%s", info->name);
    LR_ASSERT(c >= 1 && c <= DATASET_MAX_CHANNELS);
    w->c = c;
    memcpy(w->mean, info->mean, sizeof w->mean);
    memcpy(w->std, info->std, sizeof w->std);
    w->num_classes = num_classes;
    w->class_names = lr_calloc((size_t)num_classes, sizeof *w->class_names);
    for (int k = 0; k < num_classes; k++) {
        char name[WEIGHTS_NAME_MAX + 1];
        if (class_names && class_names[k]) snprintf(name, sizeof name, "%s", class_names[k]);
        else snprintf(name, sizeof name, "%d", k);
        w->class_names[k] = lr_strdup(name);
    }
}

void weights_meta_free(weights_meta *w) {
    if (w->class_names)
        for (int k = 0; k < w->num_classes; k++) free(w->class_names[k]);
    free(w->class_names);
    w->class_names = NULL;
}

int weights_save(const char *path, const model_desc *m, const float *params, const weights_meta *meta,
                 lr_err *e) {
    LR_ASSERT(meta->c == m->in_c && meta->num_classes == m->num_classes);
    bytes b = {0};
    put(&b, "LRSW", 4);
    put_u32(&b, m->n_buffers ? 3 : 2);
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
    for (size_t i = 0; i < m->n_params; i++) put_f32(&b, params[i]); // little-endian floats
    if (m->n_buffers) {
        uint64_t nb = m->n_buffers;
        put_u32(&b, (uint32_t)(nb & 0xffffffffu));
        put_u32(&b, (uint32_t)(nb >> 32));
        for (size_t i = 0; i < m->n_buffers; i++) put_f32(&b, params[m->n_params + i]);
    }
    put_name(&b, meta->dataset);
    for (int c = 0; c < meta->c; c++) put_f32(&b, meta->mean[c]);
    for (int c = 0; c < meta->c; c++) put_f32(&b, meta->std[c]);
    for (int k = 0; k < meta->num_classes; k++) {
        char name[WEIGHTS_NAME_MAX + 1]; // a longer class name is cut, never refused
        snprintf(name, sizeof name, "%s", meta->class_names[k]);
        put_name(&b, name);
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

// Reads a name at *q (length-prefixed, at most WEIGHTS_NAME_MAX bytes, no
// NUL) before end; advances *q.
static int get_name(const char *path, const char *what, const unsigned char **q,
                    const unsigned char *end, char *out, lr_err *e) {
    if (end - *q < 4) return lr_fail(e, "%s: the file ends inside its %s; the file is cut", path, what);
    uint32_t n = get_u32(*q);
    if (n > WEIGHTS_NAME_MAX || (size_t)(end - *q - 4) < n)
        return lr_fail(e, "%s: %s of %u bytes; expected at most %d bytes within the file", path, what,
                       n, WEIGHTS_NAME_MAX);
    memcpy(out, *q + 4, n);
    out[n] = '\0';
    if (strlen(out) != n) return lr_fail(e, "%s: %s holds a NUL byte", path, what);
    *q += 4 + n;
    return 0;
}

// The description of a version-2 file, between the parameters and the CRC.
static int read_meta(const char *path, const unsigned char *q, const unsigned char *end,
                     const model_desc *m, weights_meta *w, lr_err *e) {
    if (get_name(path, "data set name", &q, end, w->dataset, e) != 0) return -1;
    if (m->in_c > DATASET_MAX_CHANNELS)
        return lr_fail(e, "%s: inputs of %d channels; expected 1..%d", path, m->in_c, DATASET_MAX_CHANNELS);
    w->c = m->in_c;
    if ((size_t)(end - q) < (size_t)w->c * 8)
        return lr_fail(e, "%s: the file ends inside its normalisation constants; the file is cut", path);
    for (int c = 0; c < w->c; c++) {
        w->mean[c] = get_f32(q + 4 * c);
        w->std[c] = get_f32(q + 4 * (w->c + c));
        if (!(w->std[c] > 0.0f) || !(w->mean[c] == w->mean[c]) || w->std[c] > 1e30f)
            return lr_fail(e, "%s: normalisation of channel %d is mean %g, std %g; expected a finite "
                              "mean and a positive std", path, c, (double)w->mean[c], (double)w->std[c]);
    }
    q += (size_t)w->c * 8;
    w->num_classes = m->num_classes;
    w->class_names = lr_calloc((size_t)w->num_classes, sizeof *w->class_names);
    for (int k = 0; k < w->num_classes; k++) {
        char name[WEIGHTS_NAME_MAX + 1], what[64];
        snprintf(what, sizeof what, "name of class %d", k);
        if (get_name(path, what, &q, end, name, e) != 0) return -1;
        w->class_names[k] = lr_strdup(name);
    }
    if (q != end)
        return lr_fail(e, "%s: %zu bytes after the class names, before the checksum; expected none",
                       path, (size_t)(end - q));
    return 0;
}

// A version-1 file: the data set from the hint, or the one of its shape.
static int v1_meta(const char *path, const char *hint, const model_desc *m, weights_meta *w, lr_err *e) {
    static const char *const NAMES[] = {"cifar10", "cifar100", "cifar100-coarse", "mnist", "fashion-mnist"};
    const dataset_info *info = NULL;
    char matches[128] = "";
    if (hint) {
        info = dataset_find(hint);
        if (!info) return lr_fail(e, "--dataset %s: unknown data set; expected one of %s", hint, dataset_names());
        if (info->c && (info->c != m->in_c || info->h != m->in_h || info->w != m->in_w ||
                        info->num_classes != m->num_classes))
            return lr_fail(e, "%s: a model of %dx%dx%d inputs and %d classes, but --dataset %s has "
                              "%dx%dx%d images of %d classes", path, m->in_c, m->in_h, m->in_w,
                           m->num_classes, hint, info->c, info->h, info->w, info->num_classes);
    } else {
        int n = 0;
        for (size_t i = 0; i < sizeof NAMES / sizeof NAMES[0]; i++) {
            const dataset_info *d = dataset_find(NAMES[i]);
            if (d->c == m->in_c && d->h == m->in_h && d->w == m->in_w && d->num_classes == m->num_classes) {
                size_t l = strlen(matches);
                snprintf(matches + l, sizeof matches - l, "%s%s", n ? ", " : "", d->name);
                info = d;
                n++;
            }
        }
        if (n != 1)
            return lr_fail(e, "%s: a version-1 weights file, which does not name its data set, and "
                              "%s%s%s; pass --dataset NAME, or train again with this lrscope for a "
                              "version-2 file that describes itself", path,
                           n ? "its input shape fits several data sets (" : "no known data set has its input shape",
                           matches, n ? ")" : "");
    }
    if (m->in_c > DATASET_MAX_CHANNELS)
        return lr_fail(e, "%s: inputs of %d channels; expected 1..%d", path, m->in_c, DATASET_MAX_CHANNELS);
    const int cifar10 = !strcmp(info->name, "cifar10");
    weights_meta_from(w, info, m->in_c, m->num_classes, cifar10 ? (char *const *)CIFAR10_CLASS_NAMES : NULL);
    snprintf(w->note, sizeof w->note,
             "%s is a version-1 weights file: data set %s assumed%s, with its normalisation and %s "
             "class names (train again for a file that describes itself)",
             path, info->name, hint ? " (--dataset)" : " from its input shape",
             cifar10 ? "standard" : "numbered");
    return 0;
}

int weights_read(const char *path, const char *dataset_hint, model_desc *m, float **params,
                 weights_meta *meta, lr_err *e) {
    char *data;
    size_t len;
    weights_meta scratch;
    weights_meta *w = meta ? meta : &scratch;
    memset(w, 0, sizeof *w);
    *params = NULL;
    if (fs_read_all_max(path, MAX_FILE_BYTES, &data, &len, e) != 0) return -1;
    const unsigned char *p = (const unsigned char *)data;
    int rc = -1;
    if (len < 4 || memcmp(p, "LRSW", 4) != 0) {
        lr_fail(e, "%s: not an lrscope weights file (no LRSW magic)", path);
        goto done;
    }
    if (len < 40) {
        lr_fail(e, "%s: %zu bytes, shorter than any weights file's header; the file is cut", path, len);
        goto done;
    }
    uint32_t version = get_u32(p + 4);
    if (version < 1 || version > WEIGHTS_VERSION) {
        lr_fail(e, "%s: weights format version %u, this lrscope reads versions 1 to %d", path,
                version, WEIGHTS_VERSION);
        goto done;
    }
    uint32_t stored = get_u32(p + len - 4), actual = (uint32_t)crc32_z(0L, p, len - 4);
    if (stored != actual) {
        lr_fail(e, "%s: checksum mismatch (stored %08x, computed %08x): the file is damaged or cut", path,
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
    size_t room = (len - (size_t)(q - p) - 4) / 4;
    if (n > room || (version == 1 && (size_t)(q - p) + n * 4 + 4 != len)) {
        lr_fail(e, "%s: header says %llu parameters, but the file holds room for %zu after its "
                   "header; the header is wrong or the file is cut",
                path, (unsigned long long)n, room);
        goto done;
    }
    int c = (int)uc, h = (int)uh, wd = (int)uw, k = (int)uk;
    if (model_build(m, spec, c, h, wd, k, e) != 0) {
        char why[sizeof e->msg];
        snprintf(why, sizeof why, "%s", e->msg);
        lr_fail(e, "%s: its model description does not build: %s", path, why);
        goto done;
    }
    if (n != m->n_params) {
        lr_fail(e, "%s: holds %llu parameters, its model needs %zu", path, (unsigned long long)n,
                m->n_params);
        goto done;
    }
    const unsigned char *meta_start = q + n * 4, *end = p + len - 4;
    uint64_t nb = 0;
    if (version == 3) {
        if (end - meta_start < 8) {
            lr_fail(e, "%s: the file ends before its buffer count; the file is cut", path);
            goto done;
        }
        nb = (uint64_t)get_u32(meta_start) | (uint64_t)get_u32(meta_start + 4) << 32;
        meta_start += 8;
        if (nb > (uint64_t)(end - meta_start) / 4) {
            lr_fail(e, "%s: header says %llu buffers, but the file holds room for %zu", path,
                    (unsigned long long)nb, (size_t)(end - meta_start) / 4);
            goto done;
        }
    }
    if (nb != m->n_buffers) {
        lr_fail(e, "%s: holds %llu buffer values (batch norm's running statistics), its model needs %zu%s",
                path, (unsigned long long)nb, m->n_buffers,
                version < 3 ? " (a version-1 or -2 file holds none)" : "");
        goto done;
    }
    const unsigned char *bufs = meta_start;
    meta_start += nb * 4;
    if ((version >= 2 ? read_meta(path, meta_start, end, m, w, e)
                      : v1_meta(path, dataset_hint, m, w, e)) != 0)
        goto done;
    w->version = (int)version;
    if (version >= 2 && dataset_hint && strcmp(dataset_hint, w->dataset) != 0) {
        lr_fail(e, "%s: a model trained on %s, not on --dataset %s", path, w->dataset, dataset_hint);
        goto done;
    }
    *params = lr_aligned_alloc((n + nb) * sizeof(float)); // (n + nb) * 4 < len <= 1 GiB
    for (size_t i = 0; i < n; i++) (*params)[i] = get_f32(q + 4 * i);
    for (size_t i = 0; i < nb; i++) (*params)[n + i] = get_f32(bufs + 4 * i);
    rc = 0;
done:
    if (rc != 0 || !meta) weights_meta_free(w);
    free(data);
    return rc;
}

int weights_load(const char *path, model_desc *m, float **params, lr_err *e) {
    return weights_read(path, NULL, m, params, NULL, e);
}
