import Distributed
import Foundation
import NN
import Tuning
import XCTest
@testable import YOLO

/// DDP through the real executables under Open MPI's mpirun on this machine: the collectives with
/// values known by hand, 2 ranks x 4 images against 1 process x 8 (the same weights with sync_bn)
/// and against DP's 2 replicas in one process,
/// rank-0-only output, a rank killed with kill -9, ranks with different configurations, Ctrl-C and
/// resume; and the pieces (shards, configuration digest, launch checks) on their own.
final class DistributedTests: XCTestCase {
    typealias Running = ProcessReliabilityTests.Running

    override func setUp() {
        // mpirun refuses root unless asked twice (CI containers run as root).
        setenv("OMPI_ALLOW_RUN_AS_ROOT", "1", 1)
        setenv("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1", 1)
    }

    func mpirun() throws -> URL {
        for folder in ["/usr/bin", "/usr/local/bin"] where FileManager.default.isExecutableFile(atPath: folder + "/mpirun") {
            return URL(fileURLWithPath: folder + "/mpirun")
        }
        XCTFail("mpirun is not installed: ./scripts/test.sh installs Open MPI (openmpi-bin, libopenmpi-dev)")
        throw XCTSkip("no mpirun")
    }

    /// mpirun's arguments for `n` ranks of a debug executable (`mpi`: more mpirun options).
    func ranks(_ n: Int, _ program: String, _ arguments: [String], mpi: [String] = []) throws -> [String] {
        ["-np", "\(n)", "--oversubscribe", "--bind-to", "none"] + mpi + [try debugBinary(program).path] + arguments
    }

    // MARK: Collectives

    func testCollectivesOnTwoRanksGiveTheValuesWorkedOutByHand() throws {
        let folder = temporaryFolder(self, "dist")
        let run = try runProcess(try mpirun(), try ranks(2, "dist_check", ["--megabytes", "1"]), in: folder)
        XCTAssertEqual(run.status, 0, run.output + run.errors)
        XCTAssertTrue(run.output.contains("2 rank(s) over MPI"), run.output)
        XCTAssertTrue(run.output.contains("collectives: every value as expected"), run.output)
        XCTAssertTrue(run.output.contains("rank 1: "), run.output)
        // Alone, the same checks run on the single-process path without MPI.
        let alone = try runTool("dist_check", [], in: folder)
        XCTAssertEqual(alone.status, 0, alone.output + alone.errors)
        XCTAssertTrue(alone.output.contains("over single process"), alone.output)
    }

    // MARK: Pieces

    func testShardsAreDisjointCoverTheEpochAndTogetherAreTheWholeBatch() throws {
        let (_, c) = try tinyTrainingProject(self, training: 10, validation: 2)
        let lines = try AnnotationLine.load(c.trainAnnotationPath, classCount: 5)
        let dataset = DetectionDataset(lines: lines, inputWidth: 64, inputHeight: 64, training: true)
        let whole = DataLoader(dataset: dataset, batchSize: 4, shuffle: true, seed: 3, workers: 0)
        let halves = (0..<2).map { DataLoader(dataset: dataset, batchSize: 2, shuffle: true, seed: 3, workers: 0, shard: ($0, 2)) }
        for epoch in 0..<2 {
            let orders = halves.map { $0.shardOrder(epoch: epoch) }
            XCTAssertEqual(orders[0].count, 5)
            XCTAssertTrue(Set(orders[0]).isDisjoint(with: orders[1]))
            XCTAssertEqual(Set(orders[0] + orders[1]), Set(0..<10))
            XCTAssertEqual(halves[0].batchesPerEpoch, whole.batchesPerEpoch)
            // Batch 0 of one process with 4 images = rank 0's 2 and rank 1's 2, interleaved, pixel for pixel.
            let one = try XCTUnwrap(try whole.batches(epoch: epoch).nextBatch())
            let parts = try halves.map { try XCTUnwrap(try $0.batches(epoch: epoch).nextBatch()) }
            let plane = 3 * 64 * 64
            let oneImages = try one.images.toArray()
            for rank in 0..<2 {
                let images = try parts[rank].images.toArray()
                for i in 0..<2 {
                    let position = i * 2 + rank
                    XCTAssertEqual(parts[rank].indices[i], one.indices[position])
                    XCTAssertEqual(parts[rank].targets[i], one.targets[position])
                    XCTAssertEqual(Array(images[(i * plane)..<((i + 1) * plane)]),
                                   Array(oneImages[(position * plane)..<((position + 1) * plane)]), "epoch \(epoch) rank \(rank) sample \(i)")
                }
            }
        }
    }

    func testConfigurationDifferenceNamesTheKey() throws {
        var a = TrainConfig(), b = TrainConfig()
        a.seed = 3
        b.seed = 4
        XCTAssertNil(DataParallel.firstDifference(a.parameterText, a.parameterText))
        let difference = try XCTUnwrap(DataParallel.firstDifference(a.parameterText, b.parameterText))
        XCTAssertTrue(difference.contains("seed = 3 here, 4 on rank 0"), difference)
        XCTAssertEqual(Trainer.describeHosts(["a", "a", "b", "a"]), "a (ranks 0, 1, 3), b (rank 2)")
        XCTAssertEqual(Trainer.describeHosts(["a", "a", "b", "b"]), "a (ranks 0-1), b (ranks 2-3)")
    }

    func testLaunchEnvironmentAndTheChecksBeforeJoining() throws {
        XCTAssertNil(LaunchEnvironment.detect([:]))
        XCTAssertEqual(LaunchEnvironment.detect(["OMPI_COMM_WORLD_SIZE": "4", "OMPI_COMM_WORLD_RANK": "2",
                                                 "OMPI_COMM_WORLD_LOCAL_RANK": "0", "OMPI_COMM_WORLD_LOCAL_SIZE": "2"]),
                       LaunchEnvironment(worldSize: 4, rank: 2, localRank: 0, localSize: 2))
        var c = TrainConfig()
        var said: [String] = []
        // distributed = True without a launcher: said, then one process.
        c.distributed = true
        c.syncBN = true
        XCTAssertNil(try Trainer(config: c, log: { said.append($0) }).joinDataParallel(environment: [:]))
        XCTAssertTrue(said.contains { $0.contains("not started as one of several ranks") && $0.contains("dist_train.sh") }, "\(said)")
        XCTAssertTrue(said.contains { $0.contains("sync_bn = True: ignored") }, "\(said)")
        // Ranks of mpirun with distributed = False would each train alone: refused.
        c.distributed = false
        XCTAssertThrowsError(try Trainer(config: c).joinDataParallel(environment: ["OMPI_COMM_WORLD_SIZE": "2", "OMPI_COMM_WORLD_RANK": "1"])) {
            assertMessage($0, contains: ["rank 1 of 2", "distributed = False", "distributed = True"])
        }
        // A timeout that could never be met is refused with the parameter file, before any rank joins.
        XCTAssertThrowsError(try TrainConfig.load(text: "distributed = True\ndist_timeout = 0", source: "d.swift-config")) {
            assertMessage($0, contains: ["d.swift-config", "dist_timeout = 0.0", "more than 0"])
        }
    }

    // MARK: Training through mpirun

    /// The tiny project at 64x64 with 16 training and 8 validation images, SGD, no mAP.
    func project() throws -> (root: URL, file: String) {
        let (root, c) = try tinyTrainingProject(self, training: 16, validation: 8)
        let file = try tinyParameterFile(root: root, c, epochs: 2, extra: """
        eval_flag = False
        log_interval = 1
        dist_timeout = 60
        """)
        return (root, file)
    }

    func weights(_ path: String) throws -> [String: [Float]] {
        let state = try XCTUnwrap(try PthReader.load(path).stateDict)
        var result: [String: [Float]] = [:]
        for (name, tensor) in state where tensor.dtype == .float32 { result[name] = try tensor.toArray() }
        return result
    }

    /// The largest difference between two state dicts, relative to the largest weight.
    func largestDifference(_ a: [String: [Float]], _ b: [String: [Float]]) -> Float {
        var worst: Float = 0, scale: Float = 0
        for (name, x) in a {
            guard let y = b[name] else { return .infinity }
            for (u, v) in zip(x, y) { worst = max(worst, abs(u - v)); scale = max(scale, abs(u)) }
        }
        return worst / max(scale, 1e-12)
    }

    func testTwoRanksWithSyncBNTrainTheWeightsOfOneProcessWithTheWholeBatchAndDPTheWeightsOfDDP() throws {
        let (root, file) = try project()
        let common = ["--config", file, "--cfg-options", "Unfreeze_batch_size=8", "optimizer_type='sgd'", "Init_lr=1e-2"]
        let single = try runTool("train", common + ["save_dir='single'"], in: root)
        XCTAssertEqual(single.status, 0, single.output + single.errors)
        let synced = try runProcess(try mpirun(), try ranks(2, "train", common + ["save_dir='synced'", "distributed=True", "sync_bn=True"]),
                                    in: root)
        XCTAssertEqual(synced.status, 0, synced.output + synced.errors)
        XCTAssertTrue(synced.output.contains("DDP: 2 ranks over MPI"), synced.output)
        XCTAssertTrue(synced.output.contains("Unfreeze_batch_size 8 = 2 x 4"), synced.output)
        // The gradient buckets start their all-reduce while backward still runs (YOLOv4-tiny: a 1 MB
        // first bucket, then the rest), and the weights still equal one process's.
        let overlap = try XCTUnwrap(synced.output.range(of: #"(\d+) of (\d+) buckets started during backward"#, options: .regularExpression),
                                    synced.output)
        let counts = synced.output[overlap].split(separator: " ").compactMap { Int($0) }
        XCTAssertGreaterThan(counts[0], 0, String(synced.output[overlap]))
        let perRank = try runProcess(try mpirun(), try ranks(2, "train", common + ["save_dir='per_rank'", "distributed=True"]), in: root)
        XCTAssertEqual(perRank.status, 0, perRank.output + perRank.errors)

        let reference = try weights(root.appendingPathComponent("single/last_epoch_weights.pth").path)
        let withSync = largestDifference(reference, try weights(root.appendingPathComponent("synced/last_epoch_weights.pth").path))
        let withoutSync = largestDifference(reference, try weights(root.appendingPathComponent("per_rank/last_epoch_weights.pth").path))
        print("largest weight difference to 1 x 8 after 4 steps: 2 x 4 with sync_bn \(withSync), without \(withoutSync)")
        XCTAssertLessThan(withSync, 1e-4, "2 x 4 with sync_bn should train 1 x 8's weights up to float noise")
        XCTAssertGreaterThan(withoutSync, 10 * withSync, "without sync_bn each rank normalises with its own batch statistics")

        // DP: one process, 2 replicas on the one CPU, each normalising its half of the batch (the
        // images of one DDP rank), one loss over the gathered outputs: DDP's weights without sync_bn.
        let dp = try runTool("train", common + ["save_dir='dp'", "dp_replicas=2"], in: root)
        XCTAssertEqual(dp.status, 0, dp.output + dp.errors)
        XCTAssertTrue(dp.output.contains("DP on the CPU: 2 replicas share its one device") && dp.output.contains("dist_train.sh"), dp.output)
        let dpToDDP = largestDifference(try weights(root.appendingPathComponent("per_rank/last_epoch_weights.pth").path),
                                        try weights(root.appendingPathComponent("dp/last_epoch_weights.pth").path))
        print("DP with 2 replicas against DDP 2 x 4 without sync_bn: \(dpToDDP)")
        XCTAssertLessThan(dpToDDP, 1e-4, "DP's replicas should train DDP's weights up to float noise")

        // Rank 0 alone prints the run's lines and writes: one log folder, one set of weights.
        XCTAssertEqual(synced.output.components(separatedBy: "Start Train").count - 1, 2, "one line per epoch, from rank 0 only")
        XCTAssertEqual(synced.output.components(separatedBy: "Logs: ").count - 1, 1)
        let folders = try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("synced").path)
        XCTAssertEqual(folders.filter { $0.hasPrefix("loss_") }.count, 1, "\(folders)")
        let losses = try String(contentsOfFile: root.appendingPathComponent("synced").appendingPathComponent(
            try XCTUnwrap(folders.first { $0.hasPrefix("loss_") })).appendingPathComponent("epoch_loss.txt").path)
        XCTAssertEqual(losses.split(separator: "\n").count, 2, losses)
    }

    func testRanksWithDifferentConfigurationsAreRefusedNamingTheKey() throws {
        let (root, file) = try project()
        let train = try debugBinary("train").path
        let base = ["--config", file, "--cfg-options", "distributed=True", "save_dir='mixed'"]
        // MPMD: rank 0 with seed 1, rank 1 with seed 2.
        let run = try runProcess(try mpirun(), ["--oversubscribe", "--bind-to", "none", "-np", "1", train] + base + ["seed=1", ":",
                                                 "-np", "1", train] + base + ["seed=2"], in: root)
        XCTAssertNotEqual(run.status, 0)
        XCTAssertTrue(run.errors.contains("rank 1 was started with another configuration than rank 0: seed = 2 here, 1 on rank 0"),
                      run.output + run.errors)
    }

    func testBatchThatDoesNotDivideAmongTheRanksIsRefused() throws {
        let (root, file) = try project()
        let run = try runProcess(try mpirun(), try ranks(2, "train", ["--config", file, "--cfg-options", "distributed=True",
                                                                        "Unfreeze_batch_size=5"]), in: root)
        XCTAssertNotEqual(run.status, 0)
        XCTAssertTrue(run.errors.contains("Unfreeze_batch_size = 5 does not divide among 2 ranks"), run.errors)
    }

    /// Child processes of `parent` (the ranks mpirun started).
    func children(of parent: Int32) -> [Int32] {
        let proc = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return proc.compactMap(Int32.init).filter { pid in
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { return false }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            return fields.count > 1 && Int32(fields[1]) == parent
        }
    }

    func rankOf(_ pid: Int32) -> Int? {
        guard let environ = FileManager.default.contents(atPath: "/proc/\(pid)/environ") else { return nil }
        for entry in environ.split(separator: 0) {
            let text = String(decoding: entry, as: UTF8.self)
            if text.hasPrefix("OMPI_COMM_WORLD_RANK=") { return Int(text.dropFirst("OMPI_COMM_WORLD_RANK=".count)) }
        }
        return nil
    }

    /// Running or sleeping; a zombie (ended, waiting to be reaped by whoever inherited it) is not.
    func isAlive(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let close = stat.lastIndex(of: ")") else {
            return false
        }
        return stat[stat.index(close, offsetBy: 2)] != "Z"
    }

    func testKillingOneRankEndsTheWholeJobAndLeavesNoProcess() throws {
        let (root, file) = try project()
        let run = try Running(try mpirun(), try ranks(2, "train", ["--config", file, "--cfg-options", "distributed=True",
                                                                     "UnFreeze_Epoch=200", "save_dir='killed'"]), in: root)
        XCTAssertTrue(run.wait(for: "Epoch(train)"), run.output + run.errors)
        let rankPIDs = children(of: run.process.processIdentifier).filter { rankOf($0) != nil }
        XCTAssertEqual(rankPIDs.count, 2, "ranks of mpirun: \(rankPIDs)")
        let victim = try XCTUnwrap(rankPIDs.first { rankOf($0) == 1 })
        let killedAt = Date()
        kill(victim, SIGKILL)
        let deadline = Date().addingTimeInterval(60)
        while run.process.isRunning && Date() < deadline { usleep(50_000) }
        let ended = run.process.isRunning ? nil : Date().timeIntervalSince(killedAt)
        if run.process.isRunning { run.signal(SIGKILL); for pid in rankPIDs { kill(pid, SIGKILL) } }
        let finished = run.finish()
        XCTAssertNotNil(ended, "the job still ran 60 s after one rank was killed")
        print("job ended \(String(format: "%.1f", ended ?? -1)) s after kill -9 of rank 1")
        XCTAssertNotEqual(finished.status, 0)
        XCTAssertTrue(finished.errors.contains("rank 1") && finished.errors.contains("signal 9"), finished.errors)
        usleep(200_000)
        for pid in rankPIDs { XCTAssertFalse(isAlive(pid), "rank process \(pid) is still running") }
    }

    func testAStuckRankEndsTheJobAfterDistTimeout() throws {
        let (root, file) = try project()
        let run = try Running(try mpirun(), try ranks(2, "train", ["--config", file, "--cfg-options", "distributed=True",
                                                                     "UnFreeze_Epoch=200", "dist_timeout=4", "save_dir='stuck'"]), in: root)
        XCTAssertTrue(run.wait(for: "Epoch(train)"), run.output + run.errors)
        let rankPIDs = children(of: run.process.processIdentifier).filter { rankOf($0) != nil }
        let stuck = try XCTUnwrap(rankPIDs.first { rankOf($0) == 1 })
        let stoppedAt = Date()
        kill(stuck, SIGSTOP)   // alive but never reaching the next collective, as a rank in an endless loop
        let deadline = Date().addingTimeInterval(60)
        while run.process.isRunning && Date() < deadline { usleep(50_000) }
        let ended = run.process.isRunning ? nil : Date().timeIntervalSince(stoppedAt)
        if run.process.isRunning { run.signal(SIGKILL); for pid in rankPIDs { kill(pid, SIGKILL) } }
        let finished = run.finish()
        print("job ended \(String(format: "%.1f", ended ?? -1)) s after rank 1 stopped (dist_timeout 4 s)")
        XCTAssertNotNil(ended, "the job still ran 60 s after rank 1 stopped")
        XCTAssertNotEqual(finished.status, 0)
        XCTAssertTrue(finished.errors.contains("rank 0 of 2 on ") && finished.errors.contains("waited more than 4 s"), finished.errors)
        usleep(200_000)
        for pid in rankPIDs { XCTAssertFalse(isAlive(pid), "rank process \(pid) is still there") }
    }

    func testTwoJobsOnOneMachineAtTheSameTimeDoNotCollide() throws {
        let (root, file) = try project()
        let jobs = try ["first", "second"].map { name in
            try Running(try mpirun(), try ranks(2, "train", ["--config", file, "--cfg-options", "distributed=True", "UnFreeze_Epoch=1",
                                                               "save_dir='\(name)'"]), in: root)
        }
        for (name, job) in zip(["first", "second"], jobs) {
            let finished = job.finish()
            XCTAssertEqual(finished.status, 0, "\(name): " + finished.output + finished.errors)
            XCTAssertTrue(FileManager.default.fileExists(atPath: root.appendingPathComponent("\(name)/last_epoch_weights.pth").path))
        }
    }

    func testTwoHostsOverNetworkNamespacesTrainExactlyLikeOneHost() throws {
        guard getuid() == 0 else { throw XCTSkip("network namespaces need root") }
        let probe = try runProcess(URL(fileURLWithPath: "/bin/sh"), ["-c", "ip netns add ddpprobe\(getpid()) && ip netns del ddpprobe\(getpid())"],
                                   in: FileManager.default.temporaryDirectory)
        guard probe.status == 0 else { throw XCTSkip("this machine does not allow network namespaces: \(probe.errors)") }
        let (root, file) = try project()
        // One thread per rank on both sides: the two runs then sum in the same order.
        setenv("OMP_NUM_THREADS", "1", 1)
        setenv("TRAIN_BIN", try debugBinary("train").path, 1)
        defer { unsetenv("OMP_NUM_THREADS") }
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("scripts/netns_dist_train.sh")
        let options = ["UnFreeze_Epoch=1", "Unfreeze_batch_size=4"]
        let apart = try runProcess(URL(fileURLWithPath: "/bin/bash"), [script.path, file] + options + ["save_dir='two_hosts'"], in: root)
        XCTAssertEqual(apart.status, 0, apart.output + apart.errors)
        XCTAssertTrue(apart.output.contains("on ddp-host-a (rank 0), ddp-host-b (rank 1)"), apart.output)
        let together = try runProcess(try mpirun(), try ranks(2, "train", ["--config", file, "--cfg-options", "distributed=True"]
                                                                + options + ["save_dir='one_host'"]), in: root)
        XCTAssertEqual(together.status, 0, together.output + together.errors)
        func lossLines(_ run: (status: Int32, output: String, errors: String)) -> [String] {
            run.output.split(separator: "\n").filter { $0.hasPrefix("Epoch(train)") || $0.hasPrefix("Epoch(val)") }
                .map { $0.replacingOccurrences(of: #"eta: \S+  time: \S+  data_time: \S+  "#, with: "", options: .regularExpression) }
        }
        XCTAssertFalse(lossLines(apart).isEmpty)
        XCTAssertEqual(lossLines(apart), lossLines(together), "the same losses over TCP between two hosts as in one host")
        XCTAssertEqual(largestDifference(try weights(root.appendingPathComponent("one_host/last_epoch_weights.pth").path),
                                         try weights(root.appendingPathComponent("two_hosts/last_epoch_weights.pth").path)), 0)
        let namespaces = try runProcess(URL(fileURLWithPath: "/bin/sh"), ["-c", "ip netns list"], in: root)
        XCTAssertFalse(namespaces.output.contains("ddpa"), "namespaces left: \(namespaces.output)")
    }

    func testCtrlCOnDistTrainSavesAResumePointFromRankZeroAndTheRunContinuesExactly() throws {
        let (root, file) = try project()
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("scripts/dist_train.sh")
        setenv("TRAIN_BIN", try debugBinary("train").path, 1)
        let options = ["--config", file, "--cfg-options", "distributed=True", "UnFreeze_Epoch=3"]
        let run = try Running(URL(fileURLWithPath: "/bin/bash"),
                              [script.path, file, "2", "--cfg-options", "UnFreeze_Epoch=3", "save_dir='resumed'"], in: root)
        XCTAssertTrue(run.wait(for: "Epoch(train) [1/3][3/"), run.output + run.errors)
        run.signal(SIGINT)
        let stopped = run.finish()
        XCTAssertEqual(stopped.status, 130, stopped.output + stopped.errors)
        XCTAssertEqual(stopped.output.components(separatedBy: "Interrupted at epoch 1").count - 1, 1, "rank 0 alone saves: " + stopped.output)
        XCTAssertTrue(stopped.output.contains("dist_train.sh CONFIG 2 --resume"), stopped.output)
        XCTAssertTrue(FileManager.default.fileExists(atPath: root.appendingPathComponent("resumed/resume_point.pth").path))

        let resumed = try runProcess(try mpirun(), try ranks(2, "train", ["--resume"] + options + ["save_dir='resumed'"]), in: root)
        XCTAssertEqual(resumed.status, 0, resumed.output + resumed.errors)
        XCTAssertTrue(resumed.output.contains("Resuming from"), resumed.output)
        let straight = try runProcess(try mpirun(), try ranks(2, "train", options + ["save_dir='straight'"]), in: root)
        XCTAssertEqual(straight.status, 0, straight.output + straight.errors)
        let difference = largestDifference(try weights(root.appendingPathComponent("straight/last_epoch_weights.pth").path),
                                           try weights(root.appendingPathComponent("resumed/last_epoch_weights.pth").path))
        XCTAssertLessThan(difference, 1e-6, "the interrupted and resumed DDP run should end with the uninterrupted run's weights")
    }

    // MARK: tune under mpirun

    func testTuneUnderMpirunRunsTheTrialsOnTheOtherRanks() throws {
        let (root, c) = try tinyTrainingProject(self, training: 4, validation: 2)
        let file = try tinyParameterFile(root: root, c, epochs: 1)
        try write("Init_lr = loguniform(1e-4, 1e-2)\n", root.appendingPathComponent("space.txt"))
        let study = root.appendingPathComponent("study")
        let run = try runProcess(try mpirun(), try ranks(3, "tune", ["--config", file, "--space", "space.txt", "--algo", "random",
                                                                      "--trials", "3", "--metric", "val_loss", "--study-dir", study.path]),
                                 in: root)
        XCTAssertEqual(run.status, 0, run.output + run.errors)
        XCTAssertTrue(run.output.contains("1 at once on each of ranks 1-2"), run.output)
        let trials = try StudyDatabase(path: study.appendingPathComponent("study.db").path).trials()
        XCTAssertEqual(trials.map(\.state), [.complete, .complete, .complete])
        XCTAssertTrue(trials.allSatisfy { $0.reports.map(\.epoch) == [1] })
        var ranksUsed: Set<String> = []
        for t in trials {
            let log = try String(contentsOf: study.appendingPathComponent(String(format: "trial_%04d/train.log", t.number)), encoding: .utf8)
            let header = String(log.prefix { $0 != "\n" })
            if let r = header.range(of: #"\(rank \d"#, options: .regularExpression) { ranksUsed.insert(String(header[r].dropFirst())) }
            XCTAssertFalse(log.contains("distributed = False"), "a trial is not a rank of tune's job: \(log)")
        }
        XCTAssertEqual(ranksUsed, ["rank 1", "rank 2"], "trials run on the worker ranks, never on rank 0")
        XCTAssertTrue(FileManager.default.fileExists(atPath: study.appendingPathComponent("best_config.swift-config").path))
    }

    func testTuneUnderMpirunRefusesPBTAndEndsEveryRank() throws {
        let (root, c) = try tinyTrainingProject(self, training: 4, validation: 2)
        let file = try tinyParameterFile(root: root, c, epochs: 1)
        try write("Init_lr = loguniform(1e-4, 1e-2)\n", root.appendingPathComponent("space.txt"))
        let run = try runProcess(try mpirun(), try ranks(2, "tune", ["--config", file, "--space", "space.txt", "--algo", "pbt",
                                                                      "--metric", "val_loss", "--study-dir", "s"]), in: root)
        XCTAssertNotEqual(run.status, 0)
        XCTAssertTrue(run.errors.contains("--algo pbt under mpirun"), run.errors)
        XCTAssertFalse(FileManager.default.fileExists(atPath: root.appendingPathComponent("s").path))
    }
}
