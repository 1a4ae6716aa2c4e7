import Foundation
import Tuning
import XCTest
@testable import YOLO

/// `tune` through the real executables: tiny studies (YOLOv4-tiny at 64x64, a few images, 2-3
/// epochs) that write every file, prune, survive kill -9 and continue, run PBT, and refuse bad
/// input before any trial starts.
final class TuneTests: XCTestCase {
    func project(epochs: Int = 2, extra: String = "") throws -> (root: URL, config: String) {
        let (root, c) = try tinyTrainingProject(self, training: 4, validation: 2)
        return (root, try tinyParameterFile(root: root, c, epochs: epochs, extra: extra))
    }

    func space(_ root: URL, _ text: String) throws -> String {
        let url = root.appendingPathComponent("space.txt")
        try write(text, url)
        return url.path
    }

    func csvRows(_ folder: URL) throws -> [[String: String]] {
        let lines = try String(contentsOf: folder.appendingPathComponent("tune_results.csv"), encoding: .utf8).split(separator: "\n")
        let header = lines[0].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        return lines.dropFirst().map { line in
            let fields = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            return Dictionary(uniqueKeysWithValues: zip(header, fields))
        }
    }

    func testAnASHAStudyPrunesWritesEveryFileAndItsBestConfigurationTrains() throws {
        let (root, config) = try project(epochs: 3)
        let spaceFile = try space(root, "Init_lr = loguniform(1e-4, 2e-2)\nmosaic = choice([True, False])\n")
        let study = root.appendingPathComponent("study")
        let run = try runTool("tune", ["--config", config, "--space", spaceFile, "--algo", "asha", "--trials", "4", "--metric", "val_loss",
                                       "--study-dir", study.path, "--seed", "3"], in: root)
        XCTAssertEqual(run.status, 0, run.output + run.errors)
        let rows = try csvRows(study)
        XCTAssertEqual(rows.map { $0["trial"]! }, ["0", "1", "2", "3"])
        XCTAssertTrue(rows.allSatisfy { ["complete", "pruned"].contains($0["state"]!) }, "\(rows)")
        XCTAssertTrue(rows.contains { $0["state"] == "pruned" }, "ASHA stops a trial at a rung: \(rows)")
        for row in rows where row["state"] == "pruned" { XCTAssertTrue(["1"].contains(row["epochs"]!), "rungs at epoch 1 (3 epochs, eta 3): \(row)") }
        for row in rows where row["state"] == "complete" { XCTAssertEqual(row["epochs"], "3") }
        // The database agrees with the table, reports in order, one per epoch.
        let trials = try StudyDatabase(path: study.appendingPathComponent("study.db").path).trials()
        for t in trials {
            XCTAssertEqual(t.reports.map(\.epoch), Array(1...t.epoch), "trial \(t.number)")
            XCTAssertEqual(t.value, t.reports.last?.valLoss)
            let lines = try String(contentsOf: study.appendingPathComponent(String(format: "trial_%04d/metrics.jsonl", t.number)), encoding: .utf8)
            XCTAssertGreaterThanOrEqual(lines.split(separator: "\n").count, t.epoch, "the trial's own metrics file")
        }
        // The best is the complete trial with the lowest validation loss, and its configuration holds its values.
        let best = trials.filter { $0.state == .complete }.min { $0.value! < $1.value! }!
        let bestConfig = try TrainConfig.load(path: study.appendingPathComponent("best_config.swift-config").path)
        XCTAssertEqual(bestConfig.initLR, best.values["Init_lr"]!.number!, accuracy: 1e-15)
        XCTAssertEqual(bestConfig.mosaic, best.values["mosaic"] == .flag(true))
        XCTAssertEqual(bestConfig.unfreezeEpoch, 3)
        XCTAssertEqual(bestConfig.classesPath, try TrainConfig.load(path: config).classesPath, "the rest of the base file is kept")
        let yaml = try String(contentsOf: study.appendingPathComponent("best_config.yaml"), encoding: .utf8)
        XCTAssertTrue(yaml.contains("  trial: \(best.number)\n") && yaml.contains("    Init_lr: ") && yaml.contains("  direction: minimize"), yaml)
        for picture in ["metric_per_trial.png", "metric_vs_Init_lr.png", "metric_vs_mosaic.png", "learning_curves.png"] {
            let data = try Data(contentsOf: study.appendingPathComponent(picture))
            XCTAssertEqual(Array(data.prefix(4)), [0x89, 0x50, 0x4E, 0x47], picture)
        }
        XCTAssertTrue(run.output.contains("Best: trial \(best.number)"), run.output)
        XCTAssertTrue(run.output.contains("--config \(study.path)/best_config.swift-config"), run.output)
        // The written file trains as it says.
        let full = try runTool("train", ["--config", study.appendingPathComponent("best_config.swift-config").path,
                                         "--cfg-options", "UnFreeze_Epoch=1", "save_dir='again'"], in: root)
        XCTAssertEqual(full.status, 0, full.output + full.errors)
    }

    func testKillNineMidStudyThenResumeLosesAndRepeatsNoTrial() throws {
        let (root, config) = try project(epochs: 2)
        let spaceFile = try space(root, "Init_lr = loguniform(1e-4, 1e-2)\n")
        let study = root.appendingPathComponent("study")
        let arguments = ["--space", spaceFile, "--config", config, "--algo", "random", "--trials", "3", "--metric", "val_loss",
                         "--study-dir", study.path]
        let tune = Process()
        tune.executableURL = try debugBinary("tune")
        tune.arguments = arguments
        tune.currentDirectoryURL = root
        tune.standardOutput = FileHandle.nullDevice
        tune.standardError = FileHandle.nullDevice
        try tune.run()
        // Kill it while trial 1 runs, after trial 0 completed.
        let db = study.appendingPathComponent("study.db").path
        let deadline = Date().addingTimeInterval(240)
        var before: [TrialRecord] = []
        while Date() < deadline {
            usleep(200_000)
            guard FileManager.default.fileExists(atPath: db), let t = try? StudyDatabase(path: db).trials() else { continue }
            if t.count == 2 && t[0].state == .complete && t[1].state == .running { before = t; break }
        }
        XCTAssertEqual(before.count, 2, "the study reached trial 1")
        kill(tune.processIdentifier, SIGKILL)
        tune.waitUntilExit()
        // The orphaned trial was told (pdeathsig) to save and stop: no process is left.
        let trialFolder = study.appendingPathComponent("trial_0001").path
        var left = true
        for _ in 0..<300 where left {
            usleep(100_000)
            let ps = try runProcess(URL(fileURLWithPath: "/usr/bin/pgrep"), ["-f", trialFolder], in: root)
            left = ps.status == 0
        }
        XCTAssertFalse(left, "the trial of the killed study ended")
        let resumed = try runTool("tune", ["--resume", study.path], in: root)
        XCTAssertEqual(resumed.status, 0, resumed.output + resumed.errors)
        let after = try StudyDatabase(path: db).trials()
        XCTAssertEqual(after.count, 3, "no trial added twice")
        XCTAssertEqual(after[0], before[0], "the finished trial is untouched")
        XCTAssertEqual(after[1].values, before[1].values, "the interrupted trial continued with its values")
        XCTAssertTrue(after.allSatisfy { $0.state == .complete }, "\(after.map(\.state))")
        for t in after { XCTAssertEqual(t.reports.map(\.epoch), [1, 2], "trial \(t.number): every epoch reported once") }
        XCTAssertFalse(resumed.output.contains("Trial 0 started"), resumed.output)
    }

    func testPBTCopiesTheBetterMembersStateAndPerturbsItsValues() throws {
        let (root, config) = try project(epochs: 2)
        let spaceFile = try space(root, "Init_lr = loguniform(1e-4, 1e-2)\nweight_decay = uniform(0, 1e-3)\n")
        let study = root.appendingPathComponent("study")
        let run = try runTool("tune", ["--config", config, "--space", spaceFile, "--algo", "pbt", "--trials", "2", "--pbt-interval", "1",
                                       "--metric", "val_loss", "--study-dir", study.path], in: root)
        XCTAssertEqual(run.status, 0, run.output + run.errors)
        let trials = try StudyDatabase(path: study.appendingPathComponent("study.db").path).trials()
        XCTAssertEqual(trials.map(\.state), [.complete, .complete])
        let copied = try XCTUnwrap(trials.first { $0.note?.contains("epoch 1: copied trial") == true }, "\(trials.map(\.note))")
        let donor = 1 - copied.number
        XCTAssertLessThanOrEqual(trials[donor].reports[0].value, copied.reports[0].value, "the worse member copies the better")
        let folder = study.appendingPathComponent(String(format: "trial_%04d", copied.number))
        XCTAssertTrue(FileManager.default.fileExists(atPath: folder.appendingPathComponent("pbt_epoch1_from_trial\(donor).pth").path))
        let log = try String(contentsOf: folder.appendingPathComponent("train.log"), encoding: .utf8)
        XCTAssertTrue(log.contains("Resuming from \(folder.path)/pbt_epoch1_from_trial\(donor).pth: epoch 2"), log)
        XCTAssertTrue(log.contains("Changed from the resumed run: Init_lr"), "the perturbed values are applied: \(log)")
        XCTAssertNotEqual(copied.values, trials[donor].values)
        XCTAssertEqual(copied.reports.map(\.epoch), [1, 2])
    }

    func testBadInputIsRefusedBeforeAnyTrialStarts() throws {
        let (root, config) = try project(epochs: 2)
        let study = root.appendingPathComponent("study")
        func refuse(_ spaceText: String, _ extra: [String] = [], _ fragments: [String], file: StaticString = #filePath, line: UInt = #line) throws {
            let spaceFile = try space(root, spaceText)
            let run = try runTool("tune", ["--config", config, "--space", spaceFile, "--study-dir", study.path] + extra, in: root)
            XCTAssertNotEqual(run.status, 0, file: file, line: line)
            for f in fragments { XCTAssertTrue(run.errors.contains(f), "'\(f)' not in: \(run.errors)", file: file, line: line) }
            XCTAssertFalse(FileManager.default.fileExists(atPath: study.path), "no study folder", file: file, line: line)
        }
        try refuse("Init_lr = loguniform(1e-4, 1e-2)\nInit_LR = uniform(0, 1)\n", [], ["space.txt:2", "unknown key 'Init_LR'", "did you mean 'Init_lr'"])
        try refuse("Init_lr = loguniform(1e-4, 1e-2\n", [], ["space.txt:1", "expected a distribution"])
        try refuse("# nothing\n", [], ["the search space is empty"])
        try refuse("Unfreeze_batch_size = choice([1, 2])\n", [], ["space.txt:1", "Unfreeze_batch_size = 1", "refused"])
        try refuse("Freeze_Epoch = uniform(0, 2)\n", [], ["space.txt:1", "expected an integer"])
        try refuse("UnFreeze_Epoch = randint(2, 4)\n", [], ["UnFreeze_Epoch cannot be searched", "--max-epochs"])
        try refuse("optimizer_type = choice(['adam', 'sgd'])\n", ["--algo", "pbt"], ["optimizer_type cannot be searched with --algo pbt"])
        try refuse("Init_lr = loguniform(1e-4, 1e-2)\n", ["--cfg-options", "eval_flag=False"], ["--metric map", "eval_flag = False"])
    }

    func testAFailingTrialIsRecordedAndEveryTrialFailingStopsTheStudy() throws {
        let (root, config) = try project(epochs: 1)
        let study = root.appendingPathComponent("study")
        // A missing weights file passes the parameter file's checks and fails in the trial.
        let mixed = try space(root, "model_path = choice(['', 'missing_weights.pth'])\n")
        let run = try runTool("tune", ["--config", config, "--space", mixed, "--algo", "random", "--trials", "4", "--seed", "1",
                                       "--metric", "val_loss", "--study-dir", study.path], in: root)
        let rows = try csvRows(study)
        XCTAssertEqual(rows.count, 4)
        let failed = rows.filter { $0["state"] == "failed" }, complete = rows.filter { $0["state"] == "complete" }
        XCTAssertFalse(failed.isEmpty, "seed 1 draws the missing file: \(rows)")
        XCTAssertFalse(complete.isEmpty, "seed 1 draws '' too: \(rows)")
        XCTAssertTrue(failed.allSatisfy { $0["model_path"] == "missing_weights.pth" && $0["error"]!.contains("missing_weights.pth") }, "\(failed)")
        XCTAssertEqual(run.status, 0, "the study goes on past a failed trial: " + run.errors)
        let allBad = try space(root, "model_path = choice(['missing_a.pth', 'missing_b.pth'])\n")
        let stopped = try runTool("tune", ["--config", config, "--space", allBad, "--trials", "6", "--metric", "val_loss",
                                           "--study-dir", root.appendingPathComponent("bad").path], in: root)
        XCTAssertNotEqual(stopped.status, 0)
        XCTAssertTrue(stopped.errors.contains("every trial failed") && stopped.errors.contains("missing_"), stopped.errors)
        XCTAssertEqual(try StudyDatabase(path: root.appendingPathComponent("bad/study.db").path).trials().count, 3,
                       "it stops after the first three")
    }
}
