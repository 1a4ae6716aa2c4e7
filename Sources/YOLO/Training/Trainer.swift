import Distributed
import Foundation
import NN
import TensorCore

/// The two-phase training run of the reference (SPEC §2-3), assembled from its parts: the data
/// and model are prepared here, then `TrainingEngine` runs the loop (phases, epochs, steps,
/// validation) with the standard step and the hooks that log, evaluate, average (EMA), stop early
/// and save checkpoints and resume points.
public final class Trainer {
    public let config: TrainConfig
    /// Where messages go; silent on the ranks of a DDP run other than the leader.
    private(set) var log: (String) -> Void
    /// Called after every training step with (epoch, batch, loss): tests use it to interrupt.
    public var afterStep: ((Int, Int, Double) -> Void)?
    /// Hooks run after the built-in ones (tests, tools).
    public var extraHooks: [TrainingHook] = []
    /// Changes to the standard step (mixed precision, gradient all-reduce), applied in order.
    public var stepExtensions: [StepExtension] = []
    public var showProgress = true
    /// Train even when the starting weights fill less than half of the backbone (train's --allow-partial-weights).
    public var allowPartialBackbone = false
    /// Overrides `Cuda` when set (train's --device).
    public var requestedDevice: String?
    /// train's --metrics-file: one JSON line per epoch (val_loss, mAP) for a process that follows it.
    public var metricsFile: String?
    /// train's --stop-after-epoch: end the run after this epoch, resumable.
    public var stopAfterEpoch: Int?
    /// Where the model and batches live; chosen at the start of `run`.
    public private(set) var device: Device = .cpu
    /// Held while a run goes on: one run per folder.
    private var runLocks: [RunLock] = []

    public struct Outcome {
        public var epochsDone: Int
        public var lastMAP: Double?
        public var logFolder: String
        public var interrupted: Bool
        public var losses: [Double]
        public var valLosses: [Double]
        /// Why the run ended before UnFreeze_Epoch (early stopping), if it did.
        public var stopReason: String?
        /// Training steps done over the whole run.
        public var iterations: Int
        /// This process prints the run's summary (false on the ranks of a DDP run other than the leader).
        public var isLeader = true
    }

    public init(config: TrainConfig, log: @escaping (String) -> Void = { print($0) }) {
        self.config = config
        self.log = log
    }

    public func run(resumeFrom: String? = nil) throws -> Outcome {
        guard let parallel = try joinDataParallel() else { return try train(resumeFrom: resumeFrom, parallel: nil) }
        if !parallel.isLeader { log = { _ in } }
        do {
            let outcome = try train(resumeFrom: resumeFrom, parallel: parallel)
            try parallel.world.barrier()
            try parallel.world.finish()
            return outcome
        } catch {
            // One rank's failure ends the job: say which rank, where and why, then stop every rank.
            FileHandle.standardError.write(Data("\(parallel.world.rankName): error: \(error)\n".utf8))
            parallel.world.abortJob(code: 1)
        }
    }

    private func train(resumeFrom: String?, parallel: DataParallel?) throws -> Outcome {
        let c = config
        let leader = parallel?.isLeader ?? true
        defer { runLocks = [] }   // the folders are free again once the run ends
        if let parallel { try parallel.checkSameConfiguration(c) }
        // A DDP rank with Cuda = True takes the GPU of its local rank, as torchrun's LOCAL_RANK.
        device = try DeviceSelection.choose(cuda: c.cuda, gpu: parallel?.world.localRank ?? 0, requested: requestedDevice, log: log)
        CPUConvolutions.winograd = c.winograd
        let data = try TrainingData(config: c)
        let kind = try ModelKind(parsing: c.model)
        let model = try kind.make(numClasses: data.classes.count, anchorsMask: c.anchorsMask, seed: UInt64(c.seed))
        try loadInitialWeights(model, kind: kind)
        try model.to(device: device)
        printConfiguration(numTrain: data.trainLines.count, numVal: data.valLines.count)

        var loss = makeLoss(anchors: data.anchors, classes: data.classes.count)
        let plan = PhasePlan(config: c, trainImages: data.trainLines.count)
        let optimizer = Optimizer(OptimizerKind(rawValue: c.optimizerType)!,
                                  groups: ParameterGroup.yoloGroups(model, weightDecay: Float(c.weightDecay)),
                                  lr: Float(plan.phase(epoch: c.initEpoch).lr), momentum: Float(c.momentum))
        if let parallel { try prepare(parallel, model: model, loss: &loss) }
        let start = try resumeFrom.map { try resume(from: $0, model: model, optimizer: optimizer, ranks: parallel?.ranks ?? 1) }
        let logs = try leader ? prepareOutput(start: start) : nil
        let logFolder = try parallel.map { try $0.world.broadcast(logs?.folder ?? "") } ?? logs!.folder
        let context = TrainingContext(config: c, model: model, optimizer: optimizer, device: device, plan: plan, logFolder: logFolder,
                                      valLines: data.valLines, anchors: data.anchors, start: start,
                                      peers: parallel ?? SoloPeers(), log: log)
        var hooks = try logs.map { try makeHooks(logs: $0, model: model, kind: kind, classes: data.classes.count, start: start) }
            ?? makeFollowerHooks(model: model, kind: kind, classes: data.classes.count, start: start)
        if let parallel { hooks.append(parallel) }
        let step = StandardStep(loss: loss, clipNorm: c.clipGradNorm)
        let reduce = parallel.map { [GradientAllReduce(parallel: $0, model: model, broadcastsBuffers: !c.syncBN)] as [StepExtension] } ?? []
        step.extensions = try reduce + precision(model: model, data: data, parallel: parallel).stepExtensions() + stepExtensions
        if parallel == nil, let replicas = try makeReplicas(kind: kind, model: model, classes: data.classes.count) {
            step.outputs = replicas.outputs
            step.extensions.insert(replicas, at: 0)   // the replicas' gradients are the model's before anything reads them
        }
        let ranks = parallel?.ranks ?? 1, rank = parallel?.world.rank ?? 0
        let engine = TrainingEngine(context: context, step: step, hooks: hooks,
                                    validation: Validation(loss: loss, showBar: showsBars && leader),
                                    loaders: { batch in
                                        let perRank = try parallel?.perRankBatch(batch, key: "the batch size") ?? batch
                                        return try data.loaders(batchSize: perRank, shard: (rank, ranks))
                                    })
        for state in context.resumables {
            if let saved = start?.extra.first(where: { $0.0 == state.resumeKey })?.1 { try state.restore(saved) }
        }
        let ending = try engine.run()
        logHookCost(context)
        if let parallel { logReduceCost(parallel, context) }
        var stopReason: String?
        if case .stoppedEarly(let reason) = ending {
            stopReason = reason
            log("Stopping: \(reason).")
        }
        return Outcome(epochsDone: ending == .interrupted ? context.epoch : context.epoch + 1, lastMAP: context.lastMAP,
                       logFolder: logFolder, interrupted: ending == .interrupted, losses: logs?.losses ?? [],
                       valLosses: logs?.valLosses ?? [],
                       stopReason: stopReason, iterations: context.iteration, isLeader: leader)
    }

    /// The leader's folders, run locks and loss logs (the other ranks of a DDP run write nothing).
    private func prepareOutput(start: ResumePoint?) throws -> TrainingLog {
        let c = config
        try OutputFolders.prepare(c)
        let locks = try Set([c.saveDir, c.weightsDir].map { ($0 as NSString).standardizingPath }).sorted().map { try RunLock(folder: $0) }
        runLocks = locks
        for folder in Set([c.saveDir, c.weightsDir]) {
            let removed = StaleFiles.removeTemporaries(in: folder)
            if !removed.isEmpty { log("Removed \(removed.count) unfinished save(s) of an earlier run in \(folder): \(removed.joined(separator: ", "))") }
        }
        var resumeFolder = start?.logFolder
        if let folder = resumeFolder, !OutputFolders.isInside(folder, c.saveDir) {
            // A resume point from another run's folder (PBT copies the best trial's): the loss logs
            // continue in a copy here, and the other run's folder is left as it is.
            resumeFolder = try TrainingLog.branch(from: folder, into: c.saveDir)
            log("Resuming a run of \(folder): its logs continue in \(resumeFolder!)")
        }
        return try TrainingLog(saveDir: c.saveDir, resumeFolder: resumeFolder, epochsDone: start?.epoch ?? 0,
                               evaluation: c.evalFlag, evalPeriod: c.evalPeriod)
    }

    /// What the hooks cost per step beside the step itself (measured, every run).
    private func logHookCost(_ c: TrainingContext) {
        guard c.stepsTaken > 0 else { return }
        let n = Double(c.stepsTaken), step = c.stepSeconds / n
        let costs = c.hookSeconds.filter { $0.seconds / n >= 1e-5 }
        let total = c.hookSeconds.reduce(0) { $0 + $1.seconds } / n
        log(String(format: "Step %.1f ms on average; hooks %.2f ms per step (%.1f%%)", step * 1000, total * 1000, 100 * total / step)
            + (costs.isEmpty ? "" : ": " + costs.map { String(format: "%@ %.2f ms", $0.name, $0.seconds / n * 1000) }.joined(separator: ", ")))
    }

    /// Bars are drawn only where they can be redrawn in place: standard error on a terminal.
    var showsBars: Bool { showProgress && isatty(fileno(stderr)) != 0 }

    /// The built-in hooks in the order they run (EMA before evaluation and saving, which use its
    /// weights; evaluation before the epoch log, which records its mAP; early stopping before
    /// checkpointing, which writes the final ep file of a run that stops).
    private func makeHooks(logs: TrainingLog, model: Detector, kind: ModelKind, classes: Int, start: ResumePoint?) throws -> [TrainingHook] {
        let c = config
        var hooks: [TrainingHook] = []
        if showsBars { hooks.append(ProgressBarHook()) }
        hooks.append(IterationLogHook(interval: c.logInterval, tensorBoard: logs.tensorBoard, clearsBar: showsBars && isatty(fileno(stdout)) != 0))
        if c.ema {
            let shadow = try kind.make(numClasses: classes, anchorsMask: c.anchorsMask, seed: UInt64(c.seed))
            try shadow.to(device: device)
            hooks.append(try EMAHook(model: model, shadow: shadow, decay: c.emaDecay, tau: c.emaTau,
                                     resumedWeights: start?.evaluationWeights))
        }
        hooks.append(EvaluationHook())
        hooks.append(EpochLogHook(logs: logs))
        if c.patience > 0 { hooks.append(EarlyStoppingHook(patience: c.patience)) }
        if metricsFile != nil || stopAfterEpoch != nil { hooks.append(MetricsFileHook(path: metricsFile, stopAfterEpoch: stopAfterEpoch)) }
        hooks.append(CheckpointHook())
        if let afterStep {
            hooks.append(ClosureHook(afterStep: { afterStep($0.epoch, $0.batchInEpoch, $0.lastStep?.loss ?? 0) }))
        }
        return hooks + extraHooks
    }

    private func resume(from path: String, model: Detector, optimizer: Optimizer, ranks: Int) throws -> ResumePoint {
        let point = try ResumePoint.load(path, model: model, optimizer: optimizer)
        guard point.seed == config.seed else {
            throw YOLOError("\(path) was written with seed \(point.seed), this configuration has seed \(config.seed)")
        }
        let savedRanks = DataParallel.ranks(writing: point)
        if savedRanks != ranks && point.batch > 0 {
            throw YOLOError("\(path) was written in the middle of an epoch by a run of \(savedRanks) rank(s); this run has \(ranks). "
                            + "Resume it with \(savedRanks) rank(s) (its batches are split that way), or from a resume point "
                            + "written at the end of an epoch")
        }
        log("Resuming from \(path): epoch \(point.epoch + 1), batch \(point.batch), "
            + (point.unfrozen || !config.freezeTrain || point.epoch >= config.freezeEpoch ? "backbone unfrozen" : "backbone frozen"))
        return point
    }

    /// fp16 = True as this device allows (MixedPrecision.choose), confirmed by the agreement check
    /// on two validation images; validation and mAP stay float32 either way.
    private func precision(model: Detector, data: TrainingData, parallel: DataParallel?) throws -> MixedPrecision {
        let local = try localPrecision(model: model, data: data)
        // Every rank trains in the same type: one rank's failed check makes all of them train in float32.
        guard let parallel else { return local }
        if try parallel.world.allReduce(local.type == nil ? 0 : 1, .min) == 1 || local.type == nil { return local }
        log("Warning: fp16 = True: the agreement check failed on another rank; every rank trains in float32")
        return .float32
    }

    private func localPrecision(model: Detector, data: TrainingData) throws -> MixedPrecision {
        let choice = MixedPrecision.choose(fp16: config.fp16, ampDtype: config.ampDtype, device: device,
                                           nativeTypes: Autocast.nativeTypes(.convolution, on: device))
        choice.message.map(log)
        guard let type = choice.type else { return choice }
        let batches = try data.loaders(batchSize: min(2, data.valLines.count)).val.batches(epoch: 0)
        defer { batches.stop() }
        guard let batch = try batches.nextBatch() else { return choice }
        let check = try AMPCheck.run(model: model, images: try batch.images.to(device: device), anchors: data.anchors, type: type)
        guard check.agrees else {
            log("Warning: fp16 = True: the model's \(type) predictions disagree with float32 (\(check.summary); allowed "
                + String(format: "%.2f%% and %.3f", AMPCheck.tolerance(type).box * 100, AMPCheck.tolerance(type).score)
                + "); this run trains in float32")
            return .float32
        }
        log("AMP check passed: \(check.summary)")
        return choice
    }

    private func loadInitialWeights(_ model: Detector, kind: ModelKind) throws {
        if !config.modelPath.isEmpty {
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: config.modelPath, isDirectory: &isFolder), !isFolder.boolValue else {
                throw YOLOError("model_path = '\(config.modelPath)': " + (isFolder.boolValue ? "is a folder, not a weights file" : "no such file")
                                + " (the weights to start from; '' trains from scratch, or pretrained = True with model_path '' "
                                + "loads the backbone file in model_data/)")
            }
            log("Load weights \(config.modelPath).")
            let outcome = try WeightLoading.load(config.modelPath, into: model, classesPath: config.classesPath)
            outcome.messages.forEach(log)
            try checkBackbone(outcome, path: config.modelPath, key: "model_path")
        } else if config.pretrained {
            let name = kind == .yolov4 ? "model_data/CSPdarknet53_backbone_weights.pth" : "model_data/CSPdarknet53_tiny_backbone_weights.pth"
            guard FileManager.default.fileExists(atPath: name) else {
                throw YOLOError("pretrained = True needs backbone weights in \(name) (nothing is downloaded); put the file "
                                + "there or set pretrained = False")
            }
            let outcome = try WeightLoading.load(name, into: model)
            outcome.messages.forEach(log)
            try checkBackbone(outcome, path: name, key: "pretrained")
        }
    }

    /// Starting weights that leave most of the backbone random are almost always the wrong file.
    private func checkBackbone(_ outcome: WeightLoading.Outcome, path: String, key: String) throws {
        guard outcome.backboneLoaded * 2 < outcome.backboneTotal, !allowPartialBackbone else { return }
        throw YOLOError("\(key) = '\(path)': only \(outcome.backboneLoaded) of the backbone's \(outcome.backboneTotal) tensors were "
                        + "loaded" + (outcome.architectureMismatch.map { "; \($0)" } ?? "") + ". Training would start from a "
                        + "mostly random backbone; use weights of this model, or train --allow-partial-weights to go on anyway")
    }

    private func makeLoss(anchors: [(Double, Double)], classes: Int) -> YOLOLoss {
        var loss = YOLOLoss(anchors: anchors, numClasses: classes, inputWidth: config.inputShape[1], inputHeight: config.inputShape[0],
                            anchorsMask: config.anchorsMask)
        loss.labelSmoothing = Float(config.labelSmoothing)
        loss.focalLoss = config.focalLoss
        loss.focalAlpha = Float(config.focalAlpha)
        loss.focalGamma = Float(config.focalGamma)
        return loss
    }

    private func printConfiguration(numTrain: Int, numVal: Int) {
        let rows = config.table + [("num_train", "\(numTrain)"), ("num_val", "\(numVal)")]
        let width = rows.map { $0.1.count }.max() ?? 10
        let line = String(repeating: "-", count: 26 + width)
        log("Configurations:")
        log(line)
        log(String(format: "|%@|%@|", pad("keys", 20), pad("values", width + 4)))
        log(line)
        for (k, v) in rows { log("|" + pad(k, 20) + "|" + pad(v, width + 4) + "|") }
        log(line)
        let wanted = config.optimizerType == "sgd" ? 50_000 : 15_000
        let perEpoch = numTrain / max(config.unfreezeBatchSize, 1)
        let total = perEpoch * config.unfreezeEpoch
        if total <= wanted && perEpoch > 0 {
            let epochs = wanted / perEpoch + 1
            log("Note: with \(config.optimizerType) at least \(wanted) steps are suggested; this run has \(total) "
                + "(\(numTrain) images / batch \(config.unfreezeBatchSize) x \(config.unfreezeEpoch) epochs). "
                + "For a full training, about \(epochs) epochs.")
        }
    }

    private func pad(_ s: String, _ n: Int) -> String {
        let total = max(n - s.count, 0)
        return String(repeating: " ", count: total / 2) + s + String(repeating: " ", count: total - total / 2)
    }
}
