import Foundation
import XCTest
@testable import YOLO
import Vision
import TensorCore

/// A fresh temporary folder removed at the end of the test.
func temporaryFolder(_ test: XCTestCase, _ name: String = "yolo") -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(getpid())-\(UUID().uuidString.prefix(8))")
    try! FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    test.addTeardownBlock { try? FileManager.default.removeItem(at: url) }
    return url
}

func write(_ text: String, _ url: URL) throws {
    try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
    try text.write(to: url, atomically: true, encoding: .utf8)
}

func vocXML(width: Int, height: Int, objects: [(String, Int, Int, Int, Int, Bool)]) -> String {
    var s = "<annotation><filename>x.jpg</filename><size><width>\(width)</width><height>\(height)</height><depth>3</depth></size>"
    for (name, x1, y1, x2, y2, difficult) in objects {
        s += "<object><name>\(name)</name><difficult>\(difficult ? 1 : 0)</difficult>"
            + "<bndbox><xmin>\(x1)</xmin><ymin>\(y1)</ymin><xmax>\(x2)</xmax><ymax>\(y2)</ymax></bndbox></object>"
    }
    return s + "</annotation>"
}

func assertMessage(_ error: Error, contains fragments: [String], file: StaticString = #filePath, line: UInt = #line) {
    for f in fragments where !"\(error)".contains(f) { XCTFail("'\(error)' does not mention '\(f)'", file: file, line: line) }
}

/// A project folder with 64x64 demo images (6 for training, 2 for validation), classes and anchors;
/// returns a config for it: YOLOv4-tiny, Adam, 2 epochs at batch 2, one loader thread.
func tinyTrainingProject(_ test: XCTestCase, training: Int = 6, validation: Int = 2) throws -> (URL, TrainConfig) {
    let root = temporaryFolder(test, "train")
    var lines: [AnnotationLine] = []
    for i in 0..<(training + validation) {
        let (image, boxes) = DemoDataset.makeImage(rng: RandomGenerator(seed: 21).fork(stream: UInt64(i)), minSide: 64, maxSide: 80)
        let path = root.appendingPathComponent("img\(i).jpg").path
        try image.save(path)
        lines.append(AnnotationLine(imagePath: path, boxes: boxes))
    }
    try write(lines.prefix(training).map(\.text).joined(separator: "\n") + "\n", root.appendingPathComponent("train.txt"))
    try write(lines.suffix(validation).map(\.text).joined(separator: "\n") + "\n", root.appendingPathComponent("val.txt"))
    try write(DemoDataset.classes.joined(separator: "\n") + "\n", root.appendingPathComponent("classes.txt"))
    try write("3,4, 6,8, 10,12, 16,20, 24,30, 40,48\n", root.appendingPathComponent("anchors.txt"))
    var c = TrainConfig()
    c.model = "yolov4-tiny"
    c.classesPath = root.appendingPathComponent("classes.txt").path
    c.anchorsPath = root.appendingPathComponent("anchors.txt").path
    c.trainAnnotationPath = root.appendingPathComponent("train.txt").path
    c.valAnnotationPath = root.appendingPathComponent("val.txt").path
    c.saveDir = root.appendingPathComponent("logs").path
    c.inputShape = [64, 64]
    c.freezeTrain = false
    c.freezeEpoch = 0
    c.unfreezeEpoch = 2
    c.freezeBatchSize = 2
    c.unfreezeBatchSize = 2
    c.optimizerType = "adam"
    c.initLR = 4e-3
    c.minLR = 4e-5
    c.weightDecay = 0
    c.savePeriod = 1
    c.evalPeriod = 1
    c.numWorkers = 1
    return (root, c)
    }

/// An executable of this package's debug build; skips the test when it is not built.
func debugBinary(_ name: String) throws -> URL {
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent(".build/debug/\(name)")
    guard FileManager.default.isExecutableFile(atPath: url.path) else { throw XCTSkip("\(name) is not built at \(url.path)") }
    return url
}

/// `tiny.swift-config` for a tiny project: YOLOv4-tiny at 64x64, batch 2, Adam, one loader thread,
/// `epochs` unfrozen epochs, then the `extra` lines.
func tinyParameterFile(root: URL, _ c: TrainConfig, epochs: Int, extra: String = "") throws -> String {
    let file = root.appendingPathComponent("tiny.swift-config")
    try write("""
    classes_path = '\(c.classesPath)'
    anchors_path = '\(c.anchorsPath)'
    input_shape = [64, 64]
    Freeze_Train = False
    Freeze_Epoch = 0
    UnFreeze_Epoch = \(epochs)
    Freeze_batch_size = 2
    Unfreeze_batch_size = 2
    optimizer_type = 'adam'
    Init_lr = 4e-3
    weight_decay = 0
    num_workers = 1
    train_annotation_path = '\(c.trainAnnotationPath)'
    val_annotation_path = '\(c.valAnnotationPath)'
    \(extra)
    """, file)
    return file.path
}

/// Runs a program to its end; output and errors go through files, so a chatty program cannot block
/// on a full pipe.
func runProcess(_ executable: URL, _ arguments: [String], in folder: URL) throws -> (status: Int32, output: String, errors: String) {
    let process = Process()
    process.executableURL = executable
    process.arguments = arguments
    process.currentDirectoryURL = folder
    let outPath = folder.appendingPathComponent(".\(executable.lastPathComponent)-\(UUID().uuidString.prefix(6)).out").path
    let errPath = outPath + ".err"
    FileManager.default.createFile(atPath: outPath, contents: nil)
    FileManager.default.createFile(atPath: errPath, contents: nil)
    defer { try? FileManager.default.removeItem(atPath: outPath); try? FileManager.default.removeItem(atPath: errPath) }
    process.standardOutput = FileHandle(forWritingAtPath: outPath)
    process.standardError = FileHandle(forWritingAtPath: errPath)
    try process.run()
    process.waitUntilExit()
    return (process.terminationStatus, (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "",
            (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "")
}

/// Runs one of the project's debug executables in `folder` to its end.
func runTool(_ name: String, _ arguments: [String], in folder: URL) throws -> (status: Int32, output: String, errors: String) {
    try runProcess(try debugBinary(name), arguments, in: folder)
}
