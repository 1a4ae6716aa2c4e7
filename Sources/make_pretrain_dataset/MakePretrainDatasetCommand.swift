import ArgumentParser
import Foundation
import YOLO

@main
struct MakePretrainDatasetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "make_pretrain_dataset",
        abstract: "Write the synthetic VOC2007-format dataset the project's pretrained weights are trained on.",
        discussion: """
        Twenty classes that the demo does not have (star, hexagon, pentagon, diamond, arrow, crescent, heart, trapezoid, \
        semicircle, octagon, the letters A, E, K, the digits 3 and 7, striped squares, checkered discs, dotted ellipses, \
        square frames, bowties) in varied colours, sizes and rotations, partly hidden behind each other, among lines, \
        arcs and blobs on cloudy backgrounds. The same seed always gives the same dataset. scripts/pretrain.sh runs \
        this, then trains on it.
        """)

    @Option(help: "Number of images.") var images = 3000
    @Option(help: "Seed: the same seed gives the same dataset.") var seed: UInt64 = 7100
    @Option(name: .customLong("voc-path"), help: "Where its VOCdevkit goes.") var vocPath = "pretrain_data/VOCdevkit"
    @Option(name: .customLong("classes-path"), help: "Classes file to write.") var classesPath = "model_data/pretrain_classes.txt"
    @Flag(help: "Overwrite an existing dataset.") var force = false

    func run() throws {
        runReportingErrors {
            let annotations = (vocPath as NSString).appendingPathComponent("VOC2007/Annotations")
            let existing = ((try? FileManager.default.contentsOfDirectory(atPath: annotations)) ?? []).filter { $0.hasSuffix(".xml") }
            if !existing.isEmpty && !force {
                throw YOLOError("\(annotations) already holds \(existing.count) annotations; not overwriting them (pass --force)")
            }
            guard images > 0 else { throw YOLOError("--images must be positive, found \(images)") }
            var dataset = PretrainDataset()
            dataset.imageCount = images
            dataset.seed = seed
            dataset.vocPath = vocPath
            dataset.classesPath = classesPath
            let bar = ProgressBar(title: "Pretraining images", total: images, unit: "img")
            let objects = try dataset.generate { bar.update($0) }
            bar.finish()
            print("Wrote \(images) images with \(objects) objects of \(PretrainDataset.classes.count) classes to \(vocPath)/VOC2007 "
                  + "and the classes to \(classesPath).")
        }
    }
}
