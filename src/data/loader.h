// loader.h: batches for one epoch, prepared by a background thread while the
// previous batch is being computed (double buffering). Training loaders
// reshuffle every epoch and augment; evaluation loaders only normalise. The
// last partial batch is kept. Everything random comes from (seed, epoch), so
// the batches are the same whatever else runs.
//
//   loader *ld = loader_create(&train, info, 128, 1, seed, 1);
//   loader_start_epoch(ld, epoch);
//   const batch *b;
//   while ((b = loader_next(ld)) != NULL) { ... }   // b valid until the next call
//   loader_destroy(ld);
#ifndef LRSCOPE_LOADER_H
#define LRSCOPE_LOADER_H

#include "dataset.h"

typedef struct {
    int n;          // images in this batch
    int groups;     // ceil(n / LANES)
    const float *x; // (groups, C, H, W, LANES), normalised; NULL unless prefilled or prepared
    int *labels;    // (groups * LANES), -1 in empty lanes
    int *index;     // (groups * LANES) which data set images, in batch order; -1 in empty lanes
    const uint8_t *top, *left, *flip; // (n) augmentation draws, in batch order
} batch;

typedef struct loader loader;

// prefill 1: the background thread also transforms the images into batch.x
// (worth it when a core is spare); prefill 0: it only deals out the epoch's
// plan and the compute threads call loader_fill_group for their own groups,
// so on a fully busy machine no thread waits for another.
loader *loader_create(const dataset *d, const dataset_info *info, int batch_size, int train,
                      uint64_t seed, int prefill);
// The transform follows the kernels' ISA choice ("auto" by default): the
// AVX-512 one where it can run, else the portable one (same bits either way).
void loader_set_isa(loader *ld, const char *isa);
// Transforms group g of batch b into dst (C, H, W, LANES). Thread-safe.
void loader_fill_group(const loader *ld, const batch *b, int g, float *dst);
int loader_num_batches(const loader *ld);
void loader_start_epoch(loader *ld, int epoch);
// NULL once the epoch's batches are all given out.
const batch *loader_next(loader *ld);
// Abandons the rest of the epoch (the background thread finishes its batch).
void loader_stop_epoch(loader *ld);
void loader_destroy(loader *ld);

// Evaluation data is the same every epoch: transform it once. Fills
// d->lanes unless that would take more than max_bytes (returns 0 if
// prepared). Loaders without shuffling or augmentation, whose batch size is a
// multiple of LANES, then hand out pointers into it instead of transforming.
int loader_prepare_lanes(dataset *d, const dataset_info *info, size_t max_bytes);

// The epoch's order and augmentation draws, exposed for tests: perm (n),
// top/left/flip (n) in batch order. Deterministic in (seed, epoch).
void loader_plan_epoch(int n, int train, int pad, int hflip, uint64_t seed, int epoch,
                       int *perm, uint8_t *top, uint8_t *left, uint8_t *flip);

#endif
