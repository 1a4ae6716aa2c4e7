// Convolution forward, backward-data and backward-weights through oneDNN. Callers keep plain
// NCHW / OIHW buffers; oneDNN picks its fastest (blocked) layouts and the glue reorders, except
// where a training unit hands over buffers already in the blocked layout (see "training units").
#include "dnnl_glue.h"
#include <string.h>

enum { CONV_FWD = 1, CONV_BWD_DATA = 2, CONV_BWD_WEIGHTS = 3 };

typedef struct {
    int kind, has_bias, activation, algorithm;
    float alpha;
    ck_conv_params p;
} conv_key;
_Static_assert(sizeof(conv_key) <= sizeof(((ck_prim_entry *)0)->key), "conv_key does not fit a cache entry's key");

// Winograd F(4x4, 3x3) (oneDNN's float32 kernels for AVX-512 cores) computes a 3x3 stride-1
// convolution with about a quarter of the direct method's multiplications; on YOLOv4-tiny's layers
// it runs each training pass 1.3-2.3x faster than the direct kernels (tensorcore_benchmark), and
// inference too (see ck_conv_forward_fused). Its results differ from the direct method's by float32
// rounding only (checked against the naive reference). Where oneDNN has no such kernel (AVX2 CPUs,
// bfloat16, other shapes) the direct method runs; `ck_conv_set_winograd(0)` asks for the direct
// method everywhere.
static int winograd_enabled = 1;

void ck_conv_set_winograd(int enabled) {
    ck_dnnl_lock();
    winograd_enabled = enabled != 0;
    ck_dnnl_unlock();
}

int ck_conv_winograd(void) { return winograd_enabled; }

// Shapes oneDNN may have a Winograd kernel for: a plain 3x3 stride-1 convolution in float32.
static int winograd_shape(const ck_conv_params *p) {
    return winograd_enabled && p->precision == 0 && p->kh == 3 && p->kw == 3 && p->stride_h == 1 && p->stride_w == 1 &&
           p->dilation_h == 1 && p->dilation_w == 1 && p->groups == 1;
}

// Keys whose Winograd primitive oneDNN declined, so that the direct method is chosen without
// asking again on every call.
#define DECLINED_SIZE 64
static conv_key declined[DECLINED_SIZE];
static int declined_count, declined_next;

static int was_declined(const conv_key *key) {
    for (int i = 0; i < declined_count; i++)
        if (memcmp(&declined[i], key, sizeof *key) == 0) return 1;
    return 0;
}

static void remember_declined(const conv_key *key) {
    declined[declined_next] = *key;
    declined_next = (declined_next + 1) % DECLINED_SIZE;
    if (declined_count < DECLINED_SIZE) declined_count++;
}

typedef struct {
    dnnl_memory_desc_t src, weights, bias, dst;
    dnnl_dims_t strides, dilates, pad_l, pad_r;
} conv_mds;

// The primitive's data types (`any` descriptors). In bfloat16 the inputs of each pass are
// bfloat16 and its output float32: forward src, weights -> dst; backward-data diff_dst, weights ->
// diff_src; backward-weights src, diff_dst -> diff_weights. The plain descriptors are the caller's
// buffers: float32, except a bfloat16 src or forward dst (src_bf16 / dst_bf16), which the
// primitive then reads or writes in that type too.
static void conv_types(const ck_conv_params *p, int kind, int any, dnnl_data_type_t *src, dnnl_data_type_t *wei,
                       dnnl_data_type_t *dst) {
    *src = *wei = *dst = dnnl_f32;
    if (p->precision != 1) return;
    if (p->src_bf16 && kind != CONV_BWD_DATA) *src = dnnl_bf16;
    if (p->dst_bf16 && kind == CONV_FWD) *dst = dnnl_bf16;
    if (!any) return;
    if (kind != CONV_BWD_DATA) *src = dnnl_bf16;
    if (kind != CONV_BWD_WEIGHTS) *wei = dnnl_bf16;
    if (kind != CONV_FWD) *dst = dnnl_bf16;
}

// A float32 1x1 stride-1 convolution on NCHW buffers is a matrix product per image, which oneDNN's
// GEMM kernels compute on the caller's layout as it is. Left to choose, oneDNN takes its blocked
// 1x1 kernels instead, and the reorders into and out of the blocked layout cost more than they
// save: on YOLOv4-tiny's 1x1 layers the GEMM route measured 1.5-2x faster forward and backward-data
// (tensorcore_benchmark, AVX-512), and the tiny training step about 1.04x faster (paired runs).
static int keeps_plain_activations(const ck_conv_params *p) {
    return p->precision == 0 && !p->src_nhwc && !p->dst_nhwc && p->kh == 1 && p->kw == 1 && p->stride_h == 1 &&
           p->stride_w == 1 && p->pad_h == 0 && p->pad_w == 0 && p->groups == 1;
}

// training: a training pass (inference's fused convolutions keep oneDNN's own choice: measured on
// the channels-last chain, which keeps_plain_activations excludes anyway).
static void conv_describe(const ck_conv_params *p, conv_mds *m, int any, int kind, int training) {
    int free_layout = any && !(training && keeps_plain_activations(p));
    dnnl_format_tag_t act_src = free_layout ? dnnl_format_tag_any : p->src_nhwc ? dnnl_nhwc : dnnl_nchw;
    dnnl_format_tag_t act_dst = free_layout ? dnnl_format_tag_any : p->dst_nhwc ? dnnl_nhwc : dnnl_nchw;
    dnnl_data_type_t ts, tw, td;
    conv_types(p, kind, any, &ts, &tw, &td);
    dnnl_dims_t src = {p->n, p->c, p->h, p->w}, dst = {p->n, p->k, p->oh, p->ow};
    dnnl_memory_desc_init_by_tag(&m->src, 4, src, ts, act_src);
    dnnl_memory_desc_init_by_tag(&m->dst, 4, dst, td, act_dst);
    if (p->groups > 1) {
        dnnl_dims_t w = {p->groups, p->k / p->groups, p->c / p->groups, p->kh, p->kw};
        dnnl_memory_desc_init_by_tag(&m->weights, 5, w, tw, any ? dnnl_format_tag_any : dnnl_goihw);
    } else {
        dnnl_dims_t w = {p->k, p->c, p->kh, p->kw};
        dnnl_memory_desc_init_by_tag(&m->weights, 4, w, tw, any ? dnnl_format_tag_any : dnnl_oihw);
    }
    ck_md_1d(&m->bias, p->k);
    m->strides[0] = p->stride_h; m->strides[1] = p->stride_w;
    m->dilates[0] = p->dilation_h - 1; m->dilates[1] = p->dilation_w - 1;
    m->pad_l[0] = p->pad_h; m->pad_l[1] = p->pad_w;
    // Right padding that makes oneDNN's output size equal PyTorch's floor formula.
    m->pad_r[0] = (p->oh - 1) * p->stride_h + (p->kh - 1) * p->dilation_h + 1 - p->h - p->pad_h;
    m->pad_r[1] = (p->ow - 1) * p->stride_w + (p->kw - 1) * p->dilation_w + 1 - p->w - p->pad_w;
}

// activation < 0: a training forward (usable as the backward passes' hint); >= 0: inference
// with that activation fused as a post-op.
static int forward_pd(const ck_conv_params *p, int has_bias, int activation, float alpha, dnnl_alg_kind_t algorithm,
                      dnnl_primitive_desc_t *pd) {
    conv_mds m;
    conv_describe(p, &m, 1, CONV_FWD, activation < 0);
    dnnl_convolution_desc_t cd;
    dnnl_status_t st = dnnl_dilated_convolution_forward_desc_init(
        &cd, activation < 0 ? dnnl_forward_training : dnnl_forward_inference, algorithm, &m.src, &m.weights,
        has_bias ? &m.bias : NULL, &m.dst, m.strides, m.dilates, m.pad_l, m.pad_r);
    dnnl_primitive_attr_t attr = ck_attr_create();
    if (st == dnnl_success && attr && activation > 0) {
        dnnl_post_ops_t ops;
        dnnl_post_ops_create(&ops);
        dnnl_post_ops_append_eltwise(ops, 1.0f, activation == 1 ? dnnl_eltwise_relu : dnnl_eltwise_mish, alpha, 0.0f);
        dnnl_primitive_attr_set_post_ops(attr, ops);
        dnnl_post_ops_destroy(ops);
    }
    if (st == dnnl_success) st = dnnl_primitive_desc_create(pd, &cd, attr, ck_engine(), NULL);
    if (attr) dnnl_primitive_attr_destroy(attr);
    if (st == dnnl_success) return 0;
    return algorithm == dnnl_convolution_winograd ? 1 : ck_dnnl_fail(st, "convolution forward setup");
}

// A backward primitive descriptor from its operation descriptor and the forward hint, with the
// user-mode scratchpad.
static dnnl_status_t backward_pd(dnnl_primitive_desc_t *pd, const void *cd, const_dnnl_primitive_desc_t fwd) {
    dnnl_primitive_attr_t attr = ck_attr_create();
    dnnl_status_t st = dnnl_primitive_desc_create(pd, cd, attr, ck_engine(), fwd);
    if (attr) dnnl_primitive_attr_destroy(attr);
    return st;
}

// The primitive of one pass with the given algorithm, cached. A Winograd primitive oneDNN cannot
// make gives NULL without an error (the caller falls back to the direct method).
static ck_prim_entry *conv_entry_with(int kind, const ck_conv_params *given, int has_bias, int activation, float alpha,
                                      dnnl_alg_kind_t algorithm) {
    // Only the buffers a pass touches distinguish its primitives (backward-data shares a forward's
    // diff_dst reorder with backward-weights whatever the forward's dst type was).
    ck_conv_params q = *given, *p = &q;
    if (kind != CONV_FWD) q.dst_bf16 = q.src_nhwc = q.dst_nhwc = 0;
    if (kind == CONV_BWD_DATA) q.src_bf16 = 0;
    conv_key key;
    memset(&key, 0, sizeof key);
    key.kind = kind;
    key.has_bias = has_bias;
    key.activation = activation;
    key.algorithm = (int)algorithm;
    key.alpha = alpha;
    key.p = *p;
    ck_prim_entry *e = ck_cache_find(&key, sizeof key);
    if (e) return e;
    int winograd = algorithm == dnnl_convolution_winograd;
    if (winograd && was_declined(&key)) return NULL;

    conv_mds plain, any;
    conv_describe(p, &plain, 0, kind, activation < 0);
    conv_describe(p, &any, 1, kind, activation < 0);
    dnnl_primitive_desc_t fwd, pd;
    // Backward descriptors need the forward one as a hint; it is cheap next to the work.
    if (forward_pd(p, kind == CONV_BWD_DATA ? 0 : has_bias, kind == CONV_FWD ? activation : -1, alpha, algorithm, &fwd)) {
        if (winograd) remember_declined(&key);
        return NULL;
    }
    dnnl_status_t st = dnnl_success;
    if (kind == CONV_FWD) {
        pd = fwd;
    } else if (kind == CONV_BWD_DATA) {
        dnnl_convolution_desc_t cd;
        st = dnnl_dilated_convolution_backward_data_desc_init(&cd, algorithm, &any.src, &any.weights, &any.dst,
                                                              any.strides, any.dilates, any.pad_l, any.pad_r);
        if (st == dnnl_success) st = backward_pd(&pd, &cd, fwd);
        dnnl_primitive_desc_destroy(fwd);
    } else {
        dnnl_convolution_desc_t cd;
        st = dnnl_dilated_convolution_backward_weights_desc_init(&cd, algorithm, &any.src, &any.weights,
                                                                 has_bias ? &any.bias : NULL, &any.dst, any.strides,
                                                                 any.dilates, any.pad_l, any.pad_r);
        if (st == dnnl_success) st = backward_pd(&pd, &cd, fwd);
        dnnl_primitive_desc_destroy(fwd);
    }
    if (st != dnnl_success) {
        if (winograd) { remember_declined(&key); return NULL; }
        ck_dnnl_fail(st, "convolution backward setup");
        return NULL;
    }
    e = ck_cache_insert(&key, sizeof key, pd);
    if (!e) return NULL;
    int rc = 0;
    if (kind == CONV_FWD) {
        rc |= ck_entry_add_slot(e, DNNL_ARG_SRC, &plain.src, dnnl_query_src_md, 0);
        rc |= ck_entry_add_slot(e, DNNL_ARG_WEIGHTS, &plain.weights, dnnl_query_weights_md, 0);
        rc |= ck_entry_add_slot(e, DNNL_ARG_DST, &plain.dst, dnnl_query_dst_md, 1);
        if (has_bias) rc |= ck_entry_add_slot(e, DNNL_ARG_BIAS, &plain.bias, 0, 0);
    } else if (kind == CONV_BWD_DATA) {
        rc |= ck_entry_add_slot(e, DNNL_ARG_DIFF_DST, &plain.dst, dnnl_query_diff_dst_md, 0);
        rc |= ck_entry_add_slot(e, DNNL_ARG_WEIGHTS, &plain.weights, dnnl_query_weights_md, 0);
        rc |= ck_entry_add_slot(e, DNNL_ARG_DIFF_SRC, &plain.src, dnnl_query_diff_src_md, 1);
    } else {
        // diff_dst first: slot 0, like backward-data's, so the two can share its reorder.
        rc |= ck_entry_add_slot(e, DNNL_ARG_DIFF_DST, &plain.dst, dnnl_query_diff_dst_md, 0);
        rc |= ck_entry_add_slot(e, DNNL_ARG_SRC, &plain.src, dnnl_query_src_md, 0);
        rc |= ck_entry_add_slot(e, DNNL_ARG_DIFF_WEIGHTS, &plain.weights, dnnl_query_diff_weights_md, 1);
        if (has_bias) rc |= ck_entry_add_slot(e, DNNL_ARG_DIFF_BIAS, &plain.bias, 0, 1);
    }
    return rc ? NULL : e;
}

// Winograd where it applies for the passes without a fused activation (every training pass;
// ck_conv_forward_fused makes its own choice, since the activation then runs apart).
static ck_prim_entry *conv_entry(int kind, const ck_conv_params *p, int has_bias, int activation, float alpha) {
    if (activation < 0 && winograd_shape(p)) {
        ck_prim_entry *e = conv_entry_with(kind, p, has_bias, activation, alpha, dnnl_convolution_winograd);
        if (e) return e;
    }
    return conv_entry_with(kind, p, has_bias, activation, alpha, dnnl_convolution_direct);
}

static int check(const ck_conv_params *p) {
    if ((p->src_bf16 || p->dst_bf16) && p->precision != 1)
        return ck_fail("conv2d: bfloat16 buffers need a bfloat16 convolution (precision 1)");
    if (p->groups < 1 || p->c % p->groups || p->k % p->groups)
        return ck_fail("conv2d: %lld input and %lld output channels are not divisible by %lld groups",
                       (long long)p->c, (long long)p->k, (long long)p->groups);
    if (p->oh < 1 || p->ow < 1)
        return ck_fail("conv2d: a %lldx%lld input is too small for a %lldx%lld kernel", (long long)p->h,
                       (long long)p->w, (long long)p->kh, (long long)p->kw);
    return 0;
}

int ck_conv_forward(const ck_conv_params *p, const void *src, const float *weights, const float *bias, void *dst) {
    if (check(p)) return 1;
    ck_dnnl_lock();
    ck_prim_entry *e = conv_entry(CONV_FWD, p, bias != NULL, -1, 0);
    int rc = 1;
    if (e) {
        void *bufs[4] = {(void *)src, (void *)weights, dst, (void *)bias};
        rc = ck_entry_execute(e, bufs, "convolution forward");
    }
    ck_dnnl_unlock();
    return rc;
}

int ck_conv_backward_data(const ck_conv_params *p, const float *diff_dst, const float *weights, float *diff_src) {
    if (check(p)) return 1;
    ck_dnnl_lock();
    ck_prim_entry *e = conv_entry(CONV_BWD_DATA, p, 0, -1, 0);
    int rc = 1;
    if (e) {
        void *bufs[3] = {(void *)diff_dst, (void *)weights, diff_src};
        rc = ck_entry_execute(e, bufs, "convolution backward-data");
    }
    ck_dnnl_unlock();
    return rc;
}

int ck_conv_backward_weights(const ck_conv_params *p, const void *src, const float *diff_dst, float *diff_weights,
                             float *diff_bias) {
    if (check(p)) return 1;
    ck_dnnl_lock();
    ck_prim_entry *e = conv_entry(CONV_BWD_WEIGHTS, p, diff_bias != NULL, -1, 0);
    int rc = 1;
    if (e) {
        void *bufs[4] = {(void *)diff_dst, (void *)src, diff_weights, diff_bias};
        rc = ck_entry_execute(e, bufs, "convolution backward-weights");
    }
    ck_dnnl_unlock();
    return rc;
}

int ck_conv_backward(const ck_conv_params *p, const void *src, const float *diff_dst, const float *weights,
                     float *diff_src, float *diff_weights, float *diff_bias) {
    if (check(p)) return 1;
    if (!diff_src) return diff_weights ? ck_conv_backward_weights(p, src, diff_dst, diff_weights, diff_bias) : 0;
    if (!diff_weights) return ck_conv_backward_data(p, diff_dst, weights, diff_src);
    ck_dnnl_lock();
    ck_prim_entry *data = conv_entry(CONV_BWD_DATA, p, 0, -1, 0);
    // A cache insertion may evict: look the first entry up again after creating the second.
    ck_prim_entry *wei = data ? conv_entry(CONV_BWD_WEIGHTS, p, diff_bias != NULL, -1, 0) : NULL;
    if (wei) data = conv_entry(CONV_BWD_DATA, p, 0, -1, 0);
    int rc = 1;
    if (data && wei) {
        void *a[3] = {(void *)diff_dst, (void *)weights, diff_src};
        void *b[4] = {(void *)diff_dst, (void *)src, diff_weights, diff_bias};
        rc = ck_entry_execute(data, a, "convolution backward-data");
        if (rc == 0)
            rc = ck_entry_slot0_shared(data, wei) ? ck_entry_execute_reusing_slot0(wei, b, "convolution backward-weights")
                                                 : ck_entry_execute(wei, b, "convolution backward-weights");
    }
    ck_dnnl_unlock();
    return rc;
}

// ---- training units in the 16-channel blocked layout ----------------------------------------
// Each call above reorders its NCHW activations into oneDNN's blocked layout and back: five
// reorders per convolution per training step (about 7 % of YOLOv4-tiny's step in perf). A
// conv-BN-activation unit instead keeps the convolution's result and its gradient blocked (the
// fused batch norm reads and writes that layout) and the forward's blocked input for the weight
// gradient: two of the five remain (the input into the blocked layout, the input gradient out).

// Whether every training pass of p reads and writes its activations in nChw16c, so that a caller
// may hand them over in that layout (float32, channels multiples of 16, no bias).
int ck_conv_blocked16(const ck_conv_params *p) {
    if (check(p) || p->precision != 0 || p->src_bf16 || p->dst_bf16 || p->src_nhwc || p->dst_nhwc || p->c % 16 ||
        p->k % 16)
        return 0;
    dnnl_memory_desc_t src, dst;
    ck_md_blocked16(&src, p->n, p->c, p->h, p->w);
    ck_md_blocked16(&dst, p->n, p->k, p->oh, p->ow);
    ck_dnnl_lock();
    // (Each entry is checked before the next lookup, which may evict it.)
    ck_prim_entry *e = conv_entry(CONV_FWD, p, 0, -1, 0);
    int ok = e && dnnl_memory_desc_equal(&e->chosen[0], &src) && dnnl_memory_desc_equal(&e->chosen[2], &dst);
    e = ok ? conv_entry(CONV_BWD_DATA, p, 0, -1, 0) : NULL;
    ok = e && dnnl_memory_desc_equal(&e->chosen[0], &dst) && dnnl_memory_desc_equal(&e->chosen[2], &src);
    e = ok ? conv_entry(CONV_BWD_WEIGHTS, p, 0, -1, 0) : NULL;
    ok = e && dnnl_memory_desc_equal(&e->chosen[0], &dst) && dnnl_memory_desc_equal(&e->chosen[1], &src);
    ck_dnnl_unlock();
    return ok;
}

// The slots of `native` must be in nChw16c (a caller that skipped ck_conv_blocked16 gets an error,
// not wrong values).
static int native_slots_blocked(const ck_prim_entry *e, unsigned native, const char *what) {
    for (int s = 0; s < e->nslots; s++) {
        if (!(native & (1u << s))) continue;
        const dnnl_memory_desc_t *want = &e->plain[s];
        dnnl_memory_desc_t blocked;
        ck_md_blocked16(&blocked, want->dims[0], want->dims[1], want->dims[2], want->dims[3]);
        if (!dnnl_memory_desc_equal(&e->chosen[s], &blocked))
            return ck_fail("%s: this convolution does not use the blocked layout (check ck_conv_blocked16)", what);
    }
    return 0;
}

int ck_conv_forward_blocked(const ck_conv_params *p, int blocked, const float *src, const float *weights, float *dst) {
    if (check(p)) return 1;
    ck_dnnl_lock();
    ck_prim_entry *e = conv_entry(CONV_FWD, p, 0, -1, 0);
    unsigned native = (blocked & CK_BLOCKED_SRC ? 1u : 0) | (blocked & CK_BLOCKED_DST ? 4u : 0);
    int rc = 1;
    if (e && !native_slots_blocked(e, native, "convolution forward")) {
        void *bufs[3] = {(void *)src, (void *)weights, dst};
        rc = ck_entry_execute_native(e, bufs, native, "convolution forward");
    }
    ck_dnnl_unlock();
    return rc;
}

int ck_conv_backward_blocked(const ck_conv_params *p, int blocked, const float *src, const float *diff_dst,
                             const float *weights, float *diff_src, float *diff_weights) {
    if (check(p)) return 1;
    unsigned dst = blocked & CK_BLOCKED_DST ? 1u : 0;   // diff_dst is slot 0 of both passes
    unsigned data_native = dst | (blocked & CK_BLOCKED_DIFF_SRC ? 4u : 0);
    unsigned weights_native = dst | (blocked & CK_BLOCKED_SRC ? 2u : 0);
    int rc = 0;
    ck_dnnl_lock();
    if (diff_src) {
        ck_prim_entry *e = conv_entry(CONV_BWD_DATA, p, 0, -1, 0);
        rc = !e || native_slots_blocked(e, data_native, "convolution backward-data");
        void *bufs[3] = {(void *)diff_dst, (void *)weights, diff_src};
        if (!rc) rc = ck_entry_execute_native(e, bufs, data_native, "convolution backward-data");
    }
    if (diff_weights && !rc) {
        ck_prim_entry *e = conv_entry(CONV_BWD_WEIGHTS, p, 0, -1, 0);
        rc = !e || native_slots_blocked(e, weights_native, "convolution backward-weights");
        void *bufs[3] = {(void *)diff_dst, (void *)src, diff_weights};
        if (!rc) rc = ck_entry_execute_native(e, bufs, weights_native, "convolution backward-weights");
    }
    ck_dnnl_unlock();
    return rc;
}

// Inference. A Winograd shape runs the Winograd kernel oneDNN has for training (its inference
// variants take no fused activation and measured slower, 10 against 25 img/s for tiny at batch 1)
// with the bias, then the activation in place with our SIMD kernels: tiny's inference 1.1-1.3x
// (batch 1) and 1.3-1.6x (batch 8) faster than the direct kernels with the activation fused. Other
// shapes, and CPUs without the kernel, keep the direct convolution with the activation as a post-op.
int ck_conv_forward_fused(const ck_conv_params *p, const float *src, const float *weights, const float *bias, float *dst,
                          int activation, float alpha) {
    if (check(p)) return 1;
    if (activation < 0 || activation > 2) return ck_fail("conv2d: unknown fused activation %d", activation);
    ck_dnnl_lock();
    ck_prim_entry *e = winograd_shape(p) ? conv_entry_with(CONV_FWD, p, bias != NULL, -1, 0, dnnl_convolution_winograd) : NULL;
    int separate_activation = e != NULL && activation != 0;
    if (!e) e = conv_entry(CONV_FWD, p, bias != NULL, activation, alpha);
    int rc = 1;
    if (e) {
        void *bufs[4] = {(void *)src, (void *)weights, dst, (void *)bias};
        rc = ck_entry_execute(e, bufs, "fused convolution");
    }
    ck_dnnl_unlock();
    if (rc == 0 && separate_activation)
        rc = ck_unary(activation == 1 ? CK_LEAKY_RELU : CK_MISH, dst, dst, p->n * p->k * p->oh * p->ow, alpha, 0);
    return rc;
}

static const char *pass_impl(int kind, const ck_conv_params *p) {
    const char *impl = "unavailable";
    if (check(p)) return impl;
    ck_dnnl_lock();
    ck_prim_entry *e = conv_entry(kind, p, 0, -1, 0);
    if (e) dnnl_primitive_desc_query(e->pd, dnnl_query_impl_info_str, 0, &impl);
    ck_dnnl_unlock();
    return impl;
}

const char *ck_conv_forward_impl(const ck_conv_params *p) { return pass_impl(CONV_FWD, p); }
const char *ck_conv_backward_data_impl(const ck_conv_params *p) { return pass_impl(CONV_BWD_DATA, p); }
const char *ck_conv_backward_weights_impl(const ck_conv_params *p) { return pass_impl(CONV_BWD_WEIGHTS, p); }

int ck_conv_bf16_native(void) {
    static int answer = -1;
    if (answer >= 0) return answer;
    ck_conv_params p;
    memset(&p, 0, sizeof p);
    p.n = 2; p.c = 32; p.h = p.w = 16; p.k = 32; p.kh = p.kw = 3;
    p.stride_h = p.stride_w = 1; p.pad_h = p.pad_w = 1; p.dilation_h = p.dilation_w = 1; p.groups = 1;
    p.oh = p.ow = 16; p.precision = 1;
    dnnl_primitive_desc_t pd;
    ck_dnnl_lock();
    answer = 0;
    if (forward_pd(&p, 0, -1, 0, dnnl_convolution_direct, &pd) == 0) {
        const char *impl = "";
        dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &impl);
        // AVX512_BF16 (or AMX) instructions, and a JIT kernel rather than the reference loops.
        unsigned isa = (unsigned)dnnl_get_effective_cpu_isa();
        answer = strstr(impl, "ref") == NULL &&
                 (isa & (unsigned)dnnl_cpu_isa_avx512_core_bf16) == (unsigned)dnnl_cpu_isa_avx512_core_bf16;
        dnnl_primitive_desc_destroy(pd);
    }
    ck_dnnl_unlock();
    return answer;
}
