// Separable resampling with PIL's geometry: output pixel centres map to (x + 0.5) * scale, and
// the filter widens by the scale when shrinking so each output averages its whole footprint.
#include "cvision.h"
#include <math.h>
#include <stdlib.h>

static double bilinear(double x) {
    x = fabs(x);
    return x < 1.0 ? 1.0 - x : 0.0;
}

static double bicubic(double x) {
    const double a = -0.5;
    x = fabs(x);
    if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0;
    if (x < 2.0) return (((x - 5.0) * x + 8.0) * x - 4.0) * a;
    return 0.0;
}

typedef struct { int *start, *count; float *weights; int ksize; } coefficients;

static coefficients make_coefficients(int in_size, int out_size, int filter) {
    double scale = (double)in_size / out_size;
    double filterscale = scale < 1.0 ? 1.0 : scale;
    double support = (filter == 1 ? 1.0 : 2.0) * filterscale;
    coefficients c;
    c.ksize = (int)ceil(support) * 2 + 1;
    c.start = malloc(sizeof(int) * out_size);
    c.count = malloc(sizeof(int) * out_size);
    c.weights = calloc((size_t)out_size * c.ksize, sizeof(float));
    for (int o = 0; o < out_size; o++) {
        double center = (o + 0.5) * scale;
        int lo = (int)(center - support + 0.5), hi = (int)(center + support + 0.5);
        if (lo < 0) lo = 0;
        if (hi > in_size) hi = in_size;
        int n = hi - lo;
        if (n > c.ksize) n = c.ksize;
        double total = 0, w[64];
        for (int i = 0; i < n; i++) {
            double arg = (i + lo - center + 0.5) / filterscale;
            w[i] = filter == 1 ? bilinear(arg) : bicubic(arg);
            total += w[i];
        }
        for (int i = 0; i < n; i++) c.weights[(size_t)o * c.ksize + i] = (float)(total != 0 ? w[i] / total : 0);
        c.start[o] = lo;
        c.count[o] = n;
    }
    return c;
}

static void free_coefficients(coefficients *c) { free(c->start); free(c->count); free(c->weights); }

static inline uint8_t clip_round(float v) { return v <= 0 ? 0 : (v >= 255 ? 255 : (uint8_t)(v + 0.5f)); }

void cv_resize(const uint8_t *src, int sw, int sh, uint8_t *dst, int dw, int dh, int filter) {
    if (filter == 0) {
        for (int y = 0; y < dh; y++) {
            int sy = (int)((y + 0.5) * sh / dh);
            if (sy >= sh) sy = sh - 1;
            for (int x = 0; x < dw; x++) {
                int sx = (int)((x + 0.5) * sw / dw);
                if (sx >= sw) sx = sw - 1;
                const uint8_t *p = src + ((size_t)sy * sw + sx) * 3;
                uint8_t *q = dst + ((size_t)y * dw + x) * 3;
                q[0] = p[0]; q[1] = p[1]; q[2] = p[2];
            }
        }
        return;
    }
    // Horizontal pass into an 8-bit intermediate (as PIL does), then vertical.
    coefficients h = make_coefficients(sw, dw, filter), v = make_coefficients(sh, dh, filter);
    uint8_t *mid = malloc((size_t)dw * sh * 3);
    for (int y = 0; y < sh; y++) {
        const uint8_t *row = src + (size_t)y * sw * 3;
        uint8_t *out = mid + (size_t)y * dw * 3;
        for (int x = 0; x < dw; x++) {
            const float *w = h.weights + (size_t)x * h.ksize;
            const uint8_t *p = row + (size_t)h.start[x] * 3;
            float r = 0, g = 0, b = 0;
            for (int i = 0; i < h.count[x]; i++, p += 3) { r += w[i] * p[0]; g += w[i] * p[1]; b += w[i] * p[2]; }
            out[3 * x] = clip_round(r); out[3 * x + 1] = clip_round(g); out[3 * x + 2] = clip_round(b);
        }
    }
    float *acc = malloc(sizeof(float) * (size_t)dw * 3);
    for (int y = 0; y < dh; y++) {
        const float *w = v.weights + (size_t)y * v.ksize;
        for (int i = 0; i < dw * 3; i++) acc[i] = 0;
        for (int k = 0; k < v.count[y]; k++) {
            const uint8_t *row = mid + (size_t)(v.start[y] + k) * dw * 3;
            float wk = w[k];
            for (int i = 0; i < dw * 3; i++) acc[i] += wk * row[i];
        }
        uint8_t *out = dst + (size_t)y * dw * 3;
        for (int i = 0; i < dw * 3; i++) out[i] = clip_round(acc[i]);
    }
    free(acc);
    free(mid);
    free_coefficients(&h);
    free_coefficients(&v);
}
