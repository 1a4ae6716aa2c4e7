// Facts about the running CPU for peak-FLOP figures.
#include "internal.h"
#include <cpuid.h>
#include <immintrin.h>
#include <time.h>

static double now_seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

// Each iteration is 8 dependent single-cycle adds, so adds per second is the clock.
static double single_core_clock(double seconds) {
    uint64_t x = 1, iterations = 0;
    double start = now_seconds(), elapsed = 0;
    while (elapsed < seconds) {
        for (int i = 0; i < 1000000; i++) {
            __asm__ volatile("add $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\t"
                             "add $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\tadd $1, %0"
                             : "+r"(x));
        }
        iterations += 1000000;
        elapsed = now_seconds() - start;
    }
    return (double)iterations * 8.0 / elapsed;
}

typedef struct { double seconds; double hz[256]; } clock_job;

static void clock_range(void *ctx, int64_t begin, int64_t end) {
    clock_job *job = ctx;
    for (int64_t t = begin; t < end; t++) job->hz[t] = single_core_clock(job->seconds);
}

// Measured on every thread at once: the clock a convolution sees with all cores busy.
double ck_measure_clock_hz(double seconds) {
    int threads = ck_max_threads();
    if (threads > 256) threads = 256;
    clock_job job = {seconds, {0}};
    ck_parallel_for(threads, 1, clock_range, &job);
    double slowest = job.hz[0];
    for (int t = 1; t < threads; t++)
        if (job.hz[t] < slowest) slowest = job.hz[t];
    return slowest;
}

// FMA throughput at the widest vector width: twelve independent chains (more than latency x
// pipes on any x86 core), so the count per second is what the FMA units sustain. How many units a
// core has at that width is not in cpuid: AVX-512 server Xeons have two 512-bit ones, many other
// Intel parts one, AMD's Zen 4 runs a 512-bit FMA as two halves on its two 256-bit units (one per
// cycle), Zen 5 has two; so it is measured.
#define FMA_CHAINS 12

__attribute__((target("avx512f"))) static double avx512_fmas_per_second(double seconds) {
    __m512 acc[FMA_CHAINS];
    const __m512 m = _mm512_set1_ps(0.999999f), c = _mm512_set1_ps(1e-7f);
    for (int i = 0; i < FMA_CHAINS; i++) acc[i] = _mm512_set1_ps((float)i);
    uint64_t rounds = 0;
    double start = now_seconds(), elapsed = 0;
    while (elapsed < seconds) {
        for (int k = 0; k < 100000; k++)
            for (int i = 0; i < FMA_CHAINS; i++) acc[i] = _mm512_fmadd_ps(acc[i], m, c);
        rounds += 100000;
        elapsed = now_seconds() - start;
    }
    float sink = 0, lanes[16];
    for (int i = 0; i < FMA_CHAINS; i++) { _mm512_storeu_ps(lanes, acc[i]); sink += lanes[0]; }
    __asm__ volatile("" : : "x"(sink));
    return (double)rounds * FMA_CHAINS / elapsed;
}

__attribute__((target("avx2,fma"))) static double avx2_fmas_per_second(double seconds) {
    __m256 acc[FMA_CHAINS];
    const __m256 m = _mm256_set1_ps(0.999999f), c = _mm256_set1_ps(1e-7f);
    for (int i = 0; i < FMA_CHAINS; i++) acc[i] = _mm256_set1_ps((float)i);
    uint64_t rounds = 0;
    double start = now_seconds(), elapsed = 0;
    while (elapsed < seconds) {
        for (int k = 0; k < 100000; k++)
            for (int i = 0; i < FMA_CHAINS; i++) acc[i] = _mm256_fmadd_ps(acc[i], m, c);
        rounds += 100000;
        elapsed = now_seconds() - start;
    }
    float sink = 0, lanes[8];
    for (int i = 0; i < FMA_CHAINS; i++) { _mm256_storeu_ps(lanes, acc[i]); sink += lanes[0]; }
    __asm__ volatile("" : : "x"(sink));
    return (double)rounds * FMA_CHAINS / elapsed;
}

typedef struct { double seconds; double units[256]; } fma_job;

// Clock and FMA rate in alternating slices, the fastest slice of each: a slice the thread lost
// the core in reads slow, and only the ratio of unhindered rates is the unit count.
#define FMA_SLICES 5

static void fma_range(void *ctx, int64_t begin, int64_t end) {
    fma_job *job = ctx;
    double slice = job->seconds / (2 * FMA_SLICES);
    for (int64_t t = begin; t < end; t++) {
        double hz = 0, fmas = 0;
        for (int i = 0; i < FMA_SLICES; i++) {
            double h = single_core_clock(slice);
            double f = ck_simd_float_lanes() == 16 ? avx512_fmas_per_second(slice) : avx2_fmas_per_second(slice);
            if (h > hz) hz = h;
            if (f > fmas) fmas = f;
        }
        job->units[t] = fmas / hz;
    }
}

int ck_measure_fma_units(double seconds) {
    __builtin_cpu_init();
    // Without FMA a multiply and an add issue on two pipes: counted as two units, as before.
    if (ck_simd_float_lanes() < 8 || !__builtin_cpu_supports("fma")) return 2;
    int threads = ck_max_threads();
    if (threads > 256) threads = 256;
    fma_job job = {seconds, {0}};
    ck_parallel_for(threads, 1, fma_range, &job);
    double fewest = job.units[0];
    for (int t = 1; t < threads; t++)
        if (job.units[t] < fewest) fewest = job.units[t];
    int units = (int)(fewest + 0.5);
    return units < 1 ? 1 : units;
}

int ck_simd_float_lanes(void) {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) return 16;
    if (__builtin_cpu_supports("avx2") || __builtin_cpu_supports("avx")) return 8;
    return 4;
}

int ck_has_fma(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("fma") ? 1 : 0;
}
