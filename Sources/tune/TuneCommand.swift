import ArgumentParser
import Foundation
import Distributed
import Tuning
import YOLO

@main
struct TuneCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tune",
        abstract: "Hyperparameter search: train runs with values from a search space, the best configuration written out.",
        discussion: """
            The search space names keys of the parameter file with distributions, one a line:
              Init_lr = loguniform(1e-4, 1e-2)
              mosaic_prob = uniform(0, 1)
              weight_decay = uniform(0, 1e-3, step=1e-4)
              Freeze_Epoch = randint(5, 15)
              Unfreeze_batch_size = choice([8, 16, 32])
              optimizer_type = choice(['sgd', 'adam'])
            Each trial is a `train` run (a child process in <study>/trial_NNNN/ with its own logs and weights) with the base \
            file, its values and UnFreeze_Epoch = --max-epochs. Algorithms: random, tpe (Optuna's TPE), asha and hyperband \
            (random proposals, trials stopped at rungs of min-epochs x reduction-factor^k), bohb (TPE proposals under \
            Hyperband), pbt (a population trained in intervals; the worst copy the best's state and perturb its values).

            The study folder holds study.db (SQLite: every trial's values, state, per-epoch metrics), tune_results.csv, \
            best_config.swift-config (the base file with the best values: train --config it), best_config.yaml, and the \
            pictures metric_per_trial.png, metric_vs_<key>.png, learning_curves.png. Ctrl-C (or a crash) stops the study; \
            tune --resume <study> continues it without losing or repeating a finished trial.

            Several machines: mpirun -np N tune ... (rank 0 runs the study, ranks 1..N-1 run the trials, --parallel each).
            """)

    @Option(help: "The base parameter file every trial starts from.") var config = "train.swift-config"
    @Option(help: ArgumentHelp("The search-space file.", valueName: "file")) var space: String?
    @Option(help: "Trials to run (PBT: the population).") var trials = 20
    @Option(help: "random, tpe, asha, hyperband, bohb or pbt.") var algo: Algorithm = .tpe
    @Option(help: "map (maximised; eval_flag must be True) or val_loss (minimised).") var metric: Metric = .map
    @Option(name: .customLong("max-epochs"), help: ArgumentHelp("Epochs of a full trial (default: UnFreeze_Epoch of the base file).", valueName: "N"))
    var maxEpochs: Int?
    @Option(name: .customLong("min-epochs"), help: ArgumentHelp("ASHA/Hyperband/BOHB: the first rung.", valueName: "N"))
    var minEpochs = 1
    @Option(name: .customLong("reduction-factor"), help: ArgumentHelp("ASHA/Hyperband/BOHB: eta, 1/eta of the trials go on at each rung.", valueName: "eta"))
    var reductionFactor = 3
    @Option(name: .customLong("pbt-interval"), help: ArgumentHelp("PBT: epochs between exploit/explore steps (default: max-epochs / 4).", valueName: "N"))
    var pbtInterval: Int?
    @Option(name: .customLong("startup-trials"), help: ArgumentHelp("TPE: random trials before the model (default: 10, at most half the trials).", valueName: "N"))
    var startupTrials: Int?
    @Option(help: "Trials at once (each gets an even share of the CPU cores).") var parallel = 1
    @Option(help: "Seed of the proposals (the trials keep the file's seed).") var seed: UInt64 = 0
    @Option(name: .customLong("study-dir"), help: ArgumentHelp("The study folder (default: <save_dir>/tune_<date>).", valueName: "dir"))
    var studyDir: String?
    @Option(name: .customLong("cfg-options"), parsing: .upToNextOption, help: "Overrides for every trial, as train's.")
    var cfgOptions: [String] = []
    @Option(help: ArgumentHelp("Continue the study in this folder (its settings are in its study.db).", valueName: "study"))
    var resume: String?

    static func main() {
        setvbuf(stdout, nil, _IOLBF, 0)
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            exit(withError: error)
        }
    }

    func run() throws {
        do {
            try tune()
        } catch let error as TuneError {
            FileHandle.standardError.write(Data("tune: error: \(error)\n".utf8))
            Foundation.exit(1)
        } catch let error as YOLOError {
            FileHandle.standardError.write(Data("tune: error: \(error)\n".utf8))
            Foundation.exit(1)
        } catch let error as SpaceFile.Failure {
            FileHandle.standardError.write(Data("tune: error: \(error)\n".utf8))
            Foundation.exit(1)
        } catch let error as StudyDatabase.Failure {
            FileHandle.standardError.write(Data("tune: error: \(error)\n".utf8))
            Foundation.exit(1)
        }
    }

    private func tune() throws {
        guard let launch = LaunchEnvironment.detect(), launch.worldSize > 1 else { return try study(world: nil) }
        guard let world = try World.join(timeout: 600) as? MPICommunicator else {
            throw TuneError("started by an MPI launcher, but no MPI job could be joined")
        }
        do {
            if world.rank == 0 { try study(world: world) } else { try work(world) }
        } catch {
            try? world.finish()
            throw error
        }
        try world.finish()
    }

    /// The exports during a study: a failure is said and the study goes on (the database has everything).
    static func write(_ exports: StudyExports, _ trials: [TrialRecord], _ table: LiveTable) {
        do { try exports.write(trials) } catch { table.note("Warning: the study's files were not rewritten: \(error)") }
    }

    static let pbtUnderMPI = "--algo pbt under mpirun: PBT members copy each other's resume points, which other hosts cannot "
        + "reach; run PBT on one machine (--parallel K)"

    /// Rank 0 (or the only process): prepares the study, runs it, writes the exports.
    private func study(world: MPICommunicator?) throws {
        let settings: StudySettings, folder: String, database: StudyDatabase, space: SearchSpace, trainBinary: String
        do {
            if world != nil && resume == nil && algo == .pbt { throw TuneError(Self.pbtUnderMPI) }
            (settings, folder, database, space) = try resume.map(reopen) ?? create()
            if world != nil && settings.algorithm == .pbt { throw TuneError(Self.pbtUnderMPI) }
            trainBinary = try Self.trainBinary()
        } catch {
            if let world { _ = try? world.broadcast("") }   // the workers end too
            throw error
        }
        let remote = world.map { RemotePool(world: $0, perRank: settings.parallel) }
        if let world {
            _ = try world.broadcast(try settings.encoded() + "\n" + folder + "\n" + trainBinary)
            _ = try world.allGather(world.host)
        }
        defer { remote?.shutdown() }
        let launcher = TrialLauncher(settings: settings, studyFolder: folder, trainBinary: trainBinary, order: space.names,
                                     threadsPerTrial: nil)
        let pool: TrialPool = remote ?? LocalPool(launcher: launcher, capacity: settings.parallel)
        let table = LiveTable(settings: settings, order: space.names)
        let exports = StudyExports(settings: settings, space: space, folder: folder)
        print("Study \(folder): \(settings.algorithm.rawValue), \(settings.trials) trials of at most \(settings.maxEpochs) epochs, "
              + (world.map { "\(settings.parallel) at once on each of ranks 1-\($0.worldSize - 1)" } ?? "\(settings.parallel) at once")
              + ", \(settings.metric.title) (\(settings.metric.direction.rawValue)); searching " + space.names.joined(separator: ", "))
        Interruption.install()
        guard FileManager.default.changeCurrentDirectoryPath(settings.workingDirectory) else {
            throw TuneError("\(settings.workingDirectory): the study's trials run in this folder, which is not there any more")
        }
        let ending: StudyRunner.Ending
        let trials: () -> [TrialRecord]
        if settings.algorithm == .pbt {
            let runner = try PBTRunner(settings: settings, space: space, database: database, launcher: launcher, table: table)
            runner.trialEnded = { [unowned runner] in Self.write(exports, runner.trials, table) }
            ending = try runner.run()
            trials = { runner.trials }
        } else {
            let runner = try StudyRunner(settings: settings, space: space, database: database, pool: pool, table: table)
            runner.trialEnded = { [unowned runner] in Self.write(exports, runner.trials, table) }
            ending = try runner.run()
            trials = { runner.trials }
        }
        try exports.write(trials())
        summarize(trials(), settings: settings, folder: folder, exports: exports, table: table, interrupted: ending == .interrupted)
        if ending == .interrupted {
            remote?.shutdown()
            if let world { try? world.finish() }
            Foundation.exit(130)
        }
    }

    /// Ranks 1..N-1 of `mpirun -np N tune`: the study's settings from rank 0, then its trials.
    private func work(_ world: MPICommunicator) throws {
        let parts = try world.broadcast("").components(separatedBy: "\n")
        guard parts.count >= 3 else {
            try world.finish()
            Foundation.exit(1)   // rank 0 refused the study and said why
        }
        let hosts = try world.allGather(world.host)
        let settings = try StudySettings.decode(parts.dropLast(2).joined(separator: "\n"), from: "rank 0's message")
        let folder = parts[parts.count - 2], trainBinary = parts[parts.count - 1]
        // The host's cores shared by the trials of every worker rank on it.
        let workersHere = hosts.enumerated().filter { $0.offset > 0 && $0.element == world.host }.count
        let threads = max(1, ProcessInfo.processInfo.activeProcessorCount / max(1, settings.parallel * workersHere))
        Interruption.install()
        guard FileManager.default.changeCurrentDirectoryPath(settings.workingDirectory) else {
            throw TuneError("rank \(world.rank) on \(world.host): \(settings.workingDirectory) (where the trials run) is not on this host")
        }
        guard FileManager.default.isExecutableFile(atPath: trainBinary) else {
            throw TuneError("rank \(world.rank) on \(world.host): no train executable at \(trainBinary)")
        }
        var launcher = TrialLauncher(settings: settings, studyFolder: folder, trainBinary: trainBinary, order: [],
                                     threadsPerTrial: threads)
        launcher.origin = "rank \(world.rank) on \(world.host)"
        try TrialWorker(world: world, pool: LocalPool(launcher: launcher, capacity: settings.parallel)).run()
    }

    private func summarize(_ trials: [TrialRecord], settings: StudySettings, folder: String, exports: StudyExports,
                           table: LiveTable, interrupted: Bool) {
        print("")
        print(table.table(trials))
        print("")
        if interrupted {
            print("Study interrupted; continue it with: tune --resume \(folder)")
        }
        guard let best = LiveTable.best(trials, settings.metric) else {
            print("No trial has completed \(settings.maxEpochs) epochs yet; see \(exports.csvPath)")
            return
        }
        print("Best: trial \(best.number), \(settings.metric.title) \(settings.metric.format(best.value)) after \(best.epoch) epochs: "
              + best.valueLines(order: exports.order).joined(separator: ", "))
        print("Written: \(exports.csvPath), \(exports.bestYAMLPath), pictures in \(folder)")
        print("Train with the best configuration: \(Self.trainCommand) --config \(exports.bestConfigPath)")
    }

    /// A new study: its settings from the options, its folder and database.
    /// A study ready to run: its settings, folder, database and checked space.
    typealias PreparedStudy = (settings: StudySettings, folder: String, database: StudyDatabase, space: SearchSpace)

    private func create() throws -> PreparedStudy {
        guard let space else { throw TuneError("give --space FILE (the search space), or --resume STUDY to continue a study") }
        guard let spaceText = try? String(contentsOfFile: space, encoding: .utf8) else { throw TuneError("\(space): cannot read the search-space file") }
        guard let configText = try? String(contentsOfFile: config, encoding: .utf8) else { throw TuneError("\(config): cannot read the parameter file") }
        let base = try TrainConfig.load(text: configText, source: config, overrides: cfgOptions)
        let epochs = maxEpochs ?? base.unfreezeEpoch
        guard trials >= 1 else { throw TuneError("--trials \(trials): give at least 1") }
        guard epochs >= 1 else { throw TuneError("--max-epochs \(epochs): give at least 1") }
        guard parallel >= 1 else { throw TuneError("--parallel \(parallel): give at least 1") }
        guard minEpochs >= 1 && minEpochs <= epochs else { throw TuneError("--min-epochs \(minEpochs): give 1 to --max-epochs (\(epochs))") }
        guard reductionFactor >= 2 else { throw TuneError("--reduction-factor \(reductionFactor): give at least 2") }
        let interval = pbtInterval ?? max(1, epochs / 4)
        guard interval >= 1 && interval <= epochs else { throw TuneError("--pbt-interval \(interval): give 1 to --max-epochs (\(epochs))") }
        if algo == .pbt && trials < 2 { throw TuneError("--algo pbt --trials \(trials): a population needs at least 2 members (4 or more to be useful)") }
        let cwd = FileManager.default.currentDirectoryPath
        func absolute(_ p: String) -> String { p.hasPrefix("/") ? p : (cwd as NSString).appendingPathComponent(p) }
        let settings = StudySettings(configPath: absolute(config), configText: configText, spacePath: space, spaceText: spaceText,
                                     algorithm: algo, metric: metric, trials: trials, maxEpochs: epochs, minEpochs: minEpochs,
                                     reductionFactor: reductionFactor, pbtInterval: interval,
                                     startupTrials: startupTrials ?? min(10, max(2, trials / 2)), parallel: parallel, seed: seed,
                                     cfgOptions: cfgOptions, workingDirectory: cwd)
        // Everything is checked before the study folder exists.
        let checked = try SpaceCheck.space(text: spaceText, file: space, settings: settings)
        try SpaceCheck.metric(settings: settings, space: checked)
        let folder = absolute(studyDir ?? (base.saveDir as NSString).appendingPathComponent("tune_" + TrainingLog.timestamp()))
        if FileManager.default.fileExists(atPath: folder + "/study.db") {
            throw TuneError("\(folder) holds a study already: continue it with --resume \(folder), or give another --study-dir")
        }
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let database = try StudyDatabase(path: folder + "/study.db")
        try database.setSetting(StudySettings.databaseKey, try settings.encoded())
        return (settings, folder, database, checked)
    }

    /// A study to continue: its settings from its database; --trials and --parallel may be raised.
    private func reopen(_ study: String) throws -> PreparedStudy {
        let folder = study.hasPrefix("/") ? study : (FileManager.default.currentDirectoryPath as NSString).appendingPathComponent(study)
        let path = folder + "/study.db"
        guard FileManager.default.fileExists(atPath: path) else { throw TuneError("--resume \(study): no study.db in that folder") }
        let database = try StudyDatabase(path: path)
        guard let text = try database.setting(StudySettings.databaseKey) else { throw TuneError("\(path): the study has no settings") }
        var settings = try StudySettings.decode(text, from: path)
        let given = Set(CommandLine.arguments)
        if given.contains("--trials") { settings.trials = trials }
        if given.contains("--parallel") { settings.parallel = parallel }
        for option in ["--algo", "--metric", "--max-epochs", "--space", "--config", "--cfg-options", "--seed"] where given.contains(option) {
            print("Note: \(option) is ignored with --resume: the study keeps the settings it began with (trials and parallel may change)")
        }
        // The parameter file's rules may have changed since the study began: its space is checked again.
        let space = try SpaceCheck.space(text: settings.spaceText, file: settings.spacePath, settings: settings)
        try SpaceCheck.metric(settings: settings, space: space)
        try database.setSetting(StudySettings.databaseKey, try settings.encoded())
        return (settings, folder, database, space)
    }

    /// `train` beside this executable.
    static func trainBinary() throws -> String {
        let command = trainCommand
        // Absolute: the trials run in the study's folder of origin, which a resumed study may not be called from.
        let path = ((command.hasPrefix("/") ? command : FileManager.default.currentDirectoryPath + "/" + command) as NSString).standardizingPath
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw TuneError("\(path): no train executable beside tune (build both: swift build -c release)")
        }
        return path
    }

    /// As the user called tune (`.build/release/tune` gives `.build/release/train`).
    static var trainCommand: String {
        let called = CommandLine.arguments[0]
        let me = called.contains("/") ? called : Bundle.main.executablePath ?? called
        return ((me as NSString).deletingLastPathComponent as NSString).appendingPathComponent("train")
    }
}
