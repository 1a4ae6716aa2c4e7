import Foundation
import TensorCore
import Vision

/// A ground-truth box for the loss: centre and size normalised by the input size, and class.
public struct TargetBox: Equatable, Sendable {
    public var cx, cy, w, h: Float
    public var classIndex: Int
    public init(cx: Float, cy: Float, w: Float, h: Float, classIndex: Int) {
        self.cx = cx; self.cy = cy; self.w = w; self.h = h; self.classIndex = classIndex
    }
}

/// A batch: images as NCHW float32 in [0, 1] and each image's target boxes.
public struct Batch {
    public var images: Tensor
    public var targets: [[TargetBox]]
    public var indices: [Int]
}

/// Background workers that decode and augment batches ahead of the training step.
///
/// Reproducible from `seed`: the epoch's order is shuffled from (seed, epoch), and every sample
/// draws from its own stream derived from (seed, epoch, position), so results do not depend on the
/// number of workers or their timing, and no two workers or samples share augmentation (the
/// reference seeds all workers alike). An image that cannot be read is reported once by name,
/// replaced by another sample, and counted in `skippedImages`.
///
/// In data-parallel training each rank's loader takes its shard of the epoch's order (positions
/// rank, rank + ranks, ..., as PyTorch's DistributedSampler with drop_last), and a sample's stream
/// comes from its position in the whole order: the ranks' batches together are exactly the batch
/// one process with the whole batch size would draw.
public final class DataLoader: @unchecked Sendable {
    public let dataset: DetectionDataset
    public let batchSize: Int
    public let shuffle: Bool
    public let seed: UInt64
    public let workers: Int
    public let prefetch: Int
    public let dropLast: Bool
    /// This loader's part of the data: shard `index` of `count`.
    public let shard: (index: Int, count: Int)

    private let lock = NSLock()
    private var failed: Set<String> = []
    /// Names of the images that could not be read so far.
    public var skippedImages: [String] { lock.lock(); defer { lock.unlock() }; return failed.sorted() }
    var warn: (String) -> Void = { FileHandle.standardError.write(Data(("Warning: " + $0 + "\n").utf8)) }

    public init(dataset: DetectionDataset, batchSize: Int, shuffle: Bool, seed: UInt64, workers: Int = 2,
                prefetch: Int = 2, dropLast: Bool = true, shard: (index: Int, count: Int) = (0, 1)) {
        self.dataset = dataset
        self.batchSize = batchSize
        self.shuffle = shuffle
        self.seed = seed
        self.workers = max(workers, 0)
        self.prefetch = max(prefetch, 1)
        self.dropLast = dropLast
        self.shard = shard
    }

    /// Samples in this loader's shard of an epoch (every shard the same size; the rest is left out).
    public var samplesPerEpoch: Int { dataset.count / shard.count }

    public var batchesPerEpoch: Int {
        dropLast ? samplesPerEpoch / batchSize : (samplesPerEpoch + batchSize - 1) / batchSize
    }

    /// The sample order of an epoch.
    public func order(epoch: Int) -> [Int] {
        var order = Array(0..<dataset.count)
        guard shuffle else { return order }
        let rng = RandomGenerator(seed: seed).fork(stream: 0x5EED_0000_0000 &+ UInt64(epoch))
        for i in stride(from: order.count - 1, to: 0, by: -1) { order.swapAt(i, Int(rng.next() % UInt64(i + 1))) }
        return order
    }

    /// This shard's part of an epoch's order.
    public func shardOrder(epoch: Int) -> [Int] {
        let all = order(epoch: epoch)
        guard shard.count > 1 else { return all }
        return (0..<samplesPerEpoch).map { all[$0 * shard.count + shard.index] }
    }

    /// Iterates the batches of an epoch from `startBatch` (a resumed epoch continues where it stopped,
    /// with the same batches); `epoch` also steers the Mosaic cut-off.
    public func batches(epoch: Int, startBatch: Int = 0) -> EpochBatches {
        EpochBatches(loader: self, epoch: epoch, startBatch: startBatch)
    }

    func sampleStream(epoch: Int, position: Int) -> RandomGenerator {
        RandomGenerator(seed: seed).fork(stream: UInt64(epoch) << 32 | UInt64(position))
    }

    /// Builds batch `b` of an epoch.
    func makeBatch(_ b: Int, order: [Int], epoch: Int) throws -> Batch {
        let start = b * batchSize, end = min(start + batchSize, order.count)
        let aug = dataset.augmentation
        var samples: [Sample] = []
        var indices: [Int] = []
        for position in start..<end {
            let rng = sampleStream(epoch: epoch, position: position * shard.count + shard.index)
            var index = order[position]
            var attempts = 0
            while true {
                do {
                    samples.append(try dataset.sample(index, epoch: epoch, rng: rng))
                    indices.append(index)
                    break
                } catch {
                    let path = dataset.lines[index].imagePath
                    lock.lock(); let first = failed.insert(path).inserted; lock.unlock()
                    if first { warn("skipped an unreadable image: \(error)") }
                    attempts += 1
                    if attempts > 20 { throw YOLOError("too many unreadable images in a row; last: \(error)") }
                    index = Int(rng.next() % UInt64(dataset.count))
                }
            }
        }
        let plane = 3 * aug.inputHeight * aug.inputWidth
        let images = try Tensor.fromHost(shape: [samples.count, 3, aug.inputHeight, aug.inputWidth]) { buffer in
            for (i, s) in samples.enumerated() { s.image.writePlanarFloats(into: buffer.baseAddress! + i * plane) }
        }
        let (w, h) = (Float(aug.inputWidth), Float(aug.inputHeight))
        let targets = samples.map { s in
            s.boxes.map { b in
                TargetBox(cx: Float(b.x1 + b.x2) / 2 / w, cy: Float(b.y1 + b.y2) / 2 / h, w: Float(b.width) / w,
                          h: Float(b.height) / h, classIndex: b.classIndex)
            }
        }
        return Batch(images: images, targets: targets, indices: indices)
    }
}

/// The batches of one epoch, produced by the loader's workers in order.
public final class EpochBatches: Sequence, IteratorProtocol, @unchecked Sendable {
    let loader: DataLoader
    let epoch: Int
    let order: [Int]
    public let count: Int
    private let condition = NSCondition()
    private var ready: [Int: Result<Batch, Error>] = [:]
    private var nextToMake = 0
    private var nextToTake = 0
    private var stopped = false
    private var threads: [Thread] = []
    /// The first error a worker met, surfaced by `nextBatch()`.
    public private(set) var error: Error?

    init(loader: DataLoader, epoch: Int, startBatch: Int = 0) {
        self.loader = loader
        self.epoch = epoch
        self.order = loader.shardOrder(epoch: epoch)
        self.count = loader.batchesPerEpoch
        nextToMake = Swift.min(Swift.max(startBatch, 0), count)
        nextToTake = nextToMake
        for w in 0..<Swift.min(loader.workers, count) {
            let thread = Thread { [weak self] in self?.work() }
            thread.name = "loader-\(w)"
            thread.stackSize = 1 << 22
            threads.append(thread)
            thread.start()
        }
    }

    deinit { stop() }

    /// Stops the workers (they finish the batch in hand).
    public func stop() {
        condition.lock()
        stopped = true
        condition.broadcast()
        condition.unlock()
    }

    private func work() {
        while true {
            condition.lock()
            while !stopped && nextToMake < count && nextToMake - nextToTake >= loader.prefetch + loader.workers - 1 {
                condition.wait()
            }
            if stopped || nextToMake >= count { condition.unlock(); return }
            let b = nextToMake
            nextToMake += 1
            condition.unlock()
            let result = Result { try loader.makeBatch(b, order: order, epoch: epoch) }
            condition.lock()
            ready[b] = result
            condition.broadcast()
            condition.unlock()
        }
    }

    /// The next batch, or nil at the end of the epoch; rethrows a worker's error.
    public func nextBatch() throws -> Batch? {
        guard nextToTake < count else { return nil }
        let result: Result<Batch, Error>
        if threads.isEmpty {
            result = Result { try loader.makeBatch(nextToTake, order: order, epoch: epoch) }
        } else {
            condition.lock()
            while ready[nextToTake] == nil { condition.wait() }
            result = ready.removeValue(forKey: nextToTake)!
            condition.unlock()
        }
        condition.lock()
        nextToTake += 1
        condition.broadcast()
        condition.unlock()
        return try result.get()
    }

    /// Sequence conformance for `for batch in ...`; errors end the loop and land in `error`.
    public func next() -> Batch? {
        do { return try nextBatch() } catch { self.error = error; stop(); return nil }
    }
}
