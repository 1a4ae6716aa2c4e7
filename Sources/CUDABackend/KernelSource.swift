/// The CUDA C of every elementwise, reduction, indexing, resampling, pooling and optimizer kernel,
/// compiled once per process through NVRTC. Semantics follow the CPU kernels (CKernels) exactly:
/// the same dtype codes, layout struct, NaN rules and gradient formulas, so the CPU can be the oracle.
/// No CUDA header is included (NVRTC from PyPI ships none): half conversions are PTX instructions.
enum KernelSource {
    static let names = ["copy_any", "fill_any", "binary_any", "unary_f32", "unary_grad_f32", "where_any", "reduce_any",
                        "gather_any", "scatter_any", "index_select_any", "index_add_any", "upsample_forward",
                        "upsample_backward", "maxpool_forward", "maxpool_backward", "sgd_step", "adam_step", "activation_f32"]

    static let text = #"""
typedef long long i64;
typedef unsigned char u8;
struct Layout { int ndim; i64 shape[8]; i64 strides[8]; };

enum { F32 = 0, F16 = 1, I32 = 2, I64 = 3, U8 = 4, BOOL = 5, BF16 = 6 };

__device__ __forceinline__ i64 offset_of(const Layout &l, i64 i) {
    i64 off = 0;
    for (int d = l.ndim - 1; d >= 0; d--) { i64 s = l.shape[d]; off += (i % s) * l.strides[d]; i /= s; }
    return off;
}

__device__ __forceinline__ float half_to_float(unsigned short h) { float f; asm("cvt.f32.f16 %0, %1;" : "=f"(f) : "h"(h)); return f; }
__device__ __forceinline__ unsigned short float_to_half(float f) { unsigned short h; asm("cvt.rn.f16.f32 %0, %1;" : "=h"(h) : "f"(f)); return h; }

// bfloat16 by bit arithmetic (every architecture): round to nearest even, NaN kept quiet.
__device__ __forceinline__ float bf16_to_float(unsigned short h) { return __uint_as_float(((unsigned int)h) << 16); }
__device__ __forceinline__ unsigned short float_to_bf16(float f) {
    unsigned int bits = __float_as_uint(f);
    if ((bits & 0x7FFFFFFFu) > 0x7F800000u) return (unsigned short)((bits >> 16) | 0x0040u);
    bits += 0x7FFFu + ((bits >> 16) & 1u);
    return (unsigned short)(bits >> 16);
}

__device__ __forceinline__ double load_as_double(const void *p, int dt, i64 i) {
    switch (dt) {
    case F32: return ((const float *)p)[i];
    case F16: return half_to_float(((const unsigned short *)p)[i]);
    case BF16: return bf16_to_float(((const unsigned short *)p)[i]);
    case I32: return ((const int *)p)[i];
    case I64: return (double)((const i64 *)p)[i];
    default: return ((const u8 *)p)[i];
    }
}

__device__ __forceinline__ void store_double(void *p, int dt, i64 i, double v) {
    switch (dt) {
    case F32: ((float *)p)[i] = (float)v; break;
    case F16: ((unsigned short *)p)[i] = float_to_half((float)v); break;
    case BF16: ((unsigned short *)p)[i] = float_to_bf16((float)v); break;
    case I32: ((int *)p)[i] = (int)v; break;
    case I64: ((i64 *)p)[i] = (i64)v; break;
    case U8: ((u8 *)p)[i] = (u8)(int)v; break;
    default: ((u8 *)p)[i] = v != 0; break;
    }
}

__device__ __forceinline__ int dtype_size(int dt) { return dt == F32 || dt == I32 ? 4 : dt == F16 || dt == BF16 ? 2 : dt == I64 ? 8 : 1; }

#define GRID_LOOP(i, n) for (i64 i = (i64)blockIdx.x * blockDim.x + threadIdx.x; i < (n); i += (i64)blockDim.x * gridDim.x)

extern "C" __global__ void copy_any(const void *src, int sdt, Layout ls, void *dst, int ddt, Layout ld, i64 n) {
    GRID_LOOP(i, n) {
        i64 a = offset_of(ls, i), b = offset_of(ld, i);
        if (sdt == ddt) {
            switch (dtype_size(sdt)) {
            case 8: ((i64 *)dst)[b] = ((const i64 *)src)[a]; break;
            case 4: ((int *)dst)[b] = ((const int *)src)[a]; break;
            case 2: ((unsigned short *)dst)[b] = ((const unsigned short *)src)[a]; break;
            default: ((u8 *)dst)[b] = ((const u8 *)src)[a];
            }
        } else if (sdt == I64 && ddt == I32) {
            ((int *)dst)[b] = (int)((const i64 *)src)[a];
        } else {
            store_double(dst, ddt, b, load_as_double(src, sdt, a));
        }
    }
}

extern "C" __global__ void fill_any(void *dst, int dt, i64 n, double value) {
    GRID_LOOP(i, n) {
        if (dt == I64) ((i64 *)dst)[i] = (i64)value; else store_double(dst, dt, i, value);
    }
}

// Operation codes of ck_binary_op.
enum { ADD, SUB, MUL, DIV, POW, MAXIMUM, MINIMUM, ATAN2, EQ, NE, LT, LE, GT, GE, AND, OR, XOR };

__device__ __forceinline__ i64 integer_power(i64 base, i64 e) {
    if (e < 0) return base == 1 ? 1 : (base == -1 ? ((e & 1) ? -1 : 1) : 0);
    i64 r = 1;
    while (e) { if (e & 1) r *= base; base *= base; e >>= 1; }
    return r;
}

template <typename T> __device__ __forceinline__ bool compare(int op, T x, T y) {
    switch (op) {
    case EQ: return x == y;
    case NE: return x != y;
    case LT: return x < y;
    case LE: return x <= y;
    case GT: return x > y;
    default: return x >= y;
    }
}

template <typename T> __device__ __forceinline__ T integer_binary(int op, T x, T y) {
    switch (op) {
    case ADD: return x + y;
    case SUB: return x - y;
    case MUL: return x * y;
    case DIV: return y == 0 ? 0 : x / y;
    case POW: return (T)integer_power(x, y);
    case MAXIMUM: return x > y ? x : y;
    default: return x < y ? x : y;
    }
}

template <typename T> __device__ __forceinline__ void integer_case(int op, const void *a, i64 oa, const void *b, i64 ob, void *out, i64 oo) {
    T x = ((const T *)a)[oa], y = ((const T *)b)[ob];
    if (op >= EQ && op <= GE) ((u8 *)out)[oo] = compare(op, x, y);
    else ((T *)out)[oo] = integer_binary(op, x, y);
}

extern "C" __global__ void binary_any(int op, int dt, const void *a, Layout la, const void *b, Layout lb, void *out, Layout lo, i64 n) {
    GRID_LOOP(i, n) {
        i64 oa = offset_of(la, i), ob = offset_of(lb, i), oo = offset_of(lo, i);
        if (dt == F32) {
            float x = ((const float *)a)[oa], y = ((const float *)b)[ob], r;
            if (op >= EQ && op <= GE) { ((u8 *)out)[oo] = compare(op, x, y); continue; }
            switch (op) {
            case ADD: r = x + y; break;
            case SUB: r = x - y; break;
            case MUL: r = x * y; break;
            case DIV: r = x / y; break;
            case POW: r = powf(x, y); break;
            case MAXIMUM: r = (x != x || y != y) ? __int_as_float(0x7fc00000) : (x > y ? x : y); break;
            case MINIMUM: r = (x != x || y != y) ? __int_as_float(0x7fc00000) : (x < y ? x : y); break;
            default: r = atan2f(x, y);
            }
            ((float *)out)[oo] = r;
        } else if (dt == I32) {
            integer_case<int>(op, a, oa, b, ob, out, oo);
        } else if (dt == I64) {
            integer_case<i64>(op, a, oa, b, ob, out, oo);
        } else if (dt == U8) {
            integer_case<u8>(op, a, oa, b, ob, out, oo);
        } else {   // bool
            u8 x = ((const u8 *)a)[oa], y = ((const u8 *)b)[ob], r;
            switch (op) {
            case AND: case MINIMUM: r = x && y; break;
            case OR: case MAXIMUM: r = x || y; break;
            case XOR: r = (x != 0) != (y != 0); break;
            default: r = compare(op, x, y);
            }
            ((u8 *)out)[oo] = r;
        }
    }
}

// Operation codes of ck_unary_op.
enum { NEG, EXP, LOG, SQRT, ABS, SIGMOID, TANH, SOFTPLUS, RELU, LEAKY_RELU, MISH, CLAMP, ATAN, FLOOR, CEIL, ROUND,
       RECIPROCAL, SIGN, SQUARE, SIN, COS, NOT };

__device__ __forceinline__ float sigmoid_of(float x) {
    if (x >= 0) return 1.0f / (1.0f + expf(-x));
    float e = expf(x);
    return e / (1.0f + e);
}
__device__ __forceinline__ float softplus_of(float x) { return x > 20.0f ? x : log1pf(expf(x)); }

__device__ __forceinline__ float unary_value(int op, float x, float p1, float p2) {
    switch (op) {
    case NEG: return -x;
    case EXP: return expf(x);
    case LOG: return logf(x);
    case SQRT: return sqrtf(x);
    case ABS: return fabsf(x);
    case SIGMOID: return sigmoid_of(x);
    case TANH: return tanhf(x);
    case SOFTPLUS: return softplus_of(x);
    case RELU: return x > 0 ? x : 0.0f;
    case LEAKY_RELU: return x > 0 ? x : x * p1;
    case MISH: return x * tanhf(softplus_of(x));
    case CLAMP: return x != x ? x : (x < p1 ? p1 : (x > p2 ? p2 : x));
    case ATAN: return atanf(x);
    case FLOOR: return floorf(x);
    case CEIL: return ceilf(x);
    case ROUND: return rintf(x);
    case RECIPROCAL: return 1.0f / x;
    case SIGN: return x > 0 ? 1.0f : (x < 0 ? -1.0f : 0.0f);
    case SQUARE: return x * x;
    case SIN: return sinf(x);
    default: return cosf(x);
    }
}

extern "C" __global__ void unary_f32(int op, const void *x, void *y, i64 n, float p1, float p2) {
    GRID_LOOP(i, n) {
        if (op == NOT) ((u8 *)y)[i] = !((const u8 *)x)[i];
        else ((float *)y)[i] = unary_value(op, ((const float *)x)[i], p1, p2);
    }
}

// In place: the activation of a fused inference convolution (0 none, 1 leaky ReLU, 2 mish).
extern "C" __global__ void activation_f32(float *y, i64 n, int activation, float alpha) {
    GRID_LOOP(i, n) {
        float x = y[i];
        y[i] = activation == 1 ? (x > 0 ? x : x * alpha) : activation == 2 ? x * tanhf(softplus_of(x)) : x;
    }
}

extern "C" __global__ void unary_grad_f32(int op, const float *X, const float *Y, const float *G, float *O, i64 n, float p1, float p2) {
    GRID_LOOP(i, n) {
        float x = X[i], y = Y[i], g = G[i], r;
        switch (op) {
        case NEG: r = -g; break;
        case EXP: r = g * y; break;
        case LOG: r = g / x; break;
        case SQRT: r = g * 0.5f / y; break;
        case ABS: r = x > 0 ? g : (x < 0 ? -g : 0.0f); break;
        case SIGMOID: r = g * y * (1.0f - y); break;
        case TANH: r = g * (1.0f - y * y); break;
        case SOFTPLUS: r = x > 20.0f ? g : g * sigmoid_of(x); break;
        case RELU: r = x > 0 ? g : 0.0f; break;
        case LEAKY_RELU: r = x > 0 ? g : g * p1; break;
        case MISH: {
            float t = tanhf(softplus_of(x)), ds = x > 20.0f ? 1.0f : sigmoid_of(x);
            r = g * (t + x * (1.0f - t * t) * ds);
            break;
        }
        case CLAMP: r = (x >= p1 && x <= p2) ? g : 0.0f; break;
        case ATAN: r = g / (1.0f + x * x); break;
        case RECIPROCAL: r = -g * y * y; break;
        case SQUARE: r = 2.0f * x * g; break;
        case SIN: r = g * cosf(x); break;
        case COS: r = -g * sinf(x); break;
        default: r = 0.0f;
        }
        O[i] = r;
    }
}

extern "C" __global__ void where_any(const u8 *cond, Layout lc, int dt, const void *a, Layout la, const void *b, Layout lb,
                                     void *out, Layout lo, i64 n) {
    GRID_LOOP(i, n) {
        bool pick = cond[offset_of(lc, i)] != 0;
        const void *src = pick ? a : b;
        i64 s = pick ? offset_of(la, i) : offset_of(lb, i), d = offset_of(lo, i);
        switch (dtype_size(dt)) {
        case 8: ((i64 *)out)[d] = ((const i64 *)src)[s]; break;
        case 4: ((int *)out)[d] = ((const int *)src)[s]; break;
        case 2: ((unsigned short *)out)[d] = ((const unsigned short *)src)[s]; break;
        default: ((u8 *)out)[d] = ((const u8 *)src)[s];
        }
    }
}

// One block per (outer, inner) output: its threads stride over n, then a tree in shared memory.
// Max/min keep the first position of the extreme, as the CPU's sequential loop does.
enum { SUM, MAX, MIN, PROD };
extern "C" __global__ void reduce_any(int op, int dt, const void *x, i64 outer, i64 n, i64 inner, void *values, i64 *indices) {
    __shared__ double acc[256];
    __shared__ i64 pos[256];
    for (i64 o = blockIdx.x; o < outer * inner; o += gridDim.x) {
        i64 base = (o / inner) * n * inner + o % inner;
        double a = op == SUM ? 0.0 : op == PROD ? 1.0 : 0.0;
        i64 p = -1;
        for (i64 j = threadIdx.x; j < n; j += blockDim.x) {
            double v = load_as_double(x, dt, base + j * inner);
            if (op == SUM) a += v;
            else if (op == PROD) a *= v;
            else if (p < 0 || (op == MAX ? (v > a || v != v) && a == a : (v < a || v != v) && a == a)) { a = v; p = j; }
        }
        acc[threadIdx.x] = a;
        pos[threadIdx.x] = p;
        __syncthreads();
        for (int s = blockDim.x / 2; s > 0; s >>= 1) {
            if (threadIdx.x < s) {
                double b = acc[threadIdx.x + s];
                i64 q = pos[threadIdx.x + s];
                if (op == SUM) acc[threadIdx.x] += b;
                else if (op == PROD) acc[threadIdx.x] *= b;
                else if (q >= 0) {
                    double cur = acc[threadIdx.x];
                    i64 cp = pos[threadIdx.x];
                    bool better = cp < 0 || (cur == cur && (b != b || (op == MAX ? b > cur : b < cur))) ||
                                  (b == cur && q < cp) || (b != b && cur != cur && q < cp);
                    if (better) { acc[threadIdx.x] = b; pos[threadIdx.x] = q; }
                }
            }
            __syncthreads();
        }
        if (threadIdx.x == 0) {
            if (values) {
                if (dt == I64 && (op == MAX || op == MIN) && pos[0] >= 0) ((i64 *)values)[o] = ((const i64 *)x)[base + pos[0] * inner];
                else store_double(values, dt, o, acc[0]);
            }
            if (indices) indices[o] = pos[0] < 0 ? 0 : pos[0];
        }
        __syncthreads();
    }
}

__device__ __forceinline__ void move_element(int dt, const void *src, i64 s, void *dst, i64 d) {
    switch (dtype_size(dt)) {
    case 8: ((i64 *)dst)[d] = ((const i64 *)src)[s]; break;
    case 4: ((int *)dst)[d] = ((const int *)src)[s]; break;
    case 2: ((unsigned short *)dst)[d] = ((const unsigned short *)src)[s]; break;
    default: ((u8 *)dst)[d] = ((const u8 *)src)[s];
    }
}

__device__ __forceinline__ void add_element(int dt, const void *src, i64 s, void *dst, i64 d) {
    switch (dt) {
    case F32: atomicAdd((float *)dst + d, ((const float *)src)[s]); break;
    case I32: atomicAdd((int *)dst + d, ((const int *)src)[s]); break;
    case I64: atomicAdd((unsigned long long *)dst + d, (unsigned long long)((const i64 *)src)[s]); break;
    default: break;   // other dtypes are refused on the host side
    }
}

// out[o, j, i] = x[o, index[o, j, i], i]
extern "C" __global__ void gather_any(int dt, const void *x, i64 outer, i64 n, i64 inner, const i64 *index, i64 k, void *out) {
    GRID_LOOP(t, outer * k * inner) {
        i64 i = t % inner, o = t / (k * inner);
        move_element(dt, x, (o * n + index[t]) * inner + i, out, t);
    }
}

// out[o, index[o, j, i], i] = (or +=) src[o, j, i]
extern "C" __global__ void scatter_any(int dt, const void *src, i64 outer, i64 k, i64 inner, const i64 *index, void *out, i64 n, int accumulate) {
    GRID_LOOP(t, outer * k * inner) {
        i64 i = t % inner, o = t / (k * inner);
        i64 d = (o * n + index[t]) * inner + i;
        if (accumulate) add_element(dt, src, t, out, d); else move_element(dt, src, t, out, d);
    }
}

// out[o, j, i] = x[o, index[j], i]
extern "C" __global__ void index_select_any(int dt, const void *x, i64 outer, i64 n, i64 inner, const i64 *index, i64 k, void *out) {
    GRID_LOOP(t, outer * k * inner) {
        i64 i = t % inner, j = (t / inner) % k, o = t / (k * inner);
        move_element(dt, x, (o * n + index[j]) * inner + i, out, t);
    }
}

// out[o, index[j], i] += src[o, j, i]
extern "C" __global__ void index_add_any(int dt, const void *src, i64 outer, i64 k, i64 inner, const i64 *index, void *out, i64 n) {
    GRID_LOOP(t, outer * k * inner) {
        i64 i = t % inner, j = (t / inner) % k, o = t / (k * inner);
        add_element(dt, src, t, out, (o * n + index[j]) * inner + i);
    }
}

extern "C" __global__ void upsample_forward(i64 nc, i64 h, i64 w, i64 f, const float *x, float *y) {
    i64 ow = w * f, oh = h * f;
    GRID_LOOP(t, nc * oh * ow) {
        i64 xo = t % ow, yo = (t / ow) % oh, c = t / (ow * oh);
        y[t] = x[(c * h + yo / f) * w + xo / f];
    }
}

// Each input cell sums its f x f outputs: no two threads write one place.
extern "C" __global__ void upsample_backward(i64 nc, i64 h, i64 w, i64 f, const float *dy, float *dx) {
    i64 ow = w * f;
    GRID_LOOP(t, nc * h * w) {
        i64 xi = t % w, yi = (t / w) % h, c = t / (w * h);
        float s = 0;
        for (i64 a = 0; a < f; a++)
            for (i64 b = 0; b < f; b++) s += dy[(c * h * f + yi * f + a) * ow + xi * f + b];
        dx[t] = s;
    }
}

// Padding is left out; the first maximum in row-major window order wins and NaN never does, as on the CPU.
// argmax (int32, may be null) holds the input position within the (n, c) plane.
extern "C" __global__ void maxpool_forward(i64 nc, i64 h, i64 w, i64 kh, i64 kw, i64 sh, i64 sw, i64 ph, i64 pw, i64 oh, i64 ow,
                                           const float *x, float *y, int *argmax) {
    GRID_LOOP(t, nc * oh * ow) {
        i64 xo = t % ow, yo = (t / ow) % oh, c = t / (ow * oh);
        const float *plane = x + c * h * w;
        float best = __int_as_float(0xff800000);
        int where = -1;
        for (i64 a = 0; a < kh; a++) {
            i64 yi = yo * sh - ph + a;
            if (yi < 0 || yi >= h) continue;
            for (i64 b = 0; b < kw; b++) {
                i64 xi = xo * sw - pw + b;
                if (xi < 0 || xi >= w) continue;
                float v = plane[yi * w + xi];
                if (where < 0 || v > best) { best = v; where = (int)(yi * w + xi); }
            }
        }
        y[t] = best;
        if (argmax) argmax[t] = where;
    }
}

extern "C" __global__ void maxpool_backward(i64 nc, i64 h, i64 w, i64 oh, i64 ow, const float *dy, const int *argmax, float *dx) {
    GRID_LOOP(t, nc * oh * ow) {
        i64 c = t / (ow * oh);
        if (argmax[t] >= 0) atomicAdd(dx + c * h * w + argmax[t], dy[t]);
    }
}

// PyTorch's SGD and Adam/AdamW, as ck_sgd_step and ck_adam_step.
extern "C" __global__ void sgd_step(float *p, const float *g, float *buf, i64 n, float lr, float momentum, float wd, int nesterov, int first) {
    GRID_LOOP(i, n) {
        float d = g[i] + wd * p[i];
        float b = first ? d : momentum * buf[i] + d;
        buf[i] = b;
        p[i] -= lr * (nesterov ? d + momentum * b : b);
    }
}

extern "C" __global__ void adam_step(float *p, const float *g, float *m, float *v, i64 n, float lr, float beta1, float beta2,
                                     float eps, float wd, int decoupled, float bias1, float bias2_sqrt) {
    GRID_LOOP(i, n) {
        float grad = g[i];
        if (decoupled) p[i] *= 1.0f - lr * wd; else grad += wd * p[i];
        float mi = beta1 * m[i] + (1.0f - beta1) * grad;
        float vi = beta2 * v[i] + (1.0f - beta2) * grad * grad;
        m[i] = mi;
        v[i] = vi;
        p[i] -= lr / bias1 * mi / (sqrtf(vi) / bias2_sqrt + eps);
    }
}
"""#
}
