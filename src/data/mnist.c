// mnist.c: reads MNIST and Fashion-MNIST from their IDX files, gzipped as
// published or already unpacked (zlib's gzread reads both):
//   {train,t10k}-images-idx3-ubyte[.gz]: magic 0x00000803, count, rows, cols
//       (big-endian 32-bit), then count*rows*cols pixel bytes
//   {train,t10k}-labels-idx1-ubyte[.gz]: magic 0x00000801, count, then labels
// The header decides the counts and image size (official: 60,000 and 10,000
// images of 28x28), within caps checked before anything is allocated: at
// most 10,000,000 items, sides of 4,096 and 1 GiB of pixels per file. An
// unpacked file's size must match its header exactly.
#define _POSIX_C_SOURCE 200809L
#include "dataset.h"
#include "../util/fsutil.h"

#include <errno.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

enum { IDX_IMAGES = 0x00000803, IDX_LABELS = 0x00000801, MAX_SIDE = 4096, MAX_ITEMS = 10000000 };
static const long long MAX_PIXELS = 1LL << 30; // stops a hostile header's allocation

// DIR/base if present, else DIR/base.gz (named in the error if neither is).
static int find_file(const char *dir, const char *base, const char *name, char *path, size_t cap,
                     lr_err *e) {
    if (fs_path(path, cap, dir, base, e) != 0) return -1;
    if (fs_exists(path)) return 0;
    size_t len = strlen(path);
    if (len + 4 > cap) return lr_fail(e, "%s.gz: path too long", path);
    memcpy(path + len, ".gz", 4);
    if (fs_exists(path)) return 0;
    return lr_fail(e, "%s: missing; expected the IDX file %s (or %s.gz as published) in %s. "
                      "Use --data DIR to point at them, or `lrscope fetch %s`",
                   path, base, base, dir, name);
}

static const char *gz_why(gzFile g) {
    int code;
    const char *msg = gzerror(g, &code);
    return code == Z_ERRNO ? lr_strerror(errno) : lr_reason(msg);
}

// Opens an IDX file (gzipped or not) for reading, refusing anything but a
// regular file by type; *size receives its size on disk.
static gzFile idx_open(const char *path, long long *size, lr_err *e) {
    int fd = fs_open_regular(path, "an IDX file", size, e);
    if (fd < 0) return NULL;
    gzFile g = gzdopen(fd, "rb");
    if (!g) {
        close(fd);
        lr_fail(e, "%s: cannot open: out of memory", path);
        return NULL;
    }
    gzbuffer(g, 1 << 17);
    return g;
}

// An unpacked file (gzdirect) must hold exactly what its header announces.
static int check_direct_size(gzFile g, const char *path, long long size, long long header_bytes,
                             long long body, const char *what, lr_err *e) {
    if (!gzdirect(g) || size == header_bytes + body) return 0;
    if (size > header_bytes + body)
        return lr_fail(e, "%s: %lld bytes after its header, more than the %lld of the %s its "
                          "header announces; the header's count is wrong or this is not one "
                          "IDX file",
                       path, size - header_bytes, body, what);
    return lr_fail(e, "%s: truncated: %lld bytes after its header, expected %lld for the %s "
                      "its header announces",
                   path, size - header_bytes, body, what);
}

// Reads exactly len bytes; fails naming the file and what was expected.
static int gz_read_exact(gzFile g, const char *path, void *buf, size_t len, const char *what,
                         lr_err *e) {
    uint8_t *p = buf;
    size_t done = 0;
    while (done < len) {
        size_t want = len - done > (1u << 30) ? (1u << 30) : len - done;
        int got = gzread(g, p + done, (unsigned)want);
        if (got < 0) return lr_fail(e, "%s: read error in %s: %s", path, what, gz_why(g));
        if (got == 0)
            return lr_fail(e, "%s: truncated: ends after %zu of the %zu bytes of %s", path, done,
                           len, what);
        done += (size_t)got;
    }
    return 0;
}

static int read_header(gzFile g, const char *path, uint32_t magic, uint32_t *fields, int n_fields,
                       lr_err *e) {
    uint8_t h[16];
    if (gz_read_exact(g, path, h, (size_t)(4 + 4 * n_fields), "the IDX header", e) != 0) return -1;
    uint32_t v[4];
    for (int i = 0; i < 1 + n_fields; i++)
        v[i] = (uint32_t)h[4 * i] << 24 | (uint32_t)h[4 * i + 1] << 16 |
               (uint32_t)h[4 * i + 2] << 8 | h[4 * i + 3];
    if (v[0] != magic)
        return lr_fail(e, "%s: magic number 0x%08x, expected 0x%08x (IDX %s); not an MNIST-style "
                          "file",
                       path, v[0], magic, magic == IDX_IMAGES ? "images" : "labels");
    memcpy(fields, v + 1, sizeof *fields * (size_t)n_fields);
    return 0;
}

static int expect_end(gzFile g, const char *path, const char *what, lr_err *e) {
    uint8_t extra;
    int got = gzread(g, &extra, 1);
    if (got < 0) return lr_fail(e, "%s: read error: %s", path, gz_why(g));
    if (got > 0)
        return lr_fail(e, "%s: holds more data than the %s its header announces; the header's "
                          "count is wrong or this is not one IDX file",
                       path, what);
    return 0;
}

static int read_images(const char *path, dataset *d, lr_err *e) {
    long long size = 0;
    gzFile g = idx_open(path, &size, e);
    if (!g) return -1;
    uint32_t f[3] = {0, 0, 0};
    int rc = read_header(g, path, IDX_IMAGES, f, 3, e);
    if (rc == 0 && (f[0] == 0 || f[0] > MAX_ITEMS || f[1] == 0 || f[1] > MAX_SIDE || f[2] == 0 ||
                    f[2] > MAX_SIDE || (long long)f[0] * f[1] * f[2] > MAX_PIXELS))
        rc = lr_fail(e, "%s: header says %u images of %ux%u; expected 1..%d images, sides of "
                        "1..%d and at most %lld pixels in all",
                     path, f[0], f[1], f[2], MAX_ITEMS, MAX_SIDE, MAX_PIXELS);
    char what[64];
    snprintf(what, sizeof what, "%u images of %ux%u", f[0], f[1], f[2]);
    if (rc == 0)
        rc = check_direct_size(g, path, size, 16, (long long)f[0] * f[1] * f[2], what, e);
    if (rc == 0) {
        dataset_alloc(d, (int)f[0], 1, (int)f[1], (int)f[2], 10);
        rc = gz_read_exact(g, path, d->pixels, (size_t)f[0] * f[1] * f[2], what, e);
        if (rc == 0) rc = expect_end(g, path, what, e);
    }
    gzclose(g);
    return rc;
}

static int read_labels(const char *path, dataset *d, const char *images_path, lr_err *e) {
    long long size = 0;
    gzFile g = idx_open(path, &size, e);
    if (!g) return -1;
    uint32_t n = 0;
    int rc = read_header(g, path, IDX_LABELS, &n, 1, e);
    if (rc == 0 && n != (uint32_t)d->n)
        rc = lr_fail(e, "%s: %u labels, but %s holds %d images", path, n, images_path, d->n);
    char what[64];
    snprintf(what, sizeof what, "%u labels", n);
    if (rc == 0) rc = check_direct_size(g, path, size, 8, n, what, e);
    uint8_t *raw = NULL;
    if (rc == 0) {
        raw = lr_malloc(n);
        rc = gz_read_exact(g, path, raw, n, "the labels", e);
    }
    if (rc == 0) rc = expect_end(g, path, what, e);
    for (uint32_t i = 0; rc == 0 && i < n; i++) {
        if (raw[i] > 9) rc = lr_fail(e, "%s: label %u is %d, expected 0..9", path, i, raw[i]);
        else d->labels[i] = raw[i];
    }
    free(raw);
    gzclose(g);
    return rc;
}

static int read_split(const char *dir, const char *name, const char *split, dataset *d,
                      lr_err *e) {
    char base[64], images[FS_PATH_MAX], labels[FS_PATH_MAX];
    snprintf(base, sizeof base, "%s-images-idx3-ubyte", split);
    if (find_file(dir, base, name, images, sizeof images, e) != 0) return -1;
    snprintf(base, sizeof base, "%s-labels-idx1-ubyte", split);
    if (find_file(dir, base, name, labels, sizeof labels, e) != 0) return -1;
    if (read_images(images, d, e) != 0) return -1;
    return read_labels(labels, d, images, e);
}

// name: the data set, for messages; names: class names, NULL for "0".."9".
static int load(const char *dir, const char *name, const char *const *names, dataset *train,
                dataset *test, lr_err *e) {
    if (dataset_check_dir(dir, e) != 0) return -1;
    if (!fs_is_dir(dir))
        return lr_fail(e, "%s: no such folder; expected the IDX files train-images-idx3-ubyte.gz, "
                          "train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz and "
                          "t10k-labels-idx1-ubyte.gz there. Use --data DIR, or `lrscope fetch %s`",
                       dir, name);
    if (read_split(dir, name, "train", train, e) != 0) return -1;
    if (read_split(dir, name, "t10k", test, e) != 0) return -1;
    if (test->h != train->h || test->w != train->w)
        return lr_fail(e, "%s: test images are %dx%d but training images are %dx%d", dir, test->h,
                       test->w, train->h, train->w);
    if (names) {
        dataset *both[2] = {train, test};
        for (int s = 0; s < 2; s++) {
            both[s]->class_names = lr_calloc(10, sizeof(char *));
            for (int k = 0; k < 10; k++) both[s]->class_names[k] = lr_strdup(names[k]);
        }
    }
    return 0;
}

int mnist_load(const char *dir, dataset *train, dataset *test, lr_err *e) {
    return load(dir, "mnist", NULL, train, test, e);
}

int fashion_mnist_load(const char *dir, dataset *train, dataset *test, lr_err *e) {
    static const char *const names[10] = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                          "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"};
    return load(dir, "fashion-mnist", names, train, test, e);
}
