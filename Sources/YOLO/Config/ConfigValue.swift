/// A value of the parameter file: what a `name = value` line evaluates to.
public indirect enum ConfigValue: Equatable, CustomStringConvertible, Sendable {
    case int(Int)
    case double(Double)
    case bool(Bool)
    case string(String)
    case list([ConfigValue])
    case none

    public var description: String {
        switch self {
        case .int(let v): return String(v)
        case .double(let v): return v == v.rounded() && abs(v) < 1e15 && abs(v) >= 1e-3 ? String(format: "%.1f", v) : "\(v)"
        case .bool(let v): return v ? "True" : "False"
        case .string(let v): return "'\(v)'"
        case .list(let items): return "[" + items.map(\.description).joined(separator: ", ") + "]"
        case .none: return "None"
        }
    }

    var typeName: String {
        switch self {
        case .int: return "an integer"
        case .double: return "a number"
        case .bool: return "True or False"
        case .string: return "a string"
        case .list: return "a list"
        case .none: return "None"
        }
    }

    var number: Double? {
        switch self {
        case .int(let v): return Double(v)
        case .double(let v): return v
        default: return nil
        }
    }
}

import Foundation
