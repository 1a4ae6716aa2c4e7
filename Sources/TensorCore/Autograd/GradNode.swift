/// Where one input of a recorded operation sends its gradient. The graph keeps the operation that
/// made a non-leaf input, never the input tensor itself: an intermediate result's memory goes as
/// soon as no backward rule saved it (a rule that needs a rounded or smaller copy keeps only that).
enum GradEdge {
    /// A tensor the user made (parameters, inputs): its `grad` receives the gradient.
    case leaf(Tensor)
    /// The result of a recorded operation, by that operation, with the result's shape.
    case node(GradNode, shape: [Int])
    /// An input that needs no gradient.
    case none

    init(_ input: Tensor) {
        if !input.requiresGrad { self = .none }
        else if let node = input.gradNode { self = .node(node, shape: input.shape) }
        else { self = .leaf(input) }
    }
}

/// One recorded operation: where its inputs' gradients go, and the rule turning the gradient of
/// its output into gradients of those inputs (a vector-Jacobian product written with other tensor
/// operations, so every backend shares it).
final class GradNode {
    let name: String
    var inputs: [GradEdge]
    var rule: ((Tensor) throws -> [Tensor?])?

    init(name: String, inputs: [Tensor], rule: @escaping (Tensor) throws -> [Tensor?]) {
        self.name = name
        self.inputs = inputs.map(GradEdge.init)
        self.rule = rule
    }

    /// Drops saved tensors and the rule once backward has used them.
    func free() {
        inputs = []
        rule = nil
    }
}

extension Tensor {
    /// Attaches a backward rule to `output` when autograd is on and an input needs gradients.
    /// The rule returns one gradient (or nil) per input, in order.
    @discardableResult
    static func record(_ name: String, _ output: Tensor, inputs: [Tensor],
                       rule: @escaping (Tensor) throws -> [Tensor?]) -> Tensor {
        assert(!inputs.contains { $0 === output }, "\(name) recorded its own input as output")
        guard GradMode.isEnabled, inputs.contains(where: { $0.requiresGrad }) else { return output }
        output._requiresGrad = true
        output.gradNode = GradNode(name: name, inputs: inputs, rule: rule)
        return output
    }
}

extension Tensor {
    /// An operation computed outside the core (a collective across processes, say): `output` was
    /// made from `inputs` by the caller, and `backward` turns the gradient of `output` into one
    /// gradient (or nil) per input. Recorded like any built-in operation.
    @discardableResult
    public static func differentiable(_ name: String, output: Tensor, inputs: [Tensor],
                                      backward: @escaping (Tensor) throws -> [Tensor?]) -> Tensor {
        record(name, output, inputs: inputs, rule: backward)
    }
}
