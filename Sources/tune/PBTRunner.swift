import Foundation
import Tuning
import YOLO

/// Population Based Training over `train` runs: the population (`--trials` members) trains in
/// intervals of `--pbt-interval` epochs (each segment a `train --stop-after-epoch` run that later
/// continues with `train --resume`); after each interval the bottom quantile takes a copy of a top
/// member's resume point (weights, optimizer state, epoch) and that member's values perturbed.
/// Durable like any study: the generation and every pending copy are in the database.
final class PBTRunner {
    let settings: StudySettings
    let space: SearchSpace
    let database: StudyDatabase
    let launcher: TrialLauncher
    let table: LiveTable
    private(set) var trials: [TrialRecord]
    private var running: [LocalTrial] = []
    private var forwardedInterrupt = false
    let pbt = PopulationBasedTraining()
    var trialEnded: (() -> Void)?

    init(settings: StudySettings, space: SearchSpace, database: StudyDatabase, launcher: TrialLauncher, table: LiveTable) throws {
        self.settings = settings
        self.space = space
        self.database = database
        self.launcher = launcher
        self.table = table
        trials = try database.trials()
    }

    var order: [String] { space.names }
    var ledger: StudyLedger { StudyLedger(settings: settings, database: database) }

    /// The epoch the current generation trains to.
    func target(generation: Int) -> Int { min(settings.pbtInterval * (generation + 1), settings.maxEpochs) }

    func run() throws -> StudyRunner.Ending {
        try createPopulation()
        var generation = Int(try database.setting("pbt_generation") ?? "0") ?? 0
        while true {
            if Interruption.requested && !forwardedInterrupt {
                forwardedInterrupt = true
                table.note("Interrupted: asking \(running.count) running member(s) to save and stop; tune --resume continues the study")
                running.forEach { $0.process.interrupt() }
            }
            try follow(generation: generation)
            let goal = target(generation: generation)
            if !Interruption.requested {
                for n in trials.indices where running.count < settings.parallel && trials[n].state == .running
                    && trials[n].epoch < goal && !running.contains(where: { $0.number == n }) {
                    try startSegment(n, to: goal)
                }
            }
            table.refresh(trials: trials, running: Set(running.map(\.number)))
            if running.isEmpty {
                if Interruption.requested { break }
                let alive = trials.filter { $0.state == .running }
                if alive.isEmpty { break }
                if alive.allSatisfy({ $0.epoch >= goal }) {
                    if goal >= settings.maxEpochs { try completeAll(); break }
                    try exploitAndExplore(after: goal, generation: generation)
                    generation += 1
                    try database.setSetting("pbt_generation", String(generation))
                    trialEnded?()   // the exports and pictures follow each generation
                }
            }
            usleep(200_000)
        }
        table.refresh(trials: trials, running: [], force: true)
        return Interruption.requested ? .interrupted : .finished
    }

    private func createPopulation() throws {
        while trials.count < settings.trials {
            var sampler = RandomSampler(seed: settings.proposalSeed(trials.count))
            var member = TrialRecord(number: trials.count, values: sampler.propose(space: space, history: []))
            member.started = Date().timeIntervalSince1970
            try database.insert(member, order: order)
            trials.append(member)
        }
    }

    /// A member trains to `goal`: from its copied state when exploit gave it one, else from its
    /// own resume point, else from the start.
    private func startSegment(_ n: Int, to goal: Int) throws {
        let pending = try database.setting("pbt_resume_\(n)").flatMap { $0.isEmpty ? nil : $0 }
        let own = launcher.resumePoint(of: n)
        let resume = pending ?? (trials[n].epoch > 0 && FileManager.default.fileExists(atPath: own) ? own : nil)
        running.append(try launcher.start(trials[n], resume: resume, stopAfter: goal < settings.maxEpochs ? goal : nil))
        table.note("Member \(n) trains epochs \(trials[n].epoch + 1)-\(goal)" + (resume.map { " from \($0)" } ?? ""))
    }

    private func follow(generation: Int) throws {
        for run in running {
            for r in run.newReports() { try record(r, trial: run.number) }
        }
        var still: [LocalTrial] = []
        for run in running {
            guard let status = run.process.poll() else { still.append(run); continue }
            for r in run.newReports() { try record(r, trial: run.number) }
            let n = run.number
            if status == 0 && trials[n].epoch >= target(generation: generation) {
                try database.setSetting("pbt_resume_\(n)", "")
            } else if Interruption.requested && status == 130 {
                table.note("Member \(n) saved at epoch \(trials[n].epoch); it continues on tune --resume")
            } else {
                trials[n].state = .failed
                trials[n].error = status == 0 ? "ended at epoch \(trials[n].epoch) before \(target(generation: generation)) without an "
                    + "error (see \(launcher.logPath(of: n)))" : launcher.failureReason(of: n, status: status)
                trials[n].finished = Date().timeIntervalSince1970
                try database.update(trials[n], order: order)
                table.note("Member \(n) failed: \(trials[n].error!)")
                trialEnded?()
            }
        }
        running = still
        let ended = trials.filter { $0.state == .failed }
        if ended.count == trials.count, !ended.isEmpty, trials.allSatisfy({ $0.reports.isEmpty }) {
            throw TuneError("every member failed; the first: trial \(ended[0].number): \(ended[0].error ?? "")")
        }
    }

    private func record(_ r: EpochLine, trial n: Int) throws {
        guard try ledger.add(r, to: &trials[n]) != nil else { return }
        try database.update(trials[n], order: order)
    }

    /// The bottom quantile copies the top: the donor's resume point into the member's folder
    /// (picked up by its next segment) and the donor's values perturbed.
    private func exploitAndExplore(after epoch: Int, generation: Int) throws {
        let alive = trials.indices.filter { trials[$0].state == .running }
        let objectives = alive.map { settings.metric.direction.objective(trials[$0].value ?? .nan) }
        var generator = SeededGenerator(seed: settings.seed &+ UInt64(generation + 1) &* 0xD1B5_4A32_D192_ED03)
        for (memberIndex, donorIndex) in pbt.exploit(objectives: objectives, generator: &generator) {
            let member = alive[memberIndex], donor = alive[donorIndex]
            let copy = launcher.folder(of: member) + "/pbt_epoch\(epoch)_from_trial\(donor).pth"
            try? FileManager.default.removeItem(atPath: copy)
            try FileManager.default.copyItem(atPath: launcher.resumePoint(of: donor), toPath: copy)
            let old = trials[member].valueLines(order: order).joined(separator: ", ")
            trials[member].values = pbt.explore(trials[donor].values, space: space, generator: &generator)
            let note = "epoch \(epoch): copied trial \(donor) (\(settings.metric.format(trials[donor].value)) against "
                + "\(settings.metric.format(trials[member].value))), perturbed"
            // Exploit is a pure function of the reports and the seed: a study stopped before it
            // recorded the next generation repeats it identically (the note is not repeated).
            if !(trials[member].note ?? "").contains(note) {
                trials[member].note = [trials[member].note, note].compactMap { $0 }.joined(separator: "; ")
            }
            try database.setSetting("pbt_resume_\(member)", copy)
            try database.update(trials[member], order: order)
            table.note("Member \(member) (\(old)) takes trial \(donor)'s state at epoch \(epoch): "
                       + trials[member].valueLines(order: order).joined(separator: ", "))
        }
    }

    private func completeAll() throws {
        for n in trials.indices where trials[n].state == .running {
            trials[n].state = .complete
            trials[n].finished = Date().timeIntervalSince1970
            try database.update(trials[n], order: order)
        }
        trialEnded?()
    }
}
