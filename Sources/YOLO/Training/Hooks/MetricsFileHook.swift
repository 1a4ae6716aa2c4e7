import Foundation

/// train's `--metrics-file` and `--stop-after-epoch`, the two ends of a tuning trial: after every
/// epoch one JSON line, `{"epoch": 3, "val_loss": 0.41, "mAP": 0.87}` (mAP on epochs that measure
/// it), appended and flushed at once for the process that follows the file; and with a stop
/// epoch the run ends cleanly after it (its resume point written as after every epoch), so
/// `train --resume` continues it later, possibly with other values (PBT).
final class MetricsFileHook: TrainingHook {
    let path: String?
    let stopAfterEpoch: Int?
    private var handle: FileHandle?

    init(path: String?, stopAfterEpoch: Int?) {
        self.path = path
        self.stopAfterEpoch = stopAfterEpoch
    }

    deinit { try? handle?.close() }

    func beforeRun(_ c: TrainingContext) throws {
        guard let path else { return }
        if !FileManager.default.fileExists(atPath: path) {
            guard FileManager.default.createFile(atPath: path, contents: nil) else {
                throw YOLOError("--metrics-file \(path): cannot create the file")
            }
        }
        guard let h = FileHandle(forWritingAtPath: path) else { throw YOLOError("--metrics-file \(path): cannot open for writing") }
        h.seekToEndOfFile()
        handle = h
    }

    func afterValidation(_ c: TrainingContext) throws {
        if let stop = stopAfterEpoch, c.epoch + 1 >= stop, c.epoch + 1 < c.totalEpochs, c.stopReason == nil {
            c.stopReason = "stopped after epoch \(c.epoch + 1) as asked (--stop-after-epoch); train --resume continues the run"
        }
    }

    func afterEpoch(_ c: TrainingContext) throws {
        guard let handle else { return }
        var fields = ["\"epoch\": \(c.epoch + 1)", "\"val_loss\": " + Self.json(c.valLoss)]
        if let map = c.epochMAP { fields.append("\"mAP\": " + Self.json(map)) }
        try handle.write(contentsOf: Data(("{" + fields.joined(separator: ", ") + "}\n").utf8))
        try handle.synchronize()
    }

    static func json(_ v: Double) -> String { v.isFinite ? "\(v)" : "null" }
}
