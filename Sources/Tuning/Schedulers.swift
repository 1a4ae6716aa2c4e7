import Foundation

/// What a scheduler says after a trial reports an epoch's metric.
public enum TrialDecision: Equatable, Sendable {
    case proceed
    /// Stop the trial here (pruned at this rung).
    case stop
}

/// Early stopping across a study's trials: each trial reports its objective (lower is better) after
/// every epoch, and the scheduler stops the ones not worth their budget.
public protocol TrialScheduler {
    mutating func report(trial: Int, epoch: Int, objective: Double) -> TrialDecision
}

/// ASHA (Li et al., "A System for Massively Parallel Hyperparameter Tuning"), the stopping form
/// Optuna's SuccessiveHalvingPruner uses: rungs at minResource x eta^k epochs; a trial reaching a
/// rung goes on only if its objective is among the best 1/eta of all the values recorded at that
/// rung so far (while fewer than eta have been recorded, the best one so far goes on), so trials
/// never wait for each other.
public struct ASHAScheduler: TrialScheduler {
    public let minResource: Int
    public let maxResource: Int
    public let reductionFactor: Int
    /// The objectives recorded at each rung.
    public private(set) var rungValues: [Int: [Double]] = [:]

    public init(minResource: Int = 1, maxResource: Int, reductionFactor: Int = 3) {
        self.minResource = max(minResource, 1)
        self.maxResource = maxResource
        self.reductionFactor = max(reductionFactor, 2)
    }

    /// The epochs at which trials are compared (below the full budget).
    public var rungs: [Int] {
        var r: [Int] = [], e = minResource
        while e < maxResource { r.append(e); e *= reductionFactor }
        return r
    }

    public mutating func report(trial: Int, epoch: Int, objective: Double) -> TrialDecision {
        guard let rung = rungs.firstIndex(of: epoch) else { return .proceed }
        let value = objective.isFinite ? objective : .infinity
        rungValues[rung, default: []].append(value)
        let competing = rungValues[rung]!.sorted()
        let promotable = max(competing.count / reductionFactor - 1, 0)
        return value <= competing[promotable] ? .proceed : .stop
    }
}

/// Hyperband (Li et al. 2018) over ASHA brackets, as Optuna's HyperbandPruner: bracket s starts
/// comparing at minResource x eta^s epochs; trials are dealt to brackets in proportion to each
/// bracket's budget, and compared only with the trials of their bracket. Aggressive brackets stop
/// many trials after one epoch, the last one runs every trial to its end, so a metric that ranks
/// badly early is still covered.
public struct HyperbandScheduler: TrialScheduler {
    public private(set) var brackets: [ASHAScheduler]
    let budgets: [Int]

    public init(minResource: Int = 1, maxResource: Int, reductionFactor: Int = 3) {
        let eta = max(reductionFactor, 2)
        var count = 0, e = max(minResource, 1)
        while e * eta <= maxResource { count += 1; e *= eta }
        let sMax = count
        brackets = (0...sMax).map { s in
            ASHAScheduler(minResource: max(minResource, 1) * Int(pow(Double(eta), Double(s))), maxResource: maxResource, reductionFactor: eta)
        }
        // Hyperband's n_s = ceil((s_max + 1) / (s + 1) * eta^s) configurations for the bracket whose
        // aggressiveness is s (s_max starts at minResource, ours is bracket 0).
        budgets = (0...sMax).map { b in
            let s = sMax - b
            return Int((Double(sMax + 1) / Double(s + 1) * pow(Double(eta), Double(s))).rounded(.up))
        }
    }

    /// The bracket of a trial (numbered from 0), dealt round-robin weighted by the budgets: a pure
    /// function of the number, so a resumed study puts every trial where it was.
    public func bracket(of trial: Int) -> Int {
        var slot = trial % budgets.reduce(0, +), b = 0
        while slot >= budgets[b] { slot -= budgets[b]; b += 1 }
        return b
    }

    public mutating func report(trial: Int, epoch: Int, objective: Double) -> TrialDecision {
        let b = bracket(of: trial)
        return brackets[b].report(trial: trial, epoch: epoch, objective: objective)
    }
}
