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
        try PretrainedStep(self, size: 160, batchSize: 2).assertAgreesWithinFloatRounding(
            "Winograd step against direct", reference: { CPUConvolutions.winograd = false },
            candidate: { CPUConvolutions.winograd = true })
    }
}
