// Reductions over the middle axis of [outer, n, inner]; sums accumulate in double (floats) or
// int64 (integers) so long reductions keep their precision.
#include "internal.h"
#include <math.h>

typedef struct {
    ck_reduce_op op;
    ck_dtype dt;
    const char *x;
    int64_t outer, n, inner;
    char *values;
    int64_t *indices;
} reduce_ctx;

#define BLOCK 256

// Reduces output positions [begin, end) of the flattened [outer, inner] result.
#define REDUCE_BODY(T, ACC)                                                                      \
    do {                                                                                         \
        const T *X = (const T *)c->x;                                                            \
        T *V = (T *)c->values;                                                                   \
        for (int64_t pos = begin; pos < end;) {                                                  \
            int64_t o = pos / c->inner, i0 = pos % c->inner;                                     \
            int64_t cnt = c->inner - i0;                                                         \
            if (cnt > end - pos) cnt = end - pos;                                                \
            if (cnt > BLOCK) cnt = BLOCK;                                                        \
            ACC acc[BLOCK];                                                                      \
            int64_t arg[BLOCK];                                                                  \
            const T *base = X + o * c->n * c->inner + i0;                                        \
            for (int64_t i = 0; i < cnt; i++) {                                                  \
                acc[i] = c->op == CK_SUM ? (ACC)0 : (c->op == CK_PROD ? (ACC)1 : (ACC)base[i]);  \
                arg[i] = 0;                                                                      \
            }                                                                                    \
            int64_t jstart = (c->op == CK_MAX || c->op == CK_MIN) ? 1 : 0;                       \
            for (int64_t j = jstart; j < c->n; j++) {                                            \
                const T *row = base + j * c->inner;                                              \
                switch (c->op) {                                                                 \
                case CK_SUM: for (int64_t i = 0; i < cnt; i++) acc[i] += (ACC)row[i]; break;     \
                case CK_PROD: for (int64_t i = 0; i < cnt; i++) acc[i] *= (ACC)row[i]; break;    \
                case CK_MAX:                                                                     \
                    for (int64_t i = 0; i < cnt; i++) {                                          \
                        ACC v = (ACC)row[i];                                                     \
                        if (v > acc[i] || (v != v && acc[i] == acc[i])) { acc[i] = v; arg[i] = j; } \
                    }                                                                            \
                    break;                                                                       \
                case CK_MIN:                                                                     \
                    for (int64_t i = 0; i < cnt; i++) {                                          \
                        ACC v = (ACC)row[i];                                                     \
                        if (v < acc[i] || (v != v && acc[i] == acc[i])) { acc[i] = v; arg[i] = j; } \
                    }                                                                            \
                    break;                                                                       \
                }                                                                                \
            }                                                                                    \
            if (V) for (int64_t i = 0; i < cnt; i++) V[pos + i] = (T)acc[i];                     \
            if (c->indices) for (int64_t i = 0; i < cnt; i++) c->indices[pos + i] = arg[i];      \
            pos += cnt;                                                                          \
        }                                                                                        \
    } while (0)

static void reduce_range(void *vctx, int64_t begin, int64_t end) {
    const reduce_ctx *c = vctx;
    switch (c->dt) {
    case CK_F32: REDUCE_BODY(float, double); break;
    case CK_I32: REDUCE_BODY(int32_t, int64_t); break;
    case CK_I64: REDUCE_BODY(int64_t, int64_t); break;
    case CK_U8: case CK_BOOL: REDUCE_BODY(uint8_t, int64_t); break;
    default: break;
    }
}

// A whole-buffer float sum split over threads, for the common "loss = mean(everything)" case.
typedef struct { const float *x; int64_t n; double partial[64]; int64_t chunk; } sum_ctx;

static void sum_chunks(void *vctx, int64_t begin, int64_t end) {
    sum_ctx *c = vctx;
    for (int64_t t = begin; t < end; t++) {
        int64_t lo = t * c->chunk, hi = lo + c->chunk < c->n ? lo + c->chunk : c->n;
        double acc = 0;
        for (int64_t i = lo; i < hi; i++) acc += c->x[i];
        c->partial[t] = acc;
    }
}

int ck_reduce(ck_reduce_op op, ck_dtype dt, const void *x, int64_t outer, int64_t n, int64_t inner,
              void *values, int64_t *indices) {
    if (dt == CK_F16 || dt == CK_BF16)
        return ck_fail("reductions need float32, int32 or int64 tensors; found %s", dt == CK_F16 ? "float16" : "bfloat16");
    if (n == 0 && (op == CK_MAX || op == CK_MIN))
        return ck_fail("max/min over an empty dimension has no result");
    if (op == CK_SUM && dt == CK_F32 && outer == 1 && inner == 1 && n >= 4 * CK_GRAIN) {
        sum_ctx ctx;
        ctx.x = x;
        ctx.n = n;
        int64_t parts = 64;
        ctx.chunk = (n + parts - 1) / parts;
        ck_parallel_for(parts, 1, sum_chunks, &ctx);
        double total = 0;
        for (int64_t t = 0; t < parts; t++) total += ctx.partial[t];
        if (values) *(float *)values = (float)total;
        return 0;
    }
    reduce_ctx ctx = {op, dt, x, outer, n, inner, values, indices};
    int64_t outputs = outer * inner;
    int64_t grain = n > 0 ? CK_GRAIN / n : CK_GRAIN;
    if (grain < 1) grain = 1;
    ck_parallel_for(outputs, grain, reduce_range, &ctx);
    return 0;
}
