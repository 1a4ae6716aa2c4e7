import Foundation
import XCTest
@testable import YOLO
import NN
import TensorCore

final class WeightLoadingTests: XCTestCase {
    func save(_ state: [(String, Tensor)], _ name: String) throws -> String {
        let path = temporaryFolder(self, "weights").appendingPathComponent(name).path
        try PthWriter.save(stateDict: state, to: path)
        return path
    }

    func testSameModelLoadsEverything() throws {
        let source = try YOLOv4Tiny(numClasses: 5, seed: 1)
        let path = try save(source.stateDict(), "same.pth")
        let target = try YOLOv4Tiny(numClasses: 5, seed: 2)
        let outcome = try WeightLoading.load(path, into: target)
        XCTAssertEqual(outcome.report.loaded.count, 118)
        XCTAssertTrue(outcome.report.skipped.isEmpty)
        XCTAssertEqual(try target.convForP5.conv.weight.value.toArray(), try source.convForP5.conv.weight.value.toArray())
        XCTAssertEqual(try target.backbone.conv1.bn.batchesTracked.value.toInt64Array(), [0])
    }

    func testOtherClassCountSkipsTheHeadsAndSaysSo() throws {
        let coco = try YOLOv4Tiny(numClasses: 80, seed: 1)
        let path = try save(coco.stateDict(), "coco.pth")
        let mine = try YOLOv4Tiny(numClasses: 5, seed: 2)
        let outcome = try WeightLoading.load(path, into: mine, classesPath: "model_data/my_classes.txt")
        XCTAssertEqual(outcome.report.skipped.count, 4)   // the two 1x1 output convs, weight and bias
        XCTAssertTrue(outcome.report.skipped.allSatisfy { $0.key.contains("yolo_head") })
        let text = outcome.messages.joined(separator: "\n")
        XCTAssertTrue(text.contains("trained for 80 classes, but the model has 5 (from model_data/my_classes.txt)"), text)
        XCTAssertTrue(text.contains("Successful Load Key: 114"))
        XCTAssertTrue(text.contains("it is normal that the head part is not loaded"))
    }

    func testBackboneOnlyFileLoadsIntoTheBackbone() throws {
        let source = try YOLOv4Tiny(numClasses: 5, seed: 1)
        let backbone = source.stateDict().filter { $0.0.hasPrefix("backbone.") }.map { (String($0.0.dropFirst(9)), $0.1) }
        let path = try save(backbone, "backbone.pth")
        let target = try YOLOv4Tiny(numClasses: 5, seed: 2)
        let outcome = try WeightLoading.load(path, into: target)
        XCTAssertTrue(outcome.backboneOnly)
        XCTAssertEqual(outcome.report.loaded.count, backbone.count)
        XCTAssertEqual(try target.backbone.conv3.conv.weight.value.toArray(), try source.backbone.conv3.conv.weight.value.toArray())
        XCTAssertTrue(outcome.messages[0].contains("backbone weights only"))
    }

    func testWeightsOfTheOtherModelAreRefused() throws {
        let tiny = try YOLOv4Tiny(numClasses: 5, seed: 1)
        let path = try save(tiny.stateDict().filter { !$0.0.hasPrefix("backbone.conv") && !$0.0.hasPrefix("conv_for") && !$0.0.hasPrefix("yolo_head") && !$0.0.hasPrefix("upsample") }, "tiny.pth")
        let v4 = try YOLOv4(numClasses: 5)
        XCTAssertThrowsError(try WeightLoading.load(path, into: v4)) { assertMessage($0, contains: ["tiny.pth", "these are yolov4-tiny weights; the model is yolov4"]) }
    }
}

final class DetectionRunnerLoadingTests: XCTestCase {
    func testWeightsForOtherClassesAreRefusedNamingBothCounts() throws {
        let folder = temporaryFolder(self, "runner")
        let weights = folder.appendingPathComponent("coco.pth").path
        try PthWriter.save(stateDict: YOLOv4Tiny(numClasses: 80, seed: 1).stateDict(), to: weights)
        try write("10,14, 23,27, 37,58, 81,82, 135,169, 344,319\n", folder.appendingPathComponent("anchors.txt"))
        var config = TrainConfig()
        config.classesPath = "model_data/mine.txt"
        config.anchorsPath = folder.appendingPathComponent("anchors.txt").path
        XCTAssertThrowsError(try DetectionRunner.load(weights: weights, config: config, classes: ClassNames(["a", "b", "c", "d", "e"]),
                                                      settings: DetectionSettings())) {
            assertMessage($0, contains: ["trained for 80 classes", "the model has 5", "model_data/mine.txt"])
        }
        let runner = try DetectionRunner.load(weights: weights, config: config, classes: ClassNames((0..<80).map { "c\($0)" }),
                                              settings: DetectionSettings())
        XCTAssertEqual(runner.model.numClasses, 80)
        XCTAssertEqual(runner.decoder.inputWidth, 416)
    }
}
