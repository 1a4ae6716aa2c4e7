// Finds and opens the CUDA libraries at run time and resolves the symbols the backend calls.
#include "internal.h"

#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static _Thread_local char last_error[2048];
static _Thread_local int last_out_of_memory;

const char *ccu_last_error(void) { return last_error; }
int ccu_last_error_was_out_of_memory(void) { return last_out_of_memory; }

int ccu_fail(const char *format, ...) {
    va_list args;
    va_start(args, format);
    vsnprintf(last_error, sizeof last_error, format, args);
    va_end(args);
    last_out_of_memory = 0;
    return 1;
}

void ccu_mark_out_of_memory(void) { last_out_of_memory = 1; }

ccu_driver_api ccu_driver;
ccu_nvrtc_api ccu_nvrtc;
ccu_blas_api ccu_blas;
ccu_dnn_api ccu_dnn;

typedef struct {
    const char *name;          // for messages: "CUDA driver", ...
    const char *files[6];      // file names tried in order
    void *handle;
    char path[1024];
} library;

static library driver_library = {"the CUDA driver", {"libcuda.so.1", "libcuda.so", NULL}, NULL, ""};
static library nvrtc_library = {"NVRTC", {"libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so.11.2", "libnvrtc.so", NULL},
                                NULL, ""};
static library blas_library = {"cuBLAS", {"libcublas.so.13", "libcublas.so.12", "libcublas.so.11", "libcublas.so", NULL},
                               NULL, ""};
static library dnn_library = {"cuDNN 9", {"libcudnn.so.9", "libcudnn.so", NULL}, NULL, ""};

// Folders where CUDA usually lives, after the caller's and before the loader's own search.
static const char *usual_folders[] = {"/usr/local/cuda/lib64", "/usr/local/cuda/targets/x86_64-linux/lib",
                                      "/usr/lib/x86_64-linux-gnu", "/usr/local/nvidia/lib64", "/usr/lib64", NULL};

static int open_library(library *lib, const char *dirs) {
    if (lib->handle) return 0;
    char tried[1536] = "";
    char folders[2048];
    snprintf(folders, sizeof folders, "%s", dirs ? dirs : "");
    // The caller's folders first.
    for (char *save = NULL, *dir = strtok_r(folders, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
        for (int f = 0; lib->files[f]; f++) {
            char path[1024];
            snprintf(path, sizeof path, "%s/%s", dir, lib->files[f]);
            if ((lib->handle = dlopen(path, RTLD_NOW | RTLD_GLOBAL))) { snprintf(lib->path, sizeof lib->path, "%s", path); return 0; }
        }
    }
    // Then the loader's search (LD_LIBRARY_PATH, the ld.so cache).
    for (int f = 0; lib->files[f]; f++) {
        if ((lib->handle = dlopen(lib->files[f], RTLD_NOW | RTLD_GLOBAL))) {
            snprintf(lib->path, sizeof lib->path, "%s", lib->files[f]);
            return 0;
        }
    }
    for (int d = 0; usual_folders[d]; d++) {
        for (int f = 0; lib->files[f]; f++) {
            char path[1024];
            snprintf(path, sizeof path, "%s/%s", usual_folders[d], lib->files[f]);
            if ((lib->handle = dlopen(path, RTLD_NOW | RTLD_GLOBAL))) { snprintf(lib->path, sizeof lib->path, "%s", path); return 0; }
        }
    }
    for (int f = 0; lib->files[f]; f++) {
        strncat(tried, f ? ", " : "", sizeof tried - strlen(tried) - 1);
        strncat(tried, lib->files[f], sizeof tried - strlen(tried) - 1);
    }
    char usual[512] = "";
    for (int d = 0; usual_folders[d]; d++) {
        strncat(usual, d ? ", " : "", sizeof usual - strlen(usual) - 1);
        strncat(usual, usual_folders[d], sizeof usual - strlen(usual) - 1);
    }
    return ccu_fail("%s was not found: looked for %s in %s%sLD_LIBRARY_PATH, the system's library cache and %s",
                    lib->name, tried, dirs && *dirs ? dirs : "", dirs && *dirs ? " (YOLO_CUDA_LIBRARY_PATH), " : "", usual);
}

const char *ccu_library_path(const char *which) {
    if (!strcmp(which, "driver")) return driver_library.path;
    if (!strcmp(which, "nvrtc")) return nvrtc_library.path;
    if (!strcmp(which, "cublas")) return blas_library.path;
    if (!strcmp(which, "cudnn")) return dnn_library.path;
    return "";
}

#define RESOLVE(lib, table, field, symbol)                                                                       \
    do {                                                                                                         \
        *(void **)&(table).field = dlsym((lib).handle, symbol);                                                  \
        if (!(table).field) return ccu_fail("%s (%s) has no symbol %s: too old a version?", (lib).name, (lib).path, symbol); \
    } while (0)

int ccu_load_nvrtc(const char *dirs) {
    if (ccu_nvrtc.compile) return 0;
    if (open_library(&nvrtc_library, dirs)) return 1;
    RESOLVE(nvrtc_library, ccu_nvrtc, version, "nvrtcVersion");
    RESOLVE(nvrtc_library, ccu_nvrtc, error_string, "nvrtcGetErrorString");
    RESOLVE(nvrtc_library, ccu_nvrtc, create, "nvrtcCreateProgram");
    RESOLVE(nvrtc_library, ccu_nvrtc, destroy, "nvrtcDestroyProgram");
    RESOLVE(nvrtc_library, ccu_nvrtc, log_size, "nvrtcGetProgramLogSize");
    RESOLVE(nvrtc_library, ccu_nvrtc, log, "nvrtcGetProgramLog");
    RESOLVE(nvrtc_library, ccu_nvrtc, ptx_size, "nvrtcGetPTXSize");
    RESOLVE(nvrtc_library, ccu_nvrtc, ptx, "nvrtcGetPTX");
    RESOLVE(nvrtc_library, ccu_nvrtc, compile, "nvrtcCompileProgram");
    return 0;
}

int ccu_load_all(const char *dirs) {
    if (open_library(&driver_library, dirs)) return 1;
    RESOLVE(driver_library, ccu_driver, init, "cuInit");
    RESOLVE(driver_library, ccu_driver, driver_version, "cuDriverGetVersion");
    RESOLVE(driver_library, ccu_driver, error_string, "cuGetErrorString");
    RESOLVE(driver_library, ccu_driver, device_count, "cuDeviceGetCount");
    RESOLVE(driver_library, ccu_driver, device_get, "cuDeviceGet");
    RESOLVE(driver_library, ccu_driver, device_name, "cuDeviceGetName");
    RESOLVE(driver_library, ccu_driver, device_attribute, "cuDeviceGetAttribute");
    RESOLVE(driver_library, ccu_driver, primary_context_retain, "cuDevicePrimaryCtxRetain");
    RESOLVE(driver_library, ccu_driver, context_set_current, "cuCtxSetCurrent");
    RESOLVE(driver_library, ccu_driver, memory_info, "cuMemGetInfo_v2");
    RESOLVE(driver_library, ccu_driver, malloc, "cuMemAlloc_v2");
    RESOLVE(driver_library, ccu_driver, free, "cuMemFree_v2");
    RESOLVE(driver_library, ccu_driver, host_alloc, "cuMemAllocHost_v2");
    RESOLVE(driver_library, ccu_driver, host_free, "cuMemFreeHost");
    RESOLVE(driver_library, ccu_driver, copy_htod, "cuMemcpyHtoDAsync_v2");
    RESOLVE(driver_library, ccu_driver, copy_dtoh, "cuMemcpyDtoHAsync_v2");
    RESOLVE(driver_library, ccu_driver, copy_dtod, "cuMemcpyDtoDAsync_v2");
    RESOLVE(driver_library, ccu_driver, memset_d8, "cuMemsetD8Async");
    RESOLVE(driver_library, ccu_driver, stream_create, "cuStreamCreate");
    RESOLVE(driver_library, ccu_driver, stream_synchronize, "cuStreamSynchronize");
    RESOLVE(driver_library, ccu_driver, module_load_data, "cuModuleLoadData");
    RESOLVE(driver_library, ccu_driver, module_get_function, "cuModuleGetFunction");
    RESOLVE(driver_library, ccu_driver, launch_kernel, "cuLaunchKernel");
    if (ccu_load_nvrtc(dirs)) return 1;
    if (open_library(&blas_library, dirs)) return 1;
    RESOLVE(blas_library, ccu_blas, create, "cublasCreate_v2");
    RESOLVE(blas_library, ccu_blas, set_stream, "cublasSetStream_v2");
    RESOLVE(blas_library, ccu_blas, sgemm_strided_batched, "cublasSgemmStridedBatched");
    if (open_library(&dnn_library, dirs)) return 1;
    RESOLVE(dnn_library, ccu_dnn, get_version, "cudnnGetVersion");
    RESOLVE(dnn_library, ccu_dnn, error_string, "cudnnGetErrorString");
    RESOLVE(dnn_library, ccu_dnn, create, "cudnnCreate");
    RESOLVE(dnn_library, ccu_dnn, set_stream, "cudnnSetStream");
    RESOLVE(dnn_library, ccu_dnn, create_tensor, "cudnnCreateTensorDescriptor");
    RESOLVE(dnn_library, ccu_dnn, set_tensor_4d, "cudnnSetTensor4dDescriptor");
    RESOLVE(dnn_library, ccu_dnn, destroy_tensor, "cudnnDestroyTensorDescriptor");
    RESOLVE(dnn_library, ccu_dnn, create_filter, "cudnnCreateFilterDescriptor");
    RESOLVE(dnn_library, ccu_dnn, set_filter_4d, "cudnnSetFilter4dDescriptor");
    RESOLVE(dnn_library, ccu_dnn, destroy_filter, "cudnnDestroyFilterDescriptor");
    RESOLVE(dnn_library, ccu_dnn, create_convolution, "cudnnCreateConvolutionDescriptor");
    RESOLVE(dnn_library, ccu_dnn, set_convolution_2d, "cudnnSetConvolution2dDescriptor");
    RESOLVE(dnn_library, ccu_dnn, set_group_count, "cudnnSetConvolutionGroupCount");
    RESOLVE(dnn_library, ccu_dnn, set_math_type, "cudnnSetConvolutionMathType");
    RESOLVE(dnn_library, ccu_dnn, destroy_convolution, "cudnnDestroyConvolutionDescriptor");
    RESOLVE(dnn_library, ccu_dnn, find_forward, "cudnnFindConvolutionForwardAlgorithm");
    RESOLVE(dnn_library, ccu_dnn, find_backward_data, "cudnnFindConvolutionBackwardDataAlgorithm");
    RESOLVE(dnn_library, ccu_dnn, find_backward_filter, "cudnnFindConvolutionBackwardFilterAlgorithm");
    RESOLVE(dnn_library, ccu_dnn, forward_workspace, "cudnnGetConvolutionForwardWorkspaceSize");
    RESOLVE(dnn_library, ccu_dnn, backward_data_workspace, "cudnnGetConvolutionBackwardDataWorkspaceSize");
    RESOLVE(dnn_library, ccu_dnn, backward_filter_workspace, "cudnnGetConvolutionBackwardFilterWorkspaceSize");
    RESOLVE(dnn_library, ccu_dnn, convolution_forward, "cudnnConvolutionForward");
    RESOLVE(dnn_library, ccu_dnn, convolution_backward_data, "cudnnConvolutionBackwardData");
    RESOLVE(dnn_library, ccu_dnn, convolution_backward_filter, "cudnnConvolutionBackwardFilter");
    RESOLVE(dnn_library, ccu_dnn, convolution_backward_bias, "cudnnConvolutionBackwardBias");
    RESOLVE(dnn_library, ccu_dnn, add_tensor, "cudnnAddTensor");
    RESOLVE(dnn_library, ccu_dnn, scale_tensor, "cudnnScaleTensor");
    RESOLVE(dnn_library, ccu_dnn, derive_bn, "cudnnDeriveBNTensorDescriptor");
    RESOLVE(dnn_library, ccu_dnn, bn_forward_training, "cudnnBatchNormalizationForwardTraining");
    RESOLVE(dnn_library, ccu_dnn, bn_forward_inference, "cudnnBatchNormalizationForwardInference");
    RESOLVE(dnn_library, ccu_dnn, bn_backward, "cudnnBatchNormalizationBackward");
    int result = ccu_driver.init(0);
    if (result != 0) {
        const char *text = "unknown error";
        ccu_driver.error_string(result, &text);
        return ccu_fail("the CUDA driver (%s) loaded but did not start: %s (error %d); is a GPU visible "
                        "(nvidia-smi, CUDA_VISIBLE_DEVICES)?", driver_library.path, text, result);
    }
    return 0;
}
