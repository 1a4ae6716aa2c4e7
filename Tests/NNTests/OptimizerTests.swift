import Foundation
import XCTest
@testable import NN
import TensorCore

final class OptimizerTests: XCTestCase {
    func parameter(_ values: [Float], grad: [Float]) throws -> Parameter {
        let p = Parameter(try Tensor(values))
        p.value.grad = try Tensor(grad)
        return p
    }

    func testSGDNesterovWithWeightDecay() throws {
        let p = try parameter([1, -2], grad: [0.5, 0.25])
        let opt = Optimizer(.sgd, groups: [ParameterGroup(parameters: [("w", p)], weightDecay: 0.1)], lr: 0.1, momentum: 0.9)
        try opt.step()
        // d = g + 0.1 p = (0.6, 0.05); buf = d; p -= 0.1 (d + 0.9 buf)
        let first: [Double] = [1 - 0.1 * 0.6 * 1.9, -2 - 0.1 * 0.05 * 1.9]
        for (a, e) in zip(try p.value.toArray(), first) { XCTAssertEqual(Double(a), e, accuracy: 1e-6) }
        let after1 = try p.value.toArray()
        p.value.grad = try Tensor([0.5, 0.25])
        try opt.step()
        let d = [0.5 + 0.1 * after1[0], 0.25 + 0.1 * after1[1]]
        let buf = [0.9 * 0.6 + d[0], 0.9 * 0.05 + d[1]]
        let expected = [after1[0] - 0.1 * (d[0] + 0.9 * buf[0]), after1[1] - 0.1 * (d[1] + 0.9 * buf[1])]
        for (a, e) in zip(try p.value.toArray(), expected) { XCTAssertEqual(a, e, accuracy: 1e-6) }
    }

    func testAdamAndAdamW() throws {
        for kind in [OptimizerKind.adam, .adamw] {
            let p = try parameter([1, -2], grad: [0.5, -0.25])
            let opt = Optimizer(kind, groups: [ParameterGroup(parameters: [("w", p)], weightDecay: 0.01)], lr: 0.001, momentum: 0.9)
            var values: [Double] = [1, -2], m: [Double] = [0, 0], v: [Double] = [0, 0]
            for t in 1...3 {
                p.value.grad = try Tensor([0.5, -0.25])
                try opt.step()
                for i in 0..<2 {
                    var g = [0.5, -0.25][i]
                    if kind == .adamw { values[i] *= 1 - 0.001 * 0.01 } else { g += 0.01 * values[i] }
                    m[i] = 0.9 * m[i] + 0.1 * g
                    v[i] = 0.999 * v[i] + 0.001 * g * g
                    let mh = m[i] / (1 - pow(0.9, Double(t))), vh = v[i] / (1 - pow(0.999, Double(t)))
                    values[i] -= 0.001 * mh / (vh.squareRoot() + 1e-8)
                }
            }
            for (a, e) in zip(try p.value.toArray(), values) { XCTAssertEqual(Double(a), e, accuracy: 1e-6, "\(kind)") }
        }
    }

    func testFrozenParametersAreSkippedAndStateRoundTrips() throws {
        let p = try parameter([1], grad: [1])
        let frozen = try parameter([5], grad: [1])
        frozen.requiresGrad = false
        let opt = Optimizer(.sgd, groups: [ParameterGroup(parameters: [("a", p), ("b", frozen)], weightDecay: 0)], lr: 0.5, momentum: 0.9)
        try opt.step()
        XCTAssertEqual(try frozen.value.toArray(), [5])
        let saved = opt.stateDict()
        let other = Optimizer(.sgd, groups: opt.groups, lr: 0.5, momentum: 0.9)
        try other.load(stateDict: saved)
        XCTAssertEqual(other.state["a"]?.step, 1)
        XCTAssertEqual(try other.state["a"]?.first.toArray(), [1])
        XCTAssertThrowsError(try Optimizer(.adam, groups: opt.groups, lr: 1, momentum: 0.9).load(stateDict: saved))
    }

    func testYOLOGroupsSplitLikeTheReference() throws {
        final class Net: Module {
            let conv: Conv2d, bn: BatchNorm2d, head: Conv2d
            init(seed: UInt64) throws {
                let g = RandomGenerator(seed: seed)
                conv = try Conv2d(3, 4, kernel: 3, generator: g); bn = try BatchNorm2d(4, generator: g)
                head = try Conv2d(4, 2, kernel: 1, bias: true, generator: g)
                super.init()
                register("conv", conv); register("bn", bn); register("head", head)
            }
        }
        let groups = ParameterGroup.yoloGroups(try Net(seed: 1), weightDecay: 5e-4)
        XCTAssertEqual(groups.map { $0.parameters.map(\.0) }, [["bn.weight"], ["conv.weight", "head.weight"], ["bn.bias", "head.bias"]])
        XCTAssertEqual(groups.map(\.weightDecay), [0, 5e-4, 0])
    }
}
