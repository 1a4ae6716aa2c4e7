import Foundation
import Vision

/// The loss folder of a run (`<save_dir>/loss_%Y_%m_%d_%H_%M_%S/`): epoch_loss.txt and
/// epoch_val_loss.txt (one number a line), epoch_loss.png, TensorBoard scalars `loss` and
/// `val_loss`, and with evaluation epoch_map.txt (first line 0) and epoch_map.png.
public final class TrainingLog {
    public let folder: String
    public private(set) var losses: [Double] = []
    public private(set) var valLosses: [Double] = []
    public private(set) var maps: [Double] = [0]
    public private(set) var mapEpochs: [Int] = [0]
    let tensorBoard: TensorBoardWriter?

    /// A new timestamped folder, or an existing one when resuming: its history is read back and cut
    /// to the `epochsDone` epochs the resume point has, so an epoch run again after a crash is not
    /// logged twice.
    public init(saveDir: String, resumeFolder: String? = nil, epochsDone: Int = 0, evaluation: Bool, evalPeriod: Int = 1) throws {
        if let resumeFolder {
            folder = resumeFolder
            losses = Array(Self.numbers(folder + "/epoch_loss.txt").prefix(epochsDone))
            valLosses = Array(Self.numbers(folder + "/epoch_val_loss.txt").prefix(epochsDone))
            let m = Self.numbers(folder + "/epoch_map.txt")
            if !m.isEmpty {
                let kept = min(m.count, 1 + epochsDone / max(evalPeriod, 1))
                maps = Array(m.prefix(kept))
                mapEpochs = (0..<kept).map { $0 * max(evalPeriod, 1) }
            }
            try Self.rewrite(losses, folder + "/epoch_loss.txt", unlessCount: Self.numbers(folder + "/epoch_loss.txt").count)
            try Self.rewrite(valLosses, folder + "/epoch_val_loss.txt",
                             unlessCount: Self.numbers(folder + "/epoch_val_loss.txt").count)
            if !m.isEmpty { try Self.rewrite(maps, folder + "/epoch_map.txt", unlessCount: m.count) }
        } else {
            folder = try Self.claimFolder(Self.timestampedFolder(in: saveDir))
            if evaluation { try Self.append("0", to: folder + "/epoch_map.txt") }
        }
        tensorBoard = try? TensorBoardWriter(folder: folder)
    }

    /// A new log folder in `saveDir` holding copies of `folder`'s files (a run resumed from another
    /// run's resume point continues its curves here).
    static func branch(from folder: String, into saveDir: String) throws -> String {
        let copy = try claimFolder(timestampedFolder(in: saveDir))
        for name in (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [] where !name.hasPrefix("events.") {
            let source = (folder as NSString).appendingPathComponent(name)
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: source, isDirectory: &isFolder), !isFolder.boolValue else { continue }
            try FileManager.default.copyItem(atPath: source, toPath: (copy as NSString).appendingPathComponent(name))
        }
        return copy
    }

    /// `<saveDir>/loss_%Y_%m_%d_%H_%M_%S` for now, the reference's name.
    static func timestampedFolder(in saveDir: String) -> String {
        (saveDir as NSString).appendingPathComponent("loss_" + timestamp())
    }

    /// `%Y_%m_%d_%H_%M_%S`, as the reference names its loss folders (tune its study folders too).
    public static func timestamp(_ date: Date = Date()) -> String {
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyy_MM_dd_HH_mm_ss"
        formatter.locale = Locale(identifier: "en_US_POSIX")
        return formatter.string(from: date)
    }

    /// Creates a folder no other run has: `base`, else `base_2`, `base_3`, ... (mkdir is atomic, so
    /// two runs started in the same second never share one).
    static func claimFolder(_ base: String) throws -> String {
        try FileManager.default.createDirectory(atPath: (base as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        for n in 1...1000 {
            let candidate = n == 1 ? base : "\(base)_\(n)"
            if mkdir(candidate, 0o755) == 0 { return candidate }
            guard errno == EEXIST else { throw YOLOError("\(candidate): cannot create the log folder: \(String(cString: strerror(errno)))") }
        }
        throw YOLOError("\(base): 1000 log folders of that second exist already")
    }

    static func numbers(_ path: String) -> [Double] {
        ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n").compactMap { Double($0) }
    }

    /// Writes the kept numbers back (atomically) when the file held more.
    static func rewrite(_ values: [Double], _ path: String, unlessCount count: Int) throws {
        guard count > values.count else { return }
        let text = values.map { $0 == 0 && $0.sign == .plus ? "0" : String($0) }.joined(separator: "\n")
        try writeAtomically(Data((text.isEmpty ? "" : text + "\n").utf8), to: path)
    }

    static func append(_ line: String, to path: String) throws {
        if !FileManager.default.fileExists(atPath: path) { FileManager.default.createFile(atPath: path, contents: nil) }
        guard let h = FileHandle(forWritingAtPath: path) else { throw YOLOError("\(path): cannot write") }
        h.seekToEndOfFile()
        h.write(Data((line + "\n").utf8))
        try? h.close()
    }

    public func record(epoch: Int, loss: Double, valLoss: Double) throws {
        losses.append(loss)
        valLosses.append(valLoss)
        try Self.append(String(loss), to: folder + "/epoch_loss.txt")
        try Self.append(String(valLoss), to: folder + "/epoch_val_loss.txt")
        tensorBoard?.scalar("loss", loss, step: epoch)
        tensorBoard?.scalar("val_loss", valLoss, step: epoch)
        try plotLoss()
    }

    public func record(epoch: Int, map: Double) throws {
        maps.append(map)
        mapEpochs.append(epoch)
        try Self.append(String(map), to: folder + "/epoch_map.txt")
        tensorBoard?.scalar("map", map, step: epoch)
        let chart = LineChart(title: "A Map Curve", xLabel: "Epoch", yLabel: "Map 0.5", series: [
            .init(name: "train map", x: mapEpochs.map(Double.init), y: maps, color: RGB(220, 20, 20))])
        try chart.render().save(folder + "/epoch_map.png")
    }

    /// Train and val loss with smoothed curves (centred moving average over 5 epochs, 15 from 25).
    func plotLoss() throws {
        let epochs = losses.indices.map { Double($0 + 1) }
        var series: [LineChart.Series] = [.init(name: "train loss", x: epochs, y: losses, color: RGB(220, 20, 20)),
                                          .init(name: "val loss", x: epochs, y: valLosses, color: RGB(255, 127, 80))]
        if losses.count >= 3 {
            let window = losses.count < 25 ? 5 : 15
            series.append(.init(name: "smooth train loss", x: epochs, y: Self.smooth(losses, window), color: RGB(0, 128, 0),
                                lineWidth: 1, dashed: true))
            series.append(.init(name: "smooth val loss", x: epochs, y: Self.smooth(valLosses, window), color: RGB(139, 69, 19),
                                lineWidth: 1, dashed: true))
        }
        try LineChart(title: "Loss", xLabel: "Epoch", yLabel: "Loss", series: series).render().save(folder + "/epoch_loss.png")
    }

    static func smooth(_ values: [Double], _ window: Int) -> [Double] {
        values.indices.map { i in
            let lo = max(0, i - window / 2), hi = min(values.count - 1, i + window / 2)
            return values[lo...hi].reduce(0, +) / Double(hi - lo + 1)
        }
    }
}
