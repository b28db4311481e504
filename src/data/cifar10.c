// cifar10.c: reads CIFAR-10 in its official binary layout: data_batch_1..5.bin
// (train) and test_batch.bin, each 10,000 records of 1 label byte + 3,072
// pixel bytes (R, G, B planes of 32x32), and batches.meta.txt for the names.
#define _POSIX_C_SOURCE 200809L
#include "dataset.h"
#include "../util/fsutil.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

enum { IMG_BYTES = 3 * 32 * 32, REC_BYTES = 1 + IMG_BYTES, RECS_PER_FILE = 10000 };

// Number of records in one batch file, checked against its size. The official
// files hold 10,000; smaller ones (generated for tests) are accepted, but the
// size must be a whole number of records, and no more than 10,000.
static int count_records(const char *dir, const char *name, int *count, lr_err *e) {
    char path[FS_PATH_MAX];
    if (fs_path(path, sizeof path, dir, name, e) != 0) return -1;
    struct stat st;
    if (stat(path, &st) != 0)
        return lr_fail(e, "%s: missing (%s); expected the CIFAR-10 binary files "
                          "data_batch_1.bin..data_batch_5.bin and test_batch.bin here; "
                          "point --data at the folder that holds them",
                       path, lr_strerror(errno));
    if (fs_check_regular(path, "a CIFAR-10 batch file", NULL, e) != 0) return -1;
    long long size = (long long)st.st_size;
    if (size == 0)
        return lr_fail(e, "%s: empty; expected 3,073-byte records (1 label + 3,072 pixels), "
                          "%d bytes for the official 10,000",
                       path, REC_BYTES * RECS_PER_FILE);
    if (size % REC_BYTES != 0)
        return lr_fail(e, "%s: %lld bytes, expected a whole number of 3,073-byte records (1 label + "
                          "3,072 pixels; %d bytes for the official 10,000); the file is truncated "
                          "or not a CIFAR-10 binary batch",
                       path, size, REC_BYTES * RECS_PER_FILE);
    if (size / REC_BYTES > RECS_PER_FILE)
        return lr_fail(e, "%s: %lld whole records of 3,073 bytes, more than the %d a CIFAR-10 "
                          "batch file holds (expected at most %d); it is not one CIFAR-10 batch",
                       path, size / REC_BYTES, RECS_PER_FILE, RECS_PER_FILE);
    *count = (int)(size / REC_BYTES);
    return 0;
}

// Reads `count` records of one batch file into records [first, first + count) of d.
// buf holds at least count records; reused across files (fresh memory costs page zeroing).
static int read_batch(const char *dir, const char *name, dataset *d, int first, int count,
                      uint8_t *buf, lr_err *e) {
    char path[FS_PATH_MAX];
    if (fs_path(path, sizeof path, dir, name, e) != 0) return -1;
    FILE *f = fs_fopen_regular(path, "a CIFAR-10 batch file", NULL, e);
    if (!f) return -1;
    size_t bytes = (size_t)count * REC_BYTES;
    size_t got = fread(buf, 1, bytes, f); // one read: record-sized reads cost more than the copy
    fclose(f);
    if (got != bytes)
        return lr_fail(e, "%s: read failed after %zu of %zu bytes", path, got, bytes);
    for (int i = 0; i < count; i++) {
        const uint8_t *rec = buf + (size_t)i * REC_BYTES;
        if (rec[0] > 9) return lr_fail(e, "%s: record %d has label %d, expected 0..9", path, i, rec[0]);
        d->labels[first + i] = rec[0];
        memcpy(d->pixels + (size_t)(first + i) * IMG_BYTES, rec + 1, IMG_BYTES);
    }
    return 0;
}

const char *const CIFAR10_CLASS_NAMES[10] = {"airplane", "automobile", "bird", "cat", "deer",
                                        "dog", "frog", "horse", "ship", "truck"};

// Class names from batches.meta.txt when present, else the standard ones.
// A batches.meta.txt that is not a regular file (a folder, a FIFO) is refused.
static int read_names(const char *dir, dataset *d, lr_err *e) {
    char path[FS_PATH_MAX];
    if (fs_path(path, sizeof path, dir, "batches.meta.txt", e) != 0) return -1;
    FILE *f = NULL;
    if (fs_exists(path) && !(f = fs_fopen_regular(path, "a text file of class names", NULL, e)))
        return -1;
    d->class_names = lr_calloc(10, sizeof *d->class_names);
    char line[256];
    for (int k = 0; k < 10; k++) {
        const char *name = CIFAR10_CLASS_NAMES[k];
        if (f && fgets(line, sizeof line, f)) {
            line[strcspn(line, "\r\n")] = '\0';
            if (line[0]) name = line;
        }
        d->class_names[k] = lr_strdup(name);
    }
    if (f) fclose(f);
    return 0;
}

int cifar10_load(const char *dir, dataset *train, dataset *test, lr_err *e) {
    if (dataset_check_dir(dir, e) != 0) return -1;
    if (!fs_is_dir(dir))
        return lr_fail(e, "%s: no such folder; expected the CIFAR-10 binary files "
                          "(data_batch_1.bin..data_batch_5.bin, test_batch.bin) there. "
                          "Use --data DIR to point at them, or `lrscope fetch cifar10`",
                       dir);
    char names[6][32];
    int counts[6], n_train = 0;
    for (int b = 0; b < 6; b++) {
        if (b < 5) snprintf(names[b], sizeof names[b], "data_batch_%d.bin", b + 1);
        else snprintf(names[b], sizeof names[b], "test_batch.bin");
        if (count_records(dir, names[b], &counts[b], e) != 0) return -1;
        if (b < 5) n_train += counts[b];
    }
    // A file cut at a record boundary shows up as a count unlike its siblings.
    for (int b = 1; b < 5; b++)
        if (counts[b] != counts[0])
            return lr_fail(e, "%s/%s: %d records, but %s holds %d; expected every training batch "
                              "to hold the same number (10,000 in the official files)",
                           dir, names[b], counts[b], names[0], counts[0]);
    dataset_alloc(train, n_train, 3, 32, 32, 10);
    dataset_alloc(test, counts[5], 3, 32, 32, 10);
    int most = 0;
    for (int b = 0; b < 6; b++) most = counts[b] > most ? counts[b] : most;
    uint8_t *buf = lr_try_malloc((size_t)most * REC_BYTES);
    if (!buf) return lr_fail(e, "%s: out of memory reading the batch files", dir);
    int rc = 0;
    for (int b = 0, first = 0; b < 5 && rc == 0; first += counts[b], b++)
        rc = read_batch(dir, names[b], train, first, counts[b], buf, e);
    if (rc == 0) rc = read_batch(dir, names[5], test, 0, counts[5], buf, e);
    free(buf);
    if (rc != 0) return -1;
    if (read_names(dir, train, e) != 0 || read_names(dir, test, e) != 0) return -1;
    return 0;
}
