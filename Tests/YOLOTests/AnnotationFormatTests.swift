import Foundation
import XCTest
@testable import YOLO

final class AnnotationFormatTests: XCTestCase {
    func testVOCParsing() throws {
        let xml = """
        <annotation>
          <filename>000005.jpg</filename>
          <size><width>500</width><height>375</height><depth>3</depth></size>
          <object><name> chair </name><truncated>1</truncated>
            <bndbox><xmin>263.5</xmin><ymin>211</ymin><xmax>324</xmax><ymax>339</ymax></bndbox></object>
          <object><name>dog</name><difficult>1</difficult>
            <bndbox><xmin>1</xmin><ymin>2</ymin><xmax>3</xmax><ymax>4</ymax></bndbox></object>
        </annotation>
        """
        let a = try VOCAnnotation.parse(Data(xml.utf8), name: "a.xml")
        XCTAssertEqual(a.width, 500)
        XCTAssertEqual(a.height, 375)
        XCTAssertEqual(a.objects.count, 2)
        XCTAssertEqual(a.objects[0].name, "chair")        // whitespace trimmed
        XCTAssertEqual(a.objects[0].xmin, 263.5)          // float coordinates
        XCTAssertFalse(a.objects[0].difficult)            // absent means 0
        XCTAssertTrue(a.objects[0].truncated)
        XCTAssertTrue(a.objects[1].difficult)
    }

    func testMalformedXMLNamesFileAndLine() {
        let xml = "<annotation>\n<object>\n<name>cat</name>\n</annotation>"
        XCTAssertThrowsError(try VOCAnnotation.parse(Data(xml.utf8), name: "bad.xml")) {
            assertMessage($0, contains: ["bad.xml", "line 4", "not well-formed"])
        }
        let noBox = "<annotation><object><name>cat</name></object></annotation>"
        XCTAssertThrowsError(try VOCAnnotation.parse(Data(noBox.utf8), name: "nobox.xml")) {
            assertMessage($0, contains: ["nobox.xml", "object 1", "cat", "<bndbox>"])
        }
        let text = "<annotation><object><name>cat</name><bndbox><xmin>a</xmin><ymin>1</ymin><xmax>2</xmax><ymax>3</ymax></bndbox></object></annotation>"
        XCTAssertThrowsError(try VOCAnnotation.parse(Data(text.utf8), name: "t.xml")) {
            assertMessage($0, contains: ["<xmin> is 'a'", "expected a number"])
        }
    }


    func testAnnotationLineParsing() throws {
        let line = try AnnotationLine(parsing: "/d/VOC2007/JPEGImages/1.jpg 10,20,30,40,2 5,5,9,9,0", location: "list:1", classCount: 3)
        XCTAssertEqual(line.imagePath, "/d/VOC2007/JPEGImages/1.jpg")
        XCTAssertEqual(line.boxes, [LabeledBox(x1: 10, y1: 20, x2: 30, y2: 40, classIndex: 2),
                                    LabeledBox(x1: 5, y1: 5, x2: 9, y2: 9, classIndex: 0)])
        XCTAssertEqual(line.text, "/d/VOC2007/JPEGImages/1.jpg 10,20,30,40,2 5,5,9,9,0")
        XCTAssertThrowsError(try AnnotationLine(parsing: "/d/my image.jpg 1,2,3,4,0", location: "list:7")) {
            assertMessage($0, contains: ["list:7", "'image.jpg'", "contains a space"])
        }
        XCTAssertThrowsError(try AnnotationLine(parsing: "/a.jpg 1,2,3,0", location: "list:2")) {
            assertMessage($0, contains: ["list:2", "'1,2,3,0'", "5 numbers"])
        }
        XCTAssertThrowsError(try AnnotationLine(parsing: "/a.jpg 1,2,3,4,7", location: "list:3", classCount: 5)) {
            assertMessage($0, contains: ["list:3", "class index 7", "5 classes"])
        }
    }

    func testClassesAndAnchorsFiles() throws {
        let folder = temporaryFolder(self)
        let classes = folder.appendingPathComponent("c.txt")
        try write("cat\n dog \n\nbird\n", classes)
        let names = try ClassNames(contentsOf: classes.path)
        XCTAssertEqual(names.names, ["cat", "dog", "bird"])
        XCTAssertEqual(names.index(of: " dog"), 1)
        try write("cat\ncat\n", classes)
        XCTAssertThrowsError(try ClassNames(contentsOf: classes.path)) { assertMessage($0, contains: ["'cat' is listed twice"]) }

        let anchors = folder.appendingPathComponent("a.txt")
        try AnchorsFile.write(AnchorsFile.yolov4TinyDefault, to: anchors.path)
        XCTAssertEqual(try String(contentsOf: anchors, encoding: .utf8), "10,14, 23,27, 37,58, 81,82, 135,169, 344,319\n")
        XCTAssertEqual(try AnchorsFile.read(anchors.path).map { [$0.0, $0.1] }, AnchorsFile.yolov4TinyDefault.map { [$0.0, $0.1] })
        try write("10,14, 23\n", anchors)
        XCTAssertThrowsError(try AnchorsFile.read(anchors.path)) { assertMessage($0, contains: ["3 numbers", "pairs"]) }
        try write("10,x\n", anchors)
        XCTAssertThrowsError(try AnchorsFile.read(anchors.path)) { assertMessage($0, contains: ["'x'"]) }
    }
}
