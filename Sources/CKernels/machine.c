// Facts about the running CPU for peak-FLOP figures.
#include "internal.h"
#include <cpuid.h>
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
