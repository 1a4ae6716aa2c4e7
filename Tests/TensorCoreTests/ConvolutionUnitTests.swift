import XCTest
@testable import TensorCore

/// `convBatchNormActivation`, the training conv-BN-activation unit whose convolution keeps its
/// activations in oneDNN's blocked layout, against `conv2d` then `batchNormActivation` (the path
/// with every activation in NCHW): the same outputs, running statistics and gradients.
final class ConvolutionUnitTests: XCTestCase {
    override func tearDown() {
        CPUConvolutions.blockedUnits = true
        super.tearDown()
    }

    private struct Shape {
        let n, c, h, w, k, kernel, stride: Int
        var parameters: Conv2dParameters {
            Conv2dParameters(batch: n, inChannels: c, height: h, width: w, outChannels: k, kernelHeight: kernel,
                             kernelWidth: kernel, strideH: stride, strideW: stride, padH: kernel / 2, padW: kernel / 2)
        }
    }

    /// A Winograd one whose output planes (9 x 8 = 72 pixels) end in a partial 16-pixel tile past a
    /// 64-pixel chunk, a direct stride-2 one with 42-pixel planes and three images, and one whose
    /// 12-pixel planes are all tail.
    private let shapes = [Shape(n: 2, c: 16, h: 9, w: 8, k: 32, kernel: 3, stride: 1),
                          Shape(n: 3, c: 32, h: 13, w: 11, k: 16, kernel: 3, stride: 2),
                          Shape(n: 2, c: 16, h: 4, w: 3, k: 16, kernel: 3, stride: 1)]
    private let activations: [FusedActivation] = [.none, .leakyRelu(0.1), .mish]

    /// Whether oneDNN uses the 16-channel blocked layout on this CPU (its AVX-512 kernels do).
    private var cpuHasBlocked16Kernels: Bool {
        CPUConvolutions.implementations(shapes[0].parameters).forward.contains("avx512")
    }

    private var cpu: Backend { get throws { try Backends.backend(for: .cpu) } }

    func testTheBlockedLayoutAppliesWhereTheConvolutionUsesIt() throws {
        guard cpuHasBlocked16Kernels else { throw XCTSkip("oneDNN has no AVX-512 kernels on this CPU") }
        for shape in shapes {
            XCTAssertTrue(try cpu.convolutionUnitKeepsBlockedLayout(shape.parameters), "\(shape)")
        }
        // A 1x1 convolution runs as a matrix product on NCHW; 3 input channels are no 16-channel block.
        let pointwise = Shape(n: 2, c: 32, h: 8, w: 8, k: 32, kernel: 1, stride: 1)
        let rgb = Shape(n: 2, c: 3, h: 8, w: 8, k: 32, kernel: 3, stride: 2)
        XCTAssertFalse(try cpu.convolutionUnitKeepsBlockedLayout(pointwise.parameters))
        XCTAssertFalse(try cpu.convolutionUnitKeepsBlockedLayout(rgb.parameters))
        CPUConvolutions.blockedUnits = false
        XCTAssertFalse(try cpu.convolutionUnitKeepsBlockedLayout(shapes[0].parameters))
    }

    /// Output, running mean and variance, and the input, weight, scale and shift gradients.
    private func unit(_ shape: Shape, _ activation: FusedActivation, blocked: Bool, trainWeight: Bool = true,
                      trainInput: Bool = true, seed: UInt64) throws -> (results: [[Float]], node: String?) {
        CPUConvolutions.blockedUnits = blocked
        defer { CPUConvolutions.blockedUnits = true }
        let x = try randomTensor([shape.n, shape.c, shape.h, shape.w], seed: seed, low: -1, high: 2)
        let weight = try randomTensor([shape.k, shape.c, shape.kernel, shape.kernel], seed: seed + 1, low: -0.3, high: 0.3)
        let scale = try randomTensor([shape.k], seed: seed + 2, low: 0.5, high: 1.5)
        let shift = try randomTensor([shape.k], seed: seed + 3)
        let runningMean = try randomTensor([shape.k], seed: seed + 4), runningVar = try Tensor.ones([shape.k])
        x.requiresGrad = trainInput
        weight.requiresGrad = trainWeight
        scale.requiresGrad = true
        shift.requiresGrad = true
        let pad = shape.kernel / 2
        let y = try x.convBatchNormActivation(convWeight: weight, stride: (shape.stride, shape.stride), padding: (pad, pad),
                                              bnWeight: scale, bnBias: shift, runningMean: runningMean,
                                              runningVar: runningVar, activation: activation)
        try y.backward(try randomTensor(y.shape, seed: seed + 5))
        var results = [try y.toArray(), try runningMean.toArray(), try runningVar.toArray(),
                       try scale.grad!.toArray(), try shift.grad!.toArray()]
        if trainInput { results.append(try x.grad!.toArray()) } else { XCTAssertNil(x.grad) }
        if trainWeight { results.append(try weight.grad!.toArray()) } else { XCTAssertNil(weight.grad) }
        return (results, y.gradNode?.name)
    }

    private let names = ["output", "running mean", "running variance", "scale gradient", "shift gradient",
                         "input or weight gradient", "weight gradient"]

    func testTheUnitMatchesConvolutionThenBatchNormActivation() throws {
        let blockedHere = cpuHasBlocked16Kernels
        for (s, shape) in shapes.enumerated() {
            for (a, activation) in activations.enumerated() {
                let seed = UInt64(100 + 10 * s + a)
                let (fused, node) = try unit(shape, activation, blocked: true, seed: seed)
                let (composed, composedNode) = try unit(shape, activation, blocked: false, seed: seed)
                if blockedHere { XCTAssertEqual(node, "conv_batch_norm_activation", "the blocked unit ran") }
                XCTAssertEqual(composedNode, "batch_norm_activation", "blockedUnits = false composes the unit")
                for (i, (actual, expected)) in zip(fused, composed).enumerated() {
                    assertClose(actual, expected, tolerance: 2e-4, "\(names[i]), \(activation), \(shape)")
                }
            }
        }
    }

    /// A frozen convolution (no weight gradient, so no blocked input is kept) still passes the
    /// gradient to its input and to the batch norm's parameters.
    func testAFrozenConvolutionStillGivesTheOtherGradients() throws {
        let shape = shapes[0]
        let (fused, _) = try unit(shape, .leakyRelu(0.1), blocked: true, trainWeight: false, seed: 300)
        let (composed, _) = try unit(shape, .leakyRelu(0.1), blocked: false, trainWeight: false, seed: 300)
        XCTAssertEqual(fused.count, 6)
        for (i, (actual, expected)) in zip(fused, composed).enumerated() {
            assertClose(actual, expected, tolerance: 2e-4, "frozen: \(names[i])")
        }
        // Only the batch norm's parameters trained (a network's first unit with a frozen
        // convolution): no convolution backward at all.
        let (bnOnly, _) = try unit(shape, .mish, blocked: true, trainWeight: false, trainInput: false, seed: 310)
        let (bnOnlyComposed, _) = try unit(shape, .mish, blocked: false, trainWeight: false, trainInput: false, seed: 310)
        XCTAssertEqual(bnOnly.count, 5)
        for (i, (actual, expected)) in zip(bnOnly, bnOnlyComposed).enumerated() {
            assertClose(actual, expected, tolerance: 2e-4, "batch norm only: \(names[i])")
        }
    }

    /// A strided view as input (the second half of the channels, as a CSP block's split hands over)
    /// and its gradient, which lands in the view's part of the base tensor.
    func testAStridedInputViewGivesTheSameResultsAndGradient() throws {
        func run(blocked: Bool) throws -> [[Float]] {
            CPUConvolutions.blockedUnits = blocked
            defer { CPUConvolutions.blockedUnits = true }
            let base = try randomTensor([2, 32, 9, 8], seed: 500)
            base.requiresGrad = true
            let x = try base.narrow(axis: 1, start: 16, length: 16)
            XCTAssertFalse(x.isContiguous)
            let weight = try randomTensor([32, 16, 3, 3], seed: 501, low: -0.3, high: 0.3)
            weight.requiresGrad = true
            let y = try x.convBatchNormActivation(convWeight: weight, stride: (1, 1), padding: (1, 1),
                                                  bnWeight: try Tensor.ones([32]), bnBias: try Tensor.zeros([32]),
                                                  runningMean: try Tensor.zeros([32]), runningVar: try Tensor.ones([32]),
                                                  activation: .leakyRelu(0.1))
            try y.backward(try randomTensor(y.shape, seed: 502))
            return [try y.toArray(), try base.grad!.toArray(), try weight.grad!.toArray()]
        }
        let (fused, composed) = (try run(blocked: true), try run(blocked: false))
        for (i, name) in ["output", "base gradient", "weight gradient"].enumerated() {
            assertClose(fused[i], composed[i], tolerance: 2e-4, "strided input: \(name)")
        }
        // The first half of the channels took no part: its gradient is zero.
        XCTAssertEqual(Set(fused[1].prefix(16 * 72)), [0])
    }

    /// Shapes the blocked layout does not take fall back to the two operations, with their checks.
    func testOtherShapesComposeTheUnitAndBadShapesAreRefused() throws {
        let x = try randomTensor([2, 3, 8, 8], seed: 400)
        let weight = try randomTensor([16, 3, 3, 3], seed: 401)
        let scale = try Tensor.ones([16]), shift = try Tensor.zeros([16])
        let y = try x.convBatchNormActivation(convWeight: weight, stride: (2, 2), padding: (1, 1), bnWeight: scale,
                                              bnBias: shift, runningMean: try Tensor.zeros([16]),
                                              runningVar: try Tensor.ones([16]), activation: .mish)
        XCTAssertEqual(y.shape, [2, 16, 4, 4])
        assertThrowsMessage(["8 channels", "weight"]) {
            try randomTensor([2, 8, 8, 8], seed: 402).convBatchNormActivation(
                convWeight: weight, stride: (1, 1), padding: (1, 1), bnWeight: scale, bnBias: shift,
                runningMean: try Tensor.zeros([16]), runningVar: try Tensor.ones([16]), activation: .none)
        }
    }
}
