/// Indexing: gather / scatter along an axis, index_select / index_add, masked selection.
extension Tensor {
    private func requireIndex(_ index: Tensor, _ op: String) throws {
        guard index.dtype == .int64 else {
            throw TensorError("\(op): indices must be int64, found \(index.dtype) \(describe(index.shape))")
        }
        try Tensor.sameDevice(op, [self, index])
    }

    /// out[..., j, ...] = self[..., index[..., j, ...], ...] along `axis` (torch.gather). The index
    /// has the input's shape except along `axis`.
    public func gather(axis: Int, index: Tensor) throws -> Tensor {
        try requireIndex(index, "gather")
        let a = try Shape.normalize(axis: axis, rank: rank, "gather")
        try checkIndexShape(index, axis: a, "gather")
        let x = try contiguous(), idx = try index.contiguous()
        let (outer, n, inner) = x.around(axis: a)
        let out = try emptyLike(index.shape)
        try backend.gather(x, outer: outer, n: n, inner: inner, index: idx, k: index.shape[a], into: out)
        let original = shape
        return Tensor.record("gather", out, inputs: [self]) { g in
            let full = try Tensor.zeros(original, dtype: g.dtype, device: g.device)
            return [try full.scatterAdd(axis: a, index: idx, source: g)]
        }
    }

    private func checkIndexShape(_ index: Tensor, axis: Int, _ op: String) throws {
        var expected = shape, found = index.shape
        guard expected.count == found.count else {
            throw TensorError("\(op): index of shape \(describe(index.shape)) must have the rank of the input \(describe(shape))")
        }
        expected[axis] = 0; found[axis] = 0
        guard expected == found else {
            throw TensorError("\(op): index of shape \(describe(index.shape)) must match the input \(describe(shape)) "
                              + "outside axis \(axis)")
        }
    }

    private func scatterImpl(axis: Int, index: Tensor, source: Tensor, accumulate: Bool) throws -> Tensor {
        let name = accumulate ? "scatterAdd" : "scatter"
        try requireIndex(index, name)
        try Tensor.sameDType(name, self, source)
        let a = try Shape.normalize(axis: axis, rank: rank, name)
        try checkIndexShape(index, axis: a, name)
        guard index.shape == source.shape else {
            throw TensorError("\(name): index \(describe(index.shape)) and source \(describe(source.shape)) must have one shape")
        }
        let out = try detach().clone()
        let idx = try index.contiguous(), src = try source.contiguous()
        let (outer, n, inner) = out.around(axis: a)
        try backend.scatter(src, outer: outer, k: index.shape[a], inner: inner, index: idx, into: out, n: n,
                            accumulate: accumulate)
        let base = self
        return Tensor.record(name, out, inputs: [self, source]) { g in
            let baseGrad: Tensor? = base.requiresGrad
                ? (accumulate ? g : try g.scatter(axis: a, index: idx, source: Tensor.zeros(idx.shape, device: g.device)))
                : nil
            return [baseGrad, source.requiresGrad ? try g.gather(axis: a, index: idx) : nil]
        }
    }

    /// A copy with source written at index positions along axis (torch.scatter).
    public func scatter(axis: Int, index: Tensor, source: Tensor) throws -> Tensor {
        try scatterImpl(axis: axis, index: index, source: source, accumulate: false)
    }

    /// A copy with source added at index positions along axis (torch.scatter_add).
    public func scatterAdd(axis: Int, index: Tensor, source: Tensor) throws -> Tensor {
        try scatterImpl(axis: axis, index: index, source: source, accumulate: true)
    }

    /// Rows (along axis) picked by a 1-D int64 index (torch.index_select).
    public func indexSelect(axis: Int, index: Tensor) throws -> Tensor {
        try requireIndex(index, "indexSelect")
        try index.requireRank(1, "indexSelect", "index")
        let a = try Shape.normalize(axis: axis, rank: rank, "indexSelect")
        let x = try contiguous(), idx = try index.contiguous()
        let (outer, n, inner) = x.around(axis: a)
        var outShape = shape
        outShape[a] = index.count
        let out = try emptyLike(outShape)
        try backend.indexSelect(x, outer: outer, n: n, inner: inner, index: idx, k: index.count, into: out)
        let original = shape
        return Tensor.record("indexSelect", out, inputs: [self]) { g in
            [try Tensor.zeros(original, dtype: g.dtype, device: g.device).indexAdd(axis: a, index: idx, source: g)]
        }
    }

    /// A copy with source rows added at index positions along axis (torch.index_add).
    public func indexAdd(axis: Int, index: Tensor, source: Tensor) throws -> Tensor {
        try requireIndex(index, "indexAdd")
        try index.requireRank(1, "indexAdd", "index")
        try Tensor.sameDType("indexAdd", self, source)
        let a = try Shape.normalize(axis: axis, rank: rank, "indexAdd")
        var expected = shape
        expected[a] = index.count
        guard source.shape == expected else {
            throw TensorError("indexAdd: source of shape \(describe(source.shape)) should be \(describe(expected))")
        }
        let out = try detach().clone()
        let idx = try index.contiguous(), src = try source.contiguous()
        let (outer, n, inner) = out.around(axis: a)
        try backend.indexAdd(src, outer: outer, k: index.count, inner: inner, index: idx, into: out, n: n)
        let base = self
        return Tensor.record("indexAdd", out, inputs: [self, source]) { g in
            [base.requiresGrad ? g : nil, source.requiresGrad ? try g.indexSelect(axis: a, index: idx) : nil]
        }
    }

    /// Flat positions (row-major) of the true elements of a bool tensor.
    public func truePositions() throws -> Tensor {
        guard dtype == .bool else { throw TensorError("truePositions: needs a bool tensor, found \(dtype)") }
        return try backend.truePositions(contiguous())
    }

    /// Coordinates of the true (non-zero) elements: [count, rank] int64 (torch.nonzero).
    public func nonzero() throws -> Tensor {
        let mask = dtype == .bool ? self : try notEqual(scalarLike(0))
        let flat = try mask.truePositions().toInt64Array()
        var coordinates: [Int64] = []
        coordinates.reserveCapacity(flat.count * rank)
        let strides = Shape.contiguousStrides(shape)
        for position in flat {
            var rest = Int(position)
            for s in strides { coordinates.append(Int64(rest / s)); rest %= s }
        }
        return try Tensor(int64: coordinates, shape: [flat.count, rank], device: device)
    }

    /// The elements where mask is true, as a 1-D tensor (mask and self broadcast together).
    public func maskedSelect(_ mask: Tensor) throws -> Tensor {
        guard mask.dtype == .bool else {
            throw TensorError("maskedSelect: the mask must be bool, found \(mask.dtype) \(describe(mask.shape))")
        }
        let shape = try Shape.broadcast(self.shape, mask.shape, "maskedSelect")
        let values = try expand(shape).reshape([-1])
        let positions = try mask.broadcastView(to: shape).contiguous().truePositions()
        return try values.indexSelect(axis: 0, index: positions)
    }
}
