// Branch-free float32 exp, log and the functions built on them, written so that the compiler turns
// loops over them into SIMD code (no libm call per element; needs -fno-trapping-math, which lets it
// if-convert the selects). Largest errors against double-precision references, measured over dense
// grids and held by TensorCoreTests' testVectorisedTranscendentalsAgainstDoublePrecision: exp 8e-8
// relative on [-87.3, 88.7] (below, 0: no denormals), log 8e-8 relative (denormals included),
// sigmoid 1.2e-7, softplus 1.8e-7 relative, mish 1.5e-7 and its derivative 6.4e-7 (relative to 1 + |y|).
#ifndef CK_FASTMATH_H
#define CK_FASTMATH_H

#include <stdint.h>
#include <string.h>

// exp(x): x = n ln2 + r with |r| <= ln2 / 2 (n rounded by the 1.5 * 2^23 trick, which vectorises
// without SSE4.1's round), Cephes' degree-6 polynomial for e^r, and 2^n built in the exponent bits
// as two halves so that n = 128 (x up to 88.72) still gives a finite result. Below -87.3 the
// result flushes towards 0 (denormals are not produced), above 88.72 it is +inf; NaN stays NaN.
static inline float ck_expf(float x) {
    float xc = x < -87.33654f ? -87.33654f : (x > 88.72283f ? 88.72283f : x);
    const float shifter = 12582912.0f;   // 1.5 * 2^23
    float n = (xc * 1.44269504088896341f + shifter) - shifter;
    float r = xc - n * 0.693359375f;
    r = r - n * -2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    int32_t ni = (int32_t)n;
    int32_t half = ni >> 1;
    int32_t b1 = (half + 127) << 23, b2 = (ni - half + 127) << 23;
    float s1, s2;
    memcpy(&s1, &b1, 4);
    memcpy(&s2, &b2, 4);
    float y = p * s1 * s2;
    y = x > 88.72283f ? __builtin_inff() : (x < -87.33654f ? 0.0f : y);
    return x != x ? x : y;
}

// log(x) for x > 0: x = 2^e m with m in [sqrt(1/2), sqrt(2)), Cephes' degree-9 polynomial in
// m - 1, the exponent added back in two parts of ln 2. Denormals are scaled up first; log(0) is
// -inf, a negative x or NaN gives NaN, +inf stays +inf.
static inline float ck_logf(float x) {
    int tiny = x < 1.17549435e-38f;
    float v = tiny ? x * 8388608.0f : x;   // 2^23
    int32_t bits;
    memcpy(&bits, &v, 4);
    int32_t e = ((bits >> 23) & 0xff) - 127 - (tiny ? 23 : 0);
    int32_t mb = (bits & 0x007fffff) | 0x3f800000;
    float m;
    memcpy(&m, &mb, 4);
    int big = m > 1.41421356f;
    m = big ? m * 0.5f : m;
    float fe = (float)(e + big);
    float f = m - 1.0f, z = f * f;
    float y = 7.0376836292e-2f;
    y = y * f - 1.1514610310e-1f;
    y = y * f + 1.1676998740e-1f;
    y = y * f - 1.2420140846e-1f;
    y = y * f + 1.4249322787e-1f;
    y = y * f - 1.6668057665e-1f;
    y = y * f + 2.0000714765e-1f;
    y = y * f - 2.4999993993e-1f;
    y = y * f + 3.3333331174e-1f;
    y = y * f * z;
    y = y + fe * -2.12194440e-4f;
    y = y - 0.5f * z;
    float r = f + y + fe * 0.693359375f;
    r = x == 0.0f ? -__builtin_inff() : r;
    r = x == __builtin_inff() ? x : r;
    return x < 0.0f || x != x ? __builtin_nanf("") : r;
}

// softplus(x) = max(x, 0) + log1p(exp(-|x|)), PyTorch's threshold 20 kept; log1p of a small u by its
// series, where log(1 + u) would lose u's digits.
static inline float ck_softplusf(float x) {
    float u = ck_expf(x < 0.0f ? x : -x);
    float small = u * (1.0f - u * (0.5f - u * (1.0f / 3.0f)));
    // log(v) u / (v - 1) with v = 1 + u rounded: the rounding of v cancels out (Goldberg's log1p).
    float v = 1.0f + u, d = v - 1.0f;
    float l = u < 1e-3f ? small : ck_logf(v) * (u / d);
    float y = (x > 0.0f ? x : 0.0f) + l;
    return x > 20.0f ? x : y;
}

static inline float ck_sigmoidf(float x) { return 1.0f / (1.0f + ck_expf(-x)); }

// mish(x) = x tanh(softplus(x)); with e = exp(x), tanh(log(1 + e)) = n / (n + 2), n = e (e + 2):
// one exp per element and no cancellation anywhere. Above 20, mish(x) = x in float32.
static inline float ck_mishf(float x) {
    float e = ck_expf(x < 20.0f ? x : 20.0f);
    float n = e * (e + 2.0f);
    return x >= 20.0f ? x : x * n / (n + 2.0f);
}

// d mish / dx = t + x (1 - t^2) sigmoid(x), t = tanh(softplus(x)), from the same exp.
static inline float ck_mish_gradf(float x) {
    float e = ck_expf(x < 20.0f ? x : 20.0f);
    float n = e * (e + 2.0f);
    float t = n / (n + 2.0f);
    float s = e / (1.0f + e);
    return x >= 20.0f ? 1.0f : t + x * (1.0f - t * t) * s;
}

#endif
