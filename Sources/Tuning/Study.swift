import Foundation

/// Where a trial stands.
public enum TrialState: String, Sendable, CaseIterable {
    /// Started (or to be continued: a study interrupted while the trial ran).
    case running
    /// Trained to the study's full budget.
    case complete
    /// Stopped by the scheduler at a rung (the epoch it reached is kept).
    case pruned
    /// Its training failed (the error is kept) or was killed.
    case failed
}

/// One epoch's metrics as a trial reported them.
public struct TrialReport: Equatable, Sendable {
    public var epoch: Int
    /// The study's metric at this epoch.
    public var value: Double
    public var valLoss: Double?
    public var map: Double?

    public init(epoch: Int, value: Double, valLoss: Double? = nil, map: Double? = nil) {
        self.epoch = epoch
        self.value = value
        self.valLoss = valLoss
        self.map = map
    }
}

/// A trial as the study database keeps it.
public struct TrialRecord: Equatable, Sendable {
    public var number: Int
    public var values: [String: ParameterValue]
    public var state: TrialState
    /// The last epoch it reported.
    public var epoch = 0
    /// Its metric at its last reported epoch (complete and pruned trials).
    public var value: Double?
    public var error: String?
    /// How the trial came to its values (PBT: "epoch 4: copied trial 2, perturbed").
    public var note: String?
    public var started: Double?
    public var finished: Double?
    public var reports: [TrialReport] = []

    public init(number: Int, values: [String: ParameterValue], state: TrialState = .running) {
        self.number = number
        self.values = values
        self.state = state
    }
}

/// Which way the metric is better.
public enum Direction: String, Sendable {
    case maximize, minimize

    /// The value as the samplers and schedulers want it: lower is better.
    public func objective(_ value: Double) -> Double { self == .maximize ? -value : value }

    public func isBetter(_ a: Double, than b: Double) -> Bool { self == .maximize ? a > b : a < b }
}

extension TrialRecord {
    /// `name = value` lines in the given order (the space file's), as the database and the
    /// parameter file write them.
    public func valueLines(order: [String]) -> [String] {
        let named = order.filter { values[$0] != nil } + values.keys.filter { !order.contains($0) }.sorted()
        return named.map { "\($0) = \(values[$0]!)" }
    }

    /// Reads `valueLines` back.
    public static func values(fromLines text: String) -> [String: ParameterValue]? {
        var values: [String: ParameterValue] = [:]
        for line in text.split(separator: "\n") {
            guard let eq = line.firstIndex(of: "="),
                  let v = ParameterValue(parameterText: String(line[line.index(after: eq)...])) else { return nil }
            values[line[..<eq].trimmingCharacters(in: .whitespaces)] = v
        }
        return values
    }
}
