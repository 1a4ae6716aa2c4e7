/// Joining and splitting along an axis.
extension Tensor {
    /// Concatenates tensors of equal shape except along `axis`.
    public static func concat(_ tensors: [Tensor], axis: Int) throws -> Tensor {
        guard let first = tensors.first else { throw TensorError("concat: no tensors given") }
        try sameDevice("concat", tensors)
        let a = try Shape.normalize(axis: axis, rank: first.rank, "concat")
        // Floating-point inputs of different widths join as float32 (autocast's promotion).
        var type = first.dtype
        for t in tensors {
            if try promotedType("concat", first, t) != first.dtype { type = .float32 }
            var expected = first.shape, found = t.shape
            guard expected.count == found.count else {
                throw TensorError("concat: ranks differ: \(describe(first.shape)) and \(describe(t.shape))")
            }
            expected[a] = 0; found[a] = 0
            guard expected == found else {
                throw TensorError("concat: shapes \(describe(first.shape)) and \(describe(t.shape)) differ outside axis \(axis)")
            }
        }
        var outShape = first.shape
        outShape[a] = tensors.map { $0.shape[a] }.reduce(0, +)
        // Channels-last inputs (an inference chain, see ChannelsLastInference) give a channels-last result.
        let keepsChannelsLast = a == 1 && tensors.allSatisfy(\.isChannelsLast) && tensors.contains(where: \.isOnlyChannelsLast)
            && ChannelsLastInference.applies(to: first.backend)
        let out = try Tensor.empty(outShape, dtype: type, device: first.device, channelsLast: keepsChannelsLast)
        var start = 0
        var ranges: [(Int, Int)] = []
        for t in tensors {
            let length = t.shape[a]
            if length > 0 {
                try out.backend.copy(t, into: out.detach().narrow(axis: a, start: start, length: length))
            }
            ranges.append((start, length))
            start += length
        }
        let needsGrad = tensors.map(\.requiresGrad)   // not the inputs: the graph must not keep them alive
        return record("concat", out, inputs: tensors) { g in
            try zip(needsGrad, ranges).map { needs, r in needs ? try g.narrow(axis: a, start: r.0, length: r.1) : nil }
        }
    }

    /// Stacks tensors of one shape along a new axis.
    public static func stack(_ tensors: [Tensor], axis: Int = 0) throws -> Tensor {
        guard let first = tensors.first else { throw TensorError("stack: no tensors given") }
        for t in tensors where t.shape != first.shape {
            throw TensorError("stack: shapes \(describe(first.shape)) and \(describe(t.shape)) differ")
        }
        let a = try Shape.normalize(axis: axis, rank: first.rank + 1, "stack")
        return try concat(tensors.map { try $0.unsqueeze(a) }, axis: a)
    }

    /// Views of consecutive pieces of the given sizes along an axis.
    public func split(sizes: [Int], axis: Int) throws -> [Tensor] {
        let a = try Shape.normalize(axis: axis, rank: rank, "split")
        guard sizes.reduce(0, +) == shape[a], sizes.allSatisfy({ $0 >= 0 }) else {
            throw TensorError("split: sizes \(describe(sizes)) do not add up to \(shape[a]), the size of axis \(axis) "
                              + "of \(describe(shape))")
        }
        var start = 0
        return try sizes.map { size in
            defer { start += size }
            return try narrow(axis: a, start: start, length: size)
        }
    }

    /// `parts` equal pieces along an axis (torch.chunk with an exact division).
    public func chunk(_ parts: Int, axis: Int) throws -> [Tensor] {
        let a = try Shape.normalize(axis: axis, rank: rank, "chunk")
        guard parts > 0, shape[a] % parts == 0 else {
            throw TensorError("chunk: axis \(axis) of \(describe(shape)) (size \(shape[a])) does not divide into \(parts) parts")
        }
        return try split(sizes: Array(repeating: shape[a] / parts, count: parts), axis: a)
    }
}
