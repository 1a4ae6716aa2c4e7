import Foundation

/// The folders a run writes to, made and tried before any work, so a path that cannot hold the
/// logs or weights stops the run at once with the path and the system's reason.
public enum OutputFolders {
    public static func prepare(_ config: TrainConfig) throws {
        try ensureWritable(config.saveDir, key: "save_dir")
        if !config.outDir.isEmpty { try ensureWritable(config.outDir, key: "out_dir") }
    }

    /// Creates `path` and its parents (mkdir -p) and writes a probe file in it.
    public static func ensureWritable(_ path: String, key: String) throws {
        func fail(_ what: String, _ at: String) -> YOLOError {
            YOLOError("\(key) = '\(path)': \(what) \(at): \(String(cString: strerror(errno)))")
        }
        var current = path.hasPrefix("/") ? "" : "."
        for part in path.split(separator: "/") where !part.isEmpty {
            current += "/" + part
            var isFolder: ObjCBool = false
            if FileManager.default.fileExists(atPath: current, isDirectory: &isFolder) {
                guard isFolder.boolValue else {
                    throw YOLOError("\(key) = '\(path)': \(current) is a file, not a folder")
                }
                continue
            }
            guard mkdir(current, 0o755) == 0 || errno == EEXIST else { throw fail("cannot create the folder", current) }
        }
        let probe = (path as NSString).appendingPathComponent(".write-test-\(getpid())")
        let fd = open(probe, O_CREAT | O_WRONLY | O_TRUNC, 0o644)
        guard fd >= 0 else { throw fail("cannot write in", path) }
        close(fd)
        unlink(probe)
    }

    /// Whether `path` lies in `folder` (both taken from the working directory when relative).
    public static func isInside(_ path: String, _ folder: String) -> Bool {
        func absolute(_ p: String) -> String {
            let full = p.hasPrefix("/") ? p : FileManager.default.currentDirectoryPath + "/" + p
            return (full as NSString).standardizingPath
        }
        let inner = absolute(path), outer = absolute(folder)
        return inner == outer || inner.hasPrefix(outer.hasSuffix("/") ? outer : outer + "/")
    }
}
