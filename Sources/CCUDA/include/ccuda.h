// The CUDA libraries, opened at run time (dlopen): the driver API (libcuda.so.1), NVRTC, cuBLAS
// and cuDNN 9. Nothing here needs CUDA at build time: the few types and constants used are
// declared below with the values of the CUDA headers. Every function returns 0 on success; on
// failure it returns non-zero and ccu_last_error() says what failed (thread-local).
#ifndef CCUDA_H
#define CCUDA_H
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef unsigned long long ccu_ptr;   // CUdeviceptr

// A strided view as the kernels take it (same layout as the CPU kernels' ck_layout).
#define CCU_MAX_DIMS 8
typedef struct {
    int32_t ndim;
    int64_t shape[CCU_MAX_DIMS];
    int64_t strides[CCU_MAX_DIMS];
} ccu_layout;

const char *ccu_last_error(void);

// ---- loading ---------------------------------------------------------------------------------
// Opens NVRTC only (enough to compile kernels without a GPU). `dirs` is a ':'-separated list of
// folders searched before the system's own search (may be NULL).
int ccu_load_nvrtc(const char *dirs);
// Opens the driver, NVRTC, cuBLAS and cuDNN and initialises the driver. On failure the message
// names each library, the file names tried and the folders searched.
int ccu_load_all(const char *dirs);
// Where a library was found (after loading), for reports.
const char *ccu_library_path(const char *which);

// ---- devices, memory, streams ------------------------------------------------------------------
int ccu_driver_version(int *version);
int ccu_device_count(int *count);
int ccu_device_name(int device, char *name, int size);
int ccu_compute_capability(int device, int *major, int *minor);
int ccu_memory_info(size_t *free_bytes, size_t *total_bytes);
// Retains the device's primary context and makes it current on the calling thread.
int ccu_use_device(int device, void **context);
int ccu_set_context(void *context);
int ccu_stream_create(void **stream);
int ccu_stream_synchronize(void *stream);
int ccu_malloc(ccu_ptr *pointer, size_t bytes);
int ccu_free(ccu_ptr pointer);
// Page-locked host memory (staging buffers for copies).
int ccu_host_alloc(void **pointer, size_t bytes);
int ccu_host_free(void *pointer);
int ccu_copy_to_device(ccu_ptr destination, const void *source, size_t bytes, void *stream);
int ccu_copy_to_host(void *destination, ccu_ptr source, size_t bytes, void *stream);
int ccu_copy_on_device(ccu_ptr destination, ccu_ptr source, size_t bytes, void *stream);
// True when the last error was an out-of-memory one.
int ccu_last_error_was_out_of_memory(void);

// ---- NVRTC and kernels -------------------------------------------------------------------------
int ccu_nvrtc_version(int *major, int *minor);
// Compiles CUDA C to PTX for `arch` (e.g. "compute_90"). *ptx and *log are malloc'ed (free them);
// the log is set on failure too.
int ccu_compile(const char *source, const char *name, const char *arch, char **ptx, char **log);
int ccu_module_load(const char *ptx, void **module);
int ccu_module_function(void *module, const char *name, void **function);
// 1-D launch: `args` points at each argument's value, as cuLaunchKernel takes them.
int ccu_launch(void *function, unsigned grid, unsigned block, unsigned shared_bytes, void *stream, void **args);

// ---- cuBLAS ---------------------------------------------------------------------------------------
int ccu_blas_create(void **handle, void *stream);
// Row-major C[b] = op(A[b]) op(B[b]) for b < batch (stride 0 broadcasts an operand).
int ccu_sgemm(void *handle, int trans_a, int trans_b, int64_t m, int64_t n, int64_t k,
              ccu_ptr a, int64_t lda, int64_t stride_a, ccu_ptr b, int64_t ldb, int64_t stride_b,
              ccu_ptr c, int64_t ldc, int64_t stride_c, int64_t batch);

// ---- cuDNN ------------------------------------------------------------------------------------------
int ccu_dnn_create(void **handle, void *stream);
size_t ccu_dnn_version(void);

// half: x, w and y (dx, dw, dy) are float16 with float32 accumulation and tensor-op math (cuDNN
// converts where a shape, such as 3 input channels, has no tensor-op kernel); the bias is then
// the caller's (added in float32), so bias and db must be 0.
typedef struct {
    int n, c, h, w, k, kh, kw, stride_h, stride_w, pad_h, pad_w, dilation_h, dilation_w, groups, oh, ow;
    int half;
} ccu_conv_params;

typedef enum { CCU_CONV_FORWARD = 0, CCU_CONV_BACKWARD_DATA = 1, CCU_CONV_BACKWARD_FILTER = 2 } ccu_conv_pass;

// The fastest algorithm for the pass (cuDNN measures them) and the workspace it needs.
int ccu_conv_find(void *dnn, const ccu_conv_params *p, ccu_conv_pass pass, int *algorithm, size_t *workspace_bytes);
// forward: y = conv(x, w) (+ bias when non-zero); backward data: dx = conv^T(dy, w);
// backward filter: dw = conv_w(x, dy) (+ db when non-zero).
int ccu_conv_forward(void *dnn, const ccu_conv_params *p, int algorithm, ccu_ptr x, ccu_ptr w, ccu_ptr bias, ccu_ptr y,
                     ccu_ptr workspace, size_t workspace_bytes);
int ccu_conv_backward_data(void *dnn, const ccu_conv_params *p, int algorithm, ccu_ptr dy, ccu_ptr w, ccu_ptr dx,
                           ccu_ptr workspace, size_t workspace_bytes);
int ccu_conv_backward_filter(void *dnn, const ccu_conv_params *p, int algorithm, ccu_ptr x, ccu_ptr dy, ccu_ptr dw,
                             ccu_ptr db, ccu_ptr workspace, size_t workspace_bytes);
// Training: mean and var (biased, as the CPU backend returns them) are outputs. Inference: inputs.
int ccu_batchnorm_forward(void *dnn, void *stream, int training, int n, int c, int h, int w, double eps, ccu_ptr x, ccu_ptr scale,
                          ccu_ptr shift, ccu_ptr y, ccu_ptr mean, ccu_ptr var);
int ccu_batchnorm_backward(void *dnn, int n, int c, int h, int w, double eps, ccu_ptr x, ccu_ptr dy, ccu_ptr scale,
                           ccu_ptr dx, ccu_ptr dscale, ccu_ptr dshift);

#ifdef __cplusplus
}
#endif
#endif
