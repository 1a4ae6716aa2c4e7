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
        let pretrained = try PretrainedStep(self, size: 160, batchSize: 2)
        func step(winograd: Bool) throws -> (Double, [Float]) {
            CPUConvolutions.winograd = winograd
            let (total, gradients) = try pretrained.run()
            return (Double(try total.item()), gradients)
        }
        let (direct, gd) = try step(winograd: false)
        let (winograd, gw) = try step(winograd: true)
        let cosine = cosineSimilarity(gd, gw)
        let worst = zip(gd, gw).map { Double(abs($0 - $1)) }.max() ?? 0
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
