import Foundation
import NN
import TensorCore
import Vision

/// Runs a detector over images the way prediction and evaluation do: letterbox (or plain
/// resize) to the input, batch inference in eval mode, decoding and NMS, boxes in image pixels.
public struct DetectionRunner {
    public let model: Detector
    public let decoder: Decoder
    public var settings: DetectionSettings
    public var batchSize = 4

    public init(model: Detector, anchors: [(Double, Double)], inputWidth: Int, inputHeight: Int, settings: DetectionSettings) {
        self.model = model
        self.decoder = Decoder(anchors: anchors, anchorsMask: model.anchorsMask, numClasses: model.numClasses,
                               inputWidth: inputWidth, inputHeight: inputHeight)
        self.settings = settings
    }

    /// Detections for each image (in order).
    public func detect(_ images: [Image]) throws -> [[Detection]] {
        let wasTraining = model.isTraining
        model.eval()
        defer { model.train(wasTraining) }
        var all: [[Detection]] = []
        for start in stride(from: 0, to: images.count, by: batchSize) {
            let chunk = Array(images[start..<min(start + batchSize, images.count)])
            let outputs = try withNoGrad { try model.outputs(inputTensor(chunk).to(device: device)) }
            all += try decoder.detect(outputs, imageSizes: chunk.map { ($0.width, $0.height) }, settings: settings)
        }
        return all
    }

    /// The device of the model's weights, where inputs are sent.
    public var device: Device { model.namedParameters().first?.1.value.device ?? .cpu }

    /// The network input for images: letterboxed or plainly resized, planar RGB in [0, 1].
    func inputTensor(_ images: [Image]) throws -> Tensor {
        let (w, h) = (decoder.inputWidth, decoder.inputHeight)
        return try Tensor.fromHost(shape: [images.count, 3, h, w]) { buffer in
            for (i, image) in images.enumerated() {
                let fitted = settings.letterbox ? image.letterboxed(width: w, height: h).0
                                                : image.resized(width: w, height: h, filter: .bicubic)
                fitted.writePlanarFloats(into: buffer.baseAddress! + i * 3 * w * h)
            }
        }
    }
}

extension DetectionRunner {
    /// A runner for trained weights with the model settings of a parameter file (model, anchors
    /// mask, anchors, input shape). Weights whose heads do not fit the classes are refused with the
    /// message naming both counts.
    public static func load(weights: String, config: TrainConfig, classes: ClassNames,
                            settings: DetectionSettings, device: Device = .cpu) throws -> DetectionRunner {
        let model = try ModelKind(parsing: config.model).make(numClasses: classes.count, anchorsMask: config.anchorsMask)
        let outcome = try WeightLoading.load(weights, into: model, classesPath: config.classesPath)
        if let mismatch = outcome.architectureMismatch { throw YOLOError(mismatch) }
        if outcome.report.skipped.contains(where: { $0.key.contains("head") }) {
            throw YOLOError(outcome.messages.first { $0.contains("classes") }
                            ?? "\(weights): its heads do not fit the \(classes.count) classes of \(config.classesPath)")
        }
        try model.to(device: device)
        return DetectionRunner(model: model, anchors: try AnchorsFile.read(config.anchorsPath, for: config), inputWidth: config.inputShape[1],
                               inputHeight: config.inputShape[0], settings: settings)
    }
}

/// mAP of a detector on annotation lines, with the in-training settings of the reference
/// (confidence 0.05, NMS 0.5, at most 100 boxes, letterbox, IoU 0.5). Coordinates are truncated
/// to whole pixels as the reference's detection files store them, so this and get_map agree.
public enum InTrainingEvaluation {
    public static let settings = DetectionSettings(confidence: 0.05, nmsIoU: 0.5, letterbox: true, maxDetections: 100)

    public static func meanAP(model: Detector, lines: [AnnotationLine], anchors: [(Double, Double)], inputWidth: Int,
                              inputHeight: Int, settings: DetectionSettings = settings,
                              progress: (Int) -> Void = { _ in },
                              onUnreadable: ((String, Error) -> Void)? = nil) throws -> (mAP: Double, perClass: [Int: VOCEvaluator.ClassResult]) {
        let runner = DetectionRunner(model: model, anchors: anchors, inputWidth: inputWidth, inputHeight: inputHeight, settings: settings)
        var groundTruth: [[VOCEvaluator.GroundTruth]] = []
        var detections: [[Detection]] = []
        for start in stride(from: 0, to: lines.count, by: runner.batchSize) {
            var chunk: [AnnotationLine] = []
            var images: [Image] = []
            // An image that cannot be read is left out with its ground truth when the caller says how
            // to report it (training goes on, as its loaders do); otherwise it stops the evaluation.
            for line in lines[start..<min(start + runner.batchSize, lines.count)] {
                do {
                    images.append(try Image.load(line.imagePath).image)
                    chunk.append(line)
                } catch {
                    guard let onUnreadable else { throw error }
                    onUnreadable(line.imagePath, error)
                }
            }
            guard !images.isEmpty else { continue }
            detections += try runner.detect(images).map { $0.map(wholePixels) }
            groundTruth += chunk.map { $0.boxes.map { VOCEvaluator.GroundTruth(classIndex: $0.classIndex, x1: $0.x1, y1: $0.y1,
                                                                                 x2: $0.x2, y2: $0.y2) } }
            progress(min(start + runner.batchSize, lines.count))
        }
        let evaluator = VOCEvaluator()
        let results = evaluator.evaluate(groundTruth: groundTruth, detections: detections, classCount: model.numClasses)
        return (evaluator.meanAP(results), results)
    }

    static func wholePixels(_ d: Detection) -> Detection {
        var r = d
        r.left = Double(Int(d.left)); r.top = Double(Int(d.top)); r.right = Double(Int(d.right)); r.bottom = Double(Int(d.bottom))
        return r
    }
}
