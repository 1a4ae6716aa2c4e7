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
        double total = 0, w[512];
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

// src is h rows of w RGB pixels; dst becomes w rows of h pixels.
static void transpose_rgb(const uint8_t *src, int w, int h, uint8_t *dst) {
    enum { TILE = 32 };
    for (int y0 = 0; y0 < h; y0 += TILE)
        for (int x0 = 0; x0 < w; x0 += TILE)
            for (int y = y0; y < y0 + TILE && y < h; y++)
                for (int x = x0; x < x0 + TILE && x < w; x++) {
                    const uint8_t *p = src + ((size_t)y * w + x) * 3;
                    uint8_t *q = dst + ((size_t)x * h + y) * 3;
                    q[0] = p[0]; q[1] = p[1]; q[2] = p[2];
                }
}

// AVX2 clone chosen at load time where the CPU has it; the build stays portable.
#define CV_HOT __attribute__((target_clones("avx2", "default")))

// Output row o = sum over taps k of weight(o, k) * input row (start(o) + k), rounded and clipped.
CV_HOT static void row_pass(const uint8_t *src, int row_len, const coefficients *c, int out_rows, uint8_t *dst, float *acc) {
    for (int o = 0; o < out_rows; o++) {
        const float *w = c->weights + (size_t)o * c->ksize;
        const uint8_t *first = src + (size_t)c->start[o] * row_len;
        for (int i = 0; i < row_len; i++) acc[i] = w[0] * first[i];
        for (int k = 1; k < c->count[o]; k++) {
            const uint8_t *r = first + (size_t)k * row_len;
            const float wk = w[k];
            for (int i = 0; i < row_len; i++) acc[i] += wk * r[i];
        }
        uint8_t *out = dst + (size_t)o * row_len;
        for (int i = 0; i < row_len; i++) out[i] = clip_round(acc[i]);
    }
}

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
    // PIL's order: horizontal pass into an 8-bit intermediate (rounded and clipped, which
    // catches bicubic overshoot), then vertical. Both run as row-wise passes, vectorisable over
    // whole rows: the horizontal one on the transposed image.
    coefficients h = make_coefficients(sw, dw, filter), v = make_coefficients(sh, dh, filter);
    uint8_t *transposed = malloc((size_t)sw * sh * 3);     // sw rows of sh pixels
    uint8_t *mid_t = malloc((size_t)dw * sh * 3);          // dw rows of sh pixels
    uint8_t *mid = malloc((size_t)dw * sh * 3);            // sh rows of dw pixels
    float *acc = malloc(sizeof(float) * (size_t)(sh > dw ? sh : dw) * 3);
    transpose_rgb(src, sw, sh, transposed);
    row_pass(transposed, sh * 3, &h, dw, mid_t, acc);
    transpose_rgb(mid_t, sh, dw, mid);
    row_pass(mid, dw * 3, &v, dh, dst, acc);
    free(acc);
    free(mid);
    free(mid_t);
    free(transposed);
    free_coefficients(&h);
    free_coefficients(&v);
}
