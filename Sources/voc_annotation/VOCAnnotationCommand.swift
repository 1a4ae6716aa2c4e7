import ArgumentParser
import YOLO

@main
struct VOCAnnotationCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "voc_annotation",
        abstract: "Split a VOC dataset and write the training lists 2007_train.txt and 2007_val.txt.",
        discussion: """
        Reads VOCdevkit/VOC2007/Annotations/*.xml. Mode 0 does both steps; mode 1 only writes
        ImageSets/Main/{trainval,train,val,test}.txt (a seeded random split: trainval-percent of all images,
        train-percent of those for training); mode 2 only writes the training lists, one line per image:
        '<absolute image path> x1,y1,x2,y2,class ...'. Objects marked difficult, and classes missing from the
        classes file, are left out (the latter with a warning listing them). Unreadable XML and images without
        a file are skipped with a warning; boxes reaching outside the image are clipped.
        """)

    @Option(name: .customLong("annotation-mode"), help: "0: split and lists, 1: split only, 2: lists only.") var mode = 0
    @Option(name: .customLong("classes-path"), help: "Classes file, one name per line.") var classesPath = "model_data/voc_classes.txt"
    @Option(name: .customLong("trainval-percent"), help: "Share of all images for training and validation (rest: test).")
    var trainvalPercent = 0.9
    @Option(name: .customLong("train-percent"), help: "Share of trainval used for training (rest: validation).")
    var trainPercent = 0.9
    @Option(name: .customLong("voc-path"), help: "The VOCdevkit folder.") var vocPath = "VOCdevkit"
    @Option(help: "Seed of the split.") var seed: UInt64 = 0

    func run() throws {
        runReportingErrors {
            var tool = VOCAnnotationTool()
            tool.mode = mode
            tool.classesPath = classesPath
            tool.trainvalPercent = trainvalPercent
            tool.trainPercent = trainPercent
            tool.vocPath = vocPath
            tool.seed = seed
            _ = try tool.run()
        }
    }
}
