import TensorCore

/// A named tensor slot of a module: a trainable parameter or a buffer (running statistics,
/// counters). Layers read `value`; loading weights or moving the model to a device swaps it.
public final class Parameter {
    public var value: Tensor
    public let isBuffer: Bool

    public init(_ value: Tensor, isBuffer: Bool = false) {
        self.value = value
        self.isBuffer = isBuffer
        if !isBuffer { value.requiresGrad = true }
    }

    /// Whether the optimizer updates it (false for buffers and frozen parameters).
    public var requiresGrad: Bool {
        get { !isBuffer && value.requiresGrad }
        set { if !isBuffer { value.requiresGrad = newValue } }
    }
}
