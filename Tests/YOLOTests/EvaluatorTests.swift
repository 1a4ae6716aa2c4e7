import XCTest
@testable import YOLO

final class EvaluatorTests: XCTestCase {
    typealias GT = VOCEvaluator.GroundTruth
    func det(_ c: Int, _ s: Double, _ x1: Double, _ y1: Double, _ x2: Double, _ y2: Double) -> Detection {
        Detection(top: y1, left: x1, bottom: y2, right: x2, classIndex: c, score: s, objectness: s, classProbability: 1)
    }

    func testPerfectDetectionsGiveAPOne() {
        let gt = [[GT(classIndex: 0, x1: 10, y1: 10, x2: 50, y2: 50)], [GT(classIndex: 1, x1: 0, y1: 0, x2: 20, y2: 30)]]
        let dets = [[det(0, 0.9, 10, 10, 50, 50)], [det(1, 0.8, 0, 0, 20, 30)]]
        let e = VOCEvaluator()
        let r = e.evaluate(groundTruth: gt, detections: dets, classCount: 2)
        XCTAssertEqual(r[0]?.ap, 1)
        XCTAssertEqual(r[1]?.ap, 1)
        XCTAssertEqual(e.meanAP(r), 1)
        XCTAssertEqual(r[0]?.f1AtThreshold, 1)
    }

    func testFalsePositiveAheadOfATruePositive() {
        // Two ground truths; detections: FP (0.9), TP (0.8), TP (0.7).
        let gt = [[GT(classIndex: 0, x1: 0, y1: 0, x2: 10, y2: 10), GT(classIndex: 0, x1: 20, y1: 20, x2: 30, y2: 30)]]
        let dets = [[det(0, 0.9, 50, 50, 60, 60), det(0, 0.8, 0, 0, 10, 10), det(0, 0.7, 20, 20, 30, 30)]]
        let r = VOCEvaluator().evaluate(groundTruth: gt, detections: dets, classCount: 1)[0]!
        // recall 0, .5, 1; precision 0, .5, .667 -> monotone .667 from recall 0 to 1 -> AP = 0.5*.667 + 0.5*.667
        XCTAssertEqual(r.ap, 2.0 / 3.0, accuracy: 1e-12)
        XCTAssertEqual(r.truePositives, 2)
    }

    func testDifficultMatchesCountNeitherWayAndDuplicatesAreFalse() {
        let gt = [[GT(classIndex: 0, x1: 0, y1: 0, x2: 10, y2: 10),
                   GT(classIndex: 0, x1: 40, y1: 40, x2: 60, y2: 60, difficult: true)]]
        let dets = [[det(0, 0.9, 40, 40, 60, 60),     // difficult: ignored
                     det(0, 0.8, 0, 0, 10, 10),       // TP
                     det(0, 0.7, 0, 0, 10, 10)]]      // duplicate: FP
        let r = VOCEvaluator().evaluate(groundTruth: gt, detections: dets, classCount: 1)[0]!
        XCTAssertEqual(r.groundTruthCount, 1)          // the difficult box is not counted
        XCTAssertEqual(r.ap, 1, accuracy: 1e-12)       // recall reaches 1 at precision 1 before the duplicate
        XCTAssertEqual(r.precision.last!, 0.5, accuracy: 1e-12)
    }

    func testPlusOnePixelIoUConvention() {
        // Boxes 0..9 and 5..14 overlap 5 pixels of 10 each way: IoU = 25 / 175 with +1 (not 16 / 184 without).
        let gt = [[GT(classIndex: 0, x1: 0, y1: 0, x2: 9, y2: 9)]]
        let e = VOCEvaluator(iouThreshold: 0.14)
        XCTAssertEqual(e.evaluate(groundTruth: gt, detections: [[det(0, 0.9, 5, 5, 14, 14)]], classCount: 1)[0]!.ap, 1)
        let strict = VOCEvaluator(iouThreshold: 0.15)
        XCTAssertEqual(strict.evaluate(groundTruth: gt, detections: [[det(0, 0.9, 5, 5, 14, 14)]], classCount: 1)[0]!.ap, 0)
    }

    func testMeanIgnoresClassesWithoutGroundTruth() {
        let gt = [[GT(classIndex: 0, x1: 0, y1: 0, x2: 10, y2: 10)]]
        let dets = [[det(0, 0.9, 0, 0, 10, 10), det(1, 0.9, 0, 0, 10, 10)]]
        let e = VOCEvaluator()
        XCTAssertEqual(e.meanAP(e.evaluate(groundTruth: gt, detections: dets, classCount: 2)), 1)
    }
}
