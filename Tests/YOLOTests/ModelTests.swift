import Foundation
import XCTest
@testable import YOLO
import NN
import TensorCore

let yoloFixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

final class ModelTests: XCTestCase {
    /// (name, shape) lines of a reference key list: `backbone.conv1.conv.weight (32, 3, 3, 3)`.
    func referenceKeys(_ file: String) throws -> [(String, [Int])] {
        let text = try String(contentsOf: yoloFixtures.appendingPathComponent(file), encoding: .utf8)
        return text.split(separator: "\n").map { line in
            let parts = line.split(separator: " ", maxSplits: 1)
            let dims = parts[1].filter { "0123456789,".contains($0) }.split(separator: ",").map { Int($0)! }
            return (String(parts[0]), dims)
        }
    }

    func check(_ model: Detector, against file: String) throws {
        let ours = model.namedTensors().map { ($0.0, $0.1.value.shape) }
        let reference = try referenceKeys(file)
        XCTAssertEqual(ours.count, reference.count, "number of state-dict entries")
        for (i, (o, r)) in zip(ours, reference).enumerated() where o.0 != r.0 || o.1 != r.1 {
            XCTFail("entry \(i): ours \(o.0) \(o.1), reference \(r.0) \(r.1)")
            return
        }
    }

    func testYOLOv4TinyMatchesTheReferenceStateDict() throws {
        let model = try YOLOv4Tiny(numClasses: 20)
        try check(model, against: "yolov4_tiny_state_dict_keys.txt")
        XCTAssertEqual(model.parameterCount, 5_918_006)   // ~5.92 M for 20 classes
    }

    func testYOLOv4MatchesTheReferenceStateDict() throws {
        let model = try YOLOv4(numClasses: 20)
        try check(model, against: "yolov4_state_dict_keys.txt")
        XCTAssertEqual(Double(model.parameterCount) / 1e6, 64.0, accuracy: 0.1)
    }

    func testOutputShapesForAnyClassCountAndInput() throws {
        let tiny = try YOLOv4Tiny(numClasses: 3)
        let x = try Tensor.uniform([2, 3, 96, 64], generator: RandomGenerator(seed: 1))
        let outs = try withNoGrad { try tiny.outputs(x) }
        XCTAssertEqual(outs.map(\.shape), [[2, 24, 3, 2], [2, 24, 6, 4]])   // stride 32 first; 3 x (5 + 3)
        let v4 = try YOLOv4(numClasses: 1)
        v4.eval()
        let y = try withNoGrad { try v4.outputs(Tensor.zeros([1, 3, 64, 64])) }
        XCTAssertEqual(y.map(\.shape), [[1, 18, 2, 2], [1, 18, 4, 4], [1, 18, 8, 8]])
    }

    func testInitialisationFollowsTheReference() throws {
        let model = try YOLOv4Tiny(numClasses: 20, seed: 5)
        let named = Dictionary(uniqueKeysWithValues: model.namedTensors().map { ($0.0, $0.1.value) })
        let w = try named["backbone.conv3.conv.weight"]!.toArray()
        let mean = w.reduce(0, +) / Float(w.count)
        let std = (w.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Float(w.count)).squareRoot()
        XCTAssertEqual(mean, 0, accuracy: 0.001)
        XCTAssertEqual(std, 0.02, accuracy: 0.001)
        let gamma = try named["backbone.conv3.bn.weight"]!.toArray()
        XCTAssertEqual(gamma.reduce(0, +) / Float(gamma.count), 1, accuracy: 0.005)
        XCTAssertEqual(try named["backbone.conv3.bn.bias"]!.toArray(), [Float](repeating: 0, count: 512))
        XCTAssertEqual(try named["backbone.conv3.bn.num_batches_tracked"]!.toInt64Array(), [0])
        XCTAssertEqual(try YOLOv4Tiny(numClasses: 20, seed: 5).namedTensors()[0].1.value.toArray(),
                       try named["backbone.conv1.conv.weight"]!.toArray())   // reproducible from the seed
    }

    func testFreezingTheBackboneKeepsBatchNormStatisticsMoving() throws {
        let model = try YOLOv4Tiny(numClasses: 2)
        model.setRequiresGrad(false, prefix: "backbone.")
        let frozen = model.namedParameters().filter { $0.0.hasPrefix("backbone.") }
        XCTAssertTrue(frozen.allSatisfy { !$0.1.requiresGrad })
        XCTAssertTrue(model.namedParameters().filter { !$0.0.hasPrefix("backbone.") }.allSatisfy { $0.1.requiresGrad })
        let runningMean = model.backbone.conv1.bn.runningMean.value
        let before = try runningMean.toArray()
        let outs = try model.outputs(Tensor.uniform([2, 3, 64, 64], generator: RandomGenerator(seed: 2)))
        try (outs[0].sum() + outs[1].sum()).backward()
        XCTAssertNotEqual(try runningMean.toArray(), before)
        XCTAssertEqual(try model.backbone.conv1.bn.batchesTracked.value.toInt64Array(), [1])
        XCTAssertNil(model.backbone.conv1.conv.weight.value.grad)
        XCTAssertNotNil(model.convForP5.conv.weight.value.grad)
    }
}

final class FusedInferenceTests: XCTestCase {
    /// Evaluation folds BatchNorm into the convolution and fuses the activation; the result must
    /// equal conv -> BN (running statistics) -> activation computed step by step.
    func testFoldedUnitsMatchTheUnfusedComputation() throws {
        for activation in [BasicConv.Activation.leaky, .mish] {
            let unit = try BasicConv(5, 7, kernel: 3, stride: 2, activation: activation, generator: RandomGenerator(seed: 9))
            // Non-trivial running statistics and affine parameters.
            try withNoGrad {
                try unit.bn.runningMean.value.copy_(from: Tensor.uniform([7], low: -0.5, high: 0.5, generator: RandomGenerator(seed: 1)))
                try unit.bn.runningVar.value.copy_(from: Tensor.uniform([7], low: 0.5, high: 2, generator: RandomGenerator(seed: 2)))
                try unit.bn.bias.value.copy_(from: Tensor.uniform([7], low: -0.3, high: 0.3, generator: RandomGenerator(seed: 3)))
            }
            unit.eval()
            let x = try Tensor.uniform([2, 5, 9, 8], low: -2, high: 2, generator: RandomGenerator(seed: 4))
            let fused = try withNoGrad { try unit(x) }
            let bnOut = try withNoGrad { try unit.bn(unit.conv(x)) }
            let reference = activation == .mish ? try bnOut.mish() : try bnOut.leakyRelu(0.1)
            let a = try fused.toArray(), b = try reference.toArray()
            XCTAssertEqual(fused.shape, reference.shape)
            for (u, v) in zip(a, b) { XCTAssertEqual(u, v, accuracy: 1e-4 * (1 + abs(v)), "\(activation)") }
        }
    }
}
