import Foundation
import TensorCore

/// An exponential moving average of a model's weights, kept in a second model of the same
/// architecture (the shadow): after each optimizer step every parameter moves as
/// `shadow = d * shadow + (1 - d) * parameter` with the ramped decay
/// `d = decay * (1 - exp(-updates / tau))` (Ultralytics' ModelEMA, MMDetection's EMAHook), so early
/// updates follow the weights closely and later ones average over about 1 / (1 - decay) steps.
/// Buffers (BatchNorm statistics) are copied, not averaged.
public final class ModelEMA {
    public let shadow: Module
    public let decay: Double
    public let tau: Double
    public private(set) var updates: Int
    private let pairs: [(name: String, source: Parameter, target: Parameter)]

    /// Starts the shadow as a copy of `source`.
    public init(source: Module, shadow: Module, decay: Double, tau: Double, updates: Int = 0) throws {
        let targets = Dictionary(uniqueKeysWithValues: shadow.namedTensors())
        var pairs: [(String, Parameter, Parameter)] = []
        for (name, p) in source.namedTensors() {
            guard let t = targets[name], t.value.shape == p.value.shape else {
                throw NNError("EMA: the shadow model has no tensor \(name) of shape \(p.value.shape)")
            }
            pairs.append((name, p, t))
        }
        self.shadow = shadow
        self.decay = decay
        self.tau = tau
        self.updates = updates
        self.pairs = pairs
        shadow.eval()
        shadow.setRequiresGrad(false)
        try copyAll()
    }

    /// The decay the next update will use.
    public var nextDecay: Double { Self.decay(decay, tau: tau, updates: updates + 1) }

    public static func decay(_ decay: Double, tau: Double, updates: Int) -> Double {
        decay * (1 - exp(-Double(updates) / tau))
    }

    public func update() throws {
        updates += 1
        let d = Float(Self.decay(decay, tau: tau, updates: updates))
        try withNoGrad {
            for (_, source, target) in pairs {
                if source.isBuffer || source.value.dtype != .float32 {
                    try target.value.copy_(from: source.value)
                } else {
                    try target.value.mul_(d).add_(source.value * (1 - d))
                }
            }
        }
    }

    /// Restores a saved shadow (its state dict) and the update count.
    public func restore(stateDict: [(String, Tensor)], updates: Int) throws {
        let report = try shadow.load(stateDict: stateDict)
        guard report.skipped.isEmpty, report.missing.isEmpty else {
            throw NNError("EMA state does not match the model (\(report.skipped.count) tensors differ, \(report.missing.count) missing)")
        }
        self.updates = updates
    }

    private func copyAll() throws {
        try withNoGrad { for (_, source, target) in pairs { try target.value.copy_(from: source.value) } }
    }
}
