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

// Reads one batch file into records [first, first + 10000) of d.
static int read_batch(const char *dir, const char *name, dataset *d, int first, lr_err *e) {
    char path[4096];
    fs_join(path, sizeof path, dir, name);
    struct stat st;
    if (stat(path, &st) != 0)
        return lr_fail(e, "%s: missing (%s); expected the CIFAR-10 binary files "
                          "data_batch_1.bin..data_batch_5.bin and test_batch.bin here; "
                          "point --data at the folder that holds them",
                       path, strerror(errno));
    if ((long long)st.st_size != (long long)REC_BYTES * RECS_PER_FILE)
        return lr_fail(e, "%s: %lld bytes, expected %d (10,000 records of 3,073 bytes); "
                          "the file is truncated or not a CIFAR-10 binary batch",
                       path, (long long)st.st_size, REC_BYTES * RECS_PER_FILE);
    FILE *f = fopen(path, "rb");
    if (!f) return lr_fail(e, "%s: cannot open: %s", path, strerror(errno));
    uint8_t rec[REC_BYTES];
    for (int i = 0; i < RECS_PER_FILE; i++) {
        if (fread(rec, 1, REC_BYTES, f) != REC_BYTES) {
            fclose(f);
            return lr_fail(e, "%s: read failed at record %d", path, i);
        }
        if (rec[0] > 9) {
            fclose(f);
            return lr_fail(e, "%s: record %d has label %d, expected 0..9", path, i, rec[0]);
        }
        d->labels[first + i] = rec[0];
        memcpy(d->pixels + (size_t)(first + i) * IMG_BYTES, rec + 1, IMG_BYTES);
    }
    fclose(f);
    return 0;
}

static const char *DEFAULT_NAMES[10] = {"airplane", "automobile", "bird", "cat", "deer",
                                        "dog", "frog", "horse", "ship", "truck"};

// Class names from batches.meta.txt when present, else the standard ones.
static void read_names(const char *dir, dataset *d) {
    d->class_names = lr_calloc(10, sizeof *d->class_names);
    char path[4096];
    fs_join(path, sizeof path, dir, "batches.meta.txt");
    FILE *f = fopen(path, "r");
    char line[256];
    for (int k = 0; k < 10; k++) {
        const char *name = DEFAULT_NAMES[k];
        if (f && fgets(line, sizeof line, f)) {
            line[strcspn(line, "\r\n")] = '\0';
            if (line[0]) name = line;
        }
        d->class_names[k] = lr_strdup(name);
    }
    if (f) fclose(f);
}

int cifar10_load(const char *dir, dataset *train, dataset *test, lr_err *e) {
    if (!fs_is_dir(dir))
        return lr_fail(e, "%s: no such folder; expected the CIFAR-10 binary files "
                          "(data_batch_1.bin..data_batch_5.bin, test_batch.bin) there. "
                          "Use --data DIR to point at them, or `lrscope fetch cifar10`",
                       dir);
    dataset_alloc(train, 5 * RECS_PER_FILE, 3, 32, 32, 10);
    dataset_alloc(test, RECS_PER_FILE, 3, 32, 32, 10);
    for (int b = 0; b < 5; b++) {
        char name[32];
        snprintf(name, sizeof name, "data_batch_%d.bin", b + 1);
        if (read_batch(dir, name, train, b * RECS_PER_FILE, e) != 0) return -1;
    }
    if (read_batch(dir, "test_batch.bin", test, 0, e) != 0) return -1;
    read_names(dir, train);
    read_names(dir, test);
    return 0;
}
