// Training batch normalization with the activation that follows it fused, forward and backward, on
// contiguous NCHW float32. The unfused chain (oneDNN's batch norm, then the activation) passes over
// the tensor six times forward and backward and keeps the normalised tensor alive for the
// activation's backward; here the forward reads the input twice (statistics, then the output) and
// the backward reads the input and the incoming gradient twice, recomputing the normalised value
// and the activation's derivative instead of storing them. The input may be bfloat16 (a bfloat16
// convolution's output under autocast): each block is widened into a per-thread float32 buffer
// that stays in cache, and the float32 code runs on that. The forward's result may be bfloat16 too
// (the next convolution reads it as it is): each block is normalised in that buffer and rounded once.
#include "fastmath.h"
#include "internal.h"
#include <math.h>
#include <stdlib.h>

#define CK_SIMD_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))

// Independent partial sums, so that float reductions vectorise without reassociation flags; a
// block's sum goes into a double at the end.
#define LANES 16

typedef struct {
    int64_t n, c, hw;
    int activation;   // 0 none, 1 leaky ReLU, 2 mish (ckernels.h)
    float alpha, eps;
    int src_bf16, dst_bf16;
    const void *src;
    const float *scale, *shift, *diff_dst;
    void *dst;
    float *mean, *var, *diff_src, *diff_scale, *diff_shift;
    volatile int failed;   // a chunk could not allocate its scratch block
} bn_act_ctx;

static inline float leaky_slope(float z, float alpha) { return z > 0 ? 1.0f : alpha; }
static inline float mish_slope(float z, float alpha) { (void)alpha; return ck_mish_gradf(z); }
static inline float identity_slope(float z, float alpha) { (void)z; (void)alpha; return 1.0f; }

// The float32 values of the block at element offset `off`: the input itself, or its bfloat16
// values widened into `scratch` (hw floats).
static const float *input_block(const bn_act_ctx *c, int64_t off, float *scratch) {
    if (!c->src_bf16) return (const float *)c->src + off;
    ck_widen_bf16((const uint16_t *)c->src + off, scratch, c->hw);
    return scratch;
}

// The calling thread's scratch where a bfloat16 input or result needs it (NULL for float32 in and
// out): two blocks of hw floats, the widened input and the result before rounding (apart, so that
// the normalising loop's operands never overlap and it stays vectorised). *failed is set when it
// cannot be had. Grow-only and kept per thread: a block of a 208x208 plane is above malloc's mmap
// threshold, and allocating it per call cost page faults on every step.
static _Thread_local float *thread_scratch;
static _Thread_local int64_t thread_scratch_count;

static float *chunk_scratch(const bn_act_ctx *c, int *failed) {
    if (!c->src_bf16 && !c->dst_bf16) return NULL;
    if (thread_scratch_count < 2 * c->hw) {
        free(thread_scratch);
        thread_scratch = malloc((size_t)(2 * c->hw) * sizeof(float));
        thread_scratch_count = thread_scratch ? 2 * c->hw : 0;
    }
    if (!thread_scratch) *failed = 1;
    return thread_scratch;
}

CK_SIMD_CLONES static double block_sum(const float *x, int64_t len) {
    float acc[LANES] = {0};
    int64_t i = 0;
    for (; i + LANES <= len; i += LANES)
        for (int j = 0; j < LANES; j++) acc[j] += x[i + j];
    double s = 0;
    for (int j = 0; j < LANES; j++) s += acc[j];
    for (; i < len; i++) s += x[i];
    return s;
}

CK_SIMD_CLONES static double block_squared_deviation(const float *x, int64_t len, float centre) {
    float acc[LANES] = {0};
    int64_t i = 0;
    for (; i + LANES <= len; i += LANES)
        for (int j = 0; j < LANES; j++) { float d = x[i + j] - centre; acc[j] += d * d; }
    double s = 0;
    for (int j = 0; j < LANES; j++) s += acc[j];
    for (; i < len; i++) { double d = (double)x[i] - centre; s += d * d; }
    return s;
}

// y = act(x * a + b): the loop is specialised per activation so each one vectorises on its own.
CK_SIMD_CLONES static void block_normalise(const float *restrict x, float *restrict y, int64_t len, float a, float b,
                                           int activation, float alpha) {
    switch (activation) {
    case 1: for (int64_t i = 0; i < len; i++) { float z = x[i] * a + b; y[i] = z > 0 ? z : z * alpha; } break;
    case 2: for (int64_t i = 0; i < len; i++) y[i] = ck_mishf(x[i] * a + b); break;
    default: for (int64_t i = 0; i < len; i++) y[i] = x[i] * a + b; break;
    }
}

// Mean and biased variance of one channel: per (image, channel) block the mean and the squared
// deviations from it (the block is still in cache for the second pass), combined with Chan's
// formula in double, which stays exact where sum(x^2) - n mean^2 would cancel.
static void channel_statistics(const bn_act_ctx *c, int64_t ch, float *scratch, double *mean_out, double *var_out) {
    double count = 0, mean = 0, m2 = 0;
    for (int64_t i = 0; i < c->n; i++) {
        const float *x = input_block(c, (i * c->c + ch) * c->hw, scratch);
        double bm = block_sum(x, c->hw) / (double)c->hw;
        double bm2 = block_squared_deviation(x, c->hw, (float)bm);
        double total = count + (double)c->hw, delta = bm - mean;
        mean += delta * (double)c->hw / total;
        m2 += bm2 + delta * delta * count * (double)c->hw / total;
        count = total;
    }
    *mean_out = mean;
    *var_out = m2 / count;
}

static void forward_channels(void *vctx, int64_t begin, int64_t end) {
    bn_act_ctx *c = vctx;
    int failed = 0;
    float *scratch = chunk_scratch(c, &failed);
    if (failed) { c->failed = 1; return; }
    for (int64_t ch = begin; ch < end; ch++) {
        double mean, var;
        channel_statistics(c, ch, scratch, &mean, &var);
        c->mean[ch] = (float)mean;
        c->var[ch] = (float)var;
        float inv_std = (float)(1.0 / sqrt(var + (double)c->eps));
        float a = c->scale[ch] * inv_std, b = c->shift[ch] - (float)mean * a;
        for (int64_t i = 0; i < c->n; i++) {
            int64_t off = (i * c->c + ch) * c->hw;
            const float *x = input_block(c, off, scratch);
            if (!c->dst_bf16) {
                block_normalise(x, (float *)c->dst + off, c->hw, a, b, c->activation, c->alpha);
                continue;
            }
            float *y = scratch + c->hw;
            block_normalise(x, y, c->hw, a, b, c->activation, c->alpha);
            ck_narrow_bf16(y, (uint16_t *)c->dst + off, c->hw);
        }
    }
}

// Sums of g = dy * act'(z) and of g * (x - mean) over one block, z = (x - mean) * a + beta. One
// loop per activation (the macro's SLOPE), so that each vectorises with its derivative inlined.
#define GRADIENT_SUMS(SLOPE)                                                                        \
    do {                                                                                            \
        float acc_g[LANES] = {0}, acc_gd[LANES] = {0};                                              \
        int64_t i = 0;                                                                              \
        for (; i + LANES <= len; i += LANES)                                                        \
            for (int j = 0; j < LANES; j++) {                                                       \
                float d = x[i + j] - mean;                                                          \
                float g = dy[i + j] * SLOPE(d * a + beta, alpha);                                   \
                acc_g[j] += g;                                                                      \
                acc_gd[j] += g * d;                                                                 \
            }                                                                                       \
        for (int j = 0; j < LANES; j++) { sg += acc_g[j]; sgd += acc_gd[j]; }                       \
        for (; i < len; i++) {                                                                      \
            float d = x[i] - mean;                                                                  \
            float g = dy[i] * SLOPE(d * a + beta, alpha);                                           \
            sg += g;                                                                                \
            sgd += (double)g * d;                                                                   \
        }                                                                                           \
    } while (0)

CK_SIMD_CLONES static void block_gradient_sums(const float *x, const float *dy, int64_t len, float mean, float a,
                                               float beta, int activation, float alpha, double *sum_g,
                                               double *sum_gd) {
    double sg = 0, sgd = 0;
    switch (activation) {
    case 1: GRADIENT_SUMS(leaky_slope); break;
    case 2: GRADIENT_SUMS(mish_slope); break;
    default: GRADIENT_SUMS(identity_slope); break;
    }
    *sum_g += sg;
    *sum_gd += sgd;
}

// dx = a * g + k0 + k1 * (x - mean): batch norm's backward with the batch statistics.
#define INPUT_GRADIENT(SLOPE)                                                                       \
    for (int64_t i = 0; i < len; i++) {                                                             \
        float d = x[i] - mean;                                                                      \
        float g = dy[i] * SLOPE(d * a + beta, alpha);                                               \
        dx[i] = a * g + k0 + k1 * d;                                                                \
    }

CK_SIMD_CLONES static void block_input_gradient(const float *x, const float *dy, float *dx, int64_t len, float mean,
                                                float a, float beta, float k0, float k1, int activation,
                                                float alpha) {
    switch (activation) {
    case 1: INPUT_GRADIENT(leaky_slope); break;
    case 2: INPUT_GRADIENT(mish_slope); break;
    default: INPUT_GRADIENT(identity_slope); break;
    }
}

static void backward_channels(void *vctx, int64_t begin, int64_t end) {
    bn_act_ctx *c = vctx;
    int failed = 0;
    float *scratch = chunk_scratch(c, &failed);
    if (failed) { c->failed = 1; return; }
    double m = (double)(c->n * c->hw);
    for (int64_t ch = begin; ch < end; ch++) {
        float mean = c->mean[ch];
        double inv_std = 1.0 / sqrt((double)c->var[ch] + (double)c->eps);
        float a = (float)(c->scale[ch] * inv_std), beta = c->shift[ch];
        double sum_g = 0, sum_gd = 0;
        for (int64_t i = 0; i < c->n; i++) {
            int64_t off = (i * c->c + ch) * c->hw;
            block_gradient_sums(input_block(c, off, scratch), c->diff_dst + off, c->hw, mean, a, beta, c->activation, c->alpha,
                                &sum_g, &sum_gd);
        }
        if (c->diff_scale) c->diff_scale[ch] = (float)(sum_gd * inv_std);
        if (c->diff_shift) c->diff_shift[ch] = (float)sum_g;
        if (!c->diff_src) continue;
        float k0 = (float)(-(double)a * sum_g / m);
        float k1 = (float)(-(double)a * inv_std * inv_std * sum_gd / m);
        for (int64_t i = 0; i < c->n; i++) {
            int64_t off = (i * c->c + ch) * c->hw;
            block_input_gradient(input_block(c, off, scratch), c->diff_dst + off, c->diff_src + off, c->hw, mean, a,
                                 beta, k0, k1, c->activation, c->alpha);
        }
    }
}

// Channels per thread chunk: enough elements that a chunk is worth a thread.
static int64_t channel_grain(int64_t n, int64_t hw) {
    int64_t per_channel = n * hw;
    int64_t grain = per_channel > 0 ? CK_GRAIN / per_channel : 1;
    return grain < 1 ? 1 : grain;
}

static int check_activation(int activation) {
    if (activation < 0 || activation > 2) return ck_fail("batch norm + activation: unknown activation %d", activation);
    return 0;
}

static int finish(const bn_act_ctx *ctx) {
    return ctx->failed ? ck_fail("batch norm + activation: out of memory for a %lld-value block", (long long)ctx->hw) : 0;
}

int ck_batchnorm_act_forward(int64_t n, int64_t c, int64_t h, int64_t w, float eps, int activation, float alpha,
                             int src_bf16, const void *src, const float *scale, const float *shift, int dst_bf16,
                             void *dst, float *mean, float *var) {
    if (check_activation(activation)) return 1;
    bn_act_ctx ctx = {n, c, h * w, activation, alpha, eps, src_bf16, dst_bf16, src, scale, shift, NULL, dst, mean, var,
                      NULL, NULL, NULL, 0};
    ck_parallel_for(c, channel_grain(n, h * w), forward_channels, &ctx);
    return finish(&ctx);
}

int ck_batchnorm_act_backward(int64_t n, int64_t c, int64_t h, int64_t w, float eps, int activation, float alpha,
                              int src_bf16, const void *src, const float *diff_dst, const float *mean, const float *var,
                              const float *scale, const float *shift, float *diff_src, float *diff_scale,
                              float *diff_shift) {
    if (check_activation(activation)) return 1;
    bn_act_ctx ctx = {n, c, h * w, activation, alpha, eps, src_bf16, 0, src, scale, shift, diff_dst, NULL, (float *)mean,
                      (float *)var, diff_src, diff_scale, diff_shift, 0};
    ck_parallel_for(c, channel_grain(n, h * w), backward_channels, &ctx);
    return finish(&ctx);
}
