/// The values a PyTorch checkpoint pickle builds, before tensors are materialised. Lists and
/// dicts are boxes because pickle mutates them after creation (APPENDS, SETITEMS).
indirect enum PickleValue {
    case none
    case bool(Bool)
    case int(Int64)
    case bigInt([UInt8])                 // little-endian two's complement wider than 64 bits
    case float(Double)
    case string(String)
    case bytes([UInt8])
    case tuple([PickleValue])
    case list(ListBox)
    case dict(DictBox)
    case global(module: String, name: String)
    case call(PickleValue, [PickleValue])        // REDUCE / NEWOBJ of something we do not model
    case persistent(PickleValue)                 // a BINPERSID reference (storages)
    case tensor(TensorRecord)
    case mark

    final class ListBox { var items: [PickleValue] = []; init(_ items: [PickleValue] = []) { self.items = items } }
    final class DictBox { var pairs: [(PickleValue, PickleValue)] = []; init() {} }

    var text: String? { if case .string(let s) = self { return s }; return nil }
    var integer: Int64? {
        switch self {
        case .int(let v): return v
        case .bool(let b): return b ? 1 : 0
        default: return nil
        }
    }

    /// A short description for error messages.
    var kind: String {
        switch self {
        case .none: return "None"
        case .bool: return "bool"
        case .int, .bigInt: return "int"
        case .float: return "float"
        case .string: return "str"
        case .bytes: return "bytes"
        case .tuple: return "tuple"
        case .list: return "list"
        case .dict: return "dict"
        case .global(let m, let n): return "\(m).\(n)"
        case .call(let f, _): return "a call of \(f.kind)"
        case .persistent: return "a storage reference"
        case .tensor: return "tensor"
        case .mark: return "mark"
        }
    }
}

/// A tensor described by the pickle: which storage, where in it, and its geometry.
struct TensorRecord {
    var storageKey: String
    var storageType: String      // "FloatStorage", "HalfStorage", ...
    var storageNumel: Int
    var offset: Int
    var shape: [Int]
    var strides: [Int]
}
