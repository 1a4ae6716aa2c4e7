import Foundation
import Vision

/// The map_out/ folder of get_map (SPEC §8): `ground-truth/<id>.txt` lines
/// `name left top right bottom [difficult]`, `detection-results/<id>.txt` lines
/// `name score left top right bottom`, and `results/`.
public struct MapFiles {
    /// The score as the reference writes it (`str(score)[:6]`: at most four decimals, cut, not
    /// rounded), except that scores below 1e-4, which Swift and Python print in exponent form and the
    /// cut would turn from 1.2345e-05 into 1.2345, are written as 0.0000.
    static func scoreText(_ score: Double) -> String {
        let text = String(score)
        return text.contains("e") ? String(format: "%.4f", 0.0) : String(text.prefix(6))
    }

    public let root: String
    public init(root: String) { self.root = root }

    public var groundTruthFolder: String { root + "/ground-truth" }
    public var detectionFolder: String { root + "/detection-results" }
    public var resultsFolder: String { root + "/results" }

    /// Whether both the ground-truth and the detection folder hold files.
    public var hasFiles: Bool {
        [groundTruthFolder, detectionFolder].allSatisfy { folder in
            ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).contains { $0.hasSuffix(".txt") }
        }
    }

    public func writeGroundTruth(id: String, objects: [VOCObject]) throws {
        let text = objects.map { o in
            "\(o.name) \(Int(o.xmin)) \(Int(o.ymin)) \(Int(o.xmax)) \(Int(o.ymax))" + (o.difficult ? " difficult" : "")
        }.joined(separator: "\n")
        try writeText(text.isEmpty ? "" : text + "\n", to: "\(groundTruthFolder)/\(id).txt")
    }

    /// Scores are written as the reference does: the first 6 characters of the number.
    public func writeDetections(id: String, detections: [Detection], classes: ClassNames) throws {
        let text = detections.map { d in
            "\(classes.names[d.classIndex]) \(Self.scoreText(d.score)) \(Int(d.left)) \(Int(d.top)) \(Int(d.right)) \(Int(d.bottom))"
        }.joined(separator: "\n")
        try writeText(text.isEmpty ? "" : text + "\n", to: "\(detectionFolder)/\(id).txt")
    }

    /// What `load` read: per image id its truths and detections, and the lines it skipped because
    /// their class is not in the classes file (name -> how many lines, and the first file).
    public struct Loaded {
        public var ids: [String]
        public var truth: [[VOCEvaluator.GroundTruth]]
        public var detections: [[Detection]]
        public var unknownClasses: [String: (count: Int, firstFile: String)] = [:]

        /// One line per class name that is not in the classes file.
        public func warnings(classesPath: String) -> [String] {
            unknownClasses.sorted { $0.key < $1.key }.map { name, seen in
                "warning: class '\(name)' (\(seen.count) lines, first in \(seen.firstFile)) is not in \(classesPath); those lines are "
                    + "not evaluated. Is the classes file the one the weights were trained with?"
            }
        }
    }

    /// Reads both folders back for the evaluator; every ground-truth file needs a detection file.
    public func load(classes: ClassNames) throws -> Loaded {
        let ids = ((try? FileManager.default.contentsOfDirectory(atPath: groundTruthFolder)) ?? [])
            .filter { $0.hasSuffix(".txt") }.map { String($0.dropLast(4)) }.sorted()
        guard !ids.isEmpty else { throw YOLOError("\(groundTruthFolder): no ground-truth files (run with map_mode 0 or 2 first)") }
        var loaded = Loaded(ids: ids, truth: [], detections: [])
        func known(_ name: String, _ path: String) -> Int? {
            if let c = classes.index(of: name) { return c }
            loaded.unknownClasses[name, default: (0, path)].count += 1
            return nil
        }
        for id in ids {
            let gtPath = "\(groundTruthFolder)/\(id).txt", dtPath = "\(detectionFolder)/\(id).txt"
            guard FileManager.default.fileExists(atPath: dtPath) else {
                throw YOLOError("\(gtPath) has no detection file \(dtPath) (run with map_mode 0 or 1 first)")
            }
            loaded.truth.append(try lines(gtPath).enumerated().compactMap { n, fields in
                guard fields.count >= 5 else { throw YOLOError("\(gtPath):\(n + 1): expected 'name left top right bottom [difficult]'") }
                let difficult = fields.last == "difficult"
                let numbers = fields.suffix(difficult ? 5 : 4).prefix(4).compactMap(Double.init)
                let name = fields.prefix(fields.count - (difficult ? 5 : 4)).joined(separator: " ")
                guard numbers.count == 4 else { throw YOLOError("\(gtPath):\(n + 1): coordinates are not numbers") }
                guard let c = known(name, gtPath) else { return nil }
                return VOCEvaluator.GroundTruth(classIndex: c, x1: numbers[0], y1: numbers[1], x2: numbers[2], y2: numbers[3],
                                                difficult: difficult)
            })
            loaded.detections.append(try lines(dtPath).enumerated().compactMap { n, fields in
                guard fields.count >= 6, let score = Double(fields[fields.count - 5]) else {
                    throw YOLOError("\(dtPath):\(n + 1): expected 'name score left top right bottom'")
                }
                let numbers = fields.suffix(4).compactMap(Double.init)
                let name = fields.prefix(fields.count - 5).joined(separator: " ")
                guard numbers.count == 4 else { throw YOLOError("\(dtPath):\(n + 1): coordinates are not numbers") }
                guard let c = known(name, dtPath) else { return nil }
                return Detection(top: numbers[1], left: numbers[0], bottom: numbers[3], right: numbers[2], classIndex: c,
                                 score: score, objectness: score, classProbability: 1)
            })
        }
        return loaded
    }

    private func lines(_ path: String) throws -> [[String]] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw YOLOError("\(path): cannot read") }
        return text.split(whereSeparator: \.isNewline).map { $0.split(separator: " ").map(String.init) }.filter { !$0.isEmpty }
    }

    /// results.txt with the reference's per-class lines and mAP; mAP.png, ground-truth-info.png,
    /// lamr.png; and per class AP/<class>.png (precision-recall) and F1, Recall, Precision/<class>.png
    /// against the score threshold.
    public func writeResults(_ results: [Int: VOCEvaluator.ClassResult], mAP: Double, classes: ClassNames,
                             images: Int = 1) throws -> [String] {
        var lines: [String] = []
        for (c, r) in results.sorted(by: { $0.key < $1.key }) where r.groundTruthCount > 0 {
            lines.append(String(format: "%.2f%% = %@ AP \t||\tscore_threhold=0.5 : F1=%.2f ; Recall=%.2f%% ; Precision=%.2f%%",
                                r.ap * 100, classes.names[c], r.f1AtThreshold, r.recallAtThreshold * 100, r.precisionAtThreshold * 100))
        }
        lines.append(String(format: "mAP = %.2f%%", mAP * 100))
        try writeText("# AP and precision/recall per class\n" + lines.joined(separator: "\n") + "\n", to: resultsFolder + "/results.txt")
        let ranked = results.filter { $0.value.groundTruthCount > 0 }.sorted { $0.value.ap < $1.value.ap }
        try BarChart(title: String(format: "mAP = %.2f%%", mAP * 100), xLabel: "Average Precision",
                     labels: ranked.map { classes.names[$0.key] }, values: ranked.map { $0.value.ap },
                     colors: [RGB(65, 105, 225)], valueFormat: { String(format: "%.2f", $0) })
            .render().save(resultsFolder + "/mAP.png")
        let counted = results.filter { $0.value.groundTruthCount > 0 }.sorted { $0.value.groundTruthCount < $1.value.groundTruthCount }
        try BarChart(title: "ground-truth-info", xLabel: "Number of objects per class", labels: counted.map { classes.names[$0.key] },
                     values: counted.map { Double($0.value.groundTruthCount) }, colors: [RGB(34, 139, 34)],
                     valueFormat: { String(Int($0)) }).render().save(resultsFolder + "/ground-truth-info.png")
        let lamr = ranked.map { VOCEvaluator.logAverageMissRate(recall: $0.value.recall, falsePositives: $0.value.cumulativeFalsePositives,
                                                                images: images) }
        try BarChart(title: "log-average miss rate", xLabel: "log-average miss rate", labels: ranked.map { classes.names[$0.key] },
                     values: lamr, colors: [RGB(65, 105, 225)], valueFormat: { String(format: "%.2f", $0) })
            .render().save(resultsFolder + "/lamr.png")
        for (c, r) in ranked {
            let name = classes.names[c]
            func safe(_ s: String) -> String { s.replacingOccurrences(of: "/", with: "_") }
            try LineChart(title: String(format: "class: %.2f%% = %@ AP", r.ap * 100, name), xLabel: "Recall", yLabel: "Precision",
                          series: [.init(name: "precision-recall", x: [0] + r.recall, y: [r.precision.first ?? 0] + r.precision,
                                         color: RGB(30, 30, 200))])
                .render().save("\(resultsFolder)/AP/\(safe(name)).png")
            let f1 = zip(r.recall, r.precision).map { $0 + $1 > 0 ? 2 * $0 * $1 / ($0 + $1) : 0 }
            for (folder, values) in [("F1", f1), ("Recall", r.recall), ("Precision", r.precision)] where !values.isEmpty {
                try LineChart(title: "class: \(name)", xLabel: "Score_Threhold", yLabel: folder,
                              series: [.init(name: folder, x: r.scores, y: values, color: RGB(200, 30, 30))])
                    .render().save("\(resultsFolder)/\(folder)/\(safe(name)).png")
            }
        }
        return lines
    }

    /// results/coco_results.txt: the COCO evaluator's summary, then AP@[.5:.95] per class.
    /// Returns the summary lines.
    public func writeCOCOResults(_ summary: COCOEvaluator.Summary, classes: ClassNames) throws -> [String] {
        let perClass = summary.perClassAP.sorted { $0.key < $1.key }.map { c, ap in
            String(format: "%.2f%% = %@ AP@[.5:.95]", ap * 100, classes.names[c])
        }
        try writeText((["# COCO box mAP (IoU 0.50:0.95, 101 recall points, areas small < 32², large > 96²)"] + summary.lines
                       + ["", "# per class"] + perClass).joined(separator: "\n") + "\n",
                      to: resultsFolder + "/coco_results.txt")
        return summary.lines
    }
}
