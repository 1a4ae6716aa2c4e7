import TensorCore

public final class LeakyReLU: Module {
    public let slope: Float
    public init(_ slope: Float = 0.01) { self.slope = slope; super.init() }
    public override func forward(_ x: Tensor) throws -> Tensor { try x.leakyRelu(slope) }
}

public final class Mish: Module {
    public override init() { super.init() }
    public override func forward(_ x: Tensor) throws -> Tensor { try x.mish() }
}

public final class MaxPool2d: Module {
    public let kernel, stride, padding: Int
    public init(kernel: Int, stride: Int? = nil, padding: Int = 0) {
        self.kernel = kernel; self.stride = stride ?? kernel; self.padding = padding
        super.init()
    }
    public override func forward(_ x: Tensor) throws -> Tensor {
        try x.maxPool2d(kernel: (kernel, kernel), stride: (stride, stride), padding: (padding, padding))
    }
}

/// nn.Upsample(scale_factor: factor, mode: "nearest").
public final class Upsample: Module {
    public let factor: Int
    public init(factor: Int = 2) { self.factor = factor; super.init() }
    public override func forward(_ x: Tensor) throws -> Tensor { try x.upsampleNearest(factor: factor) }
}
