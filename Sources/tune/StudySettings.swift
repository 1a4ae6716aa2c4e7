import ArgumentParser
import Foundation
import Tuning

/// How trials are proposed and stopped.
enum Algorithm: String, Codable, CaseIterable, ExpressibleByArgument {
    /// Independent draws, every trial trained to the end.
    case random
    /// TPE proposals from the finished trials, every trial trained to the end.
    case tpe
    /// Random proposals, stopped at ASHA's rungs.
    case asha
    /// Random proposals, stopped by Hyperband's brackets.
    case hyperband
    /// BOHB: TPE on the largest budget with enough reports, stopped by Hyperband.
    case bohb
    /// Population Based Training: the population trains in intervals; the worst copy the best and perturb.
    case pbt
}

/// The metric a study optimises, as the trials report it every epoch.
enum Metric: String, Codable, CaseIterable, ExpressibleByArgument {
    case map
    case val_loss

    var direction: Direction { self == .map ? .maximize : .minimize }

    /// The value of one report, in the study's units (mAP as a fraction).
    func value(valLoss: Double?, map: Double?) -> Double? { self == .map ? map : valLoss }

    func format(_ v: Double?) -> String {
        guard let v, v.isFinite else { return "-" }
        return self == .map ? String(format: "%.2f%%", v * 100) : String(format: "%.4f", v)
    }

    var title: String { self == .map ? "validation mAP@0.5" : "validation loss" }
}

/// Everything that defines a study, kept in its database so `tune --resume` needs only the folder.
struct StudySettings: Codable, Equatable {
    /// The base parameter file (absolute) and its text when the study began.
    var configPath: String
    var configText: String
    var spacePath: String
    var spaceText: String
    var algorithm: Algorithm
    var metric: Metric
    var trials: Int
    var maxEpochs: Int
    var minEpochs: Int
    var reductionFactor: Int
    var pbtInterval: Int
    /// TPE's random trials before the model is used (Optuna's n_startup_trials).
    var startupTrials: Int
    var parallel: Int
    var seed: UInt64
    /// --cfg-options given to every trial.
    var cfgOptions: [String]
    /// The folder the trials run in (their relative paths: annotation lists, model_data/).
    var workingDirectory: String

    /// The keys tune sets itself in every trial: the budget, a metric every epoch, and only the
    /// newest numbered checkpoint kept (best, last and the resume point stay), so a study of many
    /// trials does not fill the disk.
    var budgetOverrides: [String] {
        ["UnFreeze_Epoch = \(maxEpochs)", "keep_checkpoints = 1"] + (metric == .map ? ["eval_period = 1"] : [])
    }

    static let databaseKey = "settings"

    func encoded() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }

    static func decode(_ text: String, from path: String) throws -> StudySettings {
        do { return try JSONDecoder().decode(StudySettings.self, from: Data(text.utf8)) } catch {
            throw TuneError("\(path): the study's settings cannot be read: \(error)")
        }
    }
}
