import Foundation
import NN
import TensorCore

/// Checkpoint files in `save_dir` (SPEC §3) and the resume point.
public enum Checkpoints {
    public static let resumeName = "resume_point.pth"

    public static func epochName(_ epoch: Int, loss: Double, valLoss: Double) -> String {
        String(format: "ep%03d-loss%.3f-val_loss%.3f.pth", epoch, loss, valLoss)
    }

    /// The model's state dict, written atomically.
    public static func saveWeights(_ model: Module, to path: String) throws {
        try PthWriter.save(stateDict: model.stateDict(), to: path)
    }

    /// Removes the oldest ep*.pth beyond the newest `keep` (0 keeps all).
    public static func prune(saveDir: String, keep: Int) {
        guard keep > 0 else { return }
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: saveDir)) ?? [])
            .filter { $0.hasPrefix("ep") && $0.hasSuffix(".pth") }.sorted()
        for name in files.dropLast(keep) { try? FileManager.default.removeItem(atPath: (saveDir as NSString).appendingPathComponent(name)) }
    }
}

/// Everything needed to continue a run exactly: weights, optimizer state, where in the schedule
/// (epoch, batch within it, phase), the running loss of the epoch, best val loss and log folder.
public struct ResumePoint {
    public var epoch: Int           // 0-based epoch to continue
    public var batch: Int           // batches of that epoch already done
    public var unfrozen: Bool
    public var lossSum: Double      // sum of the done batches' losses in that epoch
    public var bestValLoss: Double?
    public var logFolder: String
    public var seed: Int

    public func save(model: Module, optimizer: Optimizer, to path: String) throws {
        try PthWriter.save(.dict([
            ("model", .dict(model.stateDict().map { ($0.0, .tensor($0.1)) })),
            ("optimizer", optimizer.stateDict()),
            ("epoch", .int(epoch)), ("batch", .int(batch)), ("unfrozen", .bool(unfrozen)), ("loss_sum", .double(lossSum)),
            ("best_val_loss", bestValLoss.map { .double($0) } ?? .none), ("log_folder", .string(logFolder)), ("seed", .int(seed)),
        ]), to: path)
    }

    public static func load(_ path: String, model: Module, optimizer: Optimizer) throws -> ResumePoint {
        let value = try PthReader.load(path)
        guard let state = value["model"]?.stateDict, let epoch = value["epoch"]?.intValue, let batch = value["batch"]?.intValue,
              let optimizerState = value["optimizer"], let folder = value["log_folder"]?.stringValue else {
            throw YOLOError("\(path): not a resume point written by train (use model_path for plain weights)")
        }
        let report = try model.load(stateDict: state)
        guard report.skipped.isEmpty, report.missing.isEmpty else {
            throw YOLOError("\(path): the saved model does not match this configuration (\(report.skipped.count) tensors differ, "
                            + "\(report.missing.count) missing); resume with the configuration of that run")
        }
        try optimizer.load(stateDict: optimizerState)
        var unfrozen = false
        if case .bool(let b)? = value["unfrozen"] { unfrozen = b }
        return ResumePoint(epoch: epoch, batch: batch, unfrozen: unfrozen, lossSum: value["loss_sum"]?.doubleValue ?? 0,
                           bestValLoss: value["best_val_loss"]?.doubleValue, logFolder: folder, seed: value["seed"]?.intValue ?? 0)
    }
}
