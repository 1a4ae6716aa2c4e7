import XCTest
@testable import TensorCore

/// Every differentiable operation against central finite differences.
final class GradientTests: XCTestCase {
    func r(_ shape: [Int], _ seed: UInt64, _ low: Float = -1, _ high: Float = 1) throws -> Tensor {
        try randomTensor(shape, seed: seed, low: low, high: high)
    }

    func testArithmeticWithBroadcasting() throws {
        try checkGradients([r([2, 3], 1), r([3], 2)]) { try $0[0] + $0[1] }
        try checkGradients([r([2, 3], 3), r([2, 1], 4)]) { try $0[0] - $0[1] }
        try checkGradients([r([2, 3], 5), r([1, 3], 6)]) { try $0[0] * $0[1] }
        try checkGradients([r([2, 3], 7), r([3], 8, 0.5, 2)]) { try $0[0] / $0[1] }
        try checkGradients([r([2, 3], 9, 0.5, 2), r([2, 3], 10)]) { try $0[0].pow($0[1]) }
        try checkGradients([r([4], 11, 0.5, 2)]) { try $0[0].pow(1.5) }
        try checkGradients([r([3, 2], 12), r([3, 2], 13)]) { try $0[0].maximum($0[1]) }
        try checkGradients([r([3, 2], 14), r([2], 15)]) { try $0[0].minimum($0[1]) }
        try checkGradients([r([3], 16), r([3], 17, 0.5, 1)]) { try $0[0].atan2($0[1]) }
        try checkGradients([r([2, 2], 18)]) { try -$0[0] * 3 + 1 }
    }

    func testUnaryFunctions() throws {
        let x = try r([2, 5], 20, -3, 3)
        let fs: [(String, (Tensor) throws -> Tensor)] = [
            ("exp", { try $0.exp() }), ("sigmoid", { try $0.sigmoid() }), ("tanh", { try $0.tanh() }),
            ("softplus", { try $0.softplus() }), ("mish", { try $0.mish() }), ("atan", { try $0.atan() }),
            ("leakyRelu", { try $0.leakyRelu(0.1) }), ("relu", { try $0.relu() }), ("square", { try $0.square() }),
            ("abs", { try $0.abs() }), ("clamp", { try $0.clamp(min: -1, max: 1.5) }), ("sin", { try $0.sin() }),
        ]
        for (_, f) in fs { try checkGradients([x.detach().clone()]) { try f($0[0]) } }
        let positive = try r([6], 21, 0.5, 3)
        try checkGradients([positive]) { try $0[0].log() }
        try checkGradients([positive.detach().clone()]) { try $0[0].sqrt() }
        try checkGradients([positive.detach().clone()]) { try $0[0].reciprocal() }
    }

    func testReductions() throws {
        try checkGradients([r([2, 3, 4], 30)]) { try $0[0].sum() }
        try checkGradients([r([2, 3, 4], 31)]) { try $0[0].sum(axes: [0, 2]) }
        try checkGradients([r([2, 3, 4], 32)]) { try $0[0].mean(axis: 1, keepDims: true) }
        try checkGradients([r([3, 4], 33)]) { try $0[0].max(axis: 1).values }
        try checkGradients([r([3, 4], 34)]) { try $0[0].min(axis: 0, keepDims: true).values }
        try checkGradients([r([3, 4], 35)]) { try $0[0].max() }
    }

    func testViewsAndJoins() throws {
        try checkGradients([r([2, 3], 40)]) { try $0[0].transpose(0, 1).reshape([6]) }
        try checkGradients([r([2, 3, 4], 41)]) { try $0[0].permute([2, 0, 1]).contiguous() }
        try checkGradients([r([4, 5], 42)]) { try $0[0].slice(axis: 1, start: 1, end: 5, step: 2) }
        try checkGradients([r([3, 1], 43)]) { try $0[0].expand([3, 4]) }
        try checkGradients([r([2, 3], 44), r([2, 2], 45)]) { try Tensor.concat([$0[0], $0[1]], axis: 1) }
        try checkGradients([r([2, 3], 46), r([2, 3], 47)]) { try Tensor.stack([$0[0], $0[1]], axis: 0) }
        try checkGradients([r([2, 6], 48)]) { t in
            let parts = try t[0].split(sizes: [2, 4], axis: 1)
            return try parts[0].sum(axis: 1) * parts[1].sum(axis: 1)
        }
        try checkGradients([r([1, 3, 1], 49)]) { try $0[0].squeeze().unsqueeze(0) * 2 }
        try checkGradients([r([3], 50)]) { try $0[0].to(.float16).to(.float32) * 1 }
    }

    func testIndexing() throws {
        let idx = try Tensor(int64: [2, 0, 1, 1], shape: [2, 2])
        try checkGradients([r([2, 3], 60)]) { try $0[0].gather(axis: 1, index: idx) }
        try checkGradients([r([2, 3], 61), r([2, 2], 62)]) { try $0[0].scatterAdd(axis: 1, index: idx, source: $0[1]) }
        let distinct = try Tensor(int64: [2, 0, 1, 2], shape: [2, 2])
        try checkGradients([r([2, 3], 63), r([2, 2], 64)]) { try $0[0].scatter(axis: 1, index: distinct, source: $0[1]) }
        try checkGradients([r([4, 2], 65)]) { try $0[0].indexSelect(axis: 0, index: Tensor(int64: [3, 0, 3])) }
        try checkGradients([r([3], 66), r([2], 67)]) { try $0[0].indexAdd(axis: 0, index: Tensor(int64: [2, 2]), source: $0[1]) }
        let mask = try Tensor(bool: [true, false, true, true, false, false], shape: [2, 3])
        try checkGradients([r([2, 3], 68)]) { try $0[0].maskedSelect(mask) }
        let cond = try Tensor(bool: [true, false, true])
        try checkGradients([r([2, 3], 69), r([3], 70)]) { try Tensor.where(cond, $0[0], $0[1]) }
    }

    func testMatmul() throws {
        try checkGradients([r([3, 4], 80), r([4, 2], 81)]) { try $0[0].matmul($0[1]) }
        try checkGradients([r([2, 3, 4], 82), r([4, 2], 83)]) { try $0[0].matmul($0[1]) }
        try checkGradients([r([2, 3, 4], 84), r([2, 4, 2], 85)]) { try $0[0].matmul($0[1]) }
    }

    func testNeuralNetworkOps() throws {
        try checkGradients([r([2, 3, 5, 5], 90), r([4, 3, 3, 3], 91), r([4], 92)]) {
            try $0[0].conv2d(weight: $0[1], bias: $0[2], stride: (2, 2), padding: (1, 1))
        }
        // Distinct values keep finite differences away from max-pool ties.
        let distinct = try Tensor((0..<50).map { Float(($0 * 37) % 50) / 10 }, shape: [1, 2, 5, 5])
        try checkGradients([distinct]) { try $0[0].maxPool2d(kernel: (3, 3), stride: (1, 1), padding: (1, 1)) }
        try checkGradients([r([1, 2, 2, 3], 93)]) { try $0[0].upsampleNearest(factor: 2) }
    }
}
