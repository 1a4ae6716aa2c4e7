import CKernels
import Foundation

/// The CPU backend: oneDNN for convolution, batch norm, pooling, resampling and GEMM; C loops
/// (threaded on the same OpenMP pool) for the rest.
final class CPUBackend: Backend {
    let device = Device.cpu
    private let allocator = CachingHostAllocator()

    var peakAllocatedBytes: Int { allocator.peakBytes }
    func resetPeakAllocatedBytes() { allocator.resetPeak() }

    func allocate(byteCount: Int) throws -> UnsafeMutableRawPointer { try allocator.allocate(byteCount) }
    func release(_ pointer: UnsafeMutableRawPointer, byteCount: Int) { allocator.release(pointer, bytes: byteCount) }

    func copyFromHost(_ source: UnsafeRawPointer, to storage: Storage, byteOffset: Int, byteCount: Int) throws {
        (storage.pointer + byteOffset).copyMemory(from: source, byteCount: byteCount)
    }

    func copyToHost(_ storage: Storage, byteOffset: Int, byteCount: Int, into destination: UnsafeMutableRawPointer) throws {
        destination.copyMemory(from: storage.pointer + byteOffset, byteCount: byteCount)
    }

    // MARK: Elementwise

    func copy(_ source: Tensor, into destination: Tensor) throws {
        var ls = try layout(source), ld = try layout(destination)
        try checkKernel(ck_copy(source.rawPointer, source.dtype.kernelType, &ls,
                                destination.rawPointer, destination.dtype.kernelType, &ld), "copy")
    }

    func fill(_ destination: Tensor, with value: Double) throws {
        if destination.isContiguous {
            try checkKernel(ck_fill(destination.rawPointer, destination.dtype.kernelType, Int64(destination.count), value), "fill")
        } else {
            let scalar = try Tensor.full([], value, dtype: destination.dtype)
            try copy(scalar.broadcastView(to: destination.shape), into: destination)
        }
    }

    func binary(_ op: BinaryOp, _ a: Tensor, _ b: Tensor, into out: Tensor) throws {
        var la = try layout(a), lb = try layout(b), lo = try layout(out)
        try checkKernel(ck_binary(op.kernelOp, a.dtype.kernelType, a.rawPointer, &la, b.rawPointer, &lb,
                                  out.rawPointer, &lo), "\(op)")
    }

    func unary(_ op: UnaryOp, _ x: Tensor, into out: Tensor) throws {
        let (kind, p1, p2) = op.kernelOp
        try checkKernel(ck_unary(kind, x.rawPointer, out.rawPointer, Int64(x.count), p1, p2), op.name)
    }

    func unaryGrad(_ op: UnaryOp, x: Tensor, y: Tensor, dy: Tensor, into dx: Tensor) throws {
        let (kind, p1, p2) = op.kernelOp
        try checkKernel(ck_unary_grad(kind, x.floats, y.floats, dy.floats, dx.mutableFloats, Int64(x.count), p1, p2),
                        "\(op.name) backward")
    }

    func select(_ condition: Tensor, _ a: Tensor, _ b: Tensor, into out: Tensor) throws {
        var lc = try layout(condition), la = try layout(a), lb = try layout(b), lo = try layout(out)
        try checkKernel(ck_where(condition.rawPointer, &lc, a.dtype.kernelType, a.rawPointer, &la, b.rawPointer, &lb,
                                 out.rawPointer, &lo), "where")
    }

    // MARK: Reductions and indexing

    func reduce(_ op: ReduceOp, _ x: Tensor, outer: Int, n: Int, inner: Int, values: Tensor?, indices: Tensor?) throws {
        let kind: ck_reduce_op
        switch op {
        case .sum: kind = CK_SUM
        case .max: kind = CK_MAX
        case .min: kind = CK_MIN
        case .prod: kind = CK_PROD
        }
        try checkKernel(ck_reduce(kind, x.dtype.kernelType, x.rawPointer, Int64(outer), Int64(n), Int64(inner),
                                  values?.rawPointer, indices?.rawPointer.assumingMemoryBound(to: Int64.self)), "\(op)")
    }

    func gather(_ x: Tensor, outer: Int, n: Int, inner: Int, index: Tensor, k: Int, into out: Tensor) throws {
        try checkKernel(ck_gather(x.dtype.kernelType, x.rawPointer, Int64(outer), Int64(n), Int64(inner),
                                  index.int64s, Int64(k), out.rawPointer), "gather")
    }

    func scatter(_ source: Tensor, outer: Int, k: Int, inner: Int, index: Tensor, into out: Tensor, n: Int,
                 accumulate: Bool) throws {
        let f = accumulate ? ck_scatter_add : ck_scatter
        try checkKernel(f(source.dtype.kernelType, source.rawPointer, Int64(outer), Int64(k), Int64(inner),
                          index.int64s, out.rawPointer, Int64(n)), accumulate ? "scatter_add" : "scatter")
    }

    func indexSelect(_ x: Tensor, outer: Int, n: Int, inner: Int, index: Tensor, k: Int, into out: Tensor) throws {
        try checkKernel(ck_index_select(x.dtype.kernelType, x.rawPointer, Int64(outer), Int64(n), Int64(inner),
                                        index.int64s, Int64(k), out.rawPointer), "index_select")
    }

    func indexAdd(_ source: Tensor, outer: Int, k: Int, inner: Int, index: Tensor, into out: Tensor, n: Int) throws {
        try checkKernel(ck_index_add(source.dtype.kernelType, source.rawPointer, Int64(outer), Int64(k), Int64(inner),
                                     index.int64s, out.rawPointer, Int64(n)), "index_add")
    }

    func truePositions(_ mask: Tensor) throws -> Tensor {
        let bytes = mask.rawPointer.assumingMemoryBound(to: UInt8.self)
        let found = Int(ck_count_true(bytes, Int64(mask.count)))
        let out = try Tensor.empty([found], dtype: .int64)
        ck_true_positions(bytes, Int64(mask.count), out.rawPointer.assumingMemoryBound(to: Int64.self))
        return out
    }

    // MARK: Linear algebra

    func matmul(_ a: Tensor, _ b: Tensor, into out: Tensor, batch: Int, m: Int, n: Int, k: Int,
                transposeA: Bool, transposeB: Bool, broadcastA: Bool, broadcastB: Bool) throws {
        let lda = transposeA ? m : k, ldb = transposeB ? k : n
        for i in 0..<batch {
            let pa = a.floats + (broadcastA ? 0 : i * m * k)
            let pb = b.floats + (broadcastB ? 0 : i * k * n)
            try checkKernel(ck_sgemm(transposeA ? 1 : 0, transposeB ? 1 : 0, Int64(m), Int64(n), Int64(k), 1,
                                     pa, Int64(lda), pb, Int64(ldb), 0, out.mutableFloats + i * m * n, Int64(n)), "matmul")
        }
    }

    // MARK: Neural-network kernels

    func nativeComputeTypes(_ op: AutocastOp) -> [DType] {
        op == .convolution && ck_conv_bf16_native() != 0 ? [.bfloat16] : []
    }

    /// oneDNN's inference convolutions (brgconv) work on NHWC: channels-last tensors skip two reorders
    /// per layer.
    var prefersChannelsLastInference: Bool { true }

    /// oneDNN's bfloat16 convolutions read a bfloat16 source and write a bfloat16 result as they are.
    func directOperandTypes(_ op: AutocastOp) -> [DType] { nativeComputeTypes(op) }

    /// The kernel's parameters with the buffer types of a bfloat16 source (forward, backward-weights)
    /// and result (forward); those need the native bfloat16 convolution.
    private func kernelParams(_ p: Conv2dParameters, source: Tensor?, result: Tensor? = nil) throws -> ck_conv_params {
        var params = p.kernelParams
        params.src_bf16 = source?.dtype == .bfloat16 ? 1 : 0
        params.dst_bf16 = result?.dtype == .bfloat16 ? 1 : 0
        if (params.src_bf16 != 0 || params.dst_bf16 != 0) && params.precision != 1 {
            throw TensorError("conv2d: bfloat16 tensors need this CPU's bfloat16 convolutions (AVX512_BF16 or AMX), "
                              + "which it does not have; pass float32 tensors")
        }
        return params
    }

    /// A 16-bit type without native kernels here (float16 always: this oneDNN has no CPU float16
    /// convolutions; bfloat16 without AVX512_BF16) is emulated by rounding the convolution's inputs
    /// to it: its numerics at float32 speed (for forced runs and tests).
    private func emulated(_ t: Tensor, _ p: Conv2dParameters) throws -> Tensor {
        p.computeType == .float32 || p.kernelParams.precision == 1 ? t : try t.to(p.computeType).to(.float32)
    }

    func conv2dForward(_ input: Tensor, _ weight: Tensor, _ bias: Tensor?, into out: Tensor, _ p: Conv2dParameters) throws {
        var params = try kernelParams(p, source: input, result: out)
        let (x, w) = (params.src_bf16 != 0 ? input : try emulated(input, p), try emulated(weight, p))
        try checkKernel(ck_conv_forward(&params, x.rawPointer, w.floats, bias?.floats, out.rawPointer), "conv2d")
    }

    func conv2dForwardFused(_ input: Tensor, _ weight: Tensor, _ bias: Tensor?, into out: Tensor, _ p: Conv2dParameters,
                            activation: FusedActivation) throws {
        var params = p.kernelParams
        let (kind, alpha) = activation.kernelCode
        let (x, w) = (try emulated(input, p), try emulated(weight, p))
        params.src_nhwc = x.isOnlyChannelsLast ? 1 : 0   // (an emulated type's rounded copy is NCHW)
        params.dst_nhwc = out.isOnlyChannelsLast ? 1 : 0
        try checkKernel(ck_conv_forward_fused(&params, x.floats, w.floats, bias?.floats, out.mutableFloats, kind, alpha),
                        "conv2d (fused)")
    }

    func conv2dBackwardData(_ gradOut: Tensor, _ weight: Tensor, into gradInput: Tensor, _ p: Conv2dParameters) throws {
        var params = p.kernelParams
        let (g, w) = (try emulated(gradOut, p), try emulated(weight, p))
        try checkKernel(ck_conv_backward_data(&params, g.floats, w.floats, gradInput.mutableFloats), "conv2d backward (data)")
    }

    func conv2dBackwardWeights(_ input: Tensor, _ gradOut: Tensor, into gradWeight: Tensor, gradBias: Tensor?,
                               _ p: Conv2dParameters) throws {
        var params = try kernelParams(p, source: input)
        let (x, g) = (params.src_bf16 != 0 ? input : try emulated(input, p), try emulated(gradOut, p))
        try checkKernel(ck_conv_backward_weights(&params, x.rawPointer, g.floats, gradWeight.mutableFloats, gradBias?.mutableFloats),
                        "conv2d backward (weights)")
    }

    func conv2dBackward(_ gradOut: Tensor, input: Tensor, weight: Tensor, gradInput: Tensor?, gradWeight: Tensor?,
                        gradBias: Tensor?, _ p: Conv2dParameters) throws {
        var params = try kernelParams(p, source: input)
        let g = try emulated(gradOut, p)
        let x = gradWeight == nil || params.src_bf16 != 0 ? input : try emulated(input, p)
        let w = gradInput == nil ? weight : try emulated(weight, p)
        try checkKernel(ck_conv_backward(&params, x.rawPointer, g.floats, w.floats, gradInput?.mutableFloats, gradWeight?.mutableFloats,
                                         gradBias?.mutableFloats), "conv2d backward")
    }

    func batchNormForward(_ x: Tensor, scale: Tensor, shift: Tensor, mean: Tensor, variance: Tensor,
                          training: Bool, epsilon: Float, into out: Tensor) throws {
        let (n, c, h, w) = try nchw(x, "batch_norm")
        try checkKernel(ck_batchnorm_forward(training ? 1 : 0, n, c, h, w, epsilon, x.floats, scale.floats, shift.floats,
                                             out.mutableFloats, mean.mutableFloats, variance.mutableFloats), "batch_norm")
    }

    func batchNormBackward(_ x: Tensor, gradOut: Tensor, mean: Tensor, variance: Tensor, scale: Tensor, shift: Tensor,
                           epsilon: Float, gradInput: Tensor, gradScale: Tensor, gradShift: Tensor) throws {
        let (n, c, h, w) = try nchw(x, "batch_norm backward")
        try checkKernel(ck_batchnorm_backward(n, c, h, w, epsilon, x.floats, gradOut.floats, mean.floats, variance.floats,
                                              scale.floats, shift.floats, gradInput.mutableFloats, gradScale.mutableFloats,
                                              gradShift.mutableFloats), "batch_norm backward")
    }

    func batchNormActivationForward(_ x: Tensor, scale: Tensor, shift: Tensor, mean: Tensor, variance: Tensor,
                                    epsilon: Float, activation: FusedActivation, into out: Tensor) throws {
        let (n, c, h, w) = try nchw(x, "batch_norm + activation")
        let (kind, alpha) = activation.kernelCode
        try checkKernel(ck_batchnorm_act_forward(n, c, h, w, epsilon, kind, alpha, try bfloat16Flag(x), x.rawPointer,
                                                 scale.floats, shift.floats, try bfloat16Flag(out), out.rawPointer,
                                                 mean.mutableFloats, variance.mutableFloats),
                        "batch_norm + activation")
    }

    func batchNormActivationBackward(_ x: Tensor, gradOut: Tensor, mean: Tensor, variance: Tensor, scale: Tensor,
                                     shift: Tensor, epsilon: Float, activation: FusedActivation, gradInput: Tensor?,
                                     gradScale: Tensor?, gradShift: Tensor?) throws {
        let (n, c, h, w) = try nchw(x, "batch_norm + activation backward")
        let (kind, alpha) = activation.kernelCode
        try checkKernel(ck_batchnorm_act_backward(n, c, h, w, epsilon, kind, alpha, try bfloat16Flag(x), x.rawPointer,
                                                  gradOut.floats, mean.floats,
                                                  variance.floats, scale.floats, shift.floats, gradInput?.mutableFloats,
                                                  gradScale?.mutableFloats, gradShift?.mutableFloats),
                        "batch_norm + activation backward")
    }

    // MARK: Conv-BN-activation units in oneDNN's 16-channel blocked layout

    func convolutionUnitKeepsBlockedLayout(_ p: Conv2dParameters) -> Bool {
        guard p.computeType == .float32, CPUConvolutions.blockedUnits else { return false }
        var params = p.kernelParams
        return ck_conv_blocked16(&params) != 0
    }

    func convolutionUnitForward(_ input: Tensor, weight: Tensor, scale: Tensor, shift: Tensor, mean: Tensor,
                                variance: Tensor, epsilon: Float, activation: FusedActivation, blockedInput: Tensor,
                                convResult: Tensor, into out: Tensor, _ p: Conv2dParameters) throws {
        var params = p.kernelParams
        let (kind, alpha) = activation.kernelCode
        try checkKernel(ck_reorder_blocked16(1, params.n, params.c, params.h, params.w, input.floats,
                                             blockedInput.mutableFloats), "conv2d (blocked input)")
        try checkKernel(ck_conv_forward_blocked(&params, Int32(CK_BLOCKED_SRC | CK_BLOCKED_DST),
                                                blockedInput.floats, weight.floats, convResult.mutableFloats),
                        "conv2d (blocked)")
        try checkKernel(ck_batchnorm_act_forward_blocked16(params.n, params.k, params.oh, params.ow, epsilon, kind, alpha,
                                                           convResult.floats, scale.floats, shift.floats,
                                                           out.mutableFloats, mean.mutableFloats,
                                                           variance.mutableFloats),
                        "batch_norm + activation (blocked)")
    }

    func convolutionUnitBackward(_ gradOut: Tensor, blockedInput: Tensor?, convResult: Tensor, weight: Tensor,
                                 scale: Tensor, shift: Tensor, mean: Tensor, variance: Tensor, epsilon: Float,
                                 activation: FusedActivation, gradInput: Tensor?, gradWeight: Tensor?,
                                 gradScale: Tensor?, gradShift: Tensor?, _ p: Conv2dParameters) throws {
        var params = p.kernelParams
        let (kind, alpha) = activation.kernelCode
        let convolves = gradInput != nil || gradWeight != nil
        // The gradient at the convolution's result, blocked as the convolution reads it.
        let gradResult = convolves ? try convResult.emptyLike() : nil
        try checkKernel(ck_batchnorm_act_backward_blocked16(params.n, params.k, params.oh, params.ow, epsilon, kind, alpha,
                                                            convResult.floats, gradOut.floats, mean.floats,
                                                            variance.floats, scale.floats, shift.floats,
                                                            gradResult?.mutableFloats, gradScale?.mutableFloats,
                                                            gradShift?.mutableFloats),
                        "batch_norm + activation backward (blocked)")
        guard let gradResult else { return }
        if gradWeight != nil && blockedInput == nil {
            throw TensorError("conv2d backward (blocked): a weight gradient needs the forward's blocked input")
        }
        try checkKernel(ck_conv_backward_blocked(&params, Int32(CK_BLOCKED_SRC | CK_BLOCKED_DST),
                                                 blockedInput?.floats, gradResult.floats, weight.floats,
                                                 gradInput?.mutableFloats, gradWeight?.mutableFloats),
                        "conv2d backward (blocked)")
    }

    func maxPool2dWorkspaceBytes(_ p: Pool2dParameters) throws -> Int {
        var params = p.kernelParams
        let size = ck_maxpool_workspace_size(&params)
        if size < 0 { throw TensorError("max_pool2d: \(String(cString: ck_last_error()))") }
        return Int(size)
    }

    func maxPool2dForward(_ x: Tensor, into out: Tensor, workspace: Tensor?, _ p: Pool2dParameters) throws {
        var params = p.kernelParams
        if x.isOnlyChannelsLast && workspace == nil {
            return try checkKernel(ck_maxpool_forward_nhwc(&params, x.floats, out.mutableFloats), "max_pool2d")
        }
        try checkKernel(ck_maxpool_forward(&params, try bfloat16Flag(x, "max_pool2d"), x.rawPointer, out.rawPointer,
                                           workspace?.rawPointer), "max_pool2d")
    }

    func maxPool2dBackward(_ gradOut: Tensor, workspace: Tensor, into gradInput: Tensor, _ p: Pool2dParameters) throws {
        var params = p.kernelParams
        try checkKernel(ck_maxpool_backward(&params, gradOut.floats, workspace.rawPointer, gradInput.mutableFloats),
                        "max_pool2d backward")
    }

    func upsampleNearestForward(_ x: Tensor, factor: Int, into out: Tensor) throws {
        let (n, c, h, w) = try nchw(x, "upsample")
        if x.isOnlyChannelsLast {
            return try checkKernel(ck_upsample_nearest_forward_nhwc(n, c, h, w, Int64(factor), x.floats, out.mutableFloats),
                                   "upsample")
        }
        try checkKernel(ck_upsample_nearest_forward(n, c, h, w, Int64(factor), x.floats, out.mutableFloats), "upsample")
    }

    func upsampleNearestBackward(_ gradOut: Tensor, factor: Int, into gradInput: Tensor) throws {
        let (n, c, h, w) = try nchw(gradInput, "upsample backward")
        try checkKernel(ck_upsample_nearest_backward(n, c, h, w, Int64(factor), gradOut.floats, gradInput.mutableFloats),
                        "upsample backward")
    }

    // MARK: Optimizer updates

    func sgdStep(parameter: Tensor, gradient: Tensor, momentumBuffer: Tensor, lr: Float, momentum: Float,
                 weightDecay: Float, nesterov: Bool, firstStep: Bool) throws {
        ck_sgd_step(parameter.mutableFloats, gradient.floats, momentumBuffer.mutableFloats, Int64(parameter.count), lr, momentum,
                    weightDecay, nesterov ? 1 : 0, firstStep ? 1 : 0)
    }

    func adamStep(parameter: Tensor, gradient: Tensor, m: Tensor, v: Tensor, lr: Float, beta1: Float, beta2: Float,
                  epsilon: Float, weightDecay: Float, decoupled: Bool, step: Int) throws {
        ck_adam_step(parameter.mutableFloats, gradient.floats, m.mutableFloats, v.mutableFloats, Int64(parameter.count), lr,
                     beta1, beta2, epsilon, weightDecay, decoupled ? 1 : 0, Int64(step))
    }

    // MARK: Helpers

    private func layout(_ t: Tensor) throws -> ck_layout {
        guard t.rank <= Int(CK_MAX_DIMS) else {
            throw TensorError("tensors of rank \(t.rank) are not supported (at most \(CK_MAX_DIMS) dimensions)")
        }
        var l = ck_layout()
        l.ndim = Int32(t.rank)
        withUnsafeMutableBytes(of: &l.shape) { buf in
            let p = buf.baseAddress!.assumingMemoryBound(to: Int64.self)
            for (i, d) in t.shape.enumerated() { p[i] = Int64(d) }
        }
        withUnsafeMutableBytes(of: &l.strides) { buf in
            let p = buf.baseAddress!.assumingMemoryBound(to: Int64.self)
            for (i, s) in t.strides.enumerated() { p[i] = Int64(s) }
        }
        return l
    }

    /// The C kernels' flag for a source that is bfloat16 (1) or float32 (0).
    private func bfloat16Flag(_ t: Tensor, _ op: String = "batch_norm + activation") throws -> Int32 {
        guard t.dtype == .float32 || t.dtype == .bfloat16 else {
            throw TensorError("\(op): needs float32 or bfloat16 tensors, found \(t.dtype) \(describe(t.shape))")
        }
        return t.dtype == .bfloat16 ? 1 : 0
    }

    private func nchw(_ t: Tensor, _ op: String) throws -> (Int64, Int64, Int64, Int64) {
        guard t.rank == 4 else { throw TensorError("\(op): expected an NCHW tensor, found shape \(describe(t.shape))") }
        return (Int64(t.shape[0]), Int64(t.shape[1]), Int64(t.shape[2]), Int64(t.shape[3]))
    }
}

extension Tensor {
    var floats: UnsafePointer<Float> { UnsafePointer(rawPointer.assumingMemoryBound(to: Float.self)) }
    var mutableFloats: UnsafeMutablePointer<Float> { rawPointer.assumingMemoryBound(to: Float.self) }
    var int64s: UnsafePointer<Int64> { UnsafePointer(rawPointer.assumingMemoryBound(to: Int64.self)) }
}

extension BinaryOp {
    var kernelOp: ck_binary_op {
        switch self {
        case .add: return CK_ADD
        case .sub: return CK_SUB
        case .mul: return CK_MUL
        case .div: return CK_DIV
        case .pow: return CK_POW
        case .maximum: return CK_MAXIMUM
        case .minimum: return CK_MINIMUM
        case .atan2: return CK_ATAN2
        case .equal: return CK_EQ
        case .notEqual: return CK_NE
        case .less: return CK_LT
        case .lessEqual: return CK_LE
        case .greater: return CK_GT
        case .greaterEqual: return CK_GE
        case .logicalAnd: return CK_AND
        case .logicalOr: return CK_OR
        case .logicalXor: return CK_XOR
        }
    }
}

extension UnaryOp {
    var kernelOp: (ck_unary_op, Float, Float) {
        switch self {
        case .neg: return (CK_NEG, 0, 0)
        case .exp: return (CK_EXP, 0, 0)
        case .log: return (CK_LOG, 0, 0)
        case .sqrt: return (CK_SQRT, 0, 0)
        case .abs: return (CK_ABS, 0, 0)
        case .sigmoid: return (CK_SIGMOID, 0, 0)
        case .tanh: return (CK_TANH, 0, 0)
        case .softplus: return (CK_SOFTPLUS, 0, 0)
        case .relu: return (CK_RELU, 0, 0)
        case .leakyRelu(let slope): return (CK_LEAKY_RELU, slope, 0)
        case .mish: return (CK_MISH, 0, 0)
        case .clamp(let low, let high): return (CK_CLAMP, low, high)
        case .atan: return (CK_ATAN, 0, 0)
        case .floor: return (CK_FLOOR, 0, 0)
        case .ceil: return (CK_CEIL, 0, 0)
        case .round: return (CK_ROUND, 0, 0)
        case .reciprocal: return (CK_RECIPROCAL, 0, 0)
        case .sign: return (CK_SIGN, 0, 0)
        case .square: return (CK_SQUARE, 0, 0)
        case .sin: return (CK_SIN, 0, 0)
        case .cos: return (CK_COS, 0, 0)
        case .logicalNot: return (CK_NOT, 0, 0)
        }
    }
}

extension Conv2dParameters {
    var kernelParams: ck_conv_params {
        ck_conv_params(n: Int64(batch), c: Int64(inChannels), h: Int64(height), w: Int64(width), k: Int64(outChannels),
                       kh: Int64(kernelHeight), kw: Int64(kernelWidth), stride_h: Int64(strideH), stride_w: Int64(strideW),
                       pad_h: Int64(padH), pad_w: Int64(padW), dilation_h: Int64(dilationH), dilation_w: Int64(dilationW),
                       groups: Int64(groups), oh: Int64(outHeight), ow: Int64(outWidth),
                       precision: computeType == .bfloat16 && ck_conv_bf16_native() != 0 ? 1 : 0, src_bf16: 0, dst_bf16: 0,
                       src_nhwc: 0, dst_nhwc: 0)
    }
}

extension Pool2dParameters {
    var kernelParams: ck_pool_params {
        ck_pool_params(n: Int64(batch), c: Int64(channels), h: Int64(height), w: Int64(width), kh: Int64(kernelH),
                       kw: Int64(kernelW), stride_h: Int64(strideH), stride_w: Int64(strideW), pad_h: Int64(padH),
                       pad_w: Int64(padW), oh: Int64(outHeight), ow: Int64(outWidth))
    }
}

extension FusedActivation {
    /// The C kernels' activation code and parameter (ckernels.h).
    var kernelCode: (Int32, Float) {
        switch self {
        case .none: return (0, 0)
        case .leakyRelu(let slope): return (1, slope)
        case .mish: return (2, 0)
        }
    }
}
