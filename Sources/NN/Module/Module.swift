import TensorCore

/// The base of every layer and model: named parameters, buffers and children in a stable order,
/// train/eval mode, freezing by name prefix, and the state dict (PyTorch's names and order: a
/// module's own parameters, then its buffers, then each child's).
open class Module {
    public private(set) var isTraining = true
    private(set) var ownParameters: [(String, Parameter)] = []
    private(set) var children: [(String, Module)] = []

    public init() {}

    /// Registers a child under a name; returns it so layers can be declared in one line.
    @discardableResult
    public func register<M: Module>(_ name: String, _ child: M) -> M {
        children.append((name, child))
        return child
    }

    /// Registers a parameter or buffer the layer created (and keeps a handle to).
    public func register(_ name: String, parameter: Parameter) {
        ownParameters.append((name, parameter))
    }

    /// Every parameter and buffer with its dotted name, in state-dict order.
    public func namedTensors(prefix: String = "") -> [(String, Parameter)] {
        var out: [(String, Parameter)] = []
        for (name, p) in ownParameters where !p.isBuffer { out.append((prefix + name, p)) }
        for (name, p) in ownParameters where p.isBuffer { out.append((prefix + name, p)) }
        for (name, child) in children { out += child.namedTensors(prefix: prefix + name + ".") }
        return out
    }

    /// Trainable parameters (not buffers) with their names.
    public func namedParameters() -> [(String, Parameter)] { namedTensors().filter { !$0.1.isBuffer } }

    public func namedModules(prefix: String = "") -> [(String, Module)] {
        [(prefix.isEmpty ? "" : String(prefix.dropLast()), self)]
            + children.flatMap { $0.1.namedModules(prefix: prefix + $0.0 + ".") }
    }

    public var parameterCount: Int { namedParameters().map { $0.1.value.count }.reduce(0, +) }

    /// Train mode: batch statistics in BatchNorm; eval mode: running statistics.
    public func train(_ on: Bool = true) {
        isTraining = on
        for (_, child) in children { child.train(on) }
    }

    public func eval() { train(false) }

    /// Stops (or restarts) gradients for every parameter whose name starts with prefix, e.g.
    /// "backbone." for the frozen phase. Buffers are unaffected: BN statistics keep updating.
    public func setRequiresGrad(_ on: Bool, prefix: String = "") {
        for (name, p) in namedTensors() where name.hasPrefix(prefix) && !p.isBuffer { p.requiresGrad = on }
    }

    /// Clears the gradients of all parameters.
    public func zeroGrad() {
        for (_, p) in namedParameters() { p.value.grad = nil }
    }

    /// Moves every parameter and buffer to a device (gradients are dropped).
    public func to(device: Device) throws {
        for (_, p) in namedTensors() where p.value.device != device {
            let trainable = p.requiresGrad
            p.value = try p.value.detach().to(device: device)
            p.value.requiresGrad = trainable
        }
    }

    /// The forward pass of single-input modules.
    open func forward(_ x: Tensor) throws -> Tensor {
        throw TensorError("\(type(of: self)) has no single-input forward")
    }

    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        let y = try forward(x)
        if let observer = Module.observer { observer(self, y) }
        return y
    }

    /// Called after every module's forward with its output (used by `summary` to record shapes).
    nonisolated(unsafe) public static var observer: ((Module, Tensor) -> Void)?
}

/// Children applied in order, named "0", "1", ...
public final class Sequential: Module {
    public let layers: [Module]

    public init(_ layers: [Module]) {
        self.layers = layers
        super.init()
        for (i, layer) in layers.enumerated() { register(String(i), layer) }
    }

    public override func forward(_ x: Tensor) throws -> Tensor {
        try layers.reduce(x) { try $1($0) }
    }
}
