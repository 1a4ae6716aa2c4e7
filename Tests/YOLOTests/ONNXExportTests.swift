import Foundation
import NN
import TensorCore
import XCTest
@testable import YOLO

/// predict's export_onnx, held to our own forward by ONNX Runtime (and OpenCV's DNN module) in a
/// virtual environment the test makes under .build/ (PyPI's onnx, onnxruntime, numpy,
/// opencv-python-headless); skipped, saying why, where that cannot be installed.
final class ONNXExportTests: XCTestCase {
    static let packages = ["onnx", "onnxruntime", "numpy", "opencv-python-headless"]

    /// The environment's python, made on first use.
    func onnxPython() throws -> URL {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let venv = root.appendingPathComponent(".build/onnx-venv")
        let python = venv.appendingPathComponent("bin/python")
        let ready = venv.appendingPathComponent(".installed")
        if FileManager.default.fileExists(atPath: ready.path) { return python }
        func run(_ executable: String, _ arguments: [String]) -> (Int32, String) {
            do {
                let r = try runProcess(URL(fileURLWithPath: "/usr/bin/env"), [executable] + arguments,
                                       in: FileManager.default.temporaryDirectory)
                return (r.status, String((r.output + r.errors).suffix(600)))
            } catch { return (-1, "\(error)") }
        }
        let made = run("python3", ["-m", "venv", venv.path])
        guard made.0 == 0 else { throw XCTSkip("no python3 venv for the ONNX Runtime check: \(made.1)") }
        let installed = run(python.path, ["-m", "pip", "install", "-q"] + Self.packages)
        guard installed.0 == 0 else { throw XCTSkip("cannot install \(Self.packages.joined(separator: ", ")) from PyPI: \(installed.1)") }
        FileManager.default.createFile(atPath: ready.path, contents: nil)
        return python
    }

    /// A model whose numbers mean something: He-initialised convolutions (outputs of order 1 at the
    /// end of a deep stack) and BatchNorm statistics away from 0 and 1, so folding is exercised.
    /// `gain` 2 is He's; YOLOv4's residual stages grow activations with it, so it takes less.
    func model(_ kind: ModelKind, gain: Float) throws -> Detector {
        let m = try kind.make(numClasses: 3, seed: 5)
        let g = RandomGenerator(seed: 9)
        for (name, p) in m.namedTensors() {
            let shape = p.value.shape
            if name.hasSuffix("weight") && shape.count == 4 {
                p.value = try Tensor.normal(shape, std: (gain / Float(shape[1] * shape[2] * shape[3])).squareRoot(), generator: g)
            } else if name.hasSuffix("running_mean") {
                p.value = try Tensor.normal(shape, std: 0.1, generator: g)
            } else if name.hasSuffix("running_var") {
                p.value = try Tensor.uniform(shape, low: 0.5, high: 1.5, generator: g)
            } else if name.hasSuffix("bn.bias") {
                p.value = try Tensor.normal(shape, std: 0.1, generator: g)
            }
        }
        m.eval()
        return m
    }

    func check(_ kind: ModelKind, size: [Int], gain: Float) throws -> [String: Any] {
        let python = try onnxPython()
        let folder = temporaryFolder(self, "onnx")
        let m = try model(kind, gain: gain)
        let x = try Tensor.uniform([1, 3, size[0], size[1]], generator: RandomGenerator(seed: 3))
        let ours = try withNoGrad { try m.outputs(x) }
        let path = folder.appendingPathComponent("model.onnx").path
        let summary = try ONNXExport.write(m, inputShape: size, classes: ClassNames(["a", "b c", "d"]),
                                           anchors: kind.defaultAnchors, to: path)
        XCTAssertEqual(summary.outputs.map(\.name), Array(["output", "output1", "output2"].prefix(ours.count)))
        func raw(_ t: Tensor, _ name: String) throws -> String {
            let file = folder.appendingPathComponent(name + ".f32")
            try t.contiguous().toArray().withUnsafeBufferPointer { try Data(buffer: $0).write(to: file) }
            return file.path
        }
        let input = try raw(x, "input")
        let listing = try zip(summary.outputs, ours).map { output, tensor -> [String: Any] in
            ["name": output.name, "shape": tensor.shape, "file": try raw(tensor, output.name)]
        }
        let outputsFile = folder.appendingPathComponent("outputs.json")
        try JSONSerialization.data(withJSONObject: listing).write(to: outputsFile)

        let check = try runProcess(python, [yoloFixtures.appendingPathComponent("onnx_check.py").path, path, input, outputsFile.path],
                                   in: folder)
        XCTAssertEqual(check.status, 0, check.errors)
        let text = check.output
        let result = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] ?? [:]
        XCTAssertEqual(result["opset"] as? Int, 12)
        XCTAssertEqual(result["input"] as? String, "images")
        XCTAssertEqual(result["outputs"] as? [String], summary.outputs.map(\.name))
        let metadata = result["metadata"] as? [String: String] ?? [:]
        XCTAssertEqual(metadata["classes"], "a,b c,d")
        XCTAssertEqual(metadata["input_shape"], "\(size[0]),\(size[1])")
        // The outputs are of order 1, so agreement to 1e-4 is agreement to float32 rounding.
        XCTAssertGreaterThan(result["max_abs_output"] as? Double ?? 0, 0.5)
        XCTAssertLessThan(result["max_abs_output"] as? Double ?? 0, 100)
        XCTAssertLessThan(result["ort_max_abs_diff"] as? Double ?? 1, 1e-4, "\(result)")
        if let cv = result["opencv_max_abs_diff"] as? Double { XCTAssertLessThan(cv, 1e-4, "\(result)") }
        print("ONNX check \(kind.rawValue) \(size): ONNX Runtime max |diff| \(result["ort_max_abs_diff"] ?? "?"), OpenCV \(result["opencv"] ?? "?") "
              + "max |diff| \(result["opencv_max_abs_diff"] ?? "-"), outputs up to \(result["max_abs_output"] ?? "?")")
        return result
    }

    func testTinyAgreesWithONNXRuntimeAndOpenCV() throws {
        let result = try check(.yolov4Tiny, size: [64, 96], gain: 2)
        XCTAssertEqual((result["ort_shapes"] as? [String: [Int]])?["output1"], [1, 24, 4, 6])
    }

    func testYOLOv4AgreesWithONNXRuntimeAndOpenCV() throws {
        let result = try check(.yolov4, size: [64, 64], gain: 1.3)
        XCTAssertEqual((result["ort_shapes"] as? [String: [Int]])?["output2"], [1, 24, 8, 8])
    }

    func testPredictExportsWithTheTrainedWeightsAndRefusesWeightsOfOtherClasses() throws {
        let (root, c) = try tinyTrainingProject(self)
        let weights = root.appendingPathComponent("w.pth").path
        try Checkpoints.saveWeights(try YOLOv4Tiny(numClasses: 5, anchorsMask: c.anchorsMask, seed: 3), to: weights)
        let common = ["--model", "yolov4-tiny", "--anchors-path", c.anchorsPath, "--input-shape", "64", "--model-path", weights,
                      "--mode", "export_onnx", "--onnx-save-path", "out/tiny.onnx"]
        try write("Cuda = False\n", root.appendingPathComponent("train.swift-config"))
        try write(DemoDataset.classes.prefix(5).joined(separator: "\n") + "\n", root.appendingPathComponent("five.txt"))
        let done = try runTool("predict", common + ["--classes-path", "five.txt"], in: root)
        XCTAssertEqual(done.status, 0, done.errors)
        XCTAssertTrue(done.output.contains("Onnx model save as out/tiny.onnx"), done.output)
        XCTAssertTrue(done.output.contains("input  images [1, 3, 64, 64]"), done.output)
        XCTAssertTrue(done.output.contains("output output1 [1, 30, 4, 4]"), done.output)
        XCTAssertGreaterThan((try FileManager.default.attributesOfItem(atPath: root.appendingPathComponent("out/tiny.onnx").path)[.size]
                              as? Int) ?? 0, 20_000_000)

        try write("a\nb\n", root.appendingPathComponent("two.txt"))
        let refused = try runTool("predict", common + ["--classes-path", "two.txt", "--onnx-save-path", "out/two.onnx"], in: root)
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.errors.contains("5") && refused.errors.contains("2"), refused.errors)
        XCTAssertFalse(FileManager.default.fileExists(atPath: root.appendingPathComponent("out/two.onnx").path))
    }
}
