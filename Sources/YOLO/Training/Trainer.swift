import Foundation
import NN
import TensorCore

/// The two-phase training run of the reference (SPEC §2-3): backbone frozen for Freeze_Epoch
/// epochs at Freeze_batch_size, then everything at Unfreeze_batch_size (learning rates refitted,
/// loaders rebuilt, optimizer state kept); per-epoch schedule; validation loss; in-training mAP;
/// checkpoints; a resume point after every epoch and on interruption.
public final class Trainer {
    public let config: TrainConfig
    let log: (String) -> Void
    /// Called after every training step with (epoch, batch, loss): tests use it to interrupt.
    public var afterStep: ((Int, Int, Double) -> Void)?
    public var showProgress = true
    /// Overrides `Cuda` when set (train's --device).
    public var requestedDevice: String?
    /// Where the model and batches live; chosen at the start of `run`.
    public private(set) var device: Device = .cpu

    public struct Outcome {
        public var epochsDone: Int
        public var lastMAP: Double?
        public var logFolder: String
        public var interrupted: Bool
        public var losses: [Double]
        public var valLosses: [Double]
    }

    public init(config: TrainConfig, log: @escaping (String) -> Void = { print($0) }) {
        self.config = config
        self.log = log
    }

    public func run(resumeFrom: String? = nil) throws -> Outcome {
        let c = config
        try checkDeviceSettings()
        device = try DeviceSelection.choose(cuda: c.cuda, requested: requestedDevice, log: log)
        let classes = try ClassNames(contentsOf: c.classesPath)
        guard FileManager.default.fileExists(atPath: c.anchorsPath) else {
            throw YOLOError("\(c.anchorsPath): no anchors file (run kmeans_for_anchors, or point anchors_path at "
                            + "model_data/yolo_anchors.txt / yolo_tiny_anchors.txt)")
        }
        let anchors = try AnchorsFile.read(c.anchorsPath)
        let needed = (c.anchorsMask.flatMap { $0 }.max() ?? 0) + 1
        guard anchors.count >= needed else {
            throw YOLOError("\(c.anchorsPath): \(anchors.count) anchors, but anchors_mask uses anchor \(needed - 1)")
        }
        let kind = try ModelKind(parsing: c.model)
        let model = try kind.make(numClasses: classes.count, anchorsMask: c.anchorsMask, seed: UInt64(c.seed))
        try loadInitialWeights(model, kind: kind)
        try model.to(device: device)
        let trainLines = try AnnotationLine.load(c.trainAnnotationPath, classCount: classes.count)
        let valLines = try AnnotationLine.load(c.valAnnotationPath, classCount: classes.count)
        printConfiguration(numTrain: trainLines.count, numVal: valLines.count)

        let (inputH, inputW) = (c.inputShape[0], c.inputShape[1])
        let loss = makeLoss(anchors: anchors, classes: classes.count)
        var unfrozen = !c.freezeTrain
        if c.freezeTrain { model.setRequiresGrad(false, prefix: "backbone.") }
        var batchSize = unfrozen ? c.unfreezeBatchSize : c.freezeBatchSize
        var (lr, minLR) = LearningRate.fitted(initLR: c.initLR, minLR: c.minLR, batchSize: batchSize, optimizer: c.optimizerType)
        let optimizer = Optimizer(OptimizerKind(rawValue: c.optimizerType)!,
                                  groups: ParameterGroup.yoloGroups(model, weightDecay: Float(c.weightDecay)),
                                  lr: Float(lr), momentum: Float(c.momentum))

        let trainSet = DetectionDataset(lines: trainLines, inputWidth: inputW, inputHeight: inputH, training: true)
        trainSet.mosaic = c.mosaic; trainSet.mosaicProbability = c.mosaicProb
        trainSet.mixup = c.mixup; trainSet.mixupProbability = c.mixupProb
        trainSet.specialAugRatio = c.specialAugRatio; trainSet.totalEpochs = c.unfreezeEpoch
        let valSet = DetectionDataset(lines: valLines, inputWidth: inputW, inputHeight: inputH, training: false)
        func loaders(_ batch: Int) throws -> (DataLoader, DataLoader) {
            guard trainLines.count / batch > 0, valLines.count / batch > 0 else {
                throw YOLOError("dataset too small for a batch size of \(batch): \(trainLines.count) training and "
                                + "\(valLines.count) validation images (each needs at least one full batch); lower the "
                                + "batch size or add images")
            }
            return (DataLoader(dataset: trainSet, batchSize: batch, shuffle: true, seed: UInt64(c.seed), workers: c.numWorkers),
                    DataLoader(dataset: valSet, batchSize: batch, shuffle: false, seed: UInt64(c.seed), workers: c.numWorkers))
        }
        var (trainLoader, valLoader) = try loaders(batchSize)

        // Resume: weights, optimizer, schedule position, phase, log folder.
        var startEpoch = c.initEpoch, startBatch = 0, carriedLoss = 0.0, bestValLoss: Double?
        var resumeFolder: String?
        if let resumeFrom {
            let point = try ResumePoint.load(resumeFrom, model: model, optimizer: optimizer)
            guard point.seed == c.seed else {
                throw YOLOError("\(resumeFrom) was written with seed \(point.seed), this configuration has seed \(c.seed)")
            }
            startEpoch = point.epoch; startBatch = point.batch; carriedLoss = point.lossSum
            bestValLoss = point.bestValLoss; resumeFolder = point.logFolder
            if point.unfrozen && !unfrozen {
                unfrozen = true
                model.setRequiresGrad(true, prefix: "backbone.")
                batchSize = c.unfreezeBatchSize
                (lr, minLR) = LearningRate.fitted(initLR: c.initLR, minLR: c.minLR, batchSize: batchSize, optimizer: c.optimizerType)
                (trainLoader, valLoader) = try loaders(batchSize)
            }
            log("Resuming from \(resumeFrom): epoch \(startEpoch + 1), batch \(startBatch), "
                + (unfrozen ? "backbone unfrozen" : "backbone frozen"))
        }
        let logs = try TrainingLog(saveDir: c.saveDir, resumeFolder: resumeFolder, evaluation: c.evalFlag)
        try FileManager.default.createDirectory(atPath: c.saveDir, withIntermediateDirectories: true)
        func path(_ name: String) -> String { (c.saveDir as NSString).appendingPathComponent(name) }
        var lastMAP: Double?

        for epoch in startEpoch..<c.unfreezeEpoch {
            if epoch >= c.freezeEpoch && !unfrozen {
                unfrozen = true
                batchSize = c.unfreezeBatchSize
                (lr, minLR) = LearningRate.fitted(initLR: c.initLR, minLR: c.minLR, batchSize: batchSize, optimizer: c.optimizerType)
                model.setRequiresGrad(true, prefix: "backbone.")
                (trainLoader, valLoader) = try loaders(batchSize)
                log("Unfreezing the backbone at epoch \(epoch + 1): batch size \(batchSize), lr \(lr) to \(minLR)")
            }
            optimizer.lr = Float(try LearningRate.scheduled(c.lrDecayType, lr: lr, minLR: minLR, total: c.unfreezeEpoch, epoch: epoch))

            let first = epoch == startEpoch ? startBatch : 0
            let trained: EpochResult
            do {
                trained = try trainEpoch(epoch, model: model, optimizer: optimizer, loss: loss, loader: trainLoader,
                                         startBatch: first, carriedLoss: epoch == startEpoch ? carriedLoss : 0)
            } catch {
                throw DeviceSelection.explainOutOfMemory(error, phase: unfrozen ? "unfrozen" : "frozen", batchSize: batchSize,
                                                         key: unfrozen ? "Unfreeze_batch_size" : "Freeze_batch_size")
            }
            let meanLoss: Double
            switch trained {
            case .finished(let mean):
                meanLoss = mean
            case .interrupted(let batch, let lossSum):
                return try interrupt(model, optimizer, logs, epoch: epoch, batch: batch, unfrozen: unfrozen, lossSum: lossSum,
                                     bestValLoss: bestValLoss, path: path)
            }
            let meanVal = try validate(epoch, model: model, loss: loss, loader: valLoader)
            try logs.record(epoch: epoch + 1, loss: meanLoss, valLoss: meanVal)
            if c.evalFlag && (epoch + 1) % c.evalPeriod == 0 {
                log("Calculate Map.")
                let (map, _) = try InTrainingEvaluation.meanAP(model: model, lines: valLines, anchors: anchors, inputWidth: inputW,
                                                               inputHeight: inputH)
                lastMAP = map
                try logs.record(epoch: epoch + 1, map: map)
                log(String(format: "Get map done. mAP@0.5 = %.2f%%", map * 100))
            }
            log("Epoch:\(epoch + 1)/\(c.unfreezeEpoch)")
            log(String(format: "Total Loss: %.3f || Val Loss: %.3f ", meanLoss, meanVal))
            try saveCheckpoints(epoch, model: model, optimizer: optimizer, meanLoss: meanLoss, meanVal: meanVal,
                                bestValLoss: &bestValLoss, unfrozen: unfrozen, logs: logs, path: path)
        }
        return Outcome(epochsDone: c.unfreezeEpoch, lastMAP: lastMAP, logFolder: logs.folder, interrupted: false,
                       losses: logs.losses, valLosses: logs.valLosses)
    }

    enum EpochResult {
        case finished(meanLoss: Double)
        case interrupted(batch: Int, lossSum: Double)
    }

    /// One epoch of training from `startBatch`; stops early (with where it stopped) on Ctrl-C.
    private func trainEpoch(_ epoch: Int, model: Detector, optimizer: Optimizer, loss: YOLOLoss, loader: DataLoader,
                            startBatch: Int, carriedLoss: Double) throws -> EpochResult {
        log("Start Train")
        let steps = loader.batchesPerEpoch
        let bar = showProgress ? ProgressBar(title: "Epoch \(epoch + 1)/\(config.unfreezeEpoch)", total: steps, unit: "it") : nil
        model.train()
        var lossSum = carriedLoss
        var step = startBatch
        let batches = loader.batches(epoch: epoch, startBatch: startBatch)
        while let batch = try batches.nextBatch() {
            optimizer.zeroGrad()
            let value = try loss.total(model.outputs(batch.images.to(device: device)), targets: batch.targets)
            let number = Double(try value.item())
            guard number.isFinite else {
                batches.stop()
                throw YOLOError("the loss became \(number) at epoch \(epoch + 1), batch \(step + 1); stopped without saving "
                                + "these weights (the last good ones are in \(config.saveDir)). Lower Init_lr or check the data.")
            }
            try value.backward()
            try optimizer.step()
            lossSum += number
            step += 1
            bar?.update(step, status: String(format: "loss %.3f lr %.2e", lossSum / Double(step), optimizer.lr))
            afterStep?(epoch, step, number)
            if Interruption.requested {
                batches.stop()
                return .interrupted(batch: step, lossSum: lossSum)
            }
        }
        bar?.finish(status: String(format: "loss %.3f lr %.2e", lossSum / Double(max(steps, 1)), optimizer.lr))
        log("Finish Train")
        if !loader.skippedImages.isEmpty { log("Warning: \(loader.skippedImages.count) unreadable images skipped so far") }
        return .finished(meanLoss: lossSum / Double(max(steps, 1)))
    }

    /// Mean validation loss in eval mode (running statistics), always over the same batches.
    private func validate(_ epoch: Int, model: Detector, loss: YOLOLoss, loader: DataLoader) throws -> Double {
        log("Start Validation")
        model.eval()
        defer { model.train() }
        var valSum = 0.0
        let steps = loader.batchesPerEpoch
        let bar = showProgress ? ProgressBar(title: "Epoch \(epoch + 1)/\(config.unfreezeEpoch)", total: steps, unit: "it") : nil
        var step = 0
        let batches = loader.batches(epoch: 0)
        while let batch = try batches.nextBatch() {
            valSum += Double(try withNoGrad { try loss.total(model.outputs(batch.images.to(device: device)), targets: batch.targets).item() })
            step += 1
            bar?.update(step, status: String(format: "val_loss %.3f", valSum / Double(step)))
        }
        bar?.finish(status: String(format: "val_loss %.3f", valSum / Double(max(steps, 1))))
        log("Finish Validation")
        return valSum / Double(max(steps, 1))
    }

    /// ep###-loss-val_loss.pth every save_period epochs and at the end, best and last weights, and
    /// the resume point for the next epoch.
    private func saveCheckpoints(_ epoch: Int, model: Detector, optimizer: Optimizer, meanLoss: Double, meanVal: Double,
                                 bestValLoss: inout Double?, unfrozen: Bool, logs: TrainingLog, path: (String) -> String) throws {
        let c = config
        if (epoch + 1) % c.savePeriod == 0 || epoch + 1 == c.unfreezeEpoch {
            try Checkpoints.saveWeights(model, to: path(Checkpoints.epochName(epoch + 1, loss: meanLoss, valLoss: meanVal)))
            Checkpoints.prune(saveDir: c.saveDir, keep: c.keepCheckpoints)
        }
        if bestValLoss == nil || meanVal <= bestValLoss! {
            log("Save best model to best_epoch_weights.pth")
            bestValLoss = meanVal
            try Checkpoints.saveWeights(model, to: path("best_epoch_weights.pth"))
        }
        try Checkpoints.saveWeights(model, to: path("last_epoch_weights.pth"))
        try ResumePoint(epoch: epoch + 1, batch: 0, unfrozen: unfrozen, lossSum: 0, bestValLoss: bestValLoss,
                        logFolder: logs.folder, seed: c.seed).save(model: model, optimizer: optimizer, to: path(Checkpoints.resumeName))
    }

    private func interrupt(_ model: Detector, _ optimizer: Optimizer, _ logs: TrainingLog, epoch: Int, batch: Int, unfrozen: Bool,
                           lossSum: Double, bestValLoss: Double?, path: (String) -> String) throws -> Outcome {
        try Checkpoints.saveWeights(model, to: path("last_epoch_weights.pth"))
        try ResumePoint(epoch: epoch, batch: batch, unfrozen: unfrozen, lossSum: lossSum, bestValLoss: bestValLoss,
                        logFolder: logs.folder, seed: config.seed).save(model: model, optimizer: optimizer, to: path(Checkpoints.resumeName))
        log("Interrupted at epoch \(epoch + 1), batch \(batch). Saved last_epoch_weights.pth and \(Checkpoints.resumeName) in "
            + "\(config.saveDir). Continue with: train --resume")
        return Outcome(epochsDone: epoch, lastMAP: nil, logFolder: logs.folder, interrupted: true, losses: logs.losses,
                       valLosses: logs.valLosses)
    }

    private func checkDeviceSettings() throws {
        if config.fp16 {
            throw YOLOError("fp16 = True: mixed precision is not available yet (it comes with the CUDA backend); set fp16 = False")
        }
        if config.distributed {
            throw YOLOError("distributed = True: DP/DDP training is not available yet; set distributed = False")
        }
        if config.syncBN {
            throw YOLOError("sync_bn = True: synchronised BatchNorm needs distributed training, which is not available yet; "
                            + "set sync_bn = False")
        }
    }

    private func loadInitialWeights(_ model: Detector, kind: ModelKind) throws {
        if !config.modelPath.isEmpty {
            log("Load weights \(config.modelPath).")
            let outcome = try WeightLoading.load(config.modelPath, into: model, classesPath: config.classesPath)
            outcome.messages.forEach(log)
        } else if config.pretrained {
            let name = kind == .yolov4 ? "model_data/CSPdarknet53_backbone_weights.pth" : "model_data/CSPdarknet53_tiny_backbone_weights.pth"
            guard FileManager.default.fileExists(atPath: name) else {
                throw YOLOError("pretrained = True needs backbone weights in \(name) (nothing is downloaded); put the file "
                                + "there or set pretrained = False")
            }
            let outcome = try WeightLoading.load(name, into: model)
            outcome.messages.forEach(log)
        }
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
