import Foundation
import XCTest
@testable import TensorCore

/// The fused training batch norm + activation against the naive reference and against the
/// unfused chain (batchNorm2d then the activation op).
final class BatchNormActivationTests: XCTestCase {
    private let activations: [FusedActivation] = [.none, .leakyRelu(0.1), .mish]

    private func referenceActivation(_ a: FusedActivation, _ z: Double) -> Double {
        switch a {
        case .none: return z
        case .leakyRelu(let slope): return z > 0 ? z : z * Double(slope)
        case .mish: return z * tanh(log1p(exp(z)))
        }
    }

    private func unfused(_ x: Tensor, _ scale: Tensor, _ shift: Tensor, _ rm: Tensor, _ rv: Tensor,
                         _ a: FusedActivation) throws -> Tensor {
        let y = try x.batchNorm2d(weight: scale, bias: shift, runningMean: rm, runningVar: rv, training: true)
        switch a {
        case .none: return y
        case .leakyRelu(let slope): return try y.leakyRelu(slope)
        case .mish: return try y.mish()
        }
    }

    /// Image-channel blocks of 1 (all tail), 35 (two 16-lane runs and a tail) and 256 values.
    private let shapes = [[4, 3, 1, 1], [3, 5, 5, 7], [2, 3, 16, 16]]

    func testForwardMatchesReferenceAndRunningStatistics() throws {
        for shape in shapes {
            for (k, activation) in activations.enumerated() {
                let (n, c, hw) = (shape[0], shape[1], shape[2] * shape[3])
                let x = try randomTensor(shape, seed: UInt64(40 + k), low: -3, high: 2)
                let scale = try randomTensor([c], seed: 41, low: 0.5, high: 1.5), shift = try randomTensor([c], seed: 42)
                let rm = try Tensor.zeros([c]), rv = try Tensor.ones([c])
                let y = try x.batchNormActivation(weight: scale, bias: shift, runningMean: rm, runningVar: rv,
                                                  activation: activation)
                let ref = Reference.batchNorm(try x.toArray(), n: n, c: c, hw: hw, scale: try scale.toArray(),
                                              shift: try shift.toArray(), eps: 1e-5)
                let expected = ref.out.map { Float(referenceActivation(activation, Double($0))) }
                assertClose(try y.toArray(), expected, tolerance: 1e-5, "\(activation) \(shape)")
                let m = Float(n * hw)
                assertClose(try rm.toArray(), ref.mean.map { 0.1 * $0 }, tolerance: 1e-6)
                assertClose(try rv.toArray(), ref.variance.map { 0.9 + 0.1 * $0 * m / (m - 1) }, tolerance: 1e-6)
            }
        }
    }

    func testBackwardMatchesUnfusedChain() throws {
        for shape in shapes {
            for (k, activation) in activations.enumerated() {
                let c = shape[1]
                let x = try randomTensor(shape, seed: UInt64(50 + k), low: -2, high: 3)
                let scale = try randomTensor([c], seed: 51, low: 0.5, high: 1.5), shift = try randomTensor([c], seed: 52)
                let gradOut = try randomTensor(shape, seed: 53)
                var grads: [[[Float]]] = []
                for fused in [true, false] {
                    let inputs = try [x.detach().clone(), scale.detach().clone(), shift.detach().clone()]
                    for t in inputs { t.requiresGrad = true }
                    let rm = try Tensor.zeros([c]), rv = try Tensor.ones([c])
                    let y = fused
                        ? try inputs[0].batchNormActivation(weight: inputs[1], bias: inputs[2], runningMean: rm,
                                                            runningVar: rv, activation: activation)
                        : try unfused(inputs[0], inputs[1], inputs[2], rm, rv, activation)
                    try y.backward(gradOut)
                    grads.append(try inputs.map { try $0.grad!.toArray() })
                }
                for (i, name) in ["input", "weight", "bias"].enumerated() {
                    assertClose(grads[0][i], grads[1][i], tolerance: 2e-5, "\(name) gradient, \(activation) \(shape)")
                }
            }
        }
    }

    func testGradientsAgainstFiniteDifferences() throws {
        for activation in activations {
            try checkGradients([try randomTensor([2, 3, 2, 3], seed: 61), try randomTensor([3], seed: 62, low: 0.5, high: 1.5),
                                try randomTensor([3], seed: 63)], eps: 1e-2, tolerance: 3e-2) { t in
                try t[0].batchNormActivation(weight: t[1], bias: t[2], runningMean: Tensor.zeros([3]),
                                             runningVar: Tensor.ones([3]), activation: activation)
            }
        }
    }

    /// A large mean over a small spread: statistics by sum(x^2) - n mean^2 in float would lose
    /// every digit of the variance here.
    func testStatisticsKeepTheirDigitsUnderALargeMean() throws {
        let (n, c, h, w) = (2, 2, 9, 11)
        let x = try randomTensor([n, c, h, w], seed: 71, low: -0.01, high: 0.01) + 1000
        let scale = try Tensor.ones([c]), shift = try Tensor.zeros([c])
        let rm = try Tensor.zeros([c]), rv = try Tensor.zeros([c])
        let y = try x.batchNormActivation(weight: scale, bias: shift, runningMean: rm, runningVar: rv, activation: .none)
        let ref = Reference.batchNorm(try x.toArray(), n: n, c: c, hw: h * w, scale: [1, 1], shift: [0, 0], eps: 1e-5)
        let m = Float(n * h * w)
        let variance = try rv.toArray().map { $0 / 0.1 * (m - 1) / m }
        for ch in 0..<c {
            XCTAssertEqual(variance[ch], ref.variance[ch], accuracy: ref.variance[ch] * 1e-3, "channel \(ch)")
        }
        assertClose(try y.toArray(), ref.out, tolerance: 5e-3)
    }

    func testStridedInputAndParameterOnlyGradients() throws {
        let whole = try randomTensor([3, 6, 4, 5], seed: 81)
        let x = try whole.narrow(axis: 1, start: 2, length: 3)
        XCTAssertFalse(x.isContiguous)
        let scale = try randomTensor([3], seed: 82, low: 0.5, high: 1.5), shift = try randomTensor([3], seed: 83)
        scale.requiresGrad = true; shift.requiresGrad = true
        let y = try x.batchNormActivation(weight: scale, bias: shift, runningMean: Tensor.zeros([3]),
                                          runningVar: Tensor.ones([3]), activation: .mish)
        let gradOut = try randomTensor(y.shape, seed: 84)
        try y.backward(gradOut)
        let s2 = try scale.detach().clone(), b2 = try shift.detach().clone()
        s2.requiresGrad = true; b2.requiresGrad = true
        let y2 = try unfused(x.contiguous(), s2, b2, Tensor.zeros([3]), Tensor.ones([3]), .mish)
        assertClose(try y.toArray(), try y2.toArray(), tolerance: 1e-5)
        try y2.backward(gradOut)
        assertClose(try scale.grad!.toArray(), try s2.grad!.toArray(), tolerance: 2e-5)
        assertClose(try shift.grad!.toArray(), try b2.grad!.toArray(), tolerance: 2e-5)
    }

    func testBFloat16InputGivesTheResultsOfItsFloat32Values() throws {
        // A bfloat16 input (a convolution's autocast result) is read as it is: running statistics
        // and every gradient are those of the same values in float32, to the bit, and the result
        // is bfloat16: the float32 result rounded once.
        for activation in [FusedActivation.mish, .leakyRelu(0.1), .none] {
            let wide = try randomTensor([3, 5, 7, 9], seed: 91, low: -2, high: 3).to(.bfloat16).to(.float32)
            let narrow = try wide.to(.bfloat16)
            let scale = try randomTensor([5], seed: 92, low: 0.5, high: 1.5), shift = try randomTensor([5], seed: 93)
            let gradOut = try randomTensor([3, 5, 7, 9], seed: 94)
            var results: [[[Float]]] = []
            for x in [wide, narrow] {
                x.requiresGrad = true
                let s = try scale.clone(), b = try shift.clone()
                s.requiresGrad = true; b.requiresGrad = true
                let rm = try Tensor.zeros([5]), rv = try Tensor.ones([5])
                let y = try x.batchNormActivation(weight: s, bias: b, runningMean: rm, runningVar: rv, activation: activation)
                XCTAssertEqual(y.dtype, x.dtype)
                try y.backward(gradOut)
                let rounded = try x.dtype == .float32 ? y.detach().to(.bfloat16).to(.float32) : y.detach().to(.float32)
                results.append([try rounded.toArray(), try rm.toArray(), try rv.toArray(), try XCTUnwrap(x.grad).toArray(),
                                try XCTUnwrap(s.grad).toArray(), try XCTUnwrap(b.grad).toArray()])
            }
            XCTAssertEqual(results[0], results[1], "\(activation)")
        }
    }

    func testBadInputNamesTheOperand() throws {
        let x = try Tensor.zeros([2, 3, 2, 2])
        assertThrowsMessage(["batch_norm + activation", "weight", "[4]", "[3]"]) {
            try x.batchNormActivation(weight: Tensor.ones([4]), bias: Tensor.zeros([3]), runningMean: Tensor.zeros([3]),
                                      runningVar: Tensor.ones([3]), activation: .mish)
        }
        assertThrowsMessage(["batch size of at least 2"]) {
            try Tensor.zeros([1, 3, 1, 1]).batchNormActivation(weight: Tensor.ones([3]), bias: Tensor.zeros([3]),
                                                               runningMean: Tensor.zeros([3]), runningVar: Tensor.ones([3]),
                                                               activation: .leakyRelu(0.1))
        }
        assertThrowsMessage(["batch_norm + activation", "float32 or bfloat16", "float16"]) {
            try x.to(.float16).batchNormActivation(weight: Tensor.ones([3]), bias: Tensor.zeros([3]),
                                                   runningMean: Tensor.zeros([3]), runningVar: Tensor.ones([3]),
                                                   activation: .mish)
        }
    }
}
