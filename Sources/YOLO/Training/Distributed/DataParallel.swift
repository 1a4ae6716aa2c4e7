import Distributed
import Foundation
import NN
import TensorCore

/// A DDP run's shared side (`distributed = True` under mpirun): the communicator, and what every
/// rank must agree on, as the loop (`TrainingPeers`), the batch norm layers with sync_bn
/// (`ReplicaSum`) and the loss (global normalisers) ask for it.
public final class DataParallel: TrainingPeers, ReplicaSum {
    public let world: Communicator
    /// Broadcasts of weights and buffers.
    let buckets: TensorBuckets
    /// The gradient all-reduce, overlapped with backward.
    let gradients: GradientBuckets
    /// Seconds the steps spent in the gradient all-reduce over the run, beyond what overlapped with
    /// backward (waiting for the slowest rank included).
    var reduceSeconds: Double { gradients.seconds }

    init(world: Communicator) {
        self.world = world
        buckets = TensorBuckets(communicator: world)
        gradients = GradientBuckets(communicator: world)
    }

    public var ranks: Int { world.worldSize }
    public var isLeader: Bool { world.isLeader }

    public func average(_ result: StepResult) throws -> StepResult {
        var values = [result.loss] + result.terms.map(\.value)
        try values.withUnsafeMutableBufferPointer { try world.allReduce($0, .sum) }
        var averaged = result
        averaged.loss = values[0] / Double(ranks)
        for i in averaged.terms.indices { averaged.terms[i].value = values[1 + i] / Double(ranks) }
        return averaged
    }

    public func anyRank(_ stopRequested: Bool) throws -> Bool {
        try world.allReduce(stopRequested ? 1 : 0, .max) > 0
    }

    public func validationTotals(sum: Double, batches: Int) throws -> (sum: Double, batches: Int) {
        let total = try world.allReduce([sum, Double(batches)], .sum)
        return (total[0], Int(total[1]))
    }

    /// How long the other ranks wait at an epoch's end for the leader's evaluation and saving.
    var epochEndTimeout = 3600.0

    public func endEpoch(stopReason: String?) throws -> String? {
        let reason = try world.withTimeout(epochEndTimeout) { try world.broadcast(isLeader ? stopReason ?? "" : "") }
        return reason.isEmpty ? nil : reason
    }

    // MARK: ReplicaSum (sync_bn)

    public func sumOverReplicas(_ t: Tensor, tag: Int) throws -> Tensor {
        let summed = try taggedSum(t.detach(), tag: tag, pass: "forward")
        return Tensor.differentiable("all_reduce_sum", output: summed, inputs: [t]) { [self] gradient in
            [try taggedSum(gradient, tag: tag, pass: "backward")]
        }
    }

    /// The sum over the ranks of a float32 tensor, with `tag` summed beside it: every rank must
    /// have given the same tag, or they were summing different layers.
    private func taggedSum(_ t: Tensor, tag: Int, pass: String) throws -> Tensor {
        var values = try t.contiguous().toArray() + [Float(tag)]
        try values.withUnsafeMutableBufferPointer { try world.allReduce($0, .sum) }
        guard values.removeLast() == Float(tag * ranks) else {
            throw YOLOError("sync_bn: the ranks reached their batch-norm sums in different orders (\(pass), layer \(tag / 2) here); "
                            + "every rank must run the same model on the same phase")
        }
        return try Tensor(values, shape: t.shape, device: t.device)
    }

    public func sumOverReplicas(_ value: Double) throws -> Double { try world.allReduce(value, .sum) }

    // MARK: Set-up

    /// Every rank must train the same thing: the leader's configuration text is compared with each
    /// rank's, and a difference stops every rank naming the key.
    func checkSameConfiguration(_ config: TrainConfig) throws {
        let mine = config.parameterText
        let leaders = try world.broadcast(mine)
        let differences = try world.allGather(Self.firstDifference(mine, leaders) ?? "")
        if let (rank, difference) = differences.enumerated().first(where: { !$0.1.isEmpty }) {
            throw YOLOError("rank \(rank) was started with another configuration than rank 0: \(difference); every rank must "
                            + "read the same parameter file and options (the ranks of one job train one model)")
        }
    }

    static func firstDifference(_ mine: String, _ leaders: String) -> String? {
        guard mine != leaders else { return nil }
        guard let a = try? TrainConfig.load(text: mine, source: "this rank"),
              let b = try? TrainConfig.load(text: leaders, source: "rank 0"),
              let first = a.differences(from: b).first else { return "the parameter text differs" }
        return "\(first.key) = \(first.mine) here, \(first.theirs) on rank 0"
    }

    /// The per-rank batch of a phase; the global batch must divide among the ranks.
    func perRankBatch(_ batch: Int, key: String) throws -> Int {
        guard batch % ranks == 0 else {
            throw YOLOError("\(key) = \(batch) does not divide among \(ranks) ranks (each rank takes \(key) / ranks images a step); "
                            + "use a multiple of \(ranks), e.g. \(max(ranks, batch / ranks * ranks))")
        }
        return batch / ranks
    }

    /// The leader's weights and buffers on every rank (PyTorch's DDP does the same at the start).
    func broadcastWeights(_ model: Module) throws {
        try buckets.broadcast(model.namedTensors().map(\.1.value))
    }

    /// The leader's floating-point buffers (BatchNorm running statistics) on every rank, as DDP's
    /// broadcast_buffers before each forward: validation and saved files then use the leader's,
    /// whichever rank computes them.
    func broadcastBuffers(_ model: Module) throws {
        try buckets.broadcast(model.namedTensors().filter { $0.1.isBuffer && $0.1.value.dtype == .float32 }.map(\.1.value))
    }

    /// Threads for this rank's kernels: the cores the process may use, but no more than its share
    /// of the host's cores (ranks bound to a socket share it); OMP_NUM_THREADS wins.
    func threadsPerRank() -> Int? {
        guard ProcessInfo.processInfo.environment["OMP_NUM_THREADS"] == nil else { return nil }
        let allowed = CPUThreads.count, online = ProcessInfo.processInfo.activeProcessorCount
        return max(1, min(allowed, online / max(world.localSize, 1)))
    }
}

/// The DDP step extension: the leader's buffers before each forward (without sync_bn), and the
/// gradients averaged over the ranks before anything reads them (the GradScaler's inf/NaN test,
/// the gradient norm and clipping, the optimizer), so every rank takes the same decision and the
/// same step. Frozen parameters have no gradient and are simply not reduced.
final class GradientAllReduce: StepExtension {
    let parallel: DataParallel
    let model: Module
    let broadcastsBuffers: Bool

    init(parallel: DataParallel, model: Module, broadcastsBuffers: Bool) {
        self.parallel = parallel
        self.model = model
        self.broadcastsBuffers = broadcastsBuffers
    }

    func forward(_ body: () throws -> [Tensor]) throws -> [Tensor] {
        if broadcastsBuffers { try parallel.broadcastBuffers(model) }
        return try body()
    }

    func beforeBackward(_ parameters: [(String, Parameter)]) throws {
        try parallel.gradients.begin(parameters.map(\.1.value))
    }

    func gradientReady(_ leaf: Tensor) throws { try parallel.gradients.ready(leaf) }

    func processGradients(_ parameters: [(String, Parameter)], context: TrainingContext) throws -> Bool {
        try parallel.gradients.finish(average: true)
        return true
    }
}
