import Foundation

/// A one-line progress bar on standard error: redrawn in place on a terminal, and printed at
/// every 10% otherwise (logs, CI), with rate and an optional status text (running loss, lr).
public final class ProgressBar {
    let title: String
    let total: Int
    let unit: String
    let start = Date()
    let interactive = isatty(fileno(stderr)) != 0
    var lastDecile = -1
    var lastDraw = Date.distantPast

    public init(title: String, total: Int, unit: String = "it") {
        self.title = title
        self.total = max(total, 1)
        self.unit = unit
    }

    public func update(_ done: Int, status: String = "") {
        let fraction = min(Double(done) / Double(total), 1)
        let elapsed = Date().timeIntervalSince(start)
        let rate = elapsed > 0 ? Double(done) / elapsed : 0
        let width = 30, filled = Int(fraction * Double(width))
        let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
        let eta = rate > 0 ? Double(total - done) / rate : 0
        let line = String(format: "%@ [%@] %d/%d %.2f %@/s %@<%@ %@", title, bar, done, total, rate, unit,
                          format(elapsed), format(eta), status)
        if interactive {
            if done < total && Date().timeIntervalSince(lastDraw) < 0.1 { return }
            lastDraw = Date()
            FileHandle.standardError.write(Data(("\r" + line + "\u{1B}[K").utf8))
        } else {
            let decile = Int(fraction * 10)
            guard decile != lastDecile else { return }
            lastDecile = decile
            FileHandle.standardError.write(Data((line + "\n").utf8))
        }
    }

    public func finish(status: String = "") {
        update(total, status: status)
        if interactive { FileHandle.standardError.write(Data("\n".utf8)) }
    }

    private func format(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String(format: "%02d:%02d", s / 60, s % 60)
    }
}

/// Runs a tool's body, printing a YOLOError (or any error) as one line and exiting non-zero.
public func runReportingErrors(_ body: () throws -> Void) {
    do { try body() } catch {
        // A rank of an MPI job says which one it is (every rank may report the same error).
        let rank = ProcessInfo.processInfo.environment["OMPI_COMM_WORLD_SIZE"].flatMap { size in
            ProcessInfo.processInfo.environment["OMPI_COMM_WORLD_RANK"].map { "rank \($0) of \(size): " }
        } ?? ""
        FileHandle.standardError.write(Data("\(rank)error: \(error)\n".utf8))
        exit(1)
    }
}
