import Foundation
import XCTest
@testable import YOLO
import TensorCore
import Vision

final class AugmentationTests: XCTestCase {
    /// An image with one solid rectangle of `color` on grey, and its box.
    func picture(_ w: Int, _ h: Int, box: LabeledBox, color: RGB, background: RGB = RGB(60, 60, 60)) -> (Image, [LabeledBox]) {
        var image = Image(width: w, height: h, fill: background)
        image.fillRectangle(x0: Int(box.x1), y0: Int(box.y1), x1: Int(box.x2) - 1, y1: Int(box.y2) - 1, color: color)
        return (image, [box])
    }

    /// Share of pixels inside a box that have the given colour (within a tolerance).
    func coverage(_ image: Image, _ b: LabeledBox, _ color: RGB, inset: Double = 2) -> Double {
        var hits = 0, total = 0
        for y in Int(b.y1 + inset)..<max(Int(b.y2 - inset), Int(b.y1 + inset) + 1) {
            for x in Int(b.x1 + inset)..<max(Int(b.x2 - inset), Int(b.x1 + inset) + 1) where x < image.width && y < image.height {
                let p = image[x, y]
                total += 1
                if abs(Int(p.r) - Int(color.r)) < 40 && abs(Int(p.g) - Int(color.g)) < 40 && abs(Int(p.b) - Int(color.b)) < 40 { hits += 1 }
            }
        }
        return Double(hits) / Double(max(total, 1))
    }

    func noJitter() -> Augmentation {
        var a = Augmentation(inputWidth: 96, inputHeight: 64)
        a.hue = 0; a.saturation = 0; a.value = 0   // colours stay exact, geometry stays random
        return a
    }

    func testRandomDataKeepsBoxesOnTheirPixels() {
        let aug = noJitter()
        let (image, boxes) = picture(120, 90, box: LabeledBox(x1: 30, y1: 20, x2: 90, y2: 70, classIndex: 3), color: RGB(250, 0, 0))
        var placed = 0
        for seed in 0..<30 {
            let s = aug.randomData(image, boxes, rng: RandomGenerator(seed: UInt64(seed)))
            XCTAssertEqual(s.image.width, 96)
            XCTAssertEqual(s.image.height, 64)
            guard let b = s.boxes.first else { continue }   // may leave the canvas entirely
            XCTAssertEqual(b.classIndex, 3)
            XCTAssertTrue(b.x1 >= 0 && b.y1 >= 0 && b.x2 <= 96 && b.y2 <= 64)
            if b.width > 6 && b.height > 6 {
                XCTAssertGreaterThan(coverage(s.image, b, RGB(250, 0, 0)), 0.9, "seed \(seed): box \(b) not on the red rectangle")
            }
            placed += 1
        }
        XCTAssertGreaterThan(placed, 20, "most placements should keep the object")
    }

    func testFlipMirrorsBoxes() {
        // An off-centre rectangle: after a flip the box must move to the other side with the pixels.
        let aug = noJitter()
        let (image, boxes) = picture(96, 64, box: LabeledBox(x1: 4, y1: 10, x2: 30, y2: 50, classIndex: 0), color: RGB(0, 0, 250))
        var sides = Set<Bool>()
        for seed in 0..<40 {
            let s = aug.randomData(image, boxes, rng: RandomGenerator(seed: UInt64(seed)))
            guard let b = s.boxes.first, b.width > 6, b.height > 6 else { continue }
            XCTAssertGreaterThan(coverage(s.image, b, RGB(0, 0, 250)), 0.9, "seed \(seed)")
            sides.insert((b.x1 + b.x2) / 2 > 48)
        }
        XCTAssertEqual(sides, [true, false], "both flipped and unflipped placements should occur")
    }

    func testLetterboxForValidation() {
        let aug = noJitter()
        let (image, boxes) = picture(200, 100, box: LabeledBox(x1: 50, y1: 25, x2: 150, y2: 75, classIndex: 1), color: RGB(0, 250, 0))
        let s = aug.letterbox(image, boxes, rng: RandomGenerator(seed: 1))
        // scale = min(96/200, 64/100) = 0.48 -> 96x48 centred with 8 rows of padding above.
        XCTAssertEqual(s.boxes, [LabeledBox(x1: 24, y1: 20, x2: 72, y2: 44, classIndex: 1)])
        XCTAssertEqual(s.image[50, 2], .grey128)
        XCTAssertGreaterThan(coverage(s.image, s.boxes[0], RGB(0, 250, 0)), 0.95)
    }

    func testMosaicLayoutAndBoxes() {
        let aug = noJitter()
        let colors = [RGB(250, 0, 0), RGB(0, 250, 0), RGB(0, 0, 250), RGB(250, 250, 0)]
        let items = colors.enumerated().map { i, c in
            picture(80, 60, box: LabeledBox(x1: 10, y1: 10, x2: 70, y2: 50, classIndex: i), color: c, background: c)
        }
        for seed in 0..<10 {
            let s = aug.mosaic(items, rng: RandomGenerator(seed: UInt64(seed)))
            // Every pixel of the mosaic is grey padding or the colour of its quadrant's image.
            var quadrantColours: [Set<RGB>] = Array(repeating: [], count: 4)
            for y in 0..<64 { for x in 0..<96 {
                let p = s.image[x, y]
                if p != .grey128, let k = colors.firstIndex(of: p) { quadrantColours[k].insert(RGB(UInt8(x), UInt8(y), 0)) }
            } }
            // Image 0 sits top-left of image 2 (bottom-right): compare centroids.
            func centroid(_ k: Int) -> (Double, Double)? {
                let pts = quadrantColours[k]
                guard !pts.isEmpty else { return nil }
                return (pts.map { Double($0.r) }.reduce(0, +) / Double(pts.count), pts.map { Double($0.g) }.reduce(0, +) / Double(pts.count))
            }
            if let c0 = centroid(0), let c2 = centroid(2) { XCTAssertTrue(c0.0 < c2.0 && c0.1 < c2.1, "seed \(seed)") }
            if let c1 = centroid(1), let c3 = centroid(3) { XCTAssertTrue(c1.0 < c3.0 && c1.1 > c3.1, "seed \(seed)") }
            for b in s.boxes where b.width > 6 && b.height > 6 {
                XCTAssertGreaterThan(coverage(s.image, b, colors[b.classIndex]), 0.9, "seed \(seed) box \(b)")
            }
        }
    }

    func testMosaicBoxCutting() {
        let cut = Augmentation.cutMosaicBoxes([
            [LabeledBox(x1: 10, y1: 10, x2: 60, y2: 60, classIndex: 0),   // crosses both lines: clipped to 50,50
             LabeledBox(x1: 55, y1: 10, x2: 70, y2: 20, classIndex: 0)],  // starts right of the cut: dropped
            [LabeledBox(x1: 10, y1: 40, x2: 20, y2: 80, classIndex: 1)],  // top clipped to the cut
            [LabeledBox(x1: 49, y1: 60, x2: 51, y2: 70, classIndex: 2)],  // cut to 1 px wide: dropped (the reference keeps it)
            [LabeledBox(x1: 60, y1: 60, x2: 70, y2: 70, classIndex: 3)],  // below the cut in the top-right: dropped
        ], cutX: 50, cutY: 50)
        XCTAssertEqual(cut, [LabeledBox(x1: 10, y1: 10, x2: 50, y2: 50, classIndex: 0),
                             LabeledBox(x1: 10, y1: 50, x2: 20, y2: 80, classIndex: 1)])
    }

    func testMixUpAveragesAndJoinsBoxes() throws {
        let aug = noJitter()
        let a = Sample(image: Image(width: 96, height: 64, fill: RGB(200, 0, 0)), boxes: [LabeledBox(x1: 1, y1: 1, x2: 9, y2: 9, classIndex: 0)])
        let b = Sample(image: Image(width: 96, height: 64, fill: RGB(0, 0, 100)), boxes: [LabeledBox(x1: 2, y1: 2, x2: 8, y2: 8, classIndex: 1)])
        let m = try aug.mixup(a, b)
        XCTAssertEqual(m.image[5, 5], RGB(100, 0, 50))
        XCTAssertEqual(m.boxes.map(\.classIndex), [0, 1])
    }
}
