// rng.h: a small deterministic random generator (splitmix64 seeding a
// xoshiro256** state). State is passed explicitly; streams are derived from
// the run's seed and a purpose tag, so results never depend on timing.
#ifndef LRSCOPE_RNG_H
#define LRSCOPE_RNG_H

#include <stdint.h>

typedef struct {
    uint64_t s[4];
} rng_state;

// A stream for (seed, stream, index): e.g. (config seed, RNG_SHUFFLE, epoch).
void rng_seed(rng_state *r, uint64_t seed, uint64_t stream, uint64_t index);
uint64_t rng_u64(rng_state *r);
// Uniform in [0, 1) with 24 random bits (float-exact).
float rng_float(rng_state *r);
// Uniform integer in [0, n), unbiased (Lemire's method).
uint32_t rng_below(rng_state *r, uint32_t n);

enum { RNG_INIT = 1, RNG_SHUFFLE = 2, RNG_AUGMENT = 3, RNG_DROPOUT = 4 };

#endif
