import Foundation
import TensorCore
import Vision

/// MMDetection-style iteration logs: every `log_interval` steps and at the end of each epoch, one
/// line with the interval's means,
///
///     Epoch(train) [12/36][ 20/30]  lr: 9.7e-04  eta: 0:03:41  time: 0.201  data_time: 0.004  memory: 1843  grad_norm: 3.91  loss: 0.153  loss_box: 0.041  loss_obj: 0.097  loss_cls: 0.015
///
/// and after validation `Epoch(val) [12/36]  val_loss: ...  mAP: ...`. Every step's values also go
/// to TensorBoard (`train/loss`, `train/lr`, ...) and, one JSON object a line, to
/// `<log folder>/scalars.json`.
final class IterationLogHook: TrainingHook {
    let interval: Int
    let tensorBoard: TensorBoardWriter?
    /// Standard error shows a progress bar on this terminal: clear its line before printing.
    let clearsBar: Bool
    private var scalars: FileHandle?
    private var window = Window()

    struct Window {
        var count = 0, time = 0.0, dataTime = 0.0, gradNorm = 0.0, loss = 0.0
        var terms: [(name: String, value: Double)] = []
        /// Steps whose optimizer step was skipped (overflowing float16 gradients); their inf/NaN
        /// gradient norm is left out of the average.
        var skipped = 0
        var lossScale: Double?

        var meanGradNorm: Double { count > skipped ? gradNorm / Double(count - skipped) : .nan }

        mutating func add(_ r: StepResult, time t: Double, dataTime d: Double) {
            count += 1; time += t; dataTime += d; loss += r.loss
            if r.skipped { skipped += 1 } else { gradNorm += r.gradNorm }
            lossScale = r.lossScale
            if terms.isEmpty { terms = r.terms.map { ($0.name, 0) } }
            for (i, term) in r.terms.enumerated() where i < terms.count { terms[i].value += term.value }
        }
    }

    init(interval: Int, tensorBoard: TensorBoardWriter?, clearsBar: Bool) {
        self.interval = interval
        self.tensorBoard = tensorBoard
        self.clearsBar = clearsBar
    }

    deinit { try? scalars?.close() }

    func beforeRun(_ c: TrainingContext) throws {
        let path = (c.logFolder as NSString).appendingPathComponent("scalars.json")
        try Self.keepLines(upTo: c.iteration, in: path)
        if c.iteration > 0 { tensorBoard?.sessionStart(step: c.iteration + 1) }
        if !FileManager.default.fileExists(atPath: path) { FileManager.default.createFile(atPath: path, contents: nil) }
        guard let handle = FileHandle(forWritingAtPath: path) else { throw YOLOError("\(path): cannot open for writing") }
        handle.seekToEndOfFile()
        scalars = handle
        (try? Backends.backend(for: c.device))?.resetPeakAllocatedBytes()
    }

    func afterStep(_ c: TrainingContext) throws {
        guard let r = c.lastStep else { return }
        window.add(r, time: c.lastStepTime, dataTime: c.lastDataTime)
        let memory = Self.peakMiB(c.device)
        let lr = Double(c.optimizer.lr)
        var values: [(String, Double)] = [("lr", lr), ("time", c.lastStepTime), ("data_time", c.lastDataTime), ("memory", memory.rounded()),
                                          ("grad_norm", r.gradNorm), ("loss", r.loss)]
        values += r.terms.map { ($0.name, $0.value) }
        if let scale = r.lossScale { values.append(("loss_scale", scale)) }
        for (name, value) in values { tensorBoard?.scalar("train/" + name, value, step: c.iteration) }
        write([("epoch", Double(c.epoch + 1)), ("iter", Double(c.batchInEpoch)), ("step", Double(c.iteration))] + values)
        if c.batchInEpoch % interval == 0 || c.batchInEpoch == c.stepsInEpoch { printWindow(c) }
    }

    /// After the evaluation hook's afterValidation, so the epoch's mAP is known.
    func afterEpoch(_ c: TrainingContext) throws {
        var values: [(String, Double)] = [("val_loss", c.valLoss)]
        if let map = c.epochMAP { values.append(("mAP", map)) }
        write([("epoch", Double(c.epoch + 1)), ("step", Double(c.iteration))] + values)
        let text = values.map { "\($0.0): " + String(format: "%.4f", $0.1) }.joined(separator: "  ")
        show(c, "Epoch(val) [\(c.epoch + 1)/\(c.totalEpochs)]  " + text)
    }

    func onInterrupt(_ c: TrainingContext) throws { if window.count > 0 { printWindow(c) } }

    private func printWindow(_ c: TrainingContext) {
        let n = Double(max(window.count, 1))
        let width = String(c.stepsInEpoch).count
        let position = String(repeating: " ", count: max(0, width - String(c.batchInEpoch).count)) + "\(c.batchInEpoch)"
        var line = "Epoch(train) [\(c.epoch + 1)/\(c.totalEpochs)][\(position)/\(c.stepsInEpoch)]"
        line += String(format: "  lr: %.1e  eta: %@  time: %.3f  data_time: %.3f  memory: %d  grad_norm: %.2f  loss: %.3f",
                       Double(c.optimizer.lr), RunClock.format(c.eta), window.time / n, window.dataTime / n,
                       Int((Self.peakMiB(c.device)).rounded()), window.meanGradNorm, window.loss / n)
        for term in window.terms { line += String(format: "  %@: %.3f", term.name, term.value / n) }
        if let scale = window.lossScale { line += "  loss_scale: \(Int(scale) > 0 ? String(Int(scale)) : String(scale))" }
        if window.skipped > 0 { line += "  (\(window.skipped) step\(window.skipped == 1 ? "" : "s") skipped: inf/NaN gradients)" }
        if c.lastStep?.clipped == true { line += "  (clipped to \(c.config.clipGradNorm))" }
        show(c, line)
        window = Window()
        (try? Backends.backend(for: c.device))?.resetPeakAllocatedBytes()
    }

    /// Peak MiB held by the tensor core's allocator on the device since the last log line.
    static func peakMiB(_ device: Device) -> Double {
        Double((try? Backends.backend(for: device))?.peakAllocatedBytes ?? 0) / 1_048_576
    }

    private func show(_ c: TrainingContext, _ line: String) {
        if clearsBar { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
        c.log(line)
    }

    private func write(_ values: [(String, Double)]) {
        let fields = values.map { name, value -> String in
            let number = !value.isFinite ? "null" : value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : "\(value)"
            return "\"\(name)\": \(number)"
        }
        scalars?.write(Data(("{" + fields.joined(separator: ", ") + "}\n").utf8))
    }

    /// A resumed run starts its scalars where its resume point stands: later lines (from the part of
    /// the interrupted run that is trained again) are dropped.
    static func keepLines(upTo step: Int, in path: String) throws {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return }
        let lines = text.split(separator: "\n")
        let kept = lines.filter { line in
            guard let data = line.data(using: .utf8),
                  let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                  let s = (object["step"] as? NSNumber)?.intValue else { return false }
            return s <= step
        }
        guard kept.count < lines.count else { return }
        try writeAtomically(Data(kept.map { $0 + "\n" }.joined().utf8), to: path)
    }
}
