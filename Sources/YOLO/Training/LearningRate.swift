import Foundation

/// The reference's learning-rate rules (SPEC §2).
public enum LearningRate {
    /// Init_lr and Min_lr fitted to the batch size with nbs = 64 and the optimizer's limits.
    public static func fitted(initLR: Double, minLR: Double, batchSize: Int, optimizer: String) -> (initial: Double, minimum: Double) {
        let nbs = 64.0
        let adam = optimizer == "adam" || optimizer == "adamw"
        let limitMax = adam ? 1e-3 : 5e-2, limitMin = adam ? 3e-4 : 5e-4
        let initial = min(max(Double(batchSize) / nbs * initLR, limitMin), limitMax)
        let minimum = min(max(Double(batchSize) / nbs * minLR, limitMin * 1e-2), limitMax * 1e-2)
        return (initial, minimum)
    }

    /// The learning rate of absolute epoch `epoch` (0-based) of `total` epochs.
    public static func scheduled(_ type: String, lr: Double, minLR: Double, total: Int, epoch: Int) throws -> Double {
        let e = Double(epoch), t = Double(total)
        if type == "step" {
            let size = t / 10
            guard size >= 1 else { throw YOLOError("lr_decay_type 'step' needs UnFreeze_Epoch >= 10, found \(total)") }
            let rate = pow(minLR / lr, 1.0 / 9)
            return lr * pow(rate, (e / size).rounded(.down))
        }
        let warm = min(max(0.05 * t, 1), 3), lr0 = max(0.1 * lr, 1e-6), tail = min(max(0.05 * t, 1), 15)
        if e <= warm { return (lr - lr0) * pow(e / warm, 2) + lr0 }
        if e >= t - tail { return minLR }
        return minLR + 0.5 * (lr - minLR) * (1 + cos(Double.pi * (e - warm) / (t - warm - tail)))
    }
}
