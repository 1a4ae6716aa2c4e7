import TensorCore

/// The outcome of loading weights into a module: which keys matched (same name and shape) and
/// which did not, as the reference prints them.
public struct LoadReport {
    public var loaded: [String] = []
    /// Keys in the file whose name is not in the model, or whose shape differs.
    public var skipped: [(key: String, reason: String)] = []
    /// Model keys the file did not provide (they keep their initial values).
    public var missing: [String] = []
}

extension Module {
    /// Copies every tensor whose name exists in the module with the same shape (converting dtype,
    /// e.g. float16 copies); reports the rest. `prefix` is prepended to the file's keys (a
    /// backbone-only file loads with prefix "backbone.").
    @discardableResult
    public func load(stateDict: [(String, Tensor)], prefix: String = "") throws -> LoadReport {
        let own = Dictionary(uniqueKeysWithValues: namedTensors().map { ($0.0, $0.1) })
        var report = LoadReport()
        var provided = Set<String>()
        try withNoGrad {
            for (rawKey, tensor) in stateDict {
                let key = prefix + (rawKey.hasPrefix("module.") ? String(rawKey.dropFirst(7)) : rawKey)
                guard let slot = own[key] else { report.skipped.append((rawKey, "not in the model")); continue }
                guard slot.value.shape == tensor.shape else {
                    report.skipped.append((rawKey, "shape \(tensor.shape) in the file, \(slot.value.shape) in the model"))
                    continue
                }
                try slot.value.copy_(from: tensor.to(device: slot.value.device).to(slot.value.dtype))
                report.loaded.append(key)
                provided.insert(key)
            }
        }
        report.missing = namedTensors().map(\.0).filter { !provided.contains($0) }
        return report
    }

    /// The module's tensors for saving (parameters and buffers, state-dict order, no prefix).
    public func stateDict() -> [(String, Tensor)] { namedTensors().map { ($0.0, $0.1.value.detach()) } }
}
