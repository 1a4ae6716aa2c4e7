/// A training conv-BN-activation unit, the block YOLO models are made of, as one operation.
extension Tensor {
    /// `conv2d` (no bias, one group) then `batchNormActivation`: the same results, gradients and
    /// running-statistics update. Where the backend keeps the convolution's activations in its
    /// blocked layout for this shape (oneDNN's nChw16c on AVX-512 CPUs, float32), the
    /// convolution's result never exists in NCHW: the fused batch norm reads it blocked and writes
    /// its gradient blocked, and the forward's blocked input serves the weight gradient, which
    /// saves three of the five reorders a convolution otherwise runs per step. Elsewhere (other
    /// shapes, autocast, other backends, `CPUConvolutions.blockedUnits` false) the two operations
    /// run one after the other.
    public func convBatchNormActivation(convWeight: Tensor, stride: (Int, Int), padding: (Int, Int), bnWeight: Tensor,
                                        bnBias: Tensor, runningMean: Tensor, runningVar: Tensor,
                                        activation: FusedActivation, momentum: Float = 0.1,
                                        epsilon: Float = 1e-5) throws -> Tensor {
        let x = self
        var p: Conv2dParameters?
        if (Autocast.computeType ?? .float32) == .float32, x.dtype == .float32, convWeight.dtype == .float32,
           x.rank == 4, convWeight.rank == 4, x.shape[1] == convWeight.shape[1], bnWeight.shape == [convWeight.shape[0]],
           stride.0 > 0, stride.1 > 0, padding.0 >= 0, padding.1 >= 0 {
            let q = Conv2dParameters(batch: x.shape[0], inChannels: x.shape[1], height: x.shape[2], width: x.shape[3],
                                     outChannels: convWeight.shape[0], kernelHeight: convWeight.shape[2],
                                     kernelWidth: convWeight.shape[3], strideH: stride.0, strideW: stride.1,
                                     padH: padding.0, padW: padding.1)
            if q.outHeight > 0, q.outWidth > 0, q.batch * q.outHeight * q.outWidth > 1,
               x.backend.convolutionUnitKeepsBlockedLayout(q) {
                p = q
            }
        }
        guard let p else {
            return try x.conv2d(weight: convWeight, stride: stride, padding: padding)
                .batchNormActivation(weight: bnWeight, bias: bnBias, runningMean: runningMean, runningVar: runningVar,
                                     activation: activation, momentum: momentum, epsilon: epsilon)
        }
        try Tensor.sameDevice("conv + batch norm + activation", [x, convWeight])
        let resultShape = [p.batch, p.outChannels, p.outHeight, p.outWidth]
        let convResult = try Tensor.empty(resultShape, device: x.device)
        // (The batch norm's checks, on the tensor it normalises.)
        let perChannel = try convResult.checkBatchNorm("conv + batch norm + activation", weight: bnWeight, bias: bnBias,
                                                       runningMean: runningMean, runningVar: runningVar, training: true)
        let input = try x.contiguous(), weight = try convWeight.contiguous()
        let scale = try bnWeight.contiguous(), shift = try bnBias.contiguous()
        let blockedInput = try input.emptyLike()
        let out = try Tensor.empty(resultShape, device: x.device)
        let mean = try Tensor.empty([p.outChannels], device: x.device)
        let variance = try Tensor.empty([p.outChannels], device: x.device)
        try x.backend.convolutionUnitForward(input, weight: weight, scale: scale, shift: shift, mean: mean,
                                             variance: variance, epsilon: epsilon, activation: activation,
                                             blockedInput: blockedInput, convResult: convResult, into: out, p)
        try Tensor.updateRunningStatistics(runningMean, runningVar, batchMean: mean, batchVariance: variance,
                                           count: perChannel, momentum: momentum)
        let needsInputGrad = x.requiresGrad, needsWeightGrad = convWeight.requiresGrad
        let needsShiftScaleGrad = bnWeight.requiresGrad || bnBias.requiresGrad
        // Without a weight gradient (a frozen backbone) the blocked input is not kept.
        let savedInput = needsWeightGrad ? blockedInput : nil
        return Tensor.record("conv_batch_norm_activation", out, inputs: [x, convWeight, bnWeight, bnBias]) { g in
            let gradInput = needsInputGrad ? try Tensor.empty([p.batch, p.inChannels, p.height, p.width], device: g.device) : nil
            let gradWeight = needsWeightGrad ? try weight.emptyLike() : nil
            let gradScale = needsShiftScaleGrad ? try scale.emptyLike() : nil
            let gradShift = needsShiftScaleGrad ? try shift.emptyLike() : nil
            try g.backend.convolutionUnitBackward(g.contiguous(), blockedInput: savedInput, convResult: convResult,
                                                  weight: weight, scale: scale, shift: shift, mean: mean,
                                                  variance: variance, epsilon: epsilon, activation: activation,
                                                  gradInput: gradInput, gradWeight: gradWeight, gradScale: gradScale,
                                                  gradShift: gradShift, p)
            return [gradInput, gradWeight, gradScale, gradShift]
        }
    }
}
