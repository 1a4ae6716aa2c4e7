// Elementwise binary operations over broadcast strided views.
#include "internal.h"
#include <math.h>

typedef struct { ck_binary_op op; ck_dtype dt; } binary_ctx;

// Three loop shapes: all contiguous (vectorisable), b a broadcast scalar, and general strides.
#define BINARY_LOOPS(TIN, TOUT, EXPR)                                                            \
    do {                                                                                         \
        const char *pa = p[1], *pb = p[2];                                                       \
        char *po = p[0];                                                                         \
        if (s[0] == sizeof(TOUT) && s[1] == sizeof(TIN) && s[2] == sizeof(TIN)) {                \
            const TIN *A = (const TIN *)pa, *B = (const TIN *)pb;                                \
            TOUT *O = (TOUT *)po;                                                                \
            for (int64_t i = 0; i < n; i++) { TIN x = A[i], y = B[i]; O[i] = (TOUT)(EXPR); }     \
        } else if (s[0] == sizeof(TOUT) && s[1] == sizeof(TIN) && s[2] == 0) {                   \
            const TIN *A = (const TIN *)pa;                                                      \
            const TIN y = *(const TIN *)pb;                                                      \
            TOUT *O = (TOUT *)po;                                                                \
            for (int64_t i = 0; i < n; i++) { TIN x = A[i]; O[i] = (TOUT)(EXPR); }               \
        } else {                                                                                 \
            for (int64_t i = 0; i < n; i++) {                                                    \
                TIN x = *(const TIN *)(pa + i * s[1]), y = *(const TIN *)(pb + i * s[2]);        \
                *(TOUT *)(po + i * s[0]) = (TOUT)(EXPR);                                         \
            }                                                                                    \
        }                                                                                        \
    } while (0)

static inline int64_t ipow(int64_t base, int64_t e) {
    if (e < 0) return base == 1 ? 1 : (base == -1 ? ((e & 1) ? -1 : 1) : 0);
    int64_t r = 1;
    while (e) { if (e & 1) r *= base; base *= base; e >>= 1; }
    return r;
}

#define COMPARE_CASES(T)                                                                         \
    case CK_EQ: BINARY_LOOPS(T, uint8_t, x == y); return;                                        \
    case CK_NE: BINARY_LOOPS(T, uint8_t, x != y); return;                                        \
    case CK_LT: BINARY_LOOPS(T, uint8_t, x < y); return;                                         \
    case CK_LE: BINARY_LOOPS(T, uint8_t, x <= y); return;                                        \
    case CK_GT: BINARY_LOOPS(T, uint8_t, x > y); return;                                         \
    case CK_GE: BINARY_LOOPS(T, uint8_t, x >= y); return;

#define INT_CASES(T)                                                                             \
    case CK_ADD: BINARY_LOOPS(T, T, x + y); return;                                              \
    case CK_SUB: BINARY_LOOPS(T, T, x - y); return;                                              \
    case CK_MUL: BINARY_LOOPS(T, T, x * y); return;                                              \
    case CK_DIV: BINARY_LOOPS(T, T, y == 0 ? 0 : x / y); return;                                 \
    case CK_POW: BINARY_LOOPS(T, T, ipow(x, y)); return;                                         \
    case CK_MAXIMUM: BINARY_LOOPS(T, T, x > y ? x : y); return;                                  \
    case CK_MINIMUM: BINARY_LOOPS(T, T, x < y ? x : y); return;                                  \
    COMPARE_CASES(T)                                                                             \
    default: return;

// Compiled per instruction set: the contiguous loops (bfloat16 rounding included) vectorise.
__attribute__((target_clones("avx512f", "avx2", "default")))
static void binary_run(void *vctx, char **p, const int64_t *s, int64_t n) {
    const binary_ctx *c = vctx;
    switch (c->dt) {
    case CK_F32:
        switch (c->op) {
        case CK_ADD: BINARY_LOOPS(float, float, x + y); return;
        case CK_SUB: BINARY_LOOPS(float, float, x - y); return;
        case CK_MUL: BINARY_LOOPS(float, float, x * y); return;
        case CK_DIV: BINARY_LOOPS(float, float, x / y); return;
        case CK_POW: BINARY_LOOPS(float, float, powf(x, y)); return;
        // NaN-propagating like torch.maximum / torch.minimum
        case CK_MAXIMUM: BINARY_LOOPS(float, float, (x != x || y != y) ? NAN : (x > y ? x : y)); return;
        case CK_MINIMUM: BINARY_LOOPS(float, float, (x != x || y != y) ? NAN : (x < y ? x : y)); return;
        case CK_ATAN2: BINARY_LOOPS(float, float, atan2f(x, y)); return;
        COMPARE_CASES(float)
        default: return;
        }
    // bfloat16 sums and products (residual sums of an autocast chain): computed in float32,
    // rounded once.
    case CK_BF16:
        switch (c->op) {
        case CK_ADD: BINARY_LOOPS(uint16_t, uint16_t, ck_f32_to_bf16(ck_bf16_to_f32(x) + ck_bf16_to_f32(y))); return;
        case CK_SUB: BINARY_LOOPS(uint16_t, uint16_t, ck_f32_to_bf16(ck_bf16_to_f32(x) - ck_bf16_to_f32(y))); return;
        case CK_MUL: BINARY_LOOPS(uint16_t, uint16_t, ck_f32_to_bf16(ck_bf16_to_f32(x) * ck_bf16_to_f32(y))); return;
        default: return;
        }
    case CK_I32: switch (c->op) { INT_CASES(int32_t) }
    case CK_I64: switch (c->op) { INT_CASES(int64_t) }
    case CK_U8: switch (c->op) { INT_CASES(uint8_t) }
    case CK_BOOL:
        switch (c->op) {
        case CK_AND: BINARY_LOOPS(uint8_t, uint8_t, x && y); return;
        case CK_OR: BINARY_LOOPS(uint8_t, uint8_t, x || y); return;
        case CK_XOR: BINARY_LOOPS(uint8_t, uint8_t, (x != 0) != (y != 0)); return;
        case CK_MAXIMUM: BINARY_LOOPS(uint8_t, uint8_t, x || y); return;
        case CK_MINIMUM: BINARY_LOOPS(uint8_t, uint8_t, x && y); return;
        COMPARE_CASES(uint8_t)
        default: return;
        }
    default: return;
    }
}

static const char *op_name(ck_binary_op op) {
    static const char *names[] = {"add", "sub", "mul", "div", "pow", "maximum", "minimum", "atan2",
                                  "eq", "ne", "lt", "le", "gt", "ge", "and", "or", "xor"};
    return names[op];
}

static int supported(ck_binary_op op, ck_dtype dt) {
    int compare = op >= CK_EQ && op <= CK_GE;
    int logical = op >= CK_AND && op <= CK_XOR;
    switch (dt) {
    case CK_F32: return !logical;
    case CK_I32: case CK_I64: case CK_U8: return !logical && op != CK_ATAN2;
    case CK_BOOL: return compare || logical || op == CK_MAXIMUM || op == CK_MINIMUM;
    case CK_BF16: return op == CK_ADD || op == CK_SUB || op == CK_MUL;
    default: return 0;
    }
}

int ck_binary(ck_binary_op op, ck_dtype dt, const void *a, const ck_layout *la, const void *b,
              const ck_layout *lb, void *out, const ck_layout *lo) {
    static const char *dt_names[] = {"float32", "float16", "int32", "int64", "uint8", "bool", "bfloat16"};
    if (!supported(op, dt))
        return ck_fail("%s is not defined for %s tensors", op_name(op), dt_names[dt]);
    int compare = op >= CK_EQ && op <= CK_GE;
    int64_t in_size = (int64_t)ck_dtype_size(dt);
    int64_t out_size = compare ? 1 : in_size;
    binary_ctx ctx = {op, dt};
    ck_iter_spec spec = {3, {(char *)out, (char *)a, (char *)b}, {out_size, in_size, in_size}, {lo, la, lb}};
    ck_iterate(&spec, binary_run, &ctx);
    return 0;
}

// ---- where ---------------------------------------------------------------------------------

static void where_run(void *vctx, char **p, const int64_t *s, int64_t n) {
    int64_t es = *(const int64_t *)vctx;
    char *o = p[0];
    const char *c = p[1], *a = p[2], *b = p[3];
    for (int64_t i = 0; i < n; i++) {
        const char *src = c[i * s[1]] ? a + i * s[2] : b + i * s[3];
        char *dst = o + i * s[0];
        switch (es) {
        case 1: *dst = *src; break;
        case 2: *(int16_t *)dst = *(const int16_t *)src; break;
        case 4: *(int32_t *)dst = *(const int32_t *)src; break;
        case 8: *(int64_t *)dst = *(const int64_t *)src; break;
        }
    }
}

int ck_where(const void *cond, const ck_layout *lc, ck_dtype dt, const void *a, const ck_layout *la,
             const void *b, const ck_layout *lb, void *out, const ck_layout *lo) {
    int64_t es = (int64_t)ck_dtype_size(dt);
    ck_iter_spec spec = {4, {(char *)out, (char *)cond, (char *)a, (char *)b}, {es, 1, es, es}, {lo, lc, la, lb}};
    ck_iterate(&spec, where_run, &es);
    return 0;
}
