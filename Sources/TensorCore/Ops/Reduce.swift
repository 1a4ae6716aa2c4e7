/// Reductions: sum, mean, prod, max, min (with indices), argmax, argmin — over all elements or
/// over chosen axes, with or without keeping the reduced axes as size 1.
extension Tensor {
    /// Splits the shape around one axis into [outer, n, inner].
    func around(axis: Int) -> (outer: Int, n: Int, inner: Int) {
        (shape[..<axis].reduce(1, *), shape[axis], shape[(axis + 1)...].reduce(1, *))
    }

    private func reduceOneAxis(_ op: ReduceOp, axis: Int, wantValues: Bool = true,
                               wantIndices: Bool = false) throws -> (values: Tensor?, indices: Tensor?) {
        let x = try contiguous()
        let (outer, n, inner) = x.around(axis: axis)
        var outShape = shape
        outShape[axis] = 1
        let values = wantValues ? try emptyLike(outShape) : nil
        let indices = wantIndices ? try emptyLike(outShape, dtype: .int64) : nil
        try backend.reduce(op, x, outer: outer, n: n, inner: inner, values: values, indices: indices)
        return (values, indices)
    }

    private func resolveAxes(_ axes: [Int]?, _ op: String) throws -> [Int] {
        guard let axes else { return Array(0..<rank) }
        let resolved = try axes.map { try Shape.normalize(axis: $0, rank: rank, op) }
        guard Set(resolved).count == resolved.count else {
            throw TensorError("\(op): repeated axis in \(describe(axes)) for shape \(describe(shape))")
        }
        return resolved.sorted()
    }

    private func reducedShape(_ axes: [Int], keepDims: Bool) -> [Int] {
        keepDims ? shape.enumerated().map { axes.contains($0.offset) ? 1 : $0.element }
                 : shape.enumerated().filter { !axes.contains($0.offset) }.map(\.element)
    }

    private func numericCheck(_ op: String) throws {
        guard dtype != .float16 && dtype != .bool else {
            throw TensorError("\(op): not defined for \(dtype) tensors \(describe(shape)); convert with to(.float32) "
                              + "or to(.int64) first")
        }
    }

    /// Sum over the given axes (all when nil).
    public func sum(axes: [Int]? = nil, keepDims: Bool = false) throws -> Tensor {
        try numericCheck("sum")
        let resolved = try resolveAxes(axes, "sum")
        var result = self
        if rank == 0 {
            result = try clone()
        } else if resolved.count == rank && isContiguous && count > 0 {
            // Whole-tensor sum in one pass.
            let flat = view(shape: [1, count, 1], strides: [count, 1, 1], offset: offset)
            result = try flat.reduceOneAxis(.sum, axis: 1).values!
        } else {
            result = detach()
            for axis in resolved.reversed() { result = try result.reduceOneAxis(.sum, axis: axis).values! }
        }
        let outShape = reducedShape(resolved, keepDims: keepDims)
        let out = result.view(shape: outShape, strides: Shape.contiguousStrides(outShape), offset: result.offset)
        let original = shape
        let keptShape = reducedShape(resolved, keepDims: true)
        return Tensor.record("sum", out, inputs: [self]) { g in [try g.reshape(keptShape).expand(original)] }
    }

    public func sum(axis: Int, keepDims: Bool = false) throws -> Tensor { try sum(axes: [axis], keepDims: keepDims) }

    public func mean(axes: [Int]? = nil, keepDims: Bool = false) throws -> Tensor {
        try requireFloat32("mean")
        let resolved = try resolveAxes(axes, "mean")
        let n = resolved.map { shape[$0] }.reduce(1, *)
        guard n > 0 else { throw TensorError("mean: no elements to average in shape \(describe(shape))") }
        return try sum(axes: resolved, keepDims: keepDims) / Float(n)
    }

    public func mean(axis: Int, keepDims: Bool = false) throws -> Tensor { try mean(axes: [axis], keepDims: keepDims) }

    /// Product over the given axes (no gradient).
    public func prod(axes: [Int]? = nil, keepDims: Bool = false) throws -> Tensor {
        try numericCheck("prod")
        let resolved = try resolveAxes(axes, "prod")
        var result = detach()
        for axis in resolved.reversed() { result = try result.reduceOneAxis(.prod, axis: axis).values! }
        return try result.detach().reshape(reducedShape(resolved, keepDims: keepDims))
    }

    private func extreme(_ op: ReduceOp, axis: Int, keepDims: Bool, _ name: String) throws -> (values: Tensor, indices: Tensor) {
        try numericCheck(name)
        let a = try Shape.normalize(axis: axis, rank: rank, name)
        guard shape[a] > 0 else { throw TensorError("\(name): axis \(axis) of shape \(describe(shape)) is empty") }
        let (v, i) = try reduceOneAxis(op, axis: a, wantValues: true, wantIndices: true)
        let outShape = reducedShape([a], keepDims: keepDims)
        let values = try v!.detach().reshape(outShape)
        let indices = try i!.reshape(outShape)
        let original = shape
        let keptShape = reducedShape([a], keepDims: true)
        let keptIndices = i!
        Tensor.record(name, values, inputs: [self]) { g in
            let full = try Tensor.zeros(original, dtype: g.dtype, device: g.device)
            return [try full.scatter(axis: a, index: keptIndices, source: g.reshape(keptShape))]
        }
        return (values, indices)
    }

    /// Maximum along an axis with the position of the first maximum.
    public func max(axis: Int, keepDims: Bool = false) throws -> (values: Tensor, indices: Tensor) {
        try extreme(.max, axis: axis, keepDims: keepDims, "max")
    }

    public func min(axis: Int, keepDims: Bool = false) throws -> (values: Tensor, indices: Tensor) {
        try extreme(.min, axis: axis, keepDims: keepDims, "min")
    }

    /// Maximum of all elements (rank 0).
    public func max() throws -> Tensor {
        guard count > 0 else { throw TensorError("max: the tensor \(describe(shape)) is empty") }
        return try flatten().max(axis: 0).values
    }

    public func min() throws -> Tensor {
        guard count > 0 else { throw TensorError("min: the tensor \(describe(shape)) is empty") }
        return try flatten().min(axis: 0).values
    }

    public func argmax(axis: Int, keepDims: Bool = false) throws -> Tensor {
        try withNoGrad { try max(axis: axis, keepDims: keepDims).indices }
    }

    public func argmin(axis: Int, keepDims: Bool = false) throws -> Tensor {
        try withNoGrad { try min(axis: axis, keepDims: keepDims).indices }
    }

    /// Index of the maximum of the flattened tensor.
    public func argmax() throws -> Tensor { try flatten().argmax(axis: 0) }
}
