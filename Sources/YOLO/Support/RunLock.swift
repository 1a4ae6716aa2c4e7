import Foundation

/// One training run per folder: an OS file lock (flock) on `<folder>/.train.lock`, held for the
/// run's life and released by the system when the process ends however it ends, so a killed run
/// never blocks the next one. The file holds the owner's pid, which a refused run names.
public final class RunLock {
    public let path: String
    private let descriptor: Int32

    public init(folder: String) throws {
        path = (folder as NSString).appendingPathComponent(".train.lock")
        let fd = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw YOLOError("\(path): cannot create the run lock: \(String(cString: strerror(errno)))") }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            var buffer = [UInt8](repeating: 0, count: 32)
            let count = read(fd, &buffer, buffer.count)
            close(fd)
            let owner = String(decoding: buffer.prefix(max(count, 0)), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            throw YOLOError("\(folder) is in use by another train run (pid \(owner.isEmpty ? "unknown" : owner)); wait for it, stop it, "
                            + "or give this run another folder (--work-dir DIR)")
        }
        ftruncate(fd, 0)
        let text = Array("\(getpid())\n".utf8)
        _ = pwrite(fd, text, text.count, 0)
        descriptor = fd
    }

    deinit {
        ftruncate(descriptor, 0)
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }
}
