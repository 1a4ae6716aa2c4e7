import XCTest
@testable import YOLO

/// COCO mAP on cases small enough to work out by hand.
final class COCOEvaluatorTests: XCTestCase {
    typealias GT = VOCEvaluator.GroundTruth
    func det(_ x1: Double, _ y1: Double, _ x2: Double, _ y2: Double, _ score: Double, _ c: Int = 0) -> Detection {
        Detection(top: y1, left: x1, bottom: y2, right: x2, classIndex: c, score: score, objectness: score, classProbability: 1)
    }

    func testPerfectDetectionScoresOneAndEmptyAreaRangesAreMinusOne() {
        let s = COCOEvaluator().evaluate(groundTruth: [[GT(classIndex: 0, x1: 0, y1: 0, x2: 10, y2: 10)]],
                                         detections: [[det(0, 0, 10, 10, 0.9)]], classCount: 2)
        // A 10x10 box is small; no truth is medium or large, so those figures are -1 as COCO prints them.
        XCTAssertEqual(s.values, [1, 1, 1, 1, -1, -1, 1, 1, 1, 1, -1, -1])
        XCTAssertEqual(s.perClassAP, [0: 1])
    }

    func testAnIoUOf072MatchesAtFiveOfTheTenThresholds() {
        // IoU = 7200 / 10000: a true positive at 0.50 ... 0.70, a false positive at 0.75 ... 0.95.
        let s = COCOEvaluator().evaluate(groundTruth: [[GT(classIndex: 0, x1: 0, y1: 0, x2: 100, y2: 100)]],
                                         detections: [[det(0, 0, 100, 72, 0.8)]], classCount: 1)
        XCTAssertEqual(s.meanAP, 0.5, accuracy: 1e-12)
        XCTAssertEqual(s.ap50, 1)
        XCTAssertEqual(s.values[2], 0)                     // AP75
        XCTAssertEqual(s.values[5], 0.5, accuracy: 1e-12)  // the truth is large (10000 > 96²)
        // Medium: the truth is ignored, and the 7200-pixel detection is medium, so it only counts as a false
        // positive where it matches nothing; with no counted truth the figure is -1.
        XCTAssertEqual(s.values[4], -1)
        XCTAssertEqual(s.values[8], 0.5, accuracy: 1e-12)  // AR100: recalled at 5 of 10 thresholds
    }

    func testFalsePositiveAheadOfATruePositive() {
        // Precision 0 then 1/2 at recall 1: made monotone it is 1/2 at every recall point.
        let s = COCOEvaluator().evaluate(groundTruth: [[GT(classIndex: 0, x1: 0, y1: 0, x2: 10, y2: 10)]],
                                         detections: [[det(50, 50, 60, 60, 0.9), det(0, 0, 10, 10, 0.8)]], classCount: 1)
        XCTAssertEqual(s.meanAP, 0.5, accuracy: 1e-12)
        XCTAssertEqual(s.values[8], 1)
    }

    func testHundredAndOneRecallPoints() {
        // One of three truths found, at precision 1: recall points 0.00 ... 0.33 (34 of 101) get precision 1.
        let truths = [GT(classIndex: 0, x1: 0, y1: 0, x2: 10, y2: 10), GT(classIndex: 0, x1: 20, y1: 0, x2: 30, y2: 10),
                      GT(classIndex: 0, x1: 40, y1: 0, x2: 50, y2: 10)]
        let s = COCOEvaluator().evaluate(groundTruth: [truths], detections: [[det(0, 0, 10, 10, 0.9)]], classCount: 1)
        XCTAssertEqual(s.meanAP, 34.0 / 101, accuracy: 1e-12)
        XCTAssertEqual(s.values[8], 1.0 / 3, accuracy: 1e-12)
    }

    func testMaxDetectionsPerImage() {
        // Two objects, two exact detections: AR@1 sees only the better one.
        let truths = [GT(classIndex: 0, x1: 0, y1: 0, x2: 10, y2: 10), GT(classIndex: 0, x1: 20, y1: 0, x2: 30, y2: 10)]
        let s = COCOEvaluator().evaluate(groundTruth: [truths], detections: [[det(0, 0, 10, 10, 0.9), det(20, 0, 30, 10, 0.7)]],
                                         classCount: 1)
        XCTAssertEqual(s.values[6], 0.5)   // AR@1
        XCTAssertEqual(s.values[7], 1)     // AR@10
    }

    func testDifficultBoxesAreIgnoredLikeCrowds() {
        // A detection on a difficult box counts neither way; the other object is found, so AP is 1.
        let truths = [GT(classIndex: 0, x1: 0, y1: 0, x2: 10, y2: 10, difficult: true), GT(classIndex: 0, x1: 20, y1: 0, x2: 30, y2: 10)]
        let s = COCOEvaluator().evaluate(groundTruth: [truths], detections: [[det(0, 0, 10, 10, 0.9), det(20, 0, 30, 10, 0.7)]],
                                         classCount: 1)
        XCTAssertEqual(s.meanAP, 1)
        // Without the difficult flag, the same detections on a third, undetected box give AP below 1.
        let missed = truths.map { GT(classIndex: 0, x1: $0.x1, y1: $0.y1, x2: $0.x2, y2: $0.y2) }
            + [GT(classIndex: 0, x1: 40, y1: 0, x2: 50, y2: 10)]
        XCTAssertEqual(COCOEvaluator().evaluate(groundTruth: [missed], detections: [[det(0, 0, 10, 10, 0.9), det(20, 0, 30, 10, 0.7)]],
                                                classCount: 1).meanAP, 67.0 / 101, accuracy: 1e-12)
    }

    func testMeanIsOverClassesAndImagesPool() {
        // Class 0 perfect in image 1, class 1 missed in image 2 (its only detection is elsewhere): mean (1 + 0) / 2.
        let s = COCOEvaluator().evaluate(
            groundTruth: [[GT(classIndex: 0, x1: 0, y1: 0, x2: 10, y2: 10)], [GT(classIndex: 1, x1: 0, y1: 0, x2: 10, y2: 10)]],
            detections: [[det(0, 0, 10, 10, 0.9)], [det(30, 30, 40, 40, 0.9, 1)]], classCount: 2)
        XCTAssertEqual(s.meanAP, 0.5, accuracy: 1e-12)
        XCTAssertEqual(s.perClassAP[1], 0)
        XCTAssertEqual(s.lines[0], " Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ] = 0.500")
        XCTAssertEqual(s.lines[6], " Average Recall     (AR) @[ IoU=0.50:0.95 | area=   all | maxDets=  1 ] = 0.500")
    }

    func testAgreesWithPycocotoolsOnARandomScene() throws {
        // Fixtures/make_coco_fixture.py: 14 images, 3 classes, all area ranges, difficult boxes, duplicates,
        // confused classes, and one image with more than 10 confident detections of a class.
        let text = try String(contentsOf: yoloFixtures.appendingPathComponent("coco_case.txt"), encoding: .utf8)
        var truth = [[GT]](repeating: [], count: 14), detections = [[Detection]](repeating: [], count: 14)
        var expected: [Double] = []
        for line in text.split(separator: "\n") {
            let f = line.split(separator: " ").map(String.init)
            let v = f.dropFirst().compactMap(Double.init)
            switch f[0] {
            case "gt": truth[Int(v[0])].append(GT(classIndex: Int(v[1]), x1: v[2], y1: v[3], x2: v[4], y2: v[5], difficult: v[6] == 1))
            case "dt": detections[Int(v[0])].append(det(v[2], v[3], v[4], v[5], v[6], Int(v[1])))
            default: expected = v
            }
        }
        XCTAssertEqual(expected.count, 12)
        XCTAssertLessThan(expected[7], expected[8], "the case should exercise the 10-detection cut")
        // This case gave pycocotools the true box areas (no reference conversion in between).
        let s = COCOEvaluator(truthAreaOffset: 0).evaluate(groundTruth: truth, detections: detections, classCount: 3)
        for (i, (ours, theirs)) in zip(s.values, expected).enumerated() {
            XCTAssertEqual(ours, theirs, accuracy: 1e-9, "figure \(i): \(COCOEvaluator.Summary.rows[i])")
        }
    }

    /// The map_out/ case with difficult boxes: its files as get_map reads them, and pycocotools' figures
    /// after the reference's conversion (difficult -> iscrowd, area w·h - 10).
    func mapOutCase() throws -> (classes: [String], files: [String: (gt: [String], dt: [String])], expected: [Double]) {
        let text = try String(contentsOf: yoloFixtures.appendingPathComponent("coco_map_out_case.txt"), encoding: .utf8)
        var classes: [String] = [], files: [String: (gt: [String], dt: [String])] = [:], expected: [Double] = []
        for line in text.split(separator: "\n") {
            let f = line.split(separator: " ", maxSplits: 2).map(String.init)
            switch f[0] {
            case "classes": classes = line.dropFirst("classes ".count).split(separator: ",").map(String.init)
            case "gt": files[f[1], default: ([], [])].gt.append(f[2])
            case "dt": files[f[1], default: ([], [])].dt.append(f[2])
            case "stats": expected = line.split(separator: " ").dropFirst().compactMap { Double($0) }
            default: break
            }
        }
        return (classes, files, expected)
    }

    func writeMapOut(_ files: [String: (gt: [String], dt: [String])], classes: [String], in folder: URL) throws {
        for (id, lines) in files {
            try write(lines.gt.joined(separator: "\n") + "\n", folder.appendingPathComponent("map_out/ground-truth/\(id).txt"))
            try write(lines.dt.joined(separator: "\n") + "\n", folder.appendingPathComponent("map_out/detection-results/\(id).txt"))
        }
        try write(classes.joined(separator: "\n") + "\n", folder.appendingPathComponent("classes.txt"))
    }

    func testMapOutWithDifficultBoxesAgreesWithPycocotoolsAfterTheReferenceConversion() throws {
        let (classes, files, expected) = try mapOutCase()
        XCTAssertEqual(files.count, 40)
        XCTAssertEqual(files.values.filter { $0.gt.contains { $0.hasSuffix(" difficult") } }.count, 14)
        XCTAssertEqual(expected.count, 12)
        let folder = temporaryFolder(self, "coco-map-out")
        try writeMapOut(files, classes: classes, in: folder)
        let loaded = try MapFiles(root: folder.appendingPathComponent("map_out").path).load(classes: ClassNames(classes))
        let s = COCOEvaluator().evaluate(groundTruth: loaded.truth, detections: loaded.detections, classCount: classes.count)
        for (i, (ours, theirs)) in zip(s.values, expected).enumerated() {
            XCTAssertEqual(ours, theirs, accuracy: 1e-9, "figure \(i): \(COCOEvaluator.Summary.rows[i])")
        }
        // The area offset matters here: with true areas the small-object figure moves.
        let exact = COCOEvaluator(truthAreaOffset: 0).evaluate(groundTruth: loaded.truth, detections: loaded.detections,
                                                               classCount: classes.count)
        XCTAssertGreaterThan(abs(exact.values[3] - expected[3]), 1e-3)
    }

    func testGetMapModesThreeAndFourRunWithoutAParameterFile() throws {
        let (classes, files, expected) = try mapOutCase()
        let folder = temporaryFolder(self, "coco-no-config")
        try writeMapOut(files, classes: classes, in: folder)
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder.appendingPathComponent("train.swift-config").path))

        let coco = try runTool("get_map", ["--map-mode", "4", "--classes-path", "classes.txt"], in: folder)
        XCTAssertEqual(coco.status, 0, coco.errors)
        XCTAssertTrue(coco.output.contains(String(format: "area=   all | maxDets=100 ] = %.3f", expected[0])), coco.output)
        XCTAssertTrue(coco.output.contains(String(format: "IoU=0.50      | area=   all | maxDets=100 ] = %.3f", expected[1])),
                      coco.output)
        let voc = try runTool("get_map", ["--map-mode", "3", "--classes-path", "classes.txt"], in: folder)
        XCTAssertEqual(voc.status, 0, voc.errors)
        XCTAssertTrue(voc.output.contains("mAP = "), voc.output)
        XCTAssertTrue(FileManager.default.fileExists(atPath: folder.appendingPathComponent("map_out/results/results.txt").path))

        // Without --classes-path the parameter file is needed, and the message says what for.
        let missing = try runTool("get_map", ["--map-mode", "3"], in: folder)
        XCTAssertNotEqual(missing.status, 0)
        XCTAssertTrue(missing.errors.contains("train.swift-config: cannot read the parameter file"), missing.errors)
        XCTAssertTrue(missing.errors.contains("--classes-path"), missing.errors)
    }
}
