import Foundation
import Tuning

/// One epoch line as a trial's `train` wrote it (or a worker rank sent it on).
typealias EpochLine = (epoch: Int, valLoss: Double?, map: Double?)

/// What both study loops (StudyRunner, PBTRunner) do with a trial's epoch lines: the report in
/// the database, then in the trial's record.
struct StudyLedger {
    let settings: StudySettings
    let database: StudyDatabase

    /// The report added; nil when the line lacks the study's metric (the line is then skipped).
    func add(_ line: EpochLine, to trial: inout TrialRecord) throws -> TrialReport? {
        guard let value = settings.metric.value(valLoss: line.valLoss, map: line.map) else { return nil }
        let report = TrialReport(epoch: line.epoch, value: value, valLoss: line.valLoss, map: line.map)
        try database.addReport(trial: trial.number, report)
        trial.reports.append(report)
        trial.epoch = line.epoch
        trial.value = value
        return report
    }
}

extension StudySettings {
    /// The seed of trial `number`'s proposal (and of a PBT member's first values).
    func proposalSeed(_ number: Int) -> UInt64 { seed &+ UInt64(number) &* 0x9E37_79B9_7F4A_7C15 }
}
