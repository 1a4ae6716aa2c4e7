import Foundation

/// The reference's per-epoch output: the Start/Finish lines, the unfreezing line, "Epoch:x/y" and
/// "Total Loss || Val Loss", and the loss folder's files through `TrainingLog` (epoch_loss.txt,
/// epoch_val_loss.txt, epoch_map.txt, their curves, TensorBoard's per-epoch scalars).
final class EpochLogHook: TrainingHook {
    let logs: TrainingLog
    private var phasesSeen = 0

    init(logs: TrainingLog) { self.logs = logs }

    func beforePhase(_ c: TrainingContext) throws {
        phasesSeen += 1
        if c.phase.frozen {
            c.log("Backbone frozen for epochs \(c.epoch + 1)-\(c.plan.freezeEpoch) (Freeze_batch_size \(c.phase.batchSize), "
                  + "lr \(c.phase.lr) to \(c.phase.minLR)); unfrozen from epoch \(c.plan.freezeEpoch + 1) to \(c.plan.totalEpochs)")
        } else if phasesSeen > 1 {
            c.log("Unfreezing the backbone at epoch \(c.epoch + 1): batch size \(c.phase.batchSize), lr \(c.phase.lr) to \(c.phase.minLR)")
        }
    }

    func beforeEpoch(_ c: TrainingContext) throws { c.log("Start Train") }

    func afterTrainEpoch(_ c: TrainingContext) throws { c.log("Finish Train") }

    func afterValidation(_ c: TrainingContext) throws {
        try logs.record(epoch: c.epoch + 1, loss: c.meanLoss, valLoss: c.valLoss)
        if let map = c.epochMAP { try logs.record(epoch: c.epoch + 1, map: map) }
        c.log("Epoch:\(c.epoch + 1)/\(c.totalEpochs)")
        c.log(String(format: "Total Loss: %.3f || Val Loss: %.3f ", c.meanLoss, c.valLoss))
    }
}
