import Foundation
import XCTest
@testable import YOLO

final class MapFilesTests: XCTestCase {
    func testLogAverageMissRate() {
        // Recall 0.5 with no false positive at any FPPI: miss rate 0.5 at all 9 points -> 0.5.
        XCTAssertEqual(VOCEvaluator.logAverageMissRate(recall: [0.5], falsePositives: [0], images: 10), 0.5, accuracy: 1e-12)
        // After one false positive over 10 images (FPPI 0.1) recall reaches 1: points below 0.1 see 0.5,
        // those at or above it 1e-10 (floor): 4 of 9 points at FPPI < 0.1 (0.01, 0.0178, 0.0316, 0.0562).
        let value = VOCEvaluator.logAverageMissRate(recall: [0.5, 1.0], falsePositives: [0, 1], images: 10)
        XCTAssertEqual(value, exp((4 * log(0.5) + 5 * log(1e-10)) / 9), accuracy: 1e-15)
        XCTAssertEqual(VOCEvaluator.logAverageMissRate(recall: [], falsePositives: [], images: 3), 1)
    }

    func testFormatsRoundTripAndAgreeWithTheInMemoryEvaluation() throws {
        let files = MapFiles(root: temporaryFolder(self, "mapout").path)
        let classes = ClassNames(["big dog", "cat"])
        let objects = [VOCObject(name: "big dog", difficult: false, truncated: false, xmin: 10, ymin: 20, xmax: 50, ymax: 60),
                       VOCObject(name: "cat", difficult: true, truncated: false, xmin: 0, ymin: 0, xmax: 9, ymax: 9),
                       VOCObject(name: "horse", difficult: false, truncated: false, xmin: 1, ymin: 1, xmax: 5, ymax: 5)]
        try files.writeGroundTruth(id: "a", objects: objects)
        let detections = [Detection(top: 21, left: 11, bottom: 59, right: 49, classIndex: 0, score: 0.912345678, objectness: 0.9,
                                    classProbability: 1),
                          Detection(top: 100, left: 100, bottom: 120, right: 120, classIndex: 1, score: 0.3, objectness: 0.3,
                                    classProbability: 1)]
        try files.writeDetections(id: "a", detections: detections, classes: classes)
        XCTAssertEqual(try String(contentsOfFile: files.groundTruthFolder + "/a.txt", encoding: .utf8),
                       "big dog 10 20 50 60\ncat 0 0 9 9 difficult\nhorse 1 1 5 5\n")
        XCTAssertEqual(try String(contentsOfFile: files.detectionFolder + "/a.txt", encoding: .utf8),
                       "big dog 0.9123 11 21 49 59\ncat 0.3 100 100 120 120\n")
        let read = try files.load(classes: classes)
        let (ids, truth, loaded) = (read.ids, read.truth, read.detections)
        XCTAssertEqual(ids, ["a"])
        XCTAssertEqual(truth[0].count, 2)                 // the unknown class is not in the classes list, and is named
        XCTAssertEqual(read.unknownClasses.keys.sorted(), ["horse"])
        XCTAssertEqual(read.warnings(classesPath: "classes.txt"), [
            "warning: class 'horse' (1 lines, first in \(files.groundTruthFolder)/a.txt) is not in classes.txt; those lines are "
                + "not evaluated. Is the classes file the one the weights were trained with?"])
        XCTAssertTrue(truth[0][1].difficult)
        let evaluator = VOCEvaluator()
        let fromFiles = evaluator.meanAP(evaluator.evaluate(groundTruth: truth, detections: loaded, classCount: 2))
        let direct = evaluator.meanAP(evaluator.evaluate(
            groundTruth: [[.init(classIndex: 0, x1: 10, y1: 20, x2: 50, y2: 60), .init(classIndex: 1, x1: 0, y1: 0, x2: 9, y2: 9, difficult: true)]],
            detections: [detections], classCount: 2))
        XCTAssertEqual(fromFiles, direct)
        XCTAssertEqual(fromFiles, 1)                      // only 'big dog' has countable ground truth, found once
        let lines = try files.writeResults(evaluator.evaluate(groundTruth: truth, detections: loaded, classCount: 2), mAP: fromFiles,
                                           classes: classes)
        XCTAssertEqual(lines.last, "mAP = 100.00%")
        XCTAssertTrue(lines[0].hasPrefix("100.00% = big dog AP"))
        for picture in ["mAP.png", "ground-truth-info.png", "lamr.png", "AP/big dog.png", "F1/big dog.png", "Recall/big dog.png",
                        "Precision/big dog.png"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: files.resultsFolder + "/" + picture), picture)
        }
        try FileManager.default.removeItem(atPath: files.detectionFolder + "/a.txt")
        XCTAssertThrowsError(try files.load(classes: classes)) { assertMessage($0, contains: ["a.txt has no detection file"]) }
    }
}
