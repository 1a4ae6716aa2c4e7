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

// The float32 FMA throughput the cores sustain together at the widest vector width, measured: how
// many FMA units a core has at that width is not in cpuid (AVX-512 server Xeons have two 512-bit
// ones, many other Intel parts one; AMD's Zen 4 runs a 512-bit FMA on its two 256-bit units
// together, one per cycle; Zen 5 has two; Zen 1 one 256-bit FMA per cycle), AVX-512 code may run at
// a lower clock than scalar code, and hyperthreads share their core's units. So every thread runs
// twelve independent FMA chains (more than latency x pipes on any x86 core) at once, and the rates
// are summed.
#define FMA_CHAINS 12
#define FMA_ROUNDS 100000

// Keeps each accumulator live and in a register, so that no chain can be dropped or folded.
#define KEEP(v) __asm__ volatile("" : "+v"(v))

// FMAs per second of one thread at one vector width: VEC its type, SET1 and FMADD its intrinsics.
#define FMAS_PER_SECOND(NAME, TARGET, VEC, SET1, FMADD)                                              \
    __attribute__((target(TARGET))) static double NAME(double seconds) {                             \
        VEC acc[FMA_CHAINS];                                                                         \
        const VEC m = SET1(0.999999f), c = SET1(1e-7f);                                              \
        for (int i = 0; i < FMA_CHAINS; i++) acc[i] = SET1((float)i);                                \
        uint64_t rounds = 0;                                                                         \
        double start = now_seconds(), elapsed = 0;                                                   \
        while (elapsed < seconds) {                                                                  \
            for (int k = 0; k < FMA_ROUNDS; k++) {                                                   \
                for (int i = 0; i < FMA_CHAINS; i++) acc[i] = FMADD(acc[i], m, c);                  \
                for (int i = 0; i < FMA_CHAINS; i++) KEEP(acc[i]);                                   \
            }                                                                                        \
            rounds += FMA_ROUNDS;                                                                    \
            elapsed = now_seconds() - start;                                                         \
        }                                                                                            \
        return (double)rounds * FMA_CHAINS / elapsed;                                                \
    }

FMAS_PER_SECOND(avx512_fmas_per_second, "avx512f", __m512, _mm512_set1_ps, _mm512_fmadd_ps)
FMAS_PER_SECOND(avx2_fmas_per_second, "avx2,fma", __m256, _mm256_set1_ps, _mm256_fmadd_ps)

// A few slices per thread, the fastest kept: a slice in which the thread lost its core reads slow.
#define FMA_SLICES 3

typedef struct { double seconds; int lanes; double flops[256]; } fma_job;

static void fma_range(void *ctx, int64_t begin, int64_t end) {
    fma_job *job = ctx;
    double slice = job->seconds / FMA_SLICES;
    for (int64_t t = begin; t < end; t++) {
        double best = 0;
        for (int i = 0; i < FMA_SLICES; i++) {
            double f = job->lanes == 16 ? avx512_fmas_per_second(slice) : avx2_fmas_per_second(slice);
            if (f > best) best = f;
        }
        job->flops[t] = best * job->lanes * 2;
    }
}

double ck_measure_fma_flops(double seconds) {
    __builtin_cpu_init();
    int lanes = ck_simd_float_lanes();
    if (lanes < 8 || !__builtin_cpu_supports("fma")) return 0;
    int threads = ck_max_threads();
    if (threads > 256) threads = 256;
    fma_job job = {seconds, lanes, {0}};
    ck_parallel_for(threads, 1, fma_range, &job);
    double total = 0;
    for (int t = 0; t < threads; t++) total += job.flops[t];
    return total;
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
