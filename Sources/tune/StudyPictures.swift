import Foundation
import Tuning
import Vision

/// The study's pictures: `metric_per_trial.png` (each trial's metric, the running best as a line),
/// `metric_vs_<key>.png` for every searched key (log axis for log-uniform keys, options by
/// index), and `learning_curves.png` (each trial's metric by epoch, pruned ones grey and crossed
/// where they stopped, the best in red).
struct StudyPictures {
    let settings: StudySettings
    let space: SearchSpace
    let folder: String

    static let complete = RGB(31, 119, 180), pruned = RGB(170, 170, 170), failed = RGB(214, 39, 40), best = RGB(214, 39, 40)

    var unit: Double { settings.metric == .map ? 100 : 1 }
    var axis: String { settings.metric == .map ? "mAP@0.5 (%)" : "validation loss" }

    func draw(_ trials: [TrialRecord]) throws {
        let ended = trials.filter { ($0.state == .complete || $0.state == .pruned) && $0.value?.isFinite == true }
        guard !ended.isEmpty else { return }
        try perTrial(ended).render().save(folder + "/metric_per_trial.png")
        for (key, distribution) in space.parameters {
            try against(key, distribution, ended).render().save(folder + "/metric_vs_\(key).png")
        }
        try curves(trials).render().save(folder + "/learning_curves.png")
    }

    func perTrial(_ ended: [TrialRecord]) -> LineChart {
        var series: [LineChart.Series] = []
        var runningBest: [(Double, Double)] = []
        var best: Double?
        for t in ended.sorted(by: { $0.number < $1.number }) {
            let v = t.value! * unit
            var point = LineChart.Series(name: "", x: [Double(t.number)], y: [v], color: t.state == .complete ? Self.complete : Self.pruned, lineWidth: 3)
            point.inLegend = false
            series.append(point)
            if t.state == .complete, best == nil || settings.metric.direction.isBetter(v, than: best!) { best = v }
            if let best { runningBest.append((Double(t.number), best)) }
        }
        series.insert(.init(name: "best complete trial so far", x: runningBest.map(\.0), y: runningBest.map(\.1), color: Self.best), at: 0)
        series.append(.init(name: "complete (at \(settings.maxEpochs) epochs)", x: [], y: [], color: Self.complete))
        series.append(.init(name: "pruned (at the epoch it stopped)", x: [], y: [], color: Self.pruned))
        return LineChart(title: "\(settings.metric.title) per trial (\(settings.algorithm.rawValue))", xLabel: "trial",
                         yLabel: axis, series: series)
    }

    func against(_ key: String, _ distribution: Distribution, _ ended: [TrialRecord]) -> ScatterChart {
        var label = key
        func x(_ v: ParameterValue) -> Double? {
            switch (distribution, v) {
            case (.logUniform, .number(let n)): return log10(n)
            case (.choice(let options), _): return options.firstIndex(of: v).map(Double.init)
            default: return v.number
            }
        }
        if case .logUniform = distribution { label = "log10(\(key))" }
        if case .choice(let options) = distribution {
            label = key + ": " + options.enumerated().map { "\($0.offset) = \($0.element)" }.joined(separator: ", ")
        }
        func points(_ state: TrialState) -> [(Double, Double)] {
            ended.filter { $0.state == state }.compactMap { t in t.values[key].flatMap(x).map { ($0, t.value! * unit) } }
        }
        return ScatterChart(title: "\(settings.metric.title) against \(key) (blue: complete, grey: pruned)", xLabel: label, yLabel: axis,
                            groups: [.init(points: points(.pruned), color: Self.pruned, radius: 3),
                                     .init(points: points(.complete), color: Self.complete, radius: 5)],
                            includesZero: false)
    }

    func curves(_ trials: [TrialRecord]) -> LineChart {
        let bestNumber = LiveTable.best(trials, settings.metric)?.number
        var series: [LineChart.Series] = []
        for t in trials where !t.reports.isEmpty && t.number != bestNumber {
            var s = LineChart.Series(name: "trial \(t.number)", x: t.reports.map { Double($0.epoch) }, y: t.reports.map { $0.value * unit },
                                     color: t.state == .pruned ? Self.pruned : t.state == .failed ? Self.failed : Self.complete, lineWidth: 1)
            s.endMarker = t.state == .pruned
            s.inLegend = false
            series.append(s)
        }
        if let b = bestNumber, let t = trials.first(where: { $0.number == b }) {
            series.append(.init(name: "best: trial \(b)", x: t.reports.map { Double($0.epoch) }, y: t.reports.map { $0.value * unit },
                                color: Self.best, lineWidth: 3))
        }
        series.append(.init(name: "pruned (x where stopped)", x: [], y: [], color: Self.pruned))
        series.append(.init(name: "other trials", x: [], y: [], color: Self.complete))
        return LineChart(title: "Learning curves (\(settings.metric.title) by epoch)", xLabel: "epoch", yLabel: axis, series: series)
    }
}
