// Geometry and blending of RGB buffers.
#include "cvision.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

void cv_flip_horizontal(uint8_t *rgb, int width, int height) {
    for (int y = 0; y < height; y++) {
        uint8_t *row = rgb + (size_t)y * width * 3;
        for (int x = 0; x < width / 2; x++) {
            uint8_t *a = row + 3 * x, *b = row + 3 * (width - 1 - x);
            for (int c = 0; c < 3; c++) { uint8_t t = a[c]; a[c] = b[c]; b[c] = t; }
        }
    }
}

void cv_paste(const uint8_t *src, int sw, int sh, uint8_t *dst, int dw, int dh, int x, int y) {
    cv_paste_clipped(src, sw, sh, dst, dw, dh, x, y, 0, 0, dw, dh);
}

void cv_paste_clipped(const uint8_t *src, int sw, int sh, uint8_t *dst, int dw, int dh, int x, int y, int cx0, int cy0,
                      int cx1, int cy1) {
    if (cx0 < 0) cx0 = 0;
    if (cy0 < 0) cy0 = 0;
    if (cx1 > dw) cx1 = dw;
    if (cy1 > dh) cy1 = dh;
    int x0 = x < cx0 ? cx0 : x, y0 = y < cy0 ? cy0 : y;
    int x1 = x + sw > cx1 ? cx1 : x + sw, y1 = y + sh > cy1 ? cy1 : y + sh;
    if (x0 >= x1 || y0 >= y1) return;
    for (int row = y0; row < y1; row++)
        memcpy(dst + ((size_t)row * dw + x0) * 3, src + ((size_t)(row - y) * sw + (x0 - x)) * 3, (size_t)(x1 - x0) * 3);
}

void cv_blend(const uint8_t *a, const uint8_t *b, uint8_t *dst, int64_t bytes, float wa) {
    float wb = 1.0f - wa;
    for (int64_t i = 0; i < bytes; i++) {
        float v = a[i] * wa + b[i] * wb;
        dst[i] = (uint8_t)(v >= 255 ? 255 : v + 0.5f);
    }
}

void cv_to_planar_float(const uint8_t *rgb, int64_t pixels, float *dst) {
    // Division, not a reciprocal multiply: the reference computes x / 255.0 in float32.
    float *r = dst, *g = dst + pixels, *b = dst + 2 * pixels;
    for (int64_t i = 0; i < pixels; i++) {
        r[i] = rgb[3 * i] / 255.0f;
        g[i] = rgb[3 * i + 1] / 255.0f;
        b[i] = rgb[3 * i + 2] / 255.0f;
    }
}

uint8_t *cv_apply_orientation(const uint8_t *rgb, int w, int h, int orientation, int *out_w, int *out_h) {
    int swap = orientation >= 5 && orientation <= 8;
    int ow = swap ? h : w, oh = swap ? w : h;
    uint8_t *out = malloc((size_t)w * h * 3);
    if (!out) return NULL;
    for (int y = 0; y < oh; y++)
        for (int x = 0; x < ow; x++) {
            int sx, sy;
            switch (orientation) {
            case 2: sx = w - 1 - x; sy = y; break;
            case 3: sx = w - 1 - x; sy = h - 1 - y; break;
            case 4: sx = x; sy = h - 1 - y; break;
            case 5: sx = y; sy = x; break;
            case 6: sx = y; sy = h - 1 - x; break;
            case 7: sx = w - 1 - y; sy = h - 1 - x; break;
            case 8: sx = w - 1 - y; sy = x; break;
            default: sx = x; sy = y; break;
            }
            memcpy(out + ((size_t)y * ow + x) * 3, rgb + ((size_t)sy * w + sx) * 3, 3);
        }
    *out_w = ow;
    *out_h = oh;
    return out;
}
