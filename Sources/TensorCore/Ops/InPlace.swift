/// In-place updates for optimizers, running statistics and buffers. They refuse tensors that
/// autograd is tracking unless run under `withNoGrad`.
extension Tensor {
    /// Copies source (broadcast to this shape, converted to this dtype) into this view.
    @discardableResult
    public func copy_(from source: Tensor) throws -> Tensor {
        try requireWritable("copy_")
        try Tensor.sameDevice("copy_", [self, source])
        try backend.copy(source.broadcastView(to: shape), into: self)
        return self
    }

    @discardableResult
    public func fill_(_ value: Float) throws -> Tensor {
        try requireWritable("fill_")
        try backend.fill(self, with: Double(value))
        return self
    }

    @discardableResult
    public func zero_() throws -> Tensor { try fill_(0) }

    private func inPlace(_ op: BinaryOp, _ other: Tensor, _ name: String) throws -> Tensor {
        try requireWritable(name)
        try Tensor.sameDevice(name, [self, other])
        try Tensor.sameDType(name, self, other)
        try backend.binary(op, self, other.broadcastView(to: shape), into: self)
        return self
    }

    @discardableResult public func add_(_ other: Tensor) throws -> Tensor { try inPlace(.add, other, "add_") }
    @discardableResult public func sub_(_ other: Tensor) throws -> Tensor { try inPlace(.sub, other, "sub_") }
    @discardableResult public func mul_(_ other: Tensor) throws -> Tensor { try inPlace(.mul, other, "mul_") }
    @discardableResult public func div_(_ other: Tensor) throws -> Tensor { try inPlace(.div, other, "div_") }
    @discardableResult public func add_(_ value: Float) throws -> Tensor { try inPlace(.add, scalarLike(value), "add_") }
    @discardableResult public func mul_(_ value: Float) throws -> Tensor { try inPlace(.mul, scalarLike(value), "mul_") }
}
