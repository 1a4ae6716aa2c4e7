import TensorCore

/// What a `.pth` file holds, as our side sees it: tensors, numbers, strings, lists and ordered
/// dictionaries (a state dict, or a checkpoint dict with a state dict inside and extra entries).
public indirect enum CheckpointValue {
    case tensor(Tensor)
    case int(Int)
    case double(Double)
    case string(String)
    case bool(Bool)
    case none
    case list([CheckpointValue])
    case dict([(String, CheckpointValue)])

    public subscript(key: String) -> CheckpointValue? {
        guard case .dict(let pairs) = self else { return nil }
        return pairs.first { $0.0 == key }?.1
    }

    public var tensor: Tensor? { if case .tensor(let t) = self { return t }; return nil }
    public var intValue: Int? { if case .int(let v) = self { return v }; return nil }
    public var doubleValue: Double? {
        switch self {
        case .double(let v): return v
        case .int(let v): return Double(v)
        default: return nil
        }
    }
    public var stringValue: String? { if case .string(let v) = self { return v }; return nil }

    /// The tensors of a flat dict (a state dict), in order.
    public var tensors: [(String, Tensor)] {
        guard case .dict(let pairs) = self else { return [] }
        return pairs.compactMap { key, value in value.tensor.map { (key, $0) } }
    }

    /// The state dict inside: the value itself when its entries are tensors, else the first
    /// entry ("model", "state_dict", "model_state_dict") that is one.
    public var stateDict: [(String, Tensor)]? {
        guard case .dict(let pairs) = self else { return nil }
        if !pairs.isEmpty && pairs.allSatisfy({ $0.1.tensor != nil }) { return tensors }
        for key in ["model", "state_dict", "model_state_dict", "net"] {
            if let inner = self[key]?.stateDict { return inner }
        }
        return nil
    }
}
