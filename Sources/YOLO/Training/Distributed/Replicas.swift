import Foundation
import NN
import TensorCore

/// DP (`nn.DataParallel`): one process, a replica of the model per device, each step's batch split
/// among them, their outputs gathered on the first device for one loss over the whole batch, and
/// the replicas' gradients summed onto the model's. The first replica is the model itself (so its
/// batch norm running statistics are the ones kept, as DataParallel's); the others get the
/// model's weights, buffers and frozen flags before every forward. Sample i of a batch goes to
/// replica i mod N (DataParallel cuts contiguous chunks; interleaving makes each replica's images
/// those of the same rank in DDP, which the tests use).
final class Replicas: StepExtension {
    let model: Detector
    /// The other replicas, each on its device.
    let copies: [(replica: Detector, device: Device)]
    let devices: [Device]

    init(model: Detector, copies: [(Detector, Device)], modelDevice: Device) {
        self.model = model
        self.copies = copies.map { (replica: $0.0, device: $0.1) }
        devices = [modelDevice] + copies.map(\.1)
    }

    var count: Int { devices.count }

    /// The outputs of the whole batch, computed a share per replica and put back in batch order on
    /// the model's device (every step recorded, so backward reaches each replica's parameters).
    func outputs(_ images: Tensor) throws -> [Tensor] {
        let n = images.shape[0]
        guard n >= count else {
            throw YOLOError("DP: a batch of \(n) image(s) for \(count) replicas; each replica needs at least one (lower dp_replicas "
                            + "or raise the batch size)")
        }
        try synchroniseCopies()
        let shares = (0..<count).map { r in Array(stride(from: r, to: n, by: count)) }
        var perReplica: [[Tensor]] = []
        for (r, share) in shares.enumerated() {
            let index = try Tensor(int64: share.map(Int64.init), device: images.device)
            let part = try images.indexSelect(axis: 0, index: index).to(device: devices[r])
            let module = r == 0 ? model : copies[r - 1].replica
            perReplica.append(try module.outputs(part).map { try $0.to(device: devices[0]) })
        }
        // Gathered in replica order, then each image back to its place in the batch.
        let gatheredOrder = shares.flatMap { $0 }
        var inverse = [Int64](repeating: 0, count: n)
        for (position, image) in gatheredOrder.enumerated() { inverse[image] = Int64(position) }
        let back = try Tensor(int64: inverse, device: devices[0])
        return try (0..<perReplica[0].count).map { layer in
            try Tensor.concat(perReplica.map { $0[layer] }, axis: 0).indexSelect(axis: 0, index: back)
        }
    }

    /// The model's weights, buffers, frozen flags and mode in every copy; their old gradients dropped.
    private func synchroniseCopies() throws {
        let source = model.namedTensors()
        for (replica, device) in copies {
            try withNoGrad {
                for ((_, from), (_, to)) in zip(source, replica.namedTensors()) {
                    _ = try to.value.copy_(from: try from.value.to(device: device))
                    if !from.isBuffer { to.requiresGrad = from.requiresGrad }
                    to.value.grad = nil
                }
            }
            replica.train(model.isTraining)
        }
    }

    /// The copies' gradients added to the model's, before anything reads them.
    func processGradients(_ parameters: [(String, Parameter)], context: TrainingContext) throws -> Bool {
        let targets = model.namedTensors().filter { !$0.1.isBuffer }
        try withNoGrad {
            for (replica, _) in copies {
                for ((_, mine), (_, theirs)) in zip(targets, replica.namedTensors().filter { !$0.1.isBuffer }) {
                    guard let g = theirs.value.grad else { continue }
                    let onModel = try g.to(device: devices[0])
                    mine.value.grad = try mine.value.grad.map { try $0 + onModel } ?? onModel
                }
            }
        }
        return true
    }
}
