// Elementwise unary functions and their derivatives on contiguous float32 buffers.
#include "fastmath.h"
#include "internal.h"
#include <math.h>

// Compiled for AVX-512, AVX2 and the baseline; the loader picks the widest the CPU has.
#define CK_SIMD_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))

typedef struct {
    ck_unary_op op;
    const float *x, *y, *dy;
    float *out;
    float p1, p2;
} unary_ctx;

static inline float sigmoidf(float x) { return ck_sigmoidf(x); }

// PyTorch's softplus with beta 1 and threshold 20.
static inline float softplusf(float x) { return ck_softplusf(x); }

#define UNARY_LOOP(EXPR) for (int64_t i = begin; i < end; i++) { float x = X[i]; Y[i] = (EXPR); } break

CK_SIMD_CLONES static void unary_range(void *vctx, int64_t begin, int64_t end) {
    const unary_ctx *c = vctx;
    const float *X = c->x;
    float *Y = c->out;
    const float p1 = c->p1, p2 = c->p2;
    switch (c->op) {
    case CK_NEG: UNARY_LOOP(-x);
    case CK_EXP: UNARY_LOOP(ck_expf(x));
    case CK_LOG: UNARY_LOOP(ck_logf(x));
    case CK_SQRT: UNARY_LOOP(sqrtf(x));
    case CK_ABS: UNARY_LOOP(fabsf(x));
    case CK_SIGMOID: UNARY_LOOP(sigmoidf(x));
    case CK_TANH: UNARY_LOOP(tanhf(x));
    case CK_SOFTPLUS: UNARY_LOOP(softplusf(x));
    case CK_RELU: UNARY_LOOP(x > 0 ? x : 0.0f);
    case CK_LEAKY_RELU: UNARY_LOOP(x > 0 ? x : x * p1);
    case CK_MISH: UNARY_LOOP(ck_mishf(x));
    case CK_CLAMP: UNARY_LOOP(x != x ? x : (x < p1 ? p1 : (x > p2 ? p2 : x)));
    case CK_ATAN: UNARY_LOOP(atanf(x));
    case CK_FLOOR: UNARY_LOOP(floorf(x));
    case CK_CEIL: UNARY_LOOP(ceilf(x));
    case CK_ROUND: UNARY_LOOP(nearbyintf(x));
    case CK_RECIPROCAL: UNARY_LOOP(1.0f / x);
    case CK_SIGN: UNARY_LOOP(x > 0 ? 1.0f : (x < 0 ? -1.0f : 0.0f));
    case CK_SQUARE: UNARY_LOOP(x * x);
    case CK_SIN: UNARY_LOOP(sinf(x));
    case CK_COS: UNARY_LOOP(cosf(x));
    case CK_NOT: {
        const uint8_t *B = (const uint8_t *)c->x;
        uint8_t *O = (uint8_t *)c->out;
        for (int64_t i = begin; i < end; i++) O[i] = !B[i];
        break;
    }
    }
}

int ck_unary(ck_unary_op op, const void *x, void *y, int64_t n, float p1, float p2) {
    unary_ctx ctx = {op, x, NULL, NULL, y, p1, p2};
    ck_parallel_for(n, CK_GRAIN, unary_range, &ctx);
    return 0;
}

#define GRAD_LOOP(EXPR) for (int64_t i = begin; i < end; i++) { float x = X[i], y = Yf[i], g = G[i]; (void)x; (void)y; O[i] = (EXPR); } break

CK_SIMD_CLONES static void grad_range(void *vctx, int64_t begin, int64_t end) {
    const unary_ctx *c = vctx;
    const float *X = c->x, *Yf = c->y, *G = c->dy;
    float *O = c->out;
    const float p1 = c->p1, p2 = c->p2;
    switch (c->op) {
    case CK_NEG: GRAD_LOOP(-g);
    case CK_EXP: GRAD_LOOP(g * y);
    case CK_LOG: GRAD_LOOP(g / x);
    case CK_SQRT: GRAD_LOOP(g * 0.5f / y);
    case CK_ABS: GRAD_LOOP(x > 0 ? g : (x < 0 ? -g : 0.0f));
    case CK_SIGMOID: GRAD_LOOP(g * y * (1.0f - y));
    case CK_TANH: GRAD_LOOP(g * (1.0f - y * y));
    case CK_SOFTPLUS: GRAD_LOOP(x > 20.0f ? g : g * sigmoidf(x));
    case CK_RELU: GRAD_LOOP(x > 0 ? g : 0.0f);
    case CK_LEAKY_RELU: GRAD_LOOP(x > 0 ? g : g * p1);
    case CK_MISH: GRAD_LOOP(g * ck_mish_gradf(x));
    case CK_CLAMP: GRAD_LOOP((x >= p1 && x <= p2) ? g : 0.0f);
    case CK_ATAN: GRAD_LOOP(g / (1.0f + x * x));
    case CK_RECIPROCAL: GRAD_LOOP(-g * y * y);
    case CK_SQUARE: GRAD_LOOP(2.0f * x * g);
    case CK_SIN: GRAD_LOOP(g * cosf(x));
    case CK_COS: GRAD_LOOP(-g * sinf(x));
    case CK_FLOOR: case CK_CEIL: case CK_ROUND: case CK_SIGN: case CK_NOT:
        for (int64_t i = begin; i < end; i++) O[i] = 0.0f;
        break;
    }
}

int ck_unary_grad(ck_unary_op op, const float *x, const float *y, const float *dy, float *dx,
                  int64_t n, float p1, float p2) {
    unary_ctx ctx = {op, x, y, dy, dx, p1, p2};
    ck_parallel_for(n, CK_GRAIN, grad_range, &ctx);
    return 0;
}
