// Row-major float32 matrix multiply through oneDNN's sgemm (threaded, JIT-tuned).
#include "internal.h"
#include <oneapi/dnnl/dnnl.h>

int ck_sgemm(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, float alpha,
             const float *a, int64_t lda, const float *b, int64_t ldb, float beta,
             float *c, int64_t ldc) {
    if (m == 0 || n == 0) return 0;
    dnnl_status_t st = dnnl_sgemm(trans_a ? 'T' : 'N', trans_b ? 'T' : 'N', m, n, k, alpha, a, lda,
                                  b, ldb, beta, c, ldc);
    if (st != dnnl_success) return ck_fail("oneDNN sgemm failed (status %d) for %lldx%lldx%lld", (int)st,
                                           (long long)m, (long long)n, (long long)k);
    return 0;
}
