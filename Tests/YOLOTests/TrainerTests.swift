import Foundation
import XCTest
@testable import YOLO
import NN
import TensorCore

/// The trainer on a tiny dataset (small demo images at 64x64), small enough for debug builds.
final class TrainerTests: XCTestCase {
    func project() throws -> (URL, TrainConfig) { try tinyTrainingProject(self) }

    func trainer(_ c: TrainConfig) -> Trainer {
        let t = Trainer(config: c, log: { _ in })
        t.showProgress = false
        return t
    }

    func testRunWritesTheReferenceFiles() throws {
        let (_, c) = try project()
        let outcome = try trainer(c).run()
        XCTAssertFalse(outcome.interrupted)
        XCTAssertEqual(outcome.losses.count, 2)
        let files = Set(try FileManager.default.contentsOfDirectory(atPath: c.saveDir))
        XCTAssertTrue(files.contains("best_epoch_weights.pth"))
        XCTAssertTrue(files.contains("last_epoch_weights.pth"))
        XCTAssertTrue(files.contains(Checkpoints.resumeName))
        let epochFiles = files.filter { $0.hasPrefix("ep") }.sorted()
        XCTAssertEqual(epochFiles.count, 2)
        XCTAssertTrue(epochFiles[0].hasPrefix("ep001-loss") && epochFiles[0].contains("-val_loss") && epochFiles[0].hasSuffix(".pth"))
        XCTAssertFalse(files.contains { $0.contains(".tmp") })
        let folder = outcome.logFolder
        XCTAssertTrue((folder as NSString).lastPathComponent.hasPrefix("loss_20"))
        let logs = Set(try FileManager.default.contentsOfDirectory(atPath: folder))
        for name in ["epoch_loss.txt", "epoch_val_loss.txt", "epoch_loss.png", "epoch_map.txt", "epoch_map.png"] {
            XCTAssertTrue(logs.contains(name), name)
        }
        XCTAssertTrue(logs.contains { $0.hasPrefix("events.out.tfevents.") })
        let lossLines = try String(contentsOfFile: folder + "/epoch_loss.txt", encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lossLines.compactMap { Double($0) }, outcome.losses)
        let maps = try String(contentsOfFile: folder + "/epoch_map.txt", encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(maps.count, 3)
        XCTAssertEqual(maps.first, "0")
        // The weights load back into a fresh model in full.
        let fresh = try YOLOv4Tiny(numClasses: 5, anchorsMask: c.anchorsMask)
        let report = try fresh.load(stateDict: XCTUnwrap(PthReader.load(c.saveDir + "/last_epoch_weights.pth").stateDict))
        XCTAssertTrue(report.skipped.isEmpty && report.missing.isEmpty)
    }

    func testFrozenPhaseKeepsTheBackboneAndThenUnfreezes() throws {
        var (_, c) = try project()
        c.freezeTrain = true
        c.freezeEpoch = 1
        c.unfreezeEpoch = 2
        c.evalFlag = false
        let outcome = try trainer(c).run()
        XCTAssertEqual(outcome.losses.count, 2)
        let initial = try YOLOv4Tiny(numClasses: 5, anchorsMask: c.anchorsMask, seed: UInt64(c.seed))
        let first = c.saveDir + "/" + Checkpoints.epochName(1, loss: outcome.losses[0], valLoss: outcome.valLosses[0])
        let afterFrozen = Dictionary(uniqueKeysWithValues: try XCTUnwrap(PthReader.load(first).stateDict))
        // After the frozen epoch the backbone's weights are the initial ones, its BN statistics moved, the head trained.
        XCTAssertEqual(try afterFrozen["backbone.conv1.conv.weight"]!.toArray(), try initial.backbone.conv1.conv.weight.value.toArray())
        XCTAssertNotEqual(try afterFrozen["backbone.conv1.bn.running_mean"]!.toArray(),
                          try initial.backbone.conv1.bn.runningMean.value.toArray())
        XCTAssertNotEqual(try afterFrozen["conv_for_P5.conv.weight"]!.toArray(), try initial.convForP5.conv.weight.value.toArray())
        // After the unfrozen epoch the backbone changed too.
        let last = Dictionary(uniqueKeysWithValues: try XCTUnwrap(PthReader.load(c.saveDir + "/last_epoch_weights.pth").stateDict))
        XCTAssertNotEqual(try last["backbone.conv1.conv.weight"]!.toArray(), try afterFrozen["backbone.conv1.conv.weight"]!.toArray())
    }

    /// winograd = False trains with the direct method (the setting reaches the CPU kernels), and the
    /// two runs train alike (one step agrees to float32 rounding: WinogradModelTests; over two epochs
    /// with Adam the difference grows to a few tenths of a percent).
    func testTheWinogradKeyChoosesTheMethodAndBothTrainAlike() throws {
        var (_, c) = try project()
        c.evalFlag = false
        let fast = try trainer(c).run()
        XCTAssertTrue(CPUConvolutions.winograd)
        c.winograd = false
        c.saveDir += "_direct"
        let direct = try trainer(c).run()
        XCTAssertFalse(CPUConvolutions.winograd)
        CPUConvolutions.winograd = true
        XCTAssertEqual(fast.losses.count, direct.losses.count)
        for (a, b) in zip(fast.losses + fast.valLosses, direct.losses + direct.valLosses) {
            XCTAssertEqual(a, b, accuracy: 0.02 * abs(b), "losses of the Winograd and the direct run")
        }
        let back = try TrainConfig.load(text: c.parameterText, source: "again")
        XCTAssertFalse(back.winograd)
    }

    func testInterruptionAndResumeEndWhereAnUninterruptedRunEnds() throws {
        var (root, c) = try project()
        c.evalFlag = false
        let straight = try trainer(c).run()

        c.saveDir = root.appendingPathComponent("logs-interrupted").path
        let interrupted = trainer(c)
        interrupted.afterStep = { epoch, step, _ in if epoch == 0 && step == 2 { Interruption.set(true) } }
        let stopped = try interrupted.run()
        Interruption.set(false)
        XCTAssertTrue(stopped.interrupted)
        let files = try FileManager.default.contentsOfDirectory(atPath: c.saveDir)
        XCTAssertTrue(files.contains("last_epoch_weights.pth"))
        XCTAssertTrue(files.contains(Checkpoints.resumeName))
        XCTAssertFalse(files.contains { $0.contains(".tmp") })

        let resumed = try trainer(c).run(resumeFrom: c.saveDir + "/" + Checkpoints.resumeName)
        XCTAssertEqual(resumed.losses.count, 2)
        for (a, b) in zip(resumed.losses, straight.losses) { XCTAssertEqual(a, b, accuracy: 1e-4 * max(1, abs(b))) }
        for (a, b) in zip(resumed.valLosses, straight.valLosses) { XCTAssertEqual(a, b, accuracy: 1e-4 * max(1, abs(b))) }
        let w1 = try XCTUnwrap(PthReader.load(root.appendingPathComponent("logs/last_epoch_weights.pth").path).stateDict)
        let w2 = try XCTUnwrap(PthReader.load(c.saveDir + "/last_epoch_weights.pth").stateDict)
        let a = try w1.first { $0.0 == "yolo_headP5.1.weight" }!.1.toArray(), b = try w2.first { $0.0 == "yolo_headP5.1.weight" }!.1.toArray()
        for (x, y) in zip(a, b) { XCTAssertEqual(x, y, accuracy: 1e-4) }
    }

    func testDatasetTooSmallIsRefused() throws {
        var (_, c) = try project()
        c.unfreezeBatchSize = 4   // 2 validation images: no full batch
        XCTAssertThrowsError(try trainer(c).run()) { assertMessage($0, contains: ["dataset too small", "batch size of 4", "2 validation"]) }
    }

    func testTheTrainExecutableRunsATinyProjectEndToEnd() throws {
        let binary = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent(".build/debug/train")
        guard FileManager.default.isExecutableFile(atPath: binary.path) else { throw XCTSkip("train is not built at \(binary.path)") }
        let (root, c) = try project()
        let config = root.appendingPathComponent("tiny.swift-config")
        try write("""
        model = 'yolov4-tiny'
        classes_path = '\(c.classesPath)'
        anchors_path = '\(c.anchorsPath)'
        anchors_mask = [[3, 4, 5], [1, 2, 3]]
        input_shape = [64, 64]
        Freeze_Train = False
        Freeze_Epoch = 0
        UnFreeze_Epoch = 1
        Freeze_batch_size = 2
        Unfreeze_batch_size = 2
        optimizer_type = 'adam'
        Init_lr = 4e-3
        Min_lr = Init_lr * 0.01
        weight_decay = 0
        eval_period = 1
        num_workers = 1
        save_dir = '\(c.saveDir)'
        train_annotation_path = '\(c.trainAnnotationPath)'
        val_annotation_path = '\(c.valAnnotationPath)'
        """, config)
        let process = Process()
        process.executableURL = binary
        process.arguments = ["--config", config.path, "--cfg-options", "seed=5"]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = Pipe()
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, text)
        for line in ["Configurations:", "Start Train", "Finish Train", "Start Validation", "Finish Validation", "Epoch:1/1",
                     "Total Loss:", "Save best model to best_epoch_weights.pth", "Final mAP@0.5 on the validation images:"] {
            XCTAssertTrue(text.contains(line), "missing '\(line)' in:\n\(text)")
        }
        let files = try FileManager.default.contentsOfDirectory(atPath: c.saveDir)
        XCTAssertTrue(files.contains("best_epoch_weights.pth") && files.contains("last_epoch_weights.pth"))
        XCTAssertTrue(files.contains { $0.hasPrefix("ep001-loss") })
    }

    func testTheTrainExecutableRefusesABadConfigWithTheLine() throws {
        let binary = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent(".build/debug/train")
        guard FileManager.default.isExecutableFile(atPath: binary.path) else { throw XCTSkip("train is not built at \(binary.path)") }
        let folder = temporaryFolder(self, "cli")
        let config = folder.appendingPathComponent("bad.swift-config")
        try write("seed = 3\nUnfreeze_Batch_size = 8\n", config)
        let process = Process()
        process.executableURL = binary
        process.arguments = ["--config", config.path]
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = Pipe()
        try process.run()
        process.waitUntilExit()
        let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        XCTAssertEqual(process.terminationStatus, 1)
        XCTAssertTrue(text.contains("bad.swift-config:2: unknown key 'Unfreeze_Batch_size'; did you mean 'Unfreeze_batch_size'?"), text)
    }
}

final class CheckpointTests: XCTestCase {
    func testNamesAndTheCapOnKeptEpochFiles() throws {
        XCTAssertEqual(Checkpoints.epochName(7, loss: 1.23456, valLoss: 0.5), "ep007-loss1.235-val_loss0.500.pth")
        let folder = temporaryFolder(self, "prune")
        for name in ["ep001-loss2.000-val_loss2.000.pth", "ep002-loss1.000-val_loss1.000.pth", "ep003-loss0.500-val_loss0.500.pth",
                     "best_epoch_weights.pth", "last_epoch_weights.pth"] {
            try write("x", folder.appendingPathComponent(name))
        }
        Checkpoints.prune(saveDir: folder.path, keep: 2)
        XCTAssertEqual(Set(try FileManager.default.contentsOfDirectory(atPath: folder.path)),
                       ["ep002-loss1.000-val_loss1.000.pth", "ep003-loss0.500-val_loss0.500.pth", "best_epoch_weights.pth",
                        "last_epoch_weights.pth"])
        Checkpoints.prune(saveDir: folder.path, keep: 0)   // 0 keeps all
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path).count, 4)
    }
}
