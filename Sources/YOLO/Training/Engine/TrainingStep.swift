import Foundation
import NN
import TensorCore

/// What one training step measured.
public struct StepResult {
    public var loss: Double
    /// Each loss term as the loss computes it (loss_box, loss_obj, loss_cls); they sum to `loss`.
    public var terms: [(name: String, value: Double)]
    /// The gradient norm before clipping.
    public var gradNorm: Double
    public var clipped: Bool
    /// The optimizer step was skipped (an extension decided so, e.g. overflowing scaled gradients).
    public var skipped: Bool
    /// The loss scale after the step, when a GradScaler trains in float16.
    public var lossScale: Double? = nil
}

/// One training step: forward, loss, backward, optimizer. The engine calls it once per batch; a
/// different step (or the standard one with extensions) changes how a step is taken without
/// touching the loop.
public protocol TrainingStep: AnyObject {
    func run(_ batch: Batch, context: TrainingContext) throws -> StepResult
    /// What of the step goes into resume points (itself, its extensions).
    var resumableStates: [ResumableState] { get }
}

extension TrainingStep {
    public var resumableStates: [ResumableState] { (self as? ResumableState).map { [$0] } ?? [] }
}

/// A change to how the standard step works, at the points mixed precision and data parallelism
/// need: around the forward pass, on the loss before backward, on the gradients before clipping
/// and the optimizer (returning false skips the optimizer step), on the gradient norm the step
/// then measures once (returning false skips it too), and after the optimizer.
public protocol StepExtension: AnyObject {
    func forward(_ body: () throws -> [Tensor]) throws -> [Tensor]
    func scale(loss: Tensor) throws -> Tensor
    /// Just before backward, with the parameters that will get gradients; then, during backward,
    /// each leaf as soon as its gradient is final (DDP starts its bucket all-reduces there).
    func beforeBackward(_ parameters: [(String, Parameter)]) throws
    func gradientReady(_ leaf: Tensor) throws
    func processGradients(_ parameters: [(String, Parameter)], context: TrainingContext) throws -> Bool
    func accepts(gradientNorm: Double) -> Bool
    func afterOptimizer(skipped: Bool, context: TrainingContext) throws
}

extension StepExtension {
    public func forward(_ body: () throws -> [Tensor]) throws -> [Tensor] { try body() }
    public func scale(loss: Tensor) throws -> Tensor { loss }
    public func beforeBackward(_ parameters: [(String, Parameter)]) throws {}
    public func gradientReady(_ leaf: Tensor) throws {}
    public func processGradients(_ parameters: [(String, Parameter)], context: TrainingContext) throws -> Bool { true }
    public func accepts(gradientNorm: Double) -> Bool { true }
    public func afterOptimizer(skipped: Bool, context: TrainingContext) throws {}
}

/// The reference's step, with the gradient norm measured (and clipped when `clipNorm` > 0, as
/// PyTorch's clip_grad_norm_) before the optimizer.
public final class StandardStep: TrainingStep {
    public let loss: YOLOLoss
    public let clipNorm: Double
    public var extensions: [StepExtension] = []
    /// How the step gets the model's outputs for a batch (DP's replicas); nil: the model itself.
    public var outputs: ((Tensor) throws -> [Tensor])?
    public var resumableStates: [ResumableState] { extensions.compactMap { $0 as? ResumableState } }

    public init(loss: YOLOLoss, clipNorm: Double = 0) {
        self.loss = loss
        self.clipNorm = clipNorm
    }

    public func run(_ batch: Batch, context: TrainingContext) throws -> StepResult {
        let model = context.model, optimizer = context.optimizer
        optimizer.zeroGrad()
        let images = try batch.images.to(device: context.device)
        let forward = { try self.outputs?(images) ?? model.outputs(images) }
        let outputs = try extensions.reduce(forward) { inner, ext in { try ext.forward(inner) } }()
        let terms = try loss.terms(outputs, targets: batch.targets)
        let value = try terms.total.item()
        guard value.isFinite else {
            throw YOLOError("the loss became \(value) at epoch \(context.epoch + 1), batch \(context.batchInEpoch + 1); stopped "
                            + "without saving these weights (the last good ones are in \(context.config.weightsDir)). Lower "
                            + "Init_lr or check the data.")
        }
        var scaled = terms.total
        for ext in extensions { scaled = try ext.scale(loss: scaled) }
        let trainable = optimizer.groups.flatMap(\.parameters).filter { $0.1.requiresGrad }
        for ext in extensions { try ext.beforeBackward(trainable) }
        let extensions = self.extensions
        try scaled.backward(leafReady: extensions.isEmpty ? nil : { leaf in for ext in extensions { try ext.gradientReady(leaf) } })

        let parameters = optimizer.groups.flatMap(\.parameters).filter { $0.1.requiresGrad && $0.1.value.grad != nil }
        var apply = true
        for ext in extensions where !(try ext.processGradients(parameters, context: context)) { apply = false }
        let norm = try GradientNorm.total(parameters.map(\.1))
        for ext in extensions where !ext.accepts(gradientNorm: norm) { apply = false }
        var clipped = false
        if apply && clipNorm > 0 && norm > clipNorm {
            try GradientNorm.scale(parameters.map(\.1), by: clipNorm / (norm + 1e-6))
            clipped = true
        }
        if apply { try optimizer.step() }
        for ext in extensions { try ext.afterOptimizer(skipped: !apply, context: context) }

        let parts: [(String, Tensor?)] = [("loss_box", terms.box), ("loss_obj", terms.objectness), ("loss_cls", terms.classification)]
        return StepResult(loss: Double(value), terms: try parts.map { ($0.0, try $0.1.map { Double(try $0.item()) } ?? 0) },
                          gradNorm: norm, clipped: clipped, skipped: !apply,
                          lossScale: extensions.lazy.compactMap { ($0 as? GradScaler)?.scale }.first)
    }
}

/// The global L2 norm of gradients and their rescaling (clip_grad_norm_'s arithmetic).
public enum GradientNorm {
    public static func total(_ parameters: [Parameter]) throws -> Double {
        try withNoGrad {
            var sum: Tensor?
            for p in parameters {
                guard let g = p.value.grad else { continue }
                let squares = try (g * g).sum()
                sum = try sum.map { try $0 + squares } ?? squares
            }
            return try sum.map { Double(try $0.item()).squareRoot() } ?? 0
        }
    }

    public static func scale(_ parameters: [Parameter], by factor: Double) throws {
        try withNoGrad {
            for p in parameters { try p.value.grad?.mul_(Float(factor)) }
        }
    }
}
