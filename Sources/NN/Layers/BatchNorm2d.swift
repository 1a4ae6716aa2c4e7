import TensorCore

/// nn.BatchNorm2d: affine weight and bias, running mean and variance, and the
/// num_batches_tracked counter (int64 scalar) PyTorch stores. Momentum 0.1, eps 1e-5.
/// Initialised as the reference scripts do: weight ~ N(1, 0.02), bias 0.
public final class BatchNorm2d: Module {
    public let channels: Int
    public let momentum: Float
    public let epsilon: Float
    public let weight, bias, runningMean, runningVar, batchesTracked: Parameter
    /// Set in data-parallel training with sync_bn: training statistics over every replica's batch.
    public var replicas: ReplicaSum?
    /// This layer's number among the synchronised ones (the same on every replica).
    public var replicaTag = 0

    public init(_ channels: Int, momentum: Float = 0.1, epsilon: Float = 1e-5, generator: RandomGenerator) throws {
        self.channels = channels
        self.momentum = momentum
        self.epsilon = epsilon
        weight = Parameter(try Tensor.normal([channels], mean: 1, std: 0.02, generator: generator))
        bias = Parameter(try Tensor.zeros([channels]))
        runningMean = Parameter(try Tensor.zeros([channels]), isBuffer: true)
        runningVar = Parameter(try Tensor.ones([channels]), isBuffer: true)
        batchesTracked = Parameter(try Tensor.zeros([], dtype: .int64), isBuffer: true)
        super.init()
        register("weight", parameter: weight)
        register("bias", parameter: bias)
        register("running_mean", parameter: runningMean)
        register("running_var", parameter: runningVar)
        register("num_batches_tracked", parameter: batchesTracked)
    }

    public override func forward(_ x: Tensor) throws -> Tensor {
        try forward(x, then: .none)
    }

    /// False runs training as batch norm then the activation op, one after the other: the chain
    /// the fused kernel replaces, kept to compare against (tests, benchmarks).
    nonisolated(unsafe) public static var fusesTrainingActivation = true

    /// Whether `forward(_:then:)` reads a 16-bit input as it is (the fused training path), so that
    /// the convolution before it can hand over its autocast result without widening it.
    public var readsLowPrecisionInput: Bool {
        isTraining && replicas == nil && BatchNorm2d.fusesTrainingActivation
    }

    /// The layer followed by an activation. In training without sync_bn the two run as one fused
    /// operation; otherwise the activation is applied to the layer's output.
    public func forward(_ x: Tensor, then activation: FusedActivation) throws -> Tensor {
        let y: Tensor
        if isTraining, let replicas {
            y = try applying(activation, to: synchronisedForward(x, sum: replicas))
        } else if isTraining && BatchNorm2d.fusesTrainingActivation {
            y = try x.batchNormActivation(weight: weight.value, bias: bias.value, runningMean: runningMean.value,
                                          runningVar: runningVar.value, activation: activation, momentum: momentum,
                                          epsilon: epsilon)
        } else {
            y = try applying(activation, to: x.batchNorm2d(weight: weight.value, bias: bias.value,
                                                           runningMean: runningMean.value, runningVar: runningVar.value,
                                                           training: isTraining, momentum: momentum,
                                                           epsilon: epsilon))
        }
        if isTraining { _ = try withNoGrad { try batchesTracked.value.add_(batchesTracked.value.scalarLike(1)) } }
        return y
    }

    /// Training: `conv` (no bias, one group) on x, then this layer and the activation, as one
    /// operation where the fused path applies (`Tensor.convBatchNormActivation`: the convolution's
    /// activations stay in the CPU's blocked layout); nil where it does not (evaluation, sync_bn,
    /// autocast, a convolution with bias or groups): the caller then runs the layers one by one.
    public func forward(convolving x: Tensor, with conv: Conv2d, then activation: FusedActivation) throws -> Tensor? {
        guard isTraining, replicas == nil, BatchNorm2d.fusesTrainingActivation, Autocast.computeType == nil,
              conv.bias == nil, conv.groups == 1 else { return nil }
        let y = try x.convBatchNormActivation(convWeight: conv.weight.value, stride: (conv.stride, conv.stride),
                                              padding: (conv.padding, conv.padding), bnWeight: weight.value,
                                              bnBias: bias.value, runningMean: runningMean.value,
                                              runningVar: runningVar.value, activation: activation,
                                              momentum: momentum, epsilon: epsilon)
        _ = try withNoGrad { try batchesTracked.value.add_(batchesTracked.value.scalarLike(1)) }
        return y
    }

    private func applying(_ activation: FusedActivation, to y: Tensor) throws -> Tensor {
        switch activation {
        case .none: return y
        case .leakyRelu(let slope): return try y.leakyRelu(slope)
        case .mish: return try y.mish()
        }
    }
}
