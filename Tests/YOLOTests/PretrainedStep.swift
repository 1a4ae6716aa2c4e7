import Foundation
import XCTest
@testable import YOLO
import NN
import TensorCore

/// One training step of YOLOv4-tiny from the project's pretrained weights on a batch of the tiny test
/// project: what the numerical comparisons of whole steps (mixed precision, Winograd, blocked units) run twice.
struct PretrainedStep {
    let batch: Batch
    let loss: YOLOLoss
    let anchorsMask: [[Int]]

    init(_ test: XCTestCase, size: Int, batchSize: Int) throws {
        var (_, c) = try tinyTrainingProject(test)
        c.inputShape = [size, size]
        let data = try TrainingData(config: c)
        batch = try XCTUnwrap(try DataLoader(dataset: data.trainSet, batchSize: batchSize, shuffle: false, seed: 1, workers: 0)
            .batches(epoch: 0).nextBatch())
        loss = YOLOLoss(anchors: data.anchors, numClasses: 5, inputWidth: size, inputHeight: size, anchorsMask: c.anchorsMask)
        anchorsMask = c.anchorsMask
    }

    /// Runs `forward` on a fresh model with the pretrained weights, the loss and backward: the loss
    /// tensor and every parameter's gradient, flattened in parameter order.
    func run(_ forward: (YOLOv4Tiny, Tensor) throws -> [Tensor] = { try $0.outputs($1) }) throws -> (loss: Tensor, gradients: [Float]) {
        let model = try YOLOv4Tiny(numClasses: 5, anchorsMask: anchorsMask, seed: 3)
        _ = try WeightLoading.load(TransferLearningTests.full, into: model)
        let total = try loss.terms(try forward(model, batch.images), targets: batch.targets).total
        try total.backward()
        return (total, try model.namedParameters().flatMap { try $0.1.value.grad?.toArray() ?? [] })
    }
}

extension PretrainedStep {
    /// The step after `reference()` and again after `candidate()` (each switching a kernel choice):
    /// the same loss and gradients up to float32 rounding (loss within 1e-5 relative, gradient
    /// cosine above 0.99999, no gradient off by 1e-3 of the largest).
    func assertAgreesWithinFloatRounding(_ what: String, reference: () -> Void, candidate: () -> Void,
                                         file: StaticString = #filePath, line: UInt = #line) throws {
        func step(_ setting: () -> Void) throws -> (Double, [Float]) {
            setting()
            let (total, gradients) = try run()
            return (Double(try total.item()), gradients)
        }
        let (expected, ge) = try step(reference)
        let (actual, ga) = try step(candidate)
        let cosine = cosineSimilarity(ge, ga)
        let worst = zip(ge, ga).map { Double(abs($0 - $1)) }.max() ?? 0
        let scale = ge.map { Double(abs($0)) }.max() ?? 1
        print(String(format: "%@: loss %.8f vs %.8f (%.2e relative), gradient cosine %.8f, largest difference %.2e "
                      + "of the largest gradient", what as NSString, actual, expected, abs(actual - expected) / expected, cosine,
                     worst / scale))
        XCTAssertEqual(ga.count, ge.count, file: file, line: line)
        XCTAssertEqual(actual, expected, accuracy: 1e-5 * abs(expected), "loss", file: file, line: line)
        XCTAssertGreaterThan(cosine, 0.99999, "gradient cosine similarity", file: file, line: line)
        XCTAssertLessThan(worst, 1e-3 * scale, "largest gradient difference", file: file, line: line)
    }
}

/// Cosine similarity of two gradient vectors, in double precision.
func cosineSimilarity(_ a: [Float], _ b: [Float]) -> Double {
    var dot = 0.0, na = 0.0, nb = 0.0
    for (x, y) in zip(a, b) { dot += Double(x) * Double(y); na += Double(x) * Double(x); nb += Double(y) * Double(y) }
    return dot / (na.squareRoot() * nb.squareRoot())
}
