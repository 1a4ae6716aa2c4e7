import Foundation
import TensorCore

/// nn.Conv2d with square kernels: weight [out, in / groups, k, k], optional bias. Initialised as
/// the reference scripts do: weight ~ N(0, 0.02); a bias, which they leave at PyTorch's default,
/// ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
public final class Conv2d: Module {
    public let inChannels, outChannels, kernel, stride, padding, groups: Int
    public let weight: Parameter
    public let bias: Parameter?

    public init(_ inChannels: Int, _ outChannels: Int, kernel: Int, stride: Int = 1, padding: Int? = nil, groups: Int = 1,
                bias: Bool = false, generator: RandomGenerator) throws {
        self.inChannels = inChannels; self.outChannels = outChannels; self.kernel = kernel; self.stride = stride
        self.padding = padding ?? kernel / 2; self.groups = groups
        weight = Parameter(try Tensor.normal([outChannels, inChannels / groups, kernel, kernel], mean: 0, std: 0.02,
                                             generator: generator))
        if bias {
            let bound = 1 / Float(inChannels / groups * kernel * kernel).squareRoot()
            self.bias = Parameter(try Tensor.uniform([outChannels], low: -bound, high: bound, generator: generator))
        } else {
            self.bias = nil
        }
        super.init()
        register("weight", parameter: weight)
        if let b = self.bias { register("bias", parameter: b) }
    }

    public override func forward(_ x: Tensor) throws -> Tensor {
        try forward(x, lowPrecisionOutput: false)
    }

    /// `lowPrecisionOutput`: see `Tensor.conv2d` (the result may stay in autocast's 16-bit type).
    public func forward(_ x: Tensor, lowPrecisionOutput: Bool) throws -> Tensor {
        try x.conv2d(weight: weight.value, bias: bias?.value, stride: (stride, stride), padding: (padding, padding),
                     groups: groups, lowPrecisionOutput: lowPrecisionOutput)
    }

    /// Multiply-adds x 2 for one image with an output of the given spatial size.
    public func flops(outHeight: Int, outWidth: Int) -> Double {
        2 * Double(outChannels * outHeight * outWidth) * Double(inChannels / groups * kernel * kernel)
    }
}
