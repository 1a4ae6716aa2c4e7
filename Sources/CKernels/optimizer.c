// Fused optimizer updates: one pass over each parameter instead of a chain of tensor ops.
#include "internal.h"
#include <math.h>

typedef struct {
    float *p, *buf, *m, *v;
    const float *g;
    float lr, momentum, weight_decay, beta1, beta2, eps, step_size, bias2_sqrt;
    int nesterov, first_step, decoupled;
} opt_ctx;

static void sgd_range(void *vctx, int64_t begin, int64_t end) {
    const opt_ctx *c = vctx;
    for (int64_t i = begin; i < end; i++) {
        float d = c->g[i] + c->weight_decay * c->p[i];
        float b = c->first_step ? d : c->momentum * c->buf[i] + d;
        c->buf[i] = b;
        c->p[i] -= c->lr * (c->nesterov ? d + c->momentum * b : b);
    }
}

void ck_sgd_step(float *p, const float *g, float *buf, int64_t n, float lr, float momentum, float weight_decay,
                 int nesterov, int first_step) {
    opt_ctx c = {p, buf, NULL, NULL, g, lr, momentum, weight_decay, 0, 0, 0, 0, 0, nesterov, first_step, 0};
    ck_parallel_for(n, CK_GRAIN, sgd_range, &c);
}

static void adam_range(void *vctx, int64_t begin, int64_t end) {
    const opt_ctx *c = vctx;
    for (int64_t i = begin; i < end; i++) {
        float grad = c->g[i];
        if (c->decoupled) c->p[i] *= 1.0f - c->lr * c->weight_decay;
        else grad += c->weight_decay * c->p[i];
        float m = c->beta1 * c->m[i] + (1.0f - c->beta1) * grad;
        float v = c->beta2 * c->v[i] + (1.0f - c->beta2) * grad * grad;
        c->m[i] = m;
        c->v[i] = v;
        c->p[i] -= c->step_size * m / (sqrtf(v) / c->bias2_sqrt + c->eps);
    }
}

void ck_adam_step(float *p, const float *g, float *m, float *v, int64_t n, float lr, float beta1, float beta2,
                  float eps, float weight_decay, int decoupled, int64_t step) {
    float bias1 = 1.0f - powf(beta1, (float)step), bias2 = 1.0f - powf(beta2, (float)step);
    opt_ctx c = {p, NULL, m, v, g, lr, 0, weight_decay, beta1, beta2, eps, lr / bias1, sqrtf(bias2), 0, 0, decoupled};
    ck_parallel_for(n, CK_GRAIN, adam_range, &c);
}
