import XCTest
@testable import TensorCore

/// Convolutions under autocast compute with 16-bit inputs and float32 accumulation: the result is
/// the float32 convolution of the inputs rounded to that type (products of 16-bit values are exact
/// in float32), forward and backward, natively (oneDNN bfloat16 on AVX512_BF16) or emulated.
final class AutocastTests: XCTestCase {
    func rounded(_ t: Tensor, _ type: DType) throws -> Tensor { try t.to(type).to(.float32) }

    func maxRelativeDifference(_ a: Tensor, _ b: Tensor) throws -> Float {
        let x = try a.toArray(), y = try b.toArray()
        let scale = max(y.map(abs).max() ?? 1, 1e-6)
        return zip(x, y).map { abs($0 - $1) }.max()! / scale
    }

    func testConvolutionForwardAndBackwardUseTheRoundedInputs() throws {
        print("native 16-bit convolution types on this CPU: \(Autocast.nativeTypes(.convolution, on: .cpu))")
        for type in [DType.bfloat16, .float16] {
            let x = try randomTensor([2, 19, 9, 11], seed: 1), w = try randomTensor([24, 19, 3, 3], seed: 2)
            let b = try randomTensor([24], seed: 3)
            x.requiresGrad = true; w.requiresGrad = true
            let y = try Autocast.with(type) { try x.conv2d(weight: w, bias: b, stride: (2, 1), padding: (1, 1)) }
            let g = try randomTensor(y.shape, seed: 4)
            try (y * g).sum().backward()

            // The oracle: float32 on inputs rounded to the type (the gradient flowing in is rounded too).
            let xr = try rounded(x.detach(), type), wr = try rounded(w.detach(), type)
            xr.requiresGrad = true; wr.requiresGrad = true
            let yr = try xr.conv2d(weight: wr, bias: b, stride: (2, 1), padding: (1, 1))
            try (yr * rounded(g, type)).sum().backward()
            XCTAssertLessThan(try maxRelativeDifference(y, yr), 1e-5, "\(type) forward")
            XCTAssertLessThan(try maxRelativeDifference(XCTUnwrap(x.grad), XCTUnwrap(xr.grad)), 1e-5, "\(type) input gradient")
            XCTAssertLessThan(try maxRelativeDifference(XCTUnwrap(w.grad), XCTUnwrap(wr.grad)), 1e-5, "\(type) weight gradient")

            // ... and not the float32 convolution of the raw inputs: the rounding happened.
            let exact = try x.detach().conv2d(weight: w.detach(), bias: b, stride: (2, 1), padding: (1, 1))
            XCTAssertGreaterThan(try maxRelativeDifference(y, exact), type == .bfloat16 ? 1e-4 : 1e-6, "\(type)")
            XCTAssertLessThan(try maxRelativeDifference(y, exact), type == .bfloat16 ? 3e-2 : 3e-3, "\(type)")
            XCTAssertEqual(y.dtype, .float32, "tensors stay float32 between operations")
        }
        XCTAssertNil(Autocast.computeType, "the scope ends with its body")
    }

    func testLowPrecisionOutputIsTheRoundedResultWhereTheBackendWritesIt() throws {
        let x = try randomTensor([2, 19, 9, 11], seed: 11), w = try randomTensor([24, 19, 3, 3], seed: 12)
        x.requiresGrad = true; w.requiresGrad = true
        let direct = Backends.cpu.directOperandTypes(.convolution).contains(.bfloat16)
        let (y, y16) = try Autocast.with(.bfloat16) {
            (try x.detach().conv2d(weight: w.detach(), padding: (1, 1)),
             try x.conv2d(weight: w, padding: (1, 1), lowPrecisionOutput: true))
        }
        guard direct else {
            XCTAssertEqual(y16.dtype, .float32, "without native bfloat16 convolutions the result stays float32")
            return
        }
        XCTAssertEqual(y16.dtype, .bfloat16)
        // One rounding of the float32 accumulator: within half a bfloat16 step of the float32 result.
        let wide = try y16.to(.float32).toArray(), exact = try y.toArray()
        for (a, b) in zip(wide, exact) { XCTAssertLessThanOrEqual(abs(a - b), abs(b) * 0x1p-8 * 1.001 + 1e-6) }
        // A bfloat16 gradient coming back (through a cast) is widened for the backward kernels.
        let g = try randomTensor(y.shape, seed: 13)
        try (y16.to(.float32) * g).sum().backward()
        let xr = try rounded(x.detach(), .bfloat16), wr = try rounded(w.detach(), .bfloat16)
        xr.requiresGrad = true; wr.requiresGrad = true
        try (xr.conv2d(weight: wr, padding: (1, 1)) * rounded(g, .bfloat16)).sum().backward()
        XCTAssertLessThan(try maxRelativeDifference(XCTUnwrap(x.grad), XCTUnwrap(xr.grad)), 1e-5, "input gradient")
        XCTAssertLessThan(try maxRelativeDifference(XCTUnwrap(w.grad), XCTUnwrap(wr.grad)), 1e-5, "weight gradient")
    }

    func testBFloat16ChainPassesBFloat16TensorsBetweenUnits() throws {
        // conv -> BN + mish -> pool -> conv -> BN + leaky -> residual sum -> join -> output conv:
        // under bfloat16 autocast, where the backend passes bfloat16 directly, every tensor between
        // the units is bfloat16 (no float32 round trip) and the output conv gives float32; the loss
        // and the weight gradients agree with the float32 chain.
        let direct = Backends.cpu.directOperandTypes(.convolution).contains(.bfloat16)
        let x = try randomTensor([2, 6, 12, 12], seed: 21)
        let weights = try [[8, 6, 3, 3], [8, 8, 3, 3], [8, 8, 1, 1], [5, 16, 1, 1]].enumerated().map {
            try randomTensor($0.element, seed: 30 + UInt64($0.offset), low: -0.3, high: 0.3)
        }
        let g = try randomTensor([2, 5, 6, 6], seed: 40)
        func unit(_ input: Tensor, _ w: Tensor, _ activation: FusedActivation, _ padding: Int) throws -> Tensor {
            let c = w.shape[0]
            let y = try input.conv2d(weight: w, padding: (padding, padding), lowPrecisionOutput: true)
            return try y.batchNormActivation(weight: Tensor.ones([c]), bias: Tensor.zeros([c]), runningMean: Tensor.zeros([c]),
                                             runningVar: Tensor.ones([c]), activation: activation)
        }
        func run(_ type: DType?) throws -> (loss: Float, grads: [[Float]], types: [DType]) {
            let ws = try weights.map { try $0.clone() }
            for w in ws { w.requiresGrad = true }
            return try Autocast.with(type) {
                let a = try unit(x, ws[0], .mish, 1)
                let b = try unit(a.maxPool2d(kernel: (2, 2)), ws[1], .leakyRelu(0.1), 1)
                let r = try b + unit(b, ws[2], .leakyRelu(0.1), 0)
                let joined = try Tensor.concat([r, b], axis: 1)
                let out = try joined.conv2d(weight: ws[3])
                let loss = try (out * g).sum()
                try loss.backward()
                return (try loss.item(), try ws.map { try XCTUnwrap($0.grad).toArray() },
                        [a.dtype, b.dtype, r.dtype, joined.dtype, out.dtype])
            }
        }
        let full = try run(nil), half = try run(.bfloat16)
        let between: DType = direct ? .bfloat16 : .float32
        XCTAssertEqual(half.types, [between, between, between, between, .float32])
        XCTAssertEqual(full.types, [DType](repeating: .float32, count: 5))
        XCTAssertEqual(half.loss, full.loss, accuracy: abs(full.loss) * 0.01)
        for (a, b) in zip(half.grads, full.grads) {
            let dot = zip(a, b).map { Double($0) * Double($1) }.reduce(0, +)
            let norms = (a.map { Double($0 * $0) }.reduce(0, +) * b.map { Double($0 * $0) }.reduce(0, +)).squareRoot()
            XCTAssertGreaterThan(dot / norms, 0.99)
        }
    }
}
