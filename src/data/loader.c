// loader.c: a background thread fills batch slots while the trainer computes;
// two slots, so batch b+1 is ready when batch b is done.
#include "loader.h"
#include "augment.h"
#include "../model/kernels.h"
#include "../util/rng.h"

#include <pthread.h>
#include <string.h>

struct loader {
    const dataset *d;
    int batch_size, train, pad, hflip, prefill;
    int avx512;         // transform with augment_group_avx512
    float mean[DATASET_MAX_CHANNELS], std[DATASET_MAX_CHANNELS];
    uint64_t seed;
    int n_batches;
    size_t img_floats;  // C*H*W*LANES: one group of one image position
    float lut[DATASET_MAX_CHANNELS * 256];
    int *perm;          // (n) this epoch's order
    uint8_t *top, *left, *flip; // (n) augmentation draws in batch order
    batch slots[2];
    float *slot_x[2];   // owned group buffers behind slots[].x when prefilling
    const float *lanes; // the data set's prepared images, when usable (see loader_prepare_lanes)

    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int epoch, generation, busy, quit, abandon;
    int produced, handed; // batches filled by the worker / given to the consumer
};

void loader_plan_epoch(int n, int train, int pad, int hflip, uint64_t seed, int epoch,
                       int *perm, uint8_t *top, uint8_t *left, uint8_t *flip) {
    for (int i = 0; i < n; i++) perm[i] = i;
    memset(top, pad, (size_t)n);
    memset(left, pad, (size_t)n);
    memset(flip, 0, (size_t)n);
    if (!train) return;
    rng_state r;
    rng_seed(&r, seed, RNG_SHUFFLE, (uint64_t)epoch);
    for (int i = n - 1; i > 0; i--) { // Fisher-Yates
        int j = (int)rng_below(&r, (uint32_t)i + 1);
        int t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
    rng_seed(&r, seed, RNG_AUGMENT, (uint64_t)epoch);
    for (int i = 0; i < n; i++) {
        if (pad > 0) {
            top[i] = (uint8_t)rng_below(&r, (uint32_t)(2 * pad + 1));
            left[i] = (uint8_t)rng_below(&r, (uint32_t)(2 * pad + 1));
        }
        if (hflip) flip[i] = rng_float(&r) < 0.5f;
    }
}

void loader_set_isa(loader *ld, const char *isa) { ld->avx512 = augment_avx512_usable(isa, ld->d->w); }

void loader_fill_group(const loader *ld, const batch *b, int g, float *dst) {
    const dataset *d = ld->d;
    size_t img_bytes = (size_t)d->c * d->h * d->w;
    int k0 = g * LANES;
    // This group's images and draws; lanes past the batch have none (zeros).
    const uint8_t *src[LANES];
    uint8_t top[LANES] = {0}, left[LANES] = {0}, flip[LANES] = {0};
    for (int l = 0; l < LANES; l++) {
        src[l] = k0 + l < b->n ? d->pixels + (size_t)b->index[k0 + l] * img_bytes : NULL;
        if (src[l]) {
            top[l] = b->top[k0 + l];
            left[l] = b->left[k0 + l];
            flip[l] = b->flip[k0 + l];
        }
    }
    if (ld->avx512)
        augment_group_avx512(dst, src, top, left, flip, d->c, d->h, d->w, ld->pad, ld->mean, ld->std);
    else
        augment_group(dst, src, top, left, flip, d->c, d->h, d->w, ld->pad, ld->lut);
}

static void fill_batch(loader *ld, int b, batch *out) {
    const dataset *d = ld->d;
    int first = b * ld->batch_size;
    int n = d->n - first < ld->batch_size ? d->n - first : ld->batch_size;
    out->n = n;
    out->groups = (n + LANES - 1) / LANES;
    if (ld->lanes) { // prepared once: point into it
        out->x = ld->lanes + (size_t)(first / LANES) * ld->img_floats;
    } else if (ld->prefill) {
        out->x = ld->slot_x[b % 2];
    }
    out->top = ld->top + first;
    out->left = ld->left + first;
    out->flip = ld->flip + first;
    for (int k = 0; k < out->groups * LANES; k++) {
        out->index[k] = k < n ? ld->perm[first + k] : -1;
        out->labels[k] = k < n ? d->labels[out->index[k]] : -1;
    }
    if (ld->prefill && !ld->lanes)
        for (int g = 0; g < out->groups; g++)
            loader_fill_group(ld, out, g, ld->slot_x[b % 2] + (size_t)g * ld->img_floats);
}

static void *worker(void *arg) {
    loader *ld = arg;
    int seen = 0;
    pthread_mutex_lock(&ld->mu);
    for (;;) {
        while (!ld->quit && ld->generation == seen) pthread_cond_wait(&ld->cv, &ld->mu);
        if (ld->quit) break;
        seen = ld->generation;
        int epoch = ld->epoch;
        pthread_mutex_unlock(&ld->mu);
        loader_plan_epoch(ld->d->n, ld->train, ld->pad, ld->hflip, ld->seed, epoch, ld->perm,
                          ld->top, ld->left, ld->flip);
        pthread_mutex_lock(&ld->mu);
        for (int b = 0; b < ld->n_batches; b++) {
            // Slot b%2 last held batch b-2; the consumer holds batch handed-1,
            // so b-2 is free (and b may be filled) once b <= handed.
            while (!ld->quit && !ld->abandon && b > ld->handed) pthread_cond_wait(&ld->cv, &ld->mu);
            if (ld->quit || ld->abandon) break;
            pthread_mutex_unlock(&ld->mu);
            fill_batch(ld, b, &ld->slots[b % 2]);
            pthread_mutex_lock(&ld->mu);
            ld->produced = b + 1;
            pthread_cond_broadcast(&ld->cv);
        }
        ld->busy = 0;
        pthread_cond_broadcast(&ld->cv);
    }
    pthread_mutex_unlock(&ld->mu);
    return NULL;
}

loader *loader_create(const dataset *d, const dataset_info *info, int batch_size, int train,
                      uint64_t seed, int prefill) {
    LR_ASSERT(batch_size > 0 && d->n > 0 && d->c <= DATASET_MAX_CHANNELS);
    loader *ld = lr_calloc(1, sizeof *ld);
    ld->d = d;
    ld->batch_size = batch_size;
    ld->train = train;
    ld->pad = train ? info->crop_padding : 0;
    ld->hflip = train ? info->hflip : 0;
    ld->seed = seed;
    ld->prefill = prefill;
    ld->n_batches = (d->n + batch_size - 1) / batch_size;
    ld->img_floats = (size_t)d->c * d->h * d->w * LANES;
    augment_build_lut(ld->lut, d->c, info->mean, info->std);
    memcpy(ld->mean, info->mean, sizeof ld->mean);
    memcpy(ld->std, info->std, sizeof ld->std);
    ld->avx512 = augment_avx512_usable("auto", d->w);
    if (d->lanes && !train && batch_size % LANES == 0) ld->lanes = d->lanes;
    ld->perm = lr_malloc((size_t)d->n * sizeof *ld->perm);
    ld->top = lr_malloc((size_t)d->n);
    ld->left = lr_malloc((size_t)d->n);
    ld->flip = lr_malloc((size_t)d->n);
    int groups = (batch_size + LANES - 1) / LANES;
    for (int s = 0; s < 2; s++) {
        ld->slot_x[s] = prefill ? lr_aligned_alloc((size_t)groups * ld->img_floats * sizeof(float)) : NULL;
        ld->slots[s].x = NULL;
        ld->slots[s].labels = lr_malloc((size_t)groups * LANES * sizeof(int));
        ld->slots[s].index = lr_malloc((size_t)groups * LANES * sizeof(int));
    }
    pthread_mutex_init(&ld->mu, NULL);
    pthread_cond_init(&ld->cv, NULL);
    // Without prefilling, a batch is only a slice of the epoch's plan: cheaper
    // to deal out in the caller than to hand over from another thread.
    if (prefill && pthread_create(&ld->thread, NULL, worker, ld) != 0) {
        // Out of threads or memory: the environment, not a bug (exit 2, no abort).
        fprintf(stderr, "lrscope: cannot start the data loader thread: out of resources\n");
        exit(EXIT_BAD_INPUT);
    }
    return ld;
}

int loader_num_batches(const loader *ld) { return ld->n_batches; }

static void wait_idle(loader *ld) {
    while (ld->busy) pthread_cond_wait(&ld->cv, &ld->mu);
}

void loader_start_epoch(loader *ld, int epoch) {
    if (!ld->prefill) {
        loader_plan_epoch(ld->d->n, ld->train, ld->pad, ld->hflip, ld->seed, epoch, ld->perm, ld->top,
                          ld->left, ld->flip);
        ld->handed = 0;
        return;
    }
    pthread_mutex_lock(&ld->mu);
    ld->abandon = 1;
    pthread_cond_broadcast(&ld->cv);
    wait_idle(ld);
    ld->abandon = 0;
    ld->produced = ld->handed = 0;
    ld->epoch = epoch;
    ld->busy = 1;
    ld->generation++;
    pthread_cond_broadcast(&ld->cv);
    pthread_mutex_unlock(&ld->mu);
}

const batch *loader_next(loader *ld) {
    if (!ld->prefill) {
        if (ld->handed >= ld->n_batches) return NULL;
        batch *b = &ld->slots[ld->handed % 2];
        fill_batch(ld, ld->handed++, b);
        return b;
    }
    pthread_mutex_lock(&ld->mu);
    if (ld->handed >= ld->n_batches) {
        pthread_mutex_unlock(&ld->mu);
        return NULL;
    }
    while (ld->produced <= ld->handed) pthread_cond_wait(&ld->cv, &ld->mu);
    const batch *b = &ld->slots[ld->handed % 2];
    ld->handed++;
    pthread_cond_broadcast(&ld->cv);
    pthread_mutex_unlock(&ld->mu);
    return b;
}

void loader_stop_epoch(loader *ld) {
    if (!ld->prefill) return;
    pthread_mutex_lock(&ld->mu);
    ld->abandon = 1;
    pthread_cond_broadcast(&ld->cv);
    wait_idle(ld);
    pthread_mutex_unlock(&ld->mu);
}

void loader_destroy(loader *ld) {
    if (!ld) return;
    if (ld->prefill) {
        pthread_mutex_lock(&ld->mu);
        ld->quit = 1;
        pthread_cond_broadcast(&ld->cv);
        pthread_mutex_unlock(&ld->mu);
        pthread_join(ld->thread, NULL);
    }
    pthread_mutex_destroy(&ld->mu);
    pthread_cond_destroy(&ld->cv);
    for (int s = 0; s < 2; s++) {
        free(ld->slot_x[s]);
        free(ld->slots[s].labels);
        free(ld->slots[s].index);
    }
    free(ld->perm);
    free(ld->top);
    free(ld->left);
    free(ld->flip);
    free(ld);
}

int loader_prepare_lanes(dataset *d, const dataset_info *info, size_t max_bytes) {
    if (d->lanes) return 0;
    size_t groups = ((size_t)d->n + LANES - 1) / LANES, img_floats = (size_t)d->c * d->h * d->w * LANES;
    if (groups * img_floats * sizeof(float) > max_bytes) return -1;
    float lut[DATASET_MAX_CHANNELS * 256];
    augment_build_lut(lut, d->c, info->mean, info->std);
    float *lanes = lr_aligned_alloc(groups * img_floats * sizeof(float));
    size_t img_bytes = (size_t)d->c * d->h * d->w;
    uint8_t zero[LANES] = {0};
    for (size_t g = 0; g < groups; g++) {
        const uint8_t *src[LANES];
        for (int l = 0; l < LANES; l++) {
            size_t i = g * LANES + (size_t)l;
            src[l] = i < (size_t)d->n ? d->pixels + i * img_bytes : NULL;
        }
        augment_group(lanes + g * img_floats, src, zero, zero, zero, d->c, d->h, d->w, 0, lut);
    }
    d->lanes = lanes;
    return 0;
}
