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
        discussion: """
            Modes: predict (the images given, or asked for one by one on a terminal), dir_predict (a folder in, a folder \
            out), fps (timed loop on one image at batch 1), heatmap (objectness over each image given, as a coloured \
            overlay), video (a file or a camera in, the annotated video out, with the running FPS), export_onnx (the \
            model as an ONNX graph: input "images" [1, 3, H, W], outputs "output", "output1"[, "output2"]: the raw head \
            outputs, stride 32 first, as the reference exports them). Drawn images go to --dir-save as <name>.png, heat \
            maps as <name>_heatmap.png, crops (--crop) to \
            --dir-save/crops/. Model settings come from the parameter file unless the options below name them. EXIF \
            orientation is applied, since the output is for people to look at.
            """)

    @Option(help: "predict, dir_predict, fps, heatmap, video or export_onnx.") var mode = "predict"
    @Argument(help: "Images (modes predict, fps and heatmap).") var images: [String] = []
    @Option(help: "Parameter file with the model settings.") var config = "train.swift-config"
    @Option(name: .customLong("cfg-options"), parsing: .upToNextOption, help: "Parameter-file overrides as key=value.")
    var cfgOptions: [String] = []
    @Option(help: "yolov4 or yolov4-tiny (default: the parameter file's).") var model: String?
    @Option(name: .customLong("classes-path"), help: "Classes file (default: the parameter file's).") var classesPath: String?
    @Option(name: .customLong("anchors-path"), help: "Anchors file (default: the parameter file's).") var anchorsPath: String?
    @Option(name: .customLong("input-shape"), help: "416, or height,width (default: the parameter file's).") var inputShape: String?
    @Option(help: "cpu, cuda or cuda:N (default: the parameter file's Cuda).") var device: String?
    @Option(name: .customLong("model-path"), help: "Weights.") var modelPath = "logs/best_epoch_weights.pth"
    @Option(parsing: .unconditional, help: "Lowest score shown (0-1).") var confidence = 0.5
    @Option(name: .customLong("nms-iou"), parsing: .unconditional, help: "NMS IoU (above 0, at most 1).") var nmsIoU = 0.3
    @Flag(help: "Letterbox instead of a plain resize.") var letterbox = false
    @Flag(help: "Also save each detection's pixels to --dir-save/crops/.") var crop = false
    @Flag(help: "Also print how many objects of each class were found.") var count = false
    @Option(name: .customLong("dir-origin"), help: "Input folder (dir_predict).") var dirOrigin = "img"
    @Option(name: .customLong("dir-save"), help: "Output folder.") var dirSave = "img_out"
    @Option(name: .customLong("test-interval"), parsing: .unconditional, help: "Repetitions in fps mode (at least 1).")
    var testInterval = 100
    @Option(help: "Also write the detections as JSON to this file.") var json: String?
    @Option(name: .customLong("video-path"), help: "video: a video file, or a camera (0 for /dev/video0, or a /dev/video* path).")
    var videoPath = "0"
    @Option(name: .customLong("video-save-path"),
            help: "video: the annotated video (.mp4, .mkv or .avi; default --dir-save/<name>_out.mp4; '' writes none).")
    var videoSavePath: String?
    @Option(name: .customLong("video-fps"), parsing: .unconditional, help: "video: frame rate written (default: the source's, else 25).")
    var videoFPS: Double?
    @Option(name: .customLong("video-batch"), help: "video: frames detected together (at least 1).") var videoBatch = 1
    @Option(name: .customLong("video-frames"), help: "video: stop after this many frames (cameras run until Ctrl-C).")
    var videoFrames: Int?
    @Option(name: .customLong("onnx-save-path"), help: "Where export_onnx writes the model.") var onnxSavePath = "model_data/models.onnx"
    @Flag(help: "export_onnx: accepted for the reference's option; the graph is written simplified already (BatchNorm folded).")
    var simplify = false
    @Flag(name: .customLong("dynamic-batch"), help: "export_onnx: a symbolic batch dimension instead of 1.") var dynamicBatch = false

    func run() throws {
        runReportingErrors {
            guard ["predict", "dir_predict", "fps", "heatmap", "video", "export_onnx"].contains(mode) else {
                throw YOLOError("--mode '\(mode)': expected predict, dir_predict, fps, heatmap, video or export_onnx")
            }
            let detection = try DetectionSettings(confidence: confidence, nmsIoU: nmsIoU, letterbox: letterbox).validated()
            guard testInterval >= 1 else { throw YOLOError("--test-interval \(testInterval): must be at least 1 repetition") }
            // Output places are tried before the model loads, so a bad path costs no work.
            var video: (reader: VideoReader, savePath: String?)?
            if mode == "export_onnx" {
                try OutputFolders.ensureWritable((onnxSavePath as NSString).deletingLastPathComponent, key: "--onnx-save-path")
            } else if mode == "video" {
                video = try openVideo()
            } else {
                try OutputFolders.ensureWritable(dirSave, key: "--dir-save")
            }
            if let json { try OutputFolders.ensureWritable((json as NSString).deletingLastPathComponent, key: "--json") }
            let overrides = try ModelOverrides.overrides(model: model, classesPath: classesPath, anchorsPath: anchorsPath,
                                                         inputShape: inputShape)
            let settings = try TrainConfig.load(path: config, overrides: cfgOptions + overrides)
            let classes = try ClassNames(contentsOf: settings.classesPath)
            let runner = try DetectionRunner.load(weights: modelPath, config: settings, classes: classes,
                                                  settings: detection,
                                                  device: DeviceSelection.choose(cuda: settings.cuda, requested: device, log: { print($0) }))
            let inputSize = (settings.inputShape[0] + settings.inputShape[1]) / 2
            var report: [[String: Any]] = []
            var failed: [String] = []
            /// An image that cannot be read or drawn is reported and the rest go on; the exit status says so at the end.
            func each(_ path: String, _ body: (String) throws -> Void) {
                do { try body(path) } catch {
                    FileHandle.standardError.write(Data("error: \(error)\n".utf8))
                    failed.append(path)
                }
            }
            func output(_ path: String, suffix: String = "") -> String {
                (dirSave as NSString).appendingPathComponent(stem(path) + suffix + ".png")
            }
            func handle(_ path: String) throws {
                let image = try Image.load(path).oriented
                let found = try runner.detect([image])[0]
                print("\(path): \(found.count) objects")
                for d in found { print("  " + DetectionDrawing.describe(d, classes: classes)) }
                let counts = DetectionDrawing.counts(found, classes: classes)
                if count { print("  counts: " + (counts.isEmpty ? "none" : counts.map { "\($0.name) \($0.count)" }.joined(separator: ", "))) }
                try DetectionDrawing.draw(found, on: image, classes: classes, inputSize: inputSize).save(output(path))
                if crop {
                    for (i, d) in found.enumerated() {
                        let name = classes.names[d.classIndex].replacingOccurrences(of: "/", with: "_")
                        try DetectionDrawing.crop(d, from: image)?
                            .save((dirSave as NSString).appendingPathComponent("crops/\(stem(path))_\(i)_\(name).png"))
                    }
                }
                report.append(["image": path, "output": output(path),
                               "counts": Dictionary(uniqueKeysWithValues: counts.map { ($0.name, $0.count) }),
                               "detections": found.map { jsonObject($0, classes: classes) }])
            }
            switch mode {
            case "export_onnx":
                try exportONNX(runner, settings: settings, classes: classes)
            case "video":
                if let video {
                    report = try annotateVideo(video.reader, savePath: video.savePath, runner: runner, classes: classes,
                                               inputSize: inputSize)
                }
            case "predict":
                let interactive = images.isEmpty && isatty(fileno(stdin)) != 0
                guard !images.isEmpty || interactive else { throw YOLOError("no images given (predict IMAGE ...)") }
                for p in images { each(p, handle) }
                while interactive {
                    print("Input image filename (empty line to stop):", terminator: " ")
                    guard let line = readLine(), !line.isEmpty else { break }
                    do { try handle(line) } catch { print("error: \(error)") }   // keep asking, as the reference does
                }
            case "dir_predict":
                var isFolder: ObjCBool = false
                guard FileManager.default.fileExists(atPath: dirOrigin, isDirectory: &isFolder), isFolder.boolValue else {
                    throw YOLOError("--dir-origin \(dirOrigin): no such folder")
                }
                let names = ((try? FileManager.default.contentsOfDirectory(atPath: dirOrigin)) ?? [])
                    .filter { ["jpg", "jpeg", "png"].contains(($0 as NSString).pathExtension.lowercased()) }.sorted()
                guard !names.isEmpty else { throw YOLOError("\(dirOrigin): no images found (.jpg, .jpeg, .png)") }
                let bar = ProgressBar(title: "dir_predict", total: names.count, unit: "img")
                for (i, name) in names.enumerated() {
                    each((dirOrigin as NSString).appendingPathComponent(name), handle)
                    bar.update(i + 1)
                }
                bar.finish()
            case "fps":
                guard images.count == 1 else { throw YOLOError("fps mode times one image: predict --mode fps IMAGE") }
                let image = try Image.load(images[0]).oriented
                _ = try runner.detect([image])   // first call: weights reordered, buffers allocated
                let repetitions = max(testInterval, 1)
                let start = Date()
                for _ in 0..<repetitions { _ = try runner.detect([image]) }
                let seconds = Date().timeIntervalSince(start) / Double(repetitions)
                let flops = try ModelSummary(model: runner.model, inputHeight: settings.inputShape[0],
                                             inputWidth: settings.inputShape[1]).flops
                let peak = MachinePeak.measure()
                print(String(format: "%.4f seconds, %.2f FPS, @batch_size 1", seconds, 1 / seconds))
                print(String(format: "network %.2f GFLOPs per image: %.1f GFLOP/s = %.1f%% of this machine's peak (%@)",
                             flops / 1e9, flops / seconds / 1e9, flops / seconds / peak.flopsPerSecond * 100, peak.summary))
            default:   // heatmap
                guard !images.isEmpty else { throw YOLOError("heatmap mode needs images: predict --mode heatmap IMAGE ...") }
                for path in images {
                    each(path) { path in
                        let image = try Image.load(path).oriented
                        try runner.heatmap(image).save(output(path, suffix: "_heatmap"))
                        print("\(path): objectness heat map saved to \(output(path, suffix: "_heatmap"))")
                    }
                }
            }
            if let json {
                let data = try JSONSerialization.data(withJSONObject: report, options: [.prettyPrinted, .sortedKeys])
                try writeAtomically(data, to: json)
            }
            if !failed.isEmpty {
                throw YOLOError("\(failed.count) of \(failed.count + report.count) images failed (\(failed.joined(separator: ", "))); "
                                + "the others were processed")
            }
        }
    }

    func exportONNX(_ runner: DetectionRunner, settings: TrainConfig, classes: ClassNames) throws {
        if simplify { print("--simplify: the graph is written simplified already (BatchNorm folded into the convolutions, no constant subgraphs).") }
        let summary = try ONNXExport.write(runner.model, inputShape: settings.inputShape, classes: classes,
                                           anchors: runner.decoder.anchors, dynamicBatch: dynamicBatch, to: onnxSavePath)
        print("Onnx model save as \(onnxSavePath) (\(String(format: "%.1f", Double(summary.bytes) / 1e6)) MB, opset \(summary.opset), "
              + "\(summary.nodes) nodes)")
        print("  input  \(ONNXExport.inputName) \(summary.inputText) float32: RGB in [0, 1], planar, the image resized to the input "
              + "size (or letterboxed, as predict's --letterbox)")
        for (name, shape) in summary.outputTexts { print("  output \(name) \(shape) float32: raw head output, before decoding") }
    }

    /// One detection as --json lists it.
    func jsonObject(_ d: Detection, classes: ClassNames) -> [String: Any] {
        ["class": classes.names[d.classIndex], "score": d.score, "top": d.top, "left": d.left, "bottom": d.bottom, "right": d.right]
    }

    func stem(_ path: String) -> String { ((path as NSString).lastPathComponent as NSString).deletingPathExtension }
}
