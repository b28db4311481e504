// resize.c: Pillow's bilinear resampling of 8-bit images (what torchvision's
// Resize does to a PIL image), and the normalisation after it.
//
// Why PIL's and not the tensor path (F.interpolate, no antialias): the
// models are trained on images torchvision reads as PIL images, and a script
// classifying a photo with the same transforms (Resize, ToTensor, Normalize)
// hands Resize a PIL image. Pillow's filter has support 1 scaled by the
// shrink factor, so shrinking averages every source pixel (antialiasing);
// its weights are rounded to 22-bit fixed point and each pass rounds to a
// byte, all reproduced here so the bytes match Pillow's.
#include "resize.h"
#include "augment.h"
#include "dataset.h"

#include <math.h>
#include <string.h>

enum { PRECISION_BITS = 32 - 8 - 2 };

static double bilinear(double x) {
    x = fabs(x);
    return x < 1.0 ? 1.0 - x : 0.0;
}

// Pillow's precompute_coeffs + normalize_coeffs_8bpc for in_size -> out_size:
// for output i, source pixels bounds[2i] .. + bounds[2i+1] with fixed-point
// weights k[i * ksize ..]. Returns ksize; *k and *bounds are the caller's.
static int coeffs(int in_size, int out_size, int32_t **k_out, int **bounds_out) {
    double scale = (double)in_size / out_size, filterscale = scale < 1.0 ? 1.0 : scale;
    double support = 1.0 * filterscale;
    int ksize = (int)ceil(support) * 2 + 1;
    double *w = lr_malloc((size_t)ksize * sizeof *w);
    int32_t *k = lr_calloc((size_t)out_size * ksize, sizeof *k);
    int *bounds = lr_malloc((size_t)out_size * 2 * sizeof *bounds);
    for (int xx = 0; xx < out_size; xx++) {
        double center = (xx + 0.5) * scale, ww = 0.0, ss = 1.0 / filterscale;
        int xmin = (int)(center - support + 0.5), xmax = (int)(center + support + 0.5);
        if (xmin < 0) xmin = 0;
        if (xmax > in_size) xmax = in_size;
        xmax -= xmin;
        for (int x = 0; x < xmax; x++) {
            w[x] = bilinear((x + xmin - center + 0.5) * ss);
            ww += w[x];
        }
        for (int x = 0; x < xmax; x++) {
            double v = ww != 0.0 ? w[x] / ww : w[x];
            k[(size_t)xx * ksize + x] = (int32_t)(v < 0 ? -0.5 + v * (1 << PRECISION_BITS)
                                                        : 0.5 + v * (1 << PRECISION_BITS));
        }
        bounds[2 * xx] = xmin;
        bounds[2 * xx + 1] = xmax;
    }
    free(w);
    *k_out = k;
    *bounds_out = bounds;
    return ksize;
}

static uint8_t clip8(int32_t v) {
    if (v < 0) return 0;
    v >>= PRECISION_BITS;
    return (uint8_t)(v > 255 ? 255 : v);
}

// One pass along rows (stride 1) or columns (stride = width): n lines of
// in_size samples, `step` apart between lines, to out_size samples.
static void resample(uint8_t *dst, const uint8_t *src, int lines, int in_size, int out_size,
                     size_t src_line, size_t src_step, size_t dst_line, size_t dst_step) {
    int32_t *k;
    int *bounds;
    int ksize = coeffs(in_size, out_size, &k, &bounds);
    for (int l = 0; l < lines; l++) {
        const uint8_t *s = src + (size_t)l * src_line;
        uint8_t *d = dst + (size_t)l * dst_line;
        for (int xx = 0; xx < out_size; xx++) {
            const int32_t *kx = k + (size_t)xx * ksize;
            int xmin = bounds[2 * xx], xmax = bounds[2 * xx + 1];
            int32_t acc = 1 << (PRECISION_BITS - 1);
            for (int x = 0; x < xmax; x++) acc += (int32_t)s[(size_t)(x + xmin) * src_step] * kx[x];
            d[(size_t)xx * dst_step] = clip8(acc);
        }
    }
    free(k);
    free(bounds);
}

void resize_bilinear_u8(uint8_t *dst, int oh, int ow, const uint8_t *src, int c, int h, int w) {
    LR_ASSERT(oh > 0 && ow > 0 && h > 0 && w > 0 && c > 0);
    uint8_t *tmp = lr_malloc((size_t)h * ow);
    for (int ch = 0; ch < c; ch++) {
        const uint8_t *s = src + (size_t)ch * h * w;
        uint8_t *d = dst + (size_t)ch * oh * ow;
        const uint8_t *rows = s; // (h, ow) after the horizontal pass
        if (ow != w) {
            resample(tmp, s, h, w, ow, (size_t)w, 1, (size_t)ow, 1);
            rows = tmp;
        }
        if (oh != h) resample(d, rows, ow, h, oh, 1, (size_t)ow, 1, (size_t)ow);
        else memcpy(d, rows, (size_t)h * ow);
    }
    free(tmp);
}

void resize_normalize(float *dst, int oh, int ow, const uint8_t *src, int c, int h, int w,
                      const float *mean, const float *std) {
    LR_ASSERT(c <= DATASET_MAX_CHANNELS);
    uint8_t *px = lr_malloc((size_t)c * oh * ow);
    resize_bilinear_u8(px, oh, ow, src, c, h, w);
    float lut[DATASET_MAX_CHANNELS * 256];
    augment_build_lut(lut, c, mean, std);
    for (int ch = 0; ch < c; ch++)
        for (size_t i = 0; i < (size_t)oh * ow; i++)
            dst[(size_t)ch * oh * ow + i] = lut[ch * 256 + px[(size_t)ch * oh * ow + i]];
    free(px);
}
