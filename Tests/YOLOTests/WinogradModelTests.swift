import XCTest
@testable import YOLO
import NN
import TensorCore

/// A whole YOLOv4-tiny training step with the Winograd convolutions against the direct method: the
/// same loss and gradients up to float32 rounding (the two methods sum in different orders).
final class WinogradModelTests: XCTestCase {
    override func tearDown() {
        CPUConvolutions.winograd = true
        super.tearDown()
    }

    func testATrainingStepWithWinogradEqualsTheDirectOneWithinFloatRounding() throws {
        var (_, c) = try tinyTrainingProject(self)
        c.inputShape = [160, 160]
        let data = try TrainingData(config: c)
        let b = try XCTUnwrap(try DataLoader(dataset: data.trainSet, batchSize: 2, shuffle: false, seed: 1, workers: 0)
            .batches(epoch: 0).nextBatch())
        let loss = YOLOLoss(anchors: data.anchors, numClasses: 5, inputWidth: 160, inputHeight: 160, anchorsMask: c.anchorsMask)
        func step(winograd: Bool) throws -> (Double, [Float]) {
            CPUConvolutions.winograd = winograd
            let model = try YOLOv4Tiny(numClasses: 5, anchorsMask: c.anchorsMask, seed: 3)
            _ = try WeightLoading.load(TransferLearningTests.full, into: model)
            let total = try loss.terms(try model.outputs(b.images), targets: b.targets).total
            try total.backward()
            return (Double(try total.item()), try model.namedParameters().flatMap { try $0.1.value.grad?.toArray() ?? [] })
        }
        let (direct, gd) = try step(winograd: false)
        let (winograd, gw) = try step(winograd: true)
        var dot = 0.0, nd = 0.0, nw = 0.0, worst = 0.0
        for (a, b) in zip(gd, gw) {
            dot += Double(a) * Double(b); nd += Double(a) * Double(a); nw += Double(b) * Double(b)
            worst = max(worst, Double(abs(a - b)))
        }
        let cosine = dot / (nd.squareRoot() * nw.squareRoot())
        let scale = gd.map { Double(abs($0)) }.max() ?? 1
        print(String(format: "Winograd step against direct: loss %.8f vs %.8f (%.2e relative), gradient cosine %.8f, "
                      + "largest difference %.2e of the largest gradient", winograd, direct, abs(winograd - direct) / direct,
                      cosine, worst / scale))
        XCTAssertEqual(gw.count, gd.count)
        XCTAssertEqual(winograd, direct, accuracy: 1e-5 * abs(direct), "loss")
        XCTAssertGreaterThan(cosine, 0.99999, "gradient cosine similarity")
        XCTAssertLessThan(worst, 1e-3 * scale, "largest gradient difference")
    }
}
