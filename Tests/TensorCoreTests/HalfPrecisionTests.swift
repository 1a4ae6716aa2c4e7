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

    func testHalfTypesAreStorageFormatsOnly() throws {
        let x = try Tensor([1, 2]).to(.bfloat16)
        XCTAssertThrowsError(try x + x) { XCTAssertTrue("\($0)".contains("bfloat16"), "\($0)") }
        XCTAssertThrowsError(try x.sum()) { XCTAssertTrue("\($0)".contains("bfloat16"), "\($0)") }
    }
}
