import Foundation
import Vision
import XCTest
@testable import YOLO

/// Video in and out through FFmpeg, and what predict's video mode says about bad input.
final class VideoTests: XCTestCase {
    func frames(_ count: Int, width: Int = 96, height: Int = 64) throws -> [Image] {
        try (0..<count).map { i in
            var image = Image(width: width, height: height, fill: RGB(30, 30, 30))
            image.fillRectangle(x0: 4 + 6 * i, y0: 10, x1: 30 + 6 * i, y1: 40, color: RGB(240, 200, 20))
            return image
        }
    }

    func testWrittenVideoDecodesBackWithItsFramesRateAndPixels() throws {
        let folder = temporaryFolder(self, "video")
        let path = folder.appendingPathComponent("clip.mp4").path
        // 12 frames at 10 fps: a length and rate at which an MP4 without packet durations loses its last frame.
        let source = try frames(12)
        let writer = try VideoWriter(path: path, width: 96, height: 64, fps: 10)
        XCTAssertEqual(writer.codec, "libx264")
        for f in source { try writer.write(f) }
        XCTAssertFalse(FileManager.default.fileExists(atPath: path), "the video appears under its name only when finished")
        try writer.finish()
        let reader = try VideoReader(source: path)
        XCTAssertEqual([reader.width, reader.height], [96, 64])
        XCTAssertEqual(reader.fps, 10, accuracy: 1e-6)
        XCTAssertEqual(reader.frameCount, 12)
        XCTAssertEqual(reader.codec, "h264")
        var decoded: [Image] = []
        while let f = try reader.next() { decoded.append(f) }
        XCTAssertEqual(decoded.count, 12)
        for (a, b) in zip(decoded, source) {
            let meanError = Double(zip(a.pixels, b.pixels).map { abs(Int($0) - Int($1)) }.reduce(0, +)) / Double(a.pixels.count)
            XCTAssertLessThan(meanError, 6, "decoded frame far from the one written")
        }
        // The moving rectangle moved: frame 11 is not frame 0 again.
        XCTAssertGreaterThan(zip(decoded[0].pixels, decoded[11].pixels).filter { abs(Int($0) - Int($1)) > 100 }.count, 1000)
        // Odd sizes: 4:2:0 needs even ones, so the last row and column are dropped.
        let odd = folder.appendingPathComponent("odd.mkv").path
        let oddWriter = try VideoWriter(path: odd, width: 95, height: 63, fps: 12)
        try oddWriter.write(Image(width: 95, height: 63, fill: RGB(200, 10, 10)))
        try oddWriter.finish()
        let oddReader = try VideoReader(source: odd)
        XCTAssertEqual([oddReader.width, oddReader.height], [94, 62])
        XCTAssertNotNil(try oddReader.next())
    }

    func testBadSourcesAndTargetsAreNamedWithTheReason() throws {
        let folder = temporaryFolder(self, "video-bad")
        try write("this is not a video\n", folder.appendingPathComponent("notes.mp4"))
        // A real video cut short: its header is there, its frames are not.
        let good = folder.appendingPathComponent("good.mp4").path
        let writer = try VideoWriter(path: good, width: 96, height: 64, fps: 10)
        for f in try frames(8) { try writer.write(f) }
        try writer.finish()
        let bytes = try Data(contentsOf: URL(fileURLWithPath: good))
        try bytes.prefix(bytes.count / 3).write(to: folder.appendingPathComponent("cut.mp4"))

        func message(_ body: () throws -> Void) -> String {
            do { try body(); return "" } catch { return "\(error)" }
        }
        let missing = message { _ = try VideoReader(source: folder.appendingPathComponent("none.mp4").path) }
        XCTAssertTrue(missing.contains("none.mp4: no such file"), missing)
        let notVideo = message { _ = try VideoReader(source: folder.appendingPathComponent("notes.mp4").path) }
        XCTAssertTrue(notVideo.contains("notes.mp4: FFmpeg cannot open it as a video (Invalid data found"), notVideo)
        let camera = message { _ = try VideoReader(source: "7") }
        XCTAssertTrue(camera.contains("no camera at /dev/video7"), camera)
        let cut = message {
            let reader = try VideoReader(source: folder.appendingPathComponent("cut.mp4").path)
            while try reader.next() != nil {}
        }
        // MP4 puts its index at the end: a cut file has none, and FFmpeg's own line says so.
        XCTAssertTrue(cut.contains("cut.mp4: FFmpeg cannot open it as a video (Invalid data found when processing input: moov atom not found)"),
                      cut)
        let unwritable = message { _ = try VideoWriter(path: folder.appendingPathComponent("notes.mp4/out.mp4").path, width: 96, height: 64, fps: 10) }
        XCTAssertTrue(unwritable.contains("out.mp4: cannot write a video there ("), unwritable)
        let noContainer = message { _ = try VideoWriter(path: folder.appendingPathComponent("out.xyz").path, width: 96, height: 64, fps: 10) }
        XCTAssertTrue(noContainer.contains("no container format for its extension"), noContainer)

        // predict says so before it loads a model, and exits non-zero.
        let run = try runTool("predict", ["--mode", "video", "--video-path", "notes.mp4"], in: folder)
        XCTAssertNotEqual(run.status, 0)
        XCTAssertTrue(run.errors.contains("notes.mp4: FFmpeg cannot open it as a video"), run.errors)
        let cam = try runTool("predict", ["--mode", "video"], in: folder)
        XCTAssertTrue(cam.errors.contains("--video-path 0: no camera at /dev/video0"), cam.errors)
    }
}
