extension Tensor {
    /// Reverse-mode differentiation from this tensor. A scalar output needs no gradient
    /// argument; otherwise pass the gradient of the final result with respect to this tensor.
    /// Leaves accumulate into `grad`; the graph is freed afterwards. `leafReady` is called for each
    /// leaf as soon as its gradient is final (every operation that used it has been differentiated),
    /// while the rest of backward still runs: DDP starts reducing gradients there.
    public func backward(_ gradient: Tensor? = nil, leafReady: ((Tensor) throws -> Void)? = nil) throws {
        guard requiresGrad else {
            throw TensorError("backward: this tensor does not require grad "
                              + "(no input of the operations that made it had requiresGrad set)")
        }
        let seed: Tensor
        if let gradient {
            guard gradient.shape == shape else {
                throw TensorError("backward: gradient of shape \(describe(gradient.shape)) "
                                  + "does not match the tensor's shape \(describe(shape))")
            }
            seed = gradient
        } else {
            guard count == 1 else {
                throw TensorError("backward: a gradient argument is needed for a non-scalar tensor "
                                  + "of shape \(describe(shape))")
            }
            seed = try Tensor.ones(shape, device: device)
        }
        guard let root = gradNode else {
            // A leaf that requires grad: its own gradient is the seed.
            grad = try grad.map { try $0 + seed } ?? seed.clone()
            try leafReady?(self)
            return
        }
        let order = try Tensor.topologicalOrder(from: root)
        var grads: [ObjectIdentifier: Tensor] = [ObjectIdentifier(root): seed]
        try withNoGrad {
            for vertex in order {
                guard let g = grads.removeValue(forKey: vertex.id) else { continue }
                guard case .node(let node, _) = vertex else {
                    guard case .leaf(let tensor) = vertex else { continue }
                    // A fresh copy: the same gradient tensor may reach several leaves, and optimizers update in place.
                    tensor.grad = try tensor.grad.map { try $0 + g } ?? g.clone()
                    // Reverse post-order is topological: every consumer of this leaf came before it.
                    try leafReady?(tensor)
                    continue
                }
                guard let rule = node.rule else {
                    throw TensorError("backward: the graph through '\(node.name)' was already freed by an earlier backward()")
                }
                let inputGrads = try rule(g)
                for (edge, inputGrad) in zip(node.inputs, inputGrads) {
                    guard let inputGrad, let target = GraphVertex(edge) else { continue }
                    guard inputGrad.shape == target.shape else {
                        throw TensorError("backward: '\(node.name)' produced a gradient of shape "
                                          + "\(describe(inputGrad.shape)) for an input of shape \(describe(target.shape))")
                    }
                    grads[target.id] = try grads[target.id].map { try $0 + inputGrad } ?? inputGrad
                }
                // What the rule saved goes now, not after the whole walk: the step's peak is then
                // the saved activations or the gradients, not both.
                node.free()
            }
        }
        // Operations no gradient reached (their rules never ran) hold their saved tensors still.
        for vertex in order { if case .node(let node, _) = vertex { node.free() } }
    }

    /// Operations and leaves reachable from `root`, consumers before what they consumed.
    private static func topologicalOrder(from root: GradNode) throws -> [GraphVertex] {
        var visited = Set<ObjectIdentifier>()
        var postOrder: [GraphVertex] = []
        var stack: [(GraphVertex, Bool)] = [(.node(root, shape: []), false)]
        while let (vertex, expanded) = stack.popLast() {
            if expanded { postOrder.append(vertex); continue }
            if visited.contains(vertex.id) { continue }
            visited.insert(vertex.id)
            stack.append((vertex, true))
            if case .node(let node, _) = vertex {
                if node.rule == nil {
                    throw TensorError("backward: the graph through '\(node.name)' was already freed by an earlier backward()")
                }
                for edge in node.inputs {
                    if let input = GraphVertex(edge), !visited.contains(input.id) { stack.append((input, false)) }
                }
            }
        }
        return postOrder.reversed()
    }
}

/// A point of the backward walk: an operation (with the shape of its result), or a leaf tensor.
private enum GraphVertex {
    case node(GradNode, shape: [Int])
    case leaf(Tensor)

    init?(_ edge: GradEdge) {
        switch edge {
        case .leaf(let t) where t.requiresGrad: self = .leaf(t)
        case .node(let n, let shape): self = .node(n, shape: shape)
        default: return nil
        }
    }

    var id: ObjectIdentifier {
        switch self {
        case .node(let n, _): return ObjectIdentifier(n)
        case .leaf(let t): return ObjectIdentifier(t)
        }
    }

    var shape: [Int] {
        switch self {
        case .node(_, let shape): return shape
        case .leaf(let t): return t.shape
        }
    }
}
