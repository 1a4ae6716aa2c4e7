import Foundation
import TensorCore

/// The mean validation loss of the evaluation weights in eval mode (running statistics), always
/// over the same batches, with a bar on a terminal; in data-parallel training each rank takes its
/// shard and the mean is over all of them.
final class Validation {
    let loss: YOLOLoss
    let showBar: Bool

    init(loss: YOLOLoss, showBar: Bool) {
        self.loss = loss
        self.showBar = showBar
    }

    func run(context c: TrainingContext, loader: DataLoader) throws -> Double {
        c.log("Start Validation")
        let model = c.evaluationModel
        model.eval()
        defer { c.model.train() }
        var sum = 0.0
        let steps = loader.batchesPerEpoch
        let bar = showBar ? ProgressBar(title: "Epoch \(c.epoch + 1)/\(c.totalEpochs)", total: steps, unit: "it") : nil
        var done = 0
        let batches = loader.batches(epoch: 0)
        defer { batches.stop() }
        while let batch = try batches.nextBatch() {
            sum += Double(try withNoGrad { try loss.total(model.outputs(batch.images.to(device: c.device)), targets: batch.targets).item() })
            done += 1
            bar?.update(done, status: String(format: "val_loss %.3f", sum / Double(done)))
        }
        let total = try c.peers.validationTotals(sum: sum, batches: done)
        let mean = total.sum / Double(max(total.batches, 1))
        bar?.finish(status: String(format: "val_loss %.3f", mean))
        c.log("Finish Validation")
        return mean
    }
}
