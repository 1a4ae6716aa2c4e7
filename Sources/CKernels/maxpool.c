// Max pooling on plain NCHW with -inf padding, replacing oneDNN 2.6's plain-layout pooling,
// which measured 5-10x slower here. Separable: a row pass takes each window's row maxima, a
// column pass the maximum of those, so a k x k window costs 2k comparisons instead of k^2.
// The forward reads and writes float32 or bfloat16. The workspace holds, per output, the int32
// position of its maximum in the input plane (the first maximum in row-major order, as PyTorch
// picks it); backward scatters through it, float32 gradients either way.
#include "internal.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const ck_pool_params *p;
    int bf16;   // src and dst are bfloat16 (forward)
    const void *src;
    void *dst;
    int32_t *index;
    const float *diff_dst;
    float *diff_src;
    volatile int failed;   // a chunk could not allocate its buffers
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

// One plane of the general path: row maxima then column maxima, with their positions.
static void forward_plane_general(const ck_pool_params *p, const float *in, float *out, int32_t *idx, float *row_max,
                                  int32_t *row_arg) {
    const int64_t H = p->h, W = p->w, OH = p->oh, OW = p->ow;
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

// A bfloat16 plane is widened into a float32 block, pooled there and the maxima rounded back,
// which is exact (each is one of the inputs): the float32 code serves both types.
static void forward_planes(void *vctx, int64_t begin, int64_t end) {
    pool_ctx *c = vctx;
    const ck_pool_params *p = c->p;
    const int64_t in_plane = p->h * p->w, out_plane = p->oh * p->ow;
    int general = !is_2x2_stride_2(p);
    float *row_max = general ? malloc(sizeof(float) * (size_t)(p->h * p->ow)) : NULL;
    int32_t *row_arg = general ? malloc(sizeof(int32_t) * (size_t)(p->h * p->ow)) : NULL;
    float *wide_in = c->bf16 ? malloc(sizeof(float) * (size_t)in_plane) : NULL;
    float *wide_out = c->bf16 ? malloc(sizeof(float) * (size_t)out_plane) : NULL;
    if ((general && (!row_max || !row_arg)) || (c->bf16 && (!wide_in || !wide_out))) {
        c->failed = 1;
    } else {
        for (int64_t plane = begin; plane < end; plane++) {
            const float *in = c->bf16 ? wide_in : (const float *)c->src + plane * in_plane;
            float *out = c->bf16 ? wide_out : (float *)c->dst + plane * out_plane;
            int32_t *idx = c->index ? c->index + plane * out_plane : NULL;
            if (c->bf16) ck_widen_bf16((const uint16_t *)c->src + plane * in_plane, wide_in, in_plane);
            if (general) forward_plane_general(p, in, out, idx, row_max, row_arg);
            else forward_rows_2x2(in, out, idx, p->w, p->oh, p->ow);
            if (c->bf16) ck_narrow_bf16(wide_out, (uint16_t *)c->dst + plane * out_plane, out_plane);
        }
    }
    free(row_max);
    free(row_arg);
    free(wide_in);
    free(wide_out);
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

int ck_maxpool_forward(const ck_pool_params *p, int bf16, const void *src, void *dst, void *workspace) {
    if (check(p)) return 1;
    pool_ctx c = {p, bf16, src, dst, workspace, NULL, NULL, 0};
    ck_parallel_for(p->n * p->c, 1, forward_planes, &c);
    return c.failed ? ck_fail("max_pool2d: out of memory for a %lldx%lld plane", (long long)p->h, (long long)p->w) : 0;
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
    pool_ctx c = {p, 0, NULL, NULL, (int32_t *)workspace, diff_dst, diff_src, 0};
    ck_parallel_for(p->n * p->c, 1, backward_planes, &c);
    return 0;
}
