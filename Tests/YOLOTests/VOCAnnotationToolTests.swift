import Foundation
import XCTest
@testable import YOLO
import Vision

final class VOCAnnotationToolTests: XCTestCase {
    /// A VOC tree of 12 annotated images plus the bad cases voc_annotation must survive.
    func makeTree() throws -> (URL, VOCAnnotationTool) {
        let root = temporaryFolder(self, "voc")
        let voc = root.appendingPathComponent("VOCdevkit/VOC2007")
        let jpeg = try Image(width: 40, height: 30, fill: .grey128).encodeJPEG()
        for i in 0..<12 {
            let id = String(format: "%06d", i)
            try Data(jpeg).write(to: voc.appendingPathComponent("JPEGImages/\(id).jpg").creatingFolder())
            try write(vocXML(width: 40, height: 30, objects: [("cat", 1, 2, 20, 25, false), ("dog", 5, 5, 39, 29, i == 0)]),
                      voc.appendingPathComponent("Annotations/\(id).xml"))
        }
        // Bad cases: malformed XML, an XML with no image, unknown class, box outside, inverted box.
        try write("<annotation><object>", voc.appendingPathComponent("Annotations/bad.xml"))
        try write(vocXML(width: 40, height: 30, objects: [("cat", 1, 1, 5, 5, false)]), voc.appendingPathComponent("Annotations/noimage.xml"))
        try Data(jpeg).write(to: voc.appendingPathComponent("JPEGImages/odd.jpg"))
        try write(vocXML(width: 40, height: 30, objects: [("catt", 1, 1, 5, 5, false), ("cat", -3, 2, 50, 20, false),
                                                          ("dog", 9, 9, 9, 20, false)]),
                  voc.appendingPathComponent("Annotations/odd.xml"))
        try write("cat\ndog\n", root.appendingPathComponent("classes.txt"))
        var tool = VOCAnnotationTool()
        tool.vocPath = root.appendingPathComponent("VOCdevkit").path
        tool.classesPath = root.appendingPathComponent("classes.txt").path
        tool.outputFolder = root.path
        return (root, tool)
    }

    func testSplitListsAndReport() throws {
        let (root, tool) = try makeTree()
        var log: [String] = []
        let report = try tool.run { log.append($0) }
        // 15 XML files: trainval = int(15 * 0.9) = 13, train = int(13 * 0.9) = 11.
        XCTAssertEqual([report.trainval, report.train, report.val, report.test], [13, 11, 2, 2])
        let sets = root.appendingPathComponent("VOCdevkit/VOC2007/ImageSets/Main")
        func ids(_ name: String) throws -> [String] {
            try String(contentsOf: sets.appendingPathComponent("\(name).txt"), encoding: .utf8).split(separator: "\n").map(String.init)
        }
        XCTAssertEqual(try ids("trainval").count, 13)
        XCTAssertEqual(Set(try ids("train") + ids("val")), Set(try ids("trainval")))
        XCTAssertTrue(Set(try ids("test")).isDisjoint(with: Set(try ids("trainval"))))

        let train = try String(contentsOf: root.appendingPathComponent("2007_train.txt"), encoding: .utf8)
        let val = try String(contentsOf: root.appendingPathComponent("2007_val.txt"), encoding: .utf8)
        let lines = (train + val).split(separator: "\n").map(String.init)
        let listed = (try ids("train") + ids("val"))
        let skipped = listed.filter { $0 == "bad" || $0 == "noimage" }.count
        XCTAssertEqual(lines.count, listed.count - skipped)
        for line in lines {
            let parsed = try AnnotationLine(parsing: line, location: "test", classCount: 2)
            XCTAssertTrue(parsed.imagePath.hasPrefix("/"), "absolute path expected: \(parsed.imagePath)")
            XCTAssertTrue(FileManager.default.fileExists(atPath: parsed.imagePath))
            if parsed.imagePath.hasSuffix("odd.jpg") {
                // unknown class and inverted box left out; the box reaching outside is clipped
                XCTAssertEqual(parsed.boxes, [LabeledBox(x1: 0, y1: 2, x2: 40, y2: 20, classIndex: 0)])
            } else if parsed.imagePath.hasSuffix("000000.jpg") {
                XCTAssertEqual(parsed.boxes.count, 1)   // the difficult dog is left out
            } else {
                XCTAssertEqual(parsed.text.split(separator: " ").dropFirst().joined(separator: " "), "1,2,20,25,0 5,5,39,29,1")
            }
        }
        if listed.contains("odd") {
            XCTAssertEqual(report.unknownClasses, ["catt": 1])
            XCTAssertEqual(report.fixedBoxes, 1)
            XCTAssertEqual(report.droppedBoxes, 1)
            XCTAssertTrue(log.contains { $0.contains("'catt' (1)") })
        }
        XCTAssertTrue(log.contains { $0.contains("|   cat |") })
        XCTAssertTrue(log.contains { $0.contains("500 images or fewer") })
    }

    func testSplitIsReproducibleFromTheSeed() throws {
        let (root, tool) = try makeTree()
        _ = try tool.run { _ in }
        let sets = root.appendingPathComponent("VOCdevkit/VOC2007/ImageSets/Main/train.txt")
        let first = try String(contentsOf: sets, encoding: .utf8)
        _ = try tool.run { _ in }
        XCTAssertEqual(try String(contentsOf: sets, encoding: .utf8), first)
        var other = tool
        other.seed = 1
        _ = try other.run { _ in }
        XCTAssertNotEqual(try String(contentsOf: sets, encoding: .utf8), first)
    }

    func testRefusals() throws {
        let root = temporaryFolder(self)
        try write("cat\n", root.appendingPathComponent("classes.txt"))
        var tool = VOCAnnotationTool()
        tool.classesPath = root.appendingPathComponent("classes.txt").path
        tool.vocPath = root.appendingPathComponent("empty").path
        XCTAssertThrowsError(try tool.run { _ in }) { assertMessage($0, contains: ["Annotations", "no .xml annotations"]) }
        tool.vocPath = root.appendingPathComponent("with space/VOCdevkit").path
        XCTAssertThrowsError(try tool.run { _ in }) { assertMessage($0, contains: ["contains a space"]) }
    }
}

extension URL {
    func creatingFolder() throws -> URL {
        try FileManager.default.createDirectory(at: deletingLastPathComponent(), withIntermediateDirectories: true)
        return self
    }
}
