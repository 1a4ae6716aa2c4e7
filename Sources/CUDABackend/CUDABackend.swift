import CCUDA
import Foundation
import TensorCore

/// The GPU backend of one device: cuDNN for convolution and batch norm, cuBLAS for matmul, and
/// the NVRTC-compiled kernels of `KernelSource` for the rest, all on one stream per device.
/// Every result equals the CPU backend's up to float rounding (the tests compare them).
final class CUDABackend: Backend, @unchecked Sendable {
    let device: Device
    let name: String
    private let context: UnsafeMutableRawPointer
    private let stream: UnsafeMutableRawPointer
    private let blas: UnsafeMutableRawPointer
    private let dnn: UnsafeMutableRawPointer
    private let allocator: DeviceAllocator
    private let architecture: String
    private var functions: [String: UnsafeMutableRawPointer] = [:]
    private var algorithms: [AlgorithmKey: (algorithm: Int32, workspace: Int)] = [:]
    private var workspace: (pointer: ccu_ptr, bytes: Int) = (0, 0)
    private var staging: (pointer: UnsafeMutableRawPointer?, bytes: Int, inFlight: Bool) = (nil, 0, false)
    private let lock = NSRecursiveLock()

    struct AlgorithmKey: Hashable { var parameters: Conv2dParameters; var pass: UInt32 }

    init(index: Int) throws {
        device = .cuda(index)
        var ctx: UnsafeMutableRawPointer?
        try Self.check(ccu_use_device(Int32(index), &ctx))
        context = ctx!
        var buffer = [CChar](repeating: 0, count: 256)
        _ = ccu_device_name(Int32(index), &buffer, 256)
        name = String(cString: buffer)
        var major: Int32 = 0, minor: Int32 = 0
        try Self.check(ccu_compute_capability(Int32(index), &major, &minor))
        architecture = "compute_\(major)\(minor)"
        var s: UnsafeMutableRawPointer?, b: UnsafeMutableRawPointer?, d: UnsafeMutableRawPointer?
        try Self.check(ccu_stream_create(&s))
        stream = s!
        try Self.check(ccu_blas_create(&b, stream))
        blas = b!
        try Self.check(ccu_dnn_create(&d, stream))
        dnn = d!
        allocator = DeviceAllocator(deviceName: "\(device) (\(name))")
        try loadKernels()
    }

    static func check(_ status: Int32, _ what: @autoclosure () -> String = "") throws {
        guard status != 0 else { return }
        let prefix = what().isEmpty ? "" : what() + ": "
        throw TensorError(prefix + String(cString: ccu_last_error()))
    }

    private func loadKernels() throws {
        let ptx = try KernelCompiler.compile(KernelSource.text, name: "yolo_kernels.cu", architecture: architecture)
        var module: UnsafeMutableRawPointer?
        try Self.check(ptx.withCString { ccu_module_load($0, &module) }, "loading the kernels for \(architecture)")
        for kernel in KernelSource.names {
            var function: UnsafeMutableRawPointer?
            try Self.check(ccu_module_function(module, kernel, &function))
            functions[kernel] = function
        }
    }

    private func current() throws { try Self.check(ccu_set_context(context)) }

    // MARK: Memory

    var peakAllocatedBytes: Int { allocator.peakBytes }
    func resetPeakAllocatedBytes() { allocator.resetPeak() }

    func allocate(byteCount: Int) throws -> UnsafeMutableRawPointer {
        lock.lock(); defer { lock.unlock() }
        try current()
        return UnsafeMutableRawPointer(bitPattern: UInt(try allocator.allocate(byteCount)))!
    }

    func release(_ pointer: UnsafeMutableRawPointer, byteCount: Int) {
        lock.lock(); defer { lock.unlock() }
        allocator.release(address(pointer), bytes: byteCount)
    }

    /// Large uploads (the loader's batches) go through a page-locked staging buffer, which the
    /// copy engine reads asynchronously; the buffer is reused once the stream is past that copy.
    func copyFromHost(_ source: UnsafeRawPointer, to storage: Storage, byteOffset: Int, byteCount: Int) throws {
        lock.lock(); defer { lock.unlock() }
        try current()
        let destination = address(storage.pointer) + ccu_ptr(byteOffset)
        guard byteCount >= 1 << 20 else {
            return try Self.check(ccu_copy_to_device(destination, source, byteCount, stream), "copy to \(device)")
        }
        if staging.inFlight { try Self.check(ccu_stream_synchronize(stream)) }
        if staging.bytes < byteCount {
            if let old = staging.pointer { _ = ccu_host_free(old) }
            var pinned: UnsafeMutableRawPointer?
            try Self.check(ccu_host_alloc(&pinned, byteCount), "page-locked staging buffer")
            staging = (pinned, byteCount, false)
        }
        staging.pointer!.copyMemory(from: source, byteCount: byteCount)
        try Self.check(ccu_copy_to_device(destination, staging.pointer, byteCount, stream), "copy to \(device)")
        staging.inFlight = true
    }

    func copyToHost(_ storage: Storage, byteOffset: Int, byteCount: Int, into destination: UnsafeMutableRawPointer) throws {
        lock.lock(); defer { lock.unlock() }
        try current()
        try Self.check(ccu_copy_to_host(destination, address(storage.pointer) + ccu_ptr(byteOffset), byteCount, stream),
                       "copy from \(device)")
        staging.inFlight = false
    }

    // MARK: Kernel launches

    enum Argument {
        case int32(Int32), int64(Int64), float(Float), double(Double), pointer(UnsafeMutableRawPointer?), layout(ccu_layout)
    }

    /// A 1-D launch of a grid-stride kernel over `count` items.
    func launch(_ kernel: String, count: Int, block: Int = 256, maxBlocks: Int = 1 << 20, _ arguments: [Argument]) throws {
        guard count > 0 else { return }
        lock.lock(); defer { lock.unlock() }
        try current()
        guard let function = functions[kernel] else { throw TensorError("CUDA kernel \(kernel) is not loaded") }
        var storage: [UnsafeMutableRawPointer] = []
        defer { storage.forEach { $0.deallocate() } }
        func hold<T>(_ value: T) {
            let p = UnsafeMutableRawPointer.allocate(byteCount: MemoryLayout<T>.size, alignment: 16)
            p.storeBytes(of: value, as: T.self)
            storage.append(p)
        }
        for argument in arguments {
            switch argument {
            case .int32(let v): hold(v)
            case .int64(let v): hold(v)
            case .float(let v): hold(v)
            case .double(let v): hold(v)
            case .pointer(let p): hold(p.map { UInt64(UInt(bitPattern: $0)) } ?? 0)
            case .layout(let l): hold(l)
            }
        }
        var pointers: [UnsafeMutableRawPointer?] = storage
        let blocks = UInt32(min((count + block - 1) / block, maxBlocks))
        try pointers.withUnsafeMutableBufferPointer { args in
            try Self.check(ccu_launch(function, blocks, UInt32(block), 0, stream, args.baseAddress), kernel)
        }
    }

    private func address(_ pointer: UnsafeMutableRawPointer) -> ccu_ptr { ccu_ptr(UInt(bitPattern: pointer)) }
    private func address(_ t: Tensor) -> ccu_ptr { address(t.dataAddress) }
    private func pointer(_ t: Tensor?) -> Argument { .pointer(t?.dataAddress) }

    func layout(_ t: Tensor, shape: [Int]? = nil, strides: [Int]? = nil) throws -> ccu_layout {
        let shape = shape ?? t.shape, strides = strides ?? t.strides
        guard shape.count <= Int(CCU_MAX_DIMS) else {
            throw TensorError("tensors of rank \(shape.count) are not supported (at most \(CCU_MAX_DIMS) dimensions)")
        }
        var l = ccu_layout()
        l.ndim = Int32(shape.count)
        withUnsafeMutableBytes(of: &l.shape) { buffer in
            for (i, d) in shape.enumerated() { buffer.storeBytes(of: Int64(d), toByteOffset: i * 8, as: Int64.self) }
        }
        withUnsafeMutableBytes(of: &l.strides) { buffer in
            for (i, s) in strides.enumerated() { buffer.storeBytes(of: Int64(s), toByteOffset: i * 8, as: Int64.self) }
        }
        return l
    }

    // MARK: Elementwise

    func copy(_ source: Tensor, into destination: Tensor) throws {
        try launch("copy_any", count: destination.count, [pointer(source), .int32(source.dtype.code), .layout(try layout(source)),
                                                         pointer(destination), .int32(destination.dtype.code),
                                                         .layout(try layout(destination)), .int64(Int64(destination.count))])
    }

    func fill(_ destination: Tensor, with value: Double) throws {
        if destination.isContiguous {
            try launch("fill_any", count: destination.count, [pointer(destination), .int32(destination.dtype.code),
                                                             .int64(Int64(destination.count)), .double(value)])
        } else {
            let scalar = try Tensor.full([1], value, dtype: destination.dtype, device: device)
            try launch("copy_any", count: destination.count, [
                pointer(scalar), .int32(scalar.dtype.code),
                .layout(try layout(scalar, shape: destination.shape, strides: destination.shape.map { _ in 0 })),
                pointer(destination), .int32(destination.dtype.code), .layout(try layout(destination)),
                .int64(Int64(destination.count))])
        }
    }

    func binary(_ op: BinaryOp, _ a: Tensor, _ b: Tensor, into out: Tensor) throws {
        guard a.dtype != .float16 else { throw TensorError("\(op): float16 is a storage type; convert with to(.float32) first") }
        try launch("binary_any", count: out.count, [.int32(op.code), .int32(a.dtype.code), pointer(a), .layout(try layout(a)),
                                                    pointer(b), .layout(try layout(b)), pointer(out), .layout(try layout(out)),
                                                    .int64(Int64(out.count))])
    }

    func unary(_ op: UnaryOp, _ x: Tensor, into out: Tensor) throws {
        let (code, p1, p2) = op.code
        try launch("unary_f32", count: x.count, [.int32(code), pointer(x), pointer(out), .int64(Int64(x.count)), .float(p1), .float(p2)])
    }

    func unaryGrad(_ op: UnaryOp, x: Tensor, y: Tensor, dy: Tensor, into dx: Tensor) throws {
        let (code, p1, p2) = op.code
        try launch("unary_grad_f32", count: x.count, [.int32(code), pointer(x), pointer(y), pointer(dy), pointer(dx),
                                                      .int64(Int64(x.count)), .float(p1), .float(p2)])
    }

    func select(_ condition: Tensor, _ a: Tensor, _ b: Tensor, into out: Tensor) throws {
        try launch("where_any", count: out.count, [pointer(condition), .layout(try layout(condition)), .int32(a.dtype.code),
                                                   pointer(a), .layout(try layout(a)), pointer(b), .layout(try layout(b)),
                                                   pointer(out), .layout(try layout(out)), .int64(Int64(out.count))])
    }

    // MARK: Reductions and indexing

    func reduce(_ op: ReduceOp, _ x: Tensor, outer: Int, n: Int, inner: Int, values: Tensor?, indices: Tensor?) throws {
        let code: Int32
        switch op {
        case .sum: code = 0
        case .max: code = 1
        case .min: code = 2
        case .prod: code = 3
        }
        try launch("reduce_any", count: outer * inner * 256, block: 256, maxBlocks: 65535,
                   [.int32(code), .int32(x.dtype.code), pointer(x), .int64(Int64(outer)), .int64(Int64(n)), .int64(Int64(inner)),
                    pointer(values), pointer(indices)])
    }

    func gather(_ x: Tensor, outer: Int, n: Int, inner: Int, index: Tensor, k: Int, into out: Tensor) throws {
        try launch("gather_any", count: outer * k * inner, [.int32(x.dtype.code), pointer(x), .int64(Int64(outer)), .int64(Int64(n)),
                                                            .int64(Int64(inner)), pointer(index), .int64(Int64(k)), pointer(out)])
    }

    func scatter(_ source: Tensor, outer: Int, k: Int, inner: Int, index: Tensor, into out: Tensor, n: Int, accumulate: Bool) throws {
        if accumulate { try checkAccumulable(source.dtype, "scatter_add") }
        try launch("scatter_any", count: outer * k * inner, [.int32(source.dtype.code), pointer(source), .int64(Int64(outer)),
                                                             .int64(Int64(k)), .int64(Int64(inner)), pointer(index), pointer(out),
                                                             .int64(Int64(n)), .int32(accumulate ? 1 : 0)])
    }

    func indexSelect(_ x: Tensor, outer: Int, n: Int, inner: Int, index: Tensor, k: Int, into out: Tensor) throws {
        try launch("index_select_any", count: outer * k * inner, [.int32(x.dtype.code), pointer(x), .int64(Int64(outer)),
                                                                  .int64(Int64(n)), .int64(Int64(inner)), pointer(index),
                                                                  .int64(Int64(k)), pointer(out)])
    }

    func indexAdd(_ source: Tensor, outer: Int, k: Int, inner: Int, index: Tensor, into out: Tensor, n: Int) throws {
        try checkAccumulable(source.dtype, "index_add")
        try launch("index_add_any", count: outer * k * inner, [.int32(source.dtype.code), pointer(source), .int64(Int64(outer)),
                                                               .int64(Int64(k)), .int64(Int64(inner)), pointer(index), pointer(out),
                                                               .int64(Int64(n))])
    }

    private func checkAccumulable(_ dtype: DType, _ op: String) throws {
        guard [.float32, .int32, .int64].contains(dtype) else {
            throw TensorError("\(op) on \(device): \(dtype) cannot be accumulated on the GPU (float32, int32 and int64 can)")
        }
    }

    /// Rare (loss bookkeeping): done on the host.
    func truePositions(_ mask: Tensor) throws -> Tensor {
        var bytes = [UInt8](repeating: 0, count: mask.count)
        try bytes.withUnsafeMutableBytes { buffer in
            try copyToHost(mask.storage, byteOffset: mask.offset, byteCount: mask.count, into: buffer.baseAddress!)
        }
        let positions = bytes.indices.filter { bytes[$0] != 0 }.map { Int64($0) }
        return try Tensor(int64: positions, device: device)
    }

    // MARK: Linear algebra

    func matmul(_ a: Tensor, _ b: Tensor, into out: Tensor, batch: Int, m: Int, n: Int, k: Int,
                transposeA: Bool, transposeB: Bool, broadcastA: Bool, broadcastB: Bool) throws {
        lock.lock(); defer { lock.unlock() }
        try current()
        try Self.check(ccu_sgemm(blas, transposeA ? 1 : 0, transposeB ? 1 : 0, Int64(m), Int64(n), Int64(k),
                                 address(a), Int64(transposeA ? m : k), broadcastA ? 0 : Int64(m * k),
                                 address(b), Int64(transposeB ? k : n), broadcastB ? 0 : Int64(k * n),
                                 address(out), Int64(n), Int64(m * n), Int64(batch)), "matmul")
    }

    // MARK: Convolution and batch norm (cuDNN)

    private func algorithm(_ p: Conv2dParameters, _ pass: ccu_conv_pass) throws -> (Int32, ccu_ptr, Int) {
        let key = AlgorithmKey(parameters: p, pass: pass.rawValue)
        var choice = algorithms[key]
        if choice == nil {
            var params = p.cudaParams, algo: Int32 = 0, bytes = 0
            try Self.check(ccu_conv_find(dnn, &params, pass, &algo, &bytes), "convolution \(p)")
            choice = (algo, bytes)
            algorithms[key] = choice
        }
        if choice!.workspace > workspace.bytes {
            if workspace.pointer != 0 { allocator.release(workspace.pointer, bytes: workspace.bytes) }
            workspace = (try allocator.allocate(choice!.workspace), choice!.workspace)
        }
        return (choice!.algorithm, workspace.pointer, workspace.bytes)
    }

    /// float16 convolutions run in cuDNN with float32 accumulation and tensor-op math; bfloat16 is
    /// emulated by rounding the inputs (its numerics at float32 speed).
    func nativeComputeTypes(_ op: AutocastOp) -> [DType] { op == .convolution ? [.float16] : [] }

    /// The operands of a pass in the type cuDNN computes in: float16 copies under float16 autocast,
    /// float32 rounded to bfloat16 under bfloat16 (emulated). Made before taking the lock:
    /// conversions are kernels of this backend too.
    private func operands(_ tensors: [Tensor], _ p: Conv2dParameters) throws -> [Tensor] {
        switch p.computeType {
        case .float16: return try tensors.map { try $0.to(.float16) }
        case .bfloat16: return try tensors.map { try $0.to(.bfloat16).to(.float32) }
        default: return tensors
        }
    }

    /// Where a pass writes: `out` itself, or a float16 buffer copied into it (as float32) afterwards.
    private func destination(_ out: Tensor, _ p: Conv2dParameters) throws -> Tensor {
        p.computeType == .float16 ? try Tensor.empty(out.shape, dtype: .float16, device: device) : out
    }

    private func finish(_ written: Tensor, into out: Tensor) throws {
        if written !== out { _ = try out.copy_(from: written) }
    }

    /// Adds the per-channel bias in float32 (float16 passes leave it to us).
    private func addBias(_ bias: Tensor, to out: Tensor) throws {
        _ = try out.add_(bias.reshape([1, bias.count, 1, 1]))
    }

    func conv2dForward(_ input: Tensor, _ weight: Tensor, _ bias: Tensor?, into out: Tensor, _ p: Conv2dParameters) throws {
        let x = try operands([input, weight], p), y = try destination(out, p)
        let cudnnBias = p.computeType == .float16 ? nil : bias
        try withLock {
            let (algo, ws, bytes) = try algorithm(p, CCU_CONV_FORWARD)
            var params = p.cudaParams
            try Self.check(ccu_conv_forward(dnn, &params, algo, address(x[0]), address(x[1]), cudnnBias.map(address) ?? 0,
                                            address(y), ws, bytes), "conv2d")
        }
        try finish(y, into: out)
        if let bias, cudnnBias == nil { try addBias(bias, to: out) }
    }

    func conv2dForwardFused(_ input: Tensor, _ weight: Tensor, _ bias: Tensor?, into out: Tensor, _ p: Conv2dParameters,
                            activation: FusedActivation) throws {
        try conv2dForward(input, weight, bias, into: out, p)
        let (code, alpha): (Int32, Float)
        switch activation {
        case .none: return
        case .leakyRelu(let slope): (code, alpha) = (1, slope)
        case .mish: (code, alpha) = (2, 0)
        }
        try launch("activation_f32", count: out.count, [pointer(out), .int64(Int64(out.count)), .int32(code), .float(alpha)])
    }

    func conv2dBackwardData(_ gradOut: Tensor, _ weight: Tensor, into gradInput: Tensor, _ p: Conv2dParameters) throws {
        let x = try operands([gradOut, weight], p), dx = try destination(gradInput, p)
        try withLock {
            let (algo, ws, bytes) = try algorithm(p, CCU_CONV_BACKWARD_DATA)
            var params = p.cudaParams
            try Self.check(ccu_conv_backward_data(dnn, &params, algo, address(x[0]), address(x[1]), address(dx), ws, bytes),
                           "conv2d backward (data)")
        }
        try finish(dx, into: gradInput)
    }

    func conv2dBackwardWeights(_ input: Tensor, _ gradOut: Tensor, into gradWeight: Tensor, gradBias: Tensor?,
                               _ p: Conv2dParameters) throws {
        let x = try operands([input, gradOut], p), dw = try destination(gradWeight, p)
        let cudnnBias = p.computeType == .float16 ? nil : gradBias
        try withLock {
            let (algo, ws, bytes) = try algorithm(p, CCU_CONV_BACKWARD_FILTER)
            var params = p.cudaParams
            try Self.check(ccu_conv_backward_filter(dnn, &params, algo, address(x[0]), address(x[1]), address(dw),
                                                    cudnnBias.map(address) ?? 0, ws, bytes), "conv2d backward (weights)")
        }
        try finish(dw, into: gradWeight)
        if let gradBias, cudnnBias == nil { _ = try gradBias.copy_(from: gradOut.sum(axes: [0, 2, 3])) }
    }

    private func withLock(_ body: () throws -> Void) throws {
        lock.lock(); defer { lock.unlock() }
        try current()
        try body()
    }

    func batchNormForward(_ x: Tensor, scale: Tensor, shift: Tensor, mean: Tensor, variance: Tensor, training: Bool,
                          epsilon: Float, into out: Tensor) throws {
        lock.lock(); defer { lock.unlock() }
        try current()
        let (n, c, h, w) = try nchw(x, "batch_norm")
        try Self.check(ccu_batchnorm_forward(dnn, stream, training ? 1 : 0, n, c, h, w, Double(epsilon), address(x), address(scale),
                                             address(shift), address(out), address(mean), address(variance)), "batch_norm")
    }

    func batchNormBackward(_ x: Tensor, gradOut: Tensor, mean: Tensor, variance: Tensor, scale: Tensor, shift: Tensor,
                           epsilon: Float, gradInput: Tensor, gradScale: Tensor, gradShift: Tensor) throws {
        lock.lock(); defer { lock.unlock() }
        try current()
        let (n, c, h, w) = try nchw(x, "batch_norm backward")
        try Self.check(ccu_batchnorm_backward(dnn, n, c, h, w, Double(epsilon), address(x), address(gradOut), address(scale),
                                              address(gradInput), address(gradScale), address(gradShift)), "batch_norm backward")
    }

    private func nchw(_ t: Tensor, _ op: String) throws -> (Int32, Int32, Int32, Int32) {
        guard t.rank == 4 else { throw TensorError("\(op): expected an NCHW tensor, found shape \(t.shape)") }
        return (Int32(t.shape[0]), Int32(t.shape[1]), Int32(t.shape[2]), Int32(t.shape[3]))
    }

    // MARK: Pooling and resampling (own kernels, with the CPU's tie rules)

    func maxPool2dWorkspaceBytes(_ p: Pool2dParameters) throws -> Int { p.batch * p.channels * p.outHeight * p.outWidth * 4 }

    func maxPool2dForward(_ x: Tensor, into out: Tensor, workspace: Tensor?, _ p: Pool2dParameters) throws {
        guard p.outHeight >= 1, p.outWidth >= 1 else {
            throw TensorError("max_pool2d: a \(p.height)x\(p.width) input is too small for a \(p.kernelH)x\(p.kernelW) kernel")
        }
        try launch("maxpool_forward", count: out.count, [
            .int64(Int64(p.batch * p.channels)), .int64(Int64(p.height)), .int64(Int64(p.width)), .int64(Int64(p.kernelH)),
            .int64(Int64(p.kernelW)), .int64(Int64(p.strideH)), .int64(Int64(p.strideW)), .int64(Int64(p.padH)),
            .int64(Int64(p.padW)), .int64(Int64(p.outHeight)), .int64(Int64(p.outWidth)), pointer(x), pointer(out), pointer(workspace)])
    }

    func maxPool2dBackward(_ gradOut: Tensor, workspace: Tensor, into gradInput: Tensor, _ p: Pool2dParameters) throws {
        try fill(gradInput, with: 0)
        try launch("maxpool_backward", count: gradOut.count, [
            .int64(Int64(p.batch * p.channels)), .int64(Int64(p.height)), .int64(Int64(p.width)), .int64(Int64(p.outHeight)),
            .int64(Int64(p.outWidth)), pointer(gradOut), pointer(workspace), pointer(gradInput)])
    }

    func upsampleNearestForward(_ x: Tensor, factor: Int, into out: Tensor) throws {
        let (n, c, h, w) = try nchw(x, "upsample")
        try launch("upsample_forward", count: out.count, [.int64(Int64(n) * Int64(c)), .int64(Int64(h)), .int64(Int64(w)),
                                                          .int64(Int64(factor)), pointer(x), pointer(out)])
    }

    func upsampleNearestBackward(_ gradOut: Tensor, factor: Int, into gradInput: Tensor) throws {
        let (n, c, h, w) = try nchw(gradInput, "upsample backward")
        try launch("upsample_backward", count: gradInput.count, [.int64(Int64(n) * Int64(c)), .int64(Int64(h)), .int64(Int64(w)),
                                                                 .int64(Int64(factor)), pointer(gradOut), pointer(gradInput)])
    }

    // MARK: Optimizer updates

    func sgdStep(parameter: Tensor, gradient: Tensor, momentumBuffer: Tensor, lr: Float, momentum: Float, weightDecay: Float,
                 nesterov: Bool, firstStep: Bool) throws {
        try launch("sgd_step", count: parameter.count, [pointer(parameter), pointer(gradient), pointer(momentumBuffer),
                                                        .int64(Int64(parameter.count)), .float(lr), .float(momentum),
                                                        .float(weightDecay), .int32(nesterov ? 1 : 0), .int32(firstStep ? 1 : 0)])
    }

    func adamStep(parameter: Tensor, gradient: Tensor, m: Tensor, v: Tensor, lr: Float, beta1: Float, beta2: Float,
                  epsilon: Float, weightDecay: Float, decoupled: Bool, step: Int) throws {
        let bias1 = 1 - powf(beta1, Float(step)), bias2 = 1 - powf(beta2, Float(step))
        try launch("adam_step", count: parameter.count, [pointer(parameter), pointer(gradient), pointer(m), pointer(v),
                                                         .int64(Int64(parameter.count)), .float(lr), .float(beta1), .float(beta2),
                                                         .float(epsilon), .float(weightDecay), .int32(decoupled ? 1 : 0),
                                                         .float(bias1), .float(sqrtf(bias2))])
    }
}

extension DType {
    /// The dtype codes the kernels share with the CPU kernels.
    var code: Int32 {
        switch self {
        case .float32: return 0
        case .float16: return 1
        case .int32: return 2
        case .int64: return 3
        case .uint8: return 4
        case .bool: return 5
        case .bfloat16: return 6
        }
    }
}

extension BinaryOp {
    var code: Int32 {
        let order: [BinaryOp] = [.add, .sub, .mul, .div, .pow, .maximum, .minimum, .atan2, .equal, .notEqual, .less, .lessEqual,
                                 .greater, .greaterEqual, .logicalAnd, .logicalOr, .logicalXor]
        return Int32(order.firstIndex(of: self)!)
    }
}

extension UnaryOp {
    var code: (Int32, Float, Float) {
        switch self {
        case .neg: return (0, 0, 0)
        case .exp: return (1, 0, 0)
        case .log: return (2, 0, 0)
        case .sqrt: return (3, 0, 0)
        case .abs: return (4, 0, 0)
        case .sigmoid: return (5, 0, 0)
        case .tanh: return (6, 0, 0)
        case .softplus: return (7, 0, 0)
        case .relu: return (8, 0, 0)
        case .leakyRelu(let slope): return (9, slope, 0)
        case .mish: return (10, 0, 0)
        case .clamp(let low, let high): return (11, low, high)
        case .atan: return (12, 0, 0)
        case .floor: return (13, 0, 0)
        case .ceil: return (14, 0, 0)
        case .round: return (15, 0, 0)
        case .reciprocal: return (16, 0, 0)
        case .sign: return (17, 0, 0)
        case .square: return (18, 0, 0)
        case .sin: return (19, 0, 0)
        case .cos: return (20, 0, 0)
        case .logicalNot: return (21, 0, 0)
        }
    }
}

extension Conv2dParameters {
    var cudaParams: ccu_conv_params {
        ccu_conv_params(n: Int32(batch), c: Int32(inChannels), h: Int32(height), w: Int32(width), k: Int32(outChannels),
                        kh: Int32(kernelHeight), kw: Int32(kernelWidth), stride_h: Int32(strideH), stride_w: Int32(strideW),
                        pad_h: Int32(padH), pad_w: Int32(padW), dilation_h: Int32(dilationH), dilation_w: Int32(dilationW),
                        groups: Int32(groups), oh: Int32(outHeight), ow: Int32(outWidth), half: computeType == .float16 ? 1 : 0)
    }
}
