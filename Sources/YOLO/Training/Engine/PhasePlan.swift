/// One of the reference's two phases: the backbone frozen (Freeze_Epoch epochs at
/// Freeze_batch_size), then everything (until UnFreeze_Epoch at Unfreeze_batch_size), each with
/// the learning rates fitted to its batch size.
public struct TrainingPhase: Equatable {
    public var frozen: Bool
    public var batchSize: Int
    public var lr: Double
    public var minLR: Double
    public var name: String { frozen ? "frozen" : "unfrozen" }
    public var batchSizeKey: String { frozen ? "Freeze_batch_size" : "Unfreeze_batch_size" }
}

/// Which phase each epoch belongs to, and how many steps each epoch has, so the engine can switch
/// phases and the log can estimate the time left over both.
public struct PhasePlan {
    public let frozen: TrainingPhase
    public let unfrozen: TrainingPhase
    public let freezeTrain: Bool
    public let freezeEpoch: Int
    public let totalEpochs: Int
    public let trainImages: Int

    public init(config c: TrainConfig, trainImages: Int) {
        func phase(_ frozen: Bool, _ batch: Int) -> TrainingPhase {
            let (lr, minLR) = LearningRate.fitted(initLR: c.initLR, minLR: c.minLR, batchSize: batch, optimizer: c.optimizerType)
            return TrainingPhase(frozen: frozen, batchSize: batch, lr: lr, minLR: minLR)
        }
        frozen = phase(true, c.freezeBatchSize)
        unfrozen = phase(false, c.unfreezeBatchSize)
        freezeTrain = c.freezeTrain
        freezeEpoch = c.freezeEpoch
        totalEpochs = c.unfreezeEpoch
        self.trainImages = trainImages
    }

    /// The phase of a 0-based epoch; a run resumed after unfreezing stays unfrozen.
    public func phase(epoch: Int, unfrozenAlready: Bool = false) -> TrainingPhase {
        freezeTrain && epoch < freezeEpoch && !unfrozenAlready ? frozen : unfrozen
    }

    /// Training steps in an epoch (the loader drops the last partial batch).
    public func steps(epoch: Int, unfrozenAlready: Bool = false) -> Int {
        trainImages / phase(epoch: epoch, unfrozenAlready: unfrozenAlready).batchSize
    }

    /// Steps left in the run: the rest of `epoch` after `done` steps, then every later epoch.
    public func remainingSteps(epoch: Int, done: Int, unfrozenAlready: Bool = false) -> Int {
        guard epoch < totalEpochs else { return 0 }
        var total = max(steps(epoch: epoch, unfrozenAlready: unfrozenAlready) - done, 0)
        for e in (epoch + 1)..<max(totalEpochs, epoch + 1) { total += steps(epoch: e, unfrozenAlready: unfrozenAlready) }
        return total
    }

    /// Images left to train on (steps x their phase's batch size), for the time estimate.
    public func remainingImages(epoch: Int, done: Int, unfrozenAlready: Bool = false) -> Int {
        guard epoch < totalEpochs else { return 0 }
        let current = phase(epoch: epoch, unfrozenAlready: unfrozenAlready)
        var total = max(steps(epoch: epoch, unfrozenAlready: unfrozenAlready) - done, 0) * current.batchSize
        for e in (epoch + 1)..<max(totalEpochs, epoch + 1) {
            total += steps(epoch: e, unfrozenAlready: unfrozenAlready) * phase(epoch: e, unfrozenAlready: unfrozenAlready).batchSize
        }
        return total
    }

    /// Steps of all epochs before `epoch` plus `batch`: the global iteration of a position in the
    /// plan (for resume points written before they recorded it).
    public func iteration(epoch: Int, batch: Int) -> Int {
        (0..<epoch).reduce(batch) { $0 + steps(epoch: $1) }
    }
}
