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
double ck_measure_clock_hz(double seconds) {
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

int ck_simd_float_lanes(void) {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) return 16;
    if (__builtin_cpu_supports("avx2") || __builtin_cpu_supports("avx")) return 8;
    return 4;
}

int ck_has_fma(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("fma");
}
