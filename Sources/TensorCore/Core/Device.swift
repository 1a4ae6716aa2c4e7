/// Where a tensor's memory lives. Every operation runs on the device of its operands; mixing
/// devices in one operation is an error that names both.
public enum Device: Hashable, CustomStringConvertible, Sendable {
    case cpu
    case cuda(Int)

    public var description: String {
        switch self {
        case .cpu: return "cpu"
        case .cuda(let index): return "cuda:\(index)"
        }
    }

    /// Parses "cpu", "cuda" or "cuda:N".
    public init(parsing text: String) throws {
        let lower = text.lowercased()
        if lower == "cpu" { self = .cpu; return }
        if lower == "cuda" || lower == "gpu" { self = .cuda(0); return }
        if lower.hasPrefix("cuda:"), let index = Int(lower.dropFirst(5)), index >= 0 {
            self = .cuda(index)
            return
        }
        throw TensorError("unknown device '\(text)': expected cpu, cuda or cuda:N")
    }
}
