// Gather, scatter, index_select, index_add and mask positions over [outer, n, inner] views.
#include "internal.h"
#include <string.h>

typedef struct {
    ck_dtype dt;
    const char *src;
    char *dst;
    const int64_t *index;
    int64_t outer, n, k, inner;  // n: size of the indexed axis, k: number of indices
    int accumulate;
    int bad;
    int64_t bad_value;
} index_ctx;

#define ADD_INTO(T, d, s) (*(T *)(d) += *(const T *)(s))

static inline void add_element(ck_dtype dt, char *d, const char *s) {
    switch (dt) {
    case CK_F32: ADD_INTO(float, d, s); break;
    case CK_F16: *(_Float16 *)d = (_Float16)((float)*(_Float16 *)d + (float)*(const _Float16 *)s); break;
    case CK_BF16: *(uint16_t *)d = ck_f32_to_bf16(ck_bf16_to_f32(*(uint16_t *)d) + ck_bf16_to_f32(*(const uint16_t *)s)); break;
    case CK_I32: ADD_INTO(int32_t, d, s); break;
    case CK_I64: ADD_INTO(int64_t, d, s); break;
    case CK_U8: ADD_INTO(uint8_t, d, s); break;
    case CK_BOOL: *(uint8_t *)d = *(uint8_t *)d || *(const uint8_t *)s; break;
    }
}

// gather: out[o, j, i] = x[o, index[o, j, i], i]; parallel over o.
static void gather_range(void *vctx, int64_t begin, int64_t end) {
    index_ctx *c = vctx;
    size_t es = ck_dtype_size(c->dt);
    for (int64_t o = begin; o < end; o++)
        for (int64_t j = 0; j < c->k; j++)
            for (int64_t i = 0; i < c->inner; i++) {
                int64_t t = (o * c->k + j) * c->inner + i;
                int64_t idx = c->index[t];
                if (idx < 0) idx += c->n;
                if (idx < 0 || idx >= c->n) { c->bad = 1; c->bad_value = c->index[t]; continue; }
                memcpy(c->dst + t * es, c->src + ((o * c->n + idx) * c->inner + i) * es, es);
            }
}

int ck_gather(ck_dtype dt, const void *x, int64_t outer, int64_t n, int64_t inner,
              const int64_t *index, int64_t k, void *out) {
    index_ctx ctx = {dt, x, out, index, outer, n, k, inner, 0, 0, 0};
    ck_parallel_for(outer, 64, gather_range, &ctx);
    if (ctx.bad) return ck_fail("gather: index %lld is out of range for a dimension of size %lld",
                                (long long)ctx.bad_value, (long long)n);
    return 0;
}

// scatter(_add): out[o, index[o, j, i], i] (+)= src[o, j, i]; parallel over o, so threads never
// touch the same output element.
static void scatter_range(void *vctx, int64_t begin, int64_t end) {
    index_ctx *c = vctx;
    size_t es = ck_dtype_size(c->dt);
    for (int64_t o = begin; o < end; o++)
        for (int64_t j = 0; j < c->k; j++)
            for (int64_t i = 0; i < c->inner; i++) {
                int64_t t = (o * c->k + j) * c->inner + i;
                int64_t idx = c->index[t];
                if (idx < 0) idx += c->n;
                if (idx < 0 || idx >= c->n) { c->bad = 1; c->bad_value = c->index[t]; continue; }
                char *d = c->dst + ((o * c->n + idx) * c->inner + i) * es;
                if (c->accumulate) add_element(c->dt, d, c->src + t * es);
                else memcpy(d, c->src + t * es, es);
            }
}

static int scatter_impl(ck_dtype dt, const void *src, int64_t outer, int64_t k, int64_t inner,
                        const int64_t *index, void *out, int64_t n, int accumulate) {
    index_ctx ctx = {dt, src, out, index, outer, n, k, inner, accumulate, 0, 0};
    ck_parallel_for(outer, 64, scatter_range, &ctx);
    if (ctx.bad) return ck_fail("scatter: index %lld is out of range for a dimension of size %lld",
                                (long long)ctx.bad_value, (long long)n);
    return 0;
}

int ck_scatter_add(ck_dtype dt, const void *src, int64_t outer, int64_t k, int64_t inner,
                   const int64_t *index, void *out, int64_t n) {
    return scatter_impl(dt, src, outer, k, inner, index, out, n, 1);
}

int ck_scatter(ck_dtype dt, const void *src, int64_t outer, int64_t k, int64_t inner,
               const int64_t *index, void *out, int64_t n) {
    return scatter_impl(dt, src, outer, k, inner, index, out, n, 0);
}

static int check_indices(const int64_t *index, int64_t k, int64_t n, const char *what) {
    for (int64_t j = 0; j < k; j++)
        if (index[j] < -n || index[j] >= n)
            return ck_fail("%s: index %lld is out of range for a dimension of size %lld", what,
                           (long long)index[j], (long long)n);
    return 0;
}

static void index_select_range(void *vctx, int64_t begin, int64_t end) {
    index_ctx *c = vctx;
    size_t es = ck_dtype_size(c->dt);
    size_t row = (size_t)c->inner * es;
    for (int64_t t = begin; t < end; t++) {
        int64_t o = t / c->k, j = t % c->k;
        int64_t idx = c->index[j] < 0 ? c->index[j] + c->n : c->index[j];
        memcpy(c->dst + (size_t)t * row, c->src + (size_t)(o * c->n + idx) * row, row);
    }
}

int ck_index_select(ck_dtype dt, const void *x, int64_t outer, int64_t n, int64_t inner,
                    const int64_t *index, int64_t k, void *out) {
    if (check_indices(index, k, n, "index_select")) return 1;
    index_ctx ctx = {dt, x, out, index, outer, n, k, inner, 0, 0, 0};
    int64_t grain = inner > 0 ? CK_GRAIN / inner : CK_GRAIN;
    ck_parallel_for(outer * k, grain < 1 ? 1 : grain, index_select_range, &ctx);
    return 0;
}

// index_add: duplicates in index would race across j, so threads split the inner axis instead.
static void index_add_range(void *vctx, int64_t begin, int64_t end) {
    index_ctx *c = vctx;
    size_t es = ck_dtype_size(c->dt);
    for (int64_t o = 0; o < c->outer; o++)
        for (int64_t j = 0; j < c->k; j++) {
            int64_t idx = c->index[j] < 0 ? c->index[j] + c->n : c->index[j];
            for (int64_t i = begin; i < end; i++)
                add_element(c->dt, c->dst + ((o * c->n + idx) * c->inner + i) * es,
                            c->src + ((o * c->k + j) * c->inner + i) * es);
        }
}

int ck_index_add(ck_dtype dt, const void *src, int64_t outer, int64_t k, int64_t inner,
                 const int64_t *index, void *out, int64_t n) {
    if (check_indices(index, k, n, "index_add")) return 1;
    index_ctx ctx = {dt, src, out, index, outer, n, k, inner, 1, 0, 0};
    int64_t grain = (outer * k) > 0 ? CK_GRAIN / (outer * k) : CK_GRAIN;
    ck_parallel_for(inner, grain < 1 ? 1 : grain, index_add_range, &ctx);
    return 0;
}

int64_t ck_count_true(const uint8_t *mask, int64_t n) {
    int64_t count = 0;
    for (int64_t i = 0; i < n; i++) count += mask[i] != 0;
    return count;
}

void ck_true_positions(const uint8_t *mask, int64_t n, int64_t *positions) {
    int64_t k = 0;
    for (int64_t i = 0; i < n; i++)
        if (mask[i]) positions[k++] = i;
}
