import Foundation
import XCTest
@testable import Vision

final class TransformTests: XCTestCase {
    struct References: Decodable {
        let rgb: [UInt8], hsv: [UInt8], hsv_back: [UInt8]
        let resize_source: [UInt8], resize_source_size: [Int]
        let resized: [String: [UInt8]]
    }

    lazy var references: References = {
        let data = try! Data(contentsOf: fixtures.appendingPathComponent("reference_values.json"))
        return try! JSONDecoder().decode(References.self, from: data)
    }()

    func testResizeMatchesPillow() throws {
        let r = references
        let source = try Image(width: r.resize_source_size[0], height: r.resize_source_size[1], pixels: r.resize_source)
        for (key, expected) in r.resized {
            let parts = key.split(separator: "_"), size = parts[1].split(separator: "x").map { Int($0)! }
            let filter: ResizeFilter = parts[0] == "bicubic" ? .bicubic : .bilinear
            let ours = source.resized(width: size[0], height: size[1], filter: filter)
            // Pillow works in fixed point; allow one level of rounding difference.
            let worst = zip(ours.pixels, expected).map { abs(Int($0) - Int($1)) }.max()!
            XCTAssertLessThanOrEqual(worst, 1, "\(key): largest difference \(worst)")
        }
    }

    func testHSVConversionsMatchOpenCV() throws {
        let r = references
        var hsv = [UInt8](repeating: 0, count: r.rgb.count)
        var back = hsv
        r.rgb.withUnsafeBufferPointer { src in hsv.withUnsafeMutableBufferPointer { cvRGBtoHSV(src, $0) } }
        XCTAssertEqual(hsv, r.hsv)
        r.hsv.withUnsafeBufferPointer { src in back.withUnsafeMutableBufferPointer { cvHSVtoRGB(src, $0) } }
        // Back to RGB we round where current OpenCV releases truncate: within one level.
        let worst = zip(back, r.hsv_back).map { abs(Int($0) - Int($1)) }.max()!
        XCTAssertLessThanOrEqual(worst, 1)
    }

    func testHSVJitterIdentityAndValueScaling() throws {
        var image = Image(width: 4, height: 1, fill: .black)
        image[0, 0] = RGB(200, 40, 40); image[1, 0] = RGB(20, 180, 60); image[2, 0] = RGB(90, 90, 200)
        // Multipliers of 1 only round-trip through HSV.
        let same = image.hsvJittered(hue: 1, saturation: 1, value: 1)
        for x in 0..<4 { assertPixel(same, x, 0, image[x, 0], tolerance: 2) }
        // Doubling the value of a dark grey doubles it; grey stays grey whatever the hue does.
        let grey = Image(width: 1, height: 1, fill: RGB(60, 60, 60)).hsvJittered(hue: 1.1, saturation: 1.5, value: 2)
        XCTAssertEqual(grey[0, 0], RGB(120, 120, 120))
        let saturated = Image(width: 1, height: 1, fill: RGB(200, 100, 100)).hsvJittered(hue: 1, saturation: 0, value: 1)
        XCTAssertEqual(saturated[0, 0], RGB(200, 200, 200))   // no saturation: grey of the same value
    }

    func testLetterboxPlacesAndPads() throws {
        let wide = Image(width: 200, height: 100, fill: RGB(255, 0, 0))
        let (boxed, place) = wide.letterboxed(width: 64, height: 64)
        XCTAssertEqual(place.scale, 0.32, accuracy: 1e-9)
        XCTAssertEqual(place.resizedWidth, 64)
        XCTAssertEqual(place.resizedHeight, 32)
        XCTAssertEqual(place.offsetY, 16)
        XCTAssertEqual(boxed[10, 5], .grey128)
        XCTAssertEqual(boxed[10, 32], RGB(255, 0, 0))
        XCTAssertEqual(boxed[10, 60], .grey128)
    }

    func testFlipCropPasteBlend() throws {
        var image = Image(width: 4, height: 2, fill: .black)
        image[0, 1] = .white
        let flipped = image.flippedHorizontally()
        XCTAssertEqual(flipped[3, 1], .white)
        XCTAssertEqual(flipped[0, 1], .black)
        let crop = image.cropped(x: -2, y: 1, width: 3, height: 5)
        XCTAssertEqual(crop.width, 1)
        XCTAssertEqual(crop.height, 1)
        XCTAssertEqual(crop[0, 0], .white)
        var canvas = Image(width: 3, height: 3, fill: .grey128)
        canvas.paste(Image(width: 2, height: 2, fill: .white), x: 2, y: -1)   // sticks out
        XCTAssertEqual(canvas[2, 0], .white)
        XCTAssertEqual(canvas[1, 0], .grey128)
        XCTAssertEqual(canvas[2, 1], .grey128)
        let mixed = try Image(width: 1, height: 1, fill: RGB(100, 0, 255)).blended(with: Image(width: 1, height: 1, fill: RGB(201, 0, 0)), weight: 0.5)
        XCTAssertEqual(mixed[0, 0], RGB(151, 0, 128))
    }

    func testPlanarFloats() throws {
        var image = Image(width: 2, height: 1, fill: .black)
        image[1, 0] = RGB(255, 51, 0)
        var out = [Float](repeating: -1, count: 6)
        out.withUnsafeMutableBufferPointer { image.writePlanarFloats(into: $0.baseAddress!) }
        XCTAssertEqual(out, [0, 1, 0, 51.0 / 255.0, 0, 0])
    }

    func testAllEXIFOrientations() throws {
        // A 3x2 image with distinct pixels; compare with the orientation definitions.
        var image = Image(width: 3, height: 2, fill: .black)
        for y in 0..<2 { for x in 0..<3 { image[x, y] = RGB(UInt8(x), UInt8(y), 0) } }
        XCTAssertEqual(image.applyingOrientation(1), image)
        XCTAssertEqual(image.applyingOrientation(2)[0, 0], RGB(2, 0, 0))
        XCTAssertEqual(image.applyingOrientation(3)[0, 0], RGB(2, 1, 0))
        XCTAssertEqual(image.applyingOrientation(4)[0, 0], RGB(0, 1, 0))
        let r6 = image.applyingOrientation(6)
        XCTAssertEqual([r6.width, r6.height], [2, 3])
        XCTAssertEqual(r6[0, 0], RGB(0, 1, 0))   // bottom-left comes to the top-left
        XCTAssertEqual(image.applyingOrientation(8)[0, 0], RGB(2, 0, 0))   // top-right comes to the top-left
        XCTAssertEqual(image.applyingOrientation(5)[1, 0], RGB(0, 1, 0))   // transpose
        XCTAssertEqual(image.applyingOrientation(7)[0, 0], RGB(2, 1, 0))
    }
}
