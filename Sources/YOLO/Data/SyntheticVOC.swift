import Foundation
import TensorCore
import Vision

/// Writes a generated dataset in VOC2007's layout: JPEGImages/<id>.jpg, Annotations/<id>.xml, an
/// empty ImageSets/Main for voc_annotation, and the classes file. Image `index` is drawn from
/// stream `index` of the seed, so the same seed always gives the same files. Shared by the demo
/// and the pretraining datasets.
struct SyntheticVOC {
    var vocPath: String
    var classesPath: String
    var classes: [String]
    var database: String
    /// printf format of the image ids, from 1 ("demo_%04d").
    var idFormat: String
    var quality: Int

    /// Returns the number of objects written.
    func write(count: Int, seed: UInt64, progress: (Int) -> Void,
               draw: (RandomGenerator) -> (Image, [LabeledBox])) throws -> Int {
        let root = URL(fileURLWithPath: vocPath).appendingPathComponent("VOC2007")
        let images = root.appendingPathComponent("JPEGImages"), annotations = root.appendingPathComponent("Annotations")
        for folder in [images, annotations, root.appendingPathComponent("ImageSets/Main")] {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        }
        try writeText(classes.joined(separator: "\n") + "\n", to: classesPath)
        var objects = 0
        for index in 0..<count {
            let (image, boxes) = draw(RandomGenerator(seed: seed).fork(stream: UInt64(index)))
            let id = String(format: idFormat, index + 1)
            try image.save(images.appendingPathComponent("\(id).jpg").path, quality: quality)
            try writeText(DemoDataset.xml(id: id, width: image.width, height: image.height, boxes: boxes, classes: classes,
                                          database: database),
                          to: annotations.appendingPathComponent("\(id).xml").path)
            objects += boxes.count
            progress(index + 1)
        }
        return objects
    }
}
