// Shared helpers of the C kernels: error text, the parallel loop and the strided iterator.
#ifndef CK_INTERNAL_H
#define CK_INTERNAL_H

#include "ckernels.h"
#include <stdarg.h>

int ck_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

// n dense bfloat16 values widened to float32, and n float32 values rounded to bfloat16 (copy.c;
// vectorised).
void ck_widen_bf16(const uint16_t *src, float *dst, int64_t n);
void ck_narrow_bf16(const float *src, uint16_t *dst, int64_t n);

// Runs body over [0, n) in chunks on the OpenMP pool; serial when n <= grain.
typedef void (*ck_range_fn)(void *ctx, int64_t begin, int64_t end);
void ck_parallel_for(int64_t n, int64_t grain, ck_range_fn body, void *ctx);

// Strided iteration over up to 4 operands of one shape. The kernel receives base pointers,
// the byte strides of the innermost dimension and a run length.
#define CK_MAX_OPERANDS 4
typedef void (*ck_run_fn)(void *ctx, char **ptrs, const int64_t *byte_strides, int64_t n);

typedef struct {
    int nops;
    char *base[CK_MAX_OPERANDS];
    int64_t elem_size[CK_MAX_OPERANDS];
    const ck_layout *layout[CK_MAX_OPERANDS];
} ck_iter_spec;

void ck_iterate(const ck_iter_spec *spec, ck_run_fn fn, void *ctx);

#define CK_GRAIN 32768

#endif
