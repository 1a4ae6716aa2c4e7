import Foundation

/// Mixed precision's scope, as PyTorch's autocast: inside `Autocast.with(.bfloat16) { ... }` the
/// operations on the lower-precision list (convolutions) compute their products in that 16-bit type
/// with float32 accumulation, and everything else (batch norm statistics, reductions, exp/log, the
/// loss, the optimizer) computes in float32; operands of mixed types promote to the wider. Where a
/// backend passes the 16-bit type directly (`Backend.directOperandTypes`), a conv-BN-activation
/// chain hands 16-bit tensors from unit to unit (see `Tensor.conv2d(lowPrecisionOutput:)` and
/// `batchNormActivation`); elsewhere tensors stay float32 between operations and the conversion
/// happens inside the convolution. Backward passes use the type their forward ran in; gradients
/// are float32. Matmuls are not on the list yet (the detectors have none).
public enum Autocast {
    nonisolated(unsafe) private static var active: DType?

    /// The type convolutions compute in now (nil outside a scope).
    public static var computeType: DType? { active }

    public static func with<T>(_ type: DType?, _ body: () throws -> T) rethrows -> T {
        precondition(type == nil || type == .bfloat16 || type == .float16, "autocast types are bfloat16 and float16")
        let saved = active
        active = type
        defer { active = saved }
        return try body()
    }

    /// The 16-bit types a device computes `op` in natively.
    public static func nativeTypes(_ op: AutocastOp, on device: Device) -> [DType] {
        (try? Backends.backend(for: device))?.nativeComputeTypes(op) ?? []
    }
}
