import Foundation
import NN

/// `patience = N`: ends the run cleanly after N epochs without a better validation mAP (or, with
/// eval_flag off, a lower validation loss), saying why. Only epochs that measure the metric are
/// judged (mAP comes every eval_period epochs).
final class EarlyStoppingHook: TrainingHook, ResumableState {
    let patience: Int
    private(set) var best: Double?
    private(set) var bestEpoch = 0

    init(patience: Int) { self.patience = patience }

    func afterValidation(_ c: TrainingContext) throws {
        let usesMAP = c.config.evalFlag
        guard let value = usesMAP ? c.epochMAP : c.valLoss else { return }
        let epoch = c.epoch + 1
        if best == nil || (usesMAP ? value > best! : value < best!) {
            best = value
            bestEpoch = epoch
            return
        }
        guard epoch - bestEpoch >= patience else { return }
        let metric = usesMAP ? "validation mAP@0.5" : "validation loss"
        let shown = usesMAP ? String(format: "%.2f%%", best! * 100) : String(format: "%.3f", best!)
        c.stopReason = "early stopping at epoch \(epoch): no better \(metric) for \(epoch - bestEpoch) epochs "
            + "(patience \(patience)); the best was \(shown) at epoch \(bestEpoch)"
    }

    let resumeKey = "early_stopping"
    func resumeState() -> CheckpointValue {
        .dict([("best", best.map { .double($0) } ?? .none), ("best_epoch", .int(bestEpoch))])
    }

    func restore(_ value: CheckpointValue) throws {
        best = value["best"]?.doubleValue
        bestEpoch = value["best_epoch"]?.intValue ?? 0
    }
}
