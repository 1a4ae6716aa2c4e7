import XCTest
@testable import TensorCore

/// Channels-last tensors: the same values as NCHW through every operation that keeps them
/// (inference convolution, max pooling, upsampling, concatenation) and through strided reads.
final class ChannelsLastTests: XCTestCase {
    override func tearDown() { ChannelsLastInference.enabled = true }

    /// `body` with the channels-last chain on and off: both results, the first as it came.
    private func bothWays(_ body: () throws -> Tensor) throws -> (Tensor, [Float]) {
        ChannelsLastInference.enabled = true
        let kept = try withNoGrad { try body() }
        ChannelsLastInference.enabled = false
        let plain = try withNoGrad { try body() }
        ChannelsLastInference.enabled = true
        XCTAssertTrue(plain.isContiguous)
        return (kept, try plain.toArray())
    }

    func testLayoutAndCopies() throws {
        let x = try randomTensor([2, 5, 3, 4], seed: 1)
        let cl = try x.channelsLast()
        XCTAssertTrue(cl.isChannelsLast)
        XCTAssertFalse(cl.isContiguous)
        XCTAssertEqual(cl.strides, [60, 1, 20, 5])
        XCTAssertEqual(try cl.toArray(), try x.toArray())
        XCTAssertEqual(try cl.contiguous().toArray(), try x.toArray())
        // Mixed layouts in one elementwise operation (the walk follows the output's memory order).
        let y = try randomTensor([2, 5, 3, 4], seed: 2)
        XCTAssertEqual(try (cl + y).toArray(), try (x + y).toArray())
        let sum = try cl + y.channelsLast()   // a residual sum of two channels-last tensors stays so
        XCTAssertTrue(sum.isOnlyChannelsLast)
        XCTAssertEqual(try sum.toArray(), try (x + y).toArray())
        XCTAssertEqual(try (y * cl).toArray(), try (y * x).toArray())
        XCTAssertEqual(try x.transpose(1, 3).contiguous().toArray(), try cl.transpose(1, 3).contiguous().toArray())
        // One pixel or one channel: channels-last and contiguous at once.
        XCTAssertTrue(try Tensor.zeros([2, 3, 1, 1]).isChannelsLast)
        // Gradients flow back through the copy.
        x.requiresGrad = true
        try (x.channelsLast() * y).sum().backward()
        XCTAssertEqual(try XCTUnwrap(x.grad).toArray(), try y.toArray())
    }

    func testInferenceConvolutionKeepsTheLayoutAndTheValues() throws {
        let whole = try randomTensor([2, 12, 9, 7], seed: 3)
        let w = try randomTensor([16, 6, 3, 3], seed: 4), b = try randomTensor([16], seed: 5)
        for activation in [FusedActivation.none, .leakyRelu(0.1), .mish] {
            // A channel slice of a channels-last tensor (the tiny CSP block's split) as the input.
            let (kept, plain) = try bothWays {
                let source = ChannelsLastInference.enabled ? try whole.channelsLast() : whole
                let half = try source.narrow(axis: 1, start: 6, length: 6)
                let y = try half.conv2dFused(weight: w, bias: b, padding: (1, 1), activation: activation)
                return try y.conv2dFused(weight: randomTensor([8, 16, 1, 1], seed: 6), bias: nil, activation: activation)
            }
            XCTAssertTrue(kept.isOnlyChannelsLast, "\(activation)")
            assertClose(try kept.toArray(), plain, tolerance: 1e-5, "\(activation)")
        }
    }

    func testPoolingUpsamplingAndConcatenation() throws {
        let x = try randomTensor([2, 6, 8, 10], seed: 7)
        // The tiny backbone's 2x2 pool, the SPP pools (stride 1, same padding), a 3x3 stride-2 pool.
        for (k, s, pad) in [(2, 2, 0), (5, 1, 2), (13, 1, 6), (3, 2, 1)] {
            let (kept, plain) = try bothWays {
                try (ChannelsLastInference.enabled ? x.channelsLast() : x).maxPool2d(kernel: (k, k), stride: (s, s),
                                                                                    padding: (pad, pad))
            }
            XCTAssertTrue(kept.isOnlyChannelsLast)
            XCTAssertEqual(try kept.toArray(), plain, "pool \(k)/\(s)/\(pad)")
        }
        let (up, upPlain) = try bothWays {
            try (ChannelsLastInference.enabled ? x.channelsLast() : x).upsampleNearest(factor: 2)
        }
        XCTAssertTrue(up.isOnlyChannelsLast)
        XCTAssertEqual(try up.toArray(), upPlain)
        let other = try randomTensor([2, 3, 8, 10], seed: 8)
        let (joined, joinedPlain) = try bothWays {
            let on = ChannelsLastInference.enabled
            return try Tensor.concat([on ? x.channelsLast() : x, on ? other.channelsLast() : other], axis: 1)
        }
        XCTAssertTrue(joined.isOnlyChannelsLast)
        XCTAssertEqual(try joined.toArray(), joinedPlain)
    }

    func testTrainingReadsAChannelsLastInputAsNCHW() throws {
        // With a gradient wanted the pool runs on an NCHW copy and keeps its positions.
        let x = try randomTensor([2, 4, 6, 6], seed: 9)
        let a = try x.clone(), b = try x.clone()
        a.requiresGrad = true; b.requiresGrad = true
        let g = try randomTensor([2, 4, 3, 3], seed: 10)
        let ya = try a.channelsLast().maxPool2d(kernel: (2, 2)), yb = try b.maxPool2d(kernel: (2, 2))
        XCTAssertTrue(ya.isContiguous)
        try (ya * g).sum().backward()
        try (yb * g).sum().backward()
        XCTAssertEqual(try XCTUnwrap(a.grad).toArray(), try XCTUnwrap(b.grad).toArray())
    }
}
