import ArgumentParser
import Foundation
import TensorCore
import Vision
import YOLO

/// Augmented training samples per second on one core (the loader's unit of work), on demo images
/// and on JPEGs of VOC size, and the threaded loader's end-to-end rate.
@main
struct DataBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "data_benchmark",
        abstract: "Speed of decoding + augmentation (Mosaic, MixUp) per core, and of the threaded loader.")

    @Option(help: "Input size.") var size = 416
    @Option(help: "Images in each generated test set.") var images = 32
    @Option(help: "Samples timed per configuration.") var samples = 120
    @Option(help: "Loader workers for the end-to-end figure.") var workers = 2

    func run() throws {
        runReportingErrors {
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("data-benchmark-\(getpid())")
            defer { try? FileManager.default.removeItem(at: folder) }
            let demo = try makeSet(folder.appendingPathComponent("demo"), voc: false)
            let voc = try makeSet(folder.appendingPathComponent("voc"), voc: true)
            print("One core, \(size)x\(size) samples, \(samples) per figure:")
            for (name, lines) in [("demo images (224-416 px)", demo), ("VOC-size JPEGs (500x375)", voc)] {
                for (policy, mosaic, mixup) in [("Mosaic always + MixUp 0.5", 1.0, 0.5), ("reference policy (Mosaic 0.5, MixUp 0.5)", 0.5, 0.5),
                                                ("no Mosaic", 0.0, 0.0)] {
                    let dataset = DetectionDataset(lines: lines, inputWidth: size, inputHeight: size, training: true)
                    dataset.mosaic = mosaic > 0; dataset.mosaicProbability = mosaic
                    dataset.mixup = mixup > 0; dataset.mixupProbability = mixup
                    let start = Date()
                    for i in 0..<samples {
                        _ = try dataset.sample(i % lines.count, epoch: 0, rng: RandomGenerator(seed: UInt64(i)))
                    }
                    let rate = Double(samples) / Date().timeIntervalSince(start)
                    print("  " + pad(name, 26) + " " + pad(policy, 42) + String(format: " %7.1f samples/s", rate))
                }
            }
            let dataset = DetectionDataset(lines: voc, inputWidth: size, inputHeight: size, training: true)
            dataset.mosaic = true; dataset.mixup = true
            let loader = DataLoader(dataset: dataset, batchSize: 8, shuffle: true, seed: 1, workers: workers)
            let start = Date()
            var count = 0
            for epoch in 0..<max(1, samples / max(voc.count, 1)) {
                for batch in loader.batches(epoch: epoch) { count += batch.indices.count }
            }
            let rate = Double(count) / Date().timeIntervalSince(start)
            print(String(format: "Loader, %d workers, VOC-size JPEGs, reference policy, batches of 8: %.1f samples/s", workers, rate))
        }
    }

    func pad(_ s: String, _ n: Int) -> String { s + String(repeating: " ", count: max(0, n - s.count)) }

    /// Writes JPEGs (demo shapes; VOC size when asked) and returns their annotation lines.
    func makeSet(_ folder: URL, voc: Bool) throws -> [AnnotationLine] {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return try (0..<images).map { i in
            var (image, boxes) = DemoDataset.makeImage(rng: RandomGenerator(seed: 99).fork(stream: UInt64(i)), minSide: 224, maxSide: 416)
            if voc {
                let (sx, sy) = (500.0 / Double(image.width), 375.0 / Double(image.height))
                image = image.resized(width: 500, height: 375)
                boxes = boxes.map { LabeledBox(x1: $0.x1 * sx, y1: $0.y1 * sy, x2: $0.x2 * sx, y2: $0.y2 * sy, classIndex: $0.classIndex) }
            }
            let path = folder.appendingPathComponent("\(i).jpg").path
            try image.save(path, quality: 90)
            return AnnotationLine(imagePath: path, boxes: boxes)
        }
    }
}
