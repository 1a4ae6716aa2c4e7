import Foundation

/// In-training mAP@0.5 on the validation images every eval_period epochs (SPEC §7), with the
/// evaluation weights (the EMA's when on).
final class EvaluationHook: TrainingHook {
    /// Validation images that could not be read: left out of the mAP, each named once.
    private(set) var unreadable: Set<String> = []

    func afterValidation(_ c: TrainingContext) throws {
        guard c.config.evalFlag, (c.epoch + 1) % c.config.evalPeriod == 0 else { return }
        c.log("Calculate Map.")
        let (map, _) = try InTrainingEvaluation.meanAP(model: c.evaluationModel, lines: c.valLines, anchors: c.anchors,
                                                       inputWidth: c.config.inputShape[1], inputHeight: c.config.inputShape[0],
                                                       onUnreadable: { path, error in
            if self.unreadable.insert(path).inserted { c.log("Warning: \(path) cannot be read (\(error)); left out of the mAP") }
        })
        if !unreadable.isEmpty { c.log("mAP over \(c.valLines.count - unreadable.count) of \(c.valLines.count) validation images (\(unreadable.count) unreadable)") }
        c.epochMAP = map
        c.lastMAP = map
        c.log(String(format: "Get map done. mAP@0.5 = %.2f%%", map * 100))
    }
}
