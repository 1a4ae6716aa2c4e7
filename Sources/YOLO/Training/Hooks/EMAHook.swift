import Foundation
import NN
import TensorCore

/// `ema = True`: an exponential moving average of the weights (`ModelEMA`, decay ramped by ema_tau)
/// updated after every optimizer step; validation, mAP and the saved weights use it. The resume
/// point carries both the raw weights and the EMA (its weights and update count), so a resumed run
/// continues exactly.
final class EMAHook: TrainingHook, ResumableState {
    let ema: ModelEMA
    let shadow: Detector
    /// The EMA weights of the resume point a run continues from (its `model` entry).
    private let resumedWeights: [(String, Tensor)]?

    /// `shadow` is a second model of the same architecture on the same device.
    init(model: Detector, shadow: Detector, decay: Double, tau: Double, resumedWeights: [(String, Tensor)]? = nil) throws {
        self.shadow = shadow
        self.resumedWeights = resumedWeights
        ema = try ModelEMA(source: model, shadow: shadow, decay: decay, tau: tau)
    }

    func beforeRun(_ c: TrainingContext) throws {
        c.evaluationModel = shadow
        c.log(String(format: "EMA of the weights: decay %g, ramp %g updates (%d so far); validation, mAP and saved weights use it",
                     ema.decay, ema.tau, ema.updates))
    }

    func afterStep(_ c: TrainingContext) throws {
        if c.lastStep?.skipped != true { try ema.update() }
    }

    let resumeKey = "ema"
    func resumeState() -> CheckpointValue { .dict([("updates", .int(ema.updates))]) }

    func restore(_ value: CheckpointValue) throws {
        guard let resumedWeights, let updates = value["updates"]?.intValue else { return }
        try ema.restore(stateDict: resumedWeights, updates: updates)
    }
}
