// augment_avx512.c: augment_group for 32-pixel-wide images with AVX-512
// (BW, VL, VBMI), bit for bit: each lane's row is cropped and flipped by one
// byte permute, the 16 rows are transposed into lane order with two-source
// byte permutes, and the bytes are normalised with the same IEEE operations
// as the scalar lookup table ((v / 255 - mean) / std). Compiled with the
// AVX-512 flags alone; augment_select only returns it on a CPU that has them.
#include "augment.h"
#include "../model/kernels.h"

#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VL__) && defined(__AVX512VBMI__)
#include <immintrin.h>

enum { W32 = 32 };

void augment_group_avx512(float *dst, const uint8_t *const *src, const uint8_t *top,
                          const uint8_t *left, const uint8_t *flip, int C, int H, int W, int pad,
                          const float *mean, const float *std) {
    LR_ASSERT(W == W32);
    // Per lane: the byte permute that crops (and flips) a row, and which
    // output columns fall inside the image.
    __m256i perm[LANES];
    __mmask32 inside[LANES];
    __mmask16 present = 0;
    for (int l = 0; l < LANES; l++) {
        uint8_t idx[W32];
        uint32_t ok = 0;
        int shift = src[l] ? left[l] - pad : 0;
        for (int x = 0; x < W32; x++) {
            int col = src[l] && flip[l] ? W32 - 1 - x + shift : x + shift;
            idx[x] = (uint8_t)(col & 31);
            if (col >= 0 && col < W32) ok |= 1u << x;
        }
        perm[l] = _mm256_loadu_si256((const __m256i *)idx);
        inside[l] = ok;
        if (src[l]) present |= (__mmask16)(1u << l);
    }
    // Transpose tables: output byte p = j*16 + l of block k (columns 4k..4k+3)
    // comes from row l, column 4k + j; the rows sit two to a register, so a
    // two-source permute serves four rows at a time (rows 4a..4a+3).
    __m512i tidx[4];
    for (int a = 0; a < 4; a++) {
        uint8_t t[64];
        for (int p = 0; p < 64; p++) {
            int j = p / 16, r = p % 16 - 4 * a; // r: row within the four (others: don't care)
            if (r < 0 || r > 3) r = 0;
            t[p] = (uint8_t)((r < 2 ? r * 32 : 64 + (r - 2) * 32) + j);
        }
        tidx[a] = _mm512_loadu_si512(t);
    }
    const __mmask64 rows_of[4] = {0x000F000F000F000FULL, 0x00F000F000F000F0ULL, 0x0F000F000F000F00ULL,
                                  0xF000F000F000F000ULL};
    _Alignas(64) uint8_t rows[LANES][W32];
    for (int c = 0; c < C; c++) {
        const __m512 v255 = _mm512_set1_ps(255.0f), vmean = _mm512_set1_ps(mean[c]), vstd = _mm512_set1_ps(std[c]);
        for (int y = 0; y < H; y++) {
            for (int l = 0; l < LANES; l++) {
                int sy = y + top[l] - pad;
                __m256i r = _mm256_setzero_si256();
                if (src[l] && sy >= 0 && sy < H) {
                    r = _mm256_loadu_si256((const __m256i *)(src[l] + ((size_t)c * H + sy) * W32));
                    r = _mm256_maskz_permutexvar_epi8(inside[l], perm[l], r);
                }
                _mm256_store_si256((__m256i *)rows[l], r);
            }
            __m512i z[8]; // rows 2m and 2m+1
            for (int m = 0; m < 8; m++) z[m] = _mm512_load_si512(rows[2 * m]);
            float *orow = dst + ((size_t)c * H + y) * W32 * LANES;
            for (int k = 0; k < W32 / 4; k++) {
                __m512i shiftk = _mm512_set1_epi8((char)(4 * k)), block = _mm512_setzero_si512();
                for (int a = 0; a < 4; a++) {
                    __m512i part = _mm512_permutex2var_epi8(z[2 * a], _mm512_add_epi8(tidx[a], shiftk), z[2 * a + 1]);
                    block = _mm512_mask_blend_epi8(rows_of[a], block, part);
                }
                // the four columns of the block (the lane index must be a constant)
                __m128i col[4] = {_mm512_extracti32x4_epi32(block, 0), _mm512_extracti32x4_epi32(block, 1),
                                  _mm512_extracti32x4_epi32(block, 2), _mm512_extracti32x4_epi32(block, 3)};
                for (int j = 0; j < 4; j++) {
                    __m512 v = _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(col[j]));
                    v = _mm512_div_ps(_mm512_sub_ps(_mm512_div_ps(v, v255), vmean), vstd);
                    _mm512_store_ps(orow + (size_t)(4 * k + j) * LANES, _mm512_maskz_mov_ps(present, v));
                }
            }
        }
    }
}
#endif
