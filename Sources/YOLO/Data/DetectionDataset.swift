import Foundation
import TensorCore
import Vision

/// A training or validation set over annotation lines: decodes images and applies the
/// reference's augmentation policy (Mosaic with `mosaicProbability` while
/// epoch < totalEpochs * specialAugRatio, then MixUp with `mixupProbability`; otherwise plain
/// random augmentation; validation gets the letterbox only).
public final class DetectionDataset: @unchecked Sendable {
    public let lines: [AnnotationLine]
    public let augmentation: Augmentation
    public let training: Bool
    public var mosaic = false
    public var mosaicProbability = 0.5
    public var mixup = false
    public var mixupProbability = 0.5
    public var specialAugRatio = 0.7
    public var totalEpochs = 300

    public var count: Int { lines.count }

    public init(lines: [AnnotationLine], inputWidth: Int, inputHeight: Int, training: Bool) {
        self.lines = lines
        self.augmentation = Augmentation(inputWidth: inputWidth, inputHeight: inputHeight)
        self.training = training
    }

    /// The image of a line as training sees it (EXIF rule of SPEC §10) with its boxes.
    public func load(_ index: Int) throws -> (Image, [LabeledBox]) {
        let line = lines[index]
        let decoded = try Image.load(line.imagePath)
        return (Self.trainingPixels(decoded, path: line.imagePath), line.boxes)
    }

    /// Annotations refer to pixels as stored, unless the image's VOC XML gives a size that matches
    /// only the EXIF-rotated image: then the rotation is applied.
    static func trainingPixels(_ decoded: DecodedImage, path: String) -> Image {
        guard (2...8).contains(decoded.orientation) else { return decoded.image }
        let url = URL(fileURLWithPath: path)
        let xml = url.deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Annotations").appendingPathComponent(url.deletingPathExtension().lastPathComponent + ".xml")
        guard let annotation = try? VOCAnnotation.load(xml.path), let w = annotation.width, let h = annotation.height else {
            return decoded.image
        }
        let oriented = decoded.oriented
        let storedMatches = w == decoded.image.width && h == decoded.image.height
        let orientedMatches = w == oriented.width && h == oriented.height
        return orientedMatches && !storedMatches ? oriented : decoded.image
    }

    /// One augmented sample. All randomness comes from rng, so a sample depends only on it.
    public func sample(_ index: Int, epoch: Int, rng: RandomGenerator) throws -> Sample {
        guard training else {
            let (image, boxes) = try load(index)
            return augmentation.letterbox(image, boxes, rng: rng)
        }
        let useMosaic = mosaic && Double(rng.nextFloat()) < mosaicProbability
            && Double(epoch) < Double(totalEpochs) * specialAugRatio
        guard useMosaic else {
            let (image, boxes) = try load(index)
            return augmentation.randomData(image, boxes, rng: rng)
        }
        var indices = [index] + (0..<3).map { _ in Int(rng.next() % UInt64(count)) }
        for i in stride(from: 3, to: 0, by: -1) { indices.swapAt(i, Int(rng.next() % UInt64(i + 1))) }
        var result = augmentation.mosaic(try indices.map { try load($0) }, rng: rng)
        if mixup && Double(rng.nextFloat()) < mixupProbability {
            let (image, boxes) = try load(Int(rng.next() % UInt64(count)))
            result = try augmentation.mixup(result, augmentation.randomData(image, boxes, rng: rng))
        }
        return result
    }
}
