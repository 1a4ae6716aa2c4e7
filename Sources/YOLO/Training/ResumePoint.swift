import Foundation
import NN
import TensorCore

/// Everything needed to continue a run exactly: weights (and the EMA's when on), optimizer state,
/// where in the schedule (epoch, batch within it, phase, global iteration), the running loss of the
/// epoch, best val loss, log folder, and the state of hooks and step extensions (`extra`).
/// `resume_point.pth` and every `iter_N.pth` are resume points.
public struct ResumePoint {
    public var epoch: Int           // 0-based epoch to continue
    public var batch: Int           // batches of that epoch already done
    public var unfrozen: Bool
    public var lossSum: Double      // sum of the done batches' losses in that epoch
    public var bestValLoss: Double?
    public var logFolder: String
    public var seed: Int
    public var iteration: Int?
    /// The run's effective configuration as parameter-file text (`TrainConfig.parameterText`).
    public var configuration: String?
    public var extra: [(String, CheckpointValue)] = []
    /// The evaluation (EMA) weights, when the file holds them beside the raw ones.
    public var evaluationWeights: [(String, Tensor)]?

    public init(epoch: Int, batch: Int, unfrozen: Bool, lossSum: Double, bestValLoss: Double?, logFolder: String, seed: Int,
                iteration: Int? = nil, configuration: String? = nil, extra: [(String, CheckpointValue)] = []) {
        self.epoch = epoch; self.batch = batch; self.unfrozen = unfrozen; self.lossSum = lossSum
        self.bestValLoss = bestValLoss; self.logFolder = logFolder; self.seed = seed; self.iteration = iteration
        self.configuration = configuration
        self.extra = extra
    }

    /// `model` holds the weights to use (the EMA's when `evaluationModel` differs, so predict and
    /// get_map read the averaged weights from it too); `raw_model` the trained ones in that case.
    public func save(model: Module, evaluationModel: Module? = nil, optimizer: Optimizer, to path: String) throws {
        func weights(_ m: Module) -> CheckpointValue { .dict(m.stateDict().map { ($0.0, .tensor($0.1)) }) }
        var entries: [(String, CheckpointValue)]
        if let evaluationModel, evaluationModel !== model {
            entries = [("model", weights(evaluationModel)), ("raw_model", weights(model))]
        } else {
            entries = [("model", weights(model))]
        }
        entries += [
            ("optimizer", optimizer.stateDict()),
            ("epoch", .int(epoch)), ("batch", .int(batch)), ("unfrozen", .bool(unfrozen)), ("loss_sum", .double(lossSum)),
            ("best_val_loss", bestValLoss.map { .double($0) } ?? .none), ("log_folder", .string(logFolder)), ("seed", .int(seed)),
        ]
        if let iteration { entries.append(("iteration", .int(iteration))) }
        if let configuration { entries.append(("config", .string(configuration))) }
        if !extra.isEmpty { entries.append(("hooks", .dict(extra))) }
        try PthWriter.save(.dict(entries), to: path)
    }

    public static func load(_ path: String, model: Module, optimizer: Optimizer) throws -> ResumePoint {
        let value = try PthReader.load(path)
        let raw = value["raw_model"]?.stateDict
        guard let state = raw ?? value["model"]?.stateDict, let epoch = value["epoch"]?.intValue, let batch = value["batch"]?.intValue,
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
        var extra: [(String, CheckpointValue)] = []
        if case .dict(let pairs)? = value["hooks"] { extra = pairs }
        var point = ResumePoint(epoch: epoch, batch: batch, unfrozen: unfrozen, lossSum: value["loss_sum"]?.doubleValue ?? 0,
                                bestValLoss: value["best_val_loss"]?.doubleValue, logFolder: folder, seed: value["seed"]?.intValue ?? 0,
                                iteration: value["iteration"]?.intValue, configuration: value["config"]?.stringValue, extra: extra)
        if raw != nil { point.evaluationWeights = value["model"]?.stateDict }
        return point
    }

    /// The configuration text a resume point was written with (nil for points written before it was kept).
    public static func configuration(in path: String) throws -> String? {
        let value = try PthReader.load(path)
        guard value["epoch"]?.intValue != nil, value["optimizer"] != nil else {
            throw YOLOError("\(path): not a resume point written by train (use model_path for plain weights)")
        }
        return value["config"]?.stringValue
    }

    /// The newest resume point in a folder (resume_point.pth or iter_N.pth, by modification time).
    public static func newest(in folder: String) -> String? {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [])
            .filter { $0 == Checkpoints.resumeName || Checkpoints.iterationNumber($0) != nil }
        func modified(_ name: String) -> Date {
            let path = (folder as NSString).appendingPathComponent(name)
            return ((try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date) ?? .distantPast
        }
        let newest = names.max { (modified($0), Checkpoints.iterationNumber($0) ?? 0) < (modified($1), Checkpoints.iterationNumber($1) ?? 0) }
        return newest.map { (folder as NSString).appendingPathComponent($0) }
    }
}
