import Foundation
import TensorCore

/// The YOLOv4 loss of one output layer (SPEC §6), summed over layers by `total`:
/// box: mean(1 - CIoU) over positives x 0.05; class: mean(BCE) over positives x classes/80;
/// objectness: mean(BCE) over positives and non-ignored negatives x balance[l] x 5 (H W)/416^2.
/// A negative is ignored when its decoded box overlaps a ground truth with IoU > 0.5.
public struct YOLOLoss {
    public let anchors: [(Double, Double)]
    public let numClasses: Int
    public let inputWidth, inputHeight: Int
    public let anchorsMask: [[Int]]
    public var labelSmoothing: Float = 0
    public var focalLoss = false
    public var focalAlpha: Float = 0.25
    public var focalGamma: Float = 2
    public var ignoreThreshold: Float = 0.5
    /// Data-parallel training: turns this rank's counts (objectness cells, positives) of a layer
    /// into their mean over the ranks, so that each rank's loss divides by the global count and
    /// the averaged gradients equal those of one process with the whole batch. nil: local counts.
    public var countsAcrossRanks: (([Double]) throws -> [Double])?
    let balance: [Float] = [0.4, 1.0, 4]
    let boxRatio: Float = 0.05
    let focalRatio: Float = 10

    public init(anchors: [(Double, Double)], numClasses: Int, inputWidth: Int, inputHeight: Int, anchorsMask: [[Int]]) {
        self.anchors = anchors
        self.numClasses = numClasses
        self.inputWidth = inputWidth
        self.inputHeight = inputHeight
        self.anchorsMask = anchorsMask
    }

    var objRatio: Float { 5 * Float(inputWidth * inputHeight) / Float(416 * 416) }
    var clsRatio: Float { Float(numClasses) / 80 }
    /// YOLOv4-tiny's masks leave an anchor out; its ground truths fall back to the next best anchor.
    var nextBestFallback: Bool { Set(anchorsMask.flatMap { $0 }).count < anchors.count }

    /// The loss split as it is computed, each term already weighted, so box + objectness +
    /// classification = total (what the training log prints as loss_box, loss_obj, loss_cls).
    public struct Terms {
        public var total: Tensor
        public var box: Tensor?
        public var objectness: Tensor
        public var classification: Tensor?
    }

    /// Sum of the per-layer losses.
    public func total(_ outputs: [Tensor], targets: [[TargetBox]]) throws -> Tensor {
        try terms(outputs, targets: targets).total
    }

    /// Every term summed over the output layers.
    public func terms(_ outputs: [Tensor], targets: [[TargetBox]]) throws -> Terms {
        guard outputs.count == anchorsMask.count else {
            throw YOLOError("loss: \(outputs.count) outputs but \(anchorsMask.count) anchor masks")
        }
        func add(_ a: Tensor?, _ b: Tensor?) throws -> Tensor? {
            guard let a else { return b }
            guard let b else { return a }
            return try a + b
        }
        var sum: Terms?
        for (l, output) in outputs.enumerated() {
            let term = try layerTerms(l, output, targets: targets)
            if let s = sum {
                sum = Terms(total: try s.total + term.total, box: try add(s.box, term.box),
                            objectness: try s.objectness + term.objectness,
                            classification: try add(s.classification, term.classification))
            } else {
                sum = term
            }
        }
        return sum!
    }

    public func layer(_ l: Int, _ output: Tensor, targets: [[TargetBox]]) throws -> Tensor {
        try layerTerms(l, output, targets: targets).total
    }

    func layerTerms(_ l: Int, _ output: Tensor, targets: [[TargetBox]]) throws -> Terms {
        let (bs, h, w) = (output.shape[0], output.shape[2], output.shape[3])
        let a = anchorsMask[l].count, attrs = 5 + numClasses
        guard output.rank == 4, output.shape[1] == a * attrs else {
            throw YOLOError("loss: output \(l) has shape \(output.shape), expected [batch, \(a * attrs), H, W] for "
                            + "\(a) anchors and \(numClasses) classes")
        }
        guard targets.count == bs else { throw YOLOError("loss: \(targets.count) target lists for a batch of \(bs)") }
        let device = output.device
        // [bs, A, H, W, attrs]
        let prediction = try output.reshape([bs, a, attrs, h, w]).permute([0, 1, 3, 4, 2]).contiguous()
        let assignment = TargetAssignment(targets: targets, layer: l, anchorsMask: anchorsMask, anchors: anchors,
                                          inputWidth: inputWidth, inputHeight: inputHeight, gridW: w, gridH: h,
                                          nextBestFallback: nextBestFallback)
        let (sw, sh) = (Double(inputWidth) / Double(w), Double(inputHeight) / Double(h))
        let layerAnchors = anchorsMask[l].map { (Float(anchors[$0].0 / sw), Float(anchors[$0].1 / sh)) }

        // Negatives: cells responsible for nothing, minus those whose predicted box already overlaps a
        // ground truth (IoU > threshold).
        let ignored = try ignoreMask(prediction.detach(), targets: targets, anchors: layerAnchors, gridW: w, gridH: h)
        let negatives = try Tensor(assignment.negativeCandidates, shape: [bs, a, h, w], device: device) * ignored
        var positiveMask = [Float](repeating: 0, count: bs * a * h * w)
        for p in assignment.positives { positiveMask[p.flatIndex] = 1 }
        let positives = try Tensor(positiveMask, shape: [bs, a, h, w], device: device)

        let conf = try prediction.narrow(axis: 4, start: 4, length: 1).squeeze(4).sigmoid()
        let loss: Tensor
        let counted = try (positives + negatives).clamp(max: 1)   // positives are never negatives; kept safe
        // What each mean divides by: this batch's counts, or their mean over the ranks.
        let cells: Tensor
        var positiveCount = Float(assignment.positives.count)
        if let countsAcrossRanks {
            let mean = try countsAcrossRanks([Double(try counted.sum().item()), Double(positiveCount)])
            cells = try Tensor(scalar: Float(Swift.max(mean[0], 1)), device: device)
            positiveCount = Float(mean[1])
        } else {
            cells = try counted.sum().clamp(min: 1)
        }
        if focalLoss {
            let pos = try positives.greater(0)
            let weight = try Tensor.where(pos, conf.scalarLike(focalAlpha), conf.scalarLike(1 - focalAlpha))
            let hardness = try Tensor.where(pos, 1 - conf, conf).pow(focalGamma)
            loss = try (BoxMath.bce(conf, positives) * weight * hardness * counted).sum() / cells * focalRatio
        } else {
            loss = try (BoxMath.bce(conf, positives) * counted).sum() / cells
        }
        let objectness = try loss * (balance[l] * objRatio)

        if !assignment.positives.isEmpty {
            let n = assignment.positives.count
            let rows = try prediction.reshape([-1, attrs]).indexSelect(
                axis: 0, index: Tensor(int64: assignment.positives.map { Int64($0.flatIndex) }, device: device))
            let grid = try Tensor(assignment.positives.flatMap { [Float($0.cellX), Float($0.cellY)] }, shape: [n, 2], device: device)
            let anchorWH = try Tensor(assignment.positives.flatMap { [layerAnchors[$0.anchor].0, layerAnchors[$0.anchor].1] },
                                      shape: [n, 2], device: device)
            let xy = try rows.narrow(axis: 1, start: 0, length: 2).sigmoid() + grid
            let wh = try rows.narrow(axis: 1, start: 2, length: 2).exp() * anchorWH
            let truth = try Tensor(assignment.positives.flatMap { [$0.box.0, $0.box.1, $0.box.2, $0.box.3] }, shape: [n, 4], device: device)
            let ciou = try BoxMath.ciou(Tensor.concat([xy, wh], axis: 1), truth)
            let boxLoss = try countsAcrossRanks == nil ? (1 - ciou).mean() : (1 - ciou).sum() / positiveCount
            var classTargets = [Float](repeating: 0, count: n * numClasses)
            for (i, p) in assignment.positives.enumerated() { classTargets[i * numClasses + p.classIndex] = 1 }
            var classTruth = try Tensor(classTargets, shape: [n, numClasses], device: device)
            // Label smoothing applied to class targets (the reference defines it but never calls it).
            if labelSmoothing > 0 { classTruth = try classTruth * (1 - labelSmoothing) + labelSmoothing / Float(numClasses) }
            let classBCE = try BoxMath.bce(rows.narrow(axis: 1, start: 5, length: numClasses).sigmoid(), classTruth)
            let classLoss = try countsAcrossRanks == nil ? classBCE.mean() : classBCE.sum() / (positiveCount * Float(numClasses))
            let box = try boxLoss * boxRatio, classification = try classLoss * clsRatio
            return Terms(total: try objectness + box + classification, box: box, objectness: objectness, classification: classification)
        }
        return Terms(total: objectness, box: nil, objectness: objectness, classification: nil)
    }

    /// 0 where a prediction's decoded box has IoU > threshold with a ground truth of its image, else 1.
    func ignoreMask(_ prediction: Tensor, targets: [[TargetBox]], anchors: [(Float, Float)], gridW: Int, gridH: Int) throws -> Tensor {
        let (bs, a) = (prediction.shape[0], prediction.shape[1])
        let maxTargets = targets.map(\.count).max() ?? 0
        guard maxTargets > 0 else { return try Tensor.ones([bs, a, gridH, gridW], device: prediction.device) }
        return try withNoGrad {
            let device = prediction.device
            let gx = try Tensor.arange(gridW, dtype: .float32, device: device).reshape([1, 1, 1, gridW])
            let gy = try Tensor.arange(gridH, dtype: .float32, device: device).reshape([1, 1, gridH, 1])
            let aw = try Tensor(anchors.map(\.0), shape: [1, a, 1, 1], device: device)
            let ah = try Tensor(anchors.map(\.1), shape: [1, a, 1, 1], device: device)
            func attr(_ i: Int) throws -> Tensor { try prediction.narrow(axis: 4, start: i, length: 1).squeeze(4) }
            let px = try attr(0).sigmoid() + gx, py = try attr(1).sigmoid() + gy
            let pw = try attr(2).exp() * aw, ph = try attr(3).exp() * ah
            // Ground truths padded to the same count with empty boxes: [bs, 1, 1, 1, G].
            var g = [Float](repeating: 0, count: bs * maxTargets * 4)
            for (b, boxes) in targets.enumerated() {
                for (k, t) in boxes.enumerated() {
                    let base = (b * maxTargets + k) * 4
                    g[base] = t.cx * Float(gridW); g[base + 1] = t.cy * Float(gridH)
                    g[base + 2] = t.w * Float(gridW); g[base + 3] = t.h * Float(gridH)
                }
            }
            let gt = try Tensor(g, shape: [bs, 1, 1, 1, maxTargets, 4], device: device)
            func gtPart(_ i: Int) throws -> Tensor { try gt.narrow(axis: 5, start: i, length: 1).squeeze(5) }
            let (tx, ty, tw, th) = (try gtPart(0), try gtPart(1), try gtPart(2), try gtPart(3))
            let (qx, qy, qw, qh) = (try px.unsqueeze(-1), try py.unsqueeze(-1), try pw.unsqueeze(-1), try ph.unsqueeze(-1))
            let iw = try ((qx + qw / 2).minimum(tx + tw / 2) - (qx - qw / 2).maximum(tx - tw / 2)).maximum(0)
            let ih = try ((qy + qh / 2).minimum(ty + th / 2) - (qy - qh / 2).maximum(ty - th / 2)).maximum(0)
            let inter = try iw * ih
            let iou = try inter / (qw * qh + tw * th - inter)
            let best = try iou.max(axis: -1).values
            return try best.lessEqual(ignoreThreshold).to(.float32)
        }
    }
}
