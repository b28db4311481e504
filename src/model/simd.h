// simd.h: what kernels_simd.c and layers_simd.c share, the vector types and
// helpers of a file compiled once per ISA (-DKERNEL_ISA=avx2|avx512):
// VL floats per register (16 on AVX-512, 8 on AVX2), vf/vi vectors, FN(name)
// for the ISA-suffixed names, aligned loads and stores, broadcast, ReLU and
// horizontal sum. Included only by those two files, after their headers.
#ifndef LRSCOPE_SIMD_H
#define LRSCOPE_SIMD_H

#include <stdint.h>

#ifndef KERNEL_ISA
#error "compile with -DKERNEL_ISA=avx2 or -DKERNEL_ISA=avx512"
#endif
#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
#define FN(name) CAT(name##_, KERNEL_ISA)

#define L LANES
#if defined(__AVX512F__)
#define VL 16
#else
#define VL 8
#endif
typedef float vf __attribute__((vector_size(VL * 4)));
typedef int32_t vi __attribute__((vector_size(VL * 4)));

#define LD(p) (*(const vf *)(p))
#define ST(p, v) (*(vf *)(p) = (v))
#define ALWAYS_INLINE static inline __attribute__((always_inline))

// A broadcast: ((vf){0} + x would cost an add per weight, as 0 + -0 is +0.)
#if defined(__clang__) // the fuzz build: clang spells GCC's __builtin_shuffle this way
#if VL == 16
#define SPLAT_LANES 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
#else
#define SPLAT_LANES 0, 0, 0, 0, 0, 0, 0, 0
#endif
ALWAYS_INLINE vf splat(float x) { vf v = {x}; return __builtin_shufflevector(v, v, SPLAT_LANES); }
#else
ALWAYS_INLINE vf splat(float x) { return __builtin_shuffle((vf){x}, (vi){0}); }
#endif
// torch.relu: negatives to 0, NaN passes.
ALWAYS_INLINE vf relu(vf v) { return (vf)((vi)v & ((vi)(v > 0.0f) | (vi)(v != v))); }
ALWAYS_INLINE float hsum(vf v) {
    float s = 0.0f;
    for (int l = 0; l < VL; l++) s += v[l];
    return s;
}

#endif
