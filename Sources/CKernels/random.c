// xoshiro256** with splitmix64 seeding; normals by Box-Muller. Sequential on purpose: a tensor's
// values depend only on the generator state, never on the thread count.
#include "internal.h"
#include <math.h>

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static uint64_t splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void ck_rng_seed(uint64_t state[4], uint64_t seed) {
    uint64_t s = seed;
    for (int i = 0; i < 4; i++) state[i] = splitmix64(&s);
}

uint64_t ck_rng_next(uint64_t s[4]) {
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

// Uniform in [0, 1) with 24 bits, exactly representable in float.
static inline float unit_float(uint64_t s[4]) { return (float)(ck_rng_next(s) >> 40) * 0x1.0p-24f; }

void ck_rng_uniform(uint64_t state[4], float *out, int64_t n, float low, float high) {
    float span = high - low;
    for (int64_t i = 0; i < n; i++) out[i] = low + span * unit_float(state);
}

void ck_rng_normal(uint64_t state[4], float *out, int64_t n, float mean, float stddev) {
    for (int64_t i = 0; i < n; i += 2) {
        double u1 = ((double)(ck_rng_next(state) >> 11) + 1.0) * 0x1.0p-53;  // (0, 1]
        double u2 = (double)(ck_rng_next(state) >> 11) * 0x1.0p-53;
        double r = sqrt(-2.0 * log(u1));
        out[i] = (float)(mean + stddev * r * cos(2.0 * M_PI * u2));
        if (i + 1 < n) out[i + 1] = (float)(mean + stddev * r * sin(2.0 * M_PI * u2));
    }
}
