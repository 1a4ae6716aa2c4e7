import Foundation

/// Population Based Training (Jaderberg et al. 2017) in its truncation-selection form: after
/// every interval of epochs the members are ranked by their objective; each member of the bottom
/// quantile takes the state of a member of the top quantile (exploit: its weights, optimizer and
/// epoch, through its resume point) and perturbs that member's hyperparameters (explore).
public struct PopulationBasedTraining {
    /// The share of the population copied over (and copied from) at each interval.
    public var quantile = 0.25
    /// A perturbed value is drawn afresh from its distribution with this probability.
    public var resampleProbability = 0.25
    /// Otherwise numbers are multiplied by one of these (and kept in their range); a choice moves
    /// to a neighbouring option.
    public var factors = [0.8, 1.2]

    public init() {}

    /// How many members are replaced (and how many donate): ceil(quantile x n), at most half.
    public func quantileSize(_ members: Int) -> Int {
        let size = Int((Double(members) * quantile).rounded(.up))
        return size > members / 2 ? members / 2 : size
    }

    /// For each member of the bottom quantile, the top-quantile member whose state it copies.
    /// `objectives[i]` is member i's (lower is better; failed members count as worst).
    public func exploit(objectives: [Double], generator: inout SeededGenerator) -> [(member: Int, donor: Int)] {
        let n = quantileSize(objectives.count)
        guard n > 0 else { return [] }
        let ranked = objectives.indices.sorted {
            let a = objectives[$0].isFinite ? objectives[$0] : .infinity, b = objectives[$1].isFinite ? objectives[$1] : .infinity
            return a == b ? $0 < $1 : a < b
        }
        let top = Array(ranked.prefix(n)), bottom = Array(ranked.suffix(n))
        return bottom.map { ($0, top[Int(generator.next() % UInt64(top.count))]) }
    }

    /// The donor's values perturbed: each parameter resampled, or moved by a factor (a choice by
    /// one option), always inside its distribution's range and on its step.
    public func explore(_ values: [String: ParameterValue], space: SearchSpace,
                        generator: inout SeededGenerator) -> [String: ParameterValue] {
        var result = values
        for (name, distribution) in space.parameters {
            guard let current = values[name] else { continue }
            if generator.unit() < resampleProbability {
                result[name] = distribution.value(atUnit: generator.unit())
                continue
            }
            let factor = factors[Int(generator.next() % UInt64(factors.count))]
            result[name] = Self.perturb(current, distribution, factor: factor, up: factor >= 1)
        }
        return result
    }

    static func perturb(_ value: ParameterValue, _ distribution: Distribution, factor: Double, up: Bool) -> ParameterValue {
        switch distribution {
        case .uniform(let low, let high, let step):
            guard let v = value.number else { return value }
            var x = min(max(v * factor, low), high)
            if let step { x = min(max(low + ((x - low) / step).rounded() * step, low), high) }
            return .number(x)
        case .logUniform(let low, let high):
            guard let v = value.number else { return value }
            return .number(min(max(v * factor, low), high))
        case .integer(let low, let high):
            guard let v = value.number else { return value }
            var x = Int((v * factor).rounded())
            // Small integers would not move under x0.8 / x1.2: step by one in the factor's direction.
            if x == Int(v) { x += up ? 1 : -1 }
            return .number(Double(min(max(x, low), high)))
        case .choice(let options):
            guard let i = options.firstIndex(of: value) else { return value }
            return options[min(max(i + (up ? 1 : -1), 0), options.count - 1)]
        }
    }
}
