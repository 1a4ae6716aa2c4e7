import Foundation

/// A value a trial gives a parameter.
public enum ParameterValue: Equatable, Hashable, CustomStringConvertible, Sendable {
    case number(Double)
    case text(String)
    case flag(Bool)

    public var number: Double? { if case .number(let v) = self { return v }; return nil }

    /// As a parameter file writes it (`1e-3`, `16`, `'adam'`, `True`).
    public var description: String {
        switch self {
        case .number(let v):
            if v == v.rounded() && abs(v) < 1e15 { return String(Int(v)) }
            return "\(v)"
        case .text(let s): return "'\(s)'"
        case .flag(let b): return b ? "True" : "False"
        }
    }

    /// Reads back what `description` wrote.
    public init?(parameterText s: String) {
        let t = s.trimmingCharacters(in: .whitespaces)
        if t == "True" || t == "False" { self = .flag(t == "True"); return }
        if t.count >= 2, let q = t.first, q == "'" || q == "\"", t.last == q { self = .text(String(t.dropFirst().dropLast())); return }
        guard let v = Double(t) else { return nil }
        self = .number(v)
    }
}

/// Where one parameter's values come from.
public enum Distribution: Equatable, Sendable {
    /// Evenly between low and high; with a step, only low + k * step.
    case uniform(low: Double, high: Double, step: Double?)
    /// Evenly in log space between low and high (both positive).
    case logUniform(low: Double, high: Double)
    /// Whole numbers from low to high, both included.
    case integer(low: Int, high: Int)
    /// One of the listed values.
    case choice([ParameterValue])

    /// The value of a point in [0, 1] of this distribution's own scale (uniform, log or index).
    public func value(atUnit u: Double) -> ParameterValue {
        let u = min(max(u, 0), 1)
        switch self {
        case .uniform(let low, let high, let step):
            let x = low + u * (high - low)
            guard let step, step > 0 else { return .number(x) }
            let k = ((x - low) / step).rounded()
            return .number(min(low + k * step, high))
        case .logUniform(let low, let high):
            // The ends exactly (exp(log(x)) is not always x).
            return .number(u == 0 ? low : u == 1 ? high : min(max(exp(log(low) + u * (log(high) - log(low))), low), high))
        case .integer(let low, let high):
            return .number(Double(min(low + Int(u * Double(high - low + 1)), high)))
        case .choice(let values):
            return values[min(Int(u * Double(values.count)), values.count - 1)]
        }
    }

    /// The internal coordinate TPE models: the value itself, its log, or a choice's index.
    func internalValue(_ v: ParameterValue) -> Double? {
        switch self {
        case .uniform, .integer: return v.number
        case .logUniform: return v.number.map { log($0) }
        case .choice(let values): return values.firstIndex(of: v).map(Double.init)
        }
    }

    /// Checks the distribution itself: ranges that are empty or reversed, logs of non-positive numbers.
    func problem() -> String? {
        switch self {
        case .uniform(let low, let high, let step):
            if !(low < high) { return "uniform(\(low), \(high)): low must be below high" }
            if let step, !(step > 0 && step <= high - low) { return "uniform: step = \(step) must be positive and at most high - low" }
        case .logUniform(let low, let high):
            if !(low > 0) { return "loguniform(\(low), \(high)): low must be positive (its log is taken)" }
            if !(low < high) { return "loguniform(\(low), \(high)): low must be below high" }
        case .integer(let low, let high):
            if low > high { return "randint(\(low), \(high)): low must be at most high" }
        case .choice(let values):
            if values.isEmpty { return "choice([]): give at least one value" }
            if Set(values).count != values.count { return "choice: a value is listed twice" }
        }
        return nil
    }
}

/// The parameters a study varies, in the order the space file names them.
public struct SearchSpace: Sendable {
    public var parameters: [(name: String, distribution: Distribution)]

    public init(_ parameters: [(name: String, distribution: Distribution)]) {
        self.parameters = parameters
    }

    public var names: [String] { parameters.map(\.name) }
}

/// One finished (or pruned) trial, as samplers learn from it: its values and the objective
/// (lower is better; a study maximising mAP gives -mAP).
public struct Observation: Sendable {
    public var values: [String: ParameterValue]
    public var objective: Double

    public init(values: [String: ParameterValue], objective: Double) {
        self.values = values
        self.objective = objective
    }
}

/// Proposes the next trial's values from the ones observed so far.
public protocol Sampler {
    mutating func propose(space: SearchSpace, history: [Observation]) -> [String: ParameterValue]
}

/// A seeded SplitMix64: studies are reproducible from their seed.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var state: UInt64
    public init(seed: UInt64) { state = seed &+ 0x9E37_79B9_7F4A_7C15 }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    public mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }
    /// Standard normal (Box-Muller).
    public mutating func normal() -> Double {
        let u1 = max(unit(), 1e-300), u2 = unit()
        return (-2 * log(u1)).squareRoot() * cos(2 * .pi * u2)
    }
}

/// Every value drawn independently and evenly from its distribution.
public struct RandomSampler: Sampler {
    var generator: SeededGenerator
    public init(seed: UInt64) { generator = SeededGenerator(seed: seed) }

    public mutating func propose(space: SearchSpace, history: [Observation]) -> [String: ParameterValue] {
        var values: [String: ParameterValue] = [:]
        for (name, distribution) in space.parameters { values[name] = distribution.value(atUnit: generator.unit()) }
        return values
    }
}
