import Foundation

/// A block of device memory. Tensors are views over a storage (offset, shape, strides); the
/// memory goes back to its backend's cache when the last view is gone.
public final class Storage: @unchecked Sendable {
    public let pointer: UnsafeMutableRawPointer
    public let byteCount: Int
    public let backend: Backend

    public var device: Device { backend.device }

    init(byteCount: Int, backend: Backend) throws {
        self.byteCount = byteCount
        self.backend = backend
        self.pointer = try backend.allocate(byteCount: byteCount)
    }

    deinit { backend.release(pointer, byteCount: byteCount) }
}

/// Size-classed free lists so that training steps reuse the same blocks instead of asking
/// malloc for every intermediate. Thread-safe (loader workers allocate batches).
final class CachingHostAllocator: @unchecked Sendable {
    private var free: [Int: [UnsafeMutableRawPointer]] = [:]
    private var cachedBytes = 0
    private let lock = NSLock()
    private let cacheLimit: Int

    private(set) var liveBytes = 0
    private(set) var peakBytes = 0

    init(cacheLimit: Int = 4 << 30) { self.cacheLimit = cacheLimit }

    /// Rounds up to a size class: multiples of 64 bytes for small blocks, then four classes
    /// per power of two, so a reused block wastes at most a quarter.
    static func sizeClass(_ bytes: Int) -> Int {
        if bytes <= 4096 { return max(64, (bytes + 63) & ~63) }
        let top = Int.bitWidth - (bytes - 1).leadingZeroBitCount   // 2^top >= bytes
        let quarter = 1 << (top - 3)
        return (bytes + quarter - 1) / quarter * quarter
    }

    func allocate(_ bytes: Int) throws -> UnsafeMutableRawPointer {
        let size = Self.sizeClass(max(bytes, 1))
        lock.lock()
        if var list = free[size], let block = list.popLast() {
            free[size] = list
            cachedBytes -= size
            liveBytes += size
            peakBytes = max(peakBytes, liveBytes)
            lock.unlock()
            return block
        }
        lock.unlock()
        var raw: UnsafeMutableRawPointer?
        if posix_memalign(&raw, 64, size) != 0 || raw == nil {
            trim()
            if posix_memalign(&raw, 64, size) != 0 || raw == nil {
                throw TensorError("out of host memory allocating \(bytes) bytes")
            }
        }
        lock.lock()
        liveBytes += size
        peakBytes = max(peakBytes, liveBytes)
        lock.unlock()
        return raw!
    }

    func release(_ pointer: UnsafeMutableRawPointer, bytes: Int) {
        let size = Self.sizeClass(max(bytes, 1))
        lock.lock()
        liveBytes -= size
        if cachedBytes + size <= cacheLimit {
            free[size, default: []].append(pointer)
            cachedBytes += size
            lock.unlock()
        } else {
            lock.unlock()
            Foundation.free(pointer)
        }
    }

    func resetPeak() {
        lock.lock()
        peakBytes = liveBytes
        lock.unlock()
    }

    /// Returns every cached block to the system.
    func trim() {
        lock.lock()
        let blocks = free.values.flatMap { $0 }
        free.removeAll()
        cachedBytes = 0
        lock.unlock()
        for block in blocks { Foundation.free(block) }
    }
}
