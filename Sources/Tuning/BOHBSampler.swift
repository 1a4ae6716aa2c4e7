import Foundation

/// BOHB's proposals (Falkner et al., "BOHB: Robust and Efficient Hyperparameter Optimization at
/// Scale"): TPE fitted on the observations of the largest budget (epoch) that has enough of them
/// (the dimension + 2), so early rungs guide the search until full trainings exist; a fixed share
/// of proposals (1/3 in the paper) stays random. The stopping half of BOHB is Hyperband.
public struct BOHBSampler {
    public var randomFraction = 1.0 / 3
    let seed: UInt64

    public init(seed: UInt64) { self.seed = seed }

    /// The budget whose observations the model is fitted on, if any has enough.
    public static func modelBudget(dimensions: Int, observations: [Int: [Observation]]) -> Int? {
        observations.filter { $0.value.count >= dimensions + 2 }.keys.max()
    }

    /// `trial` numbers the proposal, so a resumed study proposes what an uninterrupted one would.
    public func propose(trial: Int, space: SearchSpace, observations: [Int: [Observation]]) -> [String: ParameterValue] {
        var generator = SeededGenerator(seed: seed &+ UInt64(trial) &* 0x2545_F491_4F6C_DD1D)
        var random = RandomSampler(seed: generator.next())
        guard generator.unit() >= randomFraction,
              let budget = Self.modelBudget(dimensions: space.parameters.count, observations: observations) else {
            return random.propose(space: space, history: [])
        }
        var tpe = TPESampler(seed: generator.next())
        tpe.startupTrials = 0
        return tpe.propose(space: space, history: observations[budget]!)
    }
}
