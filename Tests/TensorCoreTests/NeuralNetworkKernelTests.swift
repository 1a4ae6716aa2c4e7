import XCTest
@testable import TensorCore

/// The oneDNN kernels against the naive references in ReferenceKernels.swift.
final class NeuralNetworkKernelTests: XCTestCase {
    private func checkConv(_ c: Reference.Conv, bias: Bool, seed: UInt64, file: StaticString = #filePath, line: UInt = #line) throws {
        let x = try randomTensor([c.n, c.c, c.h, c.w], seed: seed)
        let w = try randomTensor([c.k, c.cg, c.kh, c.kw], seed: seed + 1)
        let b = bias ? try randomTensor([c.k], seed: seed + 2) : nil
        x.requiresGrad = true; w.requiresGrad = true; b?.requiresGrad = true
        let y = try x.conv2d(weight: w, bias: b, stride: (c.stride, c.stride), padding: (c.pad, c.pad),
                             dilation: (c.dilation, c.dilation), groups: c.groups)
        XCTAssertEqual(y.shape, [c.n, c.k, c.oh, c.ow], file: file, line: line)
        let expected = c.forward(try x.toArray(), try w.toArray(), try b?.toArray())
        assertClose(try y.toArray(), expected, tolerance: 1e-4, "forward \(c)", file: file, line: line)

        let gradOut = try randomTensor(y.shape, seed: seed + 3)
        try y.backward(gradOut)
        let g = try gradOut.toArray()
        assertClose(try x.grad!.toArray(), c.backwardData(g, try w.toArray()), tolerance: 1e-4, "backward data \(c)",
                    file: file, line: line)
        let (gw, gb) = c.backwardWeights(try x.toArray(), g)
        assertClose(try w.grad!.toArray(), gw, tolerance: 1e-4, "backward weights \(c)", file: file, line: line)
        if bias { assertClose(try b!.grad!.toArray(), gb, tolerance: 1e-4, "backward bias", file: file, line: line) }
    }

    func testConvolutionShapes() throws {
        // 3x3 same padding, channels not multiples of 8
        try checkConv(.init(n: 2, c: 3, h: 7, w: 6, k: 5, kh: 3, kw: 3, stride: 1, pad: 1, dilation: 1, groups: 1), bias: false, seed: 1)
        // 1x1 with bias (the YOLO head), batch 1
        try checkConv(.init(n: 1, c: 12, h: 5, w: 5, k: 7, kh: 1, kw: 1, stride: 1, pad: 0, dilation: 1, groups: 1), bias: true, seed: 2)
        // stride 2 downsampling with odd and even sizes
        try checkConv(.init(n: 2, c: 4, h: 8, w: 9, k: 6, kh: 3, kw: 3, stride: 2, pad: 1, dilation: 1, groups: 1), bias: false, seed: 3)
        // blocked-layout sizes (multiples of 8) go through reorders
        try checkConv(.init(n: 2, c: 16, h: 6, w: 6, k: 24, kh: 3, kw: 3, stride: 1, pad: 1, dilation: 1, groups: 1), bias: true, seed: 4)
        // dilation, no padding, a rectangular output
        try checkConv(.init(n: 1, c: 2, h: 9, w: 7, k: 3, kh: 3, kw: 3, stride: 1, pad: 0, dilation: 2, groups: 1), bias: true, seed: 5)
        // groups
        try checkConv(.init(n: 2, c: 6, h: 5, w: 5, k: 4, kh: 3, kw: 3, stride: 1, pad: 1, dilation: 1, groups: 2), bias: false, seed: 6)
    }

    func testConvolutionErrorsNameShapes() throws {
        let x = try Tensor.zeros([1, 3, 8, 8])
        assertThrowsMessage(["conv2d", "[1, 3, 8, 8]", "3 channels", "expects 4"]) { try x.conv2d(weight: Tensor.zeros([2, 4, 3, 3])) }
        assertThrowsMessage(["conv2d", "rank 4", "[3, 8, 8]"]) { try Tensor.zeros([3, 8, 8]).conv2d(weight: Tensor.zeros([2, 3, 3, 3])) }
        assertThrowsMessage(["too small"]) { try Tensor.zeros([1, 3, 2, 2]).conv2d(weight: Tensor.zeros([2, 3, 5, 5])) }
        assertThrowsMessage(["bias", "[3]", "[2]"]) { try x.conv2d(weight: Tensor.zeros([2, 3, 1, 1]), bias: Tensor.zeros([3])) }
    }

    func testBatchNormTrainingAndRunningStatistics() throws {
        let (n, c, h, w) = (3, 5, 4, 3)
        let x = try randomTensor([n, c, h, w], seed: 11, low: -2, high: 3)
        let scale = try randomTensor([c], seed: 12, low: 0.5, high: 1.5)
        let shift = try randomTensor([c], seed: 13)
        let runningMean = try Tensor.zeros([c]), runningVar = try Tensor.ones([c])
        let y = try x.batchNorm2d(weight: scale, bias: shift, runningMean: runningMean, runningVar: runningVar,
                                  training: true, momentum: 0.1, epsilon: 1e-5)
        let ref = Reference.batchNorm(try x.toArray(), n: n, c: c, hw: h * w, scale: try scale.toArray(),
                                      shift: try shift.toArray(), eps: 1e-5)
        assertClose(try y.toArray(), ref.out, tolerance: 1e-4)
        let m = Float(n * h * w)
        assertClose(try runningMean.toArray(), ref.mean.map { 0.1 * $0 })
        assertClose(try runningVar.toArray(), ref.variance.map { 0.9 + 0.1 * $0 * m / (m - 1) })

        // Inference uses the running statistics.
        let z = try x.batchNorm2d(weight: scale, bias: shift, runningMean: runningMean, runningVar: runningVar, training: false)
        let xs = try x.toArray(), rm = try runningMean.toArray(), rv = try runningVar.toArray()
        let sc = try scale.toArray(), sh = try shift.toArray()
        let expected = xs.enumerated().map { i, v -> Float in
            let ch = (i / (h * w)) % c
            return (v - rm[ch]) / (rv[ch] + 1e-5).squareRoot() * sc[ch] + sh[ch]
        }
        assertClose(try z.toArray(), expected, tolerance: 1e-4)
        assertThrowsMessage(["batch size of at least 2"]) {
            try Tensor.zeros([1, c, 1, 1]).batchNorm2d(weight: scale, bias: shift, runningMean: runningMean,
                                                      runningVar: runningVar, training: true)
        }
    }

    func testBatchNormGradients() throws {
        let rm = try Tensor.zeros([3]), rv = try Tensor.ones([3])
        for training in [true, false] {
            try checkGradients([try randomTensor([2, 3, 2, 3], seed: 21), try randomTensor([3], seed: 22, low: 0.5, high: 1.5),
                                try randomTensor([3], seed: 23)], eps: 1e-2, tolerance: 3e-2) { t in
                try t[0].batchNorm2d(weight: t[1], bias: t[2], runningMean: rm.detach().clone(), runningVar: rv.detach().clone(),
                                     training: training)
            }
        }
    }

    func testMaxPoolMatchesReference() throws {
        // The SPP pools (5, 9, 13 with stride 1 and same padding) and tiny's 2x2 stride-2 pool.
        for (k, stride, pad, size) in [(5, 1, 2, 7), (9, 1, 4, 9), (13, 1, 6, 6), (2, 2, 0, 8), (3, 2, 1, 7)] {
            let x = try randomTensor([2, 3, size, size], seed: UInt64(k * 10 + size))
            x.requiresGrad = true
            let y = try x.maxPool2d(kernel: (k, k), stride: (stride, stride), padding: (pad, pad))
            let gradOut = try randomTensor(y.shape, seed: 99)
            let ref = Reference.maxPool(try x.toArray(), n: 2, c: 3, h: size, w: size, k: k, stride: stride, pad: pad,
                                        gradOut: try gradOut.toArray())
            assertClose(try y.toArray(), ref.out, tolerance: 0, "max pool \(k)/\(stride)/\(pad)")
            try y.backward(gradOut)
            assertClose(try x.grad!.toArray(), ref.gradInput, tolerance: 1e-6, "max pool backward \(k)/\(stride)/\(pad)")
        }
    }

    func testBFloat16PoolGivesTheMaximaOfItsFloat32Values() throws {
        // An autocast chain's bfloat16 activation: pooled as it is where the backend passes
        // bfloat16 directly (the maxima are inputs, so exact), widened first elsewhere; the same
        // float32 gradients either way. The 2x2 fast path, an odd size and the SPP geometry.
        let direct = Backends.cpu.directOperandTypes(.convolution).contains(.bfloat16)
        for (k, stride, pad, size) in [(2, 2, 0, 9), (5, 1, 2, 7), (3, 2, 1, 8)] {
            let wide = try randomTensor([2, 3, size, size + 2], seed: UInt64(k + size)).to(.bfloat16).to(.float32)
            let narrow = try wide.to(.bfloat16)
            wide.requiresGrad = true; narrow.requiresGrad = true
            let y = try wide.maxPool2d(kernel: (k, k), stride: (stride, stride), padding: (pad, pad))
            let y16 = try narrow.maxPool2d(kernel: (k, k), stride: (stride, stride), padding: (pad, pad))
            XCTAssertEqual(y16.dtype, direct ? .bfloat16 : .float32)
            XCTAssertEqual(try y16.to(.float32).toArray(), try y.toArray(), "\(k)/\(stride)/\(pad)")
            let gradOut = try randomTensor(y.shape, seed: 7)
            try y.backward(gradOut)
            try y16.backward(gradOut)
            XCTAssertEqual(narrow.grad?.dtype, .float32)
            XCTAssertEqual(try XCTUnwrap(narrow.grad).toArray(), try XCTUnwrap(wide.grad).toArray(), "\(k)/\(stride)/\(pad)")
        }
    }

    func testTwoByTwoPoolPicksTheFirstOfTiedMaxima() throws {
        // The 2x2 stride-2 fast path: an odd size (the last column and row are left out), values
        // from {0, 1, 2} so windows tie and the gradient must go to the first maximum, row-major,
        // and inference (no positions kept) giving the same maxima.
        let values = try randomTensor([2, 3, 9, 11], seed: 5).toArray().map { Float(Int(abs($0) * 7) % 3) }
        let x = try Tensor(values, shape: [2, 3, 9, 11])
        x.requiresGrad = true
        let y = try x.maxPool2d(kernel: (2, 2), stride: (2, 2), padding: (0, 0))
        XCTAssertEqual(y.shape, [2, 3, 4, 5])
        let gradOut = try randomTensor(y.shape, seed: 8)
        let ref = Reference.maxPool(values, n: 2, c: 3, h: 9, w: 11, k: 2, stride: 2, pad: 0, gradOut: try gradOut.toArray())
        XCTAssertEqual(try y.toArray(), ref.out)
        try y.backward(gradOut)
        XCTAssertEqual(try x.grad!.toArray(), ref.gradInput)
        let inference = try withNoGrad { try x.detach().maxPool2d(kernel: (2, 2), stride: (2, 2), padding: (0, 0)) }
        XCTAssertEqual(try inference.toArray(), ref.out)
    }

    func testFrozenWeightsGiveTheSameInputGradient() throws {
        // A frozen layer keeps nothing of its input for the backward; its input gradient is unchanged,
        // in float32 and under bfloat16 autocast.
        for type in [nil, DType.bfloat16] {
            let x = try randomTensor([2, 5, 7, 6], seed: 41), w = try randomTensor([4, 5, 3, 3], seed: 42)
            let g = try randomTensor([2, 4, 7, 6], seed: 43)
            var grads: [[Float]] = []
            for frozen in [false, true] {
                let xi = try x.clone(), wi = try w.clone()
                xi.requiresGrad = true; wi.requiresGrad = !frozen
                let y = try Autocast.with(type) { try xi.conv2d(weight: wi, padding: (1, 1)) }
                try (y * g).sum().backward()
                grads.append(try XCTUnwrap(xi.grad).toArray())
                XCTAssertEqual(wi.grad == nil, frozen)
            }
            XCTAssertEqual(grads[0], grads[1], "\(String(describing: type))")
        }
    }

    func testUpsampleNearest() throws {
        let x = try randomTensor([2, 3, 3, 4], seed: 31)
        x.requiresGrad = true
        let y = try x.upsampleNearest(factor: 2)
        XCTAssertEqual(y.shape, [2, 3, 6, 8])
        assertClose(try y.toArray(), Reference.upsampleNearest(try x.toArray(), n: 2, c: 3, h: 3, w: 4, factor: 2), tolerance: 0)
        try y.sum().backward()
        XCTAssertEqual(try x.grad!.toArray(), [Float](repeating: 4, count: 72))
        // A bfloat16 input (an autocast chain's activation) is widened: float32 result and gradient.
        let narrow = try x.detach().to(.bfloat16)
        narrow.requiresGrad = true
        let y16 = try narrow.upsampleNearest(factor: 2)
        XCTAssertEqual(y16.dtype, .float32)
        XCTAssertEqual(try y16.toArray(), try narrow.to(.float32).upsampleNearest(factor: 2).toArray())
        try y16.sum().backward()
        XCTAssertEqual(narrow.grad?.dtype, .float32)
        XCTAssertEqual(try narrow.grad!.toArray(), [Float](repeating: 4, count: 72))
    }
}
