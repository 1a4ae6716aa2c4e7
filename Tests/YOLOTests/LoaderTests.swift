import Foundation
import XCTest
@testable import YOLO
import TensorCore
import Vision

final class LoaderTests: XCTestCase {
    /// Small demo images on disk and their annotation lines.
    func makeLines(_ count: Int) throws -> [AnnotationLine] {
        let folder = temporaryFolder(self, "loader")
        return try (0..<count).map { i in
            let (image, boxes) = DemoDataset.makeImage(rng: RandomGenerator(seed: 5).fork(stream: UInt64(i)), minSide: 48, maxSide: 80)
            let path = folder.appendingPathComponent("\(i).jpg").path
            try image.save(path)
            return AnnotationLine(imagePath: path, boxes: boxes)
        }
    }

    func dataset(_ lines: [AnnotationLine], training: Bool = true) -> DetectionDataset {
        let d = DetectionDataset(lines: lines, inputWidth: 64, inputHeight: 64, training: training)
        d.mosaic = true
        d.mixup = true
        d.totalEpochs = 10
        return d
    }

    func collect(_ loader: DataLoader, epoch: Int) throws -> [([Float], [[TargetBox]], [Int])] {
        let batches = loader.batches(epoch: epoch)
        var out: [([Float], [[TargetBox]], [Int])] = []
        while let b = try batches.nextBatch() { out.append((try b.images.toArray(), b.targets, b.indices)) }
        return out
    }

    func testBatchesShapesTargetsAndDropLast() throws {
        let lines = try makeLines(10)
        let loader = DataLoader(dataset: dataset(lines, training: false), batchSize: 4, shuffle: false, seed: 3, workers: 2)
        XCTAssertEqual(loader.batchesPerEpoch, 2)   // 10 // 4, the last partial batch dropped
        let batches = loader.batches(epoch: 0)
        var count = 0
        while let batch = try batches.nextBatch() {
            XCTAssertEqual(batch.images.shape, [4, 3, 64, 64])
            let values = try batch.images.toArray()
            XCTAssertTrue(values.allSatisfy { $0 >= 0 && $0 <= 1 })
            XCTAssertEqual(batch.indices, Array((count * 4)..<(count * 4 + 4)))   // no shuffle
            for targets in batch.targets {
                for t in targets {
                    XCTAssertTrue(t.cx > 0 && t.cx < 1 && t.cy > 0 && t.cy < 1 && t.w > 0 && t.w <= 1 && t.h > 0 && t.h <= 1)
                    XCTAssertTrue((0..<DemoDataset.classes.count).contains(t.classIndex))
                }
            }
            count += 1
        }
        XCTAssertEqual(count, 2)
    }

    func testDeterministicForASeedWhateverTheWorkers() throws {
        let lines = try makeLines(8)
        let reference = try collect(DataLoader(dataset: dataset(lines), batchSize: 2, shuffle: true, seed: 42, workers: 0), epoch: 1)
        for workers in [1, 3] {
            let again = try collect(DataLoader(dataset: dataset(lines), batchSize: 2, shuffle: true, seed: 42, workers: workers), epoch: 1)
            XCTAssertEqual(again.map(\.0), reference.map(\.0), "\(workers) workers")
            XCTAssertEqual(again.map(\.1), reference.map(\.1))
            XCTAssertEqual(again.map(\.2), reference.map(\.2))
        }
        let otherSeed = try collect(DataLoader(dataset: dataset(lines), batchSize: 2, shuffle: true, seed: 43, workers: 2), epoch: 1)
        XCTAssertNotEqual(otherSeed.map(\.0), reference.map(\.0))
        let otherEpoch = DataLoader(dataset: dataset(lines), batchSize: 2, shuffle: true, seed: 42, workers: 2)
        XCTAssertNotEqual(otherEpoch.order(epoch: 2), otherEpoch.order(epoch: 1))
        XCTAssertEqual(otherEpoch.order(epoch: 2).sorted(), Array(0..<8))
    }

    func testEverySampleHasItsOwnRandomStream() throws {
        // The same image at two positions (as two workers would handle it) must be augmented differently.
        let lines = try makeLines(1)
        let twice = dataset([lines[0], lines[0]])
        twice.mosaic = false
        let loader = DataLoader(dataset: twice, batchSize: 2, shuffle: false, seed: 7, workers: 2)
        let batch = try loader.batches(epoch: 0).nextBatch()!
        let first = try batch.images.narrow(axis: 0, start: 0, length: 1).toArray()
        let second = try batch.images.narrow(axis: 0, start: 1, length: 1).toArray()
        XCTAssertNotEqual(first, second)
    }

    func testMosaicStopsAfterTheSpecialAugmentationEpochs() throws {
        let lines = try makeLines(4)
        let d = dataset(lines)
        d.mosaicProbability = 1
        d.mixup = false
        d.totalEpochs = 10
        d.specialAugRatio = 0.7
        // Before epoch 7 (10 x 0.7) the sample is a mosaic; from epoch 7 on the same stream, after
        // its first draw, drives the plain augmentation of the image alone.
        let early = try d.sample(0, epoch: 6, rng: RandomGenerator(seed: 11))
        let late = try d.sample(0, epoch: 7, rng: RandomGenerator(seed: 11))
        let afterDraw = RandomGenerator(seed: 11)
        _ = afterDraw.nextFloat()
        XCTAssertEqual(late.image, d.augmentation.randomData(try d.load(0).0, lines[0].boxes, rng: afterDraw).image)
        XCTAssertNotEqual(early.image, late.image)
    }

    func testUnreadableImagesAreSkippedAndCounted() throws {
        var lines = try makeLines(6)
        let broken = FileManager.default.temporaryDirectory.appendingPathComponent("broken-\(getpid()).jpg")
        try Data([0xFF, 0xD8, 0xFF, 0x00, 0x01]).write(to: broken)
        defer { try? FileManager.default.removeItem(at: broken) }
        lines[2] = AnnotationLine(imagePath: broken.path, boxes: [])
        let loader = DataLoader(dataset: dataset(lines, training: false), batchSize: 3, shuffle: false, seed: 1, workers: 1)
        var warnings: [String] = []
        loader.warn = { warnings.append($0) }
        let batches = try collect(loader, epoch: 0)
        XCTAssertEqual(batches.count, 2)
        XCTAssertFalse(batches.flatMap(\.2).contains(2))        // the broken image was replaced
        XCTAssertEqual(loader.skippedImages, [broken.path])
        XCTAssertEqual(warnings.count, 1)
        XCTAssertTrue(warnings[0].contains(broken.lastPathComponent))
    }
}
