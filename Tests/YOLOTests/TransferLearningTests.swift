import Foundation
import NN
import TensorCore
import XCTest
@testable import YOLO

/// The project's pretrained weights (scripts/pretrain.sh, committed under model_data/) and the demo's
/// two-phase fine-tuning from them.
final class TransferLearningTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let full = root.appendingPathComponent("model_data/yolov4_tiny_pretrained_shapes.pth").path
    static let backbone = root.appendingPathComponent("model_data/CSPdarknet53_tiny_backbone_weights.pth").path

    func testCommittedWeightsLoadWholeAndBackboneOnly() throws {
        for path in [Self.full, Self.backbone] { XCTAssertTrue(FileManager.default.fileExists(atPath: path), path) }
        // Half precision on disk, float32 in the model.
        let stored = try XCTUnwrap(try PthReader.load(Self.full).stateDict)
        XCTAssertEqual(stored.first { $0.0.hasSuffix("conv.weight") }?.1.dtype, .float16)

        let model = try YOLOv4Tiny(numClasses: 5, seed: 1)
        let whole = try WeightLoading.load(Self.full, into: model)
        XCTAssertFalse(whole.backboneOnly)
        XCTAssertEqual(whole.backboneLoaded, whole.backboneTotal)
        // 20 pretraining classes against the demo's 5: only the two output convolutions (weight and bias) differ.
        XCTAssertEqual(Set(whole.report.skipped.map(\.key)),
                       ["yolo_headP5.1.weight", "yolo_headP5.1.bias", "yolo_headP4.1.weight", "yolo_headP4.1.bias"])
        XCTAssertTrue(whole.messages.contains { $0.contains("trained for 20 classes, but the model has 5") }, "\(whole.messages)")
        XCTAssertEqual(model.backbone.conv1.conv.weight.value.dtype, .float32)

        let fresh = try YOLOv4Tiny(numClasses: 5, seed: 1)
        let bare = try WeightLoading.load(Self.backbone, into: fresh)
        XCTAssertTrue(bare.backboneOnly)
        XCTAssertEqual(bare.backboneLoaded, bare.backboneTotal)
        XCTAssertTrue(bare.messages[0].contains("holds backbone weights only"), bare.messages[0])
        // The same backbone in both files.
        for ((name, a), (_, b)) in zip(model.backbone.namedTensors(), fresh.backbone.namedTensors()) where a.value.dtype == .float32 {
            XCTAssertEqual(try a.value.toArray(), try b.value.toArray(), name)
        }
    }

    /// The point of pretraining: with the backbone frozen, the heads learn the demo's shapes faster on
    /// pretrained features than on random ones.
    func testFrozenFineTuningFromThePretrainedWeightsReachesALowerLossThanFromScratch() throws {
        let (root, base) = try tinyTrainingProject(self)
        func run(_ modelPath: String) throws -> [Double] {
            var c = base
            c.inputShape = [224, 224]
            c.modelPath = modelPath
            c.freezeTrain = true
            c.freezeEpoch = 4
            c.unfreezeEpoch = 4
            c.freezeBatchSize = 2
            c.initLR = 3.2e-2   // fitted: 2 / 64 x 3.2e-2 = 1e-3
            c.evalFlag = false
            c.saveDir = root.appendingPathComponent("logs-" + (modelPath.isEmpty ? "scratch" : "pretrained")).path
            let t = Trainer(config: c, log: { _ in })
            t.showProgress = false
            return try t.run().losses
        }
        let pretrained = try run(Self.full), scratch = try run("")
        print("frozen fine-tuning losses: pretrained \(pretrained), scratch \(scratch)")
        // Equal at the start (the same random heads, objectness of empty cells dominating), lower in every
        // later epoch, and by 5 % or more at the end (8 % measured).
        XCTAssertEqual(pretrained[0], scratch[0], accuracy: 0.01)
        for e in 1..<pretrained.count { XCTAssertLessThan(pretrained[e], scratch[e], "epoch \(e + 1)") }
        XCTAssertLessThan(pretrained.last!, scratch.last! * 0.95, "pretrained \(pretrained) against scratch \(scratch)")
    }

    /// What the main command shows, through the train executable: the weights loaded, the frozen phase
    /// with its batch size and lr, then the switch to the unfrozen one with its own.
    func testTheTrainExecutablePrintsTheFrozenThenTheUnfrozenPhase() throws {
        let (root, c) = try tinyTrainingProject(self)
        let config = try tinyParameterFile(root: root, c, epochs: 2, extra: """
            model_path = '\(Self.full)'
            Freeze_Train = True
            Freeze_Epoch = 1
            Freeze_batch_size = 2
            Unfreeze_batch_size = 2
            Init_lr = 2e-2
            eval_flag = False
            """)
        let run = try runTool("train", ["--config", config], in: root)
        XCTAssertEqual(run.status, 0, run.errors)
        let lines = run.output.split(separator: "\n").map(String.init)
        func index(_ fragment: String) -> Int? { lines.firstIndex { $0.contains(fragment) } }
        let order = ["Load weights", "trained for 20 classes, but the model has 5",
                     "Backbone frozen for epochs 1-1 (Freeze_batch_size 2, lr 0.000625 to",
                     "Epoch:1/2", "Unfreezing the backbone at epoch 2: batch size 2, lr 0.000625 to", "Epoch:2/2"]
        let found = order.map(index)
        XCTAssertFalse(found.contains(nil), "missing \(zip(order, found).filter { $0.1 == nil }.map(\.0)) in\n\(run.output)")
        XCTAssertEqual(found.compactMap { $0 }, found.compactMap { $0 }.sorted(), run.output)
    }
}
