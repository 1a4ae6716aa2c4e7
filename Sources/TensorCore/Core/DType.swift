import CKernels

/// Element types a tensor can hold. Arithmetic runs in float32 and the integer types; float16 and
/// bfloat16 are storage formats (convert with `to(.float32)`; conversion rounds to nearest even)
/// and the types mixed precision computes convolutions in; bool holds masks.
public enum DType: String, CaseIterable, CustomStringConvertible, Sendable {
    case float32, float16, int32, int64, uint8, bool, bfloat16

    public var byteSize: Int {
        switch self {
        case .float32, .int32: return 4
        case .float16, .bfloat16: return 2
        case .int64: return 8
        case .uint8, .bool: return 1
        }
    }

    public var isFloatingPoint: Bool { self == .float32 || self == .float16 || self == .bfloat16 }

    /// The common type of two operands: the type itself when they agree, float32 for floating-point
    /// types of different widths, nil otherwise (no implicit conversion between numbers and masks).
    static func promoted(_ a: DType, _ b: DType) -> DType? {
        a == b ? a : a.isFloatingPoint && b.isFloatingPoint ? .float32 : nil
    }
    public var description: String { rawValue }

    var kernelType: ck_dtype {
        switch self {
        case .float32: return CK_F32
        case .float16: return CK_F16
        case .int32: return CK_I32
        case .int64: return CK_I64
        case .uint8: return CK_U8
        case .bool: return CK_BOOL
        case .bfloat16: return CK_BF16
        }
    }
}
