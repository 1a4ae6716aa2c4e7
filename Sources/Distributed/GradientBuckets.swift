import Foundation
import TensorCore

/// DDP's gradient reduction overlapped with backward, as PyTorch's reducer: the trainable
/// parameters are laid out in buckets in reverse order (roughly the order backward finishes
/// them; the first bucket 1 MB, the others `capacity`); when every gradient of a bucket is final
/// its all-reduce starts while backward goes on, buckets always started in the same order on every
/// rank; `finish` starts what is left (parameters that got no gradient count as zeros), waits,
/// and writes the averages back.
public final class GradientBuckets {
    public let communicator: Communicator
    let firstCapacity: Int
    let capacity: Int

    /// One bucket: its parameters (indices), their offsets, and a buffer at a fixed address (an
    /// all-reduce under way writes into it after the call that started it returns).
    final class Bucket {
        var members: [Int] = []
        var offsets: [Int] = []
        var elements = 0
        var buffer = UnsafeMutableBufferPointer<Float>(start: nil, count: 0)
        var waiting = 0
        var reduction: PendingReduction?

        func allocate() {
            buffer = .allocate(capacity: max(elements, 1))
            buffer.initialize(repeating: 0)
        }

        func slice(_ slot: Int, count: Int) -> UnsafeMutableBufferPointer<Float> {
            UnsafeMutableBufferPointer(rebasing: buffer[offsets[slot]..<(offsets[slot] + count)])
        }

        deinit { buffer.deallocate() }
    }

    private var parameters: [Tensor] = []
    private var index: [ObjectIdentifier: (bucket: Int, slot: Int)] = [:]
    private var buckets: [Bucket] = []
    /// The next bucket to start (they start in order).
    private var nextToStart = 0
    /// Seconds spent in the collectives' calls and copies (not the time they overlap with backward).
    public private(set) var seconds = 0.0
    /// Buckets whose all-reduce started during backward, over the run.
    public private(set) var startedEarly = 0
    public private(set) var bucketsReduced = 0

    public init(communicator: Communicator, capacityBytes: Int = 25 << 20, firstBucketBytes: Int = 1 << 20) {
        self.communicator = communicator
        capacity = max(capacityBytes / 4, 1)
        firstCapacity = max(firstBucketBytes / 4, 1)
    }

    public func resetTime() { seconds = 0 }

    /// Before backward: the parameters that will get gradients, in the model's order.
    public func begin(_ trainable: [Tensor]) throws {
        guard communicator.worldSize > 1 else { return }
        if trainable.count != parameters.count || zip(trainable, parameters).contains(where: { $0 !== $1 }) { plan(trainable) }
        for bucket in buckets {
            bucket.waiting = bucket.members.count
            bucket.reduction = nil
        }
        nextToStart = 0
    }

    private func plan(_ trainable: [Tensor]) {
        parameters = trainable
        index = [:]
        buckets = []
        var current = Bucket()
        for i in trainable.indices.reversed() {
            let limit = buckets.isEmpty ? firstCapacity : capacity
            if current.elements + trainable[i].count > limit && !current.members.isEmpty {
                buckets.append(current)
                current = Bucket()
            }
            index[ObjectIdentifier(trainable[i])] = (buckets.count, current.members.count)
            current.members.append(i)
            current.offsets.append(current.elements)
            current.elements += trainable[i].count
        }
        if !current.members.isEmpty { buckets.append(current) }
        buckets.forEach { $0.allocate() }
    }

    /// A leaf's gradient is final: its bucket may start, and with it any ready ones behind it.
    public func ready(_ tensor: Tensor) throws {
        guard communicator.worldSize > 1, let (b, _) = index[ObjectIdentifier(tensor)] else { return }
        buckets[b].waiting -= 1
        // Give MPI a chance to move the reductions under way on.
        for k in 0..<nextToStart { _ = try buckets[k].reduction?.test() }
        while nextToStart < buckets.count && buckets[nextToStart].waiting == 0 {
            try start(nextToStart)
            startedEarly += 1
            nextToStart += 1
        }
    }

    private func start(_ b: Int) throws {
        let began = DispatchTime.now().uptimeNanoseconds
        defer { seconds += Double(DispatchTime.now().uptimeNanoseconds - began) / 1e9 }
        let bucket = buckets[b]
        for (slot, i) in bucket.members.enumerated() {
            let target = bucket.slice(slot, count: parameters[i].count)
            if let g = parameters[i].grad { try TensorBuckets.read(g, into: target) } else { target.update(repeating: 0) }
        }
        bucket.reduction = try communicator.startAllReduce(bucket.buffer)
    }

    /// After backward: the remaining buckets started, every one waited for, averages written back.
    public func finish(average: Bool) throws {
        guard communicator.worldSize > 1 else { return }
        while nextToStart < buckets.count {
            try start(nextToStart)
            nextToStart += 1
        }
        let began = DispatchTime.now().uptimeNanoseconds
        defer { seconds += Double(DispatchTime.now().uptimeNanoseconds - began) / 1e9 }
        let factor = average ? 1 / Float(communicator.worldSize) : 1
        for bucket in buckets {
            try bucket.reduction?.wait()
            bucketsReduced += 1
            for (slot, i) in bucket.members.enumerated() {
                guard let g = parameters[i].grad else { continue }
                try TensorBuckets.write(bucket.slice(slot, count: parameters[i].count), scaledBy: factor, into: g)
            }
        }
    }
}
