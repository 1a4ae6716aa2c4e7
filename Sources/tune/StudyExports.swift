import Foundation
import Tuning
import Vision
import YOLO

/// The files a study leaves beside its database, rewritten whenever a trial ends:
/// `tune_results.csv` (a row a trial), `best_config.swift-config` (the base parameter file with
/// the best values filled in, runnable as `train --config`), `best_config.yaml` (FastReID's name:
/// the best values and their metric) and the pictures.
struct StudyExports {
    let settings: StudySettings
    let space: SearchSpace
    var order: [String] { space.names }
    let folder: String

    var csvPath: String { folder + "/tune_results.csv" }
    var bestConfigPath: String { folder + "/best_config.swift-config" }
    var bestYAMLPath: String { folder + "/best_config.yaml" }

    func write(_ trials: [TrialRecord]) throws {
        try writeAtomically(Data(csv(trials).utf8), to: csvPath)
        if let best = LiveTable.best(trials, settings.metric) {
            try writeAtomically(Data(try bestConfig(best).utf8), to: bestConfigPath)
            try writeAtomically(Data(yaml(best, of: trials).utf8), to: bestYAMLPath)
        }
        try StudyPictures(settings: settings, space: space, folder: folder).draw(trials)
    }

    func csv(_ trials: [TrialRecord]) -> String {
        func field(_ s: String) -> String { s.contains(where: { ",\"\n".contains($0) }) ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s }
        // "value": the study's metric at the trial's last epoch (as Optuna's trials table names it).
        var lines = [(["trial", "state", "epochs", "value"] + order + ["val_loss", "mAP", "seconds", "note", "error"]).joined(separator: ",")]
        for t in trials {
            let last = t.reports.last
            let seconds = t.started.flatMap { s in t.finished.map { String(format: "%.1f", $0 - s) } } ?? ""
            let values = order.map { t.values[$0].map { v -> String in if case .text(let s) = v { return s }; return v.description } ?? "" }
            let row = ["\(t.number)", t.state.rawValue, "\(t.epoch)", t.value.map { "\($0)" } ?? ""] + values
                + [last?.valLoss.map { "\($0)" } ?? "", last?.map.map { "\($0)" } ?? "", seconds, t.note ?? "", t.error ?? ""]
            lines.append(row.map(field).joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The base file, each searched key's line given the best value (its comment kept), keys the
    /// file does not have appended, and the study's own settings (the budget, its --cfg-options);
    /// checked by loading it as `train` would.
    func bestConfig(_ best: TrialRecord) throws -> String {
        var replacements: [(String, String)] = settings.cfgOptions.compactMap(Self.assignment)
            + ["UnFreeze_Epoch = \(settings.maxEpochs)"].compactMap(Self.assignment)
        replacements += order.compactMap { key in best.values[key].map { (key, $0.description) } }
        var lines = settings.configText.components(separatedBy: "\n")
        var placed = Set<String>()
        for (i, line) in lines.enumerated() {
            guard let (key, old) = Self.assignment(line), let value = replacements.last(where: { $0.0 == key })?.1 else { continue }
            placed.insert(key)
            if old == value { continue }
            let indent = String(line.prefix { $0 == " " || $0 == "\t" })
            var code = "\(indent)\(key) = \(value)"
            if let comment = Self.comment(of: line) {
                // The comment stays in its column when the new value leaves room.
                let column = line.count - comment.count
                code += String(repeating: " ", count: max(2, column - code.count)) + comment
            }
            lines[i] = code
        }
        let extra = replacements.filter { !placed.contains($0.0) }
        var seen = Set<String>()
        let appended = extra.reversed().filter { seen.insert($0.0).inserted }.reversed().map { "\($0.0) = \($0.1)" }
        let header = ["# Written by tune from \(settings.configPath): the best trial (\(best.number)) of the study in \(folder),",
                      "# \(settings.metric.title) \(settings.metric.format(best.value)) after \(best.epoch) epochs (\(settings.algorithm.rawValue)).",
                      "# Searched: " + order.joined(separator: ", ") + ". Train with: train --config \(bestConfigPath)", ""]
        var text = (header + lines).joined(separator: "\n")
        if !appended.isEmpty { text += (text.hasSuffix("\n") ? "" : "\n") + "\n# Set by the study\n" + appended.joined(separator: "\n") + "\n" }
        do { _ = try TrainConfig.load(text: text, source: bestConfigPath) } catch {
            throw TuneError("the best configuration does not load as a parameter file (\(error)); the values are in \(csvPath)")
        }
        return text
    }

    func yaml(_ best: TrialRecord, of trials: [TrialRecord]) -> String {
        func scalar(_ v: ParameterValue) -> String {
            switch v {
            case .number(let x): return x == x.rounded() && abs(x) < 1e15 ? String(Int(x)) : "\(x)"
            case .text(let s): return "'" + s.replacingOccurrences(of: "'", with: "''") + "'"
            case .flag(let b): return b ? "true" : "false"
            }
        }
        var lines = ["# The best trial of the tune study in \(folder)",
                     "study:", "  algorithm: \(settings.algorithm.rawValue)", "  metric: \(settings.metric.rawValue)",
                     "  direction: \(settings.metric.direction.rawValue)", "  trials: \(trials.count)",
                     "  complete: \(trials.filter { $0.state == .complete }.count)",
                     "  pruned: \(trials.filter { $0.state == .pruned }.count)",
                     "  failed: \(trials.filter { $0.state == .failed }.count)",
                     "  max_epochs: \(settings.maxEpochs)",
                     "best:", "  trial: \(best.number)", "  epochs: \(best.epoch)",
                     "  \(settings.metric.rawValue): \(best.value.map { "\($0)" } ?? "null")"]
        if let last = best.reports.last {
            if let v = last.valLoss { lines.append("  val_loss: \(v)") }
            if let m = last.map { lines.append("  mAP: \(m)") }
        }
        lines.append("  params:")
        lines += order.compactMap { key in best.values[key].map { "    \(key): \(scalar($0))" } }
        lines.append("  config: \(bestConfigPath)")
        return lines.joined(separator: "\n") + "\n"
    }

    /// `key = value` of a parameter-file line (nil for comments and blank lines).
    static func assignment(_ line: String) -> (String, String)? {
        let code = (comment(of: line).map { String(line.dropLast($0.count)) } ?? line).trimmingCharacters(in: .whitespaces)
        guard let eq = code.firstIndex(of: "=") else { return nil }
        let key = code[..<eq].trimmingCharacters(in: .whitespaces)
        guard !key.isEmpty, key.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else { return nil }
        return (key, code[code.index(after: eq)...].trimmingCharacters(in: .whitespaces))
    }

    /// The `# ...` end of a line, outside quotes.
    static func comment(of line: String) -> String? {
        ParameterFileSyntax.commentStart(in: line).map { String(line[$0...]) }
    }
}
