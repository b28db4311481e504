// resize.h: an image from outside made into a model's input as torchvision
// 0.14 does for a PIL image: Resize((H, W)) (PIL's bilinear filter, which
// widens its support when shrinking, i.e. antialiased, and rounds to 8 bits
// after each pass), ToTensor (/255) and Normalize(mean, std).
//
//   float x[3 * 32 * 32];                          // (C, H, W)
//   resize_normalize(x, 32, 32, pixels, 3, h, w, meta.mean, meta.std);
#ifndef LRSCOPE_RESIZE_H
#define LRSCOPE_RESIZE_H

#include "../util/common.h"

// Resizes each of the c planes of src (c, h, w) to dst (c, oh, ow) with
// Pillow's 8-bit bilinear resampling (horizontal pass, then vertical; a
// side that keeps its size is not resampled).
void resize_bilinear_u8(uint8_t *dst, int oh, int ow, const uint8_t *src, int c, int h, int w);

// resize_bilinear_u8, then ((v / 255) - mean[c]) / std[c] in float, the
// loader's evaluation transform (augment_build_lut): dst (c, oh, ow).
void resize_normalize(float *dst, int oh, int ow, const uint8_t *src, int c, int h, int w,
                      const float *mean, const float *std);

#endif
