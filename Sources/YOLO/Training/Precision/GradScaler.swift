import Foundation
import NN
import TensorCore

/// Loss scaling for float16 training with PyTorch's GradScaler semantics and defaults: the loss is
/// multiplied by `scale` before backward so small gradients survive float16; the gradients are
/// unscaled once (before clipping and the optimizer, which see true values); a step whose
/// gradients hold inf/NaN is skipped and the scale halves; after `growthInterval` clean steps in a
/// row the scale doubles. bfloat16 has float32's range and needs none of this.
public final class GradScaler: StepExtension, ResumableState {
    public private(set) var scale: Double
    public let growthFactor: Double
    public let backoffFactor: Double
    public let growthInterval: Int
    /// Clean steps since the last change of the scale (PyTorch's growth tracker).
    public private(set) var cleanSteps = 0
    public private(set) var consecutiveSkips = 0
    public private(set) var skippedSteps = 0
    /// Overflowing steps in a row after which the run stops: the scale has fallen below anything
    /// float16 can use, so the gradients are not merely large but broken.
    public let maxConsecutiveSkips: Int

    public init(initialScale: Double = 65536, growthFactor: Double = 2, backoffFactor: Double = 0.5, growthInterval: Int = 2000,
                maxConsecutiveSkips: Int = 40) {
        precondition(initialScale > 0 && growthFactor > 1 && backoffFactor > 0 && backoffFactor < 1 && growthInterval > 0)
        scale = initialScale
        self.growthFactor = growthFactor
        self.backoffFactor = backoffFactor
        self.growthInterval = growthInterval
        self.maxConsecutiveSkips = maxConsecutiveSkips
    }

    public func scale(loss: Tensor) throws -> Tensor { try loss * Float(scale) }

    /// Unscales in place, so that the gradient norm, clipping and the optimizer see true values.
    public func processGradients(_ parameters: [(String, Parameter)], context: TrainingContext) throws -> Bool {
        try unscale(parameters.map(\.1))
        return true
    }

    public func unscale(_ parameters: [Parameter]) throws { try GradientNorm.scale(parameters, by: 1 / scale) }

    /// The optimizer step runs only when every gradient is finite: their global norm (measured
    /// once by the step, after unscaling) is inf or NaN as soon as one of them is.
    public func accepts(gradientNorm: Double) -> Bool { gradientNorm.isFinite }

    public func afterOptimizer(skipped: Bool, context: TrainingContext) throws {
        try update(skipped: skipped, position: "epoch \(context.epoch + 1), batch \(context.batchInEpoch + 1) "
                   + "(iteration \(context.iteration + 1))", weightsDir: context.config.weightsDir)
    }

    /// The scale's update after a step (PyTorch's `update()`).
    public func update(skipped: Bool, position: String = "", weightsDir: String = "") throws {
        guard skipped else {
            consecutiveSkips = 0
            cleanSteps += 1
            if cleanSteps == growthInterval {
                scale *= growthFactor
                cleanSteps = 0
            }
            return
        }
        skippedSteps += 1
        consecutiveSkips += 1
        cleanSteps = 0
        scale *= backoffFactor
        if consecutiveSkips >= maxConsecutiveSkips {
            throw YOLOError("fp16: the gradients overflowed (inf/NaN) in \(consecutiveSkips) steps in a row up to \(position); "
                            + "the loss scale fell to \(scale) and no step was taken since. Stopped without saving these "
                            + "weights" + (weightsDir.isEmpty ? "" : " (the last good ones are in \(weightsDir))")
                            + ". Lower Init_lr, check the data, or train with amp_dtype = 'bfloat16' or fp16 = False")
        }
    }

    public let resumeKey = "grad_scaler"
    public func resumeState() -> CheckpointValue {
        .dict([("scale", .double(scale)), ("growth_tracker", .int(cleanSteps)), ("consecutive_skips", .int(consecutiveSkips)),
               ("skipped_steps", .int(skippedSteps))])
    }

    public func restore(_ value: CheckpointValue) throws {
        guard let saved = value["scale"]?.doubleValue, saved > 0, saved.isFinite else {
            throw YOLOError("the resume point's grad_scaler state has no valid scale")
        }
        scale = saved
        cleanSteps = value["growth_tracker"]?.intValue ?? 0
        consecutiveSkips = value["consecutive_skips"]?.intValue ?? 0
        skippedSteps = value["skipped_steps"]?.intValue ?? 0
    }
}

/// Runs the forward pass under autocast (the loss, backward bookkeeping and optimizer stay
/// float32; convolutions' backward passes use the type their forward ran in).
public final class AutocastExtension: StepExtension {
    public let type: DType

    public init(type: DType) {
        precondition(type == .bfloat16 || type == .float16)
        self.type = type
    }

    public func forward(_ body: () throws -> [Tensor]) throws -> [Tensor] { try Autocast.with(type, body) }
}
