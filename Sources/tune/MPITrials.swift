import Distributed
import Foundation
import Tuning
import YOLO

/// `mpirun -np N tune ...`: rank 0 runs the study (samplers, schedulers, the database, the
/// exports) and hands trials to ranks 1..N-1, which run them as their own `train` children and
/// send back every epoch report and how each trial ended. Trial folders are made on the host
/// that runs the trial, at the study's path.
enum TrialMessage: Codable {
    case start(number: Int, values: String, epoch: Int, continuing: Bool)
    case interrupt(number: Int)
    case shutdown
    case report(number: Int, epoch: Int, valLoss: Double?, map: Double?)
    case restarted(number: Int)
    case exited(number: Int, status: Int32, reason: String)

    static let tag = 17

    func send(_ world: MPICommunicator, to rank: Int) throws {
        try world.send(try JSONEncoder().encode(self), to: rank, tag: Self.tag)
    }

    /// Every message waiting for this rank, in arrival order.
    static func received(_ world: MPICommunicator) throws -> [(source: Int, message: TrialMessage)] {
        var messages: [(Int, TrialMessage)] = []
        while let waiting = try world.waitingMessage() {
            let data = try world.receive(from: waiting.source, tag: waiting.tag, count: waiting.count)
            messages.append((waiting.source, try JSONDecoder().decode(TrialMessage.self, from: data)))
        }
        return messages
    }
}

/// Rank 0's view of the trials the other ranks run.
final class RemotePool: TrialPool {
    let world: MPICommunicator
    let perRank: Int
    private var trials: [Int: RemoteTrial] = [:]

    init(world: MPICommunicator, perRank: Int) {
        self.world = world
        self.perRank = perRank
    }

    var workers: [Int] { Array(1..<world.worldSize) }
    var capacity: Int { workers.count * perRank }

    func start(_ trial: TrialRecord, continuing: Bool) throws -> TrialHandle {
        let busy = Dictionary(grouping: trials.values.filter { $0.status == nil }, by: \.rank).mapValues(\.count)
        let rank = workers.min { busy[$0, default: 0] < busy[$1, default: 0] }!
        let values = trial.values.keys.sorted().map { "\($0) = \(trial.values[$0]!)" }.joined(separator: "\n")
        try TrialMessage.start(number: trial.number, values: values, epoch: trial.epoch, continuing: continuing).send(world, to: rank)
        let handle = RemoteTrial(number: trial.number, rank: rank, world: world)
        trials[trial.number] = handle
        return handle
    }

    func pump() throws {
        for (source, message) in try TrialMessage.received(world) {
            switch message {
            case .report(let n, let epoch, let valLoss, let map): trials[n]?.reports.append((epoch, valLoss, map))
            case .restarted(let n): trials[n]?.restartedFromScratch = true
            case .exited(let n, let status, let reason):
                trials[n]?.status = status
                trials[n]?.reason = reason
            case .start, .interrupt, .shutdown:
                throw TuneError("rank \(source) sent rank 0 a message only rank 0 sends (\(message))")
            }
        }
    }

    /// Tells every worker that the study is over (they end once their trials have).
    func shutdown() {
        for rank in workers { try? TrialMessage.shutdown.send(world, to: rank) }
    }
}

final class RemoteTrial: TrialHandle {
    let number: Int
    let rank: Int
    let world: MPICommunicator
    var pruned = false
    var restartedFromScratch = false
    var reports: [EpochLine] = []
    var status: Int32?
    var reason = ""
    private var interrupted = false

    init(number: Int, rank: Int, world: MPICommunicator) {
        self.number = number
        self.rank = rank
        self.world = world
    }

    func newReports() -> [EpochLine] {
        defer { reports = [] }
        return reports
    }

    func poll() -> Int32? { status }

    func interrupt() {
        guard !interrupted, status == nil else { return }
        interrupted = true
        try? TrialMessage.interrupt(number: number).send(world, to: rank)
    }

    func failureReason(status: Int32) -> String { "rank \(rank) \(reason)" }
}

/// Ranks 1..N-1: run what rank 0 hands over, report back, end when told.
struct TrialWorker {
    let world: MPICommunicator
    let pool: LocalPool

    func run() throws {
        var running: [Int: TrialHandle] = [:]
        var stopping = false, forwarded = false
        while !(stopping && running.isEmpty) {
            if Interruption.requested && !forwarded {
                forwarded = true
                running.values.forEach { $0.interrupt() }
            }
            for (_, message) in try TrialMessage.received(world) {
                switch message {
                case .start(let n, let text, let epoch, let continuing):
                    var trial = TrialRecord(number: n, values: TrialRecord.values(fromLines: text) ?? [:])
                    trial.epoch = epoch
                    do {
                        let handle = try pool.start(trial, continuing: continuing)
                        if handle.restartedFromScratch { try TrialMessage.restarted(number: n).send(world, to: 0) }
                        running[n] = handle
                    } catch {
                        try TrialMessage.exited(number: n, status: 127, reason: "\(error)").send(world, to: 0)
                    }
                case .interrupt(let n): running[n]?.interrupt()
                case .shutdown:
                    stopping = true
                    running.values.forEach { $0.interrupt() }
                case .report, .restarted, .exited:
                    throw TuneError("rank \(world.rank) was sent a message only workers send (\(message))")
                }
            }
            for (n, handle) in running {
                for r in handle.newReports() {
                    try TrialMessage.report(number: n, epoch: r.epoch, valLoss: r.valLoss, map: r.map).send(world, to: 0)
                }
                guard let status = handle.poll() else { continue }
                for r in handle.newReports() {
                    try TrialMessage.report(number: n, epoch: r.epoch, valLoss: r.valLoss, map: r.map).send(world, to: 0)
                }
                let reason = status == 0 ? "" : "on \(world.host): " + handle.failureReason(status: status)
                try TrialMessage.exited(number: n, status: status, reason: reason).send(world, to: 0)
                running[n] = nil
            }
            usleep(100_000)
        }
    }
}
