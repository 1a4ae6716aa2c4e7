import ArgumentParser
import Foundation
import NN
import Vision
import YOLO

@main
struct GetMapCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "get_map",
        abstract: "mAP of trained weights on the test images (VOC, or COCO's mAP@[.5:.95]), with the reference's map_out/ files.",
        discussion: """
            map_mode 0: predictions, ground truth and VOC mAP@0.5; 1: predictions only; 2: ground truth only; 3: VOC mAP \
            from existing map_out/ files; 4: COCO mAP@[.5:.95] from map_out/ (made first when it has no files yet). \
            The model settings (model, classes, anchors, input shape) come from the parameter file, or from the options. \
            To reproduce the mAP that train printed, use train's settings: --list with the validation ids, \
            --confidence 0.05 --nms-iou 0.5 --letterbox --max-boxes 100.
            """)

    @Option(name: .customLong("map-mode"), help: "0 all, 1 predictions, 2 ground truth, 3 VOC mAP, 4 COCO mAP.") var mapMode = 0
    @Option(help: "Parameter file with the model settings.") var config = "train.swift-config"
    @Option(name: .customLong("cfg-options"), parsing: .upToNextOption, help: "Parameter-file overrides as key=value.")
    var cfgOptions: [String] = []
    @Option(help: "yolov4 or yolov4-tiny (default: the parameter file's).") var model: String?
    @Option(name: .customLong("classes-path"), help: "Classes file (default: the parameter file's).") var classesPath: String?
    @Option(name: .customLong("anchors-path"), help: "Anchors file (default: the parameter file's).") var anchorsPath: String?
    @Option(name: .customLong("input-shape"), help: "416, or height,width (default: the parameter file's).") var inputShape: String?
    @Option(help: "cpu, cuda or cuda:N (default: the parameter file's Cuda).") var device: String?
    @Option(name: .customLong("model-path"), help: "Weights to evaluate.") var modelPath = "logs/best_epoch_weights.pth"
    @Option(name: .customLong("voc-path"), help: "The VOCdevkit folder.") var vocPath = "VOCdevkit"
    @Option(help: "Image ids to evaluate (default: VOC2007/ImageSets/Main/test.txt).") var list: String?
    @Option(parsing: .unconditional, help: "Lowest score kept (0-1).") var confidence = 0.001
    @Option(name: .customLong("nms-iou"), parsing: .unconditional, help: "NMS IoU (above 0, at most 1).") var nmsIoU = 0.5
    @Flag(help: "Letterbox the images (the reference's get_map default is a plain resize).") var letterbox = false
    @Option(name: .customLong("max-boxes"), help: "At most this many detections per image.") var maxBoxes: Int?
    @Option(name: .customLong("min-overlap"), help: "IoU for a true positive (VOC modes).") var minOverlap = 0.5
    @Option(name: .customLong("map-out"), help: "Output folder.") var mapOut = "map_out"

    func run() throws {
        runReportingErrors {
            guard (0...4).contains(mapMode) else { throw YOLOError("--map-mode \(mapMode): expected 0, 1, 2, 3 or 4") }
            let detection = try DetectionSettings(confidence: confidence, nmsIoU: nmsIoU, letterbox: letterbox, maxDetections: maxBoxes)
                .validated()
            guard minOverlap > 0, minOverlap <= 1 else { throw YOLOError("--min-overlap \(minOverlap): must be above 0 and at most 1 (an IoU)") }
            let files = MapFiles(root: mapOut)
            let root = URL(fileURLWithPath: vocPath).appendingPathComponent("VOC2007")
            let madeAlready = files.hasFiles
            if mapMode == 4 && !madeAlready { print("\(mapOut)/ has no files yet: predicting and reading the ground truth first.") }
            let predicting = mapMode == 0 || mapMode == 1 || (mapMode == 4 && !madeAlready)
            let readingTruth = mapMode == 0 || mapMode == 2 || (mapMode == 4 && !madeAlready)
            let evaluating = mapMode == 0 || mapMode == 3 || mapMode == 4
            // Only predicting needs the model settings; the other modes need the classes alone, so with
            // --classes-path they run where there is no parameter file.
            let settings: TrainConfig? = predicting || (evaluating && classesPath == nil) ? try loadSettings() : nil
            let classesFile = classesPath ?? settings?.classesPath ?? ""
            let classes = evaluating || predicting ? try ClassNames(contentsOf: classesFile) : ClassNames([])
            let ids = predicting || readingTruth ? try imageIds(root: root) : []

            if predicting, let settings {
                let runner = try DetectionRunner.load(
                    weights: modelPath, config: settings, classes: classes,
                    settings: detection,
                    device: DeviceSelection.choose(cuda: settings.cuda, requested: device, log: { print($0) }))
                print("Get predict result.")
                let start = Date()
                let bar = ProgressBar(title: "Predict", total: ids.count, unit: "img")
                let folder = root.appendingPathComponent("JPEGImages")
                for (n, id) in ids.enumerated() {
                    guard let path = VOCAnnotationTool.findImage(id: id, in: folder) else {
                        throw YOLOError("no image for id '\(id)' in \(folder.path) (looked for .jpg, .jpeg and .png)")
                    }
                    let detections = try runner.detect([Image.load(path).image])[0]
                    try files.writeDetections(id: id, detections: detections, classes: classes)
                    bar.update(n + 1)
                }
                bar.finish()
                let seconds = Date().timeIntervalSince(start)
                print(String(format: "Get predict result done: %d images in %.1f s, %.2f images/s.", ids.count, seconds,
                             Double(ids.count) / max(seconds, 1e-9)))
            }
            if readingTruth {
                print("Get ground truth result.")
                for id in ids {
                    let annotation = try VOCAnnotation.load(root.appendingPathComponent("Annotations/\(id).xml").path)
                    try files.writeGroundTruth(id: id, objects: annotation.objects)
                }
                print("Get ground truth result done.")
            }
            guard evaluating else { return }
            let loaded = try files.load(classes: classes)
            for warning in loaded.warnings(classesPath: classesFile) { FileHandle.standardError.write(Data((warning + "\n").utf8)) }
            let withTruth = Set(loaded.truth.flatMap { $0.filter { !$0.difficult }.map(\.classIndex) })
            let absent = classes.names.indices.filter { !withTruth.contains($0) }.map { classes.names[$0] }
            if !absent.isEmpty {
                print("note: no ground truth for \(absent.count) of \(classes.count) classes (\(absent.prefix(8).joined(separator: ", "))"
                      + (absent.count > 8 ? ", ..." : "") + "): they are left out of the mean.")
            }
            guard !withTruth.isEmpty else {
                throw YOLOError("\(files.groundTruthFolder): no object of a class in \(classesFile), so there is no mAP to compute")
            }
            if mapMode == 4 {
                print("Get COCO map.")
                let summary = COCOEvaluator().evaluate(groundTruth: loaded.truth, detections: loaded.detections, classCount: classes.count)
                for line in try files.writeCOCOResults(summary, classes: classes) { print(line) }
                print("Get COCO map done. Results in \(files.resultsFolder)/coco_results.txt")
            } else {
                print("Get map.")
                let evaluator = VOCEvaluator(iouThreshold: minOverlap)
                let results = evaluator.evaluate(groundTruth: loaded.truth, detections: loaded.detections, classCount: classes.count)
                let map = evaluator.meanAP(results)
                for line in try files.writeResults(results, mAP: map, classes: classes, images: loaded.ids.count) { print(line) }
                print("Get map done. Results in \(files.resultsFolder)/")
            }
        }
    }

    /// The parameter file with the command line's overrides; its absence is explained in terms of
    /// what this mode needs it for.
    func loadSettings() throws -> TrainConfig {
        let overrides = try ModelOverrides.overrides(model: model, classesPath: classesPath, anchorsPath: anchorsPath,
                                                     inputShape: inputShape)
        do {
            return try TrainConfig.load(path: config, overrides: cfgOptions + overrides)
        } catch let error as YOLOError where !FileManager.default.fileExists(atPath: config) {
            let need = mapMode == 3 || mapMode == 4 ? "the classes (or give --classes-path)"
                                                    : "the model settings (model, classes, anchors, input shape)"
            throw YOLOError("\(error.message); map_mode \(mapMode) reads \(need) from it (--config names another file)")
        }
    }

    /// The ids of the images to evaluate, from --list or the VOC test list.
    func imageIds(root: URL) throws -> [String] {
        let listPath = list ?? root.appendingPathComponent("ImageSets/Main/test.txt").path
        guard let text = try? String(contentsOfFile: listPath, encoding: .utf8) else {
            throw YOLOError("\(listPath): cannot read the list of image ids (run voc_annotation first, or give --list)")
        }
        let ids = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard !ids.isEmpty else {
            throw YOLOError("\(listPath): the list of image ids is empty (voc_annotation's --trainval-percent decides "
                            + "how many images go to the test list)")
        }
        return ids
    }
}
