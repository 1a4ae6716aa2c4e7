import Foundation

/// Box mAP by the rules of the COCO evaluator (get_map's map_mode 4): IoU thresholds 0.50 to 0.95
/// in steps of 0.05, precision sampled at 101 recall points, area ranges all / small (< 32²) /
/// medium (32² to 96²) / large (> 96²), and at most 1, 10 or 100 detections per image and class.
/// Difficult boxes play the part of COCO's crowd boxes: a detection on one counts neither way.
/// Boxes have no +1 pixel here (COCO's convention; the VOC evaluator adds it).
///
/// The reference converts map_out/ to COCO annotations with a ground-truth area of w·h − 10, and
/// pycocotools sorts truths into area ranges by that field: `truthAreaOffset` (10 by default) does the
/// same, so boxes under 10 px² are ignored and the small/medium/large borders sit 10 px² higher for
/// truths. The reference's conversion also numbers annotations from 0, and pycocotools takes a match
/// to annotation id 0 for no match, so one detection (on the first box of whichever file the
/// directory listing gives first) turns into a false positive there; that is a defect, not copied.
public struct COCOEvaluator {
    public struct AreaRange: Sendable {
        public var name: String
        public var lower, upper: Double
    }

    public static let areaRanges = [AreaRange(name: "all", lower: 0, upper: 1e10),
                                    AreaRange(name: "small", lower: 0, upper: 32 * 32),
                                    AreaRange(name: "medium", lower: 32 * 32, upper: 96 * 96),
                                    AreaRange(name: "large", lower: 96 * 96, upper: 1e10)]

    /// The twelve figures the COCO evaluator prints, in its order; -1 where no class has ground
    /// truth in that area range.
    public struct Summary {
        public var values: [Double]
        /// AP@[.5:.95] per class over all areas at 100 detections (-1: no ground truth).
        public var perClassAP: [Int: Double]
        public var meanAP: Double { values[0] }
        public var ap50: Double { values[1] }

        public static let rows: [(ap: Bool, iou: String, area: String, maxDetections: Int)] = [
            (true, "0.50:0.95", "all", 100), (true, "0.50", "all", 100), (true, "0.75", "all", 100),
            (true, "0.50:0.95", "small", 100), (true, "0.50:0.95", "medium", 100), (true, "0.50:0.95", "large", 100),
            (false, "0.50:0.95", "all", 1), (false, "0.50:0.95", "all", 10), (false, "0.50:0.95", "all", 100),
            (false, "0.50:0.95", "small", 100), (false, "0.50:0.95", "medium", 100), (false, "0.50:0.95", "large", 100)]

        /// The evaluator's own summary lines.
        public var lines: [String] {
            zip(Self.rows, values).map { row, value in
                let title = row.ap ? "Average Precision  (AP)" : "Average Recall     (AR)"
                return " \(title) @[ IoU=\(row.iou.padding(toLength: 9, withPad: " ", startingAt: 0)) | area="
                    + String(repeating: " ", count: max(0, 6 - row.area.count)) + row.area
                    + " | maxDets=" + String(format: "%3d", row.maxDetections) + " ] = " + String(format: "%.3f", value)
            }
        }
    }

    public var iouThresholds = evenlySpaced(from: 0.5, to: 0.95, count: 10)
    public var recallPoints = evenlySpaced(from: 0, to: 1, count: 101)
    public var maxDetections = [1, 10, 100]
    /// Subtracted from a truth's w·h before its area range is decided (the reference's conversion).
    public var truthAreaOffset: Double
    public init(truthAreaOffset: Double = 10) { self.truthAreaOffset = truthAreaOffset }

    /// Matching of one image and class in one area range: per threshold, whether each detection
    /// (best score first) is a true positive or ignored.
    struct ImageMatch {
        var scores: [Double]
        var matched: [[Bool]]     // [threshold][detection]
        var ignored: [[Bool]]
        var countedTruth: Int
    }

    public func evaluate(groundTruth: [[VOCEvaluator.GroundTruth]], detections: [[Detection]], classCount: Int) -> Summary {
        let limit = maxDetections.max() ?? 100
        let t = iouThresholds.count
        // precision[area][maxDet][class][threshold] = 101 samples, nil where the class has no counted truth.
        var precision = [[[[[Double]]?]]](repeating: [[[[Double]]?]](repeating: [[[Double]]?](repeating: nil, count: classCount),
                                                                          count: maxDetections.count), count: Self.areaRanges.count)
        var recall = [[[[Double]?]]](repeating: [[[Double]?]](repeating: [[Double]?](repeating: nil, count: classCount),
                                                                  count: maxDetections.count), count: Self.areaRanges.count)
        for c in 0..<classCount {
            var perArea = [[ImageMatch]](repeating: [], count: Self.areaRanges.count)
            for (image, truths) in groundTruth.enumerated() {
                let gts = truths.filter { $0.classIndex == c }
                let dts = Array(stableByScore((image < detections.count ? detections[image] : []).filter { $0.classIndex == c })
                    .prefix(limit))
                if gts.isEmpty && dts.isEmpty { continue }
                for (a, range) in Self.areaRanges.enumerated() { perArea[a].append(match(gts, dts, range)) }
            }
            for a in Self.areaRanges.indices {
                for (m, maxDet) in maxDetections.enumerated() {
                    let counted = perArea[a].map(\.countedTruth).reduce(0, +)
                    guard counted > 0 else { continue }
                    // Each image's best maxDet detections, then all of them by score (stable, image order on ties).
                    var pooled: [(score: Double, image: Int, index: Int)] = []
                    for (i, im) in perArea[a].enumerated() {
                        for d in 0..<min(maxDet, im.scores.count) { pooled.append((im.scores[d], i, d)) }
                    }
                    pooled = pooled.enumerated().sorted { $0.element.score != $1.element.score ? $0.element.score > $1.element.score
                                                                                                  : $0.offset < $1.offset }.map(\.element)
                    var classPrecision: [[Double]] = [], classRecall: [Double] = []
                    for k in 0..<t {
                        var tp = 0.0, fp = 0.0
                        var rc: [Double] = [], pr: [Double] = []
                        for p in pooled where !perArea[a][p.image].ignored[k][p.index] {
                            if perArea[a][p.image].matched[k][p.index] { tp += 1 } else { fp += 1 }
                            rc.append(tp / Double(counted))
                            pr.append(tp / (tp + fp))
                        }
                        classRecall.append(rc.last ?? 0)
                        if pr.count >= 2 { for i in stride(from: pr.count - 1, to: 0, by: -1) where pr[i] > pr[i - 1] { pr[i - 1] = pr[i] } }
                        // For each recall point, the precision at the first recall that reaches it (0 beyond the last).
                        classPrecision.append(recallPoints.map { r in (rc.firstIndex { $0 >= r }).map { pr[$0] } ?? 0 })
                    }
                    precision[a][m][c] = classPrecision
                    recall[a][m][c] = classRecall
                }
            }
        }
        func meanPrecision(area: Int, maxDet: Int, threshold: Int? = nil) -> Double {
            let values = precision[area][maxDet].compactMap { $0 }.flatMap { perThreshold in
                threshold.map { [perThreshold[$0]] } ?? perThreshold
            }.flatMap { $0 }
            return values.isEmpty ? -1 : values.reduce(0, +) / Double(values.count)
        }
        func meanRecall(area: Int, maxDet: Int) -> Double {
            let values = recall[area][maxDet].compactMap { $0 }.flatMap { $0 }
            return values.isEmpty ? -1 : values.reduce(0, +) / Double(values.count)
        }
        let last = maxDetections.count - 1
        let at75 = iouThresholds.firstIndex { abs($0 - 0.75) < 1e-9 }
        let values = [meanPrecision(area: 0, maxDet: last), meanPrecision(area: 0, maxDet: last, threshold: 0),
                      at75.map { meanPrecision(area: 0, maxDet: last, threshold: $0) } ?? -1,
                      meanPrecision(area: 1, maxDet: last), meanPrecision(area: 2, maxDet: last), meanPrecision(area: 3, maxDet: last)]
            + maxDetections.indices.map { meanRecall(area: 0, maxDet: $0) }
            + [meanRecall(area: 1, maxDet: last), meanRecall(area: 2, maxDet: last), meanRecall(area: 3, maxDet: last)]
        var perClass: [Int: Double] = [:]
        for c in 0..<classCount {
            guard let p = precision[0][last][c] else { continue }
            let flat = p.flatMap { $0 }
            perClass[c] = flat.reduce(0, +) / Double(flat.count)
        }
        return Summary(values: values, perClassAP: perClass)
    }

    /// Greedy matching in score order: each detection takes the best-IoU truth not yet taken
    /// (a difficult one may be taken again), preferring counted truths over ignored ones.
    func match(_ truths: [VOCEvaluator.GroundTruth], _ dts: [Detection], _ range: AreaRange) -> ImageMatch {
        func area(_ x1: Double, _ y1: Double, _ x2: Double, _ y2: Double) -> Double { (x2 - x1) * (y2 - y1) }
        let ignoredTruth = truths.map { g in
            let a = area(g.x1, g.y1, g.x2, g.y2) - truthAreaOffset
            return g.difficult || a < range.lower || a > range.upper
        }
        // Counted truths first, so a match to an ignored truth is only taken when no counted one fits.
        let order = truths.indices.sorted { (ignoredTruth[$0] ? 1 : 0, $0) < (ignoredTruth[$1] ? 1 : 0, $1) }
        let gts = order.map { truths[$0] }, gtIgnored = order.map { ignoredTruth[$0] }
        let ious = dts.map { d in
            gts.map { g -> Double in
                let iw = min(d.right, g.x2) - max(d.left, g.x1), ih = min(d.bottom, g.y2) - max(d.top, g.y1)
                guard iw > 0 && ih > 0 else { return 0 }
                let dtArea = area(d.left, d.top, d.right, d.bottom)
                let union = g.difficult ? dtArea : dtArea + area(g.x1, g.y1, g.x2, g.y2) - iw * ih
                return union > 0 ? iw * ih / union : 0
            }
        }
        var matched = [[Bool]](), ignored = [[Bool]]()
        for threshold in iouThresholds {
            var taken = [Bool](repeating: false, count: gts.count)
            var m = [Bool](repeating: false, count: dts.count), ig = m
            for (d, dt) in dts.enumerated() {
                var best = min(threshold, 1 - 1e-10), choice = -1
                for g in gts.indices {
                    if taken[g] && !gts[g].difficult { continue }
                    if choice >= 0 && !gtIgnored[choice] && gtIgnored[g] { break }
                    if ious[d][g] < best { continue }
                    best = ious[d][g]; choice = g
                }
                if choice >= 0 {
                    taken[choice] = true
                    m[d] = true
                    ig[d] = gtIgnored[choice]
                } else {
                    let a = area(dt.left, dt.top, dt.right, dt.bottom)
                    ig[d] = a < range.lower || a > range.upper
                }
            }
            matched.append(m); ignored.append(ig)
        }
        return ImageMatch(scores: dts.map(\.score), matched: matched, ignored: ignored,
                          countedTruth: gtIgnored.filter { !$0 }.count)
    }

    /// start + i x step, the last exactly `end`: the COCO evaluator's points, bit for bit (a recall of
    /// exactly 7/20 is below its 0.35000000000000003, so 0.35 written as 35 / 100 would differ).
    static func evenlySpaced(from start: Double, to end: Double, count: Int) -> [Double] {
        let step = (end - start) / Double(count - 1)
        return (0..<count).map { $0 == count - 1 ? end : Double($0) * step + start }
    }

    private func stableByScore(_ dts: [Detection]) -> [Detection] {
        dts.enumerated().sorted { $0.element.score != $1.element.score ? $0.element.score > $1.element.score : $0.offset < $1.offset }
            .map(\.element)
    }
}
