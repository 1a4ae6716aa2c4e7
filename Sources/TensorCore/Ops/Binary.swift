/// Elementwise binary operations with NumPy/PyTorch broadcasting. Operands must share the device
/// and the dtype, except that floating-point types of different widths promote to float32;
/// scalars take the tensor's dtype.
extension Tensor {
    static func compute(_ op: BinaryOp, _ a: Tensor, _ b: Tensor, _ name: String) throws -> Tensor {
        try sameDevice(name, [a, b])
        let common = try promotedType(name, a, b)
        let (a, b) = (try a.promoted(to: common), try b.promoted(to: common))
        let shape = try Shape.broadcast(a.shape, b.shape, name)
        let type: DType = op.isComparison ? .bool : a.dtype
        // Two channels-last operands (a residual sum in an inference chain) give a channels-last result.
        let out = try Tensor.empty(shape, dtype: type, device: a.device,
                                   channelsLast: a.shape == b.shape && a.isOnlyChannelsLast && b.isOnlyChannelsLast
                                       && ChannelsLastInference.applies(to: a.backend))
        try a.backend.binary(op, a.broadcastView(to: shape), b.broadcastView(to: shape), into: out)
        return out
    }

    /// A rank-0 tensor of this tensor's dtype and device.
    public func scalarLike(_ value: Float) throws -> Tensor {
        try Tensor.full([], Double(value), dtype: dtype, device: device)
    }

    public static func + (a: Tensor, b: Tensor) throws -> Tensor {
        let out = try compute(.add, a, b, "add")
        // Shapes and flags, not the operands: a sum's backward needs neither, so the graph lets them go.
        let (shapeA, shapeB, gradA, gradB) = (a.shape, b.shape, a.requiresGrad, b.requiresGrad)
        return record("add", out, inputs: [a, b]) { g in
            [gradA ? try g.sumTo(shapeA) : nil, gradB ? try g.sumTo(shapeB) : nil]
        }
    }

    public static func - (a: Tensor, b: Tensor) throws -> Tensor {
        let out = try compute(.sub, a, b, "sub")
        let (shapeA, shapeB, gradA, gradB) = (a.shape, b.shape, a.requiresGrad, b.requiresGrad)
        return record("sub", out, inputs: [a, b]) { g in
            [gradA ? try g.sumTo(shapeA) : nil, gradB ? try (-g).sumTo(shapeB) : nil]
        }
    }

    public static func * (a: Tensor, b: Tensor) throws -> Tensor {
        let out = try compute(.mul, a, b, "mul")
        return record("mul", out, inputs: [a, b]) { g in
            [a.requiresGrad ? try (g * b).sumTo(a.shape) : nil, b.requiresGrad ? try (g * a).sumTo(b.shape) : nil]
        }
    }

    public static func / (a: Tensor, b: Tensor) throws -> Tensor {
        let out = try compute(.div, a, b, "div")
        return record("div", out, inputs: [a, b]) { g in
            [a.requiresGrad ? try (g / b).sumTo(a.shape) : nil,
             b.requiresGrad ? try (-(g * out) / b).sumTo(b.shape) : nil]
        }
    }

    public static prefix func - (x: Tensor) throws -> Tensor { try x.apply(.neg) }

    public static func + (a: Tensor, b: Float) throws -> Tensor { try a + a.scalarLike(b) }
    public static func + (a: Float, b: Tensor) throws -> Tensor { try b.scalarLike(a) + b }
    public static func - (a: Tensor, b: Float) throws -> Tensor { try a - a.scalarLike(b) }
    public static func - (a: Float, b: Tensor) throws -> Tensor { try b.scalarLike(a) - b }
    public static func * (a: Tensor, b: Float) throws -> Tensor { try a * a.scalarLike(b) }
    public static func * (a: Float, b: Tensor) throws -> Tensor { try b.scalarLike(a) * b }
    public static func / (a: Tensor, b: Float) throws -> Tensor { try a / a.scalarLike(b) }
    public static func / (a: Float, b: Tensor) throws -> Tensor { try b.scalarLike(a) / b }

    /// Elementwise power with a tensor exponent.
    public func pow(_ exponent: Tensor) throws -> Tensor {
        let base = self
        let out = try Tensor.compute(.pow, base, exponent, "pow")
        return Tensor.record("pow", out, inputs: [base, exponent]) { g in
            [base.requiresGrad ? try (g * exponent * base.pow(exponent - 1)).sumTo(base.shape) : nil,
             exponent.requiresGrad ? try (g * out * base.log()).sumTo(exponent.shape) : nil]
        }
    }

    public func pow(_ exponent: Float) throws -> Tensor {
        if exponent == 2 { return try apply(.square) }
        let base = self
        let out = try Tensor.compute(.pow, base, scalarLike(exponent), "pow")
        return Tensor.record("pow", out, inputs: [base]) { g in [try g * exponent * base.pow(exponent - 1)] }
    }

    /// Elementwise maximum (NaN-propagating); ties send the gradient to self.
    public func maximum(_ other: Tensor) throws -> Tensor {
        let a = self, b = other
        let out = try Tensor.compute(.maximum, a, b, "maximum")
        return Tensor.record("maximum", out, inputs: [a, b]) { g in
            let takeA = try a.greaterEqual(b)
            let zero = try g.scalarLike(0)
            return [try Tensor.where(takeA, g, zero).sumTo(a.shape), try Tensor.where(takeA, zero, g).sumTo(b.shape)]
        }
    }

    public func minimum(_ other: Tensor) throws -> Tensor {
        let a = self, b = other
        let out = try Tensor.compute(.minimum, a, b, "minimum")
        return Tensor.record("minimum", out, inputs: [a, b]) { g in
            let takeA = try a.lessEqual(b)
            let zero = try g.scalarLike(0)
            return [try Tensor.where(takeA, g, zero).sumTo(a.shape), try Tensor.where(takeA, zero, g).sumTo(b.shape)]
        }
    }

    public func maximum(_ value: Float) throws -> Tensor { try maximum(scalarLike(value)) }
    public func minimum(_ value: Float) throws -> Tensor { try minimum(scalarLike(value)) }

    /// atan2(self, x), the angle of (x, self).
    public func atan2(_ x: Tensor) throws -> Tensor {
        let y = self
        let out = try Tensor.compute(.atan2, y, x, "atan2")
        return Tensor.record("atan2", out, inputs: [y, x]) { g in
            let denominator = try x * x + y * y
            return [try (g * x / denominator).sumTo(y.shape), try (-(g * y) / denominator).sumTo(x.shape)]
        }
    }

    // Comparisons and logic produce bool tensors and carry no gradient.
    public func equal(_ other: Tensor) throws -> Tensor { try Tensor.compute(.equal, self, other, "equal") }
    public func notEqual(_ other: Tensor) throws -> Tensor { try Tensor.compute(.notEqual, self, other, "notEqual") }
    public func less(_ other: Tensor) throws -> Tensor { try Tensor.compute(.less, self, other, "less") }
    public func lessEqual(_ other: Tensor) throws -> Tensor { try Tensor.compute(.lessEqual, self, other, "lessEqual") }
    public func greater(_ other: Tensor) throws -> Tensor { try Tensor.compute(.greater, self, other, "greater") }
    public func greaterEqual(_ other: Tensor) throws -> Tensor {
        try Tensor.compute(.greaterEqual, self, other, "greaterEqual")
    }
    public func equal(_ value: Float) throws -> Tensor { try equal(scalarLike(value)) }
    public func notEqual(_ value: Float) throws -> Tensor { try notEqual(scalarLike(value)) }
    public func less(_ value: Float) throws -> Tensor { try less(scalarLike(value)) }
    public func lessEqual(_ value: Float) throws -> Tensor { try lessEqual(scalarLike(value)) }
    public func greater(_ value: Float) throws -> Tensor { try greater(scalarLike(value)) }
    public func greaterEqual(_ value: Float) throws -> Tensor { try greaterEqual(scalarLike(value)) }

    public func logicalAnd(_ other: Tensor) throws -> Tensor { try Tensor.compute(.logicalAnd, self, other, "logicalAnd") }
    public func logicalOr(_ other: Tensor) throws -> Tensor { try Tensor.compute(.logicalOr, self, other, "logicalOr") }
    public func logicalXor(_ other: Tensor) throws -> Tensor { try Tensor.compute(.logicalXor, self, other, "logicalXor") }
    public func logicalNot() throws -> Tensor {
        guard dtype == .bool else { throw TensorError("logicalNot: needs a bool tensor, found \(dtype) \(describe(shape))") }
        let source = try contiguous()
        let out = try emptyLike()
        try backend.unary(.logicalNot, source, into: out)
        return out
    }

    /// condition ? a : b elementwise, all three broadcast together.
    public static func `where`(_ condition: Tensor, _ a: Tensor, _ b: Tensor) throws -> Tensor {
        try sameDevice("where", [condition, a, b])
        try sameDType("where", a, b)
        guard condition.dtype == .bool else {
            throw TensorError("where: the condition must be a bool tensor, found \(condition.dtype) \(describe(condition.shape))")
        }
        let shape = try Shape.broadcast(Shape.broadcast(condition.shape, a.shape, "where"), b.shape, "where")
        let out = try Tensor.empty(shape, dtype: a.dtype, device: a.device)
        try a.backend.select(condition.broadcastView(to: shape), a.broadcastView(to: shape), b.broadcastView(to: shape),
                             into: out)
        return record("where", out, inputs: [a, b]) { g in
            let zero = try g.scalarLike(0)
            return [a.requiresGrad ? try Tensor.where(condition, g, zero).sumTo(a.shape) : nil,
                    b.requiresGrad ? try Tensor.where(condition, zero, g).sumTo(b.shape) : nil]
        }
    }

    public static func `where`(_ condition: Tensor, _ a: Tensor, _ b: Float) throws -> Tensor {
        try Tensor.where(condition, a, a.scalarLike(b))
    }

    public static func `where`(_ condition: Tensor, _ a: Float, _ b: Tensor) throws -> Tensor {
        try Tensor.where(condition, b.scalarLike(a), b)
    }

    /// Replaces elements where mask is true with value.
    public func maskedFill(_ mask: Tensor, _ value: Float) throws -> Tensor {
        try Tensor.where(mask, scalarLike(value), self)
    }
}
