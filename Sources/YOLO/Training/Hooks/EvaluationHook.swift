import Foundation

/// In-training mAP@0.5 on the validation images every eval_period epochs (SPEC §7), with the
/// evaluation weights (the EMA's when on).
final class EvaluationHook: TrainingHook {
    func afterValidation(_ c: TrainingContext) throws {
        guard c.config.evalFlag, (c.epoch + 1) % c.config.evalPeriod == 0 else { return }
        c.log("Calculate Map.")
        let (map, _) = try InTrainingEvaluation.meanAP(model: c.evaluationModel, lines: c.valLines, anchors: c.anchors,
                                                       inputWidth: c.config.inputShape[1], inputHeight: c.config.inputShape[0])
        c.epochMAP = map
        c.lastMAP = map
        c.log(String(format: "Get map done. mAP@0.5 = %.2f%%", map * 100))
    }
}
