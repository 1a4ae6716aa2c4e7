import Foundation
import XCTest
@testable import CUDABackend
import TensorCore

/// Every GPU operation against the CPU backend on the same random inputs (the CPU is the oracle),
/// forward and backward. Skipped, saying so, where no GPU is usable.
final class GPUAgainstCPUTests: XCTestCase {
    let gpu = Device.cuda(0)

    override func setUpWithError() throws {
        useRepositoryCUDAFolder()
        if case .failure(let error) = CUDA.install() { throw XCTSkip("GPU tests skipped: \(error)") }
    }

    func random(_ shape: [Int], seed: UInt64, low: Float = -1, high: Float = 1) throws -> Tensor {
        try Tensor.uniform(shape, low: low, high: high, generator: RandomGenerator(seed: seed))
    }

    func assertClose(_ gpuValue: Tensor, _ cpuValue: Tensor, tolerance: Float = 1e-4, _ what: String,
                     file: StaticString = #filePath, line: UInt = #line) throws {
        XCTAssertEqual(gpuValue.device, gpu, file: file, line: line)
        XCTAssertEqual(gpuValue.shape, cpuValue.shape, what, file: file, line: line)
        let a = try gpuValue.to(device: .cpu).to(.float32).toArray(), b = try cpuValue.to(.float32).toArray()
        let scale = max(b.map(abs).max() ?? 1, 1)
        let worst = zip(a, b).map { abs($0 - $1) }.max() ?? 0
        XCTAssertLessThanOrEqual(worst, tolerance * scale, "\(what): largest difference \(worst)", file: file, line: line)
    }

    /// Runs `f` on both devices with gradients, compares the outputs and each input's gradient.
    func compare(_ what: String, inputs: [Tensor], tolerance: Float = 1e-4, _ f: ([Tensor]) throws -> Tensor) throws {
        let cpuInputs = inputs.map { t -> Tensor in let c = t.detach(); c.requiresGrad = t.dtype == .float32; return c }
        let gpuInputs = try inputs.map { t -> Tensor in let g = try t.to(device: gpu).detach(); g.requiresGrad = t.dtype == .float32; return g }
        let cpuOut = try f(cpuInputs), gpuOut = try f(gpuInputs)
        try assertClose(gpuOut, cpuOut, tolerance: tolerance, what)
        guard cpuOut.dtype == .float32, cpuOut.requiresGradOrHasGraph else { return }
        let weights = try random(cpuOut.shape, seed: 99)
        try (cpuOut * weights).sum().backward()
        try (gpuOut * weights.to(device: gpu)).sum().backward()
        for (i, (c, g)) in zip(cpuInputs, gpuInputs).enumerated() where c.requiresGrad {
            try assertClose(try XCTUnwrap(g.grad), try XCTUnwrap(c.grad), tolerance: tolerance * 10, "\(what): gradient of input \(i)")
        }
    }

    func testElementwiseAndActivations() throws {
        let a = try random([3, 4, 5], seed: 1), b = try random([4, 1], seed: 2, low: 0.5, high: 2)
        try compare("add with broadcast", inputs: [a, b]) { try $0[0] + $0[1] }
        try compare("div", inputs: [a, b]) { try $0[0] / $0[1] }
        try compare("maximum", inputs: [a, b]) { try $0[0].maximum($0[1]) }
        try compare("sigmoid", inputs: [a]) { try $0[0].sigmoid() }
        try compare("mish", inputs: [a]) { try $0[0].mish() }
        try compare("leaky relu", inputs: [a]) { try $0[0].leakyRelu(0.1) }
        try compare("exp log", inputs: [b]) { try $0[0].exp().log() }
        try compare("permuted copy", inputs: [a]) { try $0[0].permute([2, 0, 1]).contiguous() }
        try compare("comparison", inputs: [a, b]) { try $0[0].greater($0[1]).to(.float32) }
        try compare("where", inputs: [a, b]) { try Tensor.where($0[0].greater($0[1]), $0[0], $0[1] * $0[0]) }
    }

    func testReductionsAndIndexing() throws {
        let x = try random([4, 6, 5], seed: 3)
        try compare("sum axis", inputs: [x]) { try $0[0].sum(axis: 1) }
        try compare("mean all", inputs: [x]) { try $0[0].mean() }
        try compare("max values", inputs: [x]) { try $0[0].max(axis: 2).values }
        try compare("argmax", inputs: [x]) { try $0[0].argmax(axis: 1).to(.float32) }
        let index = try Tensor(int64: [2, 0, 5, 5, 1], device: .cpu)
        try compare("index select", inputs: [x]) { t in try t[0].indexSelect(axis: 1, index: index.to(device: t[0].device)) }
        let gatherIndex = try Tensor(int64: (0..<(4 * 3 * 5)).map { Int64(($0 * 7) % 6) }, device: .cpu).reshape([4, 3, 5])
        try compare("gather", inputs: [x]) { t in try t[0].gather(axis: 1, index: gatherIndex.to(device: t[0].device)) }
        try compare("matmul batched", inputs: [try random([3, 4, 6], seed: 4), try random([3, 6, 2], seed: 5)]) { try $0[0].matmul($0[1]) }
    }

    func testConvolutionBatchNormPoolingUpsample() throws {
        let x = try random([2, 6, 13, 11], seed: 6)
        // TF32 is allowed for cuDNN convolutions as in PyTorch, hence the looser tolerance.
        for (stride, padding, groups) in [((1, 1), (1, 1), 1), ((2, 2), (1, 1), 1), ((1, 1), (0, 0), 2)] {
            let w = try random([8, 6 / groups, 3, 3], seed: 7), bias = try random([8], seed: 8)
            try compare("conv2d stride \(stride) groups \(groups)", inputs: [x, w, bias], tolerance: 5e-3) {
                try $0[0].conv2d(weight: $0[1], bias: $0[2], stride: stride, padding: padding, groups: groups)
            }
        }
        let gamma = try random([6], seed: 9, low: 0.5, high: 1.5), beta = try random([6], seed: 10)
        for training in [true, false] {
            try compare("batch norm training \(training)", inputs: [x, gamma, beta], tolerance: 1e-3) { t in
                let mean = try Tensor.zeros([6], device: t[0].device), variance = try Tensor.ones([6], device: t[0].device)
                return try t[0].batchNorm2d(weight: t[1], bias: t[2], runningMean: mean, runningVar: variance, training: training,
                                            epsilon: 1e-3)
            }
        }
        try compare("max pool 2x2", inputs: [x]) { try $0[0].maxPool2d(kernel: (2, 2)) }
        try compare("max pool 5x5 stride 1 (SPP)", inputs: [x]) { try $0[0].maxPool2d(kernel: (5, 5), stride: (1, 1), padding: (2, 2)) }
        try compare("upsample x2", inputs: [x]) { try $0[0].upsampleNearest(factor: 2) }
    }

    func testMixingDevicesNamesBoth() throws {
        let a = try random([2], seed: 11), b = try random([2], seed: 12).to(device: gpu)
        XCTAssertThrowsError(try a + b) { error in
            XCTAssertTrue("\(error)".contains("cpu") && "\(error)".contains("cuda:0"), "\(error)")
        }
    }
}

extension Tensor {
    var requiresGradOrHasGraph: Bool { requiresGrad || !isLeaf }
}
