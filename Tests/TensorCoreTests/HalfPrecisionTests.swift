import XCTest
@testable import TensorCore

/// bfloat16 and float16 conversion against hand values: round to nearest even, ties included,
/// overflow to inf, NaN kept, subnormals.
final class HalfPrecisionTests: XCTestCase {
    func roundTrip(_ values: [Float], _ type: DType) throws -> [Float] {
        try Tensor(values).to(type).to(.float32).toArray()
    }

    func testBFloat16RoundsToNearestEven() throws {
        let ulp: Float = 1.0 / 128   // bfloat16 keeps 7 mantissa bits
        let inputs: [Float] = [1, 1 + ulp / 2, 1 + 1.5 * ulp, 1 + ulp / 2 + 1.0 / 1_048_576, -2.5, 3.3895314e38, 1e-40, 0, -0.0]
        let expected: [Float] = [1, 1, 1 + 2 * ulp, 1 + ulp, -2.5, 3.3895314e38, Float(bitPattern: 0x0001_0000), 0, -0.0]
        let out = try roundTrip(inputs, .bfloat16)
        XCTAssertEqual(out, expected)
        XCTAssertEqual(out.last?.sign, .minus)
        let special = try roundTrip([.greatestFiniteMagnitude, .infinity, -.infinity, .nan], .bfloat16)
        XCTAssertEqual(Array(special.prefix(3)), [.infinity, .infinity, -.infinity], "the largest float rounds up to inf")
        XCTAssertTrue(special[3].isNaN)
        XCTAssertEqual(try Tensor([1, 2]).to(.bfloat16).dtype, .bfloat16)
        XCTAssertEqual(DType.bfloat16.byteSize, 2)
    }

    func testDenseBFloat16ConversionMatchesTheElementwiseOne() throws {
        // Dense runs take a vectorised path, strided ones the element-by-element one: same bits,
        // on enough values to fill vectors, with ties, specials and subnormals mixed in.
        let ulp: Float = 1.0 / 128
        let specials: [Float] = [1 + ulp / 2, 1 + 1.5 * ulp, .greatestFiniteMagnitude, .infinity, -.infinity, .nan,
                                 -.nan, 1e-40, -0.0]
        let values = try randomTensor([991], seed: 17, low: -100, high: 100).toArray() + specials
        let n = values.count
        let pairs = try Tensor(values.flatMap { [$0, 7] }, shape: [n, 2])
        let dense = try Tensor(values, shape: [n, 1]).to(.bfloat16)
        let strided = try pairs.narrow(axis: 1, start: 0, length: 1).to(.bfloat16)
        let denseBack = try dense.to(.float32).toArray(), stridedBack = try strided.to(.float32).toArray()
        XCTAssertEqual(denseBack.map(\.bitPattern), stridedBack.map(\.bitPattern))
        // Widening a strided bfloat16 view against the dense widening.
        let wideView = try Tensor(denseBack.flatMap { [$0, 3] }, shape: [n, 2]).to(.bfloat16).narrow(axis: 1, start: 0, length: 1)
        XCTAssertEqual(try wideView.to(.float32).toArray().map(\.bitPattern), denseBack.map(\.bitPattern))
        XCTAssertEqual(denseBack[n - 3].bitPattern, Float(-Float.nan).bitPattern | 0x0040_0000, "NaN keeps its sign, quiet")
    }

    func testFloat16RoundsToNearestEven() throws {
        let out = try roundTrip([65504, 65520, 1 + 1.0 / 2048, 1 + 3.0 / 2048, 1e-7, -1e-8], .float16)
        XCTAssertEqual(Array(out.prefix(4)), [65504, .infinity, 1, 1 + 2.0 / 1024], "65520 is halfway to 65536: rounds to inf")
        XCTAssertEqual(out[4], 2 * 5.9604645e-8, "subnormal: 1e-7 is nearest to 2 x 2^-24")
        XCTAssertEqual(out[5], 0)
        XCTAssertEqual(out[5].sign, .minus)
        XCTAssertTrue(try roundTrip([.nan], .float16)[0].isNaN)
    }

    func testHalfTypesComputeOnlyWhatAutocastChainsNeed() throws {
        // Sums, differences and products of bfloat16 tensors (an autocast chain's residual sums)
        // are computed in float32 and rounded once; anything else on 16-bit tensors is refused.
        let a = try Tensor([1, 1 + 1.0 / 128, 3.5, -2, 1e30, 300]).to(.bfloat16)
        let b = try Tensor([1.0 / 256, 1.0 / 256, -3.5, 0.75, 1e30, 1.5]).to(.bfloat16)
        let (wa, wb) = (try a.to(.float32), try b.to(.float32))
        for (name, op) in [("add", { (x: Tensor, y: Tensor) in try x + y }), ("sub", { try $0 - $1 }), ("mul", { try $0 * $1 })] {
            let narrow = try op(a, b)
            XCTAssertEqual(narrow.dtype, .bfloat16, name)
            XCTAssertEqual(try narrow.to(.float32).toArray(), try op(wa, wb).to(.bfloat16).to(.float32).toArray(), name)
        }
        // 1 + 2^-8 is halfway between 1 and 1 + 2^-7: to even, 1; the next one rounds up.
        XCTAssertEqual(Array(try (a + b).to(.float32).toArray().prefix(3)), [1, 1 + 2.0 / 128, 0])
        let x = try Tensor([1, 2]).to(.bfloat16)
        XCTAssertThrowsError(try x / x) { XCTAssertTrue("\($0)".contains("bfloat16"), "\($0)") }
        XCTAssertThrowsError(try x.sum()) { XCTAssertTrue("\($0)".contains("bfloat16"), "\($0)") }
        XCTAssertThrowsError(try x + Tensor(int64: [1, 2])) { XCTAssertTrue("\($0)".contains("dtype mismatch"), "\($0)") }
    }

    func testMixedFloatTypesPromoteToFloat32WithFloat32Gradients() throws {
        let narrow = try Tensor([1.5, -2, 0.25]).to(.bfloat16)
        narrow.requiresGrad = true
        let wide = try Tensor([0.1, 0.2, 0.3])
        wide.requiresGrad = true
        let sum = try narrow + wide
        XCTAssertEqual(sum.dtype, .float32)
        assertClose(try sum.toArray(), [1.6, -1.8, 0.55], tolerance: 1e-6)
        let joined = try Tensor.concat([narrow.reshape([1, 3]), wide.reshape([1, 3])], axis: 0)
        XCTAssertEqual(joined.dtype, .float32)
        assertClose(try joined.toArray(), [1.5, -2, 0.25, 0.1, 0.2, 0.3], tolerance: 1e-6)
        try (sum * Tensor([1, 2, 3]) + joined.sum(axes: [0]) * 10).sum().backward()
        // The gradient of the bfloat16 input is float32 (promotion is outside the graph).
        XCTAssertEqual(narrow.grad?.dtype, .float32)
        XCTAssertEqual(try XCTUnwrap(narrow.grad).toArray(), [11, 12, 13])
        XCTAssertEqual(try XCTUnwrap(wide.grad).toArray(), [11, 12, 13])
    }
}
