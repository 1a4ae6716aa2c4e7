import Foundation
import XCTest
@testable import YOLO

final class ConfigTests: XCTestCase {
    func file(_ text: String) throws -> String {
        let url = temporaryFolder(self, "config").appendingPathComponent("train.swift-config")
        try write(text, url)
        return url.path
    }

    func testValuesListsAndArithmetic() throws {
        let path = try file("""
        # a comment
        model = 'yolov4'           # trailing comment
        Cuda = True
        anchors_mask = [[6, 7, 8], [3, 4, 5], [0, 1, 2]]
        input_shape = [320, 256]
        Init_lr = 1e-2
        Min_lr = Init_lr * 0.01
        momentum = 0.9 - 0.0
        Freeze_Epoch = 2 * 5
        UnFreeze_Epoch = (Freeze_Epoch + 10) * 2
        Freeze_batch_size = 2 ** 3
        classes_path = "model_data/a # b.txt"
        """)
        let c = try TrainConfig.load(path: path)
        XCTAssertEqual(c.model, "yolov4")
        XCTAssertTrue(c.cuda)
        XCTAssertEqual(c.anchorsMask, [[6, 7, 8], [3, 4, 5], [0, 1, 2]])
        XCTAssertEqual(c.inputShape, [320, 256])
        XCTAssertEqual(c.minLR, 1e-4, accuracy: 1e-15)
        XCTAssertEqual(c.freezeEpoch, 10)
        XCTAssertEqual(c.unfreezeEpoch, 40)
        XCTAssertEqual(c.freezeBatchSize, 8)
        XCTAssertEqual(c.classesPath, "model_data/a # b.txt")
    }

    func testOverridesApplyInOrderAndSeeEarlierKeys() throws {
        let path = try file("Init_lr = 1e-3\nMin_lr = Init_lr * 0.01\n")
        let c = try TrainConfig.load(path: path, overrides: ["Init_lr=2e-3", "Min_lr = Init_lr / 10", "UnFreeze_Epoch=5", "Freeze_Epoch=2"])
        XCTAssertEqual(c.initLR, 2e-3)
        XCTAssertEqual(c.minLR, 2e-4, accuracy: 1e-15)
        XCTAssertEqual(c.unfreezeEpoch, 5)
    }

    func testErrorsNameTheLineAndSuggest() throws {
        func expect(_ text: String, _ fragments: [String], overrides: [String] = [], line: UInt = #line) throws {
            let path = try file(text)
            XCTAssertThrowsError(try TrainConfig.load(path: path, overrides: overrides), line: line) { error in
                for f in fragments where !"\(error)".contains(f) { XCTFail("'\(error)' does not mention '\(f)'", line: line) }
            }
        }
        try expect("seed = 1\nFreeze_epoch = 5\n", ["train.swift-config:2", "unknown key 'Freeze_epoch'", "did you mean 'Freeze_Epoch'"])
        try expect("Init_lr = 1e-3 +\n", ["train.swift-config:1", "ends early"])
        try expect("classes_path = model_data/x.txt\n", ["train.swift-config:1", "need quotes", "'model_data/x.txt'"])
        try expect("optimizer_type = adam\n", ["'adam' is not defined", "need quotes"])
        try expect("Cuda = 1\n", ["Cuda = 1 is an integer, expected True or False"])
        try expect("input_shape = [416, 400]\n", ["input_shape = [416, 400]", "multiples of 32"])
        try expect("Unfreeze_batch_size = 1\n", ["Unfreeze_batch_size = 1", "at least 2"])
        try expect("Freeze_Epoch = 60\nUnFreeze_Epoch = 50\n", ["Freeze_Epoch = 60", "UnFreeze_Epoch = 50"])
        try expect("optimizer_type = 'rmsprop'\n", ["'rmsprop' is not one of", "'adamw'"])
        try expect("seed 11\n", ["expected 'name = value'"])
        try expect("", ["unknown key 'lr'"], overrides: ["lr=0.1"])
    }

    func testLearningRateFitting() {
        // YOLOv4 example of the reference: SGD... with Adam's 1e-3, bs 8 -> 1.25e-4 clipped up to 3e-4.
        let sgd8 = LearningRate.fitted(initLR: 1e-2, minLR: 1e-4, batchSize: 8, optimizer: "sgd")
        XCTAssertEqual(sgd8.initial, 1.25e-3, accuracy: 1e-15)
        XCTAssertEqual(sgd8.minimum, 1.25e-5, accuracy: 1e-15)
        let sgd4 = LearningRate.fitted(initLR: 1e-2, minLR: 1e-4, batchSize: 4, optimizer: "sgd")
        XCTAssertEqual(sgd4.initial, 6.25e-4, accuracy: 1e-15)
        XCTAssertEqual(sgd4.minimum, 6.25e-6, accuracy: 1e-15)
        let adam = LearningRate.fitted(initLR: 1e-3, minLR: 1e-5, batchSize: 8, optimizer: "adam")
        XCTAssertEqual(adam.initial, 3e-4, accuracy: 1e-15)          // 1.25e-4 raised to the limit
        XCTAssertEqual(adam.minimum, 3e-6, accuracy: 1e-15)
        XCTAssertEqual(LearningRate.fitted(initLR: 1, minLR: 1, batchSize: 64, optimizer: "sgd").initial, 5e-2)
    }

    func testSchedules() throws {
        // cos, total 100: warm = 3, lr0 = 0.1 lr, tail = 5.
        let lr = 0.01, minLR = 0.0001
        func cos(_ e: Int) throws -> Double { try LearningRate.scheduled("cos", lr: lr, minLR: minLR, total: 100, epoch: e) }
        XCTAssertEqual(try cos(0), 0.001, accuracy: 1e-15)
        XCTAssertEqual(try cos(1), (lr - 0.001) * 1.0 / 9 + 0.001, accuracy: 1e-15)
        XCTAssertEqual(try cos(3), lr, accuracy: 1e-15)
        XCTAssertEqual(try cos(50), minLR + 0.5 * (lr - minLR) * (1 + Foundation.cos(Double.pi * 47 / 92)), accuracy: 1e-15)
        XCTAssertEqual(try cos(95), minLR)
        XCTAssertEqual(try cos(99), minLR)
        // step: rate = (min/lr)^(1/9), size = total / 10.
        func step(_ e: Int) throws -> Double { try LearningRate.scheduled("step", lr: lr, minLR: minLR, total: 100, epoch: e) }
        XCTAssertEqual(try step(9), lr)
        XCTAssertEqual(try step(10), lr * pow(0.01, 1.0 / 9), accuracy: 1e-15)
        XCTAssertEqual(try step(95), minLR, accuracy: 1e-15)
        XCTAssertThrowsError(try LearningRate.scheduled("step", lr: lr, minLR: minLR, total: 5, epoch: 0))
    }
}
