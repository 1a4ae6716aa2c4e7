import TensorCore

/// Sums over every replica of a data-parallel job, for batch statistics over the global batch
/// (PyTorch's SyncBatchNorm). Every replica calls it in the same order.
public protocol ReplicaSum: AnyObject {
    /// The element-wise sum of `t` over the replicas; differentiable: its gradient is the sum of the
    /// replicas' gradients (the adjoint of a sum that every replica receives). `tag` names the call
    /// (the same on every replica): replicas that reach their sums in different orders are an error,
    /// not a silent mix of two layers' statistics.
    func sumOverReplicas(_ t: Tensor, tag: Int) throws -> Tensor
    /// A plain number summed over the replicas (counts).
    func sumOverReplicas(_ value: Double) throws -> Double
}

extension BatchNorm2d {
    /// Training-mode batch norm whose mean and variance are those of every replica's batch together:
    /// mean = sum(x) / N and var = sum((x - mean)^2) / N with the sums and N over the replicas, then
    /// the usual normalisation; the backward follows from the recorded operations (the gradients of
    /// the statistics are summed over the replicas by `ReplicaSum`'s adjoint).
    func synchronisedForward(_ x: Tensor, sum replicas: ReplicaSum) throws -> Tensor {
        guard x.rank == 4, x.shape[1] == channels else {
            throw TensorError("sync batch_norm: input of shape \(x.shape) for \(channels) channels")
        }
        let local = Double(x.shape[0] * x.shape[2] * x.shape[3])
        let total = try replicas.sumOverReplicas(local)
        guard total > 1 else {
            throw TensorError("sync batch_norm: training needs more than one value per channel over all replicas, found \(Int(total))")
        }
        let perChannel = [1, channels, 1, 1]
        let mean = try replicas.sumOverReplicas(x.sum(axes: [0, 2, 3]), tag: 2 * replicaTag) / Float(total)
        let centred = try x - mean.reshape(perChannel)
        let variance = try replicas.sumOverReplicas(centred.square().sum(axes: [0, 2, 3]), tag: 2 * replicaTag + 1) / Float(total)
        let scale = try (variance + epsilon).sqrt().reciprocal() * weight.value
        let y = try centred * scale.reshape(perChannel) + bias.value.reshape(perChannel)
        try withNoGrad {
            let unbiased = try variance * Float(total / (total - 1))
            try runningMean.value.copy_(from: runningMean.value * (1 - momentum) + mean.detach() * momentum)
            try runningVar.value.copy_(from: runningVar.value * (1 - momentum) + unbiased.detach() * momentum)
        }
        return y
    }
}
