import XCTest
@testable import YOLO
import CUDABackend
import TensorCore

final class DeviceSelectionTests: XCTestCase {
    func testCudaFallsBackToTheCPUWithAReasonButAnExplicitDeviceIsAnError() throws {
        if case .success = CUDA.install() { throw XCTSkip("a GPU is usable here: the fallback is not exercised") }
        var lines: [String] = []
        XCTAssertEqual(try DeviceSelection.choose(cuda: true, log: { lines.append($0) }), .cpu)
        XCTAssertEqual(lines.count, 1)
        XCTAssertTrue(lines[0].hasPrefix("Warning: Cuda = True, but CUDA is not usable") && lines[0].hasSuffix("Running on the CPU."),
                      lines[0])
        XCTAssertThrowsError(try DeviceSelection.choose(cuda: false, requested: "cuda:1", log: { _ in })) { error in
            XCTAssertTrue("\(error)".hasPrefix("--device cuda:1: CUDA is not usable"), "\(error)")
        }
        XCTAssertEqual(try DeviceSelection.choose(cuda: true, requested: "cpu", log: { _ in XCTFail("no message for the CPU") }), .cpu)
        XCTAssertThrowsError(try DeviceSelection.choose(cuda: false, requested: "tpu", log: { _ in }))
    }

    func testOutOfMemoryIsRetoldWithThePhaseAndTheKeyToLower() {
        let original = TensorError("out of GPU memory on cuda:0 (H100): asked for 512 MiB")
        let told = DeviceSelection.explainOutOfMemory(original, phase: "unfrozen", batchSize: 16, key: "Unfreeze_batch_size")
        XCTAssertTrue("\(told)".contains("asked for 512 MiB"))
        XCTAssertTrue("\(told)".contains("in the unfrozen phase at batch size 16: lower Unfreeze_batch_size"), "\(told)")
        let other = TensorError("conv2d: shapes differ")
        XCTAssertEqual("\(DeviceSelection.explainOutOfMemory(other, phase: "frozen", batchSize: 8, key: "Freeze_batch_size"))",
                       "\(other)")
    }
}
