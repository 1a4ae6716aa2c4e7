/// PyTorch-like printing: values with 4 decimals, long dimensions summarised with "...".
extension Tensor: CustomStringConvertible {
    public var description: String {
        guard let values = try? toArray() else { return "tensor(<unreadable>, shape=\(describe(shape)))" }
        let body: String
        if rank == 0 {
            body = format(values.first ?? 0)
        } else {
            body = render(values, axis: 0, offset: 0, indent: 7)
        }
        var suffix = ", shape=\(describe(shape))"
        if dtype != .float32 { suffix += ", dtype=\(dtype)" }
        if device != .cpu { suffix += ", device=\(device)" }
        if requiresGrad { suffix += ", requiresGrad=true" }
        return "tensor(\(body)\(suffix))"
    }

    private func format(_ v: Float) -> String {
        switch dtype {
        case .bool: return v != 0 ? "true" : "false"
        case .int32, .int64, .uint8: return String(Int64(v))
        default:
            if v.isNaN { return "nan" }
            if v.isInfinite { return v > 0 ? "inf" : "-inf" }
            let magnitude = Swift.abs(v)
            if magnitude != 0 && (magnitude >= 1e6 || magnitude < 1e-4) { return String(format: "%.4e", Double(v)) }
            return String(format: "%.4f", Double(v))
        }
    }

    private func render(_ values: [Float], axis: Int, offset: Int, indent: Int) -> String {
        let size = shape[axis]
        let step = shape[(axis + 1)...].reduce(1, *)
        let edge = 3
        let indices: [Int?] = size > 2 * edge ? Array(0..<edge) + [nil] + Array((size - edge)..<size) : Array(0..<size)
        if axis == rank - 1 {
            let items = indices.map { $0.map { format(values[offset + $0]) } ?? "..." }
            return "[" + items.joined(separator: ", ") + "]"
        }
        let separator = ",\n" + String(repeating: " ", count: indent + axis + 1)
        let items = indices.map { i in
            i.map { render(values, axis: axis + 1, offset: offset + $0 * step, indent: indent) } ?? "..."
        }
        return "[" + items.joined(separator: separator) + "]"
    }
}

import Foundation
