import Foundation
import XCTest
@testable import YOLO
import NN
import TensorCore

/// The loss against values computed here by hand (Double arithmetic, independent code).
final class LossTests: XCTestCase {
    let anchors: [(Double, Double)] = [(10, 14), (23, 27), (37, 58)]
    let ln2 = Foundation.log(2.0)

    /// CIoU in doubles, straight from its definition.
    func ciou(_ a: (Double, Double, Double, Double), _ b: (Double, Double, Double, Double)) -> Double {
        let iw = max(0, min(a.0 + a.2 / 2, b.0 + b.2 / 2) - max(a.0 - a.2 / 2, b.0 - b.2 / 2))
        let ih = max(0, min(a.1 + a.3 / 2, b.1 + b.3 / 2) - max(a.1 - a.3 / 2, b.1 - b.3 / 2))
        let inter = iw * ih, union = a.2 * a.3 + b.2 * b.3 - inter, iou = inter / union
        let ew = max(a.0 + a.2 / 2, b.0 + b.2 / 2) - min(a.0 - a.2 / 2, b.0 - b.2 / 2)
        let eh = max(a.1 + a.3 / 2, b.1 + b.3 / 2) - min(a.1 - a.3 / 2, b.1 - b.3 / 2)
        let d = (a.0 - b.0) * (a.0 - b.0) + (a.1 - b.1) * (a.1 - b.1)
        let v = 4 / (Double.pi * Double.pi) * pow(atan(a.2 / a.3) - atan(b.2 / b.3), 2)
        return iou - d / (ew * ew + eh * eh) - v / max(1 - iou + v, 1e-6) * v
    }

    func testCIoUOnKnownBoxes() throws {
        let same = try BoxMath.ciou(Tensor([1, 1, 2, 2], shape: [1, 4]), Tensor([1, 1, 2, 2], shape: [1, 4]))
        XCTAssertEqual(try same.item(), 1, accuracy: 1e-6)
        let a = (2.0, 3.0, 4.0, 2.0), b = (3.0, 3.5, 2.0, 3.0)
        let ours = try BoxMath.ciou(Tensor([2, 3, 4, 2], shape: [1, 4]), Tensor([3, 3.5, 2, 3], shape: [1, 4])).item()
        XCTAssertEqual(Double(ours), ciou(a, b), accuracy: 1e-5)
        let apart = try BoxMath.ciou(Tensor([0, 0, 1, 1], shape: [1, 4]), Tensor([5, 0, 1, 1], shape: [1, 4])).item()
        XCTAssertEqual(Double(apart), 0 - 25.0 / 37.0, accuracy: 1e-5)   // no overlap: -distance^2 / diagonal^2 (6^2 + 1^2)
    }

    func testOneBoxOneAnchorHit() throws {
        // 64x64 input, one 2x2 layer (stride 32), 2 classes, zero logits: every sigmoid is 0.5 and
        // every predicted box has its anchor's size at the cell centre.
        var loss = YOLOLoss(anchors: anchors, numClasses: 2, inputWidth: 64, inputHeight: 64, anchorsMask: [[0, 1, 2]])
        let target = TargetBox(cx: 0.3, cy: 0.6, w: 0.25, h: 0.4, classIndex: 1)   // 16 x 25.6 pixels
        let value = try loss.layer(0, Tensor.zeros([1, 21, 2, 2]), targets: [[target]]).item()
        // Best anchor by shape IoU with 16 x 25.6: (10,14) 0.342, (23,27) 0.588, (37,58) 0.191 -> anchor 1.
        let truth = (0.6, 1.2, 0.5, 0.8)                        // grid units; cell (0, 1)
        let predicted = (0.5, 1.5, 23.0 / 32, 27.0 / 32)
        let objRatio = 5.0 * 64 * 64 / (416 * 416)
        let expected = ln2 * 0.4 * objRatio + (1 - ciou(predicted, truth)) * 0.05 + ln2 * 2 / 80
        XCTAssertEqual(Double(value), expected, accuracy: 1e-5)
        // Label smoothing changes only the class term: targets become 0.05 and 0.95 for s = 0.1.
        loss.labelSmoothing = 0.1
        let smoothed = try loss.layer(0, Tensor.zeros([1, 21, 2, 2]), targets: [[target]]).item()
        XCTAssertEqual(Double(smoothed), expected, accuracy: 1e-5)   // BCE(0.5, t) = ln 2 for any t
        let logits = try Tensor.full([1, 21, 2, 2], 2)
        let sharp = try loss.layer(0, logits, targets: [[target]]).item()
        loss.labelSmoothing = 0
        let plain = try loss.layer(0, logits, targets: [[target]]).item()
        let p = 1 / (1 + exp(-2.0))
        // class BCE per element with p = sigmoid(2): smoothing moves targets from (0, 1) to (0.05, 0.95)
        let bce = { (t: Double) in -(t * log(p) + (1 - t) * log(1 - p)) }
        let delta = ((bce(0.05) + bce(0.95)) - (bce(0) + bce(1))) / 2 * 2 / 80
        XCTAssertEqual(Double(sharp - plain), delta, accuracy: 1e-4)
    }

    func testIgnoredPredictionIsNotANegative() throws {
        let loss = YOLOLoss(anchors: anchors, numClasses: 1, inputWidth: 64, inputHeight: 64, anchorsMask: [[0, 1, 2]])
        // Ground truth matching anchor 2 (37 x 58) centred in cell (1, 0): anchor 2 there is positive.
        // Anchor 1 (23 x 27) at that cell predicts a box overlapping it with IoU 0.29 (< 0.5): a negative.
        // Anchor 2 at cell (1, 1) with y logit -6 sits at (1.5, 1.0025), 0.5 below the truth: IoU
        // (1.8125 - 0.5025) / (1.8125 + 0.5025) = 0.566 > 0.5, so with a confident logit it is ignored.
        let target = TargetBox(cx: 0.75, cy: 0.25, w: 37.0 / 64, h: 58.0 / 64, classIndex: 0)
        var raw = [Float](repeating: 0, count: 18 * 4)   // [1, 3*6, 2, 2]
        func set(_ anchor: Int, _ attr: Int, _ cell: Int, _ v: Float) { raw[(anchor * 6 + attr) * 4 + cell] = v }
        set(2, 1, 3, -6)     // cell index 3 = (x 1, y 1)
        set(2, 4, 3, 3)      // confident objectness at the ignored cell
        let value = try loss.layer(0, Tensor(raw, shape: [1, 18, 2, 2]), targets: [[target]]).item()
        // Counted cells: the positive (conf 0.5 target 1) and the negatives other than the ignored one, all
        // with conf 0.5 -> every counted BCE is ln 2; the ignored cell (BCE of sigmoid(3) vs 0 = 3.05) is out.
        let objRatio = 5.0 * 64 * 64 / (416 * 416)
        let predicted = (1.5, 0.5, 37.0 / 32, 58.0 / 32), truth = (1.5, 0.5, 37.0 / 32, 58.0 / 32)
        let expected = ln2 * 0.4 * objRatio + (1 - ciou(predicted, truth)) * 0.05 + ln2 * 1 / 80
        XCTAssertEqual(Double(value), expected, accuracy: 1e-5)
    }

    func testEmptyImageHasOnlyTheObjectnessTerm() throws {
        let loss = YOLOLoss(anchors: anchors, numClasses: 2, inputWidth: 64, inputHeight: 64, anchorsMask: [[0, 1, 2]])
        let logits = try Tensor.full([2, 21, 2, 2], -1)
        let value = try loss.layer(0, logits, targets: [[], []]).item()
        let p = 1 / (1 + exp(1.0))   // sigmoid(-1); target 0 everywhere
        XCTAssertEqual(Double(value), -log(1 - p) * 0.4 * 5 * 64 * 64 / (416 * 416), accuracy: 1e-5)
    }

    func testTinyFallsBackToTheNextBestAnchor() {
        // Anchor 0 is in no tiny mask; a box shaped exactly like it goes to the next best that is.
        let tinyAnchors = AnchorsFile.yolov4TinyDefault
        let target = TargetBox(cx: 0.5, cy: 0.5, w: 10.0 / 416, h: 14.0 / 416, classIndex: 0)
        let layer1 = TargetAssignment(targets: [[target]], layer: 1, anchorsMask: [[3, 4, 5], [1, 2, 3]], anchors: tinyAnchors,
                                      inputWidth: 416, inputHeight: 416, gridW: 26, gridH: 26, nextBestFallback: true)
        XCTAssertEqual(layer1.positives.map(\.anchor), [0])   // anchor 1 = first of mask [1, 2, 3]
        let without = TargetAssignment(targets: [[target]], layer: 1, anchorsMask: [[3, 4, 5], [1, 2, 3]], anchors: tinyAnchors,
                                       inputWidth: 416, inputHeight: 416, gridW: 26, gridH: 26, nextBestFallback: false)
        XCTAssertTrue(without.positives.isEmpty)
        XCTAssertTrue(YOLOLoss(anchors: tinyAnchors, numClasses: 1, inputWidth: 416, inputHeight: 416,
                               anchorsMask: [[3, 4, 5], [1, 2, 3]]).nextBestFallback)
    }

    func testFocalObjectness() throws {
        var loss = YOLOLoss(anchors: anchors, numClasses: 2, inputWidth: 64, inputHeight: 64, anchorsMask: [[0, 1, 2]])
        loss.focalLoss = true
        let value = try loss.layer(0, Tensor.zeros([1, 21, 2, 2]), targets: [[]]).item()
        // All negatives, conf 0.5: BCE ln 2 x (1 - alpha) x 0.5^gamma, x 10.
        XCTAssertEqual(Double(value), ln2 * 0.75 * 0.25 * 10 * 0.4 * 5 * 64 * 64 / (416 * 416), accuracy: 1e-5)
    }

    func testLossGradientsMatchFiniteDifferences() throws {
        // Through a small conv head, so the check covers the loss and a layer together.
        let loss = YOLOLoss(anchors: anchors, numClasses: 2, inputWidth: 64, inputHeight: 64, anchorsMask: [[0, 1, 2]])
        let targets = [[TargetBox(cx: 0.3, cy: 0.6, w: 0.25, h: 0.4, classIndex: 1)],
                       [TargetBox(cx: 0.7, cy: 0.2, w: 0.5, h: 0.3, classIndex: 0), TargetBox(cx: 0.2, cy: 0.3, w: 0.2, h: 0.2, classIndex: 1)]]
        let features = try Tensor.uniform([2, 4, 2, 2], low: -1, high: 1, generator: RandomGenerator(seed: 3))
        let weight = try Tensor.normal([21, 4, 1, 1], std: 0.3, generator: RandomGenerator(seed: 4))
        weight.requiresGrad = true
        try loss.total([features.conv2d(weight: weight)], targets: targets).backward()
        let analytic = try weight.grad!.toArray()
        var values = try weight.toArray()
        let eps: Float = 1e-2
        for i in stride(from: 0, to: values.count, by: 3) {
            let original = values[i]
            func f(_ v: Float) throws -> Float {
                values[i] = v
                return try withNoGrad { try loss.total([features.conv2d(weight: Tensor(values, shape: [21, 4, 1, 1]))], targets: targets).item() }
            }
            let numeric = (try f(original + eps) - f(original - eps)) / (2 * eps)
            values[i] = original
            XCTAssertEqual(analytic[i], numeric, accuracy: 2e-3 + 0.03 * abs(numeric), "weight \(i)")
        }
    }
}
