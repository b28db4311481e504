// augment.c: crop + flip + normalise into the lane layout, with no allocation.
#include "augment.h"
#include "../model/kernels.h"

#include <string.h>

void augment_build_lut(float *lut, int C, const float *mean, const float *std) {
    for (int c = 0; c < C; c++)
        for (int v = 0; v < 256; v++) lut[c * 256 + v] = ((float)v / 255.0f - mean[c]) / std[c];
}

void augment_image(float *dst, int lane, const uint8_t *src, int C, int H, int W,
                   int pad, int top, int left, int flip, const float *lut) {
    for (int c = 0; c < C; c++) {
        const float *lc = lut + c * 256;
        const uint8_t *plane = src + (size_t)c * H * W;
        float *out = dst + (size_t)c * H * W * LANES + lane;
        for (int y = 0; y < H; y++) {
            int sy = y + top - pad;
            float *orow = out + (size_t)y * W * LANES;
            if (sy < 0 || sy >= H) {
                for (int x = 0; x < W; x++) orow[(size_t)x * LANES] = lc[0];
                continue;
            }
            const uint8_t *srow = plane + (size_t)sy * W;
            for (int x = 0; x < W; x++) {
                int sx = (flip ? W - 1 - x : x) + left - pad;
                orow[(size_t)x * LANES] = (sx >= 0 && sx < W) ? lc[srow[sx]] : lc[0];
            }
        }
    }
}

void augment_group(float *dst, const uint8_t *const *src, const uint8_t *top, const uint8_t *left,
                   const uint8_t *flip, int C, int H, int W, int pad, const float *lut) {
    for (int c = 0; c < C; c++) {
        const float *lc = lut + c * 256;
        for (int y = 0; y < H; y++) {
            float *orow = dst + ((size_t)c * H + y) * W * LANES;
            for (int l = 0; l < LANES; l++) {
                float *o = orow + l;
                int sy = y + top[l] - pad;
                if (!src[l] || sy < 0 || sy >= H) {
                    float fill = src[l] ? lc[0] : 0.0f;
                    for (int x = 0; x < W; x++) o[(size_t)x * LANES] = fill;
                    continue;
                }
                const uint8_t *srow = src[l] + ((size_t)c * H + sy) * W;
                // Output columns [x0, x1) read inside the image; the rest is padding.
                int shift = left[l] - pad; // source column of output x (unflipped) is x + shift
                int x0 = shift < 0 ? -shift : 0, x1 = shift > 0 ? W - shift : W;
                if (x0 > W) x0 = W; // a crop wholly in the padding (image narrower than pad)
                if (x1 < x0) x1 = x0;
                if (flip[l]) { // output x reads flipped column W-1-x
                    int f0 = W - x1, f1 = W - x0;
                    for (int x = 0; x < f0; x++) o[(size_t)x * LANES] = lc[0];
                    for (int x = f0; x < f1; x++) o[(size_t)x * LANES] = lc[srow[W - 1 - x + shift]];
                    for (int x = f1; x < W; x++) o[(size_t)x * LANES] = lc[0];
                } else {
                    for (int x = 0; x < x0; x++) o[(size_t)x * LANES] = lc[0];
                    for (int x = x0; x < x1; x++) o[(size_t)x * LANES] = lc[srow[x + shift]];
                    for (int x = x1; x < W; x++) o[(size_t)x * LANES] = lc[0];
                }
            }
        }
    }
}

int augment_avx512_usable(const char *isa, int W) {
    if (W != 32 || (isa && strcmp(isa, "auto") != 0 && strcmp(isa, "avx512") != 0)) return 0;
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vbmi");
}
