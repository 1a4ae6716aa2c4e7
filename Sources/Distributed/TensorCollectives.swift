import Foundation
import TensorCore

/// Collectives on tensors: float32 tensors all-reduced in buckets (one collective per bucket
/// instead of one per tensor, in the same order on every rank), and tensors broadcast from the
/// leader. CPU tensors are reduced in a reused host buffer; tensors on another device go through
/// host copies.
public final class TensorBuckets {
    public let communicator: Communicator
    /// Elements per bucket (25 MB of float32 by default, PyTorch DDP's bucket_cap_mb).
    public let capacity: Int
    private var buffer: [Float]
    /// Seconds spent in the collectives and in copying, since the last `resetTime`.
    public private(set) var seconds = 0.0

    public init(communicator: Communicator, capacityBytes: Int = 25 << 20) {
        self.communicator = communicator
        self.capacity = max(capacityBytes / 4, 1)
        buffer = []
    }

    public func resetTime() { seconds = 0 }

    /// Sums (`average`: averages) every tensor's values over the ranks, in place.
    public func allReduce(_ tensors: [Tensor], average: Bool) throws {
        guard communicator.worldSize > 1 else { return }
        let start = DispatchTime.now().uptimeNanoseconds
        defer { seconds += Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }
        for t in tensors where t.dtype != .float32 {
            throw DistributedError("all-reduce of a \(t.dtype) tensor of shape \(t.shape): only float32 is reduced")
        }
        let factor = average ? 1 / Float(communicator.worldSize) : 1
        var bucket: [Tensor] = []
        var filled = 0
        for t in tensors {
            if filled + t.count > capacity && !bucket.isEmpty {
                try reduce(bucket, elements: filled, factor: factor)
                bucket = []; filled = 0
            }
            bucket.append(t)
            filled += t.count
        }
        if !bucket.isEmpty { try reduce(bucket, elements: filled, factor: factor) }
    }

    private func reduce(_ bucket: [Tensor], elements: Int, factor: Float) throws {
        if buffer.count < elements { buffer = [Float](repeating: 0, count: elements) }
        try buffer.withUnsafeMutableBufferPointer { all in
            var at = 0
            for t in bucket {
                try Self.read(t, into: UnsafeMutableBufferPointer(rebasing: all[at..<(at + t.count)]))
                at += t.count
            }
            try communicator.allReduce(UnsafeMutableBufferPointer(rebasing: all[0..<elements]), .sum)
            at = 0
            for t in bucket {
                try Self.write(UnsafeMutableBufferPointer(rebasing: all[at..<(at + t.count)]), scaledBy: factor, into: t)
                at += t.count
            }
        }
    }

    /// The leader's values of every tensor on every rank, in place (weights and buffers at the start).
    public func broadcast(_ tensors: [Tensor]) throws {
        guard communicator.worldSize > 1 else { return }
        for t in tensors {
            if t.device == .cpu && t.isContiguous {
                try communicator.broadcast(UnsafeMutableRawBufferPointer(start: t.dataAddress, count: t.count * t.dtype.byteSize), root: 0)
            } else {
                var values = try t.toArray()
                try values.withUnsafeMutableBytes { try communicator.broadcast($0, root: 0) }
                try withNoGrad { _ = try t.copy_(from: try Tensor(values, shape: t.shape).to(t.dtype).to(device: t.device)) }
            }
        }
    }

    static func read(_ t: Tensor, into target: UnsafeMutableBufferPointer<Float>) throws {
        if t.device == .cpu && t.isContiguous {
            target.baseAddress!.update(from: t.dataAddress.assumingMemoryBound(to: Float.self), count: t.count)
        } else {
            let values = try t.toArray()
            _ = target.update(from: values)
        }
    }

    static func write(_ source: UnsafeMutableBufferPointer<Float>, scaledBy factor: Float, into t: Tensor) throws {
        if factor != 1 { for i in source.indices { source[i] *= factor } }
        if t.device == .cpu && t.isContiguous {
            t.dataAddress.assumingMemoryBound(to: Float.self).update(from: source.baseAddress!, count: t.count)
        } else {
            try withNoGrad { _ = try t.copy_(from: try Tensor(Array(source), shape: t.shape).to(device: t.device)) }
        }
    }
}
