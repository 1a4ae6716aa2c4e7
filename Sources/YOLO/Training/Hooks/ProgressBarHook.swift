import Foundation

/// The per-epoch progress bar with the running loss and lr, drawn on standard error when it is a
/// terminal; elsewhere (a log file, CI, a job scheduler) the iteration log lines say the same.
final class ProgressBarHook: TrainingHook {
    private var bar: ProgressBar?

    func beforeEpoch(_ c: TrainingContext) throws {
        bar = ProgressBar(title: "Epoch \(c.epoch + 1)/\(c.totalEpochs)", total: c.stepsInEpoch, unit: "it")
    }

    func afterStep(_ c: TrainingContext) throws {
        bar?.update(c.batchInEpoch, status: status(c, steps: c.batchInEpoch))
    }

    func afterTrainEpoch(_ c: TrainingContext) throws {
        bar?.finish(status: status(c, steps: max(c.stepsInEpoch, 1)))
        bar = nil
    }

    func onInterrupt(_ c: TrainingContext) throws {
        if bar != nil { FileHandle.standardError.write(Data("\n".utf8)) }
        bar = nil
    }

    private func status(_ c: TrainingContext, steps: Int) -> String {
        String(format: "loss %.3f lr %.2e", c.epochLossSum / Double(max(steps, 1)), c.optimizer.lr)
    }
}
