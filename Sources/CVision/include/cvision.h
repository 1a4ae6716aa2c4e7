// Pixel work of the Vision module: JPEG/PNG codecs (libjpeg-turbo, libpng) and the loops that
// must stay fast in debug builds (resampling, colour jitter, blending). Images are 8-bit RGB,
// row-major, 3 bytes per pixel, unless a function says otherwise.
#ifndef CVISION_H
#define CVISION_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    int width, height;
    uint8_t *pixels;      // RGB, malloc'ed: release with cv_free
    int orientation;      // EXIF orientation 1-8 (1 when absent)
    int source_channels;  // channels in the file (1 grey, 3 colour, 4 CMYK / alpha)
    char error[256];      // why decoding failed
} cv_decoded;

// 0 on success. The whole file must be in memory.
int cv_decode_jpeg(const uint8_t *data, size_t size, cv_decoded *out);
int cv_decode_png(const uint8_t *data, size_t size, cv_decoded *out);
// Output buffers are malloc'ed: release with cv_free. error receives a message on failure.
int cv_encode_jpeg(const uint8_t *rgb, int width, int height, int quality, uint8_t **out, size_t *out_size,
                   char *error, size_t error_size);
int cv_encode_png(const uint8_t *rgb, int width, int height, uint8_t **out, size_t *out_size, char *error,
                  size_t error_size);
void cv_free(void *p);

// Resampling with PIL's conventions (pixel centres, filter support widened when shrinking so
// that downscaling averages). filter: 0 nearest, 1 bilinear, 2 bicubic (a = -0.5).
void cv_resize(const uint8_t *src, int sw, int sh, uint8_t *dst, int dw, int dh, int filter);

// OpenCV's 8-bit RGB<->HSV (hue in [0, 180)) with the reference jitter: hue * rh mod 180,
// saturation and value scaled and clipped. In place.
void cv_hsv_jitter(uint8_t *rgb, int64_t pixels, float rh, float rs, float rv);
void cv_rgb_to_hsv(const uint8_t *rgb, uint8_t *hsv, int64_t pixels);
void cv_hsv_to_rgb(const uint8_t *hsv, uint8_t *rgb, int64_t pixels);

void cv_flip_horizontal(uint8_t *rgb, int width, int height);
// Copies src onto dst at (x, y), clipped to dst's bounds; src may stick out on any side.
void cv_paste(const uint8_t *src, int sw, int sh, uint8_t *dst, int dw, int dh, int x, int y);
// The same, writing only inside the rectangle [cx0, cx1) x [cy0, cy1) of dst.
void cv_paste_clipped(const uint8_t *src, int sw, int sh, uint8_t *dst, int dw, int dh, int x, int y, int cx0, int cy0,
                      int cx1, int cy1);
// dst = round(a * wa + b * (1 - wa)), the MixUp blend.
void cv_blend(const uint8_t *a, const uint8_t *b, uint8_t *dst, int64_t bytes, float wa);
// Planar float32 (CHW) in [0, 1] from RGB bytes: the network's input layout.
void cv_to_planar_float(const uint8_t *rgb, int64_t pixels, float *dst);
// EXIF orientation (1-8) applied to an RGB image; returns the new buffer (malloc'ed).
uint8_t *cv_apply_orientation(const uint8_t *rgb, int width, int height, int orientation, int *out_width,
                              int *out_height);

#ifdef __cplusplus
}
#endif
#endif
