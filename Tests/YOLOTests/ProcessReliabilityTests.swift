import Foundation
import XCTest
@testable import YOLO
import NN

/// The reliability suite through the real executables on tiny data: kill -9 at several moments
/// (iteration checkpoints every step, so some kills land in a save), SIGINT, SIGTERM and a double
/// Ctrl-C, each followed by a resume; two runs on one folder; unreadable images and weights; bad
/// values. After every run: each .pth left loads, no temporary file remains once a run has started
/// again, and the logs have one line per epoch and one scalar line per step.
final class ProcessReliabilityTests: XCTestCase {
    struct Finished { var status: Int32; var output: String; var errors: String }

    final class Running {
        let process = Process()
        let outPath: String, errPath: String
        init(_ binary: URL, _ arguments: [String], in folder: URL) throws {
            outPath = folder.appendingPathComponent("out-\(UUID().uuidString.prefix(6)).txt").path
            errPath = outPath.replacingOccurrences(of: "out-", with: "err-")
            FileManager.default.createFile(atPath: outPath, contents: nil)
            FileManager.default.createFile(atPath: errPath, contents: nil)
            process.executableURL = binary
            process.arguments = arguments
            process.currentDirectoryURL = folder
            process.standardOutput = FileHandle(forWritingAtPath: outPath)
            process.standardError = FileHandle(forWritingAtPath: errPath)
            try process.run()
        }
        var output: String { (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "" }
        var errors: String { (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "" }
        func signal(_ number: Int32) { kill(process.processIdentifier, number) }
        /// Waits for a line to appear in standard output (or the process to end).
        func wait(for text: String, timeout: Double = 120) -> Bool {
            let end = Date().addingTimeInterval(timeout)
            while Date() < end {
                if output.contains(text) { return true }
                if !process.isRunning { return output.contains(text) }
                usleep(20_000)
            }
            return false
        }
        func finish() -> Finished {
            process.waitUntilExit()
            return Finished(status: process.terminationStatus, output: output, errors: errors)
        }
    }

    func binary(_ name: String) throws -> URL { try debugBinary(name) }

    /// The tiny project with its parameter file `tiny.swift-config` (2 epochs of 3 steps at 64x64,
    /// an iteration checkpoint every step).
    func project(extra: String = "") throws -> (root: URL, config: TrainConfig, file: String) {
        let (root, c) = try tinyTrainingProject(self)
        let file = try tinyParameterFile(root: root, c, epochs: 2, extra: """
        eval_flag = False
        checkpoint_by_epoch = False
        checkpoint_interval = 1
        max_keep_ckpts = 2
        log_interval = 1
        save_dir = '\(c.saveDir)'
        \(extra)
        """)
        return (root, c, file)
    }

    func train(_ arguments: [String], in root: URL) throws -> Running { try Running(try binary("train"), arguments, in: root) }

    /// What every case must leave: loadable weights, no temporary files, one log line per epoch and
    /// one scalar line per step (none repeated).
    func checkLeftovers(_ saveDir: String, epochs: Int, steps: Int, file: StaticString = #filePath, line: UInt = #line) throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: saveDir)
        XCTAssertFalse(names.contains { $0.contains(".tmp-") }, "temporary files left: \(names)", file: file, line: line)
        for name in names where name.hasSuffix(".pth") {
            XCTAssertNotNil(try? PthReader.load(saveDir + "/" + name).stateDict, "\(name) does not load", file: file, line: line)
        }
        let folders = names.filter { $0.hasPrefix("loss_") }
        XCTAssertEqual(folders.count, 1, "\(names)", file: file, line: line)
        let logs = saveDir + "/" + folders[0]
        let lossLines = try String(contentsOfFile: logs + "/epoch_loss.txt", encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lossLines.count, epochs, file: file, line: line)
        let valLines = try String(contentsOfFile: logs + "/epoch_val_loss.txt", encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(valLines.count, epochs, file: file, line: line)
        let scalarSteps = try String(contentsOfFile: logs + "/scalars.json", encoding: .utf8).split(separator: "\n").compactMap { row -> Int? in
            let object = try? JSONSerialization.jsonObject(with: Data(row.utf8)) as? [String: Any]
            return object?["loss"] == nil ? nil : object?["step"] as? Int
        }
        XCTAssertEqual(scalarSteps, Array(1...steps), file: file, line: line)
    }

    func testKillNineAtSeveralMomentsThenResumeLeavesOneCleanRun() throws {
        // Delays spread over start-up, steps and the saves between them (seconds; a debug build).
        for delay in [0.6, 1.7, 2.9, 4.4] {
            let (root, c, file) = try project()
            let run = try train(["--config", file], in: root)
            XCTAssertTrue(run.wait(for: "Start Train"), run.output + run.errors)
            usleep(UInt32(delay * 1_000_000))
            run.signal(SIGKILL)
            _ = run.finish()
            let hasPoint = ResumePoint.newest(in: c.saveDir) != nil
            let caughtInSave = try FileManager.default.contentsOfDirectory(atPath: c.saveDir).filter { $0.contains(".tmp-") }
            print("kill -9 at \(delay) s after 'Start Train': resume point \(hasPoint ? "present" : "none yet"), "
                  + "unfinished saves \(caughtInSave)")
            let again = try train(["--config", file] + (hasPoint ? ["--resume"] : []), in: root).finish()
            XCTAssertEqual(again.status, 0, "after kill -9 at \(delay) s: " + again.output + again.errors)
            if !hasPoint {   // killed before the first save: the fresh run's folder is the only one to check
                for name in try FileManager.default.contentsOfDirectory(atPath: c.saveDir) where name.hasPrefix("loss_") {
                    let epochs = (try? String(contentsOfFile: c.saveDir + "/" + name + "/epoch_loss.txt", encoding: .utf8)) ?? ""
                    if epochs.isEmpty {
                        try FileManager.default.removeItem(atPath: c.saveDir + "/" + name)
                    }
                }
            }
            try checkLeftovers(c.saveDir, epochs: 2, steps: 6)
        }
    }

    func testCtrlCPrintsACommandThatContinuesTheSameRunAndSIGTERMStopsCleanly() throws {
        // The run's epochs come from --cfg-options; the printed command must keep them.
        let (root, c, file) = try project()
        let run = try train(["--config", file, "--cfg-options", "UnFreeze_Epoch=3"], in: root)
        XCTAssertTrue(run.wait(for: "Epoch(train) [1/3][1/3]"), run.output + run.errors)
        run.signal(SIGINT)
        let stopped = run.finish()
        XCTAssertEqual(stopped.status, 130, stopped.output + stopped.errors)
        let hint = try XCTUnwrap(stopped.output.components(separatedBy: "Continue the same run with: ").last?
            .split(separator: "\n").first.map(String.init))
        let words = hint.split(separator: " ").map(String.init)
        XCTAssertEqual(words.first, "train")
        try FileManager.default.removeItem(atPath: file)   // the hint works without the parameter file
        let resumed = try train(Array(words.dropFirst()), in: root).finish()
        XCTAssertEqual(resumed.status, 0, resumed.output + resumed.errors)
        XCTAssertTrue(resumed.output.contains("Epoch:3/3"), resumed.output)
        try checkLeftovers(c.saveDir, epochs: 3, steps: 9)

        let (root2, c2, file2) = try project()
        let terminated = try train(["--config", file2], in: root2)
        XCTAssertTrue(terminated.wait(for: "Epoch(train) [1/2][2/3]"), terminated.output + terminated.errors)
        terminated.signal(SIGTERM)
        XCTAssertEqual(terminated.finish().status, 130)
        XCTAssertEqual(try train(["--config", file2, "--resume"], in: root2).finish().status, 0)
        try checkLeftovers(c2.saveDir, epochs: 2, steps: 6)
    }

    func testASecondCtrlCQuitsAtOnceAndTheNextRunCleansUp() throws {
        let (root, c, file) = try project()
        let run = try train(["--config", file], in: root)
        XCTAssertTrue(run.wait(for: "Epoch(train) [1/2][1/3]"), run.output + run.errors)
        run.signal(SIGINT)
        usleep(30_000)
        run.signal(SIGINT)
        let asked = Date()
        let stopped = run.finish()
        XCTAssertEqual(stopped.status, 130)
        XCTAssertLessThan(Date().timeIntervalSince(asked), 2, "the second Ctrl-C quits without waiting for the step or the save")
        for name in try FileManager.default.contentsOfDirectory(atPath: c.saveDir) where name.hasSuffix(".pth") {
            XCTAssertNotNil(try? PthReader.load(c.saveDir + "/" + name).stateDict, "\(name) is half-written")
        }
        let again = try train(["--config", file] + (ResumePoint.newest(in: c.saveDir) != nil ? ["--resume"] : []), in: root).finish()
        XCTAssertEqual(again.status, 0, again.output + again.errors)
        XCTAssertFalse(try FileManager.default.contentsOfDirectory(atPath: c.saveDir).contains { $0.contains(".tmp-") })
    }

    func testASecondRunOnAFolderInUseIsRefusedWithTheOwnersPid() throws {
        let (root, c, file) = try project()
        let first = try train(["--config", file, "--cfg-options", "UnFreeze_Epoch=3"], in: root)
        XCTAssertTrue(first.wait(for: "Start Train"), first.output + first.errors)
        let second = try train(["--config", file], in: root).finish()
        XCTAssertEqual(second.status, 1)
        XCTAssertTrue(second.errors.contains("\(c.saveDir) is in use by another train run (pid \(first.process.processIdentifier))"),
                      second.errors)
        first.signal(SIGINT)
        XCTAssertEqual(first.finish().status, 130)
        let folders = try FileManager.default.contentsOfDirectory(atPath: c.saveDir).filter { $0.hasPrefix("loss_") }
        XCTAssertEqual(folders.count, 1, "the refused run made no log folder")
    }

    func testUnreadableInputsAndBadValuesStopWithTheFileAndTheReason() throws {
        let (root, c, file) = try project(extra: "checkpoint_by_epoch = True\nUnFreeze_Epoch = 1")
        // A corrupt image in the training list: skipped with a warning, the run finishes.
        let broken = root.appendingPathComponent("broken.jpg")
        try write("\u{FF}\u{D8} truncated", broken)
        let lines = try String(contentsOfFile: c.trainAnnotationPath, encoding: .utf8)
        try write(lines + broken.path + " 1,1,20,20,0\n", URL(fileURLWithPath: c.trainAnnotationPath))
        let trained = try train(["--config", file], in: root).finish()
        XCTAssertEqual(trained.status, 0, trained.output + trained.errors)
        XCTAssertTrue((trained.output + trained.errors).contains("broken.jpg"), trained.errors)

        // Weights: truncated, not a checkpoint, a folder.
        let weights = c.saveDir + "/last_epoch_weights.pth"
        let truncated = root.appendingPathComponent("truncated.pth").path
        let bytes = try XCTUnwrap(FileManager.default.contents(atPath: weights))
        try bytes.prefix(bytes.count / 3).write(to: URL(fileURLWithPath: truncated))
        for (path, fragment) in [(truncated, "truncated.pth"), (file, "not a PyTorch checkpoint"), (root.path, "is a folder, not a weights file")] {
            let run = try train(["--config", file, "--work-dir", root.appendingPathComponent("w").path,
                                 "--cfg-options", "model_path='\(path)'"], in: root).finish()
            XCTAssertEqual(run.status, 1, path)
            XCTAssertTrue(run.errors.contains(fragment), run.errors)
        }

        // Bad parameter values, each refused with its key before any work.
        for (option, fragment) in [("log_interval=0", "log_interval = 0"), ("Init_lr=1e400", "Init_lr = inf is not a finite number"),
                                   ("input_shape=[200,200]", "input_shape = [200, 200]"),
                                   ("Freeze_batch_size=1", "Freeze_batch_size = 1"), ("ema_decay=1.5", "ema_decay = 1.5")] {
            let run = try train(["--config", file, "--cfg-options", option], in: root).finish()
            XCTAssertEqual(run.status, 1, option)
            XCTAssertTrue(run.errors.contains(fragment), "\(option): \(run.errors)")
        }

        // predict: one unreadable image among three, values out of range, an output path under a file.
        let predict = try binary("predict")
        let images = try String(contentsOfFile: c.valAnnotationPath, encoding: .utf8).split(separator: "\n").map { String($0.split(separator: " ")[0]) }
        let common = ["--config", file, "--model-path", weights, "--dir-save", root.appendingPathComponent("out").path]
        let mixed = try Running(predict, common + [images[0], broken.path, images[1]], in: root).finish()
        XCTAssertEqual(mixed.status, 1)
        XCTAssertTrue(mixed.errors.contains("broken.jpg") && mixed.errors.contains("1 of 3 images failed"), mixed.errors)
        XCTAssertEqual(mixed.output.components(separatedBy: " objects").count - 1, 2, "the two readable images were processed")
        for (arguments, fragment) in [(["--confidence", "-0.5"], "--confidence -0.5: must be between 0 and 1"),
                                      (["--nms-iou", "2"], "--nms-iou 2.0"), (["--input-shape", "200"], "--input-shape '200'"),
                                      (["--json", file + "/out.json"], "tiny.swift-config is a file, not a folder")] {
            let run = try Running(predict, common + arguments + [images[0]], in: root).finish()
            XCTAssertEqual(run.status, 1, "\(arguments)")
            XCTAssertTrue(run.errors.contains(fragment), "\(arguments): \(run.errors)")
        }
    }
}
