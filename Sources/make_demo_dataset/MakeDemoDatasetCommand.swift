import ArgumentParser
import Foundation
import YOLO

@main
struct MakeDemoDatasetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "make_demo_dataset",
        abstract: "Write a synthetic VOC2007-format dataset of drawn shapes, for trying the tools without data.",
        discussion: """
        Images (JPEG, varied sizes) with textured, noisy backgrounds and objects of five classes (circle, square,
        triangle, cross, ring) in varied colours, sizes, aspect ratios and rotations, some overlapping and some cut
        by the border; VOC XML annotations; and the classes file. The same seed always gives the same dataset.
        Refuses to write into a VOC2007 folder that already has annotations unless --force is given.
        """)

    @Option(help: "Number of images.") var images = 300
    @Option(help: "Seed: the same seed gives the same dataset.") var seed: UInt64 = 2024
    @Option(name: .customLong("voc-path"), help: "Where VOCdevkit is.") var vocPath = "VOCdevkit"
    @Option(name: .customLong("classes-path"), help: "Classes file to write.") var classesPath = "model_data/demo_classes.txt"
    @Flag(help: "Add to or overwrite an existing dataset.") var force = false

    func run() throws {
        runReportingErrors {
            let annotations = (vocPath as NSString).appendingPathComponent("VOC2007/Annotations")
            let existing = ((try? FileManager.default.contentsOfDirectory(atPath: annotations)) ?? []).filter { $0.hasSuffix(".xml") }
            if !existing.isEmpty && !force {
                throw YOLOError("\(annotations) already holds \(existing.count) annotations; not overwriting them "
                                + "(pass --force to write the demo dataset anyway)")
            }
            guard images > 0 else { throw YOLOError("--images must be positive, found \(images)") }
            var demo = DemoDataset()
            demo.imageCount = images
            demo.seed = seed
            demo.vocPath = vocPath
            demo.classesPath = classesPath
            let bar = ProgressBar(title: "Demo images", total: images, unit: "img")
            let objects = try demo.generate { bar.update($0) }
            bar.finish()
            print("Wrote \(images) images with \(objects) objects to \(vocPath)/VOC2007 and the classes to \(classesPath).")
        }
    }
}
