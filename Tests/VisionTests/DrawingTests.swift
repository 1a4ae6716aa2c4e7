import Foundation
import XCTest
@testable import Vision

final class DrawingTests: XCTestCase {
    func testRectanglesAndClipping() {
        var image = Image(width: 10, height: 10, fill: .black)
        image.drawRectangle(x0: 2, y0: 2, x1: 7, y1: 7, color: .white, lineWidth: 2)
        XCTAssertEqual(image[2, 5], .white)
        XCTAssertEqual(image[3, 5], .white)
        XCTAssertEqual(image[4, 5], .black)
        image.fillRectangle(x0: -5, y0: 8, x1: 50, y1: 50, color: RGB(1, 2, 3))   // clipped, no crash
        XCTAssertEqual(image[9, 9], RGB(1, 2, 3))
    }

    func testTextUsesTheGlyphs() {
        var image = Image(width: 20, height: 10, fill: .black)
        image.drawText("I", x: 0, y: 0, color: .white)
        // 'I' is 0x0E on top: columns 1-3 set, 0 and 4 clear; the stem is column 2.
        XCTAssertEqual(image[0, 0], .black)
        XCTAssertEqual(image[1, 0], .white)
        XCTAssertEqual(image[3, 0], .white)
        XCTAssertEqual(image[2, 3], .white)
        XCTAssertEqual(image[1, 3], .black)
        var big = Image(width: 40, height: 20, fill: .black)
        big.drawText("I", x: 0, y: 0, color: .white, scale: 2)
        XCTAssertEqual(big[2, 0], .white)
        XCTAssertEqual(big[3, 1], .white)
        XCTAssertEqual(BitmapFont.size(of: "abc", scale: 2).width, 34)
        XCTAssertEqual(BitmapFont.glyphs.count, 95)
    }

    func testPolygonAndCircleFill() {
        var image = Image(width: 20, height: 20, fill: .black)
        image.fillPolygon([(2, 2), (18, 2), (10, 18)], color: .white)
        XCTAssertEqual(image[10, 5], .white)
        XCTAssertEqual(image[2, 17], .black)
        image.fillCircle(centerX: 10, centerY: 10, radius: 3, color: RGB(9, 9, 9))
        XCTAssertEqual(image[10, 13], RGB(9, 9, 9))
        XCTAssertEqual(image[13, 13], .black)
    }

    func testJetColourMapEndsAndMiddle() {
        // matplotlib's jet: (0, 0, 0.5) at 0, (0.5, 1, 0.5) halfway, (0.5, 0, 0) at 1; clipped outside.
        XCTAssertEqual(jetColour(0), RGB(0, 0, 128))
        XCTAssertEqual(jetColour(0.5), RGB(128, 255, 128))
        XCTAssertEqual(jetColour(1), RGB(128, 0, 0))
        XCTAssertEqual(jetColour(-3), jetColour(0))
        XCTAssertEqual(jetColour(0.25), RGB(0, 128, 255))
    }

    func testClassColoursAreDistinctHues() {
        let colors = classColors(3)
        XCTAssertEqual(colors[0], RGB(255, 0, 0))
        XCTAssertEqual(colors[1], RGB(0, 255, 0))
        XCTAssertEqual(colors[2], RGB(0, 0, 255))
    }

    func testChartsRender() throws {
        let line = LineChart(title: "Loss", xLabel: "Epoch", yLabel: "Loss", series: [
            .init(name: "train loss", y: [5, 3, 2, 1.5], color: RGB(220, 0, 0)),
            .init(name: "val loss", y: [6, 4, 3, 2.5], color: RGB(255, 140, 0), dashed: true),
        ]).render()
        XCTAssertEqual(line.width, 800)
        XCTAssertTrue(line.pixels.contains(220))   // the train curve was drawn
        let bars = BarChart(title: "AP", xLabel: "AP", labels: ["cat", "dog"], values: [0.5, 1.0]).render()
        XCTAssertTrue(bars.height >= 240)
        XCTAssertEqual(PlotArea.ticks(0, 1), [0, 0.2, 0.4, 0.6, 0.8, 1.0])
        XCTAssertEqual(PlotArea.ticks(0, 250), [0, 50, 100, 150, 200, 250])
        let scatter = ScatterChart(title: "k-means", xLabel: "w", yLabel: "h", groups: [
            .init(points: [(10, 20), (12, 18)], color: RGB(0, 128, 0), marker: (11, 19))]).render()
        XCTAssertTrue(scatter.pixels.contains(128))
    }
}
