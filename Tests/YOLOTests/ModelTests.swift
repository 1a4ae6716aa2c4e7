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

final class ChannelsLastInferenceTests: XCTestCase {
    override func tearDown() { ChannelsLastInference.enabled = true }

    /// Evaluation keeps the convolution outputs channels-last between layers; the heads must give
    /// what the plain NCHW chain gives.
    func testBothModelsGiveTheNCHWChainsOutputs() throws {
        for big in [false, true] {
            let model: Detector = big ? try YOLOv4(numClasses: 3, seed: 4) : try YOLOv4Tiny(numClasses: 3, seed: 4)
            model.eval()
            let x = try Tensor.uniform([2, 3, 64, 64], low: 0, high: 1, generator: RandomGenerator(seed: 6))
            ChannelsLastInference.enabled = true
            var layouts: [Bool] = []
            Module.observer = { module, y in if module is Conv2d { layouts.append(y.isChannelsLast && !y.isContiguous) } }
            let kept = try withNoGrad { try model.outputs(x) }
            Module.observer = nil
            XCTAssertGreaterThan(layouts.filter { $0 }.count, layouts.count / 2, "most units stay channels-last")
            ChannelsLastInference.enabled = false
            let plain = try withNoGrad { try model.outputs(x) }
            XCTAssertEqual(kept.count, plain.count)
            for (a, b) in zip(kept, plain) {
                XCTAssertEqual(a.shape, b.shape)
                let u = try a.toArray(), v = try b.toArray()
                for (p, q) in zip(u, v) { XCTAssertEqual(p, q, accuracy: 1e-4 * (1 + abs(q)), big ? "yolov4" : "tiny") }
            }
        }
    }
}

final class FusedTrainingTests: XCTestCase {
    /// Training runs batch norm and its activation as one kernel; a whole step (loss and every
    /// parameter's gradient, both models) must equal the unfused chain's within float noise. The
    /// noise is measured: the unfused chain on the image scaled by 1 + 1e-6. Randomly initialised
    /// YOLOv4 at 64x64 amplifies such noise to tens of percent in single gradients (8 values per
    /// channel in its deepest batch norms), so the comparison is over the whole gradient vector.
    func testWholeModelLossAndGradientsMatchTheUnfusedChain() throws {
        let targets = [[TargetBox(cx: 0.4, cy: 0.5, w: 0.3, h: 0.4, classIndex: 1)],
                       [TargetBox(cx: 0.7, cy: 0.3, w: 0.2, h: 0.25, classIndex: 0),
                        TargetBox(cx: 0.3, cy: 0.7, w: 0.5, h: 0.4, classIndex: 2)]]
        let image = try Tensor.uniform([2, 3, 64, 64], generator: RandomGenerator(seed: 21))
        let anchors: [(Double, Double)] = [(10, 14), (23, 27), (37, 58), (81, 82), (135, 169), (344, 319),
                                           (12, 16), (19, 36), (40, 28)]
        for name in ["yolov4-tiny", "yolov4"] {
            func step(fused: Bool, nudge: Float) throws -> (loss: Float, gradients: [Tensor]) {
                BatchNorm2d.fusesTrainingActivation = fused
                defer { BatchNorm2d.fusesTrainingActivation = true }
                let model: Module & Detector = name == "yolov4"
                    ? try YOLOv4(numClasses: 3, seed: 4) : try YOLOv4Tiny(numClasses: 3, seed: 4)
                let loss = YOLOLoss(anchors: Array(anchors.prefix(name == "yolov4" ? 9 : 6)), numClasses: 3,
                                    inputWidth: 64, inputHeight: 64, anchorsMask: model.anchorsMask)
                let value = try loss.total(model.outputs(image * (1 + nudge)), targets: targets)
                try value.backward()
                return (try value.item(), model.namedParameters().map { $0.1.value.grad! })
            }
            func cosine(_ a: [Tensor], _ b: [Tensor]) throws -> Double {
                var dot = 0.0, aa = 0.0, bb = 0.0
                for (x, y) in zip(a, b) {
                    dot += Double(try (x * y).sum().item()); aa += Double(try x.square().sum().item())
                    bb += Double(try y.square().sum().item())
                }
                return dot / (aa * bb).squareRoot()
            }
            let fused = try step(fused: true, nudge: 0), unfused = try step(fused: false, nudge: 0)
            let nudged = try step(fused: false, nudge: 1e-6)
            let noise = 1 - (try cosine(unfused.gradients, nudged.gradients))
            let difference = 1 - (try cosine(fused.gradients, unfused.gradients))
            XCTAssertEqual(fused.loss, unfused.loss, accuracy: 1e-4 * abs(unfused.loss), name)
            XCTAssertLessThan(difference, max(10 * noise, 1e-6), "\(name): 1 - cosine of the gradients (noise \(noise))")
        }
    }
}
