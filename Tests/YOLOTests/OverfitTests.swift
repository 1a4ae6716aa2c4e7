import Foundation
import XCTest
@testable import YOLO
import NN
import TensorCore
import Vision

/// End to end on the real model: YOLOv4-tiny learns a handful of demo images.
final class OverfitTests: XCTestCase {
    func testTinyModelOverfitsAFewDemoImages() throws {
        let size = 128
        let augmentation = Augmentation(inputWidth: size, inputHeight: size)
        var samples: [Sample] = []
        for i in 0..<4 {
            let (image, boxes) = DemoDataset.makeImage(rng: RandomGenerator(seed: 77).fork(stream: UInt64(i)), minSide: 128, maxSide: 160)
            samples.append(augmentation.letterbox(image, boxes, rng: RandomGenerator(seed: 1)))
        }
        let images = try Tensor.fromHost(shape: [4, 3, size, size]) { buffer in
            for (i, s) in samples.enumerated() { s.image.writePlanarFloats(into: buffer.baseAddress! + i * 3 * size * size) }
        }
        let targets = samples.map { s in
            s.boxes.map { TargetBox(cx: Float(s.boxes.isEmpty ? 0 : ($0.x1 + $0.x2) / 2 / Double(size)),
                                    cy: Float(($0.y1 + $0.y2) / 2 / Double(size)), w: Float($0.width / Double(size)),
                                    h: Float($0.height / Double(size)), classIndex: $0.classIndex) }
        }
        let anchors: [(Double, Double)] = AnchorsFile.yolov4TinyDefault.map { ($0.0 * Double(size) / 416, $0.1 * Double(size) / 416) }
        let model = try YOLOv4Tiny(numClasses: DemoDataset.classes.count, seed: 3)
        let loss = YOLOLoss(anchors: anchors, numClasses: DemoDataset.classes.count, inputWidth: size, inputHeight: size,
                            anchorsMask: model.anchorsMask)
        let optimizer = Optimizer(.adam, groups: ParameterGroup.yoloGroups(model, weightDecay: 0), lr: 3e-3, momentum: 0.9)
        var first: Float = 0, last: Float = 0
        for step in 0..<120 {
            optimizer.zeroGrad()
            let value = try loss.total(model.outputs(images), targets: targets)
            try value.backward()
            try optimizer.step()
            if step == 0 { first = try value.item() }
            last = try value.item()
        }
        XCTAssertLessThan(last, first / 10, "loss \(first) -> \(last)")
        // The boxes come out: every object is found with its class at predict's default confidence. (At a
        // 96 input a lone 12x16 object stays below it for long: objectness is a mean over all cells.)
        let decoder = Decoder(anchors: anchors, anchorsMask: model.anchorsMask, numClasses: DemoDataset.classes.count,
                              inputWidth: size, inputHeight: size)
        let detections = try withNoGrad {
            try decoder.detect(model.outputs(images), imageSizes: Array(repeating: (size, size), count: 4),
                               settings: DetectionSettings(confidence: 0.5, nmsIoU: 0.3))
        }
        for (s, found) in zip(samples, detections) {
            for b in s.boxes {
                let hit = found.contains { d in
                    let iw = max(0, min(d.right, b.x2) - max(d.left, b.x1)), ih = max(0, min(d.bottom, b.y2) - max(d.top, b.y1))
                    let iou = iw * ih / ((d.right - d.left) * (d.bottom - d.top) + b.width * b.height - iw * ih)
                    return d.classIndex == b.classIndex && iou > 0.5
                }
                XCTAssertTrue(hit, "object \(b) not found among \(found)")
            }
        }
    }
}
