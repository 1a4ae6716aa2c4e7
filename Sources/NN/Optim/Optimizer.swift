import TensorCore

/// Parameters that share a weight decay (the reference uses three groups: BatchNorm weights
/// without decay, conv weights with it, biases without).
public struct ParameterGroup {
    public var parameters: [(String, Parameter)]
    public var weightDecay: Float
    public init(parameters: [(String, Parameter)], weightDecay: Float) {
        self.parameters = parameters
        self.weightDecay = weightDecay
    }

    /// The reference's grouping of a model's parameters: (BN weights, conv weights, biases).
    public static func yoloGroups(_ module: Module, weightDecay: Float) -> [ParameterGroup] {
        var bn: [(String, Parameter)] = [], weights: [(String, Parameter)] = [], biases: [(String, Parameter)] = []
        for (name, p) in module.namedParameters() {
            if name.hasSuffix(".bias") { biases.append((name, p)) }
            else if name.contains(".bn.") || name.hasPrefix("bn.") { bn.append((name, p)) }
            else { weights.append((name, p)) }
        }
        return [ParameterGroup(parameters: bn, weightDecay: 0), ParameterGroup(parameters: weights, weightDecay: weightDecay),
                ParameterGroup(parameters: biases, weightDecay: 0)]
    }
}

public enum OptimizerKind: String, Sendable { case sgd, adam, adamw }

/// SGD with (Nesterov) momentum, Adam and AdamW with PyTorch's update rules, over parameter
/// groups. Parameters without a gradient (frozen) are skipped and keep their state; the state
/// (momentum / moments, step counts) can be saved and restored for exact resumption.
public final class Optimizer {
    public let kind: OptimizerKind
    public var groups: [ParameterGroup]
    public var lr: Float
    public let momentum: Float          // SGD momentum, or Adam's beta1
    public let beta2: Float
    public let epsilon: Float
    public let nesterov: Bool
    /// Per parameter name: momentum buffer (SGD) or first/second moments (Adam), and step count.
    public private(set) var state: [String: (first: Tensor, second: Tensor?, step: Int)] = [:]

    public init(_ kind: OptimizerKind, groups: [ParameterGroup], lr: Float, momentum: Float, beta2: Float = 0.999,
                epsilon: Float = 1e-8, nesterov: Bool = true) {
        self.kind = kind; self.groups = groups; self.lr = lr; self.momentum = momentum
        self.beta2 = beta2; self.epsilon = epsilon; self.nesterov = nesterov
    }

    public func step() throws {
        try withNoGrad {
            for group in groups {
                for (name, p) in group.parameters {
                    guard p.requiresGrad, let grad = p.value.grad else { continue }
                    let param = p.value, g = try grad.contiguous()
                    guard param.isContiguous, param.dtype == .float32 else {
                        throw TensorError("optimizer: parameter \(name) must be a contiguous float32 tensor")
                    }
                    var s = state[name]
                    // State restored from a file starts on the CPU; it follows its parameter to the GPU once.
                    if let restored = s, restored.first.device != param.device {
                        s = (try restored.first.to(device: param.device), try restored.second?.to(device: param.device), restored.step)
                    }
                    switch kind {
                    case .sgd:
                        let first = s == nil
                        if first { s = (try Tensor.zeros(param.shape, device: param.device), nil, 0) }
                        try param.backend.sgdStep(parameter: param, gradient: g, momentumBuffer: s!.first, lr: lr, momentum: momentum,
                                                  weightDecay: group.weightDecay, nesterov: nesterov, firstStep: first)
                    case .adam, .adamw:
                        if s == nil { s = (try Tensor.zeros(param.shape, device: param.device), try Tensor.zeros(param.shape, device: param.device), 0) }
                        try param.backend.adamStep(parameter: param, gradient: g, m: s!.first, v: s!.second!, lr: lr, beta1: momentum,
                                                   beta2: beta2, epsilon: epsilon, weightDecay: group.weightDecay,
                                                   decoupled: kind == .adamw, step: s!.step + 1)
                    }
                    s!.step += 1
                    state[name] = s
                }
            }
        }
    }

    public func zeroGrad() {
        for group in groups { for (_, p) in group.parameters { p.value.grad = nil } }
    }

    /// State for a checkpoint: per parameter its buffers and step.
    public func stateDict() -> CheckpointValue {
        .dict(state.sorted { $0.key < $1.key }.map { name, s in
            var entry: [(String, CheckpointValue)] = [("first", .tensor(s.first)), ("step", .int(s.step))]
            if let second = s.second { entry.append(("second", .tensor(second))) }
            return (name, .dict(entry))
        } + [("_kind", .string(kind.rawValue)), ("_lr", .double(Double(lr)))])
    }

    public func load(stateDict value: CheckpointValue) throws {
        guard case .dict(let pairs) = value else { throw NNError("optimizer state: expected a dict") }
        if let saved = value["_kind"]?.stringValue, saved != kind.rawValue {
            throw NNError("optimizer state was saved for \(saved), but this run uses \(kind.rawValue)")
        }
        var restored: [String: (first: Tensor, second: Tensor?, step: Int)] = [:]
        for (name, entry) in pairs where !name.hasPrefix("_") {
            guard let first = entry["first"]?.tensor, let step = entry["step"]?.intValue else {
                throw NNError("optimizer state of \(name) is incomplete")
            }
            restored[name] = (try first.contiguous(), try entry["second"]?.tensor?.contiguous(), step)
        }
        state = restored
    }
}
