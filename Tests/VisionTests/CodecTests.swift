import Foundation
import XCTest
@testable import Vision

let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
func fixture(_ name: String) -> String { fixtures.appendingPathComponent(name).path }

func assertPixel(_ image: Image, _ x: Int, _ y: Int, _ expected: RGB, tolerance: Int = 3,
                 file: StaticString = #filePath, line: UInt = #line) {
    let p = image[x, y]
    let ok = abs(Int(p.r) - Int(expected.r)) <= tolerance && abs(Int(p.g) - Int(expected.g)) <= tolerance
        && abs(Int(p.b) - Int(expected.b)) <= tolerance
    XCTAssertTrue(ok, "pixel (\(x), \(y)) is \(p), expected \(expected)", file: file, line: line)
}

final class CodecTests: XCTestCase {
    func testProgressiveJPEG() throws {
        let d = try Image.load(fixture("progressive.jpg"))
        XCTAssertEqual(d.image.width, 16)
        XCTAssertEqual(d.image.height, 8)
        assertPixel(d.image, 1, 4, RGB(255, 0, 0), tolerance: 8)
        assertPixel(d.image, 14, 4, RGB(0, 0, 255), tolerance: 8)
    }

    func testGreyscaleJPEGBecomesRGB() throws {
        let d = try Image.load(fixture("grey.jpg"))
        XCTAssertEqual(d.sourceChannels, 1)
        assertPixel(d.image, 3, 3, RGB(100, 100, 100), tolerance: 1)
    }

    func testCMYKJPEGBecomesRGB() throws {
        let d = try Image.load(fixture("cmyk.jpg"))
        XCTAssertEqual(d.sourceChannels, 4)
        assertPixel(d.image, 4, 4, RGB(255, 0, 0), tolerance: 6)
    }

    func testEXIFOrientationIsReportedAndApplied() throws {
        let d = try Image.load(fixture("exif_orientation6.jpg"))
        XCTAssertEqual(d.orientation, 6)
        XCTAssertEqual(d.image.width, 16)        // pixels as stored
        let viewed = d.oriented                  // rotated 90 degrees clockwise
        XCTAssertEqual(viewed.width, 8)
        XCTAssertEqual(viewed.height, 16)
        assertPixel(viewed, 4, 1, RGB(255, 0, 0), tolerance: 8)   // the stored left half is now on top
        assertPixel(viewed, 4, 14, RGB(0, 0, 255), tolerance: 8)
    }

    func testPNGVariants() throws {
        let palette = try Image.load(fixture("palette.png")).image
        XCTAssertEqual(palette[2, 0], RGB(0, 200, 0))
        XCTAssertEqual(palette[2, 3], RGB(10, 20, 30))
        XCTAssertEqual(try Image.load(fixture("grey16.png")).image[1, 1], RGB(128, 128, 128))
        XCTAssertEqual(try Image.load(fixture("rgba.png")).image[0, 0], RGB(10, 20, 30))   // alpha dropped
        XCTAssertEqual(try Image.load(fixture("grey_alpha.png")).image[3, 3], RGB(77, 77, 77))
    }

    func testEncodeDecodeRoundTrips() throws {
        var image = Image(width: 7, height: 5, fill: RGB(10, 200, 30))
        image[3, 2] = RGB(255, 0, 128)
        let png = try Image.decode(image.encodePNG()).image
        XCTAssertEqual(png, image)   // lossless
        let jpeg = try Image.decode(Image(width: 16, height: 16, fill: RGB(200, 100, 50)).encodeJPEG(quality: 95)).image
        assertPixel(jpeg, 8, 8, RGB(200, 100, 50), tolerance: 3)
        let low = try Image(width: 64, height: 64, fill: RGB(200, 100, 50)).encodeJPEG(quality: 10)
        let high = try Image(width: 64, height: 64, fill: RGB(200, 100, 50)).encodeJPEG(quality: 100)
        XCTAssertLessThan(low.count, high.count)
    }

    func testSaveIsAtomicAndByExtension() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("vision-save-\(getpid())")
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("out.png").path
        try Image(width: 3, height: 3, fill: .white).save(path)
        XCTAssertEqual(try Image.load(path).image[1, 1], .white)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: folder.path)
        XCTAssertEqual(leftovers, ["out.png"])
        XCTAssertThrowsError(try Image(width: 3, height: 3).save(folder.appendingPathComponent("x.bmp").path)) {
            XCTAssertTrue("\($0)".contains("unknown image extension '.bmp'"))
        }
    }

    func testBadFilesGiveMessagesNamingThem() throws {
        XCTAssertThrowsError(try Image.load(fixture("truncated.jpg"))) {
            XCTAssertTrue("\($0)".contains("truncated.jpg: cannot decode"), "\($0)")
        }
        XCTAssertThrowsError(try Image.load(fixture("make_fixtures.py"))) {
            XCTAssertTrue("\($0)".contains("make_fixtures.py: not a JPEG or PNG image"), "\($0)")
        }
        XCTAssertThrowsError(try Image.load(fixture("missing.jpg"))) {
            XCTAssertTrue("\($0)".contains("missing.jpg: no such file"), "\($0)")
        }
        XCTAssertThrowsError(try Image.decode([], name: "empty.png")) { XCTAssertTrue("\($0)".contains("empty.png: the file is empty")) }
        var corrupt = try Image(width: 32, height: 32, fill: RGB(1, 2, 3)).encodeJPEG()
        for i in stride(from: 200, to: corrupt.count - 2, by: 7) { corrupt[i] = 0xFF }   // mangled entropy data
        XCTAssertThrowsError(try Image.decode(corrupt, name: "corrupt.jpg"))
    }
}
