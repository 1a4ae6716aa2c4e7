import Foundation

/// Tree-structured Parzen Estimator (Bergstra et al. 2011), univariate, with Optuna's defaults:
/// random values for the first `startupTrials`; then the observations split into the best
/// gamma(n) = min(ceil(0.1 n), 25) ("below") and the rest ("above"); for each parameter a
/// Parzen estimator of each group (truncated normal kernels at the observations plus a prior
/// kernel over the whole range, bandwidths from the neighbours' distances clipped by the "magic
/// clip", older observations weighted down past 25) or, for a choice, smoothed frequencies; and
/// of `candidates` draws from l(x) the one with the largest l(x) / g(x).
public struct TPESampler: Sampler {
    public var startupTrials = 10
    public var candidates = 24
    public var priorWeight = 1.0
    var generator: SeededGenerator
    var random: RandomSampler

    public init(seed: UInt64) {
        generator = SeededGenerator(seed: seed)
        random = RandomSampler(seed: seed ^ 0x5A5A_5A5A)
    }

    public static func gamma(_ n: Int) -> Int { min(Int((0.1 * Double(n)).rounded(.up)), 25) }

    /// Optuna's default_weights: equal up to 25 observations, then older ones ramped down.
    static func weights(_ n: Int) -> [Double] {
        guard n >= 25 else { return Array(repeating: 1, count: n) }
        let ramp = n - 25
        let low = 1 / Double(n)
        let rising = (0..<ramp).map { ramp == 1 ? low : low + (1 - low) * Double($0) / Double(ramp - 1) }
        return rising + Array(repeating: 1, count: 25)
    }

    public mutating func propose(space: SearchSpace, history: [Observation]) -> [String: ParameterValue] {
        let finished = history.filter { $0.objective.isFinite }
        guard finished.count >= startupTrials else { return random.propose(space: space, history: history) }
        // Below: the best gamma(n), kept in trial order (the weights favour recent trials).
        let ranked = finished.indices.sorted { finished[$0].objective < finished[$1].objective }
        let cut = Self.gamma(finished.count)
        let belowSet = Set(ranked.prefix(cut))
        let below = finished.indices.filter { belowSet.contains($0) }.map { finished[$0] }
        let above = finished.indices.filter { !belowSet.contains($0) }.map { finished[$0] }
        var values: [String: ParameterValue] = [:]
        for (name, distribution) in space.parameters {
            let good = below.compactMap { $0.values[name].flatMap(distribution.internalValue) }
            let bad = above.compactMap { $0.values[name].flatMap(distribution.internalValue) }
            values[name] = choose(distribution, good: good, bad: bad)
        }
        return values
    }

    private mutating func choose(_ distribution: Distribution, good: [Double], bad: [Double]) -> ParameterValue {
        if case .choice(let options) = distribution {
            let l = categorical(good, count: options.count), g = categorical(bad, count: options.count)
            var best = 0, bestScore = -Double.infinity
            for _ in 0..<candidates {
                let c = draw(l)
                let score = log(l[c]) - log(g[c])
                if score > bestScore { best = c; bestScore = score }
            }
            return options[best]
        }
        let (low, high) = bounds(distribution)
        let l = ParzenEstimator(observations: good, weights: Self.weights(good.count), low: low, high: high, priorWeight: priorWeight)
        let g = ParzenEstimator(observations: bad, weights: Self.weights(bad.count), low: low, high: high, priorWeight: priorWeight)
        var best = l.sample(&generator), bestScore = -Double.infinity
        for _ in 0..<candidates {
            let x = l.sample(&generator)
            let score = l.logDensity(x) - g.logDensity(x)
            if score > bestScore { best = x; bestScore = score }
        }
        return external(best, distribution)
    }

    /// The internal range TPE models; whole numbers and steps widened by half a step each side.
    private func bounds(_ d: Distribution) -> (Double, Double) {
        switch d {
        case .uniform(let low, let high, let step): return (low - (step ?? 0) / 2, high + (step ?? 0) / 2)
        case .logUniform(let low, let high): return (log(low), log(high))
        case .integer(let low, let high): return (Double(low) - 0.5, Double(high) + 0.5)
        case .choice: return (0, 1)
        }
    }

    private func external(_ x: Double, _ d: Distribution) -> ParameterValue {
        switch d {
        case .uniform(let low, let high, let step):
            guard let step else { return .number(min(max(x, low), high)) }
            return .number(min(max(low + ((x - low) / step).rounded() * step, low), high))
        case .logUniform(let low, let high): return .number(min(max(exp(x), low), high))
        case .integer(let low, let high): return .number(Double(min(max(Int(x.rounded()), low), high)))
        case .choice(let values): return values[Int(x)]
        }
    }

    /// Each option's weight: the observations' (weighted) counts plus the prior spread evenly.
    private func categorical(_ observed: [Double], count: Int) -> [Double] {
        var mass = [Double](repeating: priorWeight / Double(count), count: count)
        for (i, w) in zip(observed, Self.weights(observed.count)) { mass[Int(i)] += w }
        let total = mass.reduce(0, +)
        return mass.map { $0 / total }
    }

    private mutating func draw(_ probabilities: [Double]) -> Int {
        var u = generator.unit()
        for (i, p) in probabilities.enumerated() {
            if u < p { return i }
            u -= p
        }
        return probabilities.count - 1
    }
}

/// A mixture of normals truncated to [low, high]: one kernel per observation and a wide prior
/// kernel at the centre of the range.
struct ParzenEstimator {
    let mus: [Double]
    let sigmas: [Double]
    let weights: [Double]
    let low, high: Double

    init(observations: [Double], weights observationWeights: [Double], low: Double, high: Double, priorWeight: Double) {
        self.low = low
        self.high = high
        let span = high - low
        let points = observations + [(low + high) / 2]
        // Bandwidth: the larger gap to a neighbour (the range's ends count as neighbours), clipped
        // between span / min(100, 1 + n) and span; the prior kernel spans the whole range.
        let order = points.indices.sorted { points[$0] < points[$1] }
        let sorted = order.map { points[$0] }
        var sortedSigma = [Double](repeating: span, count: points.count)
        for i in sorted.indices {
            let left = sorted[i] - (i > 0 ? sorted[i - 1] : low)
            let right = (i + 1 < sorted.count ? sorted[i + 1] : high) - sorted[i]
            sortedSigma[i] = max(left, right)
        }
        var sigma = [Double](repeating: span, count: points.count)
        for (rank, index) in order.enumerated() { sigma[index] = sortedSigma[rank] }
        let minimum = span / min(100, 1 + Double(points.count))
        sigma = sigma.map { min(max($0, minimum), span) }
        sigma[points.count - 1] = span
        mus = points
        sigmas = sigma
        let raw = observationWeights + [priorWeight]
        let total = raw.reduce(0, +)
        weights = raw.map { $0 / total }
    }

    func sample(_ generator: inout SeededGenerator) -> Double {
        var u = generator.unit(), k = weights.count - 1
        for (i, w) in weights.enumerated() {
            if u < w { k = i; break }
            u -= w
        }
        for _ in 0..<100 {
            let x = mus[k] + sigmas[k] * generator.normal()
            if x >= low && x <= high { return x }
        }
        return min(max(mus[k], low), high)
    }

    func logDensity(_ x: Double) -> Double {
        var total = 0.0
        for i in mus.indices {
            let s = sigmas[i]
            let z = (x - mus[i]) / s
            let mass = Self.cdf((high - mus[i]) / s) - Self.cdf((low - mus[i]) / s)
            total += weights[i] * exp(-0.5 * z * z) / (s * (2 * Double.pi).squareRoot() * max(mass, 1e-12))
        }
        return log(max(total, 1e-300))
    }

    static func cdf(_ z: Double) -> Double { 0.5 * (1 + erf(z / 2.squareRoot())) }
}
