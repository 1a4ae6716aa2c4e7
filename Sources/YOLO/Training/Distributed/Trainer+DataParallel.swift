import CUDABackend
import Distributed
import Foundation
import NN
import TensorCore

/// How `train` joins a DDP job and sets a rank up for it.
extension Trainer {
    /// The DDP side of this run, or nil for one process: `distributed = True` under a launcher
    /// with several ranks. Every other combination is said or refused here.
    func joinDataParallel(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> DataParallel? {
        let launched = LaunchEnvironment.detect(environment)
        let ranks = launched?.worldSize ?? 1
        guard config.distributed else {
            if ranks > 1 {
                throw YOLOError("this process is rank \(launched!.rank) of \(ranks) started by mpirun, but distributed = False: every "
                                + "rank would train alone and write the same files. Set distributed = True in the parameter file "
                                + "(or --cfg-options distributed=True) for DDP, or run train without mpirun")
            }
            if config.syncBN { log("sync_bn = True: synchronised BatchNorm needs DDP (distributed = True with several ranks); ignored") }
            return nil
        }
        guard ranks > 1 else {
            log("distributed = True, but this process was not started as one of several ranks: training in one process. For DDP "
                + "on N ranks: ./scripts/dist_train.sh train.swift-config N (or mpirun -np N train)")
            if config.syncBN { log("sync_bn = True: ignored with one rank") }
            return nil
        }
        let parallel = DataParallel(world: try World.join(environment: environment, timeout: config.distTimeout))
        parallel.epochEndTimeout = max(config.distTimeout, 3600)
        return parallel
    }

    /// Before the first step of a rank: its threads, the batch split, the leader's weights, the
    /// loss's global counts and, with sync_bn, batch statistics over every rank.
    func prepare(_ parallel: DataParallel, model: Detector, loss: inout YOLOLoss) throws {
        let c = config
        if let threads = parallel.threadsPerRank() { CPUThreads.count = threads }
        var batches = [("Unfreeze_batch_size", c.unfreezeBatchSize)]
        if c.freezeTrain { batches.insert(("Freeze_batch_size", c.freezeBatchSize), at: 0) }
        let perRank = try batches.map { "\($0.0) \($0.1) = \(parallel.ranks) x \(try parallel.perRankBatch($0.1, key: $0.0))" }
        let hosts = try parallel.world.allGather(parallel.world.host)
        log("DDP: \(parallel.ranks) ranks over \(parallel.world.transport) on " + Self.describeHosts(hosts)
            + "; \(perRank.joined(separator: ", ")) images a step; \(CPUThreads.count) thread(s) per rank on the CPU"
            + (c.syncBN ? "; sync_bn: batch statistics over all ranks" : "; BatchNorm statistics per rank (sync_bn = False)"))
        try parallel.broadcastWeights(model)
        let world = parallel.world, ranks = Double(parallel.ranks)
        loss.countsAcrossRanks = { counts in try world.allReduce(counts, .sum).map { $0 / ranks } }
        if c.syncBN {
            let norms = model.namedModules().compactMap { $0.1 as? BatchNorm2d }
            for (i, norm) in norms.enumerated() { norm.replicas = parallel; norm.replicaTag = i }
        }
    }

    /// DP's replicas (`distributed = False`): with Cuda = True one per visible GPU (or `dp_replicas`
    /// of them), as the reference wraps its model in nn.DataParallel; on the CPU only when
    /// `dp_replicas` asks, all on its one device (which tests the logic, and says so).
    func makeReplicas(kind: ModelKind, model: Detector, classes: Int) throws -> Replicas? {
        let c = config
        let devices: [Device]
        switch device {
        case .cuda(let first):
            let visible = (try? CUDA.install().get()) ?? 1
            let wanted = c.dpReplicas == 0 ? visible : c.dpReplicas
            guard wanted > 1 else { return nil }
            guard first == 0, wanted <= visible else {
                throw YOLOError("dp_replicas = \(wanted) on \(device): DP takes cuda:0 to cuda:\(wanted - 1), and \(visible) GPU(s) are "
                                + "visible (CUDA_VISIBLE_DEVICES chooses them); use dp_replicas = 1 for one GPU")
            }
            devices = (0..<wanted).map { .cuda($0) }
        default:
            guard c.dpReplicas > 1 else { return nil }
            log("DP on the CPU: \(c.dpReplicas) replicas share its one device, which only costs time (the replica logic runs as it "
                + "would on several GPUs); to use several cores, train with DDP: ./scripts/dist_train.sh CONFIG N")
            devices = Array(repeating: .cpu, count: c.dpReplicas)
        }
        let copies = try devices.dropFirst().map { d -> (Detector, Device) in
            let replica = try kind.make(numClasses: classes, anchorsMask: c.anchorsMask, seed: UInt64(c.seed))
            try replica.to(device: d)
            return (replica, d)
        }
        log("DP: \(devices.count) replicas (\(devices.map { "\($0)" }.joined(separator: ", "))); each step's batch split among them, "
            + "one loss on \(devices[0]), the gradients summed there")
        return Replicas(model: model, copies: copies, modelDevice: devices[0])
    }

    /// "host-a (ranks 0-1), host-b (ranks 2-3)".
    static func describeHosts(_ hosts: [String]) -> String {
        var order: [String] = []
        var ranksOf: [String: [Int]] = [:]
        for (rank, host) in hosts.enumerated() {
            if ranksOf[host] == nil { order.append(host) }
            ranksOf[host, default: []].append(rank)
        }
        return order.map { host in
            let r = ranksOf[host]!
            let contiguous = r.last! - r.first! + 1 == r.count
            return "\(host) (rank\(r.count > 1 ? "s" : "") " + (r.count > 1 && contiguous ? "\(r.first!)-\(r.last!)" : r.map(String.init).joined(separator: ", ")) + ")"
        }.joined(separator: ", ")
    }

    /// The hooks of a rank other than the leader: it neither logs, evaluates nor saves, but keeps
    /// an EMA like the leader's so that its share of the validation uses the same weights.
    func makeFollowerHooks(model: Detector, kind: ModelKind, classes: Int, start: ResumePoint?) throws -> [TrainingHook] {
        var hooks: [TrainingHook] = []
        if config.ema {
            let shadow = try kind.make(numClasses: classes, anchorsMask: config.anchorsMask, seed: UInt64(config.seed))
            try shadow.to(device: device)
            hooks.append(try EMAHook(model: model, shadow: shadow, decay: config.emaDecay, tau: config.emaTau,
                                     resumedWeights: start?.evaluationWeights))
        }
        return hooks + extraHooks
    }

    /// The all-reduce's share of the step (measured, every DDP run).
    func logReduceCost(_ parallel: DataParallel, _ context: TrainingContext) {
        guard context.stepsTaken > 0, context.stepSeconds > 0 else { return }
        let perStep = parallel.reduceSeconds / Double(context.stepsTaken)
        let g = parallel.gradients
        log(String(format: "DDP: gradient all-reduce %.1f ms per step beyond what overlapped with backward (%.1f%% of the step); "
                   + "%d of %d buckets started during backward", perStep * 1000, 100 * parallel.reduceSeconds / context.stepSeconds,
                   g.startedEarly, g.bucketsReduced))
    }
}

/// The world size goes into every resume point: a point written mid-epoch continues only with as
/// many ranks (its epoch's batches are split that way).
extension DataParallel: TrainingHook, ResumableState {
    public var resumeKey: String { "data_parallel" }
    public func resumeState() -> CheckpointValue { .dict([("world_size", .int(ranks))]) }
    public func restore(_ value: CheckpointValue) throws {}

    static func ranks(writing point: ResumePoint) -> Int {
        point.extra.first { $0.0 == "data_parallel" }?.1["world_size"]?.intValue ?? 1
    }
}
