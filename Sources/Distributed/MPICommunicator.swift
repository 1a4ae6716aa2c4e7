import CMPI
import Foundation

/// Collectives over Open MPI (opened at run time), each guarded by a watchdog: a collective that
/// waits longer than the timeout means another rank stopped or hangs, and the job is ended.
public final class MPICommunicator: Communicator {
    public let rank: Int
    public let worldSize: Int
    public let localRank: Int
    public let localSize: Int
    public let host: String
    public var transport: String { "MPI (\(String(cString: cmpi_library_path())))" }
    let watchdog: CollectiveWatchdog

    init(launch: LaunchEnvironment, timeout: Double) throws {
        if cmpi_init() != 0 { throw DistributedError(String(cString: cmpi_last_error())) }
        var r: Int32 = 0, s: Int32 = 0
        try Self.check(cmpi_rank(&r))
        try Self.check(cmpi_size(&s))
        var name = [CChar](repeating: 0, count: 256)
        try Self.check(cmpi_processor_name(&name, Int32(name.count)))
        rank = Int(r)
        worldSize = Int(s)
        localRank = launch.localRank
        localSize = launch.localSize
        host = String(cString: name)
        watchdog = CollectiveWatchdog(timeout: timeout, rankName: "rank \(rank) of \(worldSize) on \(host)")
    }

    static func check(_ code: Int32) throws {
        if code != 0 { throw DistributedError(String(cString: cmpi_last_error())) }
    }

    fileprivate func guarded(_ what: String, _ body: () -> Int32) throws {
        watchdog.enter(what)
        defer { watchdog.leave() }
        try Self.check(body())
    }

    private static func code(_ op: ReduceOp) -> cmpi_op {
        switch op {
        case .sum: return CMPI_SUM
        case .max: return CMPI_MAX
        case .min: return CMPI_MIN
        }
    }

    public func allReduce(_ values: UnsafeMutableBufferPointer<Float>, _ op: ReduceOp) throws {
        guard let base = values.baseAddress, values.count > 0 else { return }
        try guarded("an all-reduce of \(values.count) floats") { cmpi_allreduce(nil, base, Int64(values.count), CMPI_FLOAT, Self.code(op)) }
    }

    public func allReduce(_ values: UnsafeMutableBufferPointer<Double>, _ op: ReduceOp) throws {
        guard let base = values.baseAddress, values.count > 0 else { return }
        try guarded("an all-reduce of \(values.count) doubles") { cmpi_allreduce(nil, base, Int64(values.count), CMPI_DOUBLE, Self.code(op)) }
    }

    public func startAllReduce(_ values: UnsafeMutableBufferPointer<Float>) throws -> PendingReduction {
        var request: cmpi_request?
        if let base = values.baseAddress, values.count > 0 {
            try Self.check(cmpi_iallreduce(base, Int64(values.count), CMPI_FLOAT, CMPI_SUM, &request))
        }
        return MPIReduction(request: request, count: values.count, communicator: self)
    }

    /// A started MPI_Iallreduce; waiting for it is guarded like any collective.
    final class MPIReduction: PendingReduction {
        private var request: cmpi_request?
        private var done: Bool
        let count: Int
        unowned let communicator: MPICommunicator

        init(request: cmpi_request?, count: Int, communicator: MPICommunicator) {
            self.request = request
            self.done = request == nil
            self.count = count
            self.communicator = communicator
        }

        func test() throws -> Bool {
            guard !done else { return true }
            var flag: Int32 = 0
            try MPICommunicator.check(cmpi_test(&request, &flag))
            done = flag != 0
            return done
        }

        func wait() throws {
            guard !done else { return }
            try communicator.guarded("an all-reduce of a \(count)-float gradient bucket") { cmpi_wait(&request) }
            done = true
        }
    }

    public func broadcast(_ bytes: UnsafeMutableRawBufferPointer, root: Int) throws {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        try guarded("a broadcast of \(bytes.count) bytes") { cmpi_broadcast(base, Int64(bytes.count), CMPI_BYTE, Int32(root)) }
    }

    public func allGather(_ bytes: UnsafeRawBufferPointer, into result: UnsafeMutableRawBufferPointer) throws {
        guard result.count == bytes.count * worldSize else {
            throw DistributedError("all-gather: \(result.count) bytes of room for \(worldSize) x \(bytes.count)")
        }
        guard let input = bytes.baseAddress, let output = result.baseAddress else { return }
        try guarded("an all-gather") { cmpi_allgather(input, Int64(bytes.count), output, CMPI_BYTE) }
    }

    public func barrier() throws {
        try guarded("a barrier") { cmpi_barrier() }
    }

    public func abortJob(code: Int32) -> Never {
        FileHandle.standardError.synchronizeFile()
        cmpi_abort(code)
        exit(code)
    }

    public func withTimeout<T>(_ seconds: Double, _ body: () throws -> T) rethrows -> T {
        let saved = watchdog.limit
        watchdog.limit = seconds
        defer { watchdog.limit = saved }
        return try body()
    }

    public func finish() throws {
        watchdog.stop()
        try Self.check(cmpi_finalize())
    }
}
