import Foundation
import XCTest
@testable import Tuning

/// The study database's round trip, PBT's exploit and explore on a toy population, and BOHB's
/// choice of the budget it models.
final class StudyDatabaseTests: XCTestCase {
    func temporaryPath() -> String {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("study-\(UUID().uuidString.prefix(8))")
        try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: folder) }
        return folder.appendingPathComponent("study.db").path
    }

    func testTrialsReportsAndSettingsComeBackAfterReopening() throws {
        let path = temporaryPath()
        let order = ["Init_lr", "optimizer_type", "mosaic", "Unfreeze_batch_size"]
        do {
            let db = try StudyDatabase(path: path)
            try db.setSetting("settings", "{\"a\": 1}")
            try db.setSetting("settings", "{\"a\": 2}")
            var t0 = TrialRecord(number: 0, values: ["Init_lr": .number(0.00123456789), "optimizer_type": .text("adam"),
                                                     "mosaic": .flag(false), "Unfreeze_batch_size": .number(16)])
            t0.started = 1000.5
            try db.insert(t0, order: order)
            try db.addReport(trial: 0, TrialReport(epoch: 1, value: 0.5, valLoss: 2.5, map: 0.5))
            var t1 = TrialRecord(number: 1, values: ["Init_lr": .number(1e-4), "optimizer_type": .text("it's"),
                                                     "mosaic": .flag(true), "Unfreeze_batch_size": .number(8)])
            try db.insert(t1, order: order)
            try db.addReport(trial: 1, TrialReport(epoch: 1, value: 0.25, valLoss: .nan, map: nil))
            try db.addReport(trial: 0, TrialReport(epoch: 2, value: 0.75, valLoss: 2.0, map: 0.75))
            t0.state = .complete
            t0.epoch = 2
            t0.value = 0.75
            t0.finished = 1010.25
            try db.update(t0, order: order)
            t1.state = .failed
            t1.error = "exit status 1: error: out of memory"
            try db.update(t1, order: order)
            try db.addReport(trial: 1, TrialReport(epoch: 2, value: 0.3))
            try db.dropReports(trial: 1, after: 1)
        }
        let db = try StudyDatabase(path: path)
        XCTAssertEqual(try db.setting("settings"), "{\"a\": 2}")
        XCTAssertNil(try db.setting("missing"))
        let trials = try db.trials()
        XCTAssertEqual(trials.count, 2)
        XCTAssertEqual(trials[0].values["Init_lr"], .number(0.00123456789), "numbers come back exactly")
        XCTAssertEqual(trials[0].values["mosaic"], .flag(false))
        XCTAssertEqual(trials[0].values["Unfreeze_batch_size"], .number(16))
        XCTAssertEqual(trials[0].state, .complete)
        XCTAssertEqual(trials[0].value, 0.75)
        XCTAssertEqual(trials[0].started, 1000.5)
        XCTAssertEqual(trials[0].finished, 1010.25)
        XCTAssertEqual(trials[0].reports.map(\.epoch), [1, 2])
        XCTAssertEqual(trials[0].reports[1], TrialReport(epoch: 2, value: 0.75, valLoss: 2.0, map: 0.75))
        XCTAssertEqual(trials[1].values["optimizer_type"], .text("it's"))
        XCTAssertEqual(trials[1].state, .failed)
        XCTAssertEqual(trials[1].error, "exit status 1: error: out of memory")
        XCTAssertEqual(trials[1].reports.map(\.epoch), [1], "reports after the dropped epoch are gone")
        XCTAssertNil(trials[1].reports[0].valLoss, "NaN is stored as no value")
        XCTAssertEqual(try db.reportsInOrder().map { "\($0.trial):\($0.report.epoch)" }, ["0:1", "1:1", "0:2"], "arrival order")
    }

    func testAFolderThatCannotHoldTheDatabaseIsNamed() {
        XCTAssertThrowsError(try StudyDatabase(path: "/proc/no-such/study.db")) { XCTAssertTrue("\($0)".contains("/proc/no-such/study.db")) }
    }
}

final class PopulationBasedTrainingTests: XCTestCase {
    let space = SearchSpace([("lr", .logUniform(low: 1e-4, high: 1e-2)), ("p", .uniform(low: 0, high: 1, step: 0.1)),
                             ("epochs", .integer(low: 1, high: 5)), ("opt", .choice([.text("sgd"), .text("adam"), .text("adamw")]))])

    func testTheBottomQuarterCopiesTheTopQuarter() {
        let pbt = PopulationBasedTraining()
        XCTAssertEqual([2, 4, 8, 9].map(pbt.quantileSize), [1, 1, 2, 3])
        var generator = SeededGenerator(seed: 3)
        // Lower is better: members 5 and 2 are the best, 0 and 7 (NaN counts as the worst) the worst.
        let objectives = [9.0, 3, 0.5, 4, 5, 0.1, 6, .nan]
        let pairs = pbt.exploit(objectives: objectives, generator: &generator)
        XCTAssertEqual(Set(pairs.map(\.member)), [0, 7])
        XCTAssertTrue(pairs.allSatisfy { [5, 2].contains($0.donor) }, "\(pairs)")
    }

    func testExploreMovesEveryValueByAFactorOrResamplesAndStaysInRange() {
        var pbt = PopulationBasedTraining()
        pbt.resampleProbability = 0
        let start: [String: ParameterValue] = ["lr": .number(5e-3), "p": .number(0.5), "epochs": .number(5), "opt": .text("adam")]
        var generator = SeededGenerator(seed: 11)
        var seen: Set<String> = []
        for _ in 0..<50 {
            let v = pbt.explore(start, space: space, generator: &generator)
            let lr = v["lr"]!.number!
            XCTAssertTrue(abs(lr - 4e-3) < 1e-12 || abs(lr - 6e-3) < 1e-12, "lr x0.8 or x1.2: \(lr)")
            let p = v["p"]!.number!
            XCTAssertTrue(abs(p - 0.4) < 1e-9 || abs(p - 0.6) < 1e-9, "p on its step: \(p)")
            XCTAssertTrue([4, 5].contains(v["epochs"]!.number!), "5 x 1.2 is kept at the top of the range")
            XCTAssertTrue([.text("sgd"), .text("adamw")].contains(v["opt"]!), "a neighbouring option")
            seen.insert("\(lr)")
        }
        XCTAssertEqual(seen.count, 2, "both factors are used")
        XCTAssertEqual(PopulationBasedTraining.perturb(.number(1e-2), .logUniform(low: 1e-4, high: 1e-2), factor: 1.2, up: true), .number(1e-2))
        XCTAssertEqual(PopulationBasedTraining.perturb(.number(2), .integer(low: 1, high: 5), factor: 0.8, up: false), .number(1),
                       "a small integer still moves")
        pbt.resampleProbability = 1
        for _ in 0..<20 {
            let v = pbt.explore(start, space: space, generator: &generator)
            XCTAssertTrue((1e-4...1e-2).contains(v["lr"]!.number!))
            XCTAssertTrue((1...5).contains(v["epochs"]!.number!))
        }
    }
}

final class BOHBSamplerTests: XCTestCase {
    func testTheModelUsesTheLargestBudgetWithEnoughObservations() {
        func observations(_ n: Int) -> [Observation] { (0..<n).map { Observation(values: ["x": .number(Double($0))], objective: Double($0)) } }
        XCTAssertEqual(BOHBSampler.modelBudget(dimensions: 2, observations: [1: observations(9), 3: observations(4), 9: observations(1)]), 3)
        XCTAssertNil(BOHBSampler.modelBudget(dimensions: 2, observations: [1: observations(3)]))
        // With a model, proposals concentrate near the good end at that budget.
        let space = SearchSpace([("x", .uniform(low: 0, high: 100, step: nil))])
        var sampler = BOHBSampler(seed: 1)
        sampler.randomFraction = 0
        let good = (0..<30).map { i -> Observation in let x = Double(i) * 100 / 29; return Observation(values: ["x": .number(x)], objective: x) }
        let proposals = (0..<40).map { sampler.propose(trial: $0, space: space, observations: [3: good])["x"]!.number! }
        XCTAssertLessThan(proposals.sorted()[20], 25, "the median proposal lies in the good quarter: \(proposals.sorted()[20])")
        XCTAssertEqual(sampler.propose(trial: 7, space: space, observations: [3: good]),
                       sampler.propose(trial: 7, space: space, observations: [3: good]), "a trial's proposal is reproducible")
    }
}
