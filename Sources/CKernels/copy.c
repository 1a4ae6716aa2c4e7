// Copies between strided views, with dtype conversion (float16 included).
#include "internal.h"
#include <string.h>

typedef struct { ck_dtype src, dst; } copy_ctx;

static inline int is_float(ck_dtype dt) { return dt == CK_F32 || dt == CK_F16 || dt == CK_BF16; }

#define LOAD(T, p) (*(const T *)(p))

static inline double load_double(ck_dtype dt, const char *p) {
    switch (dt) {
    case CK_F32: return LOAD(float, p);
    case CK_F16: return (double)LOAD(_Float16, p);
    case CK_BF16: return ck_bf16_to_f32(LOAD(uint16_t, p));
    case CK_I32: return LOAD(int32_t, p);
    case CK_I64: return (double)LOAD(int64_t, p);
    case CK_U8: return LOAD(uint8_t, p);
    case CK_BOOL: return LOAD(uint8_t, p) != 0;
    }
    return 0;
}

static inline int64_t load_int(ck_dtype dt, const char *p) {
    switch (dt) {
    case CK_F32: return (int64_t)LOAD(float, p);
    case CK_F16: return (int64_t)(float)LOAD(_Float16, p);
    case CK_BF16: return (int64_t)ck_bf16_to_f32(LOAD(uint16_t, p));
    case CK_I32: return LOAD(int32_t, p);
    case CK_I64: return LOAD(int64_t, p);
    case CK_U8: return LOAD(uint8_t, p);
    case CK_BOOL: return LOAD(uint8_t, p) != 0;
    }
    return 0;
}

static inline void store_double(ck_dtype dt, char *p, double v) {
    switch (dt) {
    case CK_F32: *(float *)p = (float)v; break;
    case CK_F16: *(_Float16 *)p = (_Float16)(float)v; break;
    case CK_BF16: *(uint16_t *)p = ck_f32_to_bf16((float)v); break;
    case CK_I32: *(int32_t *)p = (int32_t)v; break;
    case CK_I64: *(int64_t *)p = (int64_t)v; break;
    case CK_U8: *(uint8_t *)p = (uint8_t)v; break;
    case CK_BOOL: *(uint8_t *)p = v != 0; break;
    }
}

static inline void store_int(ck_dtype dt, char *p, int64_t v) {
    switch (dt) {
    case CK_F32: *(float *)p = (float)v; break;
    case CK_F16: *(_Float16 *)p = (_Float16)(float)v; break;
    case CK_BF16: *(uint16_t *)p = ck_f32_to_bf16((float)v); break;
    case CK_I32: *(int32_t *)p = (int32_t)v; break;
    case CK_I64: *(int64_t *)p = v; break;
    case CK_U8: *(uint8_t *)p = (uint8_t)v; break;
    case CK_BOOL: *(uint8_t *)p = v != 0; break;
    }
}

// Dense float32 <-> bfloat16 runs (autocast's operand conversions, hot in mixed-precision
// training), compiled per instruction set so that they vectorise.
__attribute__((target_clones("avx512f", "avx2", "default")))
void ck_narrow_bf16(const float *src, uint16_t *dst, int64_t n) {
    for (int64_t i = 0; i < n; i++) dst[i] = ck_f32_to_bf16(src[i]);
}

__attribute__((target_clones("avx512f", "avx2", "default")))
void ck_widen_bf16(const uint16_t *src, float *dst, int64_t n) {
    for (int64_t i = 0; i < n; i++) dst[i] = ck_bf16_to_f32(src[i]);
}

static void copy_run(void *vctx, char **p, const int64_t *s, int64_t n) {
    const copy_ctx *c = vctx;
    char *dst = p[0];
    const char *src = p[1];
    size_t es = ck_dtype_size(c->src);
    if (c->src == c->dst && s[0] == (int64_t)es && s[1] == (int64_t)es) {
        memcpy(dst, src, (size_t)n * es);
        return;
    }
    if (c->src == CK_F32 && c->dst == CK_F32) {
        for (int64_t i = 0; i < n; i++) *(float *)(dst + i * s[0]) = *(const float *)(src + i * s[1]);
        return;
    }
    if (c->src == CK_F32 && c->dst == CK_F16) {
        for (int64_t i = 0; i < n; i++)
            *(_Float16 *)(dst + i * s[0]) = (_Float16)(*(const float *)(src + i * s[1]));
        return;
    }
    if (c->src == CK_F16 && c->dst == CK_F32) {
        for (int64_t i = 0; i < n; i++)
            *(float *)(dst + i * s[0]) = (float)(*(const _Float16 *)(src + i * s[1]));
        return;
    }
    if (c->src == CK_F32 && c->dst == CK_BF16 && s[0] == 2 && s[1] == 4) {
        ck_narrow_bf16((const float *)src, (uint16_t *)dst, n);
        return;
    }
    if (c->src == CK_BF16 && c->dst == CK_F32 && s[0] == 4 && s[1] == 2) {
        ck_widen_bf16((const uint16_t *)src, (float *)dst, n);
        return;
    }
    if (c->src == CK_F32 && c->dst == CK_BF16) {
        for (int64_t i = 0; i < n; i++) *(uint16_t *)(dst + i * s[0]) = ck_f32_to_bf16(*(const float *)(src + i * s[1]));
        return;
    }
    if (c->src == CK_BF16 && c->dst == CK_F32) {
        for (int64_t i = 0; i < n; i++) *(float *)(dst + i * s[0]) = ck_bf16_to_f32(*(const uint16_t *)(src + i * s[1]));
        return;
    }
    if (c->src == c->dst && es == 8) {
        for (int64_t i = 0; i < n; i++) *(int64_t *)(dst + i * s[0]) = *(const int64_t *)(src + i * s[1]);
        return;
    }
    if (c->src == c->dst && es == 4) {
        for (int64_t i = 0; i < n; i++) *(int32_t *)(dst + i * s[0]) = *(const int32_t *)(src + i * s[1]);
        return;
    }
    if (c->src == c->dst && es == 2) {
        for (int64_t i = 0; i < n; i++) *(int16_t *)(dst + i * s[0]) = *(const int16_t *)(src + i * s[1]);
        return;
    }
    if (c->src == c->dst && es == 1) {
        for (int64_t i = 0; i < n; i++) *(dst + i * s[0]) = *(src + i * s[1]);
        return;
    }
    if (is_float(c->src) || is_float(c->dst)) {
        for (int64_t i = 0; i < n; i++) store_double(c->dst, dst + i * s[0], load_double(c->src, src + i * s[1]));
    } else {
        for (int64_t i = 0; i < n; i++) store_int(c->dst, dst + i * s[0], load_int(c->src, src + i * s[1]));
    }
}

int ck_copy(const void *src, ck_dtype src_dt, const ck_layout *src_layout,
            void *dst, ck_dtype dst_dt, const ck_layout *dst_layout) {
    if (src_layout->ndim != dst_layout->ndim) return ck_fail("copy: rank %d vs %d", src_layout->ndim, dst_layout->ndim);
    for (int d = 0; d < src_layout->ndim; d++)
        if (src_layout->shape[d] != dst_layout->shape[d])
            return ck_fail("copy: dimension %d is %lld in the source and %lld in the destination", d,
                           (long long)src_layout->shape[d], (long long)dst_layout->shape[d]);
    copy_ctx ctx = {src_dt, dst_dt};
    ck_iter_spec spec = {2, {(char *)dst, (char *)src}, {(int64_t)ck_dtype_size(dst_dt), (int64_t)ck_dtype_size(src_dt)},
                         {dst_layout, src_layout}};
    ck_iterate(&spec, copy_run, &ctx);
    return 0;
}

typedef struct { ck_dtype dt; double value; char *dst; } fill_ctx;

static void fill_range(void *vctx, int64_t begin, int64_t end) {
    fill_ctx *c = vctx;
    switch (c->dt) {
    case CK_F32: { float v = (float)c->value, *d = (float *)c->dst; for (int64_t i = begin; i < end; i++) d[i] = v; break; }
    case CK_F16: { _Float16 v = (_Float16)(float)c->value, *d = (_Float16 *)c->dst; for (int64_t i = begin; i < end; i++) d[i] = v; break; }
    case CK_BF16: { uint16_t v = ck_f32_to_bf16((float)c->value), *d = (uint16_t *)c->dst; for (int64_t i = begin; i < end; i++) d[i] = v; break; }
    case CK_I32: { int32_t v = (int32_t)c->value, *d = (int32_t *)c->dst; for (int64_t i = begin; i < end; i++) d[i] = v; break; }
    case CK_I64: { int64_t v = (int64_t)c->value, *d = (int64_t *)c->dst; for (int64_t i = begin; i < end; i++) d[i] = v; break; }
    case CK_U8: memset(c->dst + begin, (uint8_t)c->value, (size_t)(end - begin)); break;
    case CK_BOOL: memset(c->dst + begin, c->value != 0, (size_t)(end - begin)); break;
    }
}

int ck_fill(void *dst, ck_dtype dt, int64_t count, double value) {
    fill_ctx ctx = {dt, value, dst};
    ck_parallel_for(count, CK_GRAIN * 4, fill_range, &ctx);
    return 0;
}
