import XCTest
@testable import TensorCore

final class ElementwiseTests: XCTestCase {
    func testArithmeticWithScalars() throws {
        let a = try Tensor([1, 2, 3, 4])
        let b = try Tensor([2, 2, 2, 8])
        XCTAssertEqual(try (a + b).toArray(), [3, 4, 5, 12])
        XCTAssertEqual(try (a - b).toArray(), [-1, 0, 1, -4])
        XCTAssertEqual(try (a * b).toArray(), [2, 4, 6, 32])
        XCTAssertEqual(try (a / b).toArray(), [0.5, 1, 1.5, 0.5])
        XCTAssertEqual(try (a * 2 + 1).toArray(), [3, 5, 7, 9])
        XCTAssertEqual(try (1 - a).toArray(), [0, -1, -2, -3])
        XCTAssertEqual(try (12 / a).toArray(), [12, 6, 4, 3])
        XCTAssertEqual(try (-a).toArray(), [-1, -2, -3, -4])
        XCTAssertEqual(try a.pow(2).toArray(), [1, 4, 9, 16])
        XCTAssertEqual(try a.pow(b).toArray(), [1, 4, 9, 65536])
        XCTAssertEqual(try a.maximum(2.5).toArray(), [2.5, 2.5, 3, 4])
        XCTAssertEqual(try a.minimum(b).toArray(), [1, 2, 2, 4])
    }

    func testIntegerArithmetic() throws {
        let a = try Tensor(int64: [7, -3, 10])
        let b = try Tensor(int64: [2, 2, 5])
        XCTAssertEqual(try (a + b).toInt64Array(), [9, -1, 15])
        XCTAssertEqual(try (a * b).toInt64Array(), [14, -6, 50])
        XCTAssertEqual(try (a / b).toInt64Array(), [3, -1, 2])
        XCTAssertEqual(try a.greater(b).toBoolArray(), [true, false, true])
    }

    func testBroadcastingRules() throws {
        let column = try Tensor([1, 2, 3], shape: [3, 1])
        let row = try Tensor([10, 20], shape: [2])
        let sum = try column + row
        XCTAssertEqual(sum.shape, [3, 2])
        XCTAssertEqual(try sum.toArray(), [11, 21, 12, 22, 13, 23])
        let cube = try Tensor.ones([2, 1, 4])
        let plane = try Tensor.arange(12, dtype: .float32).reshape([3, 4])
        let product = try cube * plane
        XCTAssertEqual(product.shape, [2, 3, 4])
        XCTAssertEqual(try product.toArray(), Array(0..<12).map(Float.init) + Array(0..<12).map(Float.init))
        let scalar = try Tensor(scalar: 5)
        XCTAssertEqual(try (plane - scalar).shape, [3, 4])
    }

    func testBroadcastFailureNamesShapes() throws {
        let a = try Tensor.zeros([2, 3]), b = try Tensor.zeros([4, 3])
        assertThrowsMessage(["add", "[2, 3]", "[4, 3]", "cannot be broadcast"]) { try a + b }
        let c = try Tensor.zeros([3, 2])
        assertThrowsMessage(["mul", "[2, 3]", "[3, 2]"]) { try a * c }
    }

    func testUnaryFunctionsMatchFoundation() throws {
        let xs: [Float] = [-3, -0.5, 0, 0.25, 2, 25]
        let x = try Tensor(xs)
        assertClose(try x.exp().toArray(), xs.map { Foundation.exp($0) })
        assertClose(try x.abs().toArray(), xs.map { Swift.abs($0) })
        assertClose(try x.sigmoid().toArray(), xs.map { 1 / (1 + Foundation.exp(-$0)) })
        assertClose(try x.tanh().toArray(), xs.map { Foundation.tanh($0) })
        assertClose(try x.atan().toArray(), xs.map { Foundation.atan($0) })
        assertClose(try x.relu().toArray(), xs.map { Swift.max($0, 0) })
        assertClose(try x.leakyRelu(0.1).toArray(), xs.map { $0 > 0 ? $0 : 0.1 * $0 })
        let softplus = xs.map { $0 > 20 ? $0 : Foundation.log(1 + Foundation.exp($0)) }
        assertClose(try x.softplus().toArray(), softplus)
        assertClose(try x.mish().toArray(), zip(xs, softplus).map { $0 * Foundation.tanh($1) })
        assertClose(try x.clamp(min: -1, max: 1).toArray(), xs.map { Swift.min(Swift.max($0, -1), 1) })
        assertClose(try x.floor().toArray(), xs.map { Foundation.floor($0) })
        let positive = try Tensor([0.5, 1, 4])
        assertClose(try positive.log().toArray(), [Foundation.log(0.5), 0, Foundation.log(4)])
        assertClose(try positive.sqrt().toArray(), [Foundation.sqrt(0.5), 1, 2])
        assertClose(try Tensor([1]).atan2(Tensor([-1])).toArray(), [Float.pi * 3 / 4])
    }

    /// The SIMD exp, log, sigmoid, softplus and mish (forward and backward) against double precision
    /// over dense grids, with the error bounds fastmath.h states (a little headroom for the grid).
    func testVectorisedTranscendentalsAgainstDoublePrecision() throws {
        let xs = stride(from: -87.0, to: 88.5, by: 0.00917).map { Float($0) }   // 19 000 points, odd spacing
        let x = try Tensor(xs)
        func worst(_ ours: [Float], _ reference: (Double) -> Double, relativeTo: (Double) -> Double) -> (Double, Float) {
            var worst = (0.0, Float(0))
            for (a, v) in zip(ours, xs) {
                let r = reference(Double(v)), e = abs(Double(a) - r) / relativeTo(r)
                if e > worst.0 || e.isNaN { worst = (e, v) }
            }
            return worst
        }
        let softplus = { (v: Double) in v > 20 ? v : Foundation.log1p(Foundation.exp(v)) }
        let sigmoid = { (v: Double) in 1 / (1 + Foundation.exp(-v)) }
        let checks: [(String, [Float], (Double) -> Double, (Double) -> Double, Double)] = [
            ("exp", try x.exp().toArray(), Foundation.exp, { Swift.abs($0) }, 1.5e-7),
            ("sigmoid", try x.sigmoid().toArray(), sigmoid, { 1e-6 + Swift.abs($0) }, 2e-7),
            ("softplus", try x.softplus().toArray(), softplus, { Swift.abs($0) }, 3e-7),
            ("mish", try x.mish().toArray(), { $0 * Foundation.tanh(softplus($0)) }, { 1 + Swift.abs($0) }, 3e-7),
        ]
        for (name, ours, reference, scale, bound) in checks {
            let (e, at) = worst(ours, reference, relativeTo: scale)
            XCTAssertLessThan(e, bound, "\(name): error \(e) at \(at)")
        }
        // log over every binade, denormals included.
        let positive = stride(from: -138.0, to: 127.0, by: 0.0131).map { Float(Foundation.pow(2.0, $0)) }
        let logs = try Tensor(positive).log().toArray()
        for (a, v) in zip(logs, positive) {
            let r = Foundation.log(Double(v))
            XCTAssertLessThan(abs(Double(a) - r) / Swift.max(abs(r), 1e-3), 1.5e-7, "log(\(v))")
        }
        XCTAssertEqual(try Tensor([0, -1, .infinity, .nan, 89, -90] as [Float]).log().toArray().map { $0.isNaN ? "nan" : "\($0)" },
                       ["-inf", "nan", "inf", "nan", "\(Foundation.log(Float(89)))", "nan"])
        XCTAssertEqual(try Tensor([89, -90, .nan] as [Float]).exp().toArray().map { $0.isNaN ? "nan" : "\($0)" }, ["inf", "0.0", "nan"])

        // Gradients through autograd: mish', softplus' (= sigmoid) and sigmoid' = s (1 - s).
        for (name, op, derivative) in [
            ("mish", { (t: Tensor) in try t.mish() }, { (v: Double) -> Double in
                let t = Foundation.tanh(softplus(v)); return t + v * (1 - t * t) * sigmoid(v) }),
            ("softplus", { (t: Tensor) in try t.softplus() }, { (v: Double) -> Double in v > 20 ? 1 : sigmoid(v) }),
            ("sigmoid", { (t: Tensor) in try t.sigmoid() }, { (v: Double) -> Double in sigmoid(v) * (1 - sigmoid(v)) }),
        ] as [(String, (Tensor) throws -> Tensor, (Double) -> Double)] {
            let input = try Tensor(xs)
            input.requiresGrad = true
            try op(input).sum().backward()
            let (e, at) = worst(try XCTUnwrap(input.grad).toArray(), derivative, relativeTo: { 1 + Swift.abs($0) })
            XCTAssertLessThan(e, 1e-6, "\(name)': error \(e) at \(at)")
        }
    }

    func testUnaryNeedsFloat32() throws {
        assertThrowsMessage(["exp", "float32", "int64 [2]"]) { try Tensor(int64: [1, 2]).exp() }
    }

    func testComparisonsAndWhere() throws {
        let a = try Tensor([1, 5, 3])
        let b = try Tensor([2, 5, 1])
        XCTAssertEqual(try a.less(b).toBoolArray(), [true, false, false])
        XCTAssertEqual(try a.lessEqual(b).toBoolArray(), [true, true, false])
        XCTAssertEqual(try a.equal(b).toBoolArray(), [false, true, false])
        XCTAssertEqual(try a.notEqual(b).toBoolArray(), [true, false, true])
        XCTAssertEqual(try a.greaterEqual(3).toBoolArray(), [false, true, true])
        let mask = try a.greater(b)
        XCTAssertEqual(try mask.logicalNot().toBoolArray(), [true, true, false])
        XCTAssertEqual(try mask.logicalOr(a.less(b)).toBoolArray(), [true, false, true])
        XCTAssertEqual(try Tensor.where(mask, a, b).toArray(), [2, 5, 3])
        XCTAssertEqual(try a.maskedFill(mask, -1).toArray(), [1, 5, -1])
        // The condition broadcasts too.
        let rows = try Tensor(bool: [true, false], shape: [2, 1])
        XCTAssertEqual(try Tensor.where(rows, Tensor.ones([2, 3]), 0).toArray(), [1, 1, 1, 0, 0, 0])
        assertThrowsMessage(["where", "bool", "float32"]) { try Tensor.where(a, a, b) }
    }

    func testInPlaceUpdates() throws {
        let p = try Tensor([1, 2, 3])
        try p.add_(Tensor([1, 1, 1]))
        try p.mul_(2)
        XCTAssertEqual(try p.toArray(), [4, 6, 8])
        try p.slice(axis: 0, start: 1).fill_(0)
        XCTAssertEqual(try p.toArray(), [4, 0, 0])
        p.requiresGrad = true
        assertThrowsMessage(["in-place", "requires grad"]) { try p.add_(1) }
        try withNoGrad { try p.add_(1) }
        XCTAssertEqual(try p.toArray(), [5, 1, 1])
    }
}

import Foundation
