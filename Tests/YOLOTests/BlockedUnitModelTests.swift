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
        try PretrainedStep(self, size: 160, batchSize: 2).assertAgreesWithinFloatRounding(
            "Blocked units against NCHW", reference: { CPUConvolutions.blockedUnits = false },
            candidate: { CPUConvolutions.blockedUnits = true })
    }
}
