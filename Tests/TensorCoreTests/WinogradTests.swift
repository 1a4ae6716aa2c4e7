import XCTest
@testable import TensorCore

/// Float32 3x3 stride-1 convolutions go through oneDNN's Winograd kernels where the CPU has them
/// (AVX-512 cores): the same results as the naive reference within float32 rounding, in all three
/// training passes and in inference, and the direct method again when the setting says so.
final class WinogradTests: XCTestCase {
    private let shape = Reference.Conv(n: 2, c: 32, h: 10, w: 12, k: 48, kh: 3, kw: 3, stride: 1, pad: 1, dilation: 1, groups: 1)

    private var parameters: Conv2dParameters {
        Conv2dParameters(batch: shape.n, inChannels: shape.c, height: shape.h, width: shape.w, outChannels: shape.k,
                         kernelHeight: 3, kernelWidth: 3, strideH: 1, strideW: 1, padH: 1, padW: 1)
    }

    override func tearDown() {
        CPUConvolutions.winograd = true
        super.tearDown()
    }

    /// The three passes' results: output, input gradient, weight gradient, bias gradient.
    private func passes(seed: UInt64) throws -> [[Float]] {
        let x = try randomTensor([shape.n, shape.c, shape.h, shape.w], seed: seed)
        let w = try randomTensor([shape.k, shape.c, 3, 3], seed: seed + 1)
        let b = try randomTensor([shape.k], seed: seed + 2)
        x.requiresGrad = true; w.requiresGrad = true; b.requiresGrad = true
        let y = try x.conv2d(weight: w, bias: b, padding: (1, 1))
        try y.backward(try randomTensor(y.shape, seed: seed + 3))
        return [try y.toArray(), try x.grad!.toArray(), try w.grad!.toArray(), try b.grad!.toArray()]
    }

    private func reference(seed: UInt64) throws -> [[Float]] {
        let x = try randomTensor([shape.n, shape.c, shape.h, shape.w], seed: seed).toArray()
        let w = try randomTensor([shape.k, shape.c, 3, 3], seed: seed + 1).toArray()
        let b = try randomTensor([shape.k], seed: seed + 2).toArray()
        let g = try randomTensor([shape.n, shape.k, shape.oh, shape.ow], seed: seed + 3).toArray()
        let (gw, gb) = shape.backwardWeights(x, g)
        return [shape.forward(x, w, b), shape.backwardData(g, w), gw, gb]
    }

    func testWinogradPassesAgreeWithTheNaiveReference() throws {
        CPUConvolutions.winograd = true
        let names = ["forward", "backward data", "backward weights", "backward bias"]
        for (i, (actual, expected)) in zip(try passes(seed: 40), try reference(seed: 40)).enumerated() {
            assertClose(actual, expected, tolerance: 2e-4, names[i])
        }
    }

    /// Inference: the Winograd convolution with its bias, then the activation in place, on the
    /// channels-last chain, against the naive reference; and not bitwise the direct fused kernel's.
    func testInferenceWithWinogradAgreesWithTheReferenceForEachActivation() throws {
        let x = try randomTensor([shape.n, shape.c, shape.h, shape.w], seed: 60)
        let w = try randomTensor([shape.k, shape.c, 3, 3], seed: 61)
        let b = try randomTensor([shape.k], seed: 62)
        let linear = shape.forward(try x.toArray(), try w.toArray(), try b.toArray())
        let cases: [(FusedActivation, (Float) -> Float)] = [
            (.none, { $0 }), (.leakyRelu(0.1), { $0 > 0 ? $0 : 0.1 * $0 }),
            (.mish, { Float(Double($0) * tanh(log1p(exp(Double($0))))) }),
        ]
        CPUConvolutions.winograd = true
        let hasWinograd = CPUConvolutions.implementations(parameters).forward.contains("wino")
        for (activation, f) in cases {
            func run(winograd: Bool) throws -> [Float] {
                CPUConvolutions.winograd = winograd
                return try withNoGrad { try x.conv2dFused(weight: w, bias: b, padding: (1, 1), activation: activation).toArray() }
            }
            let (fast, direct) = (try run(winograd: true), try run(winograd: false))
            assertClose(fast, linear.map(f), tolerance: 2e-4, "inference with \(activation)")
            assertClose(direct, linear.map(f), tolerance: 2e-4, "direct inference with \(activation)")
            if hasWinograd { XCTAssertNotEqual(fast, direct, "\(activation): the Winograd kernel ran") }
        }
    }

    func testTheSettingChoosesWinogradWhereTheCPUHasItAndTheDirectMethodOtherwise() throws {
        CPUConvolutions.winograd = false
        let direct = CPUConvolutions.implementations(parameters)
        for name in [direct.forward, direct.backwardData, direct.backwardWeights] {
            XCTAssertFalse(name.contains("wino"), "winograd = false still gave \(name)")
        }
        let directResults = try passes(seed: 50)
        CPUConvolutions.winograd = true
        let chosen = CPUConvolutions.implementations(parameters)
        // oneDNN 2.x has float32 Winograd kernels for every AVX-512 core, and none below it.
        guard direct.forward.contains("avx512_core") else {
            XCTAssertFalse(chosen.forward.contains("wino"), "Winograd reported on a CPU without AVX-512: \(chosen.forward)")
            throw XCTSkip("this CPU has no AVX-512 cores (direct kernels: \(direct.forward)); oneDNN has no Winograd kernels for it")
        }
        for name in [chosen.forward, chosen.backwardData, chosen.backwardWeights] {
            XCTAssertTrue(name.contains("wino"), "winograd = true gave \(name) for a 3x3 stride-1 float32 convolution")
        }
        // Another algorithm really ran: close to the direct results, but not bit for bit.
        let winogradResults = try passes(seed: 50)
        XCTAssertNotEqual(winogradResults[0], directResults[0])
        assertClose(winogradResults[0], directResults[0], tolerance: 2e-4, "forward, Winograd against direct")
        // Shapes without a Winograd kernel keep the direct method: stride 2, 1x1.
        var strided = parameters
        strided.strideH = 2; strided.strideW = 2
        XCTAssertFalse(CPUConvolutions.implementations(strided).forward.contains("wino"))
        let pointwise = Conv2dParameters(batch: 2, inChannels: 32, height: 10, width: 12, outChannels: 48,
                                         kernelHeight: 1, kernelWidth: 1, strideH: 1, strideW: 1, padH: 0, padW: 0)
        XCTAssertFalse(CPUConvolutions.implementations(pointwise).forward.contains("wino"))
    }
}
