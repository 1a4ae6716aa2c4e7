import Foundation
import XCTest
@testable import Tuning

/// The samplers on standard analytic objectives (seeded, so each figure is reproducible), and the
/// distributions' mapping of the unit interval.
final class SamplerTests: XCTestCase {
    /// Branin-Hoo on [-5, 10] x [0, 15]: minimum 0.397887 at three points.
    static func branin(_ v: [String: ParameterValue]) -> Double {
        let x1 = v["x1"]!.number!, x2 = v["x2"]!.number!
        let b = 5.1 / (4 * Double.pi * Double.pi), c = 5 / Double.pi, t = 1 / (8 * Double.pi)
        return pow(x2 - b * x1 * x1 + c * x1 - 6, 2) + 10 * (1 - t) * cos(x1) + 10
    }

    /// Hartmann 6-D on [0, 1]^6: minimum -3.32237.
    static func hartmann6(_ v: [String: ParameterValue]) -> Double {
        let alpha = [1.0, 1.2, 3.0, 3.2]
        let a: [[Double]] = [[10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14], [3, 3.5, 1.7, 10, 17, 8], [17, 8, 0.05, 10, 0.1, 14]]
        let p: [[Double]] = [[1312, 1696, 5569, 124, 8283, 5886], [2329, 4135, 8307, 3736, 1004, 9991],
                             [2348, 1451, 3522, 2883, 3047, 6650], [4047, 8828, 8732, 5743, 1091, 381]]
        let x = (0..<6).map { v["x\($0)"]!.number! }
        var sum = 0.0
        for i in 0..<4 {
            var inner = 0.0
            for j in 0..<6 { inner += a[i][j] * pow(x[j] - p[i][j] * 1e-4, 2) }
            sum += alpha[i] * exp(-inner)
        }
        return -sum
    }

    func bestAfter(_ trials: Int, sampler: inout some Sampler, space: SearchSpace, objective: ([String: ParameterValue]) -> Double) -> Double {
        var history: [Observation] = []
        for _ in 0..<trials {
            let values = sampler.propose(space: space, history: history)
            history.append(Observation(values: values, objective: objective(values)))
        }
        return history.map(\.objective).min()!
    }

    func medians(space: SearchSpace, objective: ([String: ParameterValue]) -> Double) -> (random: Double, tpe: Double) {
        var random: [Double] = [], tpe: [Double] = []
        for seed in 0..<10 {
            var r = RandomSampler(seed: UInt64(seed))
            var t = TPESampler(seed: UInt64(seed))
            random.append(bestAfter(50, sampler: &r, space: space, objective: objective))
            tpe.append(bestAfter(50, sampler: &t, space: space, objective: objective))
        }
        func median(_ v: [Double]) -> Double { let s = v.sorted(); return (s[4] + s[5]) / 2 }
        return (median(random), median(tpe))
    }

    func testTPEBeatsRandomSearchOnBranin() {
        let space = SearchSpace([("x1", .uniform(low: -5, high: 10, step: nil)), ("x2", .uniform(low: 0, high: 15, step: nil))])
        let (random, tpe) = medians(space: space, objective: Self.branin)
        print(String(format: "Branin, median best of 50 trials over 10 seeds: random %.4f, TPE %.4f (optimum 0.3979)", random, tpe))
        XCTAssertLessThan(tpe - 0.397887, 0.5 * (random - 0.397887), "TPE should close at least half of random search's gap")
    }

    func testTPEBeatsRandomSearchOnHartmann6() {
        let space = SearchSpace((0..<6).map { ("x\($0)", Distribution.uniform(low: 0, high: 1, step: nil)) })
        let (random, tpe) = medians(space: space, objective: Self.hartmann6)
        print(String(format: "Hartmann-6, median best of 50 trials over 10 seeds: random %.4f, TPE %.4f (optimum -3.3224)", random, tpe))
        XCTAssertLessThan(tpe, random - 0.2, "TPE should be clearly better than random search")
    }

    func testTPELearnsAChoiceAndALogScale() {
        // The objective wants 'b' and a rate near 1e-3 (log scale over four decades).
        let space = SearchSpace([("kind", .choice([.text("a"), .text("b"), .text("c")])), ("lr", .logUniform(low: 1e-5, high: 1e-1))])
        let objective: ([String: ParameterValue]) -> Double = { v in
            (v["kind"] == .text("b") ? 0 : 1) + pow(log10(v["lr"]!.number!) + 3, 2)
        }
        var tpe = TPESampler(seed: 7)
        var history: [Observation] = []
        for _ in 0..<60 {
            let values = tpe.propose(space: space, history: history)
            history.append(Observation(values: values, objective: objective(values)))
        }
        let late = history.suffix(20)
        XCTAssertGreaterThan(late.filter { $0.values["kind"] == .text("b") }.count, 12, "TPE should mostly propose 'b' by now")
        XCTAssertLessThan(late.map { abs(log10($0.values["lr"]!.number!) + 3) }.sorted()[10], 0.5)
    }

    func testDistributionsMapTheUnitIntervalOntoTheirValues() {
        XCTAssertEqual(Distribution.uniform(low: 0, high: 1e-3, step: 1e-4).value(atUnit: 0.52), .number(5e-4))
        XCTAssertEqual(Distribution.integer(low: 2, high: 4).value(atUnit: 0), .number(2))
        XCTAssertEqual(Distribution.integer(low: 2, high: 4).value(atUnit: 0.999), .number(4))
        XCTAssertEqual(Distribution.logUniform(low: 1e-4, high: 1e-2).value(atUnit: 0.5).number!, 1e-3, accuracy: 1e-12)
        XCTAssertEqual(Distribution.choice([.number(8), .number(16)]).value(atUnit: 0.7), .number(16))
        XCTAssertNotNil(Distribution.logUniform(low: 0, high: 1).problem())
        XCTAssertNotNil(Distribution.uniform(low: 1, high: 1, step: nil).problem())
        XCTAssertNotNil(Distribution.integer(low: 3, high: 2).problem())
        XCTAssertNotNil(Distribution.choice([]).problem())
        XCTAssertNil(Distribution.uniform(low: 0, high: 1, step: 0.1).problem())
        XCTAssertEqual(TPESampler.gamma(10), 1)
        XCTAssertEqual(TPESampler.gamma(300), 25)
        XCTAssertEqual(TPESampler.weights(30).count, 30)
        XCTAssertEqual(TPESampler.weights(30).last, 1)
        XCTAssertLessThan(TPESampler.weights(30).first!, 0.1)
    }
}

/// The search-space file: every distribution, and errors that name the line and say why.
final class SpaceFileTests: XCTestCase {
    func testEveryDistributionParses() throws {
        let space = try SpaceFile.parse("""
        # the demo's coarse search
        Init_lr = loguniform(1e-4, 1e-2)
        mosaic_prob = uniform(0, 1)        # chance of Mosaic
        weight_decay = uniform(0, 1e-3, step=1e-4)
        Freeze_Epoch = randint(5, 20)
        Unfreeze_batch_size = choice([8, 16, 32])
        optimizer_type = choice(['sgd', "adam"])
        """, file: "space.txt")
        XCTAssertEqual(space.names, ["Init_lr", "mosaic_prob", "weight_decay", "Freeze_Epoch", "Unfreeze_batch_size", "optimizer_type"])
        XCTAssertEqual(space.parameters[0].distribution, .logUniform(low: 1e-4, high: 1e-2))
        XCTAssertEqual(space.parameters[2].distribution, .uniform(low: 0, high: 1e-3, step: 1e-4))
        XCTAssertEqual(space.parameters[3].distribution, .integer(low: 5, high: 20))
        XCTAssertEqual(space.parameters[4].distribution, .choice([.number(8), .number(16), .number(32)]))
        XCTAssertEqual(space.parameters[5].distribution, .choice([.text("sgd"), .text("adam")]))
    }

    func testErrorsNameTheLineAndTheReason() {
        func message(_ text: String, check: @escaping (String, Distribution) -> String? = { _, _ in nil }) -> String {
            do { _ = try SpaceFile.parse(text, file: "s.txt", check: check); return "no error" } catch { return "\(error)" }
        }
        XCTAssertTrue(message("a = uniform(0, 1)\nb = normal(0, 1)").hasPrefix("s.txt:2: unknown distribution 'normal'"))
        XCTAssertTrue(message("a = loguniform(0, 1)").contains("s.txt:1: a = loguniform(0.0, 1.0): low must be positive"))
        XCTAssertTrue(message("a = uniform(2, 1)").contains("low must be below high"))
        XCTAssertTrue(message("a = uniform(0, x)").contains("high = 'x' is not a number"))
        XCTAssertTrue(message("a = choice(8, 16)").contains("choice takes 1 value(s), found 2"))
        XCTAssertTrue(message("a = randint(1.5, 3)").contains("whole numbers"))
        XCTAssertTrue(message("a = uniform(0, 1)\na = uniform(0, 2)").contains("s.txt:2: a is given a second time"))
        XCTAssertTrue(message("a = uniform(0, 1, size=3)").contains("no option 'size'"))
        XCTAssertTrue(message("a uniform(0, 1)").contains("expected 'key = distribution(...)'"))
        XCTAssertTrue(message("# nothing\n\n").contains("the search space is empty"))
        XCTAssertTrue(message("Init_rl = uniform(0, 1)", check: { key, _ in key == "Init_rl" ? "unknown key Init_rl (nearest: Init_lr)" : nil })
                        .hasPrefix("s.txt:1: unknown key Init_rl (nearest: Init_lr)"))
    }
}

/// ASHA and Hyperband decisions on scripted learning curves.
final class SchedulerTests: XCTestCase {
    /// Trial i's validation loss after e epochs: it falls towards its final value, which a trial's
    /// configuration decides (lower is better); the curves never cross, as for well-behaved trials.
    func curve(_ trial: Int, _ epoch: Int, finals: [Double]) -> Double {
        finals[trial] + 2 * exp(-Double(epoch) / 4)
    }

    /// Runs trials one after another; the epochs each one got.
    func run(_ scheduler: inout some TrialScheduler, finals: [Double], maxEpochs: Int) -> [Int] {
        finals.indices.map { trial in
            for epoch in 1...maxEpochs where scheduler.report(trial: trial, epoch: epoch,
                                                             objective: curve(trial, epoch, finals: finals)) == .stop {
                return epoch
            }
            return maxEpochs
        }
    }

    func testASHAStopsAtRungsKeepsTheBestAndSpendsLittleOfTheBudget() {
        var asha = ASHAScheduler(minResource: 1, maxResource: 27, reductionFactor: 3)
        XCTAssertEqual(asha.rungs, [1, 3, 9])
        var generator = SeededGenerator(seed: 5)
        let finals = (0..<27).map { _ in generator.unit() }
        let epochs = run(&asha, finals: finals, maxEpochs: 27)
        let best = finals.indices.min { finals[$0] < finals[$1] }!
        XCTAssertEqual(epochs[best], 27, "the best configuration trains to the end")
        XCTAssertTrue(epochs.allSatisfy { [1, 3, 9, 27].contains($0) }, "trials stop only at rungs: \(epochs)")
        let share = Double(epochs.reduce(0, +)) / Double(27 * 27)
        print(String(format: "ASHA on 27 scripted trials of 27 epochs: %.1f%% of the full budget", share * 100))
        XCTAssertLessThanOrEqual(share, 0.4)
        XCTAssertEqual(asha.rungValues[0]?.count, 27)
    }

    func testASHARungDecisionsByHand() {
        var asha = ASHAScheduler(minResource: 1, maxResource: 9, reductionFactor: 3)
        // Rung 0 (epoch 1): the first values go on while they are the best so far.
        XCTAssertEqual(asha.report(trial: 0, epoch: 1, objective: 5), .proceed)
        XCTAssertEqual(asha.report(trial: 1, epoch: 1, objective: 6), .stop)
        XCTAssertEqual(asha.report(trial: 2, epoch: 1, objective: 4), .proceed)
        // Six values: the best 6 / 3 = 2 go on (4 and 5 so far); 4.5 is now second.
        XCTAssertEqual(asha.report(trial: 3, epoch: 1, objective: 7), .stop)
        XCTAssertEqual(asha.report(trial: 4, epoch: 1, objective: 8), .stop)
        XCTAssertEqual(asha.report(trial: 5, epoch: 1, objective: 4.5), .proceed)
        XCTAssertEqual(asha.report(trial: 0, epoch: 2, objective: 1), .proceed, "epochs between rungs always go on")
        XCTAssertEqual(asha.report(trial: 6, epoch: 1, objective: .nan), .stop, "a NaN metric is the worst")
    }

    func testHyperbandDealsTrialsToBracketsAndComparesWithinABracket() {
        let hyperband = HyperbandScheduler(minResource: 1, maxResource: 27, reductionFactor: 3)
        XCTAssertEqual(hyperband.brackets.map(\.rungs), [[1, 3, 9], [3, 9], [9], []])
        let dealt = (0..<100).map { hyperband.bracket(of: $0) }
        XCTAssertEqual(Set(dealt), [0, 1, 2, 3])
        XCTAssertGreaterThan(dealt.filter { $0 == 0 }.count, dealt.filter { $0 == 3 }.count, "the aggressive bracket gets the most trials")
        var generator = SeededGenerator(seed: 9)
        let finals = (0..<40).map { _ in generator.unit() }
        var fresh = HyperbandScheduler(minResource: 1, maxResource: 27, reductionFactor: 3)
        let epochs = run(&fresh, finals: finals, maxEpochs: 27)
        let best = finals.indices.min { finals[$0] < finals[$1] }!
        XCTAssertEqual(epochs[best], 27)
        XCTAssertLessThan(Double(epochs.reduce(0, +)) / Double(40 * 27), 0.6)
    }
}
