import Foundation
import XCTest
@testable import YOLO
import NN
import TensorCore

/// The cases a hostile tester tried, through the library: resume restores the run's configuration,
/// one run per folder, log folders never shared, stale temporary files, unreadable validation
/// images, weights of the other model, values out of range, messages that name the path and reason.
final class ReliabilityTests: XCTestCase {
    func quietTrainer(_ c: TrainConfig) -> Trainer {
        let t = Trainer(config: c, log: { _ in })
        t.showProgress = false
        return t
    }

    func testEveryKeyRoundTripsThroughTheParameterText() throws {
        var c = TrainConfig()
        c.model = "yolov4"; c.anchorsMask = [[6, 7, 8], [3, 4, 5], [0, 1, 2]]; c.initLR = 1.5e-3; c.minLR = 1.5e-5
        c.inputShape = [320, 416]; c.saveDir = "it's here"; c.ema = true; c.emaTau = 1234.5; c.checkpointByEpoch = false
        c.patience = 7; c.logInterval = 3; c.outDir = "w"; c.clipGradNorm = 10; c.focalLoss = true
        let back = try TrainConfig.load(text: c.parameterText, source: "saved")
        XCTAssertTrue(back.differences(from: c).isEmpty, "\(back.differences(from: c))")
        let named = Set(c.values.map(\.key))
        let aliases: Set<String> = ["save_period", "keep_checkpoints"]
        XCTAssertEqual(named, Set(TrainConfig.keys.map(\.name)).subtracting(aliases), "every key is carried by a resume point")
    }

    func testResumeContinuesWithTheRunsConfigurationAndSaysWhatChanged() throws {
        var (_, c) = try tinyTrainingProject(self)
        c.unfreezeEpoch = 3
        c.evalPeriod = 2
        c.evalFlag = false
        let run = quietTrainer(c)
        run.afterStep = { epoch, step, _ in if epoch == 0 && step == 1 { Interruption.set(true) } }
        _ = try run.run()
        Interruption.set(false)
        let point = c.saveDir + "/" + Checkpoints.resumeName
        let saved = try XCTUnwrap(try ResumePoint.configuration(in: point))

        var fileNow = c
        fileNow.unfreezeEpoch = 36          // the parameter file says something else now
        var lines: [String] = []
        let resumed = try ResumedConfiguration.resolve(saved: saved, pointPath: point, file: fileNow, fileName: "train.swift-config",
                                                       overrides: ["eval_period=1"], workDir: nil, log: { lines.append($0) })
        XCTAssertEqual(resumed.unfreezeEpoch, 3, "the run's epochs, not the file's")
        XCTAssertEqual(resumed.evalPeriod, 1)
        XCTAssertEqual(lines.first, "Changed from the resumed run: eval_period = 2 -> 1")
        XCTAssertTrue(lines.last?.contains("train.swift-config differs from the resumed run in UnFreeze_Epoch (3 in the run, 36 in the file)") == true,
                      "\(lines)")
        XCTAssertThrowsError(try ResumedConfiguration.resolve(saved: saved, pointPath: point, file: nil, fileName: "f",
                                                              overrides: ["optimizer_type='sgd'"], workDir: nil, log: { _ in })) {
            assertMessage($0, contains: ["--cfg-options optimizer_type='sgd'", "has optimizer_type = 'adam'", "cannot change"])
        }
        let outcome = try quietTrainer(resumed).run(resumeFrom: point)
        XCTAssertEqual(outcome.losses.count, 3)
    }

    func testOneRunPerFolderAndLogFoldersAreNeverShared() throws {
        let folder = temporaryFolder(self, "lock").path
        var first: RunLock? = try RunLock(folder: folder)
        XCTAssertThrowsError(try RunLock(folder: folder)) {
            assertMessage($0, contains: [folder, "in use by another train run (pid \(getpid()))", "--work-dir"])
        }
        first = nil
        XCTAssertNil(first)
        XCTAssertNoThrow(try RunLock(folder: folder), "released with its holder")

        let base = folder + "/loss_2026_01_01_00_00_00"
        let a = try TrainingLog.claimFolder(base), b = try TrainingLog.claimFolder(base)
        XCTAssertEqual([a, b], [base, base + "_2"])
    }

    func testTemporaryFilesOfDeadProcessesAreRemoved() throws {
        let folder = temporaryFolder(self, "stale").path
        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/bin/true")
        try child.run()
        child.waitUntilExit()
        let dead = ".resume_point.pth.tmp-\(child.processIdentifier)", mine = ".last_epoch_weights.pth.tmp-\(getpid())"
        for name in [dead, mine, "keep.pth"] { try write("x", URL(fileURLWithPath: folder + "/" + name)) }
        XCTAssertEqual(StaleFiles.removeTemporaries(in: folder), [dead])
        XCTAssertEqual(Set(try FileManager.default.contentsOfDirectory(atPath: folder)), [mine, "keep.pth"])
    }

    func testAnUnreadableValidationImageIsLeftOutOfTheMAPAndTheRunGoesOn() throws {
        var (root, c) = try tinyTrainingProject(self)
        let broken = root.appendingPathComponent("broken.jpg")
        try write("not a jpeg", broken)
        let val = try String(contentsOfFile: c.valAnnotationPath, encoding: .utf8)
        try write(val + broken.path + " 1,1,20,20,0\n", URL(fileURLWithPath: c.valAnnotationPath))
        c.unfreezeEpoch = 1
        var lines: [String] = []
        let t = Trainer(config: c, log: { lines.append($0) })
        t.showProgress = false
        let outcome = try t.run()
        XCTAssertNotNil(outcome.lastMAP)
        XCTAssertEqual(lines.filter { $0.contains("broken.jpg cannot be read") }.count, 1, "\(lines)")
        XCTAssertTrue(lines.contains("mAP over 2 of 3 validation images (1 unreadable)"), "\(lines)")
        XCTAssertTrue(try FileManager.default.contentsOfDirectory(atPath: c.saveDir).contains(Checkpoints.resumeName))
    }

    func testWeightsOfTheOtherModelAreNamedAndTrainRefusesAMostlyRandomBackbone() throws {
        var (root, c) = try tinyTrainingProject(self)
        let tinyWeights = root.appendingPathComponent("tiny.pth").path
        try Checkpoints.saveWeights(try YOLOv4Tiny(numClasses: 5, anchorsMask: c.anchorsMask, seed: 3), to: tinyWeights)
        c.model = "yolov4"
        c.anchorsMask = [[6, 7, 8], [3, 4, 5], [0, 1, 2]]
        try write("3,4, 6,8, 10,12, 16,20, 24,30, 40,48, 50,60, 70,80, 90,100\n", URL(fileURLWithPath: c.anchorsPath))
        c.modelPath = tinyWeights
        XCTAssertThrowsError(try quietTrainer(c).run()) {
            assertMessage($0, contains: ["model_path = '\(tinyWeights)'", "of the backbone's", "tensors were loaded",
                                         "these are yolov4-tiny weights; the model is yolov4", "--allow-partial-weights"])
        }
        // Detection refuses them outright.
        var d = c
        d.modelPath = ""
        XCTAssertThrowsError(try DetectionRunner.load(weights: tinyWeights, config: d, classes: ClassNames(contentsOf: c.classesPath),
                                                      settings: DetectionSettings())) {
            assertMessage($0, contains: ["these are yolov4-tiny weights; the model is yolov4"])
        }
    }

    func testValuesOutOfRangeAreRefusedWithTheAllowedRange() throws {
        let folder = temporaryFolder(self, "ranges")
        let file = folder.appendingPathComponent("t.swift-config")
        try write("seed = 1\n", file)
        XCTAssertThrowsError(try TrainConfig.load(path: file.path, overrides: ["Init_lr=1e400"])) {
            assertMessage($0, contains: ["Init_lr = inf is not a finite number"])
        }
        XCTAssertThrowsError(try TrainConfig.load(path: folder.path)) { assertMessage($0, contains: ["is a folder, not a parameter file"]) }
        XCTAssertThrowsError(try ModelOverrides.overrides(model: nil, classesPath: nil, anchorsPath: nil, inputShape: "200")) {
            assertMessage($0, contains: ["--input-shape '200'", "multiples of 32", "192 or 224"])
        }
        for (settings, fragment) in [(DetectionSettings(confidence: 1.5), "--confidence 1.5: must be between 0 and 1"),
                                     (DetectionSettings(confidence: -0.1), "--confidence -0.1"),
                                     (DetectionSettings(nmsIoU: 2), "--nms-iou 2.0: must be above 0 and at most 1"),
                                     (DetectionSettings(maxDetections: 0), "--max-boxes 0")] {
            XCTAssertThrowsError(try settings.validated()) { assertMessage($0, contains: [fragment]) }
        }
        XCTAssertThrowsError(try PthReader.load(folder.path)) { assertMessage($0, contains: ["is a folder, not a weights file"]) }

        var (root, c) = try tinyTrainingProject(self)
        try write("3,4, 6,8, 10,12, 16,20, 24,30, 40,48, 50,60, 70,80, 90,100\n", URL(fileURLWithPath: c.anchorsPath))
        XCTAssertThrowsError(try quietTrainer(c).run()) {
            assertMessage($0, contains: ["9 anchors", "yolov4-tiny", "uses 6", "kmeans_for_anchors --anchors-num 6"])
        }
        try write("3,4, 6,8, 10,12, 16,20, 24,30, 40,48\n", URL(fileURLWithPath: c.anchorsPath))
        let empty = root.appendingPathComponent("empty.txt")
        try write((try String(contentsOfFile: c.trainAnnotationPath, encoding: .utf8)).split(separator: "\n")
                    .map { String($0.split(separator: " ")[0]) }.joined(separator: "\n") + "\n", empty)
        c.trainAnnotationPath = empty.path
        XCTAssertThrowsError(try quietTrainer(c).run()) { assertMessage($0, contains: ["empty.txt", "none of its 6 images has a box"]) }
    }

    func testScoresAreWrittenAsTheReferenceWritesThemWithoutExponents() {
        XCTAssertEqual(MapFiles.scoreText(0.912345678), "0.9123")
        XCTAssertEqual(MapFiles.scoreText(0.3), "0.3")
        XCTAssertEqual(MapFiles.scoreText(1.2345e-05), "0.0000")
    }
}
