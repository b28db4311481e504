// augment.h: torchvision's training transform for one image, written straight
// into the lane layout: RandomCrop(size, padding) with zero padding in pixel
// space, RandomHorizontalFlip, ToTensor (/255) and Normalize(mean, std).
#ifndef LRSCOPE_AUGMENT_H
#define LRSCOPE_AUGMENT_H

#include "dataset.h"

// lut (C, 256): ((v / 255) - mean[c]) / std[c] in float, as ToTensor + Normalize.
void augment_build_lut(float *lut, int C, const float *mean, const float *std);

// Writes src (C, H, W) bytes into lane `lane` of dst (C, H, W, LANES):
// dst[c][y][x] = pixel (y + top - pad, x' + left - pad) of src, where
// x' = W-1-x if flip else x, and pixels outside the image are 0 (before
// normalising). top, left in [0, 2*pad]; pad 0 and flip 0 is plain normalise.
void augment_image(float *dst, int lane, const uint8_t *src, int C, int H, int W,
                   int pad, int top, int left, int flip, const float *lut);

// The same transform for a whole group, row by row across the lanes so the
// destination rows stay in L1: src[l] is lane l's image or NULL (an empty
// lane, filled with zeros); top, left, flip per lane.
void augment_group(float *dst, const uint8_t *const *src, const uint8_t *top, const uint8_t *left,
                   const uint8_t *flip, int C, int H, int W, int pad, const float *lut);

// The same on AVX-512 (BW, VL, VBMI) for images 32 pixels wide, taking the
// normalisation constants instead of the table; bit-identical results.
void augment_group_avx512(float *dst, const uint8_t *const *src, const uint8_t *top,
                          const uint8_t *left, const uint8_t *flip, int C, int H, int W, int pad,
                          const float *mean, const float *std);
// 1 when augment_group_avx512 can run for this ISA choice ("auto" or
// "avx512"), this CPU and this image width.
int augment_avx512_usable(const char *isa, int W);

#endif
