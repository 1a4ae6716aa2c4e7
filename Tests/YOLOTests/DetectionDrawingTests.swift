import XCTest
@testable import YOLO
import Vision

final class DetectionDrawingTests: XCTestCase {
    func testBoxesInClassColoursWithLabels() {
        let classes = ClassNames(["a", "b", "c"])
        let image = Image(width: 200, height: 120, fill: .black)
        let d = Detection(top: 40, left: 30, bottom: 100, right: 150, classIndex: 1, score: 0.87, objectness: 0.9, classProbability: 0.97)
        let out = DetectionDrawing.draw([d], on: image, classes: classes, inputSize: 416)
        let green = classColors(3)[1]
        XCTAssertEqual(out[30, 70], green)          // left edge of the box
        XCTAssertEqual(out[150, 70], green)         // right edge
        XCTAssertEqual(out[90, 70], .black)         // inside stays untouched
        XCTAssertEqual(out[32, 32], green)          // the filled label tag sits above the box
        XCTAssertEqual(DetectionDrawing.describe(d, classes: classes), "b 0.87 top=40 left=30 bottom=100 right=150")
        // A box at the top edge puts its label inside, never off the image.
        let edge = Detection(top: 0, left: 10, bottom: 50, right: 60, classIndex: 0, score: 0.5, objectness: 0.5, classProbability: 1)
        XCTAssertEqual(DetectionDrawing.draw([edge], on: image, classes: classes, inputSize: 416)[12, 3], classColors(3)[0])
    }
}
