// Max pooling on plain NCHW with -inf padding, replacing oneDNN 2.6's plain-layout pooling,
// which measured 5-10x slower here. Separable: a row pass takes each window's row maxima, a
// column pass the maximum of those, so a k x k window costs 2k comparisons instead of k^2.
// The workspace holds, per output, the int32 position of its maximum in the input plane (the
// first maximum in row-major order, as PyTorch picks it); backward scatters through it.
#include "internal.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const ck_pool_params *p;
    const float *src;
    float *dst;
    int32_t *index;
    const float *diff_dst;
    float *diff_src;
} pool_ctx;

// The 2x2, stride-2 window without padding (the tiny backbone's pools, most of the pooling work):
// the four values compared in row-major order with strict >, as the general path does, written as
// selects so that the loop vectorises instead of branching on every comparison.
#define KEEP_LARGER(v, i)             \
    do {                              \
        int larger = (v) > best;      \
        best = larger ? (v) : best;   \
        arg = larger ? (i) : arg;     \
    } while (0)

__attribute__((target_clones("avx512f", "avx2", "default")))
static void forward_rows_2x2(const float *in, float *out, int32_t *idx, int64_t W, int64_t OH, int64_t OW) {
    for (int64_t oy = 0; oy < OH; oy++) {
        const float *r0 = in + 2 * oy * W, *r1 = r0 + W;
        int32_t base = (int32_t)(2 * oy * W);
        float *o = out + oy * OW;
        if (idx) {
            int32_t *ix = idx + oy * OW;
            for (int64_t ox = 0; ox < OW; ox++) {
                int32_t x = (int32_t)(2 * ox);
                float best = -INFINITY;
                int32_t arg = base + x;
                KEEP_LARGER(r0[x], base + x);
                KEEP_LARGER(r0[x + 1], base + x + 1);
                KEEP_LARGER(r1[x], base + (int32_t)W + x);
                KEEP_LARGER(r1[x + 1], base + (int32_t)W + x + 1);
                o[ox] = best;
                ix[ox] = arg;
            }
        } else {
            for (int64_t ox = 0; ox < OW; ox++) {
                float best = -INFINITY, a = r0[2 * ox], b = r0[2 * ox + 1], d = r1[2 * ox], e = r1[2 * ox + 1];
                best = a > best ? a : best;
                best = b > best ? b : best;
                best = d > best ? d : best;
                best = e > best ? e : best;
                o[ox] = best;
            }
        }
    }
}

static int is_2x2_stride_2(const ck_pool_params *p) {
    return p->kh == 2 && p->kw == 2 && p->stride_h == 2 && p->stride_w == 2 && p->pad_h == 0 && p->pad_w == 0;
}

static void forward_planes(void *vctx, int64_t begin, int64_t end) {
    const pool_ctx *c = vctx;
    const ck_pool_params *p = c->p;
    if (is_2x2_stride_2(p)) {
        for (int64_t plane = begin; plane < end; plane++)
            forward_rows_2x2(c->src + plane * p->h * p->w, c->dst + plane * p->oh * p->ow,
                             c->index ? c->index + plane * p->oh * p->ow : NULL, p->w, p->oh, p->ow);
        return;
    }
    const int64_t H = p->h, W = p->w, OH = p->oh, OW = p->ow;
    float *row_max = malloc(sizeof(float) * (size_t)(H * OW));
    int32_t *row_arg = malloc(sizeof(int32_t) * (size_t)(H * OW));
    for (int64_t plane = begin; plane < end; plane++) {
        const float *in = c->src + plane * H * W;
        for (int64_t y = 0; y < H; y++) {
            const float *r = in + y * W;
            for (int64_t ox = 0; ox < OW; ox++) {
                int64_t x0 = ox * p->stride_w - p->pad_w, x1 = x0 + p->kw;
                if (x0 < 0) x0 = 0;
                if (x1 > W) x1 = W;
                float best = -INFINITY;
                int64_t arg = x0;
                for (int64_t x = x0; x < x1; x++)
                    if (r[x] > best) { best = r[x]; arg = x; }
                row_max[y * OW + ox] = best;
                row_arg[y * OW + ox] = (int32_t)(y * W + arg);
            }
        }
        float *out = c->dst + plane * OH * OW;
        int32_t *idx = c->index ? c->index + plane * OH * OW : NULL;
        for (int64_t oy = 0; oy < OH; oy++) {
            int64_t y0 = oy * p->stride_h - p->pad_h, y1 = y0 + p->kh;
            if (y0 < 0) y0 = 0;
            if (y1 > H) y1 = H;
            for (int64_t ox = 0; ox < OW; ox++) {
                float best = -INFINITY;
                int32_t arg = row_arg[y0 * OW + ox];
                for (int64_t y = y0; y < y1; y++) {
                    float v = row_max[y * OW + ox];
                    if (v > best) { best = v; arg = row_arg[y * OW + ox]; }
                }
                out[oy * OW + ox] = best;
                if (idx) idx[oy * OW + ox] = arg;
            }
        }
    }
    free(row_max);
    free(row_arg);
}

static int check(const ck_pool_params *p) {
    if (p->oh < 1 || p->ow < 1)
        return ck_fail("max_pool2d: a %lldx%lld input is too small for a %lldx%lld kernel", (long long)p->h, (long long)p->w,
                       (long long)p->kh, (long long)p->kw);
    if (p->pad_h * 2 > p->kh || p->pad_w * 2 > p->kw)
        return ck_fail("max_pool2d: padding %lldx%lld must be at most half of the %lldx%lld kernel", (long long)p->pad_h,
                       (long long)p->pad_w, (long long)p->kh, (long long)p->kw);
    return 0;
}

int64_t ck_maxpool_workspace_size(const ck_pool_params *p) {
    if (check(p)) return -1;
    return p->n * p->c * p->oh * p->ow * (int64_t)sizeof(int32_t);
}

int ck_maxpool_forward(const ck_pool_params *p, const float *src, float *dst, void *workspace) {
    if (check(p)) return 1;
    pool_ctx c = {p, src, dst, workspace, NULL, NULL};
    ck_parallel_for(p->n * p->c, 1, forward_planes, &c);
    return 0;
}

typedef struct {
    const ck_pool_params *p;
    const float *src;
    float *dst;
} nhwc_ctx;

// One output row (image, oy) of a channels-last pool: per output pixel the window's maximum per
// channel, the channel loop innermost and contiguous so that it vectorises.
__attribute__((target_clones("avx512f", "avx2", "default")))
static void nhwc_rows(void *vctx, int64_t begin, int64_t end) {
    const nhwc_ctx *c = vctx;
    const ck_pool_params *p = c->p;
    const int64_t C = p->c, H = p->h, W = p->w, OH = p->oh, OW = p->ow;
    for (int64_t row = begin; row < end; row++) {
        int64_t n = row / OH, oy = row % OH;
        int64_t y0 = oy * p->stride_h - p->pad_h, y1 = y0 + p->kh;
        if (y0 < 0) y0 = 0;
        if (y1 > H) y1 = H;
        for (int64_t ox = 0; ox < OW; ox++) {
            int64_t x0 = ox * p->stride_w - p->pad_w, x1 = x0 + p->kw;
            if (x0 < 0) x0 = 0;
            if (x1 > W) x1 = W;
            float *out = c->dst + ((n * OH + oy) * OW + ox) * C;
            for (int64_t ch = 0; ch < C; ch++) out[ch] = -INFINITY;
            for (int64_t y = y0; y < y1; y++)
                for (int64_t x = x0; x < x1; x++) {
                    const float *in = c->src + ((n * H + y) * W + x) * C;
                    for (int64_t ch = 0; ch < C; ch++) out[ch] = in[ch] > out[ch] ? in[ch] : out[ch];
                }
        }
    }
}

int ck_maxpool_forward_nhwc(const ck_pool_params *p, const float *src, float *dst) {
    if (check(p)) return 1;
    nhwc_ctx c = {p, src, dst};
    ck_parallel_for(p->n * p->oh, 1, nhwc_rows, &c);
    return 0;
}

static void backward_planes(void *vctx, int64_t begin, int64_t end) {
    const pool_ctx *c = vctx;
    const ck_pool_params *p = c->p;
    const int64_t in_plane = p->h * p->w, out_plane = p->oh * p->ow;
    for (int64_t plane = begin; plane < end; plane++) {
        float *gi = c->diff_src + plane * in_plane;
        memset(gi, 0, sizeof(float) * (size_t)in_plane);
        const float *go = c->diff_dst + plane * out_plane;
        const int32_t *idx = c->index + plane * out_plane;
        for (int64_t i = 0; i < out_plane; i++) gi[idx[i]] += go[i];
    }
}

int ck_maxpool_backward(const ck_pool_params *p, const float *diff_dst, const void *workspace, float *diff_src) {
    if (check(p)) return 1;
    pool_ctx c = {p, NULL, NULL, (int32_t *)workspace, diff_dst, diff_src};
    ck_parallel_for(p->n * p->c, 1, backward_planes, &c);
    return 0;
}
