import Foundation
import XCTest
@testable import YOLO
import NN
import TensorCore
import Vision

/// End to end on the real model: YOLOv4-tiny learns a handful of demo images.
final class OverfitTests: XCTestCase {
    func testTinyModelOverfitsAFewDemoImages() throws {
        let size = 128
        let augmentation = Augmentation(inputWidth: size, inputHeight: size)
        var samples: [Sample] = []
        for i in 0..<4 {
            let (image, boxes) = DemoDataset.makeImage(rng: RandomGenerator(seed: 77).fork(stream: UInt64(i)), minSide: 128, maxSide: 160)
            samples.append(augmentation.letterbox(image, boxes, rng: RandomGenerator(seed: 1)))
        }
        let images = try Tensor.fromHost(shape: [4, 3, size, size]) { buffer in
            for (i, s) in samples.enumerated() { s.image.writePlanarFloats(into: buffer.baseAddress! + i * 3 * size * size) }
        }
        let targets = samples.map { s in
            s.boxes.map { TargetBox(cx: Float(s.boxes.isEmpty ? 0 : ($0.x1 + $0.x2) / 2 / Double(size)),
                                    cy: Float(($0.y1 + $0.y2) / 2 / Double(size)), w: Float($0.width / Double(size)),
                                    h: Float($0.height / Double(size)), classIndex: $0.classIndex) }
        }
        let anchors: [(Double, Double)] = AnchorsFile.yolov4TinyDefault.map { ($0.0 * Double(size) / 416, $0.1 * Double(size) / 416) }
        let model = try YOLOv4Tiny(numClasses: DemoDataset.classes.count, seed: 3)
        let loss = YOLOLoss(anchors: anchors, numClasses: DemoDataset.classes.count, inputWidth: size, inputHeight: size,
                            anchorsMask: model.anchorsMask)
        let optimizer = Optimizer(.adam, groups: ParameterGroup.yoloGroups(model, weightDecay: 0), lr: 3e-3, momentum: 0.9)
        var first: Float = 0, last: Float = 0
        for step in 0..<120 {
            optimizer.zeroGrad()
            let value = try loss.total(model.outputs(images), targets: targets)
            try value.backward()
            try optimizer.step()
            if step == 0 { first = try value.item() }
            last = try value.item()
        }
        XCTAssertLessThan(last, first / 10, "loss \(first) -> \(last)")
        // The boxes come out: every object is found with its class at predict's default confidence. (At a
        // 96 input a lone 12x16 object stays below it for long: objectness is a mean over all cells.)
        let decoder = Decoder(anchors: anchors, anchorsMask: model.anchorsMask, numClasses: DemoDataset.classes.count,
                              inputWidth: size, inputHeight: size)
        let detections = try withNoGrad {
            try decoder.detect(model.outputs(images), imageSizes: Array(repeating: (size, size), count: 4),
                               settings: DetectionSettings(confidence: 0.5, nmsIoU: 0.3))
        }
        for (s, found) in zip(samples, detections) {
            for b in s.boxes {
                let hit = found.contains { d in
                    let iw = max(0, min(d.right, b.x2) - max(d.left, b.x1)), ih = max(0, min(d.bottom, b.y2) - max(d.top, b.y1))
                    let iou = iw * ih / ((d.right - d.left) * (d.bottom - d.top) + b.width * b.height - iw * ih)
                    return d.classIndex == b.classIndex && iou > 0.5
                }
                XCTAssertTrue(hit, "object \(b) not found among \(found)")
            }
        }
        try checkPredictFindsTheObjects(model: model, samples: samples, anchors: anchors, size: size)
        try checkHeatmapIsHotOnTheObjects(model: model, samples: samples, anchors: anchors, size: size)
    }

    /// The user's path: weights saved as train saves them, then the `predict` executable on PNG files, its
    /// JSON read back. Every drawn object must come out with its class name and a box on it.
    func checkPredictFindsTheObjects(model: Detector, samples: [Sample], anchors: [(Double, Double)], size: Int) throws {
        let binary = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent(".build/debug/predict")
        guard FileManager.default.isExecutableFile(atPath: binary.path) else { throw XCTSkip("predict is not built at \(binary.path)") }
        let folder = temporaryFolder(self, "predict")
        try Checkpoints.saveWeights(model, to: folder.appendingPathComponent("w.pth").path)
        try write(DemoDataset.classes.joined(separator: "\n") + "\n", folder.appendingPathComponent("classes.txt"))
        try write(anchors.map { String(format: "%.4f,%.4f", $0.0, $0.1) }.joined(separator: ", ") + "\n",
                  folder.appendingPathComponent("anchors.txt"))
        try write("model = 'yolov4-tiny'\nclasses_path = 'classes.txt'\nanchors_path = 'anchors.txt'\n", folder.appendingPathComponent("p.swift-config"))
        var paths: [String] = []
        for (i, s) in samples.enumerated() {
            paths.append(folder.appendingPathComponent("img\(i).png").path)
            try s.image.save(paths[i])
        }
        func predict(_ arguments: [String]) throws -> String {
            let process = Process()
            process.executableURL = binary
            process.currentDirectoryURL = folder
            process.arguments = ["--config", "p.swift-config", "--model-path", "w.pth", "--input-shape", "\(size)"] + arguments
            let output = Pipe()
            process.standardOutput = output
            process.standardError = output
            try process.run()
            let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            XCTAssertEqual(process.terminationStatus, 0, text)
            return text
        }
        let text = try predict(["--json", "found.json", "--count", "--crop", "--dir-save", "out"] + paths)
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent("found.json"))) as! [[String: Any]]
        XCTAssertEqual(json.count, samples.count)
        for (s, entry) in zip(samples, json) {
            let found = entry["detections"] as! [[String: Any]]
            for b in s.boxes {
                let name = DemoDataset.classes[b.classIndex]
                let hit = found.contains { d in
                    let (l, t, r, bo) = (d["left"] as! Double, d["top"] as! Double, d["right"] as! Double, d["bottom"] as! Double)
                    let iw = max(0, min(r, b.x2) - max(l, b.x1)), ih = max(0, min(bo, b.y2) - max(t, b.y1))
                    return d["class"] as? String == name && iw * ih / ((r - l) * (bo - t) + b.width * b.height - iw * ih) > 0.5
                }
                XCTAssertTrue(hit, "\(name) at \(b) not in predict's output \(found)")
                XCTAssertTrue(text.contains(name), text)
            }
            XCTAssertEqual((entry["counts"] as! [String: Int]).values.reduce(0, +), found.count)
            XCTAssertTrue(FileManager.default.fileExists(atPath: folder.appendingPathComponent(entry["output"] as! String).path))
        }
        XCTAssertTrue(text.contains("counts: "), text)
        let crops = try FileManager.default.contentsOfDirectory(atPath: folder.appendingPathComponent("out/crops").path)
        XCTAssertEqual(crops.count, json.map { ($0["detections"] as! [Any]).count }.reduce(0, +))

        // fps mode prints a time and a rate that agree with each other.
        let fps = try predict(["--mode", "fps", "--test-interval", "2", paths[0]])
        let match = try XCTUnwrap(fps.firstMatch(of: try Regex("([0-9.]+) seconds, ([0-9.]+) FPS, @batch_size 1")), fps)
        let seconds = try XCTUnwrap(Double(String(match.output[1].substring!))), rate = try XCTUnwrap(Double(String(match.output[2].substring!)))
        XCTAssertGreaterThan(seconds, 0)
        XCTAssertEqual(rate * seconds, 1, accuracy: 0.02)
        XCTAssertTrue(fps.contains("of this machine's peak"), fps)

        try checkVideoFindsTheObjects(samples: samples, folder: folder, predict: predict)
    }

    /// Video mode on a clip made of the same images (each shown for three frames, batch 2 so a batch
    /// straddles two images): every object is found in every frame, and the annotated video decodes
    /// back with all its frames, boxes drawn on them.
    func checkVideoFindsTheObjects(samples: [Sample], folder: URL, predict: ([String]) throws -> String) throws {
        let clip = folder.appendingPathComponent("clip.mp4").path
        let writer = try VideoWriter(path: clip, width: samples[0].image.width, height: samples[0].image.height, fps: 10)
        let frames = samples.flatMap { Array(repeating: $0, count: 3) }
        for s in frames { try writer.write(s.image) }
        try writer.finish()
        let text = try predict(["--mode", "video", "--video-path", "clip.mp4", "--video-save-path", "out/clip_out.mp4",
                                "--video-batch", "2", "--json", "video.json"])
        XCTAssertTrue(text.contains("12 frames in"), text)
        XCTAssertTrue(text.contains("Save processed video to the path: out/clip_out.mp4"), text)
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent("video.json"))) as! [[String: Any]]
        XCTAssertEqual(json.map { $0["frame"] as? Int }, Array(0..<12))
        for (s, entry) in zip(frames, json) {
            let found = entry["detections"] as! [[String: Any]]
            for b in s.boxes {
                let hit = found.contains { d in
                    let (l, t, r, bo) = (d["left"] as! Double, d["top"] as! Double, d["right"] as! Double, d["bottom"] as! Double)
                    let iw = max(0, min(r, b.x2) - max(l, b.x1)), ih = max(0, min(bo, b.y2) - max(t, b.y1))
                    return d["class"] as? String == DemoDataset.classes[b.classIndex]
                        && iw * ih / ((r - l) * (bo - t) + b.width * b.height - iw * ih) > 0.5
                }
                XCTAssertTrue(hit, "frame \(entry["frame"] ?? "?"): \(b) not in \(found)")
            }
        }
        let annotated = try VideoReader(source: folder.appendingPathComponent("out/clip_out.mp4").path)
        var decoded: [Image] = []
        while let frame = try annotated.next() { decoded.append(frame) }
        XCTAssertEqual(decoded.count, 12)
        XCTAssertEqual(annotated.fps, 10, accuracy: 0.01)
        for (frame, s) in zip(decoded, frames) {
            // Boxes, labels and the rate are drawn: the frame is no longer the source within codec noise.
            let changed = zip(frame.pixels, s.image.pixels).filter { abs(Int($0) - Int($1)) > 60 }.count
            XCTAssertGreaterThan(changed, 200)
        }
    }

    /// The heat map is objectness: high on each object's centre, low far from every object.
    func checkHeatmapIsHotOnTheObjects(model: Detector, samples: [Sample], anchors: [(Double, Double)], size: Int) throws {
        let runner = DetectionRunner(model: model, anchors: anchors, inputWidth: size, inputHeight: size, settings: DetectionSettings())
        for s in samples {
            let map = try runner.objectness(s.image)
            XCTAssertEqual(map.count, size * size)
            for b in s.boxes {
                let (cx, cy) = (Int((b.x1 + b.x2) / 2), Int((b.y1 + b.y2) / 2))
                XCTAssertGreaterThan(map[cy * size + cx], 0.3, "objectness at the centre of \(b)")
            }
            // Pixels 24 or more from every box.
            let far = (0..<(size * size)).filter { i in
                let (x, y) = (Double(i % size), Double(i / size))
                return s.boxes.allSatisfy { x < $0.x1 - 24 || x > $0.x2 + 24 || y < $0.y1 - 24 || y > $0.y2 + 24 }
            }
            if !far.isEmpty { XCTAssertLessThan(far.map { map[$0] }.reduce(0, +) / Float(far.count), 0.05) }
            let picture = try runner.heatmap(s.image)
            XCTAssertEqual([picture.width, picture.height], [size, size])
        }
    }
}
