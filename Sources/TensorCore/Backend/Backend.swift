/// A device's kernel table. The tensor operations (shape logic, broadcasting, autograd) live
/// above it and are shared; a backend only computes. Output tensors are allocated by the caller
/// on the backend's device; input views may be strided unless a method says "contiguous".
public protocol Backend: AnyObject {
    var device: Device { get }

    // Memory
    func allocate(byteCount: Int) throws -> UnsafeMutableRawPointer
    func release(_ pointer: UnsafeMutableRawPointer, byteCount: Int)
    func copyFromHost(_ source: UnsafeRawPointer, to storage: Storage, byteOffset: Int, byteCount: Int) throws
    func copyToHost(_ storage: Storage, byteOffset: Int, byteCount: Int, into destination: UnsafeMutableRawPointer) throws
    /// Peak bytes held by live tensors since start or since the last reset (for reports).
    var peakAllocatedBytes: Int { get }
    /// Starts a new peak from the bytes held now (the training log reports the peak per interval).
    func resetPeakAllocatedBytes()

    // Elementwise (inputs already broadcast to the output's shape)
    func copy(_ source: Tensor, into destination: Tensor) throws
    func fill(_ destination: Tensor, with value: Double) throws
    func binary(_ op: BinaryOp, _ a: Tensor, _ b: Tensor, into out: Tensor) throws
    /// Contiguous float32 (bool for `.logicalNot`).
    func unary(_ op: UnaryOp, _ x: Tensor, into out: Tensor) throws
    /// dx = dy * f'(x); x, y (the forward output), dy and dx contiguous float32.
    func unaryGrad(_ op: UnaryOp, x: Tensor, y: Tensor, dy: Tensor, into dx: Tensor) throws
    func select(_ condition: Tensor, _ a: Tensor, _ b: Tensor, into out: Tensor) throws

    // Reductions over the middle axis of a contiguous [outer, n, inner] tensor
    func reduce(_ op: ReduceOp, _ x: Tensor, outer: Int, n: Int, inner: Int,
                values: Tensor?, indices: Tensor?) throws

    // Indexing over contiguous [outer, n, inner] views; indices are contiguous int64
    func gather(_ x: Tensor, outer: Int, n: Int, inner: Int, index: Tensor, k: Int, into out: Tensor) throws
    func scatter(_ source: Tensor, outer: Int, k: Int, inner: Int, index: Tensor, into out: Tensor, n: Int,
                 accumulate: Bool) throws
    func indexSelect(_ x: Tensor, outer: Int, n: Int, inner: Int, index: Tensor, k: Int, into out: Tensor) throws
    func indexAdd(_ source: Tensor, outer: Int, k: Int, inner: Int, index: Tensor, into out: Tensor, n: Int) throws
    /// Flat positions of the true elements of a contiguous bool tensor.
    func truePositions(_ mask: Tensor) throws -> Tensor

    // Linear algebra: out[b] = op(a[b]) x op(b[b]) for contiguous row-major batches
    func matmul(_ a: Tensor, _ b: Tensor, into out: Tensor, batch: Int, m: Int, n: Int, k: Int,
                transposeA: Bool, transposeB: Bool, broadcastA: Bool, broadcastB: Bool) throws

    // Neural-network kernels on contiguous NCHW float32
    /// The 16-bit types this backend computes `op` in with its own instructions (mixed precision
    /// picks from these; others would be emulated).
    func nativeComputeTypes(_ op: AutocastOp) -> [DType]
    /// The 16-bit types whose tensors `op` reads as its input and writes as its output directly
    /// (a subset of the native ones): under autocast the operation is then given and gives back
    /// 16-bit tensors instead of rounding float32 ones inside the kernel, and so do the operations
    /// between convolutions on such a backend (fused batch norm + activation, max pooling, sums).
    func directOperandTypes(_ op: AutocastOp) -> [DType]
    /// Whether inference convolutions (`conv2dForwardFused`), max pooling and upsampling without
    /// gradients take and give channels-last tensors here (see `ChannelsLastInference`).
    var prefersChannelsLastInference: Bool { get }
    func conv2dForward(_ input: Tensor, _ weight: Tensor, _ bias: Tensor?, into out: Tensor, _ p: Conv2dParameters) throws
    /// Inference only: convolution, bias and activation in one pass.
    func conv2dForwardFused(_ input: Tensor, _ weight: Tensor, _ bias: Tensor?, into out: Tensor, _ p: Conv2dParameters,
                            activation: FusedActivation) throws
    func conv2dBackwardData(_ gradOut: Tensor, _ weight: Tensor, into gradInput: Tensor, _ p: Conv2dParameters) throws
    func conv2dBackwardWeights(_ input: Tensor, _ gradOut: Tensor, into gradWeight: Tensor, gradBias: Tensor?,
                               _ p: Conv2dParameters) throws
    /// Both backward passes of a convolution (either gradient may be skipped with nil); a backend
    /// can share work between them (the CPU reorders the incoming gradient once).
    func conv2dBackward(_ gradOut: Tensor, input: Tensor, weight: Tensor, gradInput: Tensor?, gradWeight: Tensor?,
                        gradBias: Tensor?, _ p: Conv2dParameters) throws
    func batchNormForward(_ x: Tensor, scale: Tensor, shift: Tensor, mean: Tensor, variance: Tensor,
                          training: Bool, epsilon: Float, into out: Tensor) throws
    func batchNormBackward(_ x: Tensor, gradOut: Tensor, mean: Tensor, variance: Tensor, scale: Tensor, shift: Tensor,
                           epsilon: Float, gradInput: Tensor, gradScale: Tensor, gradShift: Tensor) throws
    /// Training batch norm (batch statistics into `mean` and the biased `variance`) with the
    /// activation that follows it applied in the same pass.
    func batchNormActivationForward(_ x: Tensor, scale: Tensor, shift: Tensor, mean: Tensor, variance: Tensor,
                                    epsilon: Float, activation: FusedActivation, into out: Tensor) throws
    /// Its backward from the block's input and the saved statistics (the normalised tensor is
    /// recomputed, not kept); any gradient may be skipped with nil.
    func batchNormActivationBackward(_ x: Tensor, gradOut: Tensor, mean: Tensor, variance: Tensor, scale: Tensor,
                                     shift: Tensor, epsilon: Float, activation: FusedActivation, gradInput: Tensor?,
                                     gradScale: Tensor?, gradShift: Tensor?) throws
    /// Whether a training conv-BN-activation unit with this float32 convolution keeps the
    /// convolution's result, its gradient and a copy of its input in the backend's blocked layout
    /// (`Tensor.convBatchNormActivation`); the two methods below then run the unit.
    func convolutionUnitKeepsBlockedLayout(_ p: Conv2dParameters) -> Bool
    /// The unit's forward: `blockedInput` receives the input in the blocked layout and
    /// `convResult` the convolution's result in it (both kept for the backward); `out` is the
    /// activation's NCHW result and `mean` / `variance` the batch statistics.
    func convolutionUnitForward(_ input: Tensor, weight: Tensor, scale: Tensor, shift: Tensor, mean: Tensor,
                                variance: Tensor, epsilon: Float, activation: FusedActivation, blockedInput: Tensor,
                                convResult: Tensor, into out: Tensor, _ p: Conv2dParameters) throws
    /// Its backward from the forward's blocked tensors (`blockedInput` may be nil without a weight
    /// gradient); any gradient may be skipped with nil.
    func convolutionUnitBackward(_ gradOut: Tensor, blockedInput: Tensor?, convResult: Tensor, weight: Tensor,
                                 scale: Tensor, shift: Tensor, mean: Tensor, variance: Tensor, epsilon: Float,
                                 activation: FusedActivation, gradInput: Tensor?, gradWeight: Tensor?,
                                 gradScale: Tensor?, gradShift: Tensor?, _ p: Conv2dParameters) throws
    /// Opaque bytes the max-pool backward needs (uint8 tensor), or nil in inference.
    func maxPool2dWorkspaceBytes(_ p: Pool2dParameters) throws -> Int
    func maxPool2dForward(_ x: Tensor, into out: Tensor, workspace: Tensor?, _ p: Pool2dParameters) throws
    func maxPool2dBackward(_ gradOut: Tensor, workspace: Tensor, into gradInput: Tensor, _ p: Pool2dParameters) throws
    func upsampleNearestForward(_ x: Tensor, factor: Int, into out: Tensor) throws
    func upsampleNearestBackward(_ gradOut: Tensor, factor: Int, into gradInput: Tensor) throws

    // Optimizer updates in place on contiguous float32 tensors of one shape
    func sgdStep(parameter: Tensor, gradient: Tensor, momentumBuffer: Tensor, lr: Float, momentum: Float,
                 weightDecay: Float, nesterov: Bool, firstStep: Bool) throws
    func adamStep(parameter: Tensor, gradient: Tensor, m: Tensor, v: Tensor, lr: Float, beta1: Float, beta2: Float,
                  epsilon: Float, weightDecay: Float, decoupled: Bool, step: Int) throws
}

public enum BinaryOp: Sendable {
    case add, sub, mul, div, pow, maximum, minimum, atan2
    case equal, notEqual, less, lessEqual, greater, greaterEqual
    case logicalAnd, logicalOr, logicalXor

    var isComparison: Bool {
        switch self {
        case .equal, .notEqual, .less, .lessEqual, .greater, .greaterEqual: return true
        default: return false
        }
    }
    var isLogical: Bool { self == .logicalAnd || self == .logicalOr || self == .logicalXor }
}

public enum UnaryOp: Sendable, Equatable {
    case neg, exp, log, sqrt, abs, sigmoid, tanh, softplus, relu
    case leakyRelu(Float)
    case mish
    case clamp(Float, Float)
    case atan, floor, ceil, round, reciprocal, sign, square, sin, cos, logicalNot

    var name: String {
        switch self {
        case .leakyRelu: return "leaky_relu"
        case .clamp: return "clamp"
        case .logicalNot: return "logical_not"
        default: return String(describing: self)
        }
    }
}

/// Activations a backend can fuse into an inference convolution.
public enum FusedActivation: Sendable, Equatable {
    case none
    case leakyRelu(Float)
    case mish
}

public enum ReduceOp: Sendable { case sum, max, min, prod }

/// The operations autocast runs in a 16-bit type (PyTorch's lower-precision list for these models).
public enum AutocastOp: Sendable { case convolution, matmul }

/// Geometry of a 2-D convolution, PyTorch's conventions (symmetric padding, floor output size).
public struct Conv2dParameters: Hashable, Sendable {
    public var batch, inChannels, height, width: Int
    public var outChannels, kernelHeight, kernelWidth: Int
    public var strideH, strideW, padH, padW, dilationH, dilationW, groups: Int
    /// The type the products are computed in (bfloat16 or float16 under autocast; float32
    /// accumulation and float32 tensors either way).
    public var computeType: DType = .float32

    public var outHeight: Int { (height + 2 * padH - dilationH * (kernelHeight - 1) - 1) / strideH + 1 }
    public var outWidth: Int { (width + 2 * padW - dilationW * (kernelWidth - 1) - 1) / strideW + 1 }
    /// Multiply-adds x 2 of the forward pass.
    public var flops: Double {
        2.0 * Double(batch * outChannels * outHeight * outWidth) * Double(inChannels / groups * kernelHeight * kernelWidth)
    }

    public init(batch: Int, inChannels: Int, height: Int, width: Int, outChannels: Int, kernelHeight: Int,
                kernelWidth: Int, strideH: Int = 1, strideW: Int = 1, padH: Int = 0, padW: Int = 0,
                dilationH: Int = 1, dilationW: Int = 1, groups: Int = 1) {
        self.batch = batch; self.inChannels = inChannels; self.height = height; self.width = width
        self.outChannels = outChannels; self.kernelHeight = kernelHeight; self.kernelWidth = kernelWidth
        self.strideH = strideH; self.strideW = strideW; self.padH = padH; self.padW = padW
        self.dilationH = dilationH; self.dilationW = dilationW; self.groups = groups
    }
}

public struct Pool2dParameters: Hashable, Sendable {
    public var batch, channels, height, width: Int
    public var kernelH, kernelW, strideH, strideW, padH, padW: Int
    public var outHeight: Int { (height + 2 * padH - kernelH) / strideH + 1 }
    public var outWidth: Int { (width + 2 * padW - kernelW) / strideW + 1 }
}

extension FusedActivation {
    /// The same function as an elementwise op (nil for none).
    public var unaryOp: UnaryOp? {
        switch self {
        case .none: return nil
        case .leakyRelu(let slope): return .leakyRelu(slope)
        case .mish: return .mish
        }
    }
}

extension Backend {
    public func directOperandTypes(_ op: AutocastOp) -> [DType] { [] }
    public func convolutionUnitKeepsBlockedLayout(_ p: Conv2dParameters) -> Bool { false }
    public func convolutionUnitForward(_ input: Tensor, weight: Tensor, scale: Tensor, shift: Tensor, mean: Tensor,
                                       variance: Tensor, epsilon: Float, activation: FusedActivation,
                                       blockedInput: Tensor, convResult: Tensor, into out: Tensor,
                                       _ p: Conv2dParameters) throws {
        throw TensorError("conv + batch norm + activation: \(device) has no blocked-layout units")
    }
    public func convolutionUnitBackward(_ gradOut: Tensor, blockedInput: Tensor?, convResult: Tensor, weight: Tensor,
                                        scale: Tensor, shift: Tensor, mean: Tensor, variance: Tensor, epsilon: Float,
                                        activation: FusedActivation, gradInput: Tensor?, gradWeight: Tensor?,
                                        gradScale: Tensor?, gradShift: Tensor?, _ p: Conv2dParameters) throws {
        throw TensorError("conv + batch norm + activation: \(device) has no blocked-layout units")
    }
    public var prefersChannelsLastInference: Bool { false }

    /// Batch norm + activation composed from the separate kernels, for backends without a fused one
    /// (a 16-bit input is widened first).
    public func batchNormActivationForward(_ x: Tensor, scale: Tensor, shift: Tensor, mean: Tensor, variance: Tensor,
                                           epsilon: Float, activation: FusedActivation, into out: Tensor) throws {
        let x = try x.dtype == .float32 ? x : withNoGrad { try x.to(.float32) }
        // A 16-bit result is computed in float32 and rounded once at the end.
        let result = out.dtype == .float32 ? out : try x.emptyLike()
        if let op = activation.unaryOp {
            let normalised = try x.emptyLike()
            try batchNormForward(x, scale: scale, shift: shift, mean: mean, variance: variance, training: true,
                                 epsilon: epsilon, into: normalised)
            try unary(op, normalised, into: result)
        } else {
            try batchNormForward(x, scale: scale, shift: shift, mean: mean, variance: variance, training: true,
                                 epsilon: epsilon, into: result)
        }
        if result !== out { try copy(result, into: out) }
    }

    public func batchNormActivationBackward(_ x: Tensor, gradOut: Tensor, mean: Tensor, variance: Tensor, scale: Tensor,
                                            shift: Tensor, epsilon: Float, activation: FusedActivation,
                                            gradInput: Tensor?, gradScale: Tensor?, gradShift: Tensor?) throws {
        let x = try x.dtype == .float32 ? x : withNoGrad { try x.to(.float32) }
        var gradNormalised = gradOut
        if let op = activation.unaryOp {
            // The normalised tensor again: the batch statistics as fixed ones.
            let normalised = try x.emptyLike()
            try batchNormForward(x, scale: scale, shift: shift, mean: mean, variance: variance, training: false,
                                 epsilon: epsilon, into: normalised)
            gradNormalised = try x.emptyLike()
            try unaryGrad(op, x: normalised, y: normalised, dy: gradOut, into: gradNormalised)
        }
        try batchNormBackward(x, gradOut: gradNormalised, mean: mean, variance: variance, scale: scale, shift: shift,
                              epsilon: epsilon, gradInput: gradInput ?? x.emptyLike(),
                              gradScale: gradScale ?? scale.emptyLike(), gradShift: gradShift ?? shift.emptyLike())
    }

    public func conv2dBackward(_ gradOut: Tensor, input: Tensor, weight: Tensor, gradInput: Tensor?, gradWeight: Tensor?,
                        gradBias: Tensor?, _ p: Conv2dParameters) throws {
        if let gradInput { try conv2dBackwardData(gradOut, weight, into: gradInput, p) }
        if let gradWeight { try conv2dBackwardWeights(input, gradOut, into: gradWeight, gradBias: gradBias, p) }
    }
}
