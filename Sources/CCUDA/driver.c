// Devices, memory, streams, NVRTC compilation and kernel launches over the loaded driver.
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int check(int result, const char *what) {
    if (result == 0) return 0;
    const char *text = "unknown error";
    if (ccu_driver.error_string) ccu_driver.error_string(result, &text);
    ccu_fail("%s: %s (CUDA error %d)", what, text, result);
    if (result == CUDA_ERROR_OUT_OF_MEMORY) ccu_mark_out_of_memory();
    return 1;
}

int ccu_driver_version(int *version) { return check(ccu_driver.driver_version(version), "cuDriverGetVersion"); }
int ccu_device_count(int *count) { return check(ccu_driver.device_count(count), "cuDeviceGetCount"); }

int ccu_device_name(int ordinal, char *name, int size) {
    int device;
    if (check(ccu_driver.device_get(&device, ordinal), "cuDeviceGet")) return 1;
    return check(ccu_driver.device_name(name, size, device), "cuDeviceGetName");
}

int ccu_compute_capability(int ordinal, int *major, int *minor) {
    int device;
    if (check(ccu_driver.device_get(&device, ordinal), "cuDeviceGet")) return 1;
    if (check(ccu_driver.device_attribute(major, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, device), "cuDeviceGetAttribute"))
        return 1;
    return check(ccu_driver.device_attribute(minor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, device), "cuDeviceGetAttribute");
}

int ccu_memory_info(size_t *free_bytes, size_t *total_bytes) {
    return check(ccu_driver.memory_info(free_bytes, total_bytes), "cuMemGetInfo");
}

int ccu_use_device(int ordinal, void **context) {
    int device;
    if (check(ccu_driver.device_get(&device, ordinal), "cuDeviceGet")) return 1;
    if (check(ccu_driver.primary_context_retain(context, device), "cuDevicePrimaryCtxRetain")) return 1;
    return check(ccu_driver.context_set_current(*context), "cuCtxSetCurrent");
}

int ccu_set_context(void *context) { return check(ccu_driver.context_set_current(context), "cuCtxSetCurrent"); }
int ccu_stream_create(void **stream) { return check(ccu_driver.stream_create(stream, 1 /* non-blocking */), "cuStreamCreate"); }
int ccu_stream_synchronize(void *stream) { return check(ccu_driver.stream_synchronize(stream), "cuStreamSynchronize"); }
int ccu_malloc(ccu_ptr *pointer, size_t bytes) { return check(ccu_driver.malloc(pointer, bytes), "cuMemAlloc"); }
int ccu_free(ccu_ptr pointer) { return check(ccu_driver.free(pointer), "cuMemFree"); }
int ccu_host_alloc(void **pointer, size_t bytes) { return check(ccu_driver.host_alloc(pointer, bytes), "cuMemAllocHost"); }
int ccu_host_free(void *pointer) { return check(ccu_driver.host_free(pointer), "cuMemFreeHost"); }

int ccu_copy_to_device(ccu_ptr destination, const void *source, size_t bytes, void *stream) {
    return check(ccu_driver.copy_htod(destination, source, bytes, stream), "copy to the GPU");
}

int ccu_copy_to_host(void *destination, ccu_ptr source, size_t bytes, void *stream) {
    if (check(ccu_driver.copy_dtoh(destination, source, bytes, stream), "copy from the GPU")) return 1;
    return check(ccu_driver.stream_synchronize(stream), "copy from the GPU");
}

int ccu_copy_on_device(ccu_ptr destination, ccu_ptr source, size_t bytes, void *stream) {
    return check(ccu_driver.copy_dtod(destination, source, bytes, stream), "copy on the GPU");
}

int ccu_nvrtc_version(int *major, int *minor) {
    if (!ccu_nvrtc.version) return ccu_fail("NVRTC is not loaded");
    return ccu_nvrtc.version(major, minor) ? ccu_fail("nvrtcVersion failed") : 0;
}

int ccu_compile(const char *source, const char *name, const char *arch, char **ptx, char **log) {
    *ptx = NULL;
    *log = NULL;
    if (!ccu_nvrtc.compile) return ccu_fail("NVRTC is not loaded");
    handle_t program;
    int result = ccu_nvrtc.create(&program, source, name, 0, NULL, NULL);
    if (result) return ccu_fail("nvrtcCreateProgram: %s", ccu_nvrtc.error_string(result));
    char arch_option[64];
    snprintf(arch_option, sizeof arch_option, "--gpu-architecture=%s", arch);
    const char *options[] = {arch_option, "--std=c++17"};
    result = ccu_nvrtc.compile(program, 2, options);
    size_t log_size = 0;
    ccu_nvrtc.log_size(program, &log_size);
    *log = calloc(log_size + 1, 1);
    if (*log && log_size) ccu_nvrtc.log(program, *log);
    if (result) {
        ccu_fail("NVRTC could not compile %s for %s: %s", name, arch, ccu_nvrtc.error_string(result));
        ccu_nvrtc.destroy(&program);
        return 1;
    }
    size_t ptx_size = 0;
    ccu_nvrtc.ptx_size(program, &ptx_size);
    *ptx = calloc(ptx_size + 1, 1);
    if (*ptx) ccu_nvrtc.ptx(program, *ptx);
    ccu_nvrtc.destroy(&program);
    return *ptx ? 0 : ccu_fail("out of host memory for the PTX of %s", name);
}

int ccu_module_load(const char *ptx, void **module) { return check(ccu_driver.module_load_data(module, ptx), "cuModuleLoadData"); }

int ccu_module_function(void *module, const char *name, void **function) {
    return check(ccu_driver.module_get_function(function, module, name), name);
}

int ccu_launch(void *function, unsigned grid, unsigned block, unsigned shared_bytes, void *stream, void **args) {
    return check(ccu_driver.launch_kernel(function, grid, 1, 1, block, 1, 1, shared_bytes, stream, args, NULL), "kernel launch");
}

int ccu_blas_create(void **handle, void *stream) {
    if (ccu_blas.create(handle)) return ccu_fail("cublasCreate failed (is the GPU out of memory?)");
    return ccu_blas.set_stream(*handle, stream) ? ccu_fail("cublasSetStream failed") : 0;
}

// Row-major C = A B is column-major C^T = B^T A^T: swap the operands and m, n.
int ccu_sgemm(void *handle, int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, ccu_ptr a, int64_t lda,
              int64_t stride_a, ccu_ptr b, int64_t ldb, int64_t stride_b, ccu_ptr c, int64_t ldc, int64_t stride_c,
              int64_t batch) {
    const float one = 1, zero = 0;
    int status = ccu_blas.sgemm_strided_batched(handle, trans_b ? 1 : 0, trans_a ? 1 : 0, (int)n, (int)m, (int)k, &one, b,
                                                (int)ldb, stride_b, a, (int)lda, stride_a, &zero, c, (int)ldc, stride_c,
                                                (int)batch);
    if (status == 0) return 0;
    ccu_fail("cublasSgemmStridedBatched: status %d (m %lld, n %lld, k %lld, batch %lld)", status, (long long)m,
             (long long)n, (long long)k, (long long)batch);
    if (status == CUBLAS_STATUS_ALLOC_FAILED) ccu_mark_out_of_memory();
    return 1;
}
