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
        let order = try topologicalOrder()
        var grads: [ObjectIdentifier: Tensor] = [ObjectIdentifier(self): seed]
        try withNoGrad {
            for tensor in order {
                guard let g = grads.removeValue(forKey: ObjectIdentifier(tensor)) else { continue }
                guard let node = tensor.gradNode else {
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
                for (input, inputGrad) in zip(node.inputs, inputGrads) {
                    guard input.requiresGrad, let inputGrad else { continue }
                    guard inputGrad.shape == input.shape else {
                        throw TensorError("backward: '\(node.name)' produced a gradient of shape "
                                          + "\(describe(inputGrad.shape)) for an input of shape \(describe(input.shape))")
                    }
                    let key = ObjectIdentifier(input)
                    grads[key] = try grads[key].map { try $0 + inputGrad } ?? inputGrad
                }
            }
        }
        for tensor in order { tensor.gradNode?.free() }
    }

    /// Tensors reachable from self through recorded operations, outputs before inputs.
    private func topologicalOrder() throws -> [Tensor] {
        var visited = Set<ObjectIdentifier>()
        var postOrder: [Tensor] = []
        var stack: [(Tensor, Bool)] = [(self, false)]
        while let (tensor, expanded) = stack.popLast() {
            if expanded { postOrder.append(tensor); continue }
            let id = ObjectIdentifier(tensor)
            if visited.contains(id) { continue }
            visited.insert(id)
            stack.append((tensor, true))
            if let node = tensor.gradNode {
                if node.rule == nil {
                    throw TensorError("backward: the graph through '\(node.name)' was already freed by an earlier backward()")
                }
                for input in node.inputs where input.requiresGrad && !visited.contains(ObjectIdentifier(input)) {
                    stack.append((input, false))
                }
            }
        }
        return postOrder.reversed()
    }
}
