import Foundation
import Tuning
import YOLO

/// What the user watches while a study runs: on a terminal, a table redrawn in place (trial,
/// values, epoch, metric, state, the best so far) under the lines of events; elsewhere (a log
/// file) the events and a progress line after every report, then the table at the end.
final class LiveTable {
    let settings: StudySettings
    let order: [String]
    let interactive: Bool
    private let began = Date()
    private var drawnLines = 0
    private var lastDraw = Date.distantPast
    private var lastProgress = ""
    /// The rows shown on a terminal (the newest, and the best when it is older).
    let visibleRows = 14

    init(settings: StudySettings, order: [String], interactive: Bool = isatty(fileno(stdout)) != 0) {
        self.settings = settings
        self.order = order
        self.interactive = interactive
    }

    /// An event line, kept above the table.
    func note(_ line: String) {
        clear()
        print(line)
        drawnLines = 0
        lastDraw = .distantPast
    }

    func refresh(trials: [TrialRecord], running: Set<Int>, force: Bool = false) {
        if interactive {
            guard force || Date().timeIntervalSince(lastDraw) >= 1 else { return }
            clear()
            let lines = [header(trials, running: running)] + rows(trials, limit: visibleRows)
            print(lines.joined(separator: "\n"))
            drawnLines = lines.count
            lastDraw = Date()
        } else {
            // In a log, a line when something changed (a report, a trial started or ended), not every second.
            let key = trials.map { "\($0.number):\($0.state.rawValue):\($0.reports.count)" }.joined(separator: ",") + "|\(running.sorted())"
            if key != lastProgress && (force || !running.isEmpty) { print(header(trials, running: running)) }
            lastProgress = key
        }
    }

    /// The whole table (the final summary prints it).
    func table(_ trials: [TrialRecord]) -> String { rows(trials, limit: nil).joined(separator: "\n") }

    private func clear() {
        guard interactive, drawnLines > 0 else { return }
        print("\u{1B}[\(drawnLines)F\u{1B}[J", terminator: "")
        drawnLines = 0
    }

    func header(_ trials: [TrialRecord], running: Set<Int>) -> String {
        let count = { (s: TrialState) in trials.filter { $0.state == s }.count }
        let epochs = trials.reduce(0) { $0 + $1.reports.count }
        let elapsed = Date().timeIntervalSince(began)
        var line = "tune \(settings.algorithm.rawValue): \(trials.count)/\(settings.trials) trials (\(count(.complete)) complete, "
            + "\(count(.pruned)) pruned, \(count(.failed)) failed, \(running.count) running), \(epochs) epochs trained, "
            + "elapsed \(RunClock.format(elapsed))"
        // What is left if every unfinished trial trains to the end: a bound when trials are pruned.
        let remaining = trials.filter { $0.state == .running }.reduce(0) { $0 + settings.maxEpochs - $1.epoch }
            + max(0, settings.trials - trials.count) * settings.maxEpochs
        if epochs > 0, remaining > 0 {
            // The study's own throughput so far (trials in parallel included).
            let eta = Double(remaining) * elapsed / Double(epochs)
            line += (prunes ? ", eta at most " : ", eta ") + RunClock.format(eta)
        }
        if let best = Self.best(trials, settings.metric) {
            line += ", best \(settings.metric.format(best.value)) (trial \(best.number))"
        }
        return line
    }

    var prunes: Bool { [.asha, .hyperband, .bohb].contains(settings.algorithm) }

    private func rows(_ trials: [TrialRecord], limit: Int?) -> [String] {
        var shown = trials
        if let limit, trials.count > limit {
            shown = Array(trials.suffix(limit))
            if let best = Self.best(trials, settings.metric), !shown.contains(where: { $0.number == best.number }) {
                shown.insert(best, at: 0)
            }
        }
        let columns = ["trial"] + order + ["epoch", settings.metric == .map ? "mAP" : "val_loss", "state", "best so far"]
        var table: [[String]] = [columns]
        var best: Double?
        var bestAt: [Int: Double] = [:]
        for t in trials {
            if t.state == .complete, let v = t.value, best == nil || settings.metric.direction.isBetter(v, than: best!) { best = v }
            bestAt[t.number] = best
        }
        for t in shown {
            let values = order.map { t.values[$0].map(Self.short) ?? "-" }
            table.append(["\(t.number)"] + values + ["\(t.epoch)/\(settings.maxEpochs)", settings.metric.format(t.value),
                                                    t.state.rawValue, settings.metric.format(bestAt[t.number])])
        }
        let widths = columns.indices.map { c in table.map { $0[c].count }.max() ?? 0 }
        return table.map { row in
            row.enumerated().map { $0.element.padding(toLength: widths[$0.offset], withPad: " ", startingAt: 0) }.joined(separator: "  ")
        }
    }

    /// The best complete trial (the metric at the full budget).
    static func best(_ trials: [TrialRecord], _ metric: Metric) -> TrialRecord? {
        trials.filter { $0.state == .complete && $0.value != nil && $0.value!.isFinite }
            .min { metric.direction.objective($0.value!) < metric.direction.objective($1.value!) }
    }

    static func short(_ v: ParameterValue) -> String {
        if case .number(let x) = v, x != x.rounded() { return String(format: "%.4g", x) }
        return v.description
    }
}
