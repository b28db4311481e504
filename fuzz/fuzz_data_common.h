// fuzz_data_common.h: one data-set loader over files cut from the input.
#ifndef LRSCOPE_FUZZ_DATA_COMMON_H
#define LRSCOPE_FUZZ_DATA_COMMON_H

#include "fuzz_util.h"
#include "../src/data/dataset.h"

// A loaded split must be consistent: labels in range, a name per class.
static inline void fuzz_check_split(const dataset *d) {
    LR_ASSERT(d->n >= 0 && d->num_classes > 0 && d->c >= 1 && d->c <= DATASET_MAX_CHANNELS);
    for (int i = 0; i < d->n; i++) LR_ASSERT(d->labels[i] < d->num_classes);
    if (d->class_names)
        for (int k = 0; k < d->num_classes; k++) LR_ASSERT(d->class_names[k] != NULL);
    if (d->n) {
        // touch the last pixel: the buffer must hold n images of c x h x w
        volatile uint8_t last = d->pixels[(size_t)d->n * d->c * d->h * d->w - 1];
        (void)last;
    }
}

static inline int fuzz_load(int (*load)(const char *, dataset *, dataset *, lr_err *), const char *const *names,
                     int count, const uint8_t *data, size_t n) {
    const char *dir = fuzz_dir();
    fuzz_write_parts(dir, names, count, data, n);
    dataset train, test;
    memset(&train, 0, sizeof train);
    memset(&test, 0, sizeof test);
    lr_err e;
    if (load(dir, &train, &test, &e) == 0) {
        fuzz_check_split(&train);
        fuzz_check_split(&test);
    } else {
        LR_ASSERT(e.msg[0] != '\0');
    }
    dataset_free(&train);
    dataset_free(&test);
    return 0;
}

#endif
