import Foundation

/// Mixed precision's scope, as PyTorch's autocast: inside `Autocast.with(.bfloat16) { ... }` the
/// operations on the lower-precision list (convolutions) compute their products in that 16-bit type
/// with float32 accumulation, and everything else (batch norm and its statistics, reductions,
/// exp/log, the loss, the optimizer) stays float32. Tensors stay float32 between operations, so
/// there is no cast between a convolution and its batch norm and activation: on the CPU the
/// conversion to bfloat16 happens inside the layout reorders oneDNN needs anyway. Backward passes
/// use the type their forward ran in. Matmuls are not on the list yet (the detectors have none).
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
