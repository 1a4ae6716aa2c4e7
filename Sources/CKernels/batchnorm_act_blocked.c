// Training batch norm + activation (as batchnorm_act.c) for a convolution result in oneDNN's
// 16-channel blocked layout, nChw16c: [n][c/16][h][w][16], the layout the convolution wrote it in.
// The forward writes its NCHW result straight from the blocked input and the backward writes the
// input gradient blocked for the convolution's backward: the reorders a conv-BN-activation unit
// would otherwise run on each side of the batch norm happen inside passes it makes anyway. A
// pixel's 16 channels are one vector here; the NCHW side goes through 16x16 tiles transposed in
// registers or L1.
//
// The loops over a pixel's 16 channels carry pragmas: left alone, the compiler vectorises across
// pixels instead, with gathers, and the kernels ran 2-4x slower.
//
// Work is split over (image, channel block) pairs: the statistics and gradient sums per pair,
// then combined per channel (Chan's formula for the variance, in double), then the elementwise
// pass per pair.
#include "fastmath.h"
#include "internal.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define CK_SIMD_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#define INLINE static inline __attribute__((always_inline))
// The 64-byte vector helpers below are always inlined into each target's clone: no call passes a
// vector, so the ABI note clang gives for the clones without AVX-512 does not apply.
#pragma clang diagnostic ignored "-Wpsabi"
#define B 16
// Pixels summed in float before the partial sums go into double.
#define CHUNK 64

typedef struct {
    int64_t n, blocks, hw;   // blocks = c / 16
    int activation;
    float alpha;
    const float *src, *diff_dst;
    float *dst, *diff_src;
    // Per channel: the forward's z = x * a + b; the backward's z = (x - mean) * a + beta and
    // dx = a * g + k0 + k1 * (x - mean).
    const float *a, *b, *mean, *k0, *k1;
    double *part1, *part2;   // per (image, block) and lane: the first pass's two results
} blocked_ctx;

// 16x16 transposes in registers (vector extensions, so each target's clone gets its own shuffles:
// one two-source permute per row and stage on AVX-512). Stage b swaps the b x b blocks off the
// diagonal of each 2b x 2b block; after b = 8, 4, 2, 1 rows and columns have traded places.
typedef float v16 __attribute__((vector_size(64)));
#define STAGE8_LOW 0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23
#define STAGE8_HIGH 8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31
#define STAGE4_LOW 0, 1, 2, 3, 16, 17, 18, 19, 8, 9, 10, 11, 24, 25, 26, 27
#define STAGE4_HIGH 4, 5, 6, 7, 20, 21, 22, 23, 12, 13, 14, 15, 28, 29, 30, 31
#define STAGE2_LOW 0, 1, 16, 17, 4, 5, 20, 21, 8, 9, 24, 25, 12, 13, 28, 29
#define STAGE2_HIGH 2, 3, 18, 19, 6, 7, 22, 23, 10, 11, 26, 27, 14, 15, 30, 31
#define STAGE1_LOW 0, 16, 2, 18, 4, 20, 6, 22, 8, 24, 10, 26, 12, 28, 14, 30
#define STAGE1_HIGH 1, 17, 3, 19, 5, 21, 7, 23, 9, 25, 11, 27, 13, 29, 15, 31
#define STAGE(r, b)                                                                                 \
    for (int i = 0; i < B; i++)                                                                     \
        if (!(i & b)) {                                                                             \
            v16 low = __builtin_shufflevector(r[i], r[i + b], STAGE##b##_LOW);                      \
            v16 high = __builtin_shufflevector(r[i], r[i + b], STAGE##b##_HIGH);                    \
            r[i] = low;                                                                             \
            r[i + b] = high;                                                                        \
        }

INLINE void transpose16(v16 r[B]) {
    STAGE(r, 8) STAGE(r, 4) STAGE(r, 2) STAGE(r, 1)
}

INLINE v16 load16(const float *p) {
    v16 v;
    memcpy(&v, p, sizeof v);
    return v;
}

INLINE void store16(float *p, v16 v) { memcpy(p, &v, sizeof v); }

static inline float activate(float z, int activation, float alpha) {
    return activation == 1 ? (z > 0 ? z : z * alpha) : activation == 2 ? ck_mishf(z) : z;
}

static inline float slope(float z, int activation, float alpha) {
    return activation == 1 ? (z > 0 ? 1.0f : alpha) : activation == 2 ? ck_mish_gradf(z) : 1.0f;
}

// Per lane of one pair, the sum of x - centre (squared: 0) or of its squares (squared: 1), in float
// over chunks of pixels and in double across them. Written on vectors: the plain loops vectorised
// across pixels with shuffles.
INLINE void lane_sums(const float *x, int64_t hw, const float *centre, const int squared, double *out) {
    const v16 c = load16(centre);
    for (int j = 0; j < B; j++) out[j] = 0;
    for (int64_t s0 = 0; s0 < hw; s0 += CHUNK) {
        int64_t end = s0 + CHUNK < hw ? s0 + CHUNK : hw;
        v16 acc = {0};
        for (int64_t s = s0; s < end; s++) {
            v16 d = load16(x + s * B) - c;
            acc += squared ? d * d : d;
        }
        for (int j = 0; j < B; j++) out[j] += acc[j];
    }
}

// Mean and sum of squared deviations of each lane of one (image, block) pair.
CK_SIMD_CLONES static void pair_statistics(const float *x, int64_t hw, double *mean, double *m2) {
    const float zero[B] = {0};
    float centre[B];
    lane_sums(x, hw, zero, 0, mean);
    for (int j = 0; j < B; j++) { mean[j] /= (double)hw; centre[j] = (float)mean[j]; }
    lane_sums(x, hw, centre, 1, m2);
    // The block mean was rounded to float for the deviations: correct the sum (which rounding in
    // the float partial sums could take just below zero for a constant channel).
    for (int j = 0; j < B; j++) {
        double shift = mean[j] - (double)centre[j];
        m2[j] -= (double)hw * shift * shift;
        if (m2[j] < 0) m2[j] = 0;
    }
}

static void statistics_range(void *vctx, int64_t begin, int64_t end) {
    blocked_ctx *c = vctx;
    for (int64_t t = begin; t < end; t++)
        pair_statistics(c->src + t * c->hw * B, c->hw, c->part1 + t * B, c->part2 + t * B);
}

// dst (NCHW planes of the block's 16 channels) = act(x * a + b).
INLINE void pair_normalise_with(const float *x, float *plane, int64_t hw, const float *a, const float *b,
                                int activation, float alpha) {
    float tile[B][B] __attribute__((aligned(64)));   // [pixel][channel]
    int64_t s0 = 0;
    for (; s0 + B <= hw; s0 += B) {
#pragma clang loop vectorize(disable) unroll(disable)
        for (int k = 0; k < B; k++)
#pragma clang loop vectorize(enable) vectorize_width(16)
            for (int j = 0; j < B; j++) tile[k][j] = activate(x[(s0 + k) * B + j] * a[j] + b[j], activation, alpha);
        v16 r[B];
        for (int k = 0; k < B; k++) r[k] = load16(tile[k]);
        transpose16(r);
        for (int j = 0; j < B; j++) store16(plane + j * hw + s0, r[j]);
    }
    for (int64_t s = s0; s < hw; s++)
        for (int j = 0; j < B; j++) plane[j * hw + s] = activate(x[s * B + j] * a[j] + b[j], activation, alpha);
}

// One copy per activation, so that each loop vectorises with its function inlined.
CK_SIMD_CLONES static void pair_normalise(const float *x, float *plane, int64_t hw, const float *a, const float *b,
                                          int activation, float alpha) {
    switch (activation) {
    case 1: pair_normalise_with(x, plane, hw, a, b, 1, alpha); break;
    case 2: pair_normalise_with(x, plane, hw, a, b, 2, alpha); break;
    default: pair_normalise_with(x, plane, hw, a, b, 0, alpha); break;
    }
}

static void normalise_range(void *vctx, int64_t begin, int64_t end) {
    blocked_ctx *c = vctx;
    for (int64_t t = begin; t < end; t++) {
        int64_t block = t % c->blocks;
        pair_normalise(c->src + t * c->hw * B, c->dst + t * c->hw * B, c->hw, c->a + block * B, c->b + block * B,
                       c->activation, c->alpha);
    }
}

// The incoming gradient's 16 planes at pixels s0..s0+count as [pixel][channel].
INLINE void gather_tile(const float *plane, int64_t hw, int64_t s0, int count, float tile[B][B]) {
    if (count < B) {
        for (int j = 0; j < B; j++)
            for (int k = 0; k < count; k++) tile[k][j] = plane[j * hw + s0 + k];
        return;
    }
    v16 r[B];
    for (int j = 0; j < B; j++) r[j] = load16(plane + j * hw + s0);
    transpose16(r);
    for (int k = 0; k < B; k++) store16(tile[k], r[k]);
}

// Sums of g = dy * act'(z) and of g * (x - mean) per lane of one pair.
INLINE void pair_gradient_sums_with(const float *x, const float *dy_plane, int64_t hw, const float *mean,
                                    const float *a, const float *beta, int activation, float alpha, double *sum_g,
                                    double *sum_gd) {
    float tile[B][B] __attribute__((aligned(64)));
    for (int j = 0; j < B; j++) sum_g[j] = sum_gd[j] = 0;
    for (int64_t s0 = 0; s0 < hw; s0 += CHUNK) {
        int64_t end = s0 + CHUNK < hw ? s0 + CHUNK : hw;
        float acc_g[B] = {0}, acc_gd[B] = {0};
        for (int64_t t0 = s0; t0 < end; t0 += B) {
            int count = end - t0 < B ? (int)(end - t0) : B;
            gather_tile(dy_plane, hw, t0, count, tile);
#pragma clang loop vectorize(disable) unroll(disable)
            for (int k = 0; k < count; k++)
#pragma clang loop vectorize(enable) vectorize_width(16)
                for (int j = 0; j < B; j++) {
                    float d = x[(t0 + k) * B + j] - mean[j];
                    float g = tile[k][j] * slope(d * a[j] + beta[j], activation, alpha);
                    acc_g[j] += g;
                    acc_gd[j] += g * d;
                }
        }
        for (int j = 0; j < B; j++) { sum_g[j] += acc_g[j]; sum_gd[j] += acc_gd[j]; }
    }
}

// One copy per activation, so that each loop vectorises with its function inlined.
CK_SIMD_CLONES static void pair_gradient_sums(const float *x, const float *dy_plane, int64_t hw, const float *mean,
                                              const float *a, const float *beta, int activation, float alpha,
                                              double *sum_g, double *sum_gd) {
    switch (activation) {
    case 1: pair_gradient_sums_with(x, dy_plane, hw, mean, a, beta, 1, alpha, sum_g, sum_gd); break;
    case 2: pair_gradient_sums_with(x, dy_plane, hw, mean, a, beta, 2, alpha, sum_g, sum_gd); break;
    default: pair_gradient_sums_with(x, dy_plane, hw, mean, a, beta, 0, alpha, sum_g, sum_gd); break;
    }
}

static void gradient_sums_range(void *vctx, int64_t begin, int64_t end) {
    blocked_ctx *c = vctx;
    for (int64_t t = begin; t < end; t++) {
        int64_t block = t % c->blocks;
        pair_gradient_sums(c->src + t * c->hw * B, c->diff_dst + t * c->hw * B, c->hw, c->mean + block * B,
                           c->a + block * B, c->b + block * B, c->activation, c->alpha, c->part1 + t * B,
                           c->part2 + t * B);
    }
}

// dx (blocked) = a * g + k0 + k1 * (x - mean).
INLINE void pair_input_gradient_with(const float *x, const float *dy_plane, float *dx, int64_t hw, const float *mean,
                                     const float *a, const float *beta, const float *k0, const float *k1,
                                     int activation, float alpha) {
    float tile[B][B] __attribute__((aligned(64)));
    for (int64_t s0 = 0; s0 < hw; s0 += B) {
        int count = hw - s0 < B ? (int)(hw - s0) : B;
        gather_tile(dy_plane, hw, s0, count, tile);
#pragma clang loop vectorize(disable) unroll(disable)
        for (int k = 0; k < count; k++)
#pragma clang loop vectorize(enable) vectorize_width(16)
            for (int j = 0; j < B; j++) {
                int64_t at = (s0 + k) * B + j;
                float d = x[at] - mean[j];
                float g = tile[k][j] * slope(d * a[j] + beta[j], activation, alpha);
                dx[at] = a[j] * g + k0[j] + k1[j] * d;
            }
    }
}

// One copy per activation, so that each loop vectorises with its function inlined.
CK_SIMD_CLONES static void pair_input_gradient(const float *x, const float *dy_plane, float *dx, int64_t hw,
                                               const float *mean, const float *a, const float *beta, const float *k0,
                                               const float *k1, int activation, float alpha) {
    switch (activation) {
    case 1: pair_input_gradient_with(x, dy_plane, dx, hw, mean, a, beta, k0, k1, 1, alpha); break;
    case 2: pair_input_gradient_with(x, dy_plane, dx, hw, mean, a, beta, k0, k1, 2, alpha); break;
    default: pair_input_gradient_with(x, dy_plane, dx, hw, mean, a, beta, k0, k1, 0, alpha); break;
    }
}

static void input_gradient_range(void *vctx, int64_t begin, int64_t end) {
    blocked_ctx *c = vctx;
    for (int64_t t = begin; t < end; t++) {
        int64_t block = t % c->blocks, at = t * c->hw * B;
        pair_input_gradient(c->src + at, c->diff_dst + at, c->diff_src + at, c->hw, c->mean + block * B,
                            c->a + block * B, c->b + block * B, c->k0 + block * B, c->k1 + block * B, c->activation,
                            c->alpha);
    }
}

static int64_t pair_grain(int64_t hw) {
    int64_t grain = CK_GRAIN / (hw * B);
    return grain < 1 ? 1 : grain;
}

static int check(int64_t n, int64_t c, int64_t hw, int activation) {
    if (activation < 0 || activation > 2) return ck_fail("batch norm + activation: unknown activation %d", activation);
    if (n < 1 || hw < 1) return ck_fail("batch norm + activation (blocked): an empty input (%lld images of %lld pixels)",
                                       (long long)n, (long long)hw);
    if (c % B) return ck_fail("batch norm + activation (blocked): %lld channels are not a multiple of 16", (long long)c);
    return 0;
}

// Per-pair partial results and per-channel coefficients in one allocation: 2 * n * c doubles, then
// 3 * c floats (the forward's a and b; the backward's a, k0 and k1).
static void *workspace(int64_t n, int64_t c, double **part1, double **part2, float **coef) {
    char *w = malloc((size_t)(2 * n * c) * sizeof(double) + (size_t)(3 * c) * sizeof(float));
    if (!w) return NULL;
    *part1 = (double *)w;
    *part2 = *part1 + n * c;
    *coef = (float *)(*part2 + n * c);
    return w;
}

int ck_batchnorm_act_forward_blocked16(int64_t n, int64_t c, int64_t h, int64_t w, float eps, int activation,
                                       float alpha, const float *src, const float *scale, const float *shift,
                                       float *dst, float *mean, float *var) {
    int64_t hw = h * w, pairs = n * (c / B);
    if (check(n, c, hw, activation)) return 1;
    double *part1, *part2;
    float *coef;
    void *work = workspace(n, c, &part1, &part2, &coef);
    if (!work) return ck_fail("batch norm + activation: out of memory");
    blocked_ctx ctx = {n, c / B, hw, activation, alpha, src, NULL, dst, NULL, coef, coef + c, NULL, NULL, NULL,
                       part1, part2};
    ck_parallel_for(pairs, pair_grain(hw), statistics_range, &ctx);
    float *a = coef, *b = coef + c;
    for (int64_t ch = 0; ch < c; ch++) {
        // Equal-sized blocks: the mean of the block means, and the squared deviations within the
        // blocks plus those of the block means around the mean.
        int64_t block = ch / B, lane = ch % B;
        double m = 0, m2 = 0;
        for (int64_t i = 0; i < n; i++) m += part1[(i * (c / B) + block) * B + lane];
        m /= (double)n;
        for (int64_t i = 0; i < n; i++) {
            int64_t at = (i * (c / B) + block) * B + lane;
            double d = part1[at] - m;
            m2 += part2[at] + (double)hw * d * d;
        }
        double v = m2 / (double)(n * hw);
        mean[ch] = (float)m;
        var[ch] = (float)v;
        float inv_std = (float)(1.0 / sqrt(v + (double)eps));
        a[ch] = scale[ch] * inv_std;
        b[ch] = shift[ch] - (float)m * a[ch];
    }
    ck_parallel_for(pairs, pair_grain(hw), normalise_range, &ctx);
    free(work);
    return 0;
}

int ck_batchnorm_act_backward_blocked16(int64_t n, int64_t c, int64_t h, int64_t w, float eps, int activation,
                                        float alpha, const float *src, const float *diff_dst, const float *mean,
                                        const float *var, const float *scale, const float *shift, float *diff_src,
                                        float *diff_scale, float *diff_shift) {
    int64_t hw = h * w, pairs = n * (c / B);
    if (check(n, c, hw, activation)) return 1;
    double *part1, *part2;
    float *coef;
    void *work = workspace(n, c, &part1, &part2, &coef);
    if (!work) return ck_fail("batch norm + activation backward: out of memory");
    float *a = coef, *k0 = coef + c, *k1 = coef + 2 * c;
    for (int64_t ch = 0; ch < c; ch++) a[ch] = (float)(scale[ch] / sqrt((double)var[ch] + (double)eps));
    blocked_ctx ctx = {n, c / B, hw, activation, alpha, src, diff_dst, NULL, diff_src, a, shift, mean, k0, k1,
                       part1, part2};
    ck_parallel_for(pairs, pair_grain(hw), gradient_sums_range, &ctx);
    double count = (double)(n * hw);
    for (int64_t ch = 0; ch < c; ch++) {
        int64_t block = ch / B, lane = ch % B;
        double sum_g = 0, sum_gd = 0;
        for (int64_t i = 0; i < n; i++) {
            int64_t at = (i * (c / B) + block) * B + lane;
            sum_g += part1[at];
            sum_gd += part2[at];
        }
        double inv_std = 1.0 / sqrt((double)var[ch] + (double)eps);
        if (diff_scale) diff_scale[ch] = (float)(sum_gd * inv_std);
        if (diff_shift) diff_shift[ch] = (float)sum_g;
        k0[ch] = (float)(-(double)a[ch] * sum_g / count);
        k1[ch] = (float)(-(double)a[ch] * inv_std * inv_std * sum_gd / count);
    }
    if (diff_src) ck_parallel_for(pairs, pair_grain(hw), input_gradient_range, &ctx);
    free(work);
    return 0;
}
