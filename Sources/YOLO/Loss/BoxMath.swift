import Foundation
import TensorCore

/// Box formulas on tensors whose last axis is (cx, cy, w, h), differentiable.
enum BoxMath {
    /// Complete IoU (Zheng et al.) with the reference's clamps (1e-6).
    static func ciou(_ b1: Tensor, _ b2: Tensor) throws -> Tensor {
        func parts(_ b: Tensor) throws -> (Tensor, Tensor, Tensor, Tensor) {
            let c = try b.split(sizes: [1, 1, 1, 1], axis: -1)
            return (c[0], c[1], c[2], c[3])
        }
        let (x1, y1, w1, h1) = try parts(b1), (x2, y2, w2, h2) = try parts(b2)
        let l1 = try x1 - w1 / 2, r1 = try x1 + w1 / 2, t1 = try y1 - h1 / 2, d1 = try y1 + h1 / 2
        let l2 = try x2 - w2 / 2, r2 = try x2 + w2 / 2, t2 = try y2 - h2 / 2, d2 = try y2 + h2 / 2
        let iw = try (r1.minimum(r2) - l1.maximum(l2)).maximum(0), ih = try (d1.minimum(d2) - t1.maximum(t2)).maximum(0)
        let inter = try iw * ih
        let union = try w1 * h1 + w2 * h2 - inter
        let iou = try inter / union.clamp(min: 1e-6)
        let centreDistance = try (x1 - x2).square() + (y1 - y2).square()
        let ew = try (r1.maximum(r2) - l1.minimum(l2)).maximum(0), eh = try (d1.maximum(d2) - t1.minimum(t2)).maximum(0)
        let diagonal = try ew.square() + eh.square()
        let aspect1 = try (w1 / h1.clamp(min: 1e-6)).atan(), aspect2 = try (w2 / h2.clamp(min: 1e-6)).atan()
        let v = try (aspect1 - aspect2).square() * Float(4 / (Double.pi * Double.pi))
        let alpha = try v / (1 - iou + v).clamp(min: 1e-6)
        return try (iou - centreDistance / diagonal.clamp(min: 1e-6) - alpha * v).squeeze(-1)
    }

    /// Binary cross-entropy with the prediction clamped to [1e-7, 1 - 1e-7].
    static func bce(_ p: Tensor, _ target: Tensor) throws -> Tensor {
        let q = try p.clamp(min: 1e-7, max: 1 - 1e-7)
        return try -(target * q.log()) - (1 - target) * (1 - q).log()
    }
}
