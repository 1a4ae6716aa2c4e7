import CCUDA
import Foundation
import TensorCore

/// Caches freed device blocks by size class, so a training step reuses the blocks of the last one
/// instead of calling cuMemAlloc per operation. When the device is full, the cache is returned to
/// the driver and the allocation tried once more before reporting how much was asked and held.
final class DeviceAllocator: @unchecked Sendable {
    private var free: [Int: [ccu_ptr]] = [:]
    private var cachedBytes = 0
    private let lock = NSLock()
    private(set) var liveBytes = 0
    private(set) var peakBytes = 0
    let deviceName: String

    init(deviceName: String) { self.deviceName = deviceName }

    /// 512-byte steps below 1 MiB, then four classes per power of two (a reused block wastes at
    /// most a quarter).
    static func sizeClass(_ bytes: Int) -> Int {
        if bytes <= 1 << 20 { return max(512, (bytes + 511) & ~511) }
        let top = Int.bitWidth - (bytes - 1).leadingZeroBitCount
        let quarter = 1 << (top - 3)
        return (bytes + quarter - 1) / quarter * quarter
    }

    func allocate(_ bytes: Int) throws -> ccu_ptr {
        let size = Self.sizeClass(max(bytes, 1))
        lock.lock(); defer { lock.unlock() }
        if var list = free[size], let block = list.popLast() {
            free[size] = list
            cachedBytes -= size
            return take(block, size)
        }
        var pointer: ccu_ptr = 0
        if ccu_malloc(&pointer, size) == 0 { return take(pointer, size) }
        guard ccu_last_error_was_out_of_memory() != 0 else { throw TensorError(String(cString: ccu_last_error())) }
        releaseCache()
        if ccu_malloc(&pointer, size) == 0 { return take(pointer, size) }
        var freeBytes = 0, totalBytes = 0
        _ = ccu_memory_info(&freeBytes, &totalBytes)
        let mib = { (b: Int) in String(format: "%.0f MiB", Double(b) / 1048576) }
        throw TensorError("out of GPU memory on \(deviceName): asked for \(mib(size)) with \(mib(liveBytes)) in use by tensors "
                          + "(peak \(mib(peakBytes))); the device has \(mib(freeBytes)) free of \(mib(totalBytes))")
    }

    func resetPeak() {
        lock.lock(); defer { lock.unlock() }
        peakBytes = liveBytes
    }

    private func take(_ pointer: ccu_ptr, _ size: Int) -> ccu_ptr {
        liveBytes += size
        peakBytes = max(peakBytes, liveBytes)
        return pointer
    }

    func release(_ pointer: ccu_ptr, bytes: Int) {
        let size = Self.sizeClass(max(bytes, 1))
        lock.lock(); defer { lock.unlock() }
        liveBytes -= size
        free[size, default: []].append(pointer)
        cachedBytes += size
    }

    /// Gives every cached block back to the driver (caller holds the lock).
    private func releaseCache() {
        for block in free.values.flatMap({ $0 }) { _ = ccu_free(block) }
        free.removeAll()
        cachedBytes = 0
    }
}
