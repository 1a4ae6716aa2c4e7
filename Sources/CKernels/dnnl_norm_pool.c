// Batch normalization and nearest upsampling through oneDNN on plain NCHW (max pooling is in
// maxpool.c).
#include "dnnl_glue.h"
#include <string.h>

enum { BN_FWD_TRAIN = 1, BN_FWD_INFER, BN_BWD, UP_FWD, UP_BWD };

typedef struct {
    int kind;
    int64_t dims[12];
    float value;
} op_key;
_Static_assert(sizeof(op_key) <= sizeof(((ck_prim_entry *)0)->key), "op_key does not fit a cache entry's key");

static op_key make_key(int kind, const int64_t *dims, int ndims, float value) {
    op_key k;
    memset(&k, 0, sizeof k);
    k.kind = kind;
    memcpy(k.dims, dims, sizeof(int64_t) * (size_t)ndims);
    k.value = value;
    return k;
}

// ---- batch normalization -------------------------------------------------------------------

static const unsigned BN_FLAGS = dnnl_use_scale | dnnl_use_shift;

static int bn_forward_pd(int training, const dnnl_memory_desc_t *data, float eps, dnnl_primitive_desc_t *pd) {
    dnnl_batch_normalization_desc_t bd;
    unsigned flags = BN_FLAGS | (training ? 0 : dnnl_use_global_stats);
    dnnl_status_t st = dnnl_batch_normalization_forward_desc_init(
        &bd, training ? dnnl_forward_training : dnnl_forward_inference, data, eps, flags);
    if (st == dnnl_success) st = dnnl_primitive_desc_create(pd, &bd, NULL, ck_engine(), NULL);
    return st == dnnl_success ? 0 : ck_dnnl_fail(st, "batch norm setup");
}

int ck_batchnorm_forward(int training, int64_t n, int64_t c, int64_t h, int64_t w, float eps, const float *src,
                         const float *scale, const float *shift, float *dst, float *mean, float *var) {
    int64_t dims[4] = {n, c, h, w};
    op_key key = make_key(training ? BN_FWD_TRAIN : BN_FWD_INFER, dims, 4, eps);
    int rc = 1;
    ck_dnnl_lock();
    ck_prim_entry *e = ck_cache_find(&key, sizeof key);
    if (!e) {
        dnnl_memory_desc_t data, channel;
        ck_md_nchw(&data, n, c, h, w);
        ck_md_1d(&channel, c);
        dnnl_primitive_desc_t pd;
        if (bn_forward_pd(training, &data, eps, &pd) == 0 && (e = ck_cache_insert(&key, sizeof key, pd))) {
            int bad = ck_entry_add_slot(e, DNNL_ARG_SRC, &data, 0, 0);
            bad |= ck_entry_add_slot(e, DNNL_ARG_SCALE, &channel, 0, 0);
            bad |= ck_entry_add_slot(e, DNNL_ARG_SHIFT, &channel, 0, 0);
            bad |= ck_entry_add_slot(e, DNNL_ARG_DST, &data, 0, 1);
            bad |= ck_entry_add_slot(e, DNNL_ARG_MEAN, &channel, 0, training);
            bad |= ck_entry_add_slot(e, DNNL_ARG_VARIANCE, &channel, 0, training);
            if (bad) e = NULL;
        }
    }
    if (e) {
        void *bufs[6] = {(void *)src, (void *)scale, (void *)shift, dst, mean, var};
        rc = ck_entry_execute(e, bufs, "batch norm forward");
    }
    ck_dnnl_unlock();
    return rc;
}

int ck_batchnorm_backward(int64_t n, int64_t c, int64_t h, int64_t w, float eps, const float *src,
                          const float *diff_dst, const float *mean, const float *var, const float *scale,
                          const float *shift, float *diff_src, float *diff_scale, float *diff_shift) {
    int64_t dims[4] = {n, c, h, w};
    op_key key = make_key(BN_BWD, dims, 4, eps);
    int rc = 1;
    ck_dnnl_lock();
    ck_prim_entry *e = ck_cache_find(&key, sizeof key);
    if (!e) {
        dnnl_memory_desc_t data, channel;
        ck_md_nchw(&data, n, c, h, w);
        ck_md_1d(&channel, c);
        dnnl_primitive_desc_t fwd, pd;
        if (bn_forward_pd(1, &data, eps, &fwd) == 0) {
            dnnl_batch_normalization_desc_t bd;
            dnnl_status_t st = dnnl_batch_normalization_backward_desc_init(&bd, dnnl_backward, &data, &data, eps, BN_FLAGS);
            if (st == dnnl_success) st = dnnl_primitive_desc_create(&pd, &bd, NULL, ck_engine(), fwd);
            dnnl_primitive_desc_destroy(fwd);
            if (st != dnnl_success) ck_dnnl_fail(st, "batch norm backward setup");
            else if ((e = ck_cache_insert(&key, sizeof key, pd))) {
                int bad = ck_entry_add_slot(e, DNNL_ARG_SRC, &data, 0, 0);
                bad |= ck_entry_add_slot(e, DNNL_ARG_DIFF_DST, &data, 0, 0);
                bad |= ck_entry_add_slot(e, DNNL_ARG_MEAN, &channel, 0, 0);
                bad |= ck_entry_add_slot(e, DNNL_ARG_VARIANCE, &channel, 0, 0);
                bad |= ck_entry_add_slot(e, DNNL_ARG_SCALE, &channel, 0, 0);
                bad |= ck_entry_add_slot(e, DNNL_ARG_SHIFT, &channel, 0, 0);  // required though unused
                bad |= ck_entry_add_slot(e, DNNL_ARG_DIFF_SRC, &data, 0, 1);
                bad |= ck_entry_add_slot(e, DNNL_ARG_DIFF_SCALE, &channel, 0, 1);
                bad |= ck_entry_add_slot(e, DNNL_ARG_DIFF_SHIFT, &channel, 0, 1);
                if (bad) e = NULL;
            }
        }
    }
    if (e) {
        void *bufs[9] = {(void *)src, (void *)diff_dst, (void *)mean, (void *)var, (void *)scale, (void *)shift,
                         diff_src, diff_scale, diff_shift};
        rc = ck_entry_execute(e, bufs, "batch norm backward");
    }
    ck_dnnl_unlock();
    return rc;
}

// ---- nearest upsampling --------------------------------------------------------------------

static ck_prim_entry *upsample_entry(int backward, int64_t n, int64_t c, int64_t h, int64_t w, int64_t factor) {
    int64_t dims[5] = {n, c, h, w, factor};
    op_key key = make_key(backward ? UP_BWD : UP_FWD, dims, 5, 0);
    ck_prim_entry *e = ck_cache_find(&key, sizeof key);
    if (e) return e;
    dnnl_memory_desc_t src, dst;
    ck_md_nchw(&src, n, c, h, w);
    ck_md_nchw(&dst, n, c, h * factor, w * factor);
    float factors[2] = {(float)factor, (float)factor};
    dnnl_resampling_desc_t d;
    dnnl_primitive_desc_t fwd, pd;
    dnnl_status_t st = dnnl_resampling_forward_desc_init(&d, dnnl_forward_training, dnnl_resampling_nearest, factors,
                                                         &src, &dst);
    if (st == dnnl_success) st = dnnl_primitive_desc_create(&fwd, &d, NULL, ck_engine(), NULL);
    if (st != dnnl_success) { ck_dnnl_fail(st, "upsample setup"); return NULL; }
    if (!backward) {
        if (!(e = ck_cache_insert(&key, sizeof key, fwd))) return NULL;
        int bad = ck_entry_add_slot(e, DNNL_ARG_SRC, &src, 0, 0) | ck_entry_add_slot(e, DNNL_ARG_DST, &dst, 0, 1);
        return bad ? NULL : e;
    }
    st = dnnl_resampling_backward_desc_init(&d, dnnl_resampling_nearest, factors, &src, &dst);
    if (st == dnnl_success) st = dnnl_primitive_desc_create(&pd, &d, NULL, ck_engine(), fwd);
    dnnl_primitive_desc_destroy(fwd);
    if (st != dnnl_success) { ck_dnnl_fail(st, "upsample backward setup"); return NULL; }
    if (!(e = ck_cache_insert(&key, sizeof key, pd))) return NULL;
    int bad = ck_entry_add_slot(e, DNNL_ARG_DIFF_DST, &dst, 0, 0) | ck_entry_add_slot(e, DNNL_ARG_DIFF_SRC, &src, 0, 1);
    return bad ? NULL : e;
}

int ck_upsample_nearest_forward(int64_t n, int64_t c, int64_t h, int64_t w, int64_t factor, const float *src,
                                float *dst) {
    int rc = 1;
    ck_dnnl_lock();
    ck_prim_entry *e = upsample_entry(0, n, c, h, w, factor);
    if (e) {
        void *bufs[2] = {(void *)src, dst};
        rc = ck_entry_execute(e, bufs, "upsample forward");
    }
    ck_dnnl_unlock();
    return rc;
}

int ck_upsample_nearest_backward(int64_t n, int64_t c, int64_t h, int64_t w, int64_t factor, const float *diff_dst,
                                 float *diff_src) {
    int rc = 1;
    ck_dnnl_lock();
    ck_prim_entry *e = upsample_entry(1, n, c, h, w, factor);
    if (e) {
        void *bufs[2] = {(void *)diff_dst, diff_src};
        rc = ck_entry_execute(e, bufs, "upsample backward");
    }
    ck_dnnl_unlock();
    return rc;
}
