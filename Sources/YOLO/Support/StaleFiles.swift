import Foundation

/// Temporary files of saves that a killed process never finished (`.NAME.tmp-PID`, written before
/// the rename that makes a save atomic): removed at the start of a run when their process is gone.
public enum StaleFiles {
    @discardableResult
    public static func removeTemporaries(in folder: String) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        var removed: [String] = []
        for name in names where name.hasPrefix(".") {
            guard let range = name.range(of: ".tmp-", options: .backwards), let pid = Int32(name[range.upperBound...]) else { continue }
            guard pid != getpid(), kill(pid, 0) != 0 && errno == ESRCH else { continue }
            let path = (folder as NSString).appendingPathComponent(name)
            if (try? FileManager.default.removeItem(atPath: path)) != nil { removed.append(name) }
        }
        return removed
    }
}
