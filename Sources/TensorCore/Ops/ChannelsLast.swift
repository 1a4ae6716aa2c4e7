/// Channels-last 4-D tensors: the logical NCHW shape with NHWC memory (strides [H*W*C, 1, W*C, C]),
/// PyTorch's channels_last memory format. Inference on a backend whose convolution kernels work
/// channels-last keeps their outputs that way, so no layout reorder runs between layers; every
/// operation still sees an NCHW tensor, and those without a channels-last kernel read it through
/// its strides (or a contiguous copy).
extension Tensor {
    /// Dense channels-last (sizes of 1 may have any stride).
    public var isChannelsLast: Bool {
        guard rank == 4 else { return false }
        let (c, h, w) = (shape[1], shape[2], shape[3])
        let expected = [h * w * c, 1, w * c, c]
        for axis in 0..<4 where shape[axis] != 1 && strides[axis] != expected[axis] { return false }
        return true
    }

    /// Channels-last without being plain contiguous too (which a tensor with one channel, or one
    /// pixel, is).
    var isOnlyChannelsLast: Bool { isChannelsLast && !isContiguous }

    /// An uninitialised channels-last tensor of logical shape [N, C, H, W].
    public static func emptyChannelsLast(_ shape: [Int], dtype: DType = .float32, device: Device = .cpu) throws -> Tensor {
        guard shape.count == 4 else {
            throw TensorError("channels-last: needs a rank-4 [N, C, H, W] shape, found \(describe(shape))")
        }
        let (n, c, h, w) = (shape[0], shape[1], shape[2], shape[3])
        let dense = try Tensor.empty([n, h, w, c], dtype: dtype, device: device)
        return dense.view(shape: shape, strides: [h * w * c, 1, w * c, c], offset: 0)
    }

    /// An uninitialised tensor, channels-last or plain contiguous as asked.
    static func empty(_ shape: [Int], dtype: DType = .float32, device: Device, channelsLast: Bool) throws -> Tensor {
        channelsLast ? try emptyChannelsLast(shape, dtype: dtype, device: device)
                     : try Tensor.empty(shape, dtype: dtype, device: device)
    }

    /// This tensor, or a channels-last copy of it (gradients flow back).
    public func channelsLast() throws -> Tensor {
        if isChannelsLast { return self }
        try requireRank(4, "channelsLast")
        let out = try Tensor.emptyChannelsLast(shape, dtype: dtype, device: device)
        try backend.copy(self, into: out)
        return Tensor.record("channels_last", out, inputs: [self]) { g in [g] }
    }
}

/// Whether inference keeps convolution outputs channels-last on backends that prefer it. False
/// gives the plain NCHW chain, kept to compare against (tests, benchmarks).
public enum ChannelsLastInference {
    nonisolated(unsafe) public static var enabled = true

    /// For this backend now.
    static func applies(to backend: Backend) -> Bool { enabled && backend.prefersChannelsLastInference }
}
