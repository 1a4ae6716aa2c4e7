/// Argument checks shared by the operations; each error names the operation and the shapes.
extension Tensor {
    static func sameDevice(_ op: String, _ tensors: [Tensor]) throws {
        guard let first = tensors.first else { return }
        for t in tensors.dropFirst() where t.device != first.device {
            throw TensorError("\(op): operands are on different devices (\(first.device) and \(t.device)); "
                              + "move them with to(device:) first")
        }
    }

    static func sameDType(_ op: String, _ a: Tensor, _ b: Tensor) throws {
        guard a.dtype == b.dtype else {
            throw TensorError("\(op): dtype mismatch: \(a.dtype) \(describe(a.shape)) and \(b.dtype) \(describe(b.shape)); "
                              + "convert one with to(_:)")
        }
    }

    /// The type an operation on `a` and `b` computes in: theirs when they agree, float32 when both
    /// are floating point of different widths (autocast's rule: mixed types promote to the wider,
    /// as a bfloat16 activation meeting a float32 one in a sum or a join). Anything else is refused.
    static func promotedType(_ op: String, _ a: Tensor, _ b: Tensor) throws -> DType {
        guard let type = DType.promoted(a.dtype, b.dtype) else {
            try sameDType(op, a, b)
            return a.dtype
        }
        return type
    }

    /// This tensor in `type`, converted outside the graph: an operation that promotes its operands
    /// differentiates with respect to the originals, so its gradients stay float32.
    func promoted(to type: DType) throws -> Tensor {
        type == dtype ? self : try withNoGrad { try to(type) }
    }

    func requireFloat32(_ op: String) throws {
        guard dtype == .float32 else {
            throw TensorError("\(op): needs a float32 tensor, found \(dtype) \(describe(shape))")
        }
    }

    func requireRank(_ expected: Int, _ op: String, _ what: String = "input") throws {
        guard rank == expected else {
            throw TensorError("\(op): \(what) must have rank \(expected), found shape \(describe(shape))")
        }
    }

    /// In-place writes into a tensor autograd is tracking would corrupt the graph.
    func requireWritable(_ op: String) throws {
        if GradMode.isEnabled && requiresGrad {
            throw TensorError("\(op): in-place update of a tensor that requires grad \(describe(shape)); "
                              + "do it inside withNoGrad { } or on detach()")
        }
    }
}
