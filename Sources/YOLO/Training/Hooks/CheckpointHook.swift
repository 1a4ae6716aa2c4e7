import Foundation

/// Checkpoints as MMDetection's CheckpointHook, with the reference's file names (SPEC §3), in
/// out_dir (default save_dir):
/// - by epoch (default): `ep###-loss-val_loss.pth` every `checkpoint_interval` epochs and at the end;
/// - by iteration: `iter_N.pth` every `checkpoint_interval` iterations, each a full resume point
///   (weights, optimizer, position), so a run continues mid-epoch from it;
/// - the newest `max_keep_ckpts` of them kept (0 keeps all);
/// - every epoch: best_epoch_weights.pth (lowest val loss), last_epoch_weights.pth and
///   resume_point.pth; on Ctrl-C last_epoch_weights.pth and a mid-epoch resume_point.pth.
/// Weights are the evaluation weights (the EMA's when on). Every file is written atomically; a
/// failed save stops the run naming the file, with the previous files intact.
final class CheckpointHook: TrainingHook {
    private var lastResumePoint: (path: String, epoch: Int, batch: Int)?

    func path(_ c: TrainingContext, _ name: String) -> String { (c.config.weightsDir as NSString).appendingPathComponent(name) }

    func afterStep(_ c: TrainingContext) throws {
        guard !c.config.checkpointByEpoch, c.iteration % c.config.savePeriod == 0 else { return }
        let file = path(c, Checkpoints.iterationName(c.iteration))
        try saveResumePoint(c, to: file, atEpochEnd: false)
        Checkpoints.pruneIterations(in: c.config.weightsDir, keep: c.config.keepCheckpoints)
    }

    func afterEpoch(_ c: TrainingContext) throws {
        let config = c.config
        if config.checkpointByEpoch && ((c.epoch + 1) % config.savePeriod == 0 || c.isFinalEpoch) {
            try save(c) { try Checkpoints.saveWeights(c.evaluationModel, to: path(c, Checkpoints.epochName(c.epoch + 1, loss: c.meanLoss, valLoss: c.valLoss))) }
            Checkpoints.prune(saveDir: config.weightsDir, keep: config.keepCheckpoints)
        }
        if c.bestValLoss == nil || c.valLoss <= c.bestValLoss! {
            c.log("Save best model to best_epoch_weights.pth")
            c.bestValLoss = c.valLoss
            try saveWeights(c, "best_epoch_weights.pth")
        }
        try saveWeights(c, "last_epoch_weights.pth")
        try saveResumePoint(c, to: path(c, Checkpoints.resumeName), atEpochEnd: true)
    }

    /// best/last_epoch_weights, with their float16 copy when save_half is on.
    private func saveWeights(_ c: TrainingContext, _ name: String) throws {
        try save(c) { try Checkpoints.saveWeights(c.evaluationModel, to: path(c, name)) }
        if c.config.saveHalf { try save(c) { try Checkpoints.saveHalfWeights(c.evaluationModel, besides: path(c, name)) } }
    }

    func onInterrupt(_ c: TrainingContext) throws {
        try saveWeights(c, "last_epoch_weights.pth")
        let file = path(c, Checkpoints.resumeName)
        try saveResumePoint(c, to: file, atEpochEnd: false)
        c.log("Interrupted at epoch \(c.epoch + 1), batch \(c.batchInEpoch). Saved last_epoch_weights.pth and \(Checkpoints.resumeName) in "
              + "\(c.config.weightsDir). Continue the same run with: "
              + (c.peers.ranks > 1 ? "./scripts/dist_train.sh CONFIG \(c.peers.ranks) --resume \(file)" : "train --resume \(file)"))
    }

    private func saveResumePoint(_ c: TrainingContext, to file: String, atEpochEnd: Bool) throws {
        let point = c.resumePoint(atEpochEnd: atEpochEnd)
        try save(c) { try point.save(model: c.model, evaluationModel: c.evaluationModel, optimizer: c.optimizer, to: file) }
        lastResumePoint = (file, point.epoch, point.batch)
    }

    /// Runs a save; on failure stops the run with the file's error and where to continue from.
    private func save(_ c: TrainingContext, _ body: () throws -> Void) throws {
        do { try body() } catch {
            let resume = lastResumePoint.map { "the last complete resume point is \($0.path) (epoch \($0.epoch + 1), batch \($0.batch)); "
                + "continue with: train --resume \($0.path)" } ?? "no resume point of this run was written yet"
            throw YOLOError("training stopped: \(error). The files saved before are intact; \(resume)")
        }
    }
}
