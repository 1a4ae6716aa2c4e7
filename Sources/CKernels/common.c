#include "internal.h"
#include <stdio.h>
#include <string.h>

static _Thread_local char last_error[1024];

const char *ck_last_error(void) { return last_error; }

int ck_fail(const char *fmt, ...) {
    va_list args;
    va_start(args, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, args);
    va_end(args);
    return 1;
}

size_t ck_dtype_size(ck_dtype dt) {
    switch (dt) {
    case CK_F32: case CK_I32: return 4;
    case CK_F16: case CK_BF16: return 2;
    case CK_I64: return 8;
    case CK_U8: case CK_BOOL: return 1;
    }
    return 0;
}

// libgomp's entry points (the ABI gcc-compiled code uses). oneDNN runs on the same pool,
// so our loops never compete with its threads.
extern void GOMP_parallel(void (*fn)(void *), void *data, unsigned num_threads, unsigned flags);
extern int omp_get_thread_num(void);
extern int omp_get_num_threads(void);
extern int omp_get_max_threads(void);
extern void omp_set_num_threads(int n);

int ck_max_threads(void) { return omp_get_max_threads(); }
void ck_set_num_threads(int n) { omp_set_num_threads(n); }

typedef struct {
    int64_t n, chunk;
    ck_range_fn body;
    void *ctx;
} parallel_job;

static void parallel_trampoline(void *data) {
    parallel_job *job = data;
    int64_t t = omp_get_thread_num(), nt = omp_get_num_threads();
    int64_t per = (job->n + nt - 1) / nt;
    int64_t begin = t * per, end = begin + per < job->n ? begin + per : job->n;
    if (begin < end) job->body(job->ctx, begin, end);
}

void ck_parallel_for(int64_t n, int64_t grain, ck_range_fn body, void *ctx) {
    if (n <= 0) return;
    int threads = omp_get_max_threads();
    if (n <= grain || threads <= 1) { body(ctx, 0, n); return; }
    int64_t want = n / grain;
    if (want < threads) threads = (int)want;
    parallel_job job = {n, 0, body, ctx};
    GOMP_parallel(parallel_trampoline, &job, (unsigned)threads, 0);
}

// ---- strided iteration ---------------------------------------------------------------------

typedef struct {
    int nops, ndim;
    int64_t shape[CK_MAX_DIMS];
    int64_t strides[CK_MAX_OPERANDS][CK_MAX_DIMS];  // bytes
    char *base[CK_MAX_OPERANDS];
    ck_run_fn fn;
    void *ctx;
} iter_state;

static int64_t magnitude(int64_t v) { return v < 0 ? -v : v; }

// Drops size-1 dimensions, orders the rest by the first operand's (the output's) strides, largest
// first, so that a channels-last tensor (or a transposed one) is walked in memory order, then
// merges neighbouring dimensions that are contiguous for every operand: most calls become one
// flat run. The element functions do not depend on the order they are called in.
static void coalesce(iter_state *s, const ck_iter_spec *spec) {
    const ck_layout *l0 = spec->layout[0];
    int nd = 0;
    for (int d = 0; d < l0->ndim; d++) {
        if (l0->shape[d] == 1) continue;
        s->shape[nd] = l0->shape[d];
        for (int o = 0; o < spec->nops; o++)
            s->strides[o][nd] = spec->layout[o]->strides[d] * spec->elem_size[o];
        nd++;
    }
    // Insertion sort (at most CK_MAX_DIMS dimensions), stable: equal strides keep their order.
    for (int d = 1; d < nd; d++) {
        for (int e = d; e > 0 && magnitude(s->strides[0][e - 1]) < magnitude(s->strides[0][e]); e--) {
            int64_t t = s->shape[e]; s->shape[e] = s->shape[e - 1]; s->shape[e - 1] = t;
            for (int o = 0; o < spec->nops; o++) {
                t = s->strides[o][e]; s->strides[o][e] = s->strides[o][e - 1]; s->strides[o][e - 1] = t;
            }
        }
    }
    if (nd == 0) {
        s->shape[0] = 1;
        for (int o = 0; o < spec->nops; o++) s->strides[o][0] = 0;
        nd = 1;
    }
    int out = 0;
    for (int d = 1; d < nd; d++) {
        int mergeable = 1;
        for (int o = 0; o < spec->nops; o++)
            if (s->strides[o][out] != s->strides[o][d] * s->shape[d]) { mergeable = 0; break; }
        if (mergeable) {
            s->shape[out] *= s->shape[d];
            for (int o = 0; o < spec->nops; o++) s->strides[o][out] = s->strides[o][d];
        } else {
            out++;
            s->shape[out] = s->shape[d];
            for (int o = 0; o < spec->nops; o++) s->strides[o][out] = s->strides[o][d];
        }
    }
    s->ndim = out + 1;
}

static void iterate_range(void *ctx, int64_t begin, int64_t end) {
    iter_state *s = ctx;
    int nd = s->ndim;
    int64_t inner = s->shape[nd - 1];
    int64_t idx[CK_MAX_DIMS];
    int64_t rem = begin;
    for (int d = nd - 1; d >= 0; d--) { idx[d] = rem % s->shape[d]; rem /= s->shape[d]; }
    char *p[CK_MAX_OPERANDS];
    int64_t inner_strides[CK_MAX_OPERANDS];
    for (int o = 0; o < s->nops; o++) inner_strides[o] = s->strides[o][nd - 1];
    int64_t pos = begin;
    while (pos < end) {
        for (int o = 0; o < s->nops; o++) {
            char *q = s->base[o];
            for (int d = 0; d < nd; d++) q += idx[d] * s->strides[o][d];
            p[o] = q;
        }
        int64_t run = inner - idx[nd - 1];
        if (run > end - pos) run = end - pos;
        s->fn(s->ctx, p, inner_strides, run);
        pos += run;
        idx[nd - 1] += run;
        for (int d = nd - 1; d > 0 && idx[d] == s->shape[d]; d--) { idx[d] = 0; idx[d - 1]++; }
    }
}

void ck_iterate(const ck_iter_spec *spec, ck_run_fn fn, void *ctx) {
    iter_state s;
    s.nops = spec->nops;
    s.fn = fn;
    s.ctx = ctx;
    for (int o = 0; o < spec->nops; o++) s.base[o] = spec->base[o];
    coalesce(&s, spec);
    int64_t total = 1;
    for (int d = 0; d < s.ndim; d++) total *= s.shape[d];
    if (total == 0) return;
    ck_parallel_for(total, CK_GRAIN, iterate_range, &s);
}
