import Foundation
import Tuning
import YOLO

/// The checks made before any trial runs: every key of the space is a key of the parameter file,
/// every value its distribution can give is one the key accepts (tried through the parameter
/// file's own validation, with the study's fixed overrides), and the metric is one the trials
/// produce.
enum SpaceCheck {
    /// Keys the study sets itself.
    static let reserved: [String: String] = [
        "UnFreeze_Epoch": "the budget of a full trial (give --max-epochs)",
        "Init_Epoch": "every trial starts at epoch 0",
        "save_dir": "each trial writes to its own folder in the study",
        "out_dir": "each trial writes to its own folder in the study",
        "eval_period": "with --metric map every epoch is evaluated",
        "keep_checkpoints": "each trial keeps its newest numbered checkpoint (and best, last, resume point)",
    ]

    static func space(text: String, file: String, settings: StudySettings) throws -> SearchSpace {
        // Each key's values are tried with the other searched keys at a value each accepts on its
        // own (the base file's value of a searched key does not count: no trial uses it).
        let unchecked = try SpaceFile.parse(text, file: file)
        let base = settings.cfgOptions + settings.budgetOverrides
        let accepted = acceptedValues(unchecked.parameters.filter { TrainConfig.isKey($0.name) && reserved[$0.name] == nil }, settings)
        func refusal(_ overrides: [String]) -> Error? {
            do { _ = try TrainConfig.load(text: settings.configText, source: settings.configPath, overrides: overrides); return nil } catch {
                return error
            }
        }
        if let error = refusal(base + unchecked.names.compactMap { accepted[$0] }) {
            throw TuneError("the trials' configuration is refused before any value is tried: \(error) (every trial trains "
                            + "\(settings.configPath) with UnFreeze_Epoch = --max-epochs = \(settings.maxEpochs)"
                            + (settings.cfgOptions.isEmpty ? "" : " and the --cfg-options " + settings.cfgOptions.joined(separator: ", "))
                            + "; change the option, the file or the space)")
        }
        let space = try SpaceFile.parse(text, file: file) { key, distribution in
            if let why = reserved[key] { return "\(key) cannot be searched: \(why)" }
            if settings.algorithm == .pbt, ResumedConfiguration.fixedKeys.contains(key) {
                return "\(key) cannot be searched with --algo pbt: PBT continues trials from resume points, and a resumed run "
                    + "cannot change \(key)"
            }
            let others = unchecked.names.filter { $0 != key }.compactMap { accepted[$0] }
            for value in samples(distribution) {
                do {
                    _ = try TrainConfig.load(text: settings.configText, source: settings.configPath,
                                             overrides: base + others + ["\(key) = \(value)"])
                } catch {
                    return "\(key) = \(value) (a value of this distribution) is refused: \(reason(error))"
                }
            }
            return nil
        }
        return space
    }

    /// For each key in turn, the first of its sampled values the parameter file accepts with the
    /// study's overrides and the keys before it at theirs.
    static func acceptedValues(_ parameters: [(name: String, distribution: Distribution)], _ settings: StudySettings) -> [String: String] {
        var accepted: [String: String] = [:]
        for (name, distribution) in parameters {
            let chosen = samples(distribution).map { "\(name) = \($0)" }.first { line in
                (try? TrainConfig.load(text: settings.configText, source: settings.configPath,
                                       overrides: settings.cfgOptions + settings.budgetOverrides + accepted.values.sorted() + [line])) != nil
            }
            accepted[name] = chosen
        }
        return accepted
    }

    /// The values tried: both ends, a point inside (a fraction for integer keys given uniform), every choice.
    static func samples(_ d: Distribution) -> [ParameterValue] {
        if case .choice(let options) = d { return options }
        return [0, 0.37, 1].map { d.value(atUnit: $0) }
    }

    /// The parameter file's message without the location of the override tune made up.
    static func reason(_ error: Error) -> String {
        let text = "\(error)"
        if text.hasPrefix("--cfg-options '"), let end = text.range(of: "': ") { return String(text[end.upperBound...]) }
        return text
    }

    /// `--metric map` needs the trials to measure mAP.
    static func metric(settings: StudySettings, space: SearchSpace) throws {
        let config = try TrainConfig.load(text: settings.configText, source: settings.configPath,
                                          overrides: settings.cfgOptions + settings.budgetOverrides
                                            + acceptedValues(space.parameters, settings).values.sorted())
        guard settings.metric == .map else { return }
        if !config.evalFlag {
            throw TuneError("--metric map: the trials measure no mAP (eval_flag = False in \(settings.configPath)"
                            + (settings.cfgOptions.isEmpty ? "" : " with the --cfg-options given") + "); use --metric val_loss, "
                            + "or set eval_flag = True")
        }
        if space.names.contains("eval_flag") {
            throw TuneError("--metric map: eval_flag is searched, and trials without it measure no mAP; remove it from the space")
        }
    }
}
