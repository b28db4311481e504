// augment.c: crop + flip + normalise into the lane layout, with no allocation.
#include "augment.h"
#include "../model/kernels.h"

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
