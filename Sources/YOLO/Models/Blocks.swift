import NN
import TensorCore

/// Conv (no bias) + BatchNorm + activation, the unit both models are made of. Its children are
/// named "conv" and "bn" as in the reference state dicts.
final class BasicConv: Module {
    enum Activation { case mish, leaky }
    let conv: Conv2d
    let bn: BatchNorm2d
    let activation: Activation

    init(_ inChannels: Int, _ outChannels: Int, kernel: Int, stride: Int = 1, activation: Activation,
         generator: RandomGenerator) throws {
        conv = try Conv2d(inChannels, outChannels, kernel: kernel, stride: stride, bias: false, generator: generator)
        bn = try BatchNorm2d(outChannels, generator: generator)
        self.activation = activation
        super.init()
        register("conv", conv)
        register("bn", bn)
    }

    override func forward(_ x: Tensor) throws -> Tensor {
        if !isTraining && !(GradMode.isEnabled && (x.requiresGrad || conv.weight.requiresGrad || bn.weight.requiresGrad)) {
            return try fusedForward(x)
        }
        if let y = try bn.forward(convolving: x, with: conv, then: fusedActivation) {
            Module.observer?(conv, y)
            return y
        }
        // Under autocast the convolution's 16-bit result goes to the fused batch norm as it is,
        // whose result is then 16-bit too, for the next unit to read as it is.
        let y = try conv.forward(x, lowPrecisionOutput: bn.readsLowPrecisionInput)
        Module.observer?(conv, y)
        return try bn.forward(y, then: fusedActivation)
    }

    private var fusedActivation: FusedActivation { activation == .mish ? .mish : .leakyRelu(0.1) }

    /// Evaluation: BatchNorm folded into the convolution (w * s, beta - mean * s with
    /// s = gamma / sqrt(var + eps)) and the activation fused, one pass instead of three.
    func fusedForward(_ x: Tensor) throws -> Tensor {
        try withNoGrad {
            let scale = try bn.weight.value / (bn.runningVar.value + bn.epsilon).sqrt()
            let weight = try conv.weight.value * scale.reshape([-1, 1, 1, 1])
            let bias = try bn.bias.value - bn.runningMean.value * scale
            let y = try x.conv2dFused(weight: weight, bias: bias, stride: (conv.stride, conv.stride),
                                      padding: (conv.padding, conv.padding),
                                      activation: fusedActivation)
            Module.observer?(conv, y)   // summary still sees the layer
            return y
        }
    }
}

/// Building blocks of the PANet / FPN necks (LeakyReLU 0.1 units).
enum Neck {
    static func conv(_ i: Int, _ o: Int, _ k: Int, stride: Int = 1, _ g: RandomGenerator) throws -> BasicConv {
        try BasicConv(i, o, kernel: k, stride: stride, activation: .leaky, generator: g)
    }

    /// 1x1, 3x3, 1x1 (SPP's neighbours).
    static func three(_ filters: (Int, Int), _ input: Int, _ g: RandomGenerator) throws -> Sequential {
        Sequential([try conv(input, filters.0, 1, g), try conv(filters.0, filters.1, 3, g), try conv(filters.1, filters.0, 1, g)])
    }

    /// 1x1, 3x3, 1x1, 3x3, 1x1.
    static func five(_ filters: (Int, Int), _ input: Int, _ g: RandomGenerator) throws -> Sequential {
        Sequential([try conv(input, filters.0, 1, g), try conv(filters.0, filters.1, 3, g), try conv(filters.1, filters.0, 1, g),
                    try conv(filters.0, filters.1, 3, g), try conv(filters.1, filters.0, 1, g)])
    }

    /// 3x3 unit then the biased 1x1 output conv (anchors x (5 + classes) channels).
    static func head(_ hidden: Int, _ outputs: Int, _ input: Int, _ g: RandomGenerator) throws -> Sequential {
        Sequential([try conv(input, hidden, 3, g), try Conv2d(hidden, outputs, kernel: 1, bias: true, generator: g)])
    }
}

/// 1x1 unit then nearest x2 upsampling; the unit is "upsample.0" in the state dict.
final class UpsampleBlock: Module {
    let upsample: Sequential
    init(_ i: Int, _ o: Int, _ g: RandomGenerator) throws {
        upsample = Sequential([try Neck.conv(i, o, 1, g), Upsample(factor: 2)])
        super.init()
        register("upsample", upsample)
    }
    override func forward(_ x: Tensor) throws -> Tensor { try upsample(x) }
}

/// Spatial pyramid pooling: max-pools 13, 9, 5 (stride 1, same size) concatenated as [13, 9, 5, x].
final class SpatialPyramidPooling: Module {
    let pools = [13, 9, 5].map { MaxPool2d(kernel: $0, stride: 1, padding: $0 / 2) }
    override init() { super.init() }
    override func forward(_ x: Tensor) throws -> Tensor {
        try Tensor.concat(pools.map { try $0(x) } + [x], axis: 1)
    }
}
