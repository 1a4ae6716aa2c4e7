import ArgumentParser
import Foundation
import NN
import Vision
import YOLO

@main
struct GetMapCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "get_map",
        abstract: "VOC mAP of trained weights on the test images, with the reference's map_out/ files.",
        discussion: "map_mode 0: predictions, ground truth and mAP; 1: predictions only; 2: ground truth only; "
            + "3: mAP from existing map_out/ files. The model settings (model, classes, anchors, input shape) come from "
            + "the parameter file. To reproduce the mAP that train printed, use train's settings: --list with the "
            + "validation ids, --confidence 0.05 --nms-iou 0.5 --letterbox --max-boxes 100.")

    @Option(name: .customLong("map-mode"), help: "0 all, 1 predictions, 2 ground truth, 3 VOC mAP.") var mapMode = 0
    @Option(help: "Parameter file with the model settings.") var config = "train.swift-config"
    @Option(name: .customLong("model-path"), help: "Weights to evaluate.") var modelPath = "logs/best_epoch_weights.pth"
    @Option(name: .customLong("voc-path"), help: "The VOCdevkit folder.") var vocPath = "VOCdevkit"
    @Option(help: "Image ids to evaluate (default: VOC2007/ImageSets/Main/test.txt).") var list: String?
    @Option(help: "Lowest score kept.") var confidence = 0.001
    @Option(name: .customLong("nms-iou"), help: "NMS IoU.") var nmsIoU = 0.5
    @Flag(help: "Letterbox the images (the reference's get_map default is a plain resize).") var letterbox = false
    @Option(name: .customLong("max-boxes"), help: "At most this many detections per image.") var maxBoxes: Int?
    @Option(name: .customLong("min-overlap"), help: "IoU for a true positive.") var minOverlap = 0.5
    @Option(name: .customLong("map-out"), help: "Output folder.") var mapOut = "map_out"

    func run() throws {
        runReportingErrors {
            guard (0...3).contains(mapMode) else {
                throw YOLOError("--map-mode \(mapMode): 0-3 are available (COCO mAP, mode 4, is not implemented yet)")
            }
            let settings = try TrainConfig.load(path: config)
            let classes = try ClassNames(contentsOf: settings.classesPath)
            let files = MapFiles(root: mapOut)
            let root = URL(fileURLWithPath: vocPath).appendingPathComponent("VOC2007")
            let listPath = list ?? root.appendingPathComponent("ImageSets/Main/test.txt").path
            guard let text = try? String(contentsOfFile: listPath, encoding: .utf8) else {
                throw YOLOError("\(listPath): cannot read the list of image ids (run voc_annotation first?)")
            }
            let ids = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            guard !ids.isEmpty || mapMode == 3 else { throw YOLOError("\(listPath): the list of image ids is empty") }

            if mapMode == 0 || mapMode == 1 {
                let runner = try DetectionRunner.load(
                    weights: modelPath, config: settings, classes: classes,
                    settings: DetectionSettings(confidence: confidence, nmsIoU: nmsIoU, letterbox: letterbox, maxDetections: maxBoxes))
                print("Get predict result.")
                let bar = ProgressBar(title: "Predict", total: ids.count, unit: "img")
                for (n, id) in ids.enumerated() {
                    guard let path = VOCAnnotationTool.findImage(id: id, in: root.appendingPathComponent("JPEGImages")) else {
                        throw YOLOError("no image for id '\(id)' in \(root.appendingPathComponent("JPEGImages").path)")
                    }
                    let detections = try runner.detect([Image.load(path).image])[0]
                    try files.writeDetections(id: id, detections: detections, classes: classes)
                    bar.update(n + 1)
                }
                bar.finish()
                print("Get predict result done.")
            }
            if mapMode == 0 || mapMode == 2 {
                print("Get ground truth result.")
                for id in ids {
                    let annotation = try VOCAnnotation.load(root.appendingPathComponent("Annotations/\(id).xml").path)
                    try files.writeGroundTruth(id: id, objects: annotation.objects)
                }
                print("Get ground truth result done.")
            }
            if mapMode == 0 || mapMode == 3 {
                print("Get map.")
                let (loadedIds, truth, detections) = try files.load(classes: classes)
                let evaluator = VOCEvaluator(iouThreshold: minOverlap)
                let results = evaluator.evaluate(groundTruth: truth, detections: detections, classCount: classes.count)
                let map = evaluator.meanAP(results)
                for line in try files.writeResults(results, mAP: map, classes: classes, images: loadedIds.count) { print(line) }
                print("Get map done. Results in \(files.resultsFolder)/")
            }
        }
    }
}
