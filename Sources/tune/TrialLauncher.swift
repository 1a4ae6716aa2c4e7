import Foundation
import Tuning

/// Starts trials as `train` children and follows the epoch lines they append to their metrics file.
struct TrialLauncher {
    let settings: StudySettings
    let studyFolder: String
    let trainBinary: String
    let order: [String]
    /// OMP_NUM_THREADS of each trial; nil: the cores shared evenly by `parallel` trials.
    let threadsPerTrial: Int?
    /// Where the trials run, for their log's first line ("rank 1 on host-b" under mpirun).
    var origin: String?

    func folder(of trial: Int) -> String { (studyFolder as NSString).appendingPathComponent(String(format: "trial_%04d", trial)) }
    func metricsPath(of trial: Int) -> String { folder(of: trial) + "/metrics.jsonl" }
    func logPath(of trial: Int) -> String { folder(of: trial) + "/train.log" }
    func resumePoint(of trial: Int) -> String { folder(of: trial) + "/resume_point.pth" }

    /// Threads per trial: an even share of the cores (OMP_NUM_THREADS, when set, wins).
    var environment: [String: String] {
        // A trial is a training of its own, not a rank of tune's MPI job.
        var env = ProcessInfo.processInfo.environment.filter { key, _ in !["OMPI_", "PMIX_", "PMI_"].contains { key.hasPrefix($0) } }
        if env["OMP_NUM_THREADS"] == nil {
            env["OMP_NUM_THREADS"] = String(threadsPerTrial ?? max(1, ProcessInfo.processInfo.activeProcessorCount / max(settings.parallel, 1)))
        }
        return env
    }

    /// `train` for this trial: its values and the study's overrides; from `resume` when given
    /// (a continued trial, or PBT's copied state), ending after `stopAfter` when given.
    func start(_ trial: TrialRecord, resume: String? = nil, stopAfter: Int? = nil) throws -> LocalTrial {
        try FileManager.default.createDirectory(atPath: folder(of: trial.number), withIntermediateDirectories: true)
        var arguments = [trainBinary, "--config", settings.configPath, "--work-dir", folder(of: trial.number),
                         "--metrics-file", metricsPath(of: trial.number)]
        if let resume { arguments += ["--resume", resume] }
        if let stopAfter { arguments += ["--stop-after-epoch", String(stopAfter)] }
        arguments += ["--cfg-options"] + settings.cfgOptions + settings.budgetOverrides + trial.valueLines(order: order)
        let header = "# tune: trial \(trial.number)" + (origin.map { " (\($0))" } ?? "") + ": " + arguments.map(Self.quoted).joined(separator: " ") + "\n"
        if !FileManager.default.fileExists(atPath: logPath(of: trial.number)) {
            _ = FileManager.default.createFile(atPath: logPath(of: trial.number), contents: nil)
        }
        if let h = FileHandle(forWritingAtPath: logPath(of: trial.number)) {
            h.seekToEndOfFile()
            h.write(Data(header.utf8))
            try? h.close()
        }
        let process = try TrialProcess(arguments: arguments, environment: environment, logPath: logPath(of: trial.number))
        let running = LocalTrial(number: trial.number, process: process, metricsPath: metricsPath(of: trial.number), launcher: self)
        running.skipReportsUpTo = trial.epoch
        return running
    }

    static func quoted(_ s: String) -> String {
        s.allSatisfy { $0.isLetter || $0.isNumber || "-_./=:".contains($0) } ? s : "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    /// The reason a failed trial gives: its last error line, else its last line.
    func failureReason(of trial: Int, status: Int32) -> String {
        let text = (try? String(contentsOfFile: logPath(of: trial), encoding: .utf8)) ?? ""
        let lines = text.split(separator: "\n").map(String.init)
        let line = lines.last(where: { $0.contains("error:") || $0.contains("Error") }) ?? lines.last ?? ""
        let how = status > 128 ? "killed by signal \(status - 128)" : "exit status \(status)"
        return "\(how): \(line.trimmingCharacters(in: .whitespaces)) (see \(logPath(of: trial)))"
    }
}

/// A trial running somewhere: here (`LocalTrial`) or on another rank of an mpirun job (`RemoteTrial`).
protocol TrialHandle: AnyObject {
    var number: Int { get }
    /// The scheduler stopped it and it was asked to stop.
    var pruned: Bool { get set }
    /// It had to start again from epoch 0 (no resume point where it was continued): its old reports are void.
    var restartedFromScratch: Bool { get set }
    /// Epoch lines since the last call: (epoch, val_loss, mAP).
    func newReports() -> [EpochLine]
    /// Its exit status once it has ended.
    func poll() -> Int32?
    func interrupt()
    /// Why it failed, for the study's record.
    func failureReason(status: Int32) -> String
}

/// Where trials are started: this process's children, or the worker ranks of an mpirun job.
protocol TrialPool: AnyObject {
    /// Trials that can run at once.
    var capacity: Int { get }
    /// Starts a trial; `continuing`: from its resume point where it has one (a study resumed).
    func start(_ trial: TrialRecord, continuing: Bool) throws -> TrialHandle
    /// Delivers what arrived for the trials (messages from other ranks); nothing for local trials.
    func pump() throws
}

/// Trials as children of this process.
final class LocalPool: TrialPool {
    let launcher: TrialLauncher
    let capacity: Int

    init(launcher: TrialLauncher, capacity: Int) {
        self.launcher = launcher
        self.capacity = capacity
    }

    func start(_ trial: TrialRecord, continuing: Bool) throws -> TrialHandle {
        guard continuing else { return try launcher.start(trial) }
        let point = launcher.resumePoint(of: trial.number)
        if FileManager.default.fileExists(atPath: point) { return try launcher.start(trial, resume: point) }
        try? FileManager.default.removeItem(atPath: launcher.metricsPath(of: trial.number))
        var fresh = trial
        fresh.epoch = 0
        let handle = try launcher.start(fresh)
        handle.restartedFromScratch = true
        return handle
    }

    func pump() throws {}
}

/// A trial whose `train` is a child of this process, and how far its metrics file has been read.
final class LocalTrial: TrialHandle {
    let number: Int
    let process: TrialProcess
    let metricsPath: String
    let launcher: TrialLauncher
    private var offset: UInt64 = 0
    private var partial = ""
    /// Reports the study has already (a continued trial re-reading its file).
    var skipReportsUpTo = 0
    var pruned = false
    var restartedFromScratch = false

    init(number: Int, process: TrialProcess, metricsPath: String, launcher: TrialLauncher) {
        self.number = number
        self.process = process
        self.metricsPath = metricsPath
        self.launcher = launcher
    }

    func poll() -> Int32? { process.poll() }
    func interrupt() { process.interrupt() }
    func failureReason(status: Int32) -> String { launcher.failureReason(of: number, status: status) }

    func newReports() -> [EpochLine] {
        guard let handle = FileHandle(forReadingAtPath: metricsPath) else { return [] }
        defer { try? handle.close() }
        handle.seek(toFileOffset: offset)
        let data = handle.readDataToEndOfFile()
        offset += UInt64(data.count)
        partial += String(decoding: data, as: UTF8.self)
        var reports: [(Int, Double?, Double?)] = []
        while let newline = partial.firstIndex(of: "\n") {
            let line = String(partial[..<newline])
            partial = String(partial[partial.index(after: newline)...])
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  let epoch = (object["epoch"] as? NSNumber)?.intValue, epoch > skipReportsUpTo else { continue }
            skipReportsUpTo = epoch
            reports.append((epoch, (object["val_loss"] as? NSNumber)?.doubleValue, (object["mAP"] as? NSNumber)?.doubleValue))
        }
        return reports
    }
}
