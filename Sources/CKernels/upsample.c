// Nearest-neighbour upsampling on channels-last (NHWC) buffers, for inference chains that keep
// convolution outputs channels-last: every output pixel copies its source pixel's channels, one
// contiguous run each. (NCHW upsampling goes through oneDNN's resampling, dnnl_norm_pool.c.)
#include "internal.h"
#include <string.h>

typedef struct {
    int64_t c, h, w, factor;
    const float *src;
    float *dst;
} upsample_ctx;

static void output_rows(void *vctx, int64_t begin, int64_t end) {
    const upsample_ctx *u = vctx;
    const int64_t OH = u->h * u->factor, OW = u->w * u->factor;
    for (int64_t row = begin; row < end; row++) {
        int64_t n = row / OH, oy = row % OH;
        const float *in = u->src + (n * u->h + oy / u->factor) * u->w * u->c;
        float *out = u->dst + row * OW * u->c;
        for (int64_t ox = 0; ox < OW; ox++)
            memcpy(out + ox * u->c, in + (ox / u->factor) * u->c, (size_t)u->c * sizeof(float));
    }
}

int ck_upsample_nearest_forward_nhwc(int64_t n, int64_t c, int64_t h, int64_t w, int64_t factor, const float *src,
                                     float *dst) {
    if (factor < 1) return ck_fail("upsample: factor must be at least 1, found %lld", (long long)factor);
    upsample_ctx u = {c, h, w, factor, src, dst};
    ck_parallel_for(n * h * factor, 1, output_rows, &u);
    return 0;
}
