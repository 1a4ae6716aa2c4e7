import XCTest
@testable import YOLO
import NN
import TensorCore

/// One training step of YOLOv4-tiny from the project's pretrained weights on a batch of the tiny test
/// project: what the numerical comparisons of whole steps (mixed precision, Winograd) run twice.
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

/// Cosine similarity of two gradient vectors, in double precision.
func cosineSimilarity(_ a: [Float], _ b: [Float]) -> Double {
    var dot = 0.0, na = 0.0, nb = 0.0
    for (x, y) in zip(a, b) { dot += Double(x) * Double(y); na += Double(x) * Double(x); nb += Double(y) * Double(y) }
    return dot / (na.squareRoot() * nb.squareRoot())
}
