/// Which prediction cells are responsible for which ground truths on one output layer (SPEC §6):
/// each ground truth picks the anchor (of all anchors) whose width/height IoU with it is best; it
/// is used on this layer only if that anchor is in this layer's mask, at cell floor(x), floor(y).
/// With `nextBestFallback` (YOLOv4-tiny, whose masks leave anchor 0 out) a best anchor that is in
/// no mask gives way to the next best one that is.
struct TargetAssignment {
    struct Positive {
        var flatIndex: Int            // into [batch, anchors, H, W]
        var anchor: Int               // index within this layer's mask
        var cellX, cellY: Int
        var box: (Float, Float, Float, Float)   // cx, cy, w, h in grid units
        var classIndex: Int
    }

    var positives: [Positive] = []
    /// 1 where a cell may be a negative (not responsible for any ground truth).
    var negativeCandidates: [Float]

    init(targets: [[TargetBox]], layer: Int, anchorsMask: [[Int]], anchors: [(Double, Double)], inputWidth: Int,
         inputHeight: Int, gridW: Int, gridH: Int, nextBestFallback: Bool) {
        let mask = anchorsMask[layer]
        let a = mask.count
        negativeCandidates = [Float](repeating: 1, count: targets.count * a * gridH * gridW)
        let allMasked = Set(anchorsMask.flatMap { $0 })
        // Anchors in grid units of this layer.
        let sw = Double(inputWidth) / Double(gridW), sh = Double(inputHeight) / Double(gridH)
        let scaled = anchors.map { ($0.0 / sw, $0.1 / sh) }
        var byCell: [Int: Int] = [:]   // later ground truths overwrite earlier ones in a cell, as in the reference
        for (b, boxes) in targets.enumerated() {
            for t in boxes {
                let cx = Double(t.cx) * Double(gridW), cy = Double(t.cy) * Double(gridH)
                let w = Double(t.w) * Double(gridW), h = Double(t.h) * Double(gridH)
                let ranked = scaled.indices.sorted { i, j in
                    let a = Self.shapeIoU(w, h, scaled[i].0, scaled[i].1), b = Self.shapeIoU(w, h, scaled[j].0, scaled[j].1)
                    return a != b ? a > b : i < j
                }
                var best = ranked[0]
                if nextBestFallback && !allMasked.contains(best), let next = ranked.first(where: { allMasked.contains($0) }) {
                    best = next
                }
                guard let k = mask.firstIndex(of: best) else { continue }
                let i = min(max(Int(cx.rounded(.down)), 0), gridW - 1), j = min(max(Int(cy.rounded(.down)), 0), gridH - 1)
                let flat = ((b * a + k) * gridH + j) * gridW + i
                negativeCandidates[flat] = 0
                let p = Positive(flatIndex: flat, anchor: k, cellX: i, cellY: j, box: (Float(cx), Float(cy), Float(w), Float(h)),
                                 classIndex: t.classIndex)
                if let existing = byCell[flat] { positives[existing] = p } else {
                    byCell[flat] = positives.count
                    positives.append(p)
                }
            }
        }
    }

    /// IoU of two boxes sharing their centre (width/height only).
    static func shapeIoU(_ w1: Double, _ h1: Double, _ w2: Double, _ h2: Double) -> Double {
        let inter = min(w1, w2) * min(h1, h2)
        return inter / (w1 * h1 + w2 * h2 - inter)
    }
}
