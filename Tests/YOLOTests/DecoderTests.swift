import Foundation
import XCTest
@testable import YOLO
import TensorCore

final class DecoderTests: XCTestCase {
    let decoder = Decoder(anchors: [(10, 14), (23, 27), (37, 58)], anchorsMask: [[0, 1, 2]], numClasses: 2, inputWidth: 64, inputHeight: 64)

    /// Raw [1, 21, 2, 2] output with strong negative logits except where set.
    func output(_ set: [(anchor: Int, attr: Int, cell: Int, value: Float)]) throws -> Tensor {
        var raw = [Float](repeating: -10, count: 21 * 4)
        for a in 0..<3 { for c in 0..<4 { raw[(a * 7 + 2) * 4 + c] = 0; raw[(a * 7 + 3) * 4 + c] = 0 } }
        for s in set { raw[(s.anchor * 7 + s.attr) * 4 + s.cell] = s.value }
        return try Tensor(raw, shape: [1, 21, 2, 2])
    }

    func testDecodesOneBoxIntoImagePixels() throws {
        // Anchor 1 (23 x 27) at cell (1, 0) with tx = ty = 0 (centre of the cell), tw = ln 2 (twice as wide).
        let out = try output([(1, 0, 1, 0), (1, 1, 1, 0), (1, 2, 1, Float(log(2.0))), (1, 4, 1, 5), (1, 6, 1, 5)])
        let d = try decoder.detect([out], imageSizes: [(128, 64)], settings: DetectionSettings(confidence: 0.5)).first!
        XCTAssertEqual(d.count, 1)
        let box = d[0]
        XCTAssertEqual(box.classIndex, 1)
        let s = 1 / (1 + exp(-5.0))
        XCTAssertEqual(box.score, s * s, accuracy: 1e-6)
        // centre (1.5 / 2, 0.5 / 2) of the input; width 46 / 64, height 27 / 64 of it; plain resize to 128 x 64.
        XCTAssertEqual(box.left, (0.75 - 23.0 / 64) * 128, accuracy: 1e-3)
        XCTAssertEqual(box.right, (0.75 + 23.0 / 64) * 128, accuracy: 1e-3)
        XCTAssertEqual(box.top, (0.25 - 13.5 / 64) * 64, accuracy: 1e-3)
        XCTAssertEqual(box.bottom, (0.25 + 13.5 / 64) * 64, accuracy: 1e-3)
        // Below the confidence nothing comes out.
        XCTAssertTrue(try decoder.detect([out], imageSizes: [(128, 64)], settings: DetectionSettings(confidence: 0.99))[0].isEmpty)
    }

    func testLetterboxCorrection() throws {
        // A 128 x 64 image letterboxed into 64 x 64: scale 0.5, 64 x 32 placed 16 rows down.
        let out = try output([(1, 0, 1, 0), (1, 1, 1, 0), (1, 4, 1, 5), (1, 5, 1, 5)])
        let d = try decoder.detect([out], imageSizes: [(128, 64)], settings: DetectionSettings(confidence: 0.5, letterbox: true))[0][0]
        // centre in input pixels (48, 16) -> image ((48 - 0) / 0.5, (16 - 16) / 0.5) = (96, 0)
        XCTAssertEqual((d.left + d.right) / 2, 96, accuracy: 1e-3)
        XCTAssertEqual((d.top + d.bottom) / 2, 0, accuracy: 1e-3)
        XCTAssertEqual(d.right - d.left, 46, accuracy: 1e-3)   // 23 input pixels x 2
    }

    func testNonMaxSuppressionPerClass() {
        typealias C = Decoder.Candidate
        let boxes = [C(x1: 0, y1: 0, x2: 10, y2: 10, objectness: 0.9, classProbability: 1, classIndex: 0),
                     C(x1: 1, y1: 1, x2: 11, y2: 11, objectness: 0.8, classProbability: 1, classIndex: 0),   // IoU 0.68 with the first
                     C(x1: 1, y1: 1, x2: 11, y2: 11, objectness: 0.7, classProbability: 1, classIndex: 1),   // other class: kept
                     C(x1: 20, y1: 20, x2: 30, y2: 30, objectness: 0.6, classProbability: 1, classIndex: 0)]
        let kept = Decoder.nonMaxSuppression(boxes, iou: 0.5)
        XCTAssertEqual(kept.map(\.objectness), [0.9, 0.6, 0.7])
        XCTAssertEqual(Decoder.nonMaxSuppression(boxes, iou: 0.7).count, 4)   // 0.68 < 0.7: nothing suppressed
        XCTAssertEqual(Decoder.iou(boxes[0], boxes[1]), 81.0 / 119.0, accuracy: 1e-12)
    }

    func testWrongClassCountSaysSo() throws {
        let out = try Tensor.zeros([1, 24, 2, 2])   // 3 x (5 + 3)
        XCTAssertThrowsError(try decoder.detect([out], imageSizes: [(64, 64)], settings: DetectionSettings())) {
            assertMessage($0, contains: ["24 channels", "2 classes", "21 expected", "classes file"])
        }
    }
}
