/// The other processes of a data-parallel run, as the loop sees them: wherever every rank must
/// take the same decision or report the same figure, the engine asks them. A single process is
/// its own peer group (`SoloPeers`).
public protocol TrainingPeers: AnyObject {
    /// Ranks taking part (images of one step = per-rank batch x ranks).
    var ranks: Int { get }
    /// After a step: its loss and terms averaged over the ranks (what the hooks then log).
    func average(_ result: StepResult) throws -> StepResult
    /// After the step's hooks: whether any rank was asked to stop (Ctrl-C), so that all stop together.
    func anyRank(_ stopRequested: Bool) throws -> Bool
    /// Validation figures summed over every rank's shard: (sum of batch losses, batches).
    func validationTotals(sum: Double, batches: Int) throws -> (sum: Double, batches: Int)
    /// The end of an epoch: every rank waits for the others (the leader evaluates and saves), and
    /// the leader's request to stop (early stopping) reaches every rank.
    func endEpoch(stopReason: String?) throws -> String?
}

/// One process: nothing to agree with.
public final class SoloPeers: TrainingPeers {
    public init() {}
    public var ranks: Int { 1 }
    public func average(_ result: StepResult) throws -> StepResult { result }
    public func anyRank(_ stopRequested: Bool) throws -> Bool { stopRequested }
    public func validationTotals(sum: Double, batches: Int) throws -> (sum: Double, batches: Int) { (sum, batches) }
    public func endEpoch(stopReason: String?) throws -> String? { stopReason }
}
