import Foundation
import TensorCore

/// Ultralytics' check_amp idea, second half: before the first step, the same images go through the
/// model in float32 and under autocast (eval mode, no gradients, so nothing in the model changes);
/// the most confident predictions of the float32 pass must be the same predictions under autocast,
/// within a tolerance. A model whose numerics break in 16 bits (overflowing activations, a weight
/// file with extreme values) is caught here rather than by a diverging run.
public enum AMPCheck {
    public struct Result {
        public var compared: Int
        /// Largest difference of a box coordinate, as a fraction of the input size.
        public var boxDifference: Double
        /// Largest difference of a score (objectness x class probability).
        public var scoreDifference: Double
        public var agrees: Bool

        public var summary: String {
            if compared == 0 { return "the 16-bit pass produced NaN predictions" }
            return String(format: "%d most confident predictions: boxes within %.2f%% of the input, scores within %.3f", compared,
                   boxDifference * 100, scoreDifference)
        }
    }

    /// Tolerances: a few pixels at 416 and a score change that does not move a detection across
    /// the usual thresholds. bfloat16 keeps 8 bits of mantissa, float16 11.
    public static func tolerance(_ type: DType) -> (box: Double, score: Double) {
        type == .bfloat16 ? (0.02, 0.08) : (0.005, 0.02)
    }

    public static func run(model: Detector, images: Tensor, anchors: [(Double, Double)], type: DType, top: Int = 100) throws -> Result {
        let decoder = Decoder(anchors: anchors, anchorsMask: model.anchorsMask, numClasses: model.numClasses,
                              inputWidth: images.shape[3], inputHeight: images.shape[2])
        let wasTraining = model.isTraining
        model.eval()
        defer { model.train(wasTraining) }
        func candidates(_ compute: DType?) throws -> [Decoder.Candidate] {
            let outputs = try withNoGrad { try Autocast.with(compute) { try model.outputs(images) } }
            // Threshold 0 keeps every candidate in a fixed order, so the two passes line up.
            return try outputs.indices.flatMap { l in try decoder.decodeLayer(l, outputs[l], threshold: 0).flatMap { $0 } }
        }
        let reference = try candidates(nil), reduced = try candidates(type)
        let limit = tolerance(type)
        guard reduced.count == reference.count else {
            // The decoder drops NaN candidates: the 16-bit pass produced some.
            return Result(compared: 0, boxDifference: .infinity, scoreDifference: .infinity, agrees: false)
        }
        let chosen = reference.indices.sorted { reference[$0].score > reference[$1].score }.prefix(top)
        func difference(_ x: Double, _ y: Double) -> Double { let d = abs(x - y); return d.isNaN ? .infinity : d }
        var box = 0.0, score = 0.0
        for i in chosen {
            let a = reference[i], b = reduced[i]
            box = max(box, difference(a.x1, b.x1), difference(a.y1, b.y1), difference(a.x2, b.x2), difference(a.y2, b.y2))
            score = max(score, difference(a.score, b.score))
        }
        return Result(compared: chosen.count, boxDifference: box, scoreDifference: score, agrees: box <= limit.box && score <= limit.score)
    }
}
