import Foundation
import Tuning
import YOLO

/// Runs a study: proposes trials, starts up to `parallel` of them as `train` children, follows
/// their epoch reports into the database and the scheduler, stops the ones the scheduler prunes,
/// records how each ends, and leaves the running ones resumable when interrupted.
final class StudyRunner {
    let settings: StudySettings
    let space: SearchSpace
    let database: StudyDatabase
    let pool: TrialPool
    let table: LiveTable
    private(set) var trials: [TrialRecord]
    private var scheduler: TrialScheduler?
    private var running: [TrialHandle] = []
    /// Trials to continue from where an interrupted study left them (before new ones start).
    private var toContinue: [Int]
    private var forwardedInterrupt = false
    /// Called whenever a trial ends (the exports are rewritten then).
    var trialEnded: (() -> Void)?

    enum Ending: Equatable { case finished, interrupted }

    init(settings: StudySettings, space: SearchSpace, database: StudyDatabase, pool: TrialPool, table: LiveTable) throws {
        self.settings = settings
        self.space = space
        self.database = database
        self.pool = pool
        self.table = table
        trials = try database.trials()
        switch settings.algorithm {
        case .asha:
            scheduler = ASHAScheduler(minResource: settings.minEpochs, maxResource: settings.maxEpochs,
                                      reductionFactor: settings.reductionFactor)
        case .hyperband, .bohb:
            scheduler = HyperbandScheduler(minResource: settings.minEpochs, maxResource: settings.maxEpochs,
                                           reductionFactor: settings.reductionFactor)
        case .random, .tpe, .pbt: scheduler = nil
        }
        // The scheduler sees again every report of the interrupted study, in the order they came.
        for (trial, report) in try database.reportsInOrder() {
            _ = scheduler?.report(trial: trial, epoch: report.epoch, objective: settings.metric.direction.objective(report.value))
        }
        toContinue = trials.filter { $0.state == .running }.map(\.number)
    }

    var order: [String] { space.names }
    var ledger: StudyLedger { StudyLedger(settings: settings, database: database) }

    // MARK: The loop

    func run() throws -> Ending {
        while true {
            if Interruption.requested && !forwardedInterrupt {
                forwardedInterrupt = true
                table.note("Interrupted: asking \(running.count) running trial(s) to save and stop; tune --resume continues the study")
                running.forEach { $0.interrupt() }
            }
            try pool.pump()
            try followReports()
            try reapEnded()
            if let failure = allFailed() { throw failure }
            if !Interruption.requested { try startTrials() }
            table.refresh(trials: trials, running: Set(running.map(\.number)))
            if running.isEmpty && (Interruption.requested || (toContinue.isEmpty && trials.count >= settings.trials)) { break }
            usleep(200_000)
        }
        table.refresh(trials: trials, running: [], force: true)
        return Interruption.requested ? .interrupted : .finished
    }

    private func startTrials() throws {
        while running.count < pool.capacity {
            if let number = toContinue.first {
                toContinue.removeFirst()
                try continueTrial(number)
            } else if trials.count < settings.trials {
                try startNewTrial()
            } else {
                return
            }
        }
    }

    private func startNewTrial() throws {
        var trial = TrialRecord(number: trials.count, values: propose(number: trials.count))
        trial.started = Date().timeIntervalSince1970
        try database.insert(trial, order: order)
        trials.append(trial)
        running.append(try pool.start(trial, continuing: false))
        table.note("Trial \(trial.number) started: " + trial.valueLines(order: order).joined(separator: ", "))
    }

    /// A trial the interrupted study left running: from its resume point when it has one, else from the start.
    private func continueTrial(_ number: Int) throws {
        running.append(try pool.start(trials[number], continuing: true))
        table.note("Trial \(number) continues (epoch \(trials[number].epoch) reported)")
    }

    private func followReports() throws {
        for run in running {
            try voidIfRestarted(run)
            for r in run.newReports() { try record(r, for: run) }
        }
    }

    /// A continued trial that found no resume point trains from epoch 0: its reports start over.
    private func voidIfRestarted(_ run: TrialHandle) throws {
        guard run.restartedFromScratch else { return }
        run.restartedFromScratch = false
        let n = run.number
        try database.dropReports(trial: n, after: 0)
        trials[n].reports = []
        trials[n].epoch = 0
        trials[n].value = nil
        try database.update(trials[n], order: order)
        table.note("Trial \(n) starts again from epoch 1 (no resume point where it continued)")
    }

    private func record(_ r: EpochLine, for run: TrialHandle) throws {
        let n = run.number
        guard let report = try ledger.add(r, to: &trials[n]) else { return }
        let value = report.value
        guard !run.pruned, scheduler?.report(trial: n, epoch: r.epoch, objective: settings.metric.direction.objective(value)) == .stop else {
            try database.update(trials[n], order: order)
            return
        }
        run.pruned = true
        trials[n].state = .pruned
        trials[n].note = "pruned at epoch \(r.epoch)"
        try database.update(trials[n], order: order)
        run.interrupt()
        table.note("Trial \(n) pruned at epoch \(r.epoch) (\(settings.metric.format(value)))")
    }

    private func reapEnded() throws {
        var still: [TrialHandle] = []
        for run in running {
            guard let status = run.poll() else { still.append(run); continue }
            try voidIfRestarted(run)
            for r in run.newReports() { try record(r, for: run) }
            try finish(run, status: status)
        }
        running = still
    }

    private func finish(_ run: TrialHandle, status: Int32) throws {
        let n = run.number
        if run.pruned {
            trials[n].finished = Date().timeIntervalSince1970
        } else if status == 0 && trials[n].epoch >= settings.maxEpochs {
            trials[n].state = .complete
            trials[n].finished = Date().timeIntervalSince1970
            table.note("Trial \(n) complete: \(settings.metric.format(trials[n].value)) after \(trials[n].epoch) epochs")
        } else if Interruption.requested && (status == 130 || status == 128 + SIGINT) {
            table.note("Trial \(n) saved at epoch \(trials[n].epoch); it continues on tune --resume")
            return
        } else {
            trials[n].state = .failed
            trials[n].error = status == 0 ? "ended after epoch \(trials[n].epoch) of \(settings.maxEpochs) without an error"
                + " (see its train.log)" : run.failureReason(status: status)
            trials[n].finished = Date().timeIntervalSince1970
            table.note("Trial \(n) failed: \(trials[n].error!)")
        }
        try database.update(trials[n], order: order)
        trialEnded?()
    }

    /// Every trial so far failing stops the study with the first error (the rest would fail alike).
    private func allFailed() -> TuneError? {
        let ended = trials.filter { $0.state != .running }
        let needed = min(3, settings.trials)
        guard ended.count >= needed, ended.allSatisfy({ $0.state == .failed }), trials.allSatisfy({ $0.reports.isEmpty }) else { return nil }
        running.forEach { $0.interrupt() }
        while running.contains(where: { $0.poll() == nil }) {
            try? pool.pump()
            usleep(50_000)
        }
        running = []
        return TuneError("every trial failed (\(ended.count) of \(ended.count)); the first: trial \(ended[0].number): \(ended[0].error ?? "")")
    }

    // MARK: Proposals

    /// The values of trial `number`: a pure function of the study's seed and its finished trials,
    /// so a resumed study proposes what an uninterrupted one would.
    func propose(number: Int) -> [String: ParameterValue] {
        let seed = settings.proposalSeed(number)
        switch settings.algorithm {
        case .random, .asha, .hyperband, .pbt:
            var sampler = RandomSampler(seed: seed)
            return sampler.propose(space: space, history: [])
        case .tpe:
            var sampler = TPESampler(seed: seed)
            sampler.startupTrials = settings.startupTrials
            let finished = trials.filter { $0.state == .complete && $0.value != nil }
                .map { Observation(values: $0.values, objective: settings.metric.direction.objective($0.value!)) }
            return sampler.propose(space: space, history: finished)
        case .bohb:
            var byBudget: [Int: [Observation]] = [:]
            for t in trials {
                for r in t.reports {
                    byBudget[r.epoch, default: []].append(Observation(values: t.values, objective: settings.metric.direction.objective(r.value)))
                }
            }
            return BOHBSampler(seed: settings.seed).propose(trial: number, space: space, observations: byBudget)
        }
    }
}
