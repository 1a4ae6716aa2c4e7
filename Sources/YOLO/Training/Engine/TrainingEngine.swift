import Foundation
import NN
import TensorCore

/// Owns the training loop: phases, epochs, steps, validation. Everything else (logs, progress,
/// mAP, checkpoints, EMA, early stopping) is a hook; the step itself is a replaceable piece.
public final class TrainingEngine {
    public enum Ending: Equatable {
        case finished
        case stoppedEarly(String)
        case interrupted
    }

    public let context: TrainingContext
    public let step: TrainingStep
    public let hooks: [TrainingHook]
    let loaders: (Int) throws -> (train: DataLoader, val: DataLoader)
    let validation: Validation

    /// `loaders` builds the training and validation loaders for a batch size (rebuilt when the
    /// phase changes it).
    init(context: TrainingContext, step: TrainingStep, hooks: [TrainingHook], validation: Validation,
         loaders: @escaping (Int) throws -> (train: DataLoader, val: DataLoader)) {
        self.context = context
        self.step = step
        self.hooks = hooks
        self.validation = validation
        self.loaders = loaders
        context.hookSeconds = hooks.map { (String(describing: type(of: $0)), 0) }
        context.resumables = hooks.compactMap { $0 as? ResumableState } + step.resumableStates
    }

    public func run() throws -> Ending {
        let c = context
        try each { try $0.beforeRun(c) }
        setFrozen(c.phase.frozen)
        var (trainLoader, valLoader) = try loaders(c.phase.batchSize)
        try each { try $0.beforePhase(c) }
        var epochEnded = Date()
        for epoch in c.epoch..<c.totalEpochs {
            let resumedHere = epoch == c.epoch
            c.epoch = epoch
            if !resumedHere { c.batchInEpoch = 0; c.epochLossSum = 0 }
            let phase = c.plan.phase(epoch: epoch, unfrozenAlready: c.unfrozen)
            if phase != c.phase {
                c.phase = phase
                setFrozen(phase.frozen)
                (trainLoader, valLoader) = try loaders(phase.batchSize)
                try each { try $0.beforePhase(c) }
            }
            c.optimizer.lr = Float(try LearningRate.scheduled(c.config.lrDecayType, lr: phase.lr, minLR: phase.minLR,
                                                              total: c.totalEpochs, epoch: epoch))
            c.stepsInEpoch = trainLoader.batchesPerEpoch
            try each { try $0.beforeEpoch(c) }
            let completed: Bool
            do {
                completed = try trainEpoch(trainLoader)
            } catch {
                throw DeviceSelection.explainOutOfMemory(error, phase: phase.name, batchSize: phase.batchSize, key: phase.batchSizeKey)
            }
            if !completed {
                try each { try $0.onInterrupt(c) }
                return .interrupted
            }
            c.meanLoss = c.epochLossSum / Double(max(c.stepsInEpoch, 1))
            try each { try $0.afterTrainEpoch(c) }
            epochEnded = Date()
            c.epochMAP = nil
            c.valLoss = try validation.run(context: c, loader: valLoader)
            try each { try $0.afterValidation(c) }
            try each { try $0.afterEpoch(c) }
            c.stopReason = try c.peers.endEpoch(stopReason: c.stopReason)
            c.clock.recordEpochOverhead(seconds: Date().timeIntervalSince(epochEnded))
            if let reason = c.stopReason {
                try each { try $0.afterRun(c) }
                return .stoppedEarly(reason)
            }
        }
        try each { try $0.afterRun(c) }
        return .finished
    }

    /// The steps of one epoch from where the context stands; false when Ctrl-C stopped it.
    private func trainEpoch(_ loader: DataLoader) throws -> Bool {
        let c = context
        c.model.train()
        let batches = loader.batches(epoch: c.epoch, startBatch: c.batchInEpoch)
        defer { batches.stop() }
        var started = Date()
        while true {
            guard let batch = try batches.nextBatch() else { break }
            let loaded = Date()
            try timed { try $0.beforeStep(c) }
            let stepStart = Date()
            let result = try c.peers.average(try step.run(batch, context: c))
            let finished = Date()
            c.stepSeconds += finished.timeIntervalSince(stepStart)
            c.stepsTaken += 1
            c.batchInEpoch += 1
            c.iteration += 1
            c.epochLossSum += result.loss
            c.lastStep = result
            c.lastStepTime = finished.timeIntervalSince(started)
            c.lastDataTime = loaded.timeIntervalSince(started)
            c.clock.recordStep(seconds: c.lastStepTime, images: batch.targets.count * c.peers.ranks)
            started = finished
            try timed { try $0.afterStep(c) }
            if try c.peers.anyRank(Interruption.requested) { return false }
        }
        if !loader.skippedImages.isEmpty { c.log("Warning: \(loader.skippedImages.count) unreadable images skipped so far") }
        return true
    }

    private func setFrozen(_ frozen: Bool) {
        context.model.setRequiresGrad(!frozen, prefix: "backbone.")
    }

    private func each(_ body: (TrainingHook) throws -> Void) throws {
        for hook in hooks { try body(hook) }
    }

    /// The per-step calls, with each hook's time added to `context.hookSeconds` (what a hook costs
    /// per step is reported at the end of a run).
    private func timed(_ body: (TrainingHook) throws -> Void) throws {
        for (i, hook) in hooks.enumerated() {
            let start = DispatchTime.now().uptimeNanoseconds
            try body(hook)
            context.hookSeconds[i].seconds += Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        }
    }
}
