// CPU kernels of the tensor core. Every function returns 0 on success; on failure it returns
// non-zero and ck_last_error() describes the problem (thread-local, valid until the next call).
// Layout descriptors give strides in elements; shapes of all operands of one call are equal
// (broadcasting is expressed with stride 0 by the caller).
#ifndef CKERNELS_H
#define CKERNELS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CK_MAX_DIMS 8

typedef enum {
    CK_F32 = 0,
    CK_F16 = 1,
    CK_I32 = 2,
    CK_I64 = 3,
    CK_U8 = 4,
    CK_BOOL = 5,
    CK_BF16 = 6,   // bfloat16: float32's exponent, 8 bits of mantissa; a storage format like float16
} ck_dtype;

// bfloat16 <-> float32: round to nearest even, NaN kept quiet (with its sign), overflow to inf.
// Written as a select, not a branch, so that loops over it vectorise.
static inline uint16_t ck_f32_to_bf16(float f) {
    uint32_t bits;
    __builtin_memcpy(&bits, &f, 4);
    uint32_t rounded = (bits + 0x7FFFu + ((bits >> 16) & 1u)) >> 16, quiet = (bits >> 16) | 0x0040u;
    return (uint16_t)((bits & 0x7FFFFFFFu) > 0x7F800000u ? quiet : rounded);
}
static inline float ck_bf16_to_f32(uint16_t h) {
    uint32_t bits = (uint32_t)h << 16;
    float f;
    __builtin_memcpy(&f, &bits, 4);
    return f;
}

typedef struct {
    int32_t ndim;
    int64_t shape[CK_MAX_DIMS];
    int64_t strides[CK_MAX_DIMS];
} ck_layout;

const char *ck_last_error(void);
size_t ck_dtype_size(ck_dtype dt);

// Threads: the kernels share oneDNN's OpenMP pool.
int ck_max_threads(void);
void ck_set_num_threads(int n);

// ---- memory -------------------------------------------------------------------------------
// Copy with conversion between any two dtypes; src and dst may both be strided views.
int ck_copy(const void *src, ck_dtype src_dt, const ck_layout *src_layout,
            void *dst, ck_dtype dst_dt, const ck_layout *dst_layout);
// Fill a contiguous buffer of `count` elements with `value` converted to dt.
int ck_fill(void *dst, ck_dtype dt, int64_t count, double value);

// ---- elementwise --------------------------------------------------------------------------
typedef enum {
    CK_ADD, CK_SUB, CK_MUL, CK_DIV, CK_POW, CK_MAXIMUM, CK_MINIMUM, CK_ATAN2,
    CK_EQ, CK_NE, CK_LT, CK_LE, CK_GT, CK_GE,   // results are CK_BOOL
    CK_AND, CK_OR, CK_XOR,                      // CK_BOOL operands only
} ck_binary_op;
// out may alias a or b when their layouts are identical (in-place updates).
int ck_binary(ck_binary_op op, ck_dtype dt,
              const void *a, const ck_layout *la, const void *b, const ck_layout *lb,
              void *out, const ck_layout *lo);

typedef enum {
    CK_NEG, CK_EXP, CK_LOG, CK_SQRT, CK_ABS, CK_SIGMOID, CK_TANH, CK_SOFTPLUS, CK_RELU,
    CK_LEAKY_RELU,  // p1 = negative slope
    CK_MISH, CK_CLAMP /* p1 = min, p2 = max */, CK_ATAN, CK_FLOOR, CK_CEIL, CK_ROUND,
    CK_RECIPROCAL, CK_SIGN, CK_SQUARE, CK_SIN, CK_COS, CK_NOT /* bool */,
} ck_unary_op;
// Contiguous float32 (CK_NOT: bool) buffers of n elements.
int ck_unary(ck_unary_op op, const void *x, void *y, int64_t n, float p1, float p2);
// dx = dy * f'(x); y is the forward output (some derivatives are cheaper from it).
int ck_unary_grad(ck_unary_op op, const float *x, const float *y, const float *dy, float *dx,
                  int64_t n, float p1, float p2);

// out = cond ? a : b, all of one shape (strided); a, b and out share dtype dt.
int ck_where(const void *cond, const ck_layout *lc, ck_dtype dt,
             const void *a, const ck_layout *la, const void *b, const ck_layout *lb,
             void *out, const ck_layout *lo);

// ---- reductions over the middle axis of a contiguous [outer, n, inner] view ----------------
typedef enum { CK_SUM, CK_MAX, CK_MIN, CK_PROD } ck_reduce_op;
// values: [outer, inner] of dtype dt (may be NULL when only indices are wanted);
// indices: [outer, inner] int64 positions of the max/min (may be NULL; ignored for SUM/PROD).
int ck_reduce(ck_reduce_op op, ck_dtype dt, const void *x, int64_t outer, int64_t n, int64_t inner,
              void *values, int64_t *indices);

// ---- indexing over [outer, n, inner] views --------------------------------------------------
// out[o, j, i] = x[o, index[o, j, i], i]                       (torch.gather)
int ck_gather(ck_dtype dt, const void *x, int64_t outer, int64_t n, int64_t inner,
              const int64_t *index, int64_t k, void *out);
// out[o, index[o, j, i], i] += src[o, j, i]                    (torch.scatter_add_)
int ck_scatter_add(ck_dtype dt, const void *src, int64_t outer, int64_t k, int64_t inner,
                   const int64_t *index, void *out, int64_t n);
// out[o, index[o, j, i], i] = src[o, j, i]                     (torch.scatter_)
int ck_scatter(ck_dtype dt, const void *src, int64_t outer, int64_t k, int64_t inner,
               const int64_t *index, void *out, int64_t n);
// out[o, j, i] = x[o, index[j], i]                             (torch.index_select)
int ck_index_select(ck_dtype dt, const void *x, int64_t outer, int64_t n, int64_t inner,
                    const int64_t *index, int64_t k, void *out);
// out[o, index[j], i] += src[o, j, i]                          (torch.index_add_)
int ck_index_add(ck_dtype dt, const void *src, int64_t outer, int64_t k, int64_t inner,
                 const int64_t *index, void *out, int64_t n);
// Positions of the true elements of a contiguous bool buffer; returns their count.
int64_t ck_count_true(const uint8_t *mask, int64_t n);
void ck_true_positions(const uint8_t *mask, int64_t n, int64_t *positions);

// ---- random ----------------------------------------------------------------------------------
// xoshiro256** state of 4 words, advanced in place; sequential so results depend only on the seed.
void ck_rng_seed(uint64_t state[4], uint64_t seed);
uint64_t ck_rng_next(uint64_t state[4]);
void ck_rng_uniform(uint64_t state[4], float *out, int64_t n, float low, float high);
void ck_rng_normal(uint64_t state[4], float *out, int64_t n, float mean, float stddev);

// ---- matrix multiply (row-major float32) -----------------------------------------------------
// C[m, n] = alpha * op(A) op(B) + beta * C, op = transpose when trans_* is non-zero.
int ck_sgemm(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, float alpha,
             const float *a, int64_t lda, const float *b, int64_t ldb, float beta,
             float *c, int64_t ldc);

// ---- oneDNN neural-network kernels on plain NCHW float32 -----------------------------------
typedef struct {
    int64_t n, c, h, w;          // input
    int64_t k, kh, kw;           // output channels, kernel size
    int64_t stride_h, stride_w, pad_h, pad_w, dilation_h, dilation_w, groups;
    int64_t oh, ow;              // output size (PyTorch's floor formula)
    // 0: float32; 1: bfloat16 inputs (src, weights, diff_dst) with float32 accumulation and float32
    // outputs. Float32 buffers are converted inside the reorders to oneDNN's layouts.
    int64_t precision;
    // With precision 1, the caller's src buffer (forward, backward-weights) is bfloat16 rather
    // than float32, and so is the forward's dst when dst_bf16 is set (one rounding of the float32
    // accumulator, as PyTorch's autocast convolution output). Ignored by the other passes.
    int64_t src_bf16, dst_bf16;
    // The forward's src / dst buffers are channels-last (NHWC in memory) instead of NCHW: the
    // layout oneDNN's inference kernels use, so no reorder runs between them. Forward only.
    int64_t src_nhwc, dst_nhwc;
} ck_conv_params;

// src and dst are float32, or bfloat16 as p->src_bf16 / p->dst_bf16 say.
int ck_conv_forward(const ck_conv_params *p, const void *src, const float *weights,
                    const float *bias, void *dst);
int ck_conv_backward_data(const ck_conv_params *p, const float *diff_dst, const float *weights,
                          float *diff_src);
// diff_bias may be NULL.
int ck_conv_backward_weights(const ck_conv_params *p, const void *src, const float *diff_dst,
                             float *diff_weights, float *diff_bias);
// Both backward passes; diff_dst is reordered once for both where their layouts agree. Either
// output may be NULL (that pass is skipped).
int ck_conv_backward(const ck_conv_params *p, const void *src, const float *diff_dst, const float *weights,
                     float *diff_src, float *diff_weights, float *diff_bias);
// Inference convolution with its activation (bias may be NULL): activation 0 none, 1 leaky ReLU
// (slope alpha), 2 mish; a oneDNN post-op, or applied after a Winograd convolution (see
// ck_conv_set_winograd).
int ck_conv_forward_fused(const ck_conv_params *p, const float *src, const float *weights, const float *bias,
                          float *dst, int activation, float alpha);
// Name of the oneDNN implementation chosen for the forward pass (for benchmarks).
const char *ck_conv_forward_impl(const ck_conv_params *p);
// oneDNN's implementation of the training passes (backward-data, backward-weights) for p.
const char *ck_conv_backward_data_impl(const ck_conv_params *p);
const char *ck_conv_backward_weights_impl(const ck_conv_params *p);
// Float32 3x3 stride-1 convolutions through Winograd kernels where oneDNN has them (1, the
// default), or the direct method everywhere (0).
void ck_conv_set_winograd(int enabled);
int ck_conv_winograd(void);
// 1 when this CPU runs bfloat16 convolutions in its own instructions (not oneDNN's reference code).
int ck_conv_bf16_native(void);

// Training conv-BN-activation units whose activations stay in oneDNN's 16-channel blocked layout
// (nChw16c: float32 [n][c/16][h][w][16]) between the convolution and the batch norm, forward and
// backward. ck_conv_blocked16 says whether p's float32 training passes all use that layout (then
// the calls below may be given blocked buffers; elsewhere they fail).
int ck_conv_blocked16(const ck_conv_params *p);
// Which activation buffers are blocked: src (forward, backward-weights), dst (the forward's dst and
// both backward passes' diff_dst), diff_src (backward-data). Others are NCHW. No bias.
enum { CK_BLOCKED_SRC = 1, CK_BLOCKED_DST = 2, CK_BLOCKED_DIFF_SRC = 4 };
int ck_conv_forward_blocked(const ck_conv_params *p, int blocked, const float *src, const float *weights, float *dst);
// diff_src or diff_weights may be NULL (that pass is skipped).
int ck_conv_backward_blocked(const ck_conv_params *p, int blocked, const float *src, const float *diff_dst,
                             const float *weights, float *diff_src, float *diff_weights);
// NCHW -> nChw16c (to_blocked 1) or back; c a multiple of 16.
int ck_reorder_blocked16(int to_blocked, int64_t n, int64_t c, int64_t h, int64_t w, const float *src, float *dst);
// ck_batchnorm_act_forward / _backward (float32) with the batch norm's input (src: the
// convolution's result) and the backward's diff_src in nChw16c; dst and diff_dst are NCHW.
int ck_batchnorm_act_forward_blocked16(int64_t n, int64_t c, int64_t h, int64_t w, float eps, int activation,
                                       float alpha, const float *src, const float *scale, const float *shift,
                                       float *dst, float *mean, float *var);
int ck_batchnorm_act_backward_blocked16(int64_t n, int64_t c, int64_t h, int64_t w, float eps, int activation,
                                        float alpha, const float *src, const float *diff_dst, const float *mean,
                                        const float *var, const float *scale, const float *shift, float *diff_src,
                                        float *diff_scale, float *diff_shift);

// Training: mean and var (biased) are outputs. Inference: they are inputs.
int ck_batchnorm_forward(int training, int64_t n, int64_t c, int64_t h, int64_t w, float eps,
                         const float *src, const float *scale, const float *shift, float *dst,
                         float *mean, float *var);
int ck_batchnorm_backward(int64_t n, int64_t c, int64_t h, int64_t w, float eps,
                          const float *src, const float *diff_dst, const float *mean,
                          const float *var, const float *scale, const float *shift, float *diff_src,
                          float *diff_scale, float *diff_shift);

// Training batch norm with the following activation fused (0 none, 1 leaky ReLU with slope alpha,
// 2 mish): dst = act(bn(src)), mean and var (biased) are outputs. The backward recomputes the
// normalised values from src and the saved statistics; diff_scale / diff_shift / diff_src may be NULL.
// src is float32 (src_bf16 0) or bfloat16 (1: a bfloat16 convolution output, read as it is), and so
// is the forward's dst (dst_bf16: the result rounded once, for a bfloat16 convolution to read); every
// other buffer is float32.
int ck_batchnorm_act_forward(int64_t n, int64_t c, int64_t h, int64_t w, float eps, int activation, float alpha,
                             int src_bf16, const void *src, const float *scale, const float *shift, int dst_bf16,
                             void *dst, float *mean, float *var);
int ck_batchnorm_act_backward(int64_t n, int64_t c, int64_t h, int64_t w, float eps, int activation, float alpha,
                              int src_bf16, const void *src, const float *diff_dst, const float *mean, const float *var,
                              const float *scale, const float *shift, float *diff_src, float *diff_scale,
                              float *diff_shift);

typedef struct {
    int64_t n, c, h, w;
    int64_t kh, kw, stride_h, stride_w, pad_h, pad_w;
    int64_t oh, ow;
} ck_pool_params;

// Bytes of the workspace the backward pass needs (0: none).
int64_t ck_maxpool_workspace_size(const ck_pool_params *p);
// workspace may be NULL for inference. src and dst are float32, or bfloat16 when bf16 is set.
int ck_maxpool_forward(const ck_pool_params *p, int bf16, const void *src, void *dst, void *workspace);
// Inference on channels-last (NHWC) buffers: the same maxima, no positions kept.
int ck_maxpool_forward_nhwc(const ck_pool_params *p, const float *src, float *dst);
int ck_maxpool_backward(const ck_pool_params *p, const float *diff_dst, const void *workspace,
                        float *diff_src);

// Channels-last (NHWC) buffers: each output pixel's channels are its source pixel's.
int ck_upsample_nearest_forward_nhwc(int64_t n, int64_t c, int64_t h, int64_t w, int64_t factor, const float *src,
                                     float *dst);
int ck_upsample_nearest_forward(int64_t n, int64_t c, int64_t h, int64_t w, int64_t factor,
                                const float *src, float *dst);
int ck_upsample_nearest_backward(int64_t n, int64_t c, int64_t h, int64_t w, int64_t factor,
                                 const float *diff_dst, float *diff_src);

// ---- optimizer updates (in place, contiguous float32 of n elements) --------------------------
// PyTorch's SGD: d = g + wd p; buf = first ? d : momentum buf + d; d = nesterov ? d + momentum buf : buf;
// p -= lr d.
void ck_sgd_step(float *p, const float *g, float *buf, int64_t n, float lr, float momentum, float weight_decay,
                 int nesterov, int first_step);
// PyTorch's Adam (decoupled = 0: L2 added to the gradient) and AdamW (decoupled = 1: p *= 1 - lr wd).
// step is the 1-based step count after this update.
void ck_adam_step(float *p, const float *g, float *m, float *v, int64_t n, float lr, float beta1, float beta2,
                  float eps, float weight_decay, int decoupled, int64_t step);

// ---- machine ---------------------------------------------------------------------------------
// Measured core clock in Hz (a chain of dependent adds, one per cycle), for peak-FLOP figures.
double ck_measure_clock_hz(double seconds);
// Float32 FLOP/s of FMAs at the widest vector width, all threads at once, summed (0 without FMA).
double ck_measure_fma_flops(double seconds);
// SIMD float32 lanes and FMA support of the running CPU (AVX-512: 16, AVX2: 8, else 4).
int ck_simd_float_lanes(void);
int ck_has_fma(void);

#ifdef __cplusplus
}
#endif
#endif
