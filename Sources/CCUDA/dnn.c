// Convolution and batch norm through cuDNN 9's descriptor API, on plain NCHW float32 (convolutions
// also in float16 with float32 accumulation, for mixed precision).
#include "internal.h"

#include <stdio.h>
#include <string.h>

static int check(int status, const char *what) {
    if (status == 0) return 0;
    const char *text = ccu_dnn.error_string ? ccu_dnn.error_string(status) : "unknown";
    ccu_fail("%s: %s (cuDNN status %d)", what, text, status);
    if (strstr(text, "ALLOC")) ccu_mark_out_of_memory();
    return 1;
}

int ccu_dnn_create(void **handle, void *stream) {
    if (check(ccu_dnn.create(handle), "cudnnCreate")) return 1;
    return check(ccu_dnn.set_stream(*handle, stream), "cudnnSetStream");
}

size_t ccu_dnn_version(void) { return ccu_dnn.get_version ? ccu_dnn.get_version() : 0; }

// The descriptors of one convolution; made per call (host-side objects, cheap next to the work).
typedef struct {
    handle_t x, y, w, conv, bias;
} conv_descriptors;

static void destroy(conv_descriptors *d) {
    if (d->x) ccu_dnn.destroy_tensor(d->x);
    if (d->y) ccu_dnn.destroy_tensor(d->y);
    if (d->bias) ccu_dnn.destroy_tensor(d->bias);
    if (d->w) ccu_dnn.destroy_filter(d->w);
    if (d->conv) ccu_dnn.destroy_convolution(d->conv);
}

static int describe(const ccu_conv_params *p, conv_descriptors *d) {
    memset(d, 0, sizeof *d);
    const int data = p->half ? CUDNN_DATA_HALF : CUDNN_DATA_FLOAT;
    if (check(ccu_dnn.create_tensor(&d->x), "cudnnCreateTensorDescriptor") ||
        check(ccu_dnn.set_tensor_4d(d->x, CUDNN_TENSOR_NCHW, data, p->n, p->c, p->h, p->w), "input descriptor") ||
        check(ccu_dnn.create_tensor(&d->y), "cudnnCreateTensorDescriptor") ||
        check(ccu_dnn.set_tensor_4d(d->y, CUDNN_TENSOR_NCHW, data, p->n, p->k, p->oh, p->ow), "output descriptor") ||
        check(ccu_dnn.create_tensor(&d->bias), "cudnnCreateTensorDescriptor") ||
        check(ccu_dnn.set_tensor_4d(d->bias, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, 1, p->k, 1, 1), "bias descriptor") ||
        check(ccu_dnn.create_filter(&d->w), "cudnnCreateFilterDescriptor") ||
        check(ccu_dnn.set_filter_4d(d->w, data, CUDNN_TENSOR_NCHW, p->k, p->c / p->groups, p->kh, p->kw),
              "filter descriptor") ||
        check(ccu_dnn.create_convolution(&d->conv), "cudnnCreateConvolutionDescriptor") ||
        check(ccu_dnn.set_convolution_2d(d->conv, p->pad_h, p->pad_w, p->stride_h, p->stride_w, p->dilation_h, p->dilation_w,
                                         CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT), "convolution descriptor") ||
        check(ccu_dnn.set_group_count(d->conv, p->groups), "cudnnSetConvolutionGroupCount") ||
        (p->half && check(ccu_dnn.set_math_type(d->conv, CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION), "cudnnSetConvolutionMathType"))) {
        destroy(d);
        return 1;
    }
    return 0;
}

int ccu_conv_find(void *dnn, const ccu_conv_params *p, ccu_conv_pass pass, int *algorithm, size_t *workspace_bytes) {
    conv_descriptors d;
    if (describe(p, &d)) return 1;
    ccu_dnn_perf results[16];
    int returned = 0, status;
    switch (pass) {
    case CCU_CONV_FORWARD:
        status = ccu_dnn.find_forward(dnn, d.x, d.w, d.conv, d.y, 16, &returned, results);
        break;
    case CCU_CONV_BACKWARD_DATA:
        status = ccu_dnn.find_backward_data(dnn, d.w, d.y, d.conv, d.x, 16, &returned, results);
        break;
    default:
        status = ccu_dnn.find_backward_filter(dnn, d.x, d.y, d.conv, d.w, 16, &returned, results);
    }
    destroy(&d);
    if (check(status, "choosing a convolution algorithm")) return 1;
    // Results come fastest first; take the first that ran.
    for (int i = 0; i < returned; i++) {
        if (results[i].status == 0) {
            *algorithm = results[i].algorithm;
            *workspace_bytes = results[i].memory;
            return 0;
        }
    }
    return ccu_fail("cuDNN has no working algorithm for a %dx%d convolution of %dx%dx%dx%d (pass %d)", p->kh, p->kw, p->n,
                    p->c, p->h, p->w, (int)pass);
}

int ccu_conv_forward(void *dnn, const ccu_conv_params *p, int algorithm, ccu_ptr x, ccu_ptr w, ccu_ptr bias, ccu_ptr y,
                     ccu_ptr workspace, size_t workspace_bytes) {
    if (p->half && bias) return ccu_fail("conv2d: a float16 convolution takes its bias in float32 from the caller");
    conv_descriptors d;
    if (describe(p, &d)) return 1;
    const float one = 1, zero = 0;
    int failed = check(ccu_dnn.convolution_forward(dnn, &one, d.x, x, d.w, w, d.conv, algorithm, workspace, workspace_bytes,
                                                   &zero, d.y, y), "cudnnConvolutionForward");
    if (!failed && bias) failed = check(ccu_dnn.add_tensor(dnn, &one, d.bias, bias, &one, d.y, y), "adding the bias");
    destroy(&d);
    return failed;
}

int ccu_conv_backward_data(void *dnn, const ccu_conv_params *p, int algorithm, ccu_ptr dy, ccu_ptr w, ccu_ptr dx,
                           ccu_ptr workspace, size_t workspace_bytes) {
    conv_descriptors d;
    if (describe(p, &d)) return 1;
    const float one = 1, zero = 0;
    int failed = check(ccu_dnn.convolution_backward_data(dnn, &one, d.w, w, d.y, dy, d.conv, algorithm, workspace,
                                                         workspace_bytes, &zero, d.x, dx), "cudnnConvolutionBackwardData");
    destroy(&d);
    return failed;
}

int ccu_conv_backward_filter(void *dnn, const ccu_conv_params *p, int algorithm, ccu_ptr x, ccu_ptr dy, ccu_ptr dw,
                             ccu_ptr db, ccu_ptr workspace, size_t workspace_bytes) {
    if (p->half && db) return ccu_fail("conv2d backward: a float16 convolution's bias gradient is the caller's, in float32");
    conv_descriptors d;
    if (describe(p, &d)) return 1;
    const float one = 1, zero = 0;
    int failed = check(ccu_dnn.convolution_backward_filter(dnn, &one, d.x, x, d.y, dy, d.conv, algorithm, workspace,
                                                           workspace_bytes, &zero, d.w, dw), "cudnnConvolutionBackwardFilter");
    if (!failed && db)
        failed = check(ccu_dnn.convolution_backward_bias(dnn, &one, d.y, dy, &zero, d.bias, db), "cudnnConvolutionBackwardBias");
    destroy(&d);
    return failed;
}

static int bn_descriptors(int n, int c, int h, int w, handle_t *x, handle_t *bn) {
    *x = NULL;
    *bn = NULL;
    if (check(ccu_dnn.create_tensor(x), "cudnnCreateTensorDescriptor") ||
        check(ccu_dnn.set_tensor_4d(*x, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, n, c, h, w), "batch-norm input descriptor") ||
        check(ccu_dnn.create_tensor(bn), "cudnnCreateTensorDescriptor") ||
        check(ccu_dnn.derive_bn(*bn, *x, CUDNN_BATCHNORM_SPATIAL), "cudnnDeriveBNTensorDescriptor")) {
        if (*x) ccu_dnn.destroy_tensor(*x);
        if (*bn) ccu_dnn.destroy_tensor(*bn);
        return 1;
    }
    return 0;
}

int ccu_batchnorm_forward(void *dnn, void *stream, int training, int n, int c, int h, int w, double eps, ccu_ptr x, ccu_ptr scale,
                          ccu_ptr shift, ccu_ptr y, ccu_ptr mean, ccu_ptr var) {
    handle_t xd, bnd;
    if (bn_descriptors(n, c, h, w, &xd, &bnd)) return 1;
    const float one = 1, zero = 0;
    int failed;
    if (training) {
        // An average factor of 1 makes the "running" outputs the batch's own mean and unbiased variance;
        // they are zeroed first because cuDNN still reads them (0 x garbage could be NaN).
        failed = ccu_driver.memset_d8(mean, 0, (size_t)c * 4, stream) || ccu_driver.memset_d8(var, 0, (size_t)c * 4, stream);
        if (failed) ccu_fail("clearing batch-norm statistics failed");
        if (!failed)
            failed = check(ccu_dnn.bn_forward_training(dnn, CUDNN_BATCHNORM_SPATIAL, &one, &zero, xd, x, xd, y, bnd, scale, shift,
                                                       1.0, mean, var, eps, 0, 0), "cudnnBatchNormalizationForwardTraining");
        // Biased, as the CPU backend and PyTorch's normalisation use it.
        double count = (double)n * h * w;
        const float unbias = count > 1 ? (float)((count - 1) / count) : 1.0f;
        if (!failed) failed = check(ccu_dnn.scale_tensor(dnn, bnd, var, &unbias), "cudnnScaleTensor");
    } else {
        failed = check(ccu_dnn.bn_forward_inference(dnn, CUDNN_BATCHNORM_SPATIAL, &one, &zero, xd, x, xd, y, bnd, scale, shift,
                                                    mean, var, eps), "cudnnBatchNormalizationForwardInference");
    }
    ccu_dnn.destroy_tensor(xd);
    ccu_dnn.destroy_tensor(bnd);
    return failed;
}

int ccu_batchnorm_backward(void *dnn, int n, int c, int h, int w, double eps, ccu_ptr x, ccu_ptr dy, ccu_ptr scale,
                           ccu_ptr dx, ccu_ptr dscale, ccu_ptr dshift) {
    handle_t xd, bnd;
    if (bn_descriptors(n, c, h, w, &xd, &bnd)) return 1;
    const float one = 1, zero = 0;
    // No saved statistics: cuDNN recomputes the batch's mean and variance from x.
    int failed = check(ccu_dnn.bn_backward(dnn, CUDNN_BATCHNORM_SPATIAL, &one, &zero, &one, &zero, xd, x, xd, dy, xd, dx, bnd,
                                           scale, dscale, dshift, eps, 0, 0), "cudnnBatchNormalizationBackward");
    ccu_dnn.destroy_tensor(xd);
    ccu_dnn.destroy_tensor(bnd);
    return failed;
}
