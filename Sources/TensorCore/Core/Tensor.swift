/// An n-dimensional array on a device, with reverse-mode autograd.
///
/// A tensor is a view (offset, shape, strides in elements) over a `Storage`. Views made by
/// reshape, permute, narrow or expand share the storage; `contiguous()` copies when needed.
/// Operations throw `TensorError` with the shapes involved when their inputs do not fit.
public final class Tensor: @unchecked Sendable {
    public let storage: Storage
    public let shape: [Int]
    public let strides: [Int]
    public let offset: Int
    public let dtype: DType

    /// Set on leaves (parameters) to have `backward()` fill `grad`.
    public var requiresGrad: Bool {
        get { _requiresGrad }
        set { _requiresGrad = newValue && dtype.isFloatingPoint }
    }
    var _requiresGrad = false
    /// Accumulated gradient of a leaf after `backward()`; add-up across calls until cleared.
    public var grad: Tensor?
    /// The operation that produced this tensor, while its graph is alive.
    var gradNode: GradNode?

    public var device: Device { storage.device }
    public var backend: Backend { storage.backend }
    public var rank: Int { shape.count }
    public var count: Int { Shape.count(shape) }
    public var isLeaf: Bool { gradNode == nil }

    public var isContiguous: Bool {
        var expected = 1
        for axis in stride(from: shape.count - 1, through: 0, by: -1) where shape[axis] != 1 {
            if strides[axis] != expected { return false }
            expected *= shape[axis]
        }
        return true
    }

    init(storage: Storage, shape: [Int], strides: [Int], offset: Int, dtype: DType) {
        self.storage = storage
        self.shape = shape
        self.strides = strides
        self.offset = offset
        self.dtype = dtype
    }

    /// Uninitialised contiguous memory.
    public static func empty(_ shape: [Int], dtype: DType = .float32, device: Device = .cpu) throws -> Tensor {
        if let bad = shape.first(where: { $0 < 0 }) {
            throw TensorError("empty: negative dimension \(bad) in shape \(describe(shape))")
        }
        let backend = try Backends.backend(for: device)
        let storage = try Storage(byteCount: Shape.count(shape) * dtype.byteSize, backend: backend)
        return Tensor(storage: storage, shape: shape, strides: Shape.contiguousStrides(shape), offset: 0, dtype: dtype)
    }

    /// A new contiguous tensor with this tensor's device.
    func emptyLike(_ shape: [Int]? = nil, dtype: DType? = nil) throws -> Tensor {
        try Tensor.empty(shape ?? self.shape, dtype: dtype ?? self.dtype, device: device)
    }

    /// Another view of the same storage.
    func view(shape: [Int], strides: [Int], offset: Int) -> Tensor {
        Tensor(storage: storage, shape: shape, strides: strides, offset: offset, dtype: dtype)
    }

    /// Pointer to element 0 of this view (CPU backends and kernels only).
    var rawPointer: UnsafeMutableRawPointer { storage.pointer + offset * dtype.byteSize }

    /// Address of element 0 for a backend outside this module: host memory on the CPU, a device
    /// address (never dereferenced on the host) on a GPU.
    public var dataAddress: UnsafeMutableRawPointer { rawPointer }

    /// The same values, cut from the graph.
    public func detach() -> Tensor { view(shape: shape, strides: strides, offset: offset) }
}

// MARK: - Creation

extension Tensor {
    private static func fromHost<T>(_ values: [T], shape: [Int]?, dtype: DType, device: Device) throws -> Tensor {
        let shape = shape ?? [values.count]
        guard Shape.count(shape) == values.count else {
            throw TensorError("tensor: \(values.count) values do not fill shape \(describe(shape)) "
                              + "(\(Shape.count(shape)) elements)")
        }
        let t = try Tensor.empty(shape, dtype: dtype, device: device)
        try values.withUnsafeBytes { bytes in
            if let base = bytes.baseAddress {
                try t.backend.copyFromHost(base, to: t.storage, byteOffset: 0, byteCount: bytes.count)
            }
        }
        return t
    }

    public convenience init(_ values: [Float], shape: [Int]? = nil, device: Device = .cpu) throws {
        let t = try Tensor.fromHost(values, shape: shape, dtype: .float32, device: device)
        self.init(storage: t.storage, shape: t.shape, strides: t.strides, offset: 0, dtype: .float32)
    }

    public convenience init(float16 values: [Float16], shape: [Int]? = nil, device: Device = .cpu) throws {
        let t = try Tensor.fromHost(values, shape: shape, dtype: .float16, device: device)
        self.init(storage: t.storage, shape: t.shape, strides: t.strides, offset: 0, dtype: .float16)
    }

    public convenience init(int32 values: [Int32], shape: [Int]? = nil, device: Device = .cpu) throws {
        let t = try Tensor.fromHost(values, shape: shape, dtype: .int32, device: device)
        self.init(storage: t.storage, shape: t.shape, strides: t.strides, offset: 0, dtype: .int32)
    }

    public convenience init(int64 values: [Int64], shape: [Int]? = nil, device: Device = .cpu) throws {
        let t = try Tensor.fromHost(values, shape: shape, dtype: .int64, device: device)
        self.init(storage: t.storage, shape: t.shape, strides: t.strides, offset: 0, dtype: .int64)
    }

    public convenience init(uint8 values: [UInt8], shape: [Int]? = nil, device: Device = .cpu) throws {
        let t = try Tensor.fromHost(values, shape: shape, dtype: .uint8, device: device)
        self.init(storage: t.storage, shape: t.shape, strides: t.strides, offset: 0, dtype: .uint8)
    }

    public convenience init(bool values: [Bool], shape: [Int]? = nil, device: Device = .cpu) throws {
        let bytes = values.map { UInt8($0 ? 1 : 0) }
        let t = try Tensor.fromHost(bytes, shape: shape, dtype: .bool, device: device)
        self.init(storage: t.storage, shape: t.shape, strides: t.strides, offset: 0, dtype: .bool)
    }

    /// A rank-0 tensor.
    public convenience init(scalar value: Float, device: Device = .cpu) throws {
        try self.init([value], shape: [], device: device)
    }

    public static func full(_ shape: [Int], _ value: Double, dtype: DType = .float32, device: Device = .cpu) throws -> Tensor {
        let t = try Tensor.empty(shape, dtype: dtype, device: device)
        try t.backend.fill(t, with: value)
        return t
    }

    public static func zeros(_ shape: [Int], dtype: DType = .float32, device: Device = .cpu) throws -> Tensor {
        try full(shape, 0, dtype: dtype, device: device)
    }

    public static func ones(_ shape: [Int], dtype: DType = .float32, device: Device = .cpu) throws -> Tensor {
        try full(shape, 1, dtype: dtype, device: device)
    }

    /// 0, 1, ..., count-1.
    public static func arange(_ count: Int, dtype: DType = .int64, device: Device = .cpu) throws -> Tensor {
        let values = (0..<Swift.max(count, 0)).map { Int64($0) }
        let t = try Tensor(int64: values, shape: [values.count], device: device)
        return dtype == .int64 ? t : try t.to(dtype)
    }

    public static func uniform(_ shape: [Int], low: Float = 0, high: Float = 1, generator: RandomGenerator,
                               device: Device = .cpu) throws -> Tensor {
        try Tensor(generator.uniform(count: Shape.count(shape), low: low, high: high), shape: shape, device: device)
    }

    public static func normal(_ shape: [Int], mean: Float = 0, std: Float = 1, generator: RandomGenerator,
                              device: Device = .cpu) throws -> Tensor {
        try Tensor(generator.normal(count: Shape.count(shape), mean: mean, std: std), shape: shape, device: device)
    }
}

// MARK: - Export

extension Tensor {
    /// Contiguous bytes of this view on the host.
    private func hostBytes<T>(as type: T.Type, dtype wanted: DType) throws -> [T] {
        let source = dtype == wanted ? self : try self.to(wanted)
        let dense = try source.contiguous()
        var result = [T](unsafeUninitializedCapacity: dense.count) { _, n in n = dense.count }
        try result.withUnsafeMutableBytes { bytes in
            if let base = bytes.baseAddress, bytes.count > 0 {
                try dense.backend.copyToHost(dense.storage, byteOffset: dense.offset * wanted.byteSize,
                                             byteCount: bytes.count, into: base)
            }
        }
        return result
    }

    /// Values converted to Float, in row-major order.
    public func toArray() throws -> [Float] { try hostBytes(as: Float.self, dtype: .float32) }
    public func toInt64Array() throws -> [Int64] { try hostBytes(as: Int64.self, dtype: .int64) }
    public func toInt32Array() throws -> [Int32] { try hostBytes(as: Int32.self, dtype: .int32) }
    public func toUInt8Array() throws -> [UInt8] { try hostBytes(as: UInt8.self, dtype: .uint8) }
    public func toFloat16Array() throws -> [Float16] { try hostBytes(as: Float16.self, dtype: .float16) }
    public func toBoolArray() throws -> [Bool] { try hostBytes(as: UInt8.self, dtype: .bool).map { $0 != 0 } }

    /// The single value of a one-element tensor.
    public func item() throws -> Float {
        guard count == 1 else {
            throw TensorError("item: tensor of shape \(describe(shape)) has \(count) elements, expected 1")
        }
        return try toArray()[0]
    }
}

extension Tensor {
    /// A float32 CPU tensor whose values `fill` writes directly (no intermediate array): for
    /// loaders that assemble batches in place.
    public static func fromHost(shape: [Int], fill: (UnsafeMutableBufferPointer<Float>) throws -> Void) throws -> Tensor {
        let t = try Tensor.empty(shape, dtype: .float32, device: .cpu)
        try fill(UnsafeMutableBufferPointer(start: t.mutableFloats, count: t.count))
        return t
    }
}
