/// Shape operations. Reshape of a contiguous tensor, permute, narrow/slice, expand, squeeze
/// and unsqueeze return views sharing storage; their gradients map back through the view.
extension Tensor {
    /// A view with stride 0 on broadcast dimensions (no autograd; used by the operations).
    func broadcastView(to target: [Int]) throws -> Tensor {
        if target == shape { return self }
        guard target.count >= rank else {
            throw TensorError("expand: cannot broadcast shape \(describe(shape)) to the smaller rank of \(describe(target))")
        }
        let lead = target.count - rank
        var newStrides = [Int](repeating: 0, count: target.count)
        for i in 0..<target.count {
            if i < lead { continue }
            let d = shape[i - lead]
            if d == target[i] {
                newStrides[i] = strides[i - lead]
            } else if d != 1 {
                throw TensorError("expand: shape \(describe(shape)) cannot be broadcast to \(describe(target)) "
                                  + "(dimension \(i): \(d) vs \(target[i]))")
            }
        }
        return view(shape: target, strides: newStrides, offset: offset)
    }

    /// Sums a broadcast gradient back to `target` (the shape before broadcasting).
    func sumTo(_ target: [Int]) throws -> Tensor {
        if shape == target { return self }
        let lead = rank - target.count
        var axes: [Int] = Array(0..<lead)
        for (i, d) in target.enumerated() where d == 1 && shape[i + lead] != 1 { axes.append(i + lead) }
        let reduced = axes.isEmpty ? self : try sum(axes: axes, keepDims: true)
        return try reduced.reshape(target)
    }

    public func expand(_ target: [Int]) throws -> Tensor {
        if target == shape { return self }
        let original = shape
        let out = try broadcastView(to: target)
        return Tensor.record("expand", out, inputs: [self]) { g in [try g.sumTo(original)] }
    }

    /// A contiguous copy if this view is not contiguous; otherwise self.
    public func contiguous() throws -> Tensor {
        if isContiguous { return self }
        return try clone()
    }

    /// Always a new contiguous copy.
    public func clone() throws -> Tensor {
        let out = try emptyLike()
        try backend.copy(self, into: out)
        return Tensor.record("clone", out, inputs: [self]) { g in [g] }
    }

    /// Reshape; one dimension may be -1 (inferred). A view when the tensor is contiguous.
    public func reshape(_ newShape: [Int]) throws -> Tensor {
        var resolved = newShape
        let known = newShape.filter { $0 != -1 }.reduce(1, *)
        let unknown = newShape.indices.filter { newShape[$0] == -1 }
        if unknown.count > 1 || newShape.contains(where: { $0 < -1 }) {
            throw TensorError("reshape: invalid target shape \(describe(newShape)) (at most one -1, no other negatives)")
        }
        if let u = unknown.first {
            guard known > 0, count % known == 0 else {
                throw TensorError("reshape: cannot reshape \(describe(shape)) (\(count) elements) to \(describe(newShape))")
            }
            resolved[u] = count / known
        }
        guard Shape.count(resolved) == count else {
            throw TensorError("reshape: cannot reshape \(describe(shape)) (\(count) elements) to \(describe(newShape)) "
                              + "(\(Shape.count(resolved)) elements)")
        }
        if resolved == shape { return self }
        let source = try contiguous()
        let out = source.view(shape: resolved, strides: Shape.contiguousStrides(resolved), offset: source.offset)
        let original = shape
        return Tensor.record("reshape", out, inputs: [self]) { g in [try g.reshape(original)] }
    }

    public func flatten() throws -> Tensor { try reshape([count]) }

    /// Flattens dimensions from `startAxis` on (torch.flatten(x, start_dim)).
    public func flatten(from startAxis: Int) throws -> Tensor {
        let axis = try Shape.normalize(axis: startAxis, rank: rank, "flatten")
        return try reshape(Array(shape[..<axis]) + [shape[axis...].reduce(1, *)])
    }

    public func permute(_ order: [Int]) throws -> Tensor {
        let resolved = try order.map { try Shape.normalize(axis: $0, rank: rank, "permute") }
        guard resolved.count == rank, Set(resolved).count == rank else {
            throw TensorError("permute: order \(describe(order)) is not a permutation of the \(rank) axes of \(describe(shape))")
        }
        let out = view(shape: resolved.map { shape[$0] }, strides: resolved.map { strides[$0] }, offset: offset)
        var inverse = [Int](repeating: 0, count: rank)
        for (i, axis) in resolved.enumerated() { inverse[axis] = i }
        return Tensor.record("permute", out, inputs: [self]) { g in [try g.permute(inverse)] }
    }

    public func transpose(_ axis0: Int, _ axis1: Int) throws -> Tensor {
        var order = Array(0..<rank)
        let a = try Shape.normalize(axis: axis0, rank: rank, "transpose")
        let b = try Shape.normalize(axis: axis1, rank: rank, "transpose")
        order.swapAt(a, b)
        return try permute(order)
    }

    /// Elements [start, start + length) along an axis, as a view.
    public func narrow(axis: Int, start: Int, length: Int) throws -> Tensor {
        try slice(axis: axis, start: start, end: start + length)
    }

    /// Python-style slice along an axis: start..<end with a positive step; negative bounds count from the end.
    public func slice(axis: Int, start: Int = 0, end: Int? = nil, step: Int = 1) throws -> Tensor {
        let a = try Shape.normalize(axis: axis, rank: rank, "slice")
        let size = shape[a]
        guard step > 0 else { throw TensorError("slice: step must be positive, found \(step)") }
        let lo = start < 0 ? start + size : start
        let hiRaw = end ?? size
        let hi = hiRaw < 0 ? hiRaw + size : hiRaw
        guard lo >= 0, hi <= size, lo <= hi else {
            throw TensorError("slice: range \(start)..<\(hiRaw) is out of bounds for axis \(axis) of size \(size) "
                              + "in shape \(describe(shape))")
        }
        var newShape = shape, newStrides = strides
        newShape[a] = (hi - lo + step - 1) / step
        newStrides[a] = strides[a] * step
        let out = view(shape: newShape, strides: newStrides, offset: offset + lo * strides[a])
        let original = shape
        return Tensor.record("slice", out, inputs: [self]) { g in
            let full = try Tensor.zeros(original, dtype: g.dtype, device: g.device)
            try full.slice(axis: a, start: lo, end: hi, step: step).copy_(from: g)
            return [full]
        }
    }

    public func unsqueeze(_ axis: Int) throws -> Tensor {
        let a = try Shape.normalize(axis: axis, rank: rank + 1, "unsqueeze")
        var newShape = shape
        newShape.insert(1, at: a)
        return try reshapeView(newShape)
    }

    /// Removes an axis of size 1 (or all of them when axis is nil).
    public func squeeze(_ axis: Int? = nil) throws -> Tensor {
        if let axis {
            let a = try Shape.normalize(axis: axis, rank: rank, "squeeze")
            guard shape[a] == 1 else {
                throw TensorError("squeeze: axis \(axis) of shape \(describe(shape)) has size \(shape[a]), not 1")
            }
            var newShape = shape
            newShape.remove(at: a)
            return try reshapeView(newShape)
        }
        return try reshapeView(shape.filter { $0 != 1 })
    }

    /// Reshape that only inserts or removes size-1 axes: always a view, even when strided.
    private func reshapeView(_ newShape: [Int]) throws -> Tensor {
        var kept: [(Int, Int)] = zip(shape, strides).filter { $0.0 != 1 }
        var newStrides: [Int] = []
        for d in newShape {
            if d == 1 { newStrides.append(0) } else { newStrides.append(kept.removeFirst().1) }
        }
        let out = view(shape: newShape, strides: newStrides, offset: offset)
        let original = shape
        return Tensor.record("reshape", out, inputs: [self]) { g in [try g.reshape(original)] }
    }

    /// Converts the element type (float32 <-> float16 for mixed precision, masks to numbers, ...).
    public func to(_ newType: DType) throws -> Tensor {
        if newType == dtype { return self }
        let out = try emptyLike(dtype: newType)
        try backend.copy(self, into: out)
        let original = dtype
        if original.isFloatingPoint && newType.isFloatingPoint {
            return Tensor.record("to(\(newType))", out, inputs: [self]) { g in [try g.to(original)] }
        }
        return out
    }

    /// Moves the tensor to another device (a copy; gradients flow back).
    public func to(device target: Device) throws -> Tensor {
        if target == device { return self }
        let dense = try contiguous()
        let out = try Tensor.empty(shape, dtype: dtype, device: target)
        let bytes = count * dtype.byteSize
        if device == .cpu {
            try out.backend.copyFromHost(dense.rawPointer, to: out.storage, byteOffset: 0, byteCount: bytes)
        } else if target == .cpu {
            try backend.copyToHost(dense.storage, byteOffset: dense.offset * dtype.byteSize, byteCount: bytes,
                                   into: out.rawPointer)
        } else {
            return try to(device: .cpu).to(device: target)
        }
        let source = device
        return Tensor.record("to(\(target))", out, inputs: [self]) { g in [try g.to(device: source)] }
    }
}

extension Tensor {
    /// A view with explicit geometry over this tensor's storage (no autograd), checked to stay
    /// inside it: how checkpoint readers rebuild tensors from a storage.
    public func asStrided(shape newShape: [Int], strides newStrides: [Int], offset newOffset: Int) throws -> Tensor {
        guard newShape.count == newStrides.count, newOffset >= 0, newShape.allSatisfy({ $0 >= 0 }),
              newStrides.allSatisfy({ $0 >= 0 }) else {
            throw TensorError("asStrided: invalid geometry shape \(describe(newShape)) strides \(describe(newStrides))")
        }
        let last = newShape.contains(0) ? newOffset : newOffset + zip(newShape, newStrides).map { ($0 - 1) * $1 }.reduce(0, +)
        let capacity = storage.byteCount / dtype.byteSize
        guard last < Swift.max(capacity, 1) || Shape.count(newShape) == 0 else {
            throw TensorError("asStrided: shape \(describe(newShape)) with strides \(describe(newStrides)) at offset "
                              + "\(newOffset) reaches element \(last), beyond the storage of \(capacity)")
        }
        return view(shape: newShape, strides: newStrides, offset: offset + newOffset)
    }
}
