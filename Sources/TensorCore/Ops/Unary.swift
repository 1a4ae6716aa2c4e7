/// Elementwise functions on float32 tensors, each with its derivative kernel.
extension Tensor {
    func apply(_ op: UnaryOp) throws -> Tensor {
        try requireFloat32(op.name)
        let x = try contiguous()
        let out = try emptyLike()
        try backend.unary(op, x, into: out)
        return Tensor.record(op.name, out, inputs: [self]) { g in
            let dy = try g.contiguous()
            let dx = try dy.emptyLike()
            try dy.backend.unaryGrad(op, x: x, y: out, dy: dy, into: dx)
            return [dx]
        }
    }

    public func exp() throws -> Tensor { try apply(.exp) }
    public func log() throws -> Tensor { try apply(.log) }
    public func sqrt() throws -> Tensor { try apply(.sqrt) }
    public func abs() throws -> Tensor { try apply(.abs) }
    public func sigmoid() throws -> Tensor { try apply(.sigmoid) }
    public func tanh() throws -> Tensor { try apply(.tanh) }
    /// log(1 + exp(x)), linear above 20 as in PyTorch.
    public func softplus() throws -> Tensor { try apply(.softplus) }
    public func relu() throws -> Tensor { try apply(.relu) }
    public func leakyRelu(_ slope: Float = 0.01) throws -> Tensor { try apply(.leakyRelu(slope)) }
    /// x * tanh(softplus(x)), YOLOv4's backbone activation.
    public func mish() throws -> Tensor { try apply(.mish) }
    public func clamp(min low: Float = -.infinity, max high: Float = .infinity) throws -> Tensor {
        guard low <= high else { throw TensorError("clamp: min \(low) is greater than max \(high)") }
        return try apply(.clamp(low, high))
    }
    public func atan() throws -> Tensor { try apply(.atan) }
    public func floor() throws -> Tensor { try apply(.floor) }
    public func ceil() throws -> Tensor { try apply(.ceil) }
    public func round() throws -> Tensor { try apply(.round) }
    public func reciprocal() throws -> Tensor { try apply(.reciprocal) }
    public func sign() throws -> Tensor { try apply(.sign) }
    public func square() throws -> Tensor { try apply(.square) }
    public func sin() throws -> Tensor { try apply(.sin) }
    public func cos() throws -> Tensor { try apply(.cos) }
}
