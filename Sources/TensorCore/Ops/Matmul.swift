/// Matrix products: [m, k] x [k, n], batched [b, m, k] x [b, k, n], and a batch against a
/// single matrix on either side. Leading batch dimensions of higher ranks are flattened.
extension Tensor {
    public func matmul(_ other: Tensor) throws -> Tensor {
        let a = self, b = other
        try Tensor.sameDevice("matmul", [a, b])
        try a.requireFloat32("matmul")
        try b.requireFloat32("matmul")
        guard a.rank >= 2, b.rank >= 2 else {
            throw TensorError("matmul: needs matrices (rank >= 2), found \(describe(a.shape)) and \(describe(b.shape))")
        }
        let (m, k) = (a.shape[a.rank - 2], a.shape[a.rank - 1])
        let (k2, n) = (b.shape[b.rank - 2], b.shape[b.rank - 1])
        guard k == k2 else {
            throw TensorError("matmul: inner dimensions differ: \(describe(a.shape)) x \(describe(b.shape)) (\(k) vs \(k2))")
        }
        let batchA = Array(a.shape.dropLast(2)), batchB = Array(b.shape.dropLast(2))
        guard batchA.isEmpty || batchB.isEmpty || batchA == batchB else {
            throw TensorError("matmul: batch dimensions differ: \(describe(a.shape)) x \(describe(b.shape))")
        }
        let batchShape = batchA.isEmpty ? batchB : batchA
        let batch = batchShape.reduce(1, *)
        let out = try Tensor.empty(batchShape + [m, n], device: a.device)
        try a.backend.matmul(a.contiguous(), b.contiguous(), into: out, batch: batch, m: m, n: n, k: k,
                             transposeA: false, transposeB: false, broadcastA: batchA.isEmpty, broadcastB: batchB.isEmpty)
        return Tensor.record("matmul", out, inputs: [a, b]) { g in
            [a.requiresGrad ? try g.matmul(b.transpose(-1, -2)).sumTo(a.shape) : nil,
             b.requiresGrad ? try a.transpose(-1, -2).matmul(g).sumTo(b.shape) : nil]
        }
    }
}
