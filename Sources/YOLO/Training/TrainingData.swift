import Foundation

/// What a run trains and validates on: the classes, anchors and both annotation lists, checked
/// before any work, and the datasets with the loaders for a batch size.
final class TrainingData {
    let classes: ClassNames
    let anchors: [(Double, Double)]
    let trainLines: [AnnotationLine]
    let valLines: [AnnotationLine]
    let trainSet: DetectionDataset
    let valSet: DetectionDataset
    let seed: UInt64
    let workers: Int

    init(config c: TrainConfig) throws {
        classes = try ClassNames(contentsOf: c.classesPath)
        guard FileManager.default.fileExists(atPath: c.anchorsPath) else {
            throw YOLOError("\(c.anchorsPath): no anchors file (run kmeans_for_anchors, or point anchors_path at "
                            + "model_data/yolo_anchors.txt / yolo_tiny_anchors.txt)")
        }
        anchors = try AnchorsFile.read(c.anchorsPath, for: c)
        trainLines = try AnnotationLine.load(c.trainAnnotationPath, classCount: classes.count)
        valLines = try AnnotationLine.load(c.valAnnotationPath, classCount: classes.count)
        guard trainLines.contains(where: { !$0.boxes.isEmpty }) else {
            throw YOLOError("\(c.trainAnnotationPath): none of its \(trainLines.count) images has a box, so there is nothing to learn "
                            + "but 'no object anywhere'; check the annotations (voc_annotation lists the boxes of each image)")
        }
        let (h, w) = (c.inputShape[0], c.inputShape[1])
        trainSet = DetectionDataset(lines: trainLines, inputWidth: w, inputHeight: h, training: true)
        trainSet.mosaic = c.mosaic; trainSet.mosaicProbability = c.mosaicProb
        trainSet.mixup = c.mixup; trainSet.mixupProbability = c.mixupProb
        trainSet.specialAugRatio = c.specialAugRatio; trainSet.totalEpochs = c.unfreezeEpoch
        valSet = DetectionDataset(lines: valLines, inputWidth: w, inputHeight: h, training: false)
        seed = UInt64(c.seed)
        workers = c.numWorkers
    }

    /// Loaders of `batch` images per step; in data-parallel training `batch` is the per-rank batch
    /// and each loader reads shard `index` of `count`.
    func loaders(batchSize batch: Int, shard: (index: Int, count: Int) = (0, 1)) throws -> (train: DataLoader, val: DataLoader) {
        guard trainLines.count / shard.count / batch > 0, valLines.count / shard.count / batch > 0 else {
            let ranks = shard.count > 1 ? " on each of \(shard.count) ranks" : ""
            throw YOLOError("dataset too small for a batch size of \(batch)\(ranks): \(trainLines.count) training and "
                            + "\(valLines.count) validation images (each needs at least one full batch); lower the "
                            + "batch size or add images")
        }
        return (DataLoader(dataset: trainSet, batchSize: batch, shuffle: true, seed: seed, workers: workers, shard: shard),
                DataLoader(dataset: valSet, batchSize: batch, shuffle: false, seed: seed, workers: workers, shard: shard))
    }
}
