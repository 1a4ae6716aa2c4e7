import XCTest
@testable import YOLO
import NN
import TensorCore

/// A whole YOLOv4-tiny training step with its conv-BN-activation units in oneDNN's blocked layout
/// against the same step with every activation in NCHW: the same loss and gradients up to float32
/// rounding (the batch norm sums in another order).
final class BlockedUnitModelTests: XCTestCase {
    override func tearDown() {
        CPUConvolutions.blockedUnits = true
        super.tearDown()
    }

    func testATrainingStepWithBlockedUnitsEqualsTheNCHWOneWithinFloatRounding() throws {
        let pretrained = try PretrainedStep(self, size: 160, batchSize: 2)
        func step(blocked: Bool) throws -> (Double, [Float]) {
            CPUConvolutions.blockedUnits = blocked
            let (total, gradients) = try pretrained.run()
            return (Double(try total.item()), gradients)
        }
        let (nchw, gn) = try step(blocked: false)
        let (blocked, gb) = try step(blocked: true)
        let cosine = cosineSimilarity(gn, gb)
        let worst = zip(gn, gb).map { Double(abs($0 - $1)) }.max() ?? 0
        let scale = gn.map { Double(abs($0)) }.max() ?? 1
        print(String(format: "Blocked units against NCHW: loss %.8f vs %.8f (%.2e relative), gradient cosine %.8f, "
                      + "largest difference %.2e of the largest gradient", blocked, nchw, abs(blocked - nchw) / nchw,
                      cosine, worst / scale))
        XCTAssertEqual(gb.count, gn.count)
        XCTAssertEqual(blocked, nchw, accuracy: 1e-5 * abs(nchw), "loss")
        XCTAssertGreaterThan(cosine, 0.99999, "gradient cosine similarity")
        XCTAssertLessThan(worst, 1e-3 * scale, "largest gradient difference")
    }
}
