import Foundation
import NN
import TensorCore

/// Everything the engine and its hooks share during a run: the model and optimizer, where the run
/// is (phase, epoch, step, global iteration), the last step's measurements, the epoch's results,
/// and requests back to the engine (stop early).
public final class TrainingContext {
    public let config: TrainConfig
    public let model: Detector
    /// The weights validation, mAP and saved files use: the model, or its EMA when a hook sets one.
    public var evaluationModel: Detector
    public let optimizer: Optimizer
    public let device: Device
    public let plan: PhasePlan
    public let log: (String) -> Void
    /// The run's loss folder (`<save_dir>/loss_<time>/`).
    public let logFolder: String
    public let valLines: [AnnotationLine]
    public let anchors: [(Double, Double)]
    /// The other ranks of a data-parallel run (or none).
    public let peers: TrainingPeers

    // Position
    public internal(set) var phase: TrainingPhase
    public internal(set) var epoch: Int
    /// Steps done in the current epoch.
    public internal(set) var batchInEpoch = 0
    /// Steps done in the whole run (the iteration of `iter_N.pth`).
    public internal(set) var iteration: Int
    public internal(set) var stepsInEpoch = 0
    /// Sum of this epoch's step losses so far (kept across a mid-epoch resume).
    public internal(set) var epochLossSum = 0.0

    // Measurements
    public internal(set) var lastStep: StepResult?
    /// Seconds of the last step, all of it and the part spent waiting for its batch.
    public internal(set) var lastStepTime = 0.0
    public internal(set) var lastDataTime = 0.0
    public internal(set) var clock = RunClock()
    /// Seconds each hook spent in beforeStep/afterStep over the run (by hook type, in hook order).
    public internal(set) var hookSeconds: [(name: String, seconds: Double)] = []
    /// Seconds in the steps themselves and steps taken in this process (not counting a resumed part).
    public internal(set) var stepSeconds = 0.0
    public internal(set) var stepsTaken = 0
    public internal(set) var meanLoss = 0.0
    public internal(set) var valLoss = 0.0
    /// Set by the evaluation hook in the epochs that compute mAP.
    public var epochMAP: Double?
    public var lastMAP: Double?
    public var bestValLoss: Double?

    /// A hook that wants the run to end after this epoch says why here (early stopping).
    public var stopReason: String?
    /// State of hooks and step extensions that a resume point carries.
    public internal(set) var resumables: [ResumableState] = []

    init(config: TrainConfig, model: Detector, optimizer: Optimizer, device: Device, plan: PhasePlan, logFolder: String,
         valLines: [AnnotationLine], anchors: [(Double, Double)], start: ResumePoint?, peers: TrainingPeers = SoloPeers(),
         log: @escaping (String) -> Void) {
        self.config = config
        self.model = model
        self.evaluationModel = model
        self.optimizer = optimizer
        self.device = device
        self.plan = plan
        self.logFolder = logFolder
        self.valLines = valLines
        self.anchors = anchors
        self.peers = peers
        self.log = log
        epoch = start?.epoch ?? config.initEpoch
        phase = plan.phase(epoch: epoch, unfrozenAlready: start?.unfrozen ?? false)
        batchInEpoch = start?.batch ?? 0
        epochLossSum = start?.lossSum ?? 0
        bestValLoss = start?.bestValLoss
        iteration = start?.iteration ?? plan.iteration(epoch: epoch, batch: batchInEpoch)
    }

    public var totalEpochs: Int { config.unfreezeEpoch }
    /// This epoch is the run's last: the planned end, or a hook asked to stop.
    public var isFinalEpoch: Bool { epoch + 1 == totalEpochs || stopReason != nil }
    public var unfrozen: Bool { !phase.frozen }

    /// Seconds left in the run by the clock's estimate.
    public var eta: Double {
        clock.eta(remainingImages: plan.remainingImages(epoch: epoch, done: batchInEpoch, unfrozenAlready: unfrozen),
                  remainingEpochs: totalEpochs - epoch)
    }

    /// Where a resume point written now would continue.
    public func resumePoint(atEpochEnd: Bool) -> ResumePoint {
        ResumePoint(epoch: atEpochEnd ? epoch + 1 : epoch, batch: atEpochEnd ? 0 : batchInEpoch, unfrozen: unfrozen,
                    lossSum: atEpochEnd ? 0 : epochLossSum, bestValLoss: bestValLoss, logFolder: logFolder, seed: config.seed,
                    iteration: iteration, configuration: config.parameterText, extra: resumables.map { ($0.resumeKey, $0.resumeState()) })
    }
}
