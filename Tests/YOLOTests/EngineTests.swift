import Foundation
import XCTest
@testable import YOLO
import NN
import TensorCore

/// Records every hook call, and what the tests need from the context at each step.
final class RecordingHook: TrainingHook {
    var calls: [String] = []
    var steps: [(lr: Float, result: StepResult, handNorm: Double)] = []
    var onStep: ((TrainingContext) throws -> Void)?
    var onValidation: ((TrainingContext) throws -> Void)?

    func beforeRun(_ c: TrainingContext) throws { calls.append("beforeRun") }
    func beforePhase(_ c: TrainingContext) throws { calls.append("beforePhase:\(c.phase.name):\(c.phase.batchSize)") }
    func beforeEpoch(_ c: TrainingContext) throws { calls.append("beforeEpoch:\(c.epoch)") }
    func beforeStep(_ c: TrainingContext) throws { calls.append("beforeStep") }
    func afterStep(_ c: TrainingContext) throws {
        calls.append("afterStep:\(c.batchInEpoch)")
        // The gradient norm by hand, over the parameters the optimizer stepped, in double precision.
        var squares = 0.0
        for (_, p) in c.optimizer.groups.flatMap(\.parameters) where p.requiresGrad {
            guard let g = p.value.grad else { continue }
            squares += try g.toArray().reduce(0) { $0 + Double($1) * Double($1) }
        }
        steps.append((c.optimizer.lr, c.lastStep!, squares.squareRoot()))
        try onStep?(c)
    }
    func afterTrainEpoch(_ c: TrainingContext) throws { calls.append("afterTrainEpoch") }
    func afterValidation(_ c: TrainingContext) throws { calls.append("afterValidation"); try onValidation?(c) }
    func afterEpoch(_ c: TrainingContext) throws { calls.append("afterEpoch") }
    func onInterrupt(_ c: TrainingContext) throws { calls.append("onInterrupt") }
    func afterRun(_ c: TrainingContext) throws { calls.append("afterRun") }
}

final class EngineTests: XCTestCase {
    func trainer(_ c: TrainConfig, hooks: [TrainingHook] = []) -> Trainer {
        let t = Trainer(config: c, log: { _ in })
        t.showProgress = false
        t.extraHooks = hooks
        return t
    }

    func testHooksAreCalledInTheDocumentedOrderAcrossBothPhases() throws {
        var (_, c) = try tinyTrainingProject(self)
        c.freezeTrain = true
        c.freezeEpoch = 1
        c.evalFlag = false
        let recorder = RecordingHook()
        _ = try trainer(c, hooks: [recorder]).run()
        let epoch0 = ["beforePhase:frozen:2", "beforeEpoch:0"] + (1...3).flatMap { ["beforeStep", "afterStep:\($0)"] }
            + ["afterTrainEpoch", "afterValidation", "afterEpoch"]
        let epoch1 = ["beforePhase:unfrozen:2", "beforeEpoch:1"] + (1...3).flatMap { ["beforeStep", "afterStep:\($0)"] }
            + ["afterTrainEpoch", "afterValidation", "afterEpoch"]
        XCTAssertEqual(recorder.calls, ["beforeRun"] + epoch0 + epoch1 + ["afterRun"])

        // Ctrl-C: the step that saw it is the last, then onInterrupt ends the run.
        let interrupted = RecordingHook()
        interrupted.onStep = { if $0.batchInEpoch == 1 { Interruption.set(true) } }
        c.saveDir += "-interrupted"
        let outcome = try trainer(c, hooks: [interrupted]).run()
        Interruption.set(false)
        XCTAssertTrue(outcome.interrupted)
        XCTAssertEqual(interrupted.calls, ["beforeRun", "beforePhase:frozen:2", "beforeEpoch:0", "beforeStep", "afterStep:1", "onInterrupt"])
    }

    func testPerIterationValuesLrLossTermsAndGradientNorm() throws {
        var (_, c) = try tinyTrainingProject(self)
        c.evalFlag = false
        let recorder = RecordingHook()
        _ = try trainer(c, hooks: [recorder]).run()
        XCTAssertEqual(recorder.steps.count, 6)
        let phase = PhasePlan(config: c, trainImages: 6).unfrozen
        for (i, step) in recorder.steps.enumerated() {
            let expected = try LearningRate.scheduled(c.lrDecayType, lr: phase.lr, minLR: phase.minLR, total: 2, epoch: i / 3)
            XCTAssertEqual(Double(step.lr), expected, accuracy: expected * 1e-6)
            XCTAssertEqual(step.result.terms.map(\.name), ["loss_box", "loss_obj", "loss_cls"])
            XCTAssertEqual(step.result.terms.map(\.value).reduce(0, +), step.result.loss, accuracy: 1e-5 * step.result.loss)
            XCTAssertGreaterThan(step.result.terms[1].value, 0)
            XCTAssertEqual(step.result.gradNorm, step.handNorm, accuracy: 1e-4 * step.handNorm)
            XCTAssertFalse(step.result.clipped)
        }

        // Clipping rescales the gradients to the limit before the optimizer; the log keeps the norm before it.
        c.clipGradNorm = 1e-3
        c.saveDir += "-clipped"
        let clipped = RecordingHook()
        _ = try trainer(c, hooks: [clipped]).run()
        for step in clipped.steps {
            XCTAssertTrue(step.result.clipped)
            XCTAssertGreaterThan(step.result.gradNorm, 1e-3)
            XCTAssertEqual(step.handNorm, 1e-3, accuracy: 1e-6)
        }
    }

    func testTimeLeftCoversBothPhasesAndTheEpochEnds() throws {
        var c = TrainConfig()
        c.freezeTrain = true
        c.freezeEpoch = 2
        c.unfreezeEpoch = 5
        c.freezeBatchSize = 4
        c.unfreezeBatchSize = 2
        let plan = PhasePlan(config: c, trainImages: 10)
        XCTAssertEqual((0..<5).map { plan.steps(epoch: $0) }, [2, 2, 5, 5, 5])
        XCTAssertEqual(plan.remainingSteps(epoch: 1, done: 1), 1 + 15)
        XCTAssertEqual(plan.remainingImages(epoch: 1, done: 1), 1 * 4 + 15 * 2)
        XCTAssertEqual(plan.iteration(epoch: 3, batch: 2), 2 + 2 + 5 + 2)
        var clock = RunClock()
        clock.recordStep(seconds: 1.5, images: 4)
        clock.recordStep(seconds: 0.5, images: 4)
        clock.recordEpochOverhead(seconds: 2)
        clock.recordEpochOverhead(seconds: 4)
        // 0.25 s an image for 34 images, then 3 s for each of the 4 epoch ends left.
        XCTAssertEqual(clock.eta(remainingImages: 34, remainingEpochs: 4), 8.5 + 12, accuracy: 1e-12)
        XCTAssertEqual(RunClock.format(221), "0:03:41")
        XCTAssertEqual(RunClock.format(3661.4), "1:01:01")
        XCTAssertEqual(RunClock.format(90061), "1 day, 1:01:01")
        XCTAssertEqual(RunClock.format(2 * 86400 + 59), "2 days, 0:00:59")
    }

    func testIterationCheckpointsKeepTheNewestAndAreResumePoints() throws {
        var (_, c) = try tinyTrainingProject(self)
        c.checkpointByEpoch = false
        c.savePeriod = 2
        c.keepCheckpoints = 2
        c.evalFlag = false
        _ = try trainer(c).run()
        let files = Set(try FileManager.default.contentsOfDirectory(atPath: c.saveDir))
        XCTAssertEqual(files.filter { $0.hasPrefix("iter_") }.sorted(), ["iter_4.pth", "iter_6.pth"])
        XCTAssertTrue(files.filter { $0.hasPrefix("ep") }.isEmpty, "\(files)")
        XCTAssertTrue(files.isSuperset(of: ["best_epoch_weights.pth", "last_epoch_weights.pth", Checkpoints.resumeName]))
        let model = try YOLOv4Tiny(numClasses: 5, anchorsMask: c.anchorsMask)
        let optimizer = Optimizer(.adam, groups: ParameterGroup.yoloGroups(model, weightDecay: 0), lr: 1e-3, momentum: 0.9)
        let point = try ResumePoint.load(c.saveDir + "/iter_4.pth", model: model, optimizer: optimizer)
        XCTAssertEqual([point.epoch, point.batch, point.iteration], [1, 1, 4])
        // predict and get_map read the weights of an iteration checkpoint too.
        XCTAssertEqual(try PthReader.load(c.saveDir + "/iter_6.pth").stateDict?.count, model.namedTensors().count)
        // `train --resume` alone takes the newest resume point.
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: 60)], ofItemAtPath: c.saveDir + "/iter_4.pth")
        XCTAssertEqual(ResumePoint.newest(in: c.saveDir), c.saveDir + "/iter_4.pth")
    }

    func testResumingFromAnIterationCheckpointEqualsAnUninterruptedRunWithEMA() throws {
        var (root, c) = try tinyTrainingProject(self)
        c.checkpointByEpoch = false
        c.savePeriod = 2
        c.evalFlag = false
        c.ema = true
        c.emaDecay = 0.9
        c.emaTau = 3
        let straight = try trainer(c).run()

        // A run that dies after iteration 5 (epoch 2, batch 2): iter_4.pth is the last checkpoint.
        c.saveDir = root.appendingPathComponent("logs-killed").path
        let dying = RecordingHook()
        dying.onStep = { if $0.iteration == 5 { Interruption.set(true) } }
        _ = try trainer(c, hooks: [dying]).run()
        Interruption.set(false)
        let resumed = try trainer(c).run(resumeFrom: c.saveDir + "/iter_4.pth")
        XCTAssertEqual(resumed.iterations, 6)
        XCTAssertEqual(resumed.losses.count, 2, "the epoch trained again is logged once")
        for (a, b) in zip(resumed.losses + resumed.valLosses, straight.losses + straight.valLosses) {
            XCTAssertEqual(a, b, accuracy: 1e-5 * max(1, abs(b)))
        }
        for name in ["last_epoch_weights.pth", "iter_6.pth"] {
            let a = try XCTUnwrap(PthReader.load(root.appendingPathComponent("logs/\(name)").path).stateDict)
            let b = try XCTUnwrap(PthReader.load(c.saveDir + "/" + name).stateDict)
            let x = try a.first { $0.0 == "yolo_headP5.1.weight" }!.1.toArray(), y = try b.first { $0.0 == "yolo_headP5.1.weight" }!.1.toArray()
            for (u, v) in zip(x, y) { XCTAssertEqual(u, v, accuracy: 1e-5) }
        }
        let lines = try String(contentsOfFile: resumed.logFolder + "/scalars.json", encoding: .utf8).split(separator: "\n")
        let steps = lines.compactMap { line -> Int? in
            let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            return object?["loss"] == nil ? nil : (object?["step"] as? Int)
        }
        XCTAssertEqual(steps, [1, 2, 3, 4, 5, 6], "scalars of the steps trained again appear once")
    }

    func testEMAFollowsTheFormulaAndIsWhatEvaluationAndSavingUse() throws {
        var (_, c) = try tinyTrainingProject(self)
        c.ema = true
        c.emaDecay = 0.8
        c.emaTau = 2
        c.unfreezeEpoch = 1
        c.evalFlag = false
        let name = "yolo_headP5.1.bias"
        let initial = try YOLOv4Tiny(numClasses: 5, anchorsMask: c.anchorsMask, seed: UInt64(c.seed))
        var shadowByHand = try initial.namedTensors().first { $0.0 == name }!.1.value.toArray().map(Double.init)
        // The shadow starts as the initial weights; update n weighs it by d_n = decay (1 - exp(-n / tau)).
        var n = 0
        let check = RecordingHook()
        check.onStep = { context in
            XCTAssertFalse(context.evaluationModel === context.model)
            n += 1
            let d = 0.8 * (1 - exp(-Double(n) / 2))
            let raw = try context.model.namedTensors().first { $0.0 == name }!.1.value.toArray().map(Double.init)
            shadowByHand = zip(shadowByHand, raw).map { d * $0 + (1 - d) * $1 }
            let shadow = try context.evaluationModel.namedTensors().first { $0.0 == name }!.1.value.toArray()
            for (s, h) in zip(shadow, shadowByHand) { XCTAssertEqual(Double(s), h, accuracy: 1e-5) }
        }
        let outcome = try trainer(c, hooks: [check]).run()
        XCTAssertEqual(n, 3)
        // The saved weights are the EMA's; the resume point also holds the raw ones.
        let last = try XCTUnwrap(PthReader.load(c.saveDir + "/last_epoch_weights.pth").stateDict)
        let point = try PthReader.load(c.saveDir + "/" + Checkpoints.resumeName)
        let raw = try XCTUnwrap(point["raw_model"]?.stateDict)
        let savedShadow = try last.first { $0.0 == name }!.1.toArray()
        for (s, h) in zip(savedShadow, shadowByHand) { XCTAssertEqual(Double(s), h, accuracy: 1e-5) }
        XCTAssertNotEqual(try raw.first { $0.0 == name }!.1.toArray(), savedShadow)
        XCTAssertEqual(point["hooks"]?["ema"]?["updates"]?.intValue, 3)
        XCTAssertEqual(outcome.losses.count, 1)
    }

    func testEarlyStoppingAfterPatienceFlatEpochs() throws {
        var (_, c) = try tinyTrainingProject(self)
        c.patience = 2
        let model = try YOLOv4Tiny(numClasses: 5, anchorsMask: c.anchorsMask)
        let context = TrainingContext(config: c, model: model, optimizer: Optimizer(.adam, groups: [], lr: 1e-3, momentum: 0.9),
                                      device: .cpu, plan: PhasePlan(config: c, trainImages: 6), logFolder: "", valLines: [],
                                      anchors: [], start: nil, log: { _ in })
        let hook = EarlyStoppingHook(patience: 2)
        // mAP every other epoch: 0.1 (e2), 0.3 (e4), 0.3 (e6, not better), 0.2 (e8: 4 epochs since the best).
        var stoppedAt: Int?
        for (epoch, map) in [(1, nil), (2, 0.1), (3, nil), (4, 0.3), (5, nil), (6, 0.3), (7, nil), (8, 0.2)] as [(Int, Double?)] {
            context.epoch = epoch - 1
            context.epochMAP = map
            try hook.afterValidation(context)
            if context.stopReason != nil { stoppedAt = epoch; break }
        }
        XCTAssertEqual(stoppedAt, 6)
        XCTAssertEqual(context.stopReason, "early stopping at epoch 6: no better validation mAP@0.5 for 2 epochs (patience 2); "
                       + "the best was 30.00% at epoch 4")
        // With eval_flag off the validation loss is judged, lower being better; the state survives a resume.
        c.evalFlag = false
        let byLoss = TrainingContext(config: c, model: model, optimizer: context.optimizer, device: .cpu, plan: context.plan,
                                     logFolder: "", valLines: [], anchors: [], start: nil, log: { _ in })
        let lossHook = EarlyStoppingHook(patience: 2)
        for (epoch, loss) in [(1, 5.0), (2, 4.0)] { byLoss.epoch = epoch - 1; byLoss.valLoss = loss; try lossHook.afterValidation(byLoss) }
        let restored = EarlyStoppingHook(patience: 2)
        try restored.restore(lossHook.resumeState())
        for (epoch, loss) in [(3, 4.5), (4, 4.1)] { byLoss.epoch = epoch - 1; byLoss.valLoss = loss; try restored.afterValidation(byLoss) }
        XCTAssertEqual(byLoss.stopReason?.hasPrefix("early stopping at epoch 4: no better validation loss for 2 epochs"), true)

        // The engine ends a run cleanly when a hook asks, writing the final epoch file.
        c.unfreezeEpoch = 3
        c.savePeriod = 10
        let stopper = RecordingHook()
        stopper.onValidation = { if $0.epoch == 0 { $0.stopReason = "asked by the test" } }
        let outcome = try trainer(c, hooks: [stopper]).run()
        XCTAssertEqual(outcome.stopReason, "asked by the test")
        XCTAssertFalse(outcome.interrupted)
        XCTAssertEqual(outcome.epochsDone, 1)
        XCTAssertTrue(try FileManager.default.contentsOfDirectory(atPath: c.saveDir).contains { $0.hasPrefix("ep001-") })
    }

    func testAFailedSaveStopsNamingTheFileAndKeepsTheLastResumePoint() throws {
        var (_, c) = try tinyTrainingProject(self)
        c.checkpointByEpoch = false
        c.savePeriod = 2
        c.evalFlag = false
        try FileManager.default.createDirectory(atPath: c.saveDir + "/iter_4.pth/blocked", withIntermediateDirectories: true)
        XCTAssertThrowsError(try trainer(c).run()) { error in
            // Iteration 4 is the first of epoch 2: the epoch-end resume point before it is the last complete one.
            assertMessage(error, contains: ["iter_4.pth", "Is a directory",
                                            "the last complete resume point is \(c.saveDir)/\(Checkpoints.resumeName) (epoch 2, batch 0)",
                                            "train --resume \(c.saveDir)/\(Checkpoints.resumeName)"])
        }
        XCTAssertNotNil(try PthReader.load(c.saveDir + "/iter_2.pth").stateDict)
        XCTAssertEqual(try PthReader.load(c.saveDir + "/" + Checkpoints.resumeName)["epoch"]?.intValue, 1)
        XCTAssertFalse(try FileManager.default.contentsOfDirectory(atPath: c.saveDir).contains { $0.contains(".tmp") })
    }

    func testNewKeysAreCheckedBeforeAnyWork() throws {
        let folder = temporaryFolder(self, "keys")
        let file = folder.appendingPathComponent("t.swift-config")
        try write("seed = 1\n", file)
        for (option, fragments) in [("log_interval=0", ["log_interval = 0", "at least 1"]),
                                    ("checkpoint_interval=0", ["checkpoint_interval (save_period) = 0", "at least 1 epoch"]),
                                    ("ema_decay=1", ["ema_decay = 1.0", "between 0 and 1"]),
                                    ("max_keep_ckpts=-1", ["max_keep_ckpts (keep_checkpoints) = -1"]),
                                    ("patience=-2", ["patience = -2"]),
                                    ("clip_grad_norm=-1", ["clip_grad_norm = -1.0"])] {
            XCTAssertThrowsError(try TrainConfig.load(path: file.path, overrides: [option])) { assertMessage($0, contains: fragments) }
        }
        let aliases = try TrainConfig.load(path: file.path, overrides: ["save_period=3", "max_keep_ckpts=4"])
        XCTAssertEqual([aliases.savePeriod, aliases.keepCheckpoints], [3, 4])

        // A save_dir or out_dir that cannot be a folder stops the run before training, with the path.
        var (root, c) = try tinyTrainingProject(self)
        try write("x", root.appendingPathComponent("plain-file"))
        c.outDir = root.appendingPathComponent("plain-file/weights").path
        XCTAssertThrowsError(try trainer(c).run()) {
            assertMessage($0, contains: ["out_dir = '\(c.outDir)'", "plain-file is a file, not a folder"])
        }
        XCTAssertFalse(((try? FileManager.default.contentsOfDirectory(atPath: c.saveDir)) ?? []).contains { $0.hasPrefix("loss_") },
                       "no run started")
    }

    func testOutDirHoldsTheWeightsAndSaveDirTheLogs() throws {
        var (root, c) = try tinyTrainingProject(self)
        c.unfreezeEpoch = 1
        c.evalFlag = false
        c.outDir = root.appendingPathComponent("weights").path
        let outcome = try trainer(c).run()
        let weights = Set(try FileManager.default.contentsOfDirectory(atPath: c.outDir))
        XCTAssertTrue(weights.isSuperset(of: ["best_epoch_weights.pth", "last_epoch_weights.pth", Checkpoints.resumeName]))
        XCTAssertTrue(outcome.logFolder.hasPrefix(c.saveDir))
        XCTAssertFalse(try FileManager.default.contentsOfDirectory(atPath: c.saveDir).contains { $0.hasSuffix(".pth") })
    }

    func testTheTrainExecutablePrintsLogLinesAndScalarsWhenNotOnATerminal() throws {
        let binary = try debugBinary("train")
        let (root, c) = try tinyTrainingProject(self)
        let config = URL(fileURLWithPath: try tinyParameterFile(root: root, c, epochs: 1, extra: "eval_period = 1"))
        let work = root.appendingPathComponent("work").path
        let process = Process()
        process.executableURL = binary
        process.arguments = ["--config", config.path, "--work-dir", work, "--cfg-options", "log_interval=2"]
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let errorText = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, text + errorText)
        let pattern = #"Epoch\(train\) \[1/1\]\[2/3\]  lr: \d\.\de-0\d  eta: 0:00:\d\d  time: \d+\.\d{3}  data_time: \d+\.\d{3}  memory: \d+  grad_norm: \d+\.\d\d  loss: \d+\.\d{3}  loss_box: \d+\.\d{3}  loss_obj: \d+\.\d{3}  loss_cls: \d+\.\d{3}"#
        XCTAssertNotNil(text.range(of: pattern, options: .regularExpression), text)
        XCTAssertTrue(text.contains("Epoch(train) [1/1][3/3]"), "the epoch's last partial interval is logged:\n\(text)")
        XCTAssertNotNil(text.range(of: #"Epoch\(val\) \[1/1\]  val_loss: \d+\.\d{4}  mAP: \d\.\d{4}"#, options: .regularExpression), text)
        XCTAssertFalse(errorText.contains("[###"), "no bar is drawn off a terminal:\n\(errorText)")
        XCTAssertTrue(FileManager.default.fileExists(atPath: work + "/best_epoch_weights.pth"), "--work-dir replaces save_dir")

        let folder = try XCTUnwrap(try FileManager.default.contentsOfDirectory(atPath: work).first { $0.hasPrefix("loss_") })
        let lines = try String(contentsOfFile: work + "/" + folder + "/scalars.json", encoding: .utf8).split(separator: "\n")
        let objects = try lines.map { try XCTUnwrap(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
        XCTAssertEqual(objects.count, 4, "three steps and one validation")
        XCTAssertEqual(objects.prefix(3).map { $0["step"] as? Int }, [1, 2, 3])
        for object in objects.prefix(3) {
            for key in ["epoch", "iter", "lr", "time", "data_time", "memory", "grad_norm", "loss", "loss_box", "loss_obj", "loss_cls"] {
                XCTAssertNotNil(object[key] as? Double, key)
            }
        }
        XCTAssertNotNil(objects[3]["val_loss"] as? Double)
        XCTAssertNotNil(objects[3]["mAP"] as? Double)
    }
}

/// A save into a file system that fills up, on a small tmpfs (needs root and mount; skipped otherwise).
final class FullDiskTests: XCTestCase {
    func testAFullDiskStopsTheRunWithTheFileAndKeepsTheLastResumePoint() throws {
        var (root, c) = try tinyTrainingProject(self)
        let mountPoint = root.appendingPathComponent("small-disk").path
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
        // Room for one epoch's best, last and resume point (24 + 24 + 94 MB) and the final ep file, not for more.
        guard run("/bin/mount", ["-t", "tmpfs", "-o", "size=170m", "tmpfs", mountPoint]) == 0 else {
            throw XCTSkip("cannot mount a tmpfs here (needs root and mount permission)")
        }
        addTeardownBlock { _ = self.run("/bin/umount", [mountPoint]) }
        c.outDir = mountPoint
        c.evalFlag = false
        c.savePeriod = 10
        let t = Trainer(config: c, log: { _ in })
        t.showProgress = false
        XCTAssertThrowsError(try t.run()) { error in
            print("full disk: \(error)")
            assertMessage(error, contains: ["no space left on device", mountPoint,
                                            "the last complete resume point is \(mountPoint)/\(Checkpoints.resumeName) (epoch 2, batch 0)"])
        }
        let files = try FileManager.default.contentsOfDirectory(atPath: mountPoint)
        XCTAssertFalse(files.contains { $0.contains(".tmp") }, "\(files)")
        XCTAssertEqual(try PthReader.load(mountPoint + "/" + Checkpoints.resumeName)["epoch"]?.intValue, 1)
        XCTAssertNotNil(try PthReader.load(mountPoint + "/last_epoch_weights.pth").stateDict)
    }

    func run(_ tool: String, _ arguments: [String]) -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        process.standardError = Pipe()
        guard (try? process.run()) != nil else { return -1 }
        process.waitUntilExit()
        return process.terminationStatus
    }
}
