import NN

/// A participant in the training loop. The engine calls, in this order:
///
///     beforeRun
///       for each epoch:  [beforePhase when the phase changes]  beforeEpoch
///                        for each step: beforeStep, afterStep
///                        afterTrainEpoch   (or onInterrupt, then the run ends)
///                        afterValidation   (the validation loss is in the context)
///                        afterEpoch
///     afterRun
///
/// Hooks run in the order they were given to the engine; each reads and writes the shared
/// `TrainingContext`. Every method has an empty default.
public protocol TrainingHook: AnyObject {
    func beforeRun(_ context: TrainingContext) throws
    func beforePhase(_ context: TrainingContext) throws
    func beforeEpoch(_ context: TrainingContext) throws
    func beforeStep(_ context: TrainingContext) throws
    func afterStep(_ context: TrainingContext) throws
    func afterTrainEpoch(_ context: TrainingContext) throws
    func afterValidation(_ context: TrainingContext) throws
    func afterEpoch(_ context: TrainingContext) throws
    func onInterrupt(_ context: TrainingContext) throws
    func afterRun(_ context: TrainingContext) throws
}

extension TrainingHook {
    public func beforeRun(_ context: TrainingContext) throws {}
    public func beforePhase(_ context: TrainingContext) throws {}
    public func beforeEpoch(_ context: TrainingContext) throws {}
    public func beforeStep(_ context: TrainingContext) throws {}
    public func afterStep(_ context: TrainingContext) throws {}
    public func afterTrainEpoch(_ context: TrainingContext) throws {}
    public func afterValidation(_ context: TrainingContext) throws {}
    public func afterEpoch(_ context: TrainingContext) throws {}
    public func onInterrupt(_ context: TrainingContext) throws {}
    public func afterRun(_ context: TrainingContext) throws {}
}

/// State a hook (or the step) keeps across a resume: written into every resume point under
/// `resumeKey` and given back when a run continues from one.
public protocol ResumableState: AnyObject {
    var resumeKey: String { get }
    func resumeState() -> CheckpointValue
    func restore(_ value: CheckpointValue) throws
}

/// A hook made of closures, for callers that need one observation point (tests, tools).
public final class ClosureHook: TrainingHook {
    public var afterStepBody: ((TrainingContext) throws -> Void)?
    public var afterEpochBody: ((TrainingContext) throws -> Void)?

    public init(afterStep: ((TrainingContext) throws -> Void)? = nil, afterEpoch: ((TrainingContext) throws -> Void)? = nil) {
        afterStepBody = afterStep
        afterEpochBody = afterEpoch
    }

    public func afterStep(_ context: TrainingContext) throws { try afterStepBody?(context) }
    public func afterEpoch(_ context: TrainingContext) throws { try afterEpochBody?(context) }
}
