import ArgumentParser
import Foundation
import NN
import TensorCore
import Vision
import YOLO

@main
struct PredictCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict",
        abstract: "Detect objects in images with trained weights and draw them.",
        discussion: "Modes: predict (the images given, or asked for one by one on a terminal), dir_predict (a folder in, "
            + "a folder out), fps (timed loop on one image). Model settings come from the parameter file; EXIF orientation "
            + "is applied, since the output is for people to look at.")

    @Option(help: "predict, dir_predict or fps.") var mode = "predict"
    @Argument(help: "Images (mode predict).") var images: [String] = []
    @Option(help: "Parameter file with the model settings.") var config = "train.swift-config"
    @Option(name: .customLong("model-path"), help: "Weights.") var modelPath = "logs/best_epoch_weights.pth"
    @Option(help: "Lowest score shown.") var confidence = 0.5
    @Option(name: .customLong("nms-iou"), help: "NMS IoU.") var nmsIoU = 0.3
    @Flag(help: "Letterbox instead of a plain resize.") var letterbox = false
    @Option(name: .customLong("dir-origin"), help: "Input folder (dir_predict).") var dirOrigin = "img"
    @Option(name: .customLong("dir-save"), help: "Output folder.") var dirSave = "img_out"
    @Option(name: .customLong("test-interval"), help: "Repetitions in fps mode.") var testInterval = 20
    @Option(help: "Also write the detections as JSON to this file.") var json: String?

    func run() throws {
        runReportingErrors {
            let settings = try TrainConfig.load(path: config)
            let classes = try ClassNames(contentsOf: settings.classesPath)
            let runner = try DetectionRunner.load(weights: modelPath, config: settings, classes: classes,
                                                  settings: DetectionSettings(confidence: confidence, nmsIoU: nmsIoU, letterbox: letterbox))
            let inputSize = (settings.inputShape[0] + settings.inputShape[1]) / 2
            var report: [[String: Any]] = []
            func handle(_ path: String, saveAs output: String) throws {
                let image = try Image.load(path).oriented
                let found = try runner.detect([image])[0]
                print("\(path): \(found.count) objects")
                for d in found { print("  " + DetectionDrawing.describe(d, classes: classes)) }
                try DetectionDrawing.draw(found, on: image, classes: classes, inputSize: inputSize).save(output)
                report.append(["image": path, "output": output, "detections": found.map {
                    ["class": classes.names[$0.classIndex], "score": $0.score, "top": $0.top, "left": $0.left,
                     "bottom": $0.bottom, "right": $0.right] as [String: Any] }])
            }
            switch mode {
            case "predict":
                var paths = images
                if paths.isEmpty && isatty(fileno(stdin)) != 0 {
                    print("Input image filename (empty line to stop):", terminator: " ")
                    while let line = readLine(), !line.isEmpty {
                        do { try handle(line, saveAs: (dirSave as NSString).appendingPathComponent(stem(line) + ".png")) } catch {
                            print("error: \(error)")   // keep asking, as the reference does
                        }
                        print("Input image filename (empty line to stop):", terminator: " ")
                    }
                }
                guard !paths.isEmpty || isatty(fileno(stdin)) != 0 else { throw YOLOError("no images given (predict IMAGE ...)") }
                for p in paths { try handle(p, saveAs: (dirSave as NSString).appendingPathComponent(stem(p) + ".png")) }
                paths = []
            case "dir_predict":
                let names = ((try? FileManager.default.contentsOfDirectory(atPath: dirOrigin)) ?? [])
                    .filter { ["jpg", "jpeg", "png"].contains(($0 as NSString).pathExtension.lowercased()) }.sorted()
                guard !names.isEmpty else { throw YOLOError("\(dirOrigin): no images found (.jpg, .jpeg, .png)") }
                let bar = ProgressBar(title: "dir_predict", total: names.count, unit: "img")
                for (i, name) in names.enumerated() {
                    try handle((dirOrigin as NSString).appendingPathComponent(name),
                               saveAs: (dirSave as NSString).appendingPathComponent(stem(name) + ".png"))
                    bar.update(i + 1)
                }
                bar.finish()
            case "fps":
                guard let path = images.first else { throw YOLOError("fps mode needs one image: predict --mode fps IMAGE") }
                let image = try Image.load(path).oriented
                _ = try runner.detect([image])
                let start = Date()
                for _ in 0..<max(testInterval, 1) { _ = try runner.detect([image]) }
                let seconds = Date().timeIntervalSince(start) / Double(max(testInterval, 1))
                print(String(format: "%.4f seconds, %.2f FPS, @batch_size 1", seconds, 1 / seconds))
            default:
                throw YOLOError("--mode '\(mode)': expected predict, dir_predict or fps")
            }
            if let json {
                let data = try JSONSerialization.data(withJSONObject: report, options: [.prettyPrinted, .sortedKeys])
                try writeAtomically(data, to: json)
            }
        }
    }

    func stem(_ path: String) -> String { ((path as NSString).lastPathComponent as NSString).deletingPathExtension }
}
