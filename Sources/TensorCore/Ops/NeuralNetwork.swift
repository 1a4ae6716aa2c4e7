/// Convolution, batch normalization, max pooling and nearest upsampling on NCHW float32 (bfloat16
/// between the units of an autocast chain), with their backward passes from the backend's kernels.
extension Tensor {
    /// 2-D convolution with PyTorch's conventions. weight: [out, in / groups, kh, kw].
    ///
    /// Under autocast, on a backend that reads and writes the 16-bit type directly, a float32 input
    /// is converted once and a 16-bit one (the previous unit's result) read as it is (it is then
    /// both the kernel's operand and what the backward keeps) and, with
    /// `lowPrecisionOutput`, the result comes back in that type: for a consumer that reads it as it
    /// is (`batchNormActivation`), as PyTorch's autocast convolution output. Elsewhere the result is
    /// float32.
    public func conv2d(weight: Tensor, bias: Tensor? = nil, stride: (Int, Int) = (1, 1), padding: (Int, Int) = (0, 0),
                       dilation: (Int, Int) = (1, 1), groups: Int = 1, lowPrecisionOutput: Bool = false) throws -> Tensor {
        let x = self
        try Tensor.sameDevice("conv2d", [x, weight] + (bias.map { [$0] } ?? []))
        let computeType = Autocast.computeType ?? .float32
        let direct = computeType != .float32 && x.backend.directOperandTypes(.convolution).contains(computeType)
        if !(direct && x.dtype == computeType) { try x.requireFloat32("conv2d") }
        try weight.requireFloat32("conv2d")
        try x.requireRank(4, "conv2d", "input")
        try weight.requireRank(4, "conv2d", "weight")
        guard groups >= 1, x.shape[1] == weight.shape[1] * groups else {
            throw TensorError("conv2d: input \(describe(x.shape)) has \(x.shape[1]) channels but weight "
                              + "\(describe(weight.shape)) with \(groups) group(s) expects \(weight.shape[1] * groups)")
        }
        guard weight.shape[0] % groups == 0 else {
            throw TensorError("conv2d: \(weight.shape[0]) output channels are not divisible by \(groups) groups")
        }
        if let bias {
            try bias.requireFloat32("conv2d")
            guard bias.shape == [weight.shape[0]] else {
                throw TensorError("conv2d: bias of shape \(describe(bias.shape)) should be [\(weight.shape[0])]")
            }
        }
        guard stride.0 > 0, stride.1 > 0, dilation.0 > 0, dilation.1 > 0, padding.0 >= 0, padding.1 >= 0 else {
            throw TensorError("conv2d: stride and dilation must be positive and padding non-negative")
        }
        var p = Conv2dParameters(batch: x.shape[0], inChannels: x.shape[1], height: x.shape[2], width: x.shape[3],
                                 outChannels: weight.shape[0], kernelHeight: weight.shape[2], kernelWidth: weight.shape[3],
                                 strideH: stride.0, strideW: stride.1, padH: padding.0, padW: padding.1,
                                 dilationH: dilation.0, dilationW: dilation.1, groups: groups)
        p.computeType = computeType
        guard p.outHeight > 0, p.outWidth > 0 else {
            throw TensorError("conv2d: input \(describe(x.shape)) is too small for kernel \(describe(weight.shape)) "
                              + "with padding \(padding) and dilation \(dilation)")
        }
        // A strided view converts straight into the dense 16-bit operand (no float32 copy first).
        let input = direct ? try withNoGrad { try x.dtype == computeType ? x.contiguous() : x.to(computeType) }
                           : try x.contiguous()
        let w = try weight.contiguous()
        let out = try Tensor.empty([p.batch, p.outChannels, p.outHeight, p.outWidth],
                                   dtype: direct && lowPrecisionOutput ? computeType : .float32, device: x.device)
        try x.backend.conv2dForward(input, w, bias?.contiguous(), into: out, p)
        var inputs = [x, weight]
        if let bias { inputs.append(bias) }
        let (needsInputGrad, inputShape) = (x.requiresGrad, x.shape)   // the closure must not hold x itself
        let needsWeightGrad = weight.requiresGrad || (bias?.requiresGrad ?? false)
        // The weight gradient reads the input; under autocast the kernel rounds it to the 16-bit
        // type anyway, so keeping it in that type for the backward is exact and halves what the
        // step holds (PyTorch's autocast keeps the 16-bit cast too). A direct operand already is.
        // Without a weight gradient (a frozen backbone) nothing of the input is kept.
        let saved: Tensor? = !needsWeightGrad ? nil
            : !direct && GradMode.isEnabled && p.computeType != .float32 ? try withNoGrad { try input.to(p.computeType) }
            : input
        return Tensor.record("conv2d", out, inputs: inputs) { g in
            // A 16-bit result can be handed a 16-bit gradient (through a cast); the kernels take float32.
            let gradOut = try (g.dtype == .float32 ? g : g.to(.float32)).contiguous()
            let gradInput = needsInputGrad ? try Tensor.empty(inputShape, device: gradOut.device) : nil
            var gradWeight: Tensor?, gradBias: Tensor?
            if needsWeightGrad {
                gradWeight = try w.emptyLike()
                gradBias = bias == nil ? nil : try bias!.emptyLike()
            }
            // (The backward-data pass does not read the input: without a weight gradient any
            // tensor stands in.)
            let input = try saved.map { !direct && $0.dtype != .float32 ? try $0.to(.float32) : $0 } ?? gradOut
            try g.backend.conv2dBackward(gradOut, input: input, weight: w, gradInput: gradInput, gradWeight: gradWeight,
                                         gradBias: gradBias, p)
            return [gradInput, gradWeight, gradBias]
        }
    }

    /// Inference convolution with bias and an activation fused (no autograd: it throws when a
    /// gradient would be needed). Same geometry rules as `conv2d`.
    public func conv2dFused(weight: Tensor, bias: Tensor?, stride: (Int, Int) = (1, 1), padding: (Int, Int) = (0, 0),
                            activation: FusedActivation) throws -> Tensor {
        if GradMode.isEnabled && (requiresGrad || weight.requiresGrad || (bias?.requiresGrad ?? false)) {
            throw TensorError("conv2dFused is for inference; wrap the call in withNoGrad { }")
        }
        try requireFloat32("conv2d"); try weight.requireFloat32("conv2d")
        try requireRank(4, "conv2d", "input")
        try weight.requireRank(4, "conv2d", "weight")
        guard shape[1] == weight.shape[1] else {
            throw TensorError("conv2d: input \(describe(shape)) has \(shape[1]) channels but weight \(describe(weight.shape)) expects \(weight.shape[1])")
        }
        var p = Conv2dParameters(batch: shape[0], inChannels: shape[1], height: shape[2], width: shape[3],
                                 outChannels: weight.shape[0], kernelHeight: weight.shape[2], kernelWidth: weight.shape[3],
                                 strideH: stride.0, strideW: stride.1, padH: padding.0, padW: padding.1)
        p.computeType = Autocast.computeType ?? .float32
        guard p.outHeight > 0, p.outWidth > 0 else {
            throw TensorError("conv2d: input \(describe(shape)) is too small for kernel \(describe(weight.shape))")
        }
        // Channels-last where the backend's kernels are: the result stays so for the next layer.
        let keepsChannelsLast = ChannelsLastInference.applies(to: backend)
        let input = keepsChannelsLast && isChannelsLast ? self
            : keepsChannelsLast && !isContiguous ? try channelsLast() : try contiguous()
        let outShape = [p.batch, p.outChannels, p.outHeight, p.outWidth]
        let out = try Tensor.empty(outShape, device: device, channelsLast: keepsChannelsLast)
        try backend.conv2dForwardFused(input, weight.contiguous(), bias?.contiguous(), into: out, p, activation: activation)
        return out
    }

    /// Batch normalization over N, H, W per channel. In training the batch statistics normalise
    /// and the running statistics are updated in place (momentum weights the new batch, the
    /// running variance takes the unbiased estimate, as in PyTorch).
    public func batchNorm2d(weight: Tensor, bias: Tensor, runningMean: Tensor, runningVar: Tensor,
                            training: Bool, momentum: Float = 0.1, epsilon: Float = 1e-5) throws -> Tensor {
        let x = self
        let perChannel = try checkBatchNorm("batch_norm", weight: weight, bias: bias, runningMean: runningMean,
                                            runningVar: runningVar, training: training)
        let c = x.shape[1]
        let input = try x.contiguous()
        let scale = try weight.contiguous(), shift = try bias.contiguous()
        let out = try input.emptyLike()
        let mean: Tensor, variance: Tensor
        if training {
            mean = try Tensor.empty([c], device: x.device)
            variance = try Tensor.empty([c], device: x.device)
            try x.backend.batchNormForward(input, scale: scale, shift: shift, mean: mean, variance: variance,
                                           training: true, epsilon: epsilon, into: out)
            try Tensor.updateRunningStatistics(runningMean, runningVar, batchMean: mean, batchVariance: variance,
                                               count: perChannel, momentum: momentum)
        } else {
            mean = try runningMean.contiguous().clone()
            variance = try runningVar.contiguous().clone()
            try x.backend.batchNormForward(input, scale: scale, shift: shift, mean: mean, variance: variance,
                                           training: false, epsilon: epsilon, into: out)
        }
        return Tensor.record("batch_norm", out, inputs: [x, weight, bias]) { g in
            let gradOut = try g.contiguous()
            if training {
                let gradInput = try input.emptyLike()
                let gradScale = try scale.emptyLike(), gradShift = try shift.emptyLike()
                try g.backend.batchNormBackward(input, gradOut: gradOut, mean: mean, variance: variance, scale: scale,
                                                shift: shift, epsilon: epsilon, gradInput: gradInput, gradScale: gradScale,
                                                gradShift: gradShift)
                return [gradInput, gradScale, gradShift]
            }
            // Fixed statistics: an affine map per channel.
            let invStd = try (variance + epsilon).sqrt().reciprocal()
            let perC: ([Int]) = [1, c, 1, 1]
            let xHat = try (input - mean.reshape(perC)) * invStd.reshape(perC)
            return [try gradOut * (scale * invStd).reshape(perC),
                    try (gradOut * xHat).sum(axes: [0, 2, 3]),
                    try gradOut.sum(axes: [0, 2, 3])]
        }
    }

    /// Training batch norm followed by an activation, in one pass forward and one backward (the
    /// normalised tensor is neither stored nor kept for the backward). Same results as
    /// `batchNorm2d(training: true)` then the activation, running statistics updated the same way.
    /// The input may be bfloat16 (a convolution's output under autocast): it is read as it is and
    /// kept for the backward, and the result is bfloat16 too (computed in float32, rounded once), as
    /// PyTorch's batch norm gives its input's type: the next convolution reads it as it is, so a
    /// conv-BN-activation chain never passes through float32 tensors. Statistics and gradients are
    /// float32.
    public func batchNormActivation(weight: Tensor, bias: Tensor, runningMean: Tensor, runningVar: Tensor,
                                    activation: FusedActivation, momentum: Float = 0.1,
                                    epsilon: Float = 1e-5) throws -> Tensor {
        let x = self
        let perChannel = try checkBatchNorm("batch_norm + activation", weight: weight, bias: bias,
                                            runningMean: runningMean, runningVar: runningVar, training: true,
                                            inputTypes: [.float32, .bfloat16])
        let input = try x.contiguous()
        let scale = try weight.contiguous(), shift = try bias.contiguous()
        let out = try Tensor.empty(input.shape, dtype: input.dtype, device: x.device)
        let mean = try Tensor.empty([x.shape[1]], device: x.device)
        let variance = try Tensor.empty([x.shape[1]], device: x.device)
        try x.backend.batchNormActivationForward(input, scale: scale, shift: shift, mean: mean, variance: variance,
                                                 epsilon: epsilon, activation: activation, into: out)
        try Tensor.updateRunningStatistics(runningMean, runningVar, batchMean: mean, batchVariance: variance,
                                           count: perChannel, momentum: momentum)
        // Under bfloat16 autocast the backward recomputes from a bfloat16 copy of the input, as
        // PyTorch's does from the bfloat16 convolution output it is given: half the memory held
        // for the step. (Not float16: its range could overflow where the float32 forward did not.)
        let keepsCopy = Autocast.computeType == .bfloat16 && GradMode.isEnabled && input.dtype == .float32
        let saved = keepsCopy ? try withNoGrad { try input.to(.bfloat16) } : input
        let needsInputGrad = x.requiresGrad, parameters = weight.requiresGrad || bias.requiresGrad
        return Tensor.record("batch_norm_activation", out, inputs: [x, weight, bias]) { g in
            let input = saved   // bfloat16 or float32: the kernels read either
            let gradInput = needsInputGrad ? try Tensor.empty(input.shape, device: input.device) : nil
            let gradScale = parameters ? try scale.emptyLike() : nil, gradShift = parameters ? try shift.emptyLike() : nil
            try g.backend.batchNormActivationBackward(input, gradOut: g.contiguous(), mean: mean, variance: variance,
                                                      scale: scale, shift: shift, epsilon: epsilon,
                                                      activation: activation, gradInput: gradInput,
                                                      gradScale: gradScale, gradShift: gradShift)
            return [gradInput, gradScale, gradShift]
        }
    }

    /// This tensor as an operation on `backend`'s autocast chain reads it: a 16-bit tensor as it is
    /// where the backend passes that type directly, widened to float32 (outside the graph, so the
    /// gradient stays float32) elsewhere. Any other type is refused.
    private func widenedUnlessDirect(_ op: String) throws -> Tensor {
        if dtype.isFloatingPoint && dtype != .float32 {
            return backend.directOperandTypes(.convolution).contains(dtype) ? self : try promoted(to: .float32)
        }
        try requireFloat32(op)
        return self
    }

    /// Shapes and types of a batch norm's operands; the number of values per channel.
    func checkBatchNorm(_ op: String, weight: Tensor, bias: Tensor, runningMean: Tensor, runningVar: Tensor,
                                training: Bool, inputTypes: [DType] = [.float32]) throws -> Int {
        try Tensor.sameDevice(op, [self, weight, bias, runningMean, runningVar])
        guard inputTypes.contains(dtype) else {
            throw TensorError("\(op): needs a \(inputTypes.map { "\($0)" }.joined(separator: " or ")) input, found "
                              + "\(dtype) \(describe(shape))")
        }
        try requireRank(4, op, "input")
        let c = shape[1]
        for (name, t) in [("weight", weight), ("bias", bias), ("running_mean", runningMean), ("running_var", runningVar)] {
            guard t.shape == [c] else {
                throw TensorError("\(op): \(name) of shape \(describe(t.shape)) should be [\(c)] for input \(describe(shape))")
            }
            try t.requireFloat32(op)
        }
        let perChannel = shape[0] * shape[2] * shape[3]
        if training && perChannel < 2 {
            throw TensorError("\(op): training needs more than one value per channel, input is \(describe(shape)) "
                              + "(use a batch size of at least 2)")
        }
        return perChannel
    }

    /// PyTorch's update: momentum weights the new batch, the variance enters unbiased.
    static func updateRunningStatistics(_ runningMean: Tensor, _ runningVar: Tensor, batchMean: Tensor,
                                        batchVariance: Tensor, count: Int, momentum: Float) throws {
        try withNoGrad {
            let unbiased = try batchVariance * (Float(count) / Float(count - 1))
            try runningMean.copy_(from: runningMean * (1 - momentum) + batchMean * momentum)
            try runningVar.copy_(from: runningVar * (1 - momentum) + unbiased * momentum)
        }
    }

    /// Max pooling with -inf padding (PyTorch's), floor output size. A 16-bit input (an autocast
    /// chain's activation) gives a result of its type where the backend pools that type directly,
    /// and is widened to float32 first elsewhere; the gradient is float32.
    public func maxPool2d(kernel: (Int, Int), stride: (Int, Int)? = nil, padding: (Int, Int) = (0, 0)) throws -> Tensor {
        let x = try widenedUnlessDirect("max_pool2d")
        try x.requireRank(4, "max_pool2d", "input")
        let s = stride ?? kernel
        guard kernel.0 > 0, kernel.1 > 0, s.0 > 0, s.1 > 0 else {
            throw TensorError("max_pool2d: kernel and stride must be positive")
        }
        guard padding.0 * 2 <= kernel.0, padding.1 * 2 <= kernel.1, padding.0 >= 0, padding.1 >= 0 else {
            throw TensorError("max_pool2d: padding \(padding) must be at most half of kernel \(kernel)")
        }
        let p = Pool2dParameters(batch: x.shape[0], channels: x.shape[1], height: x.shape[2], width: x.shape[3],
                                 kernelH: kernel.0, kernelW: kernel.1, strideH: s.0, strideW: s.1,
                                 padH: padding.0, padW: padding.1)
        guard p.outHeight > 0, p.outWidth > 0 else {
            throw TensorError("max_pool2d: input \(describe(x.shape)) is too small for kernel \(kernel)")
        }
        let needsGrad = GradMode.isEnabled && requiresGrad
        let keepsChannelsLast = !needsGrad && x.dtype == .float32 && x.isOnlyChannelsLast
            && ChannelsLastInference.applies(to: x.backend)
        let input = keepsChannelsLast ? x : try x.contiguous()
        let outShape = [p.batch, p.channels, p.outHeight, p.outWidth]
        let out = try Tensor.empty(outShape, dtype: x.dtype, device: x.device, channelsLast: keepsChannelsLast)
        let workspace = needsGrad
            ? try Tensor.empty([x.backend.maxPool2dWorkspaceBytes(p)], dtype: .uint8, device: x.device) : nil
        try x.backend.maxPool2dForward(input, into: out, workspace: workspace, p)
        guard let workspace else { return out }
        let (inputShape, device) = (x.shape, x.device)   // the input itself is not needed by the backward
        return Tensor.record("max_pool2d", out, inputs: [self]) { g in
            let gradInput = try Tensor.empty(inputShape, device: device)
            try g.backend.maxPool2dBackward(g.contiguous(), workspace: workspace, into: gradInput, p)
            return [gradInput]
        }
    }

    /// Nearest-neighbour upsampling by an integer factor (nn.Upsample(scale_factor=f, mode="nearest")).
    /// A 16-bit input (an autocast chain's activation) is widened first: the result and the
    /// gradient are float32.
    public func upsampleNearest(factor: Int) throws -> Tensor {
        let x = try dtype.isFloatingPoint ? promoted(to: .float32) : self
        try x.requireFloat32("upsample")
        try x.requireRank(4, "upsample", "input")
        guard factor >= 1 else { throw TensorError("upsample: factor must be at least 1, found \(factor)") }
        let keepsChannelsLast = !(GradMode.isEnabled && requiresGrad) && x.isOnlyChannelsLast
            && ChannelsLastInference.applies(to: x.backend)
        let input = keepsChannelsLast ? x : try x.contiguous()
        let outShape = [x.shape[0], x.shape[1], x.shape[2] * factor, x.shape[3] * factor]
        let out = try Tensor.empty(outShape, device: x.device, channelsLast: keepsChannelsLast)
        try x.backend.upsampleNearestForward(input, factor: factor, into: out)
        let (inputShape, device) = (x.shape, x.device)
        return Tensor.record("upsample", out, inputs: [self]) { g in
            let gradInput = try Tensor.empty(inputShape, device: device)
            try g.backend.upsampleNearestBackward(g.contiguous(), factor: factor, into: gradInput)
            return [gradInput]
        }
    }
}
