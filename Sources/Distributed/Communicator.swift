import Foundation

/// How values from every rank are combined.
public enum ReduceOp: Sendable {
    case sum, max, min
}

/// The processes of one data-parallel job and the collectives between them. Every collective is
/// called by every rank in the same order (the MPI rule); rank 0 is the leader.
public protocol Communicator: AnyObject {
    var rank: Int { get }
    var worldSize: Int { get }
    /// This rank's index among the ranks on its host, and how many ranks share the host.
    var localRank: Int { get }
    var localSize: Int { get }
    var host: String { get }
    /// What carries the collectives (for messages): "MPI (/usr/lib/.../libmpi.so.40)", "single process".
    var transport: String { get }

    func allReduce(_ values: UnsafeMutableBufferPointer<Float>, _ op: ReduceOp) throws
    func allReduce(_ values: UnsafeMutableBufferPointer<Double>, _ op: ReduceOp) throws
    /// Starts an in-place sum of `values` over the ranks and returns at once; the buffer must stay
    /// untouched until the returned reduction's `wait` (DDP reduces buckets while backward runs).
    func startAllReduce(_ values: UnsafeMutableBufferPointer<Float>) throws -> PendingReduction
    func broadcast(_ bytes: UnsafeMutableRawBufferPointer, root: Int) throws
    /// Every rank's `bytes` (all of the same length), in rank order.
    func allGather(_ bytes: UnsafeRawBufferPointer, into result: UnsafeMutableRawBufferPointer) throws
    func barrier() throws
    /// Ends every rank of the job with `code` (after this rank has said why).
    func abortJob(code: Int32) -> Never
    /// Leaves the job cleanly (every rank calls it once at the end).
    func finish() throws
    /// Runs `body` with another limit on how long its collectives may wait for the other ranks
    /// (the epoch's end, where the leader evaluates and saves while the others wait).
    func withTimeout<T>(_ seconds: Double, _ body: () throws -> T) rethrows -> T
}

extension Communicator {
    public var isLeader: Bool { rank == 0 }
    /// "rank 1 of 2 on host-a": how messages name a rank.
    public var rankName: String { "rank \(rank) of \(worldSize) on \(host)" }

    public func allReduce(_ values: [Double], _ op: ReduceOp = .sum) throws -> [Double] {
        var copy = values
        try copy.withUnsafeMutableBufferPointer { try allReduce($0, op) }
        return copy
    }

    public func allReduce(_ value: Double, _ op: ReduceOp = .sum) throws -> Double {
        try allReduce([value], op)[0]
    }

    /// The leader's bytes on every rank (their length first, so ranks need not know it).
    public func broadcast(_ data: Data, root: Int = 0) throws -> Data {
        var length = [Double(data.count)]
        try length.withUnsafeMutableBufferPointer { try allReduce($0, .max) }   // only the root's is non-zero
        var bytes = [UInt8](repeating: 0, count: Int(length[0]))
        if rank == root { bytes = Array(data) }
        if !bytes.isEmpty { try bytes.withUnsafeMutableBytes { try broadcast($0, root: root) } }
        return Data(bytes)
    }

    public func broadcast(_ text: String, root: Int = 0) throws -> String {
        String(decoding: try broadcast(rank == root ? Data(text.utf8) : Data(), root: root), as: UTF8.self)
    }

    /// One value from every rank, in rank order.
    public func allGather(_ value: Double) throws -> [Double] {
        var result = [Double](repeating: 0, count: worldSize)
        var mine = value
        try withUnsafeBytes(of: &mine) { input in
            try result.withUnsafeMutableBytes { try allGather(input, into: $0) }
        }
        return result
    }

    /// Every rank's text (of any length), in rank order.
    public func allGather(_ text: String) throws -> [String] {
        let bytes = Array(text.utf8)
        let longest = Int(try allReduce(Double(bytes.count), .max))
        var padded = [UInt8](repeating: 0, count: longest + 8)
        withUnsafeBytes(of: Int64(bytes.count)) { padded.replaceSubrange(0..<8, with: $0) }
        padded.replaceSubrange(8..<(8 + bytes.count), with: bytes)
        var all = [UInt8](repeating: 0, count: padded.count * worldSize)
        try padded.withUnsafeBytes { input in try all.withUnsafeMutableBytes { try allGather(input, into: $0) } }
        return (0..<worldSize).map { r in
            let start = r * padded.count
            let count = all[start..<(start + 8)].withUnsafeBytes { Int($0.loadUnaligned(as: Int64.self)) }
            return String(decoding: all[(start + 8)..<(start + 8 + count)], as: UTF8.self)
        }
    }
}

/// An all-reduce under way.
public protocol PendingReduction: AnyObject {
    /// Lets the library move it on; true once it is complete.
    func test() throws -> Bool
    /// Blocks until it is complete.
    func wait() throws
}

/// A reduction that was complete when it started (one process).
final class CompletedReduction: PendingReduction {
    func test() throws -> Bool { true }
    func wait() throws {}
}

/// A run of one process: every collective is the identity.
public final class SingleProcess: Communicator {
    public init() {}
    public var rank: Int { 0 }
    public var worldSize: Int { 1 }
    public var localRank: Int { 0 }
    public var localSize: Int { 1 }
    public var host: String { ProcessInfo.processInfo.hostName }
    public var transport: String { "single process" }
    public func allReduce(_ values: UnsafeMutableBufferPointer<Float>, _ op: ReduceOp) throws {}
    public func allReduce(_ values: UnsafeMutableBufferPointer<Double>, _ op: ReduceOp) throws {}
    public func startAllReduce(_ values: UnsafeMutableBufferPointer<Float>) throws -> PendingReduction { CompletedReduction() }
    public func broadcast(_ bytes: UnsafeMutableRawBufferPointer, root: Int) throws {}
    public func allGather(_ bytes: UnsafeRawBufferPointer, into result: UnsafeMutableRawBufferPointer) throws {
        result.copyMemory(from: bytes)
    }
    public func barrier() throws {}
    public func abortJob(code: Int32) -> Never { exit(code) }
    public func finish() throws {}
    public func withTimeout<T>(_ seconds: Double, _ body: () throws -> T) rethrows -> T { try body() }
}
