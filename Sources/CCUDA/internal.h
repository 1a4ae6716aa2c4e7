// Function tables of the CUDA libraries, filled by loader.c. Handles are opaque pointers and the
// enums plain ints, with the values of the CUDA headers.
#ifndef CCUDA_INTERNAL_H
#define CCUDA_INTERNAL_H
#include "include/ccuda.h"

int ccu_fail(const char *format, ...) __attribute__((format(printf, 1, 2)));
void ccu_mark_out_of_memory(void);

typedef void *handle_t;

typedef struct {
    int (*init)(unsigned flags);
    int (*driver_version)(int *version);
    int (*error_string)(int error, const char **text);
    int (*device_count)(int *count);
    int (*device_get)(int *device, int ordinal);
    int (*device_name)(char *name, int length, int device);
    int (*device_attribute)(int *value, int attribute, int device);
    int (*primary_context_retain)(handle_t *context, int device);
    int (*context_set_current)(handle_t context);
    int (*memory_info)(size_t *free_bytes, size_t *total_bytes);
    int (*malloc)(ccu_ptr *pointer, size_t bytes);
    int (*free)(ccu_ptr pointer);
    int (*host_alloc)(void **pointer, size_t bytes);
    int (*host_free)(void *pointer);
    int (*copy_htod)(ccu_ptr destination, const void *source, size_t bytes, handle_t stream);
    int (*copy_dtoh)(void *destination, ccu_ptr source, size_t bytes, handle_t stream);
    int (*copy_dtod)(ccu_ptr destination, ccu_ptr source, size_t bytes, handle_t stream);
    int (*memset_d8)(ccu_ptr destination, unsigned char value, size_t bytes, handle_t stream);
    int (*stream_create)(handle_t *stream, unsigned flags);
    int (*stream_synchronize)(handle_t stream);
    int (*module_load_data)(handle_t *module, const void *image);
    int (*module_get_function)(handle_t *function, handle_t module, const char *name);
    int (*launch_kernel)(handle_t function, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz,
                         unsigned shared_bytes, handle_t stream, void **params, void **extra);
} ccu_driver_api;

typedef struct {
    int (*version)(int *major, int *minor);
    const char *(*error_string)(int result);
    int (*create)(handle_t *program, const char *source, const char *name, int headers, const char *const *sources,
                  const char *const *names);
    int (*destroy)(handle_t *program);
    int (*compile)(handle_t program, int count, const char *const *options);
    int (*log_size)(handle_t program, size_t *size);
    int (*log)(handle_t program, char *log);
    int (*ptx_size)(handle_t program, size_t *size);
    int (*ptx)(handle_t program, char *ptx);
} ccu_nvrtc_api;

typedef struct {
    int (*create)(handle_t *handle);
    int (*set_stream)(handle_t handle, handle_t stream);
    int (*sgemm_strided_batched)(handle_t handle, int trans_a, int trans_b, int m, int n, int k, const float *alpha,
                                 ccu_ptr a, int lda, long long stride_a, ccu_ptr b, int ldb, long long stride_b,
                                 const float *beta, ccu_ptr c, int ldc, long long stride_c, int batch);
} ccu_blas_api;

// cudnnConvolution{Fwd,BwdData,BwdFilter}AlgoPerf_t share this layout.
typedef struct {
    int algorithm;
    int status;
    float time;
    size_t memory;
    int determinism;
    int math_type;
    int reserved[3];
} ccu_dnn_perf;

typedef struct {
    size_t (*get_version)(void);
    const char *(*error_string)(int status);
    int (*create)(handle_t *handle);
    int (*set_stream)(handle_t handle, handle_t stream);
    int (*create_tensor)(handle_t *descriptor);
    int (*set_tensor_4d)(handle_t descriptor, int format, int type, int n, int c, int h, int w);
    int (*destroy_tensor)(handle_t descriptor);
    int (*create_filter)(handle_t *descriptor);
    int (*set_filter_4d)(handle_t descriptor, int type, int format, int k, int c, int h, int w);
    int (*destroy_filter)(handle_t descriptor);
    int (*create_convolution)(handle_t *descriptor);
    int (*set_convolution_2d)(handle_t descriptor, int pad_h, int pad_w, int u, int v, int dilation_h, int dilation_w,
                              int mode, int compute_type);
    int (*set_group_count)(handle_t descriptor, int groups);
    int (*set_math_type)(handle_t descriptor, int math_type);
    int (*destroy_convolution)(handle_t descriptor);
    int (*find_forward)(handle_t, handle_t x, handle_t w, handle_t conv, handle_t y, int requested, int *returned,
                        ccu_dnn_perf *results);
    int (*find_backward_data)(handle_t, handle_t w, handle_t dy, handle_t conv, handle_t dx, int requested, int *returned,
                              ccu_dnn_perf *results);
    int (*find_backward_filter)(handle_t, handle_t x, handle_t dy, handle_t conv, handle_t dw, int requested,
                                int *returned, ccu_dnn_perf *results);
    int (*forward_workspace)(handle_t, handle_t x, handle_t w, handle_t conv, handle_t y, int algorithm, size_t *bytes);
    int (*backward_data_workspace)(handle_t, handle_t w, handle_t dy, handle_t conv, handle_t dx, int algorithm,
                                   size_t *bytes);
    int (*backward_filter_workspace)(handle_t, handle_t x, handle_t dy, handle_t conv, handle_t dw, int algorithm,
                                     size_t *bytes);
    int (*convolution_forward)(handle_t, const void *alpha, handle_t xd, ccu_ptr x, handle_t wd, ccu_ptr w, handle_t conv,
                               int algorithm, ccu_ptr workspace, size_t bytes, const void *beta, handle_t yd, ccu_ptr y);
    int (*convolution_backward_data)(handle_t, const void *alpha, handle_t wd, ccu_ptr w, handle_t dyd, ccu_ptr dy,
                                     handle_t conv, int algorithm, ccu_ptr workspace, size_t bytes, const void *beta,
                                     handle_t dxd, ccu_ptr dx);
    int (*convolution_backward_filter)(handle_t, const void *alpha, handle_t xd, ccu_ptr x, handle_t dyd, ccu_ptr dy,
                                       handle_t conv, int algorithm, ccu_ptr workspace, size_t bytes, const void *beta,
                                       handle_t dwd, ccu_ptr dw);
    int (*convolution_backward_bias)(handle_t, const void *alpha, handle_t dyd, ccu_ptr dy, const void *beta,
                                     handle_t dbd, ccu_ptr db);
    int (*add_tensor)(handle_t, const void *alpha, handle_t ad, ccu_ptr a, const void *beta, handle_t cd, ccu_ptr c);
    int (*scale_tensor)(handle_t, handle_t yd, ccu_ptr y, const void *alpha);
    int (*derive_bn)(handle_t derived, handle_t xd, int mode);
    int (*bn_forward_training)(handle_t, int mode, const void *alpha, const void *beta, handle_t xd, ccu_ptr x, handle_t yd,
                               ccu_ptr y, handle_t bnd, ccu_ptr scale, ccu_ptr shift, double factor, ccu_ptr running_mean,
                               ccu_ptr running_var, double eps, ccu_ptr save_mean, ccu_ptr save_inv_var);
    int (*bn_forward_inference)(handle_t, int mode, const void *alpha, const void *beta, handle_t xd, ccu_ptr x,
                                handle_t yd, ccu_ptr y, handle_t bnd, ccu_ptr scale, ccu_ptr shift, ccu_ptr mean,
                                ccu_ptr var, double eps);
    int (*bn_backward)(handle_t, int mode, const void *alpha_data, const void *beta_data, const void *alpha_param,
                       const void *beta_param, handle_t xd, ccu_ptr x, handle_t dyd, ccu_ptr dy, handle_t dxd, ccu_ptr dx,
                       handle_t bnd, ccu_ptr scale, ccu_ptr dscale, ccu_ptr dshift, double eps, ccu_ptr saved_mean,
                       ccu_ptr saved_inv_var);
} ccu_dnn_api;

extern ccu_driver_api ccu_driver;
extern ccu_nvrtc_api ccu_nvrtc;
extern ccu_blas_api ccu_blas;
extern ccu_dnn_api ccu_dnn;

// Values from the CUDA headers.
enum {
    CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75,
    CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR = 76,
    CUDA_ERROR_OUT_OF_MEMORY = 2,
    CUBLAS_STATUS_ALLOC_FAILED = 3,
    CUDNN_TENSOR_NCHW = 0,
    CUDNN_DATA_FLOAT = 0,
    CUDNN_DATA_HALF = 2,
    CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION = 2,
    CUDNN_CROSS_CORRELATION = 1,
    CUDNN_BATCHNORM_SPATIAL = 1,
};
#endif
