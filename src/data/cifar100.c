// cifar100.c: reads CIFAR-100 in its official binary layout: train.bin and
// test.bin, records of 1 coarse label byte (0..19), 1 fine label byte (0..99)
// and 3,072 pixel bytes (R, G, B planes of 32x32); fine_label_names.txt and
// coarse_label_names.txt for the names. The official files hold 50,000 and
// 10,000 records; any whole number of records up to those is accepted.
#define _POSIX_C_SOURCE 200809L
#include "dataset.h"
#include "../util/fsutil.h"

#include <errno.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>

enum { IMG_BYTES = 3 * 32 * 32, REC_BYTES = 2 + IMG_BYTES, N_COARSE = 20, N_FINE = 100 };

// Records per file in the official release: no split holds more.
static int max_records(const char *name) { return strcmp(name, "train.bin") == 0 ? 50000 : 10000; }

static int read_split(const char *dir, const char *name, int fine, dataset *d, lr_err *e) {
    char path[FS_PATH_MAX];
    if (fs_path(path, sizeof path, dir, name, e) != 0) return -1;
    struct stat st;
    if (stat(path, &st) != 0)
        return lr_fail(e, "%s: missing (%s); expected the CIFAR-100 binary files train.bin and "
                          "test.bin here; point --data at the folder that holds them, or run "
                          "`lrscope fetch cifar100`",
                       path, lr_strerror(errno));
    long long size = 0;
    FILE *f = fs_fopen_regular(path, "a CIFAR-100 binary file", &size, e);
    if (!f) return -1;
    int rc = 0;
    if (size == 0)
        rc = lr_fail(e, "%s: empty; expected 3,074-byte records (coarse label, fine label, "
                        "3,072 pixels)", path);
    else if (size % REC_BYTES != 0)
        rc = lr_fail(e, "%s: %lld bytes, expected a whole number of 3,074-byte records (coarse "
                        "label, fine label, 3,072 pixels); the file is truncated or not a "
                        "CIFAR-100 binary file",
                     path, size);
    else if (size / REC_BYTES > max_records(name))
        rc = lr_fail(e, "%s: %lld whole records of 3,074 bytes, more than the %d the official "
                        "%s holds (expected at most %d)",
                     path, size / REC_BYTES, max_records(name), name, max_records(name));
    if (rc != 0) {
        fclose(f);
        return -1;
    }
    int n = (int)(size / REC_BYTES);
    dataset_alloc(d, n, 3, 32, 32, fine ? N_FINE : N_COARSE);
    uint8_t rec[REC_BYTES];
    for (int i = 0; i < n; i++) {
        if (fread(rec, 1, REC_BYTES, f) != REC_BYTES) {
            fclose(f);
            return lr_fail(e, "%s: read failed at record %d", path, i);
        }
        if (rec[0] >= N_COARSE || rec[1] >= N_FINE) {
            fclose(f);
            return lr_fail(e, "%s: record %d has coarse label %d and fine label %d, expected "
                              "0..19 and 0..99",
                           path, i, rec[0], rec[1]);
        }
        d->labels[i] = fine ? rec[1] : rec[0];
        memcpy(d->pixels + (size_t)i * IMG_BYTES, rec + 2, IMG_BYTES);
    }
    fclose(f);
    return 0;
}

// Names from the label file shipped with the data set, one per line; missing
// lines (or file) leave the class number as its name.
static int read_names(const char *dir, const char *file, dataset *d, lr_err *e) {
    char path[FS_PATH_MAX];
    if (fs_path(path, sizeof path, dir, file, e) != 0) return -1;
    FILE *f = NULL;
    if (fs_exists(path) && !(f = fs_fopen_regular(path, "a text file of class names", NULL, e)))
        return -1;
    d->class_names = lr_calloc((size_t)d->num_classes, sizeof *d->class_names);
    char line[256];
    int k = 0;
    while (f && k < d->num_classes && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (line[0]) d->class_names[k++] = lr_strdup(line); // the files end with blank lines
    }
    for (; k < d->num_classes; k++) {
        snprintf(line, sizeof line, "%d", k);
        d->class_names[k] = lr_strdup(line);
    }
    if (f) fclose(f);
    return 0;
}

static int load(const char *dir, int fine, dataset *train, dataset *test, lr_err *e) {
    if (dataset_check_dir(dir, e) != 0) return -1;
    if (!fs_is_dir(dir))
        return lr_fail(e, "%s: no such folder; expected the CIFAR-100 binary files (train.bin, "
                          "test.bin) there. Use --data DIR to point at them, or `lrscope fetch "
                          "cifar100`",
                       dir);
    if (read_split(dir, "train.bin", fine, train, e) != 0) return -1;
    if (read_split(dir, "test.bin", fine, test, e) != 0) return -1;
    const char *names = fine ? "fine_label_names.txt" : "coarse_label_names.txt";
    if (read_names(dir, names, train, e) != 0 || read_names(dir, names, test, e) != 0) return -1;
    return 0;
}

int cifar100_load(const char *dir, dataset *train, dataset *test, lr_err *e) {
    return load(dir, 1, train, test, e);
}

int cifar100_coarse_load(const char *dir, dataset *train, dataset *test, lr_err *e) {
    return load(dir, 0, train, test, e);
}
