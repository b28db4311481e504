// train_data.h: a small learnable CIFAR-shaped data set for the training
// tests (test_train, test_train_bn, test_resume, test_optim): n 32x32 RGB
// images of 10 classes, each class a colour (one bit per channel) with a
// bright square at a class-given place, plus noise, all from the seed.
#ifndef LRSCOPE_TRAIN_DATA_H
#define LRSCOPE_TRAIN_DATA_H

#include "../src/data/dataset.h"
#include "../src/util/rng.h"

static inline void make_data(dataset *d, int n, uint64_t seed) {
    dataset_alloc(d, n, 3, 32, 32, 10);
    rng_state r;
    rng_seed(&r, seed, 99, 0);
    for (int i = 0; i < n; i++) {
        int k = (int)rng_below(&r, 10);
        d->labels[i] = (uint16_t)k;
        uint8_t *img = d->pixels + (size_t)i * 3 * 32 * 32;
        for (int c = 0; c < 3; c++)
            for (int p = 0; p < 32 * 32; p++) {
                int y = p / 32, x = p % 32;
                int base = ((k >> c) & 1) ? 170 : 60;
                int sq = (y / 8 == k % 4 && x / 8 == k / 4 % 4) ? 80 : 0;
                img[c * 1024 + p] = (uint8_t)(base + sq + (int)rng_below(&r, 40));
            }
    }
    dataset_default_class_names(d);
}

static inline const dataset_info *cifar(void) { return dataset_find("cifar10"); }

#endif
