import Foundation
import TensorCore
import Vision
import XCTest
@testable import YOLO

/// The pretraining shapes: deterministic, and apart from the demo (other classes, other images).
final class PretrainDatasetTests: XCTestCase {
    func testGeneratorIsDeterministicAndDisjointFromTheDemo() throws {
        XCTAssertEqual(PretrainDataset.classes.count, 20)
        XCTAssertEqual(Set(PretrainDataset.classes).count, 20)
        XCTAssertTrue(Set(PretrainDataset.classes).isDisjoint(with: DemoDataset.classes))

        let folder = temporaryFolder(self, "pretrain")
        func generate(_ name: String, seed: UInt64 = 7100) throws -> [String: Data] {
            var d = PretrainDataset()
            d.imageCount = 6
            d.seed = seed
            d.vocPath = folder.appendingPathComponent(name).path
            d.classesPath = folder.appendingPathComponent(name + "_classes.txt").path
            try d.generate()
            let root = folder.appendingPathComponent(name + "/VOC2007")
            var files: [String: Data] = [:]
            for sub in ["JPEGImages", "Annotations"] {
                for f in try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent(sub).path) {
                    files[sub + "/" + f] = try Data(contentsOf: root.appendingPathComponent(sub + "/" + f))
                }
            }
            return files
        }
        let a = try generate("a"), b = try generate("b"), c = try generate("c", seed: 1)
        XCTAssertEqual(a.count, 12)
        XCTAssertEqual(a, b, "the same seed gives the same files, byte for byte")
        XCTAssertNotEqual(a["JPEGImages/pretrain_00001.jpg"], c["JPEGImages/pretrain_00001.jpg"])

        // No pretraining image is a demo image (by content), and every annotation names a pretraining class.
        var demo = DemoDataset()
        demo.imageCount = 6
        demo.vocPath = folder.appendingPathComponent("demo").path
        demo.classesPath = folder.appendingPathComponent("demo_classes.txt").path
        try demo.generate()
        let demoImages = Set(try FileManager.default.contentsOfDirectory(atPath: folder.appendingPathComponent("demo/VOC2007/JPEGImages").path)
            .map { try Data(contentsOf: folder.appendingPathComponent("demo/VOC2007/JPEGImages/" + $0)) })
        XCTAssertTrue(Set(a.filter { $0.key.hasPrefix("JPEGImages") }.values).isDisjoint(with: demoImages))
        var seen = Set<String>()
        for (name, data) in a where name.hasPrefix("Annotations") {
            let annotation = try VOCAnnotation.parse(data, name: name)
            for o in annotation.objects {
                XCTAssertTrue(PretrainDataset.classes.contains(o.name), o.name)
                XCTAssertLessThan(o.xmin, o.xmax)
                XCTAssertLessThan(o.ymin, o.ymax)
                seen.insert(o.name)
            }
        }
        XCTAssertGreaterThan(seen.count, 5, "six images should show several classes")
    }

    func testEveryClassIsDrawnInsideItsBox() throws {
        // One object of each class on a black background: its pixels are coloured, and only inside its box.
        for cls in PretrainDataset.classes.indices {
            var image = Image(width: 120, height: 120, fill: .black)
            let contours = PretrainDataset.shape(cls, cx: 60, cy: 60, w: 70, h: 60, angle: 0.3)
            PretrainDataset.paint(&image, contours, style: PretrainDataset.style(cls), base: RGB(250, 250, 250), angle: 0.3,
                                  rng: RandomGenerator(seed: 1))
            let xs = contours.flatMap { $0.map(\.0) }, ys = contours.flatMap { $0.map(\.1) }
            var inside = 0, outside = 0
            for y in 0..<120 {
                for x in 0..<120 where image[x, y] != .black {
                    if Double(x) >= xs.min()! - 1 && Double(x) <= xs.max()! + 1 && Double(y) >= ys.min()! - 1 && Double(y) <= ys.max()! + 1 {
                        inside += 1
                    } else {
                        outside += 1
                    }
                }
            }
            XCTAssertGreaterThan(inside, 400, PretrainDataset.classes[cls])
            XCTAssertEqual(outside, 0, PretrainDataset.classes[cls])
        }
    }
}
