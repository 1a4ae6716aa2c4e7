import Foundation

/// VOC mAP as the reference's get_map computes it (SPEC §8): per class, detections in score order
/// are matched greedily to the unused ground truth of their image with the highest IoU (+1 pixel
/// convention); IoU >= threshold is a true positive, a match to a difficult box counts neither
/// way, difficult boxes are not in the ground-truth count; AP is the all-point interpolated area
/// under the precision-recall curve; mAP averages the classes that have ground truth.
/// One implementation serves `train`'s in-training mAP and `get_map`.
public struct VOCEvaluator {
    public struct GroundTruth {
        public var classIndex: Int
        public var x1, y1, x2, y2: Double
        public var difficult: Bool
        public init(classIndex: Int, x1: Double, y1: Double, x2: Double, y2: Double, difficult: Bool = false) {
            self.classIndex = classIndex; self.x1 = x1; self.y1 = y1; self.x2 = x2; self.y2 = y2; self.difficult = difficult
        }
    }

    public struct ClassResult {
        public var ap: Double
        public var groundTruthCount: Int
        public var detectionCount: Int
        public var truePositives: Int
        /// Recall, precision and F1 at the report threshold (score >= 0.5 by default).
        public var recallAtThreshold: Double
        public var precisionAtThreshold: Double
        public var f1AtThreshold: Double
        public var recall: [Double]
        public var precision: [Double]
        public var scores: [Double]
        public var cumulativeFalsePositives: [Double]
    }

    public var iouThreshold = 0.5
    public var reportScore = 0.5
    public init(iouThreshold: Double = 0.5, reportScore: Double = 0.5) {
        self.iouThreshold = iouThreshold
        self.reportScore = reportScore
    }

    /// Per class (index into the classes list): results for classes with ground truth or detections.
    public func evaluate(groundTruth: [[GroundTruth]], detections: [[Detection]], classCount: Int) -> [Int: ClassResult] {
        var results: [Int: ClassResult] = [:]
        for c in 0..<classCount {
            let gtCount = groundTruth.flatMap { $0 }.filter { $0.classIndex == c && !$0.difficult }.count
            var candidates: [(image: Int, detection: Detection)] = []
            for (i, list) in detections.enumerated() { for d in list where d.classIndex == c { candidates.append((i, d)) } }
            if gtCount == 0 && candidates.isEmpty { continue }
            // Stable sort by descending score (ties keep image order, as Python's sort does).
            candidates = candidates.enumerated().sorted { a, b in
                a.element.detection.score != b.element.detection.score ? a.element.detection.score > b.element.detection.score
                    : a.offset < b.offset
            }.map(\.element)
            var used = groundTruth.map { $0.map { _ in false } }
            var tp = [Double](), fp = [Double]()
            for (image, d) in candidates {
                var best = -1.0, match = -1
                for (k, g) in groundTruth[image].enumerated() where g.classIndex == c {
                    let iw = min(d.right, g.x2) - max(d.left, g.x1) + 1, ih = min(d.bottom, g.y2) - max(d.top, g.y1) + 1
                    guard iw > 0 && ih > 0 else { continue }
                    let union = (d.right - d.left + 1) * (d.bottom - d.top + 1) + (g.x2 - g.x1 + 1) * (g.y2 - g.y1 + 1) - iw * ih
                    let overlap = iw * ih / union
                    if overlap > best { best = overlap; match = k }
                }
                if best >= iouThreshold {
                    if groundTruth[image][match].difficult {
                        tp.append(0); fp.append(0)          // counts neither way
                    } else if !used[image][match] {
                        used[image][match] = true
                        tp.append(1); fp.append(0)
                    } else {
                        tp.append(0); fp.append(1)
                    }
                } else {
                    tp.append(0); fp.append(1)
                }
            }
            var cumTP = 0.0, cumFP = 0.0
            var recall: [Double] = [], precision: [Double] = [], cumulativeFP: [Double] = []
            for (t, f) in zip(tp, fp) {
                cumTP += t; cumFP += f
                cumulativeFP.append(cumFP)
                recall.append(gtCount > 0 ? cumTP / Double(gtCount) : 0)
                precision.append(cumTP + cumFP > 0 ? cumTP / (cumTP + cumFP) : 0)
            }
            let scores = candidates.map(\.detection.score)
            let at = scores.lastIndex { $0 >= reportScore }
            let r = at.map { recall[$0] } ?? 0, p = at.map { precision[$0] } ?? 0
            results[c] = ClassResult(ap: gtCount > 0 ? Self.averagePrecision(recall: recall, precision: precision) : 0,
                                     groundTruthCount: gtCount, detectionCount: candidates.count, truePositives: Int(cumTP),
                                     recallAtThreshold: r, precisionAtThreshold: p, f1AtThreshold: r + p > 0 ? 2 * r * p / (r + p) : 0,
                                     recall: recall, precision: precision, scores: scores, cumulativeFalsePositives: cumulativeFP)
        }
        return results
    }

    /// Mean AP over the classes that have ground truth.
    public func meanAP(_ results: [Int: ClassResult]) -> Double {
        let withGT = results.values.filter { $0.groundTruthCount > 0 }
        return withGT.isEmpty ? 0 : withGT.map(\.ap).reduce(0, +) / Double(withGT.count)
    }

    /// Log-average miss rate over 9 FPPI points log-spaced in [0.01, 1] (the reference's lamr, with
    /// miss rate = 1 - recall and FPPI = cumulative false positives / images).
    public static func logAverageMissRate(recall: [Double], falsePositives: [Double], images: Int) -> Double {
        guard !recall.isEmpty, images > 0 else { return 1 }
        let fppi = [-1.0] + falsePositives.map { $0 / Double(images) }
        let missRate = [1.0] + recall.map { 1 - $0 }
        let references = (0..<9).map { pow(10, -2.0 + 2.0 * Double($0) / 8) }
        let sampled = references.map { r in missRate[fppi.lastIndex { $0 <= r } ?? 0] }
        return exp(sampled.map { log(max(1e-10, $0)) }.reduce(0, +) / Double(sampled.count))
    }

    /// All-point interpolation: precision made monotone from the right, area under the recall steps.
    public static func averagePrecision(recall: [Double], precision: [Double]) -> Double {
        let mrec = [0.0] + recall + [1.0]
        var mpre = [0.0] + precision + [0.0]
        if mpre.count >= 2 { for i in stride(from: mpre.count - 2, through: 0, by: -1) { mpre[i] = max(mpre[i], mpre[i + 1]) } }
        var ap = 0.0
        for i in 1..<mrec.count where mrec[i] != mrec[i - 1] { ap += (mrec[i] - mrec[i - 1]) * mpre[i] }
        return ap
    }
}
