import Foundation
import TensorCore
import Vision

/// What `voc_annotation` does: split the annotated images into ImageSets/Main lists and write the
/// training lists `<year>_train.txt` / `<year>_val.txt` in the reference line format.
public struct VOCAnnotationTool {
    public var mode = 0                    // 0: both steps, 1: ImageSets only, 2: training lists only
    public var trainvalPercent = 0.9
    public var trainPercent = 0.9
    public var seed: UInt64 = 0
    public var classesPath = "model_data/voc_classes.txt"
    public var vocPath = "VOCdevkit"
    public var year = "2007"
    public var outputFolder = "."

    public init() {}

    public struct Report {
        public var trainval = 0, train = 0, val = 0, test = 0
        public var listed: [String: Int] = [:]            // images written per list ("train", "val")
        public var classCounts: [Int] = []
        public var unknownClasses: [String: Int] = [:]
        public var skippedFiles: [String] = []           // unreadable XML, missing images
        public var fixedBoxes = 0                        // clipped to the image
        public var droppedBoxes = 0                      // empty after clipping
    }

    var root: URL { URL(fileURLWithPath: vocPath).standardizedFileURL.appendingPathComponent("VOC\(year)") }
    var imageSets: URL { root.appendingPathComponent("ImageSets/Main") }

    public func run(log: (String) -> Void = { print($0) }) throws -> Report {
        guard (0...2).contains(mode) else { throw YOLOError("annotation_mode must be 0, 1 or 2, found \(mode)") }
        guard (0...1).contains(trainvalPercent), (0...1).contains(trainPercent) else {
            throw YOLOError("trainval_percent and train_percent must be between 0 and 1")
        }
        if root.path.contains(" ") {
            throw YOLOError("\(root.path): the dataset path contains a space, which the training-list format cannot "
                            + "hold; move the dataset to a path without spaces")
        }
        let classes = try ClassNames(contentsOf: classesPath)
        var report = Report()
        report.classCounts = Array(repeating: 0, count: classes.count)
        if mode == 0 || mode == 1 { try writeImageSets(&report, log: log) }
        if mode == 0 || mode == 2 { try writeTrainingLists(classes: classes, &report, log: log) }
        return report
    }

    private func writeImageSets(_ report: inout Report, log: (String) -> Void) throws {
        log("Generate txt in ImageSets.")
        let folder = root.appendingPathComponent("Annotations")
        let files = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        let ids = files.filter { $0.hasSuffix(".xml") }.map { String($0.dropLast(4)) }.sorted()
        guard !ids.isEmpty else {
            throw YOLOError("\(folder.path): no .xml annotations found (expected VOC XML files; for a demo dataset run "
                            + "make_demo_dataset first)")
        }
        let n = ids.count, tv = Int(Double(n) * trainvalPercent), tr = Int(Double(tv) * trainPercent)
        let rng = RandomGenerator(seed: seed)
        let trainval = Set(sample(Array(0..<n), tv, rng))
        let train = Set(sample(Array(trainval).sorted(), tr, rng))
        log("train and val size \(tv)")
        log("train size \(tr)")
        var lists: [String: [String]] = ["trainval": [], "train": [], "val": [], "test": []]
        for (i, id) in ids.enumerated() {
            if trainval.contains(i) {
                lists["trainval"]!.append(id)
                lists[train.contains(i) ? "train" : "val"]!.append(id)
            } else {
                lists["test"]!.append(id)
            }
        }
        for (name, entries) in lists {
            try writeText(entries.map { $0 + "\n" }.joined(), to: imageSets.appendingPathComponent("\(name).txt").path)
        }
        report.trainval = tv; report.train = tr; report.val = tv - tr; report.test = n - tv
        log("Generate txt in ImageSets done.")
    }

    /// k distinct elements in random order (partial Fisher-Yates).
    private func sample(_ items: [Int], _ k: Int, _ rng: RandomGenerator) -> [Int] {
        var pool = items
        for i in 0..<min(k, pool.count) { pool.swapAt(i, i + Int(rng.next() % UInt64(pool.count - i))) }
        return Array(pool.prefix(k))
    }

    private func writeTrainingLists(classes: ClassNames, _ report: inout Report, log: (String) -> Void) throws {
        log("Generate \(year)_train.txt and \(year)_val.txt for train.")
        for set in ["train", "val"] {
            let listPath = imageSets.appendingPathComponent("\(set).txt").path
            guard let text = try? String(contentsOfFile: listPath, encoding: .utf8) else {
                throw YOLOError("\(listPath): missing (run with annotation_mode 0 or 1 first)")
            }
            var out = ""
            var written = 0
            for id in text.split(whereSeparator: \.isNewline).map(String.init) where !id.isEmpty {
                if let line = try convert(id: id, classes: classes, &report, log: log) {
                    out += line.text + "\n"
                    written += 1
                }
            }
            try writeText(out, to: URL(fileURLWithPath: outputFolder).appendingPathComponent("\(year)_\(set).txt").path)
            report.listed[set] = written
        }
        log("Generate \(year)_train.txt and \(year)_val.txt for train done.")
        log(Self.table(classes: classes.names, counts: report.classCounts))
        if !report.unknownClasses.isEmpty {
            let list = report.unknownClasses.sorted { $0.key < $1.key }.map { "'\($0.key)' (\($0.value))" }.joined(separator: ", ")
            log("Warning: objects of classes not in \(classesPath) were left out: \(list). "
                + "Check the spelling in the XML files or add the classes.")
        }
        if report.fixedBoxes > 0 { log("Warning: \(report.fixedBoxes) boxes reached outside their image and were clipped.") }
        if report.droppedBoxes > 0 {
            log("Warning: \(report.droppedBoxes) boxes were left out because xmax <= xmin or ymax <= ymin.")
        }
        if !report.skippedFiles.isEmpty { log("Warning: \(report.skippedFiles.count) images were left out (see above).") }
        if (report.listed["train"] ?? 0) <= 500 {
            log("The training set has 500 images or fewer, a small dataset: train for more epochs so that enough "
                + "gradient steps are taken.")
        }
        if report.classCounts.reduce(0, +) == 0 {
            log("No objects of the listed classes were found: check that \(classesPath) matches the class names in "
                + "your XML files, otherwise training learns nothing.")
        }
    }

    /// The training-list line for one image id, or nil (with a warning) when it must be skipped.
    private func convert(id: String, classes: ClassNames, _ report: inout Report, log: (String) -> Void) throws -> AnnotationLine? {
        let xmlPath = root.appendingPathComponent("Annotations/\(id).xml").path
        let annotation: VOCAnnotation
        do { annotation = try VOCAnnotation.load(xmlPath) } catch {
            log("Warning: skipped: \(error)")
            report.skippedFiles.append(xmlPath)
            return nil
        }
        guard let imagePath = Self.findImage(id: id, in: root.appendingPathComponent("JPEGImages")) else {
            log("Warning: skipped \(xmlPath): no image \(id).jpg (or .jpeg/.png) in \(root.appendingPathComponent("JPEGImages").path)")
            report.skippedFiles.append(xmlPath)
            return nil
        }
        if imagePath.contains(" ") {
            log("Warning: skipped \(imagePath): the path contains a space, which the training-list format cannot hold")
            report.skippedFiles.append(imagePath)
            return nil
        }
        var boxes: [LabeledBox] = []
        for object in annotation.objects {
            guard let cls = classes.index(of: object.name) else {
                report.unknownClasses[object.name, default: 0] += 1
                continue
            }
            if object.difficult { continue }
            var b = LabeledBox(x1: object.xmin.rounded(.towardZero), y1: object.ymin.rounded(.towardZero),
                               x2: object.xmax.rounded(.towardZero), y2: object.ymax.rounded(.towardZero), classIndex: cls)
            if let w = annotation.width, let h = annotation.height, w > 0, h > 0 {
                let clipped = LabeledBox(x1: max(b.x1, 0), y1: max(b.y1, 0), x2: min(b.x2, Double(w)), y2: min(b.y2, Double(h)),
                                         classIndex: cls)
                if clipped != b {
                    report.fixedBoxes += 1
                    log("Warning: \(xmlPath): box of '\(object.name)' (\(Int(b.x1)),\(Int(b.y1)),\(Int(b.x2)),\(Int(b.y2))) "
                        + "reaches outside the \(w)x\(h) image; clipped")
                    b = clipped
                }
            }
            guard b.x2 > b.x1, b.y2 > b.y1 else {
                report.droppedBoxes += 1
                log("Warning: \(xmlPath): box of '\(object.name)' has xmax <= xmin or ymax <= ymin; left out")
                continue
            }
            boxes.append(b)
            report.classCounts[cls] += 1
        }
        return AnnotationLine(imagePath: imagePath, boxes: boxes)
    }

    /// The image file of an annotation id: <id>.jpg, .jpeg or .png (either case) in the folder.
    public static func findImage(id: String, in folder: URL) -> String? {
        for ext in ["jpg", "jpeg", "png", "JPG", "JPEG", "PNG"] {
            let path = folder.appendingPathComponent("\(id).\(ext)").path
            if FileManager.default.fileExists(atPath: path) { return path }
        }
        return nil
    }

    /// The per-class count table, columns right-aligned.
    public static func table(classes: [String], counts: [Int]) -> String {
        let left = max(classes.map(\.count).max() ?? 0, 5), right = max(counts.map { String($0).count }.max() ?? 0, 5)
        func pad(_ s: String, _ n: Int) -> String { String(repeating: " ", count: max(n - s.count, 0)) + s }
        var rows = ["| \(pad("class", left)) | \(pad("count", right)) |"]
        for (name, count) in zip(classes, counts) { rows.append("| \(pad(name, left)) | \(pad(String(count), right)) |") }
        return rows.joined(separator: "\n")
    }
}

/// Writes text through a temporary file renamed into place (Vision's atomic writer).
func writeText(_ text: String, to path: String) throws {
    do { try writeAtomically(Data(text.utf8), to: path) } catch { throw YOLOError("\(error)") }
}
