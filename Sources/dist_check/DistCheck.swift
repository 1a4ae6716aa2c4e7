import ArgumentParser
import Distributed
import Foundation
import TensorCore

/// Checks an MPI setup before training on it: every rank says where it runs, the collectives
/// training uses are checked against values known by hand, and the all-reduce's latency and
/// bandwidth are measured.
@main
struct DistCheck: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dist_check",
        abstract: "Check the ranks of an MPI job and its collectives: mpirun -np N [--hostfile F] dist_check",
        discussion: "Rank 0 prints every rank's host, the check of all-reduce (sum, max, min), broadcast, all-gather, "
            + "barrier and bucketed tensor all-reduce against values worked out by hand, then the all-reduce time for "
            + "a small message and for a gradient-sized one. Exits 1 when a collective gives a wrong value. Run "
            + "alone (without mpirun) it checks the single-process path.")

    @Option(help: "Size of the timed all-reduce, in MB (about YOLOv4-tiny's gradients: 24).") var megabytes = 24.0
    @Option(help: "Seconds any collective may wait for the other ranks before the job is ended.") var timeout = 120.0

    func run() throws {
        setvbuf(stdout, nil, _IOLBF, 0)
        let world: Communicator
        do {
            world = try World.join(timeout: timeout)
        } catch {
            FileHandle.standardError.write(Data("dist_check: \(error)\n".utf8))
            throw ExitCode(2)
        }
        let names = try world.allGather("\(world.host) (local rank \(world.localRank) of \(world.localSize), pid \(getpid()))")
        if world.isLeader {
            print("\(world.worldSize) rank(s) over \(world.transport):")
            for (r, name) in names.enumerated() { print("  rank \(r): \(name)") }
        }
        var failures: [String] = []
        for (what, ok) in try checks(world) where !ok { failures.append(what) }
        let failed = try world.allReduce(Double(failures.count), .sum)
        if !failures.isEmpty { print("\(world.rankName): wrong values from \(failures.joined(separator: ", "))") }
        try world.barrier()
        if world.isLeader { print(failed == 0 ? "collectives: every value as expected" : "collectives: \(Int(failed)) wrong") }
        try timing(world)
        try world.finish()
        if failed > 0 { throw ExitCode(1) }
    }

    /// Each collective with inputs whose result is known in closed form.
    func checks(_ world: Communicator) throws -> [(String, Bool)] {
        let w = Double(world.worldSize), r = Double(world.rank)
        var results: [(String, Bool)] = []
        let n = 1000
        var values = (0..<n).map { Float($0 + 1) * Float(r + 1) }
        try values.withUnsafeMutableBufferPointer { try world.allReduce($0, .sum) }
        results.append(("all-reduce sum (float)", values.enumerated().allSatisfy { $1 == Float($0 + 1) * Float(w * (w + 1) / 2) }))
        results.append(("all-reduce max", try world.allReduce(r, .max) == w - 1))
        results.append(("all-reduce min", try world.allReduce(r + 5, .min) == 5))
        results.append(("all-reduce sum (double)", try world.allReduce([r, 2 * r], .sum) == [w * (w - 1) / 2, w * (w - 1)]))
        let text = try world.broadcast(world.isLeader ? "weights of rank 0 ✓" : "")
        results.append(("broadcast", text == "weights of rank 0 ✓"))
        results.append(("all-gather", try world.allGather(10 * r) == (0..<world.worldSize).map { Double(10 * $0) }))
        try world.barrier()
        // Three tensors in buckets of 8 elements: the first two share one, the third has its own.
        let tensors = try [3, 5, 7].map { try Tensor.full([$0], r) }
        try TensorBuckets(communicator: world, capacityBytes: 8 * 4).allReduce(tensors, average: true)
        let expected = Float((w - 1) / 2)
        results.append(("bucketed tensor all-reduce", try tensors.allSatisfy { try $0.toArray().allSatisfy { $0 == expected } }))
        let leaderTensor = try Tensor.full([4], world.isLeader ? 7 : -1)
        try TensorBuckets(communicator: world).broadcast([leaderTensor])
        results.append(("tensor broadcast", try leaderTensor.toArray() == [7, 7, 7, 7]))
        return results
    }

    func timing(_ world: Communicator) throws {
        guard world.worldSize > 1 else { return }
        var small = [Double](repeating: 1, count: 4)
        let smallRuns = 200
        var start = Date()
        for _ in 0..<smallRuns { try small.withUnsafeMutableBufferPointer { try world.allReduce($0, .sum) } }
        let latency = Date().timeIntervalSince(start) / Double(smallRuns)
        var large = [Float](repeating: 1, count: Int(megabytes * 1_048_576 / 4))
        try large.withUnsafeMutableBufferPointer { try world.allReduce($0, .sum) }   // warm-up
        let largeRuns = 5
        try world.barrier()
        start = Date()
        for _ in 0..<largeRuns { try large.withUnsafeMutableBufferPointer { try world.allReduce($0, .sum) } }
        let seconds = Date().timeIntervalSince(start) / Double(largeRuns)
        let slowest = try world.allReduce(seconds, .max)
        if world.isLeader {
            print(String(format: "all-reduce of 4 doubles: %.1f µs; of %.0f MB (float32): %.1f ms (%.2f GB/s of buffer per rank)",
                         latency * 1e6, megabytes, slowest * 1000, megabytes / 1024 / slowest))
        }
    }
}
