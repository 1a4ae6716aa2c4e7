import Foundation
import XCTest
@testable import YOLO
import TensorCore
import Vision

final class AnchorsAndDemoTests: XCTestCase {
    func testKMeansRecoversKnownClusters() throws {
        let rng = RandomGenerator(seed: 3)
        let truth: [(Double, Double)] = [(0.05, 0.08), (0.2, 0.15), (0.5, 0.6)]
        var boxes: [(Double, Double)] = []
        for (w, h) in truth {
            for _ in 0..<60 { boxes.append((w * Double(rng.uniform(0.9, 1.1)), h * Double(rng.uniform(0.9, 1.1)))) }
        }
        let result = try AnchorKMeans.cluster(boxes, k: 3, rng: RandomGenerator(seed: 0))
        let found = result.centers.sorted { $0.0 * $0.1 < $1.0 * $1.1 }
        for (f, t) in zip(found, truth) {
            XCTAssertEqual(f.0, t.0, accuracy: t.0 * 0.05)
            XCTAssertEqual(f.1, t.1, accuracy: t.1 * 0.05)
        }
        XCTAssertGreaterThan(AnchorKMeans.averageIoU(boxes, result.centers), 0.85)
        let again = try AnchorKMeans.cluster(boxes, k: 3, rng: RandomGenerator(seed: 0))
        XCTAssertEqual(again.assignment, result.assignment)
        XCTAssertEqual(AnchorKMeans.median([3, 1, 2, 10]), 2.5)
        XCTAssertEqual(AnchorKMeans.iou((2, 2), (1, 4)), 2.0 / 6.0, accuracy: 1e-12)
        XCTAssertThrowsError(try AnchorKMeans.cluster(boxes.prefix(2).map { $0 }, k: 3, rng: rng)) {
            assertMessage($0, contains: ["at least 3 boxes"])
        }
    }

    func testDemoDatasetIsDeterministicAndConsistent() throws {
        let folder = temporaryFolder(self, "demo")
        var demo = DemoDataset()
        demo.imageCount = 4
        demo.minSide = 64
        demo.maxSide = 96
        demo.vocPath = folder.appendingPathComponent("VOCdevkit").path
        demo.classesPath = folder.appendingPathComponent("demo_classes.txt").path
        let objects = try demo.generate()
        XCTAssertGreaterThan(objects, 3)
        XCTAssertEqual(try ClassNames(contentsOf: demo.classesPath).names, DemoDataset.classes)
        let voc = folder.appendingPathComponent("VOCdevkit/VOC2007")
        var total = 0
        for i in 1...4 {
            let id = String(format: "demo_%04d", i)
            let image = try Image.load(voc.appendingPathComponent("JPEGImages/\(id).jpg").path).image
            let a = try VOCAnnotation.load(voc.appendingPathComponent("Annotations/\(id).xml").path)
            XCTAssertEqual(a.width, image.width)
            XCTAssertEqual(a.height, image.height)
            for o in a.objects {
                XCTAssertTrue(DemoDataset.classes.contains(o.name))
                XCTAssertTrue(o.xmin >= 0 && o.ymin >= 0 && o.xmax < Double(image.width) && o.ymax < Double(image.height))
                XCTAssertTrue(o.xmax - o.xmin > 8 && o.ymax - o.ymin > 8)
            }
            total += a.objects.count
        }
        XCTAssertEqual(total, objects)
        // The same seed draws the same pictures.
        let a = DemoDataset.makeImage(rng: RandomGenerator(seed: 1), minSide: 64, maxSide: 96)
        let b = DemoDataset.makeImage(rng: RandomGenerator(seed: 1), minSide: 64, maxSide: 96)
        XCTAssertEqual(a.0, b.0)
        XCTAssertEqual(a.1, b.1)
        // Shapes are drawn where their boxes say: the box centre region differs from the corners' background.
        XCTAssertFalse(a.1.isEmpty)
    }
}
