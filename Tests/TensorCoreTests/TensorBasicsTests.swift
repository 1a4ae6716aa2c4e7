import XCTest
@testable import TensorCore

final class TensorBasicsTests: XCTestCase {
    func testCreationAndExportRoundTrip() throws {
        let t = try Tensor([1, 2, 3, 4, 5, 6], shape: [2, 3])
        XCTAssertEqual(t.shape, [2, 3])
        XCTAssertEqual(t.dtype, .float32)
        XCTAssertEqual(t.device, .cpu)
        XCTAssertEqual(try t.toArray(), [1, 2, 3, 4, 5, 6])
        XCTAssertEqual(try Tensor(int64: [5, -7], shape: [2]).toInt64Array(), [5, -7])
        XCTAssertEqual(try Tensor(int32: [3], shape: [1]).toInt32Array(), [3])
        XCTAssertEqual(try Tensor(bool: [true, false, true]).toBoolArray(), [true, false, true])
        XCTAssertEqual(try Tensor(scalar: 2.5).item(), 2.5)
        XCTAssertEqual(try Tensor.arange(4).toInt64Array(), [0, 1, 2, 3])
        XCTAssertEqual(try Tensor.full([2, 2], 3).toArray(), [3, 3, 3, 3])
    }

    func testWrongValueCountNamesShape() {
        assertThrowsMessage(["5 values", "[2, 3]"]) { try Tensor([1, 2, 3, 4, 5], shape: [2, 3]) }
    }

    func testFloat16RoundTrip() throws {
        // Values exactly representable in float16 survive; others round to the nearest half.
        let exact: [Float] = [0, 1, -2, 0.5, 1024, 65504, -0.000061035156]
        let half = try Tensor(exact).to(.float16)
        XCTAssertEqual(half.dtype, .float16)
        XCTAssertEqual(try half.to(.float32).toArray(), exact)
        let rounded = try Tensor([0.1, 3.14159, 70000]).to(.float16).to(.float32).toArray()
        XCTAssertEqual(rounded[0], 0.099975586, accuracy: 1e-9)
        XCTAssertEqual(rounded[1], 3.140625, accuracy: 1e-9)
        XCTAssertEqual(rounded[2], .infinity)  // beyond float16's range
        let direct = try Tensor(float16: [1.5, -2.25])
        XCTAssertEqual(try direct.toArray(), [1.5, -2.25])
        XCTAssertEqual(try direct.toFloat16Array(), [1.5, -2.25])
    }

    func testDTypeConversions() throws {
        XCTAssertEqual(try Tensor([1.7, -2.2, 0]).to(.int64).toInt64Array(), [1, -2, 0])
        XCTAssertEqual(try Tensor([1.7, 0, -3]).to(.bool).toBoolArray(), [true, false, true])
        XCTAssertEqual(try Tensor(bool: [true, false]).to(.float32).toArray(), [1, 0])
        XCTAssertEqual(try Tensor(int64: [300]).to(.int32).toInt32Array(), [300])
    }

    func testDTypeMismatchNamesBoth() throws {
        let a = try Tensor([1, 2, 3])
        let b = try Tensor(int64: [1, 2, 3])
        assertThrowsMessage(["dtype mismatch", "float32 [3]", "int64 [3]"]) { try a + b }
    }

    func testUnavailableDeviceIsAnError() {
        assertThrowsMessage(["cuda:0", "not available"]) { try Tensor.zeros([2], device: .cuda(0)) }
        XCTAssertEqual(try Device(parsing: "cuda:1"), .cuda(1))
        assertThrowsMessage(["unknown device 'tpu'"]) { try Device(parsing: "tpu") }
    }

    func testSeededRandomIsReproducible() throws {
        let a = try Tensor.normal([1000], generator: RandomGenerator(seed: 42)).toArray()
        let b = try Tensor.normal([1000], generator: RandomGenerator(seed: 42)).toArray()
        let c = try Tensor.normal([1000], generator: RandomGenerator(seed: 43)).toArray()
        XCTAssertEqual(a, b)
        XCTAssertNotEqual(a, c)
        let mean = a.reduce(0, +) / 1000
        let variance = a.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 1000
        XCTAssertEqual(mean, 0, accuracy: 0.1)
        XCTAssertEqual(variance, 1, accuracy: 0.15)
        let u = try Tensor.uniform([1000], low: 2, high: 3, generator: RandomGenerator(seed: 1)).toArray()
        XCTAssertTrue(u.allSatisfy { $0 >= 2 && $0 < 3 })
        XCTAssertEqual(u.reduce(0, +) / 1000, 2.5, accuracy: 0.05)
    }

    func testGeneratorStateRestoresTheStream() throws {
        let g = RandomGenerator(seed: 9)
        _ = g.next()
        let saved = g.state
        let expected = (0..<5).map { _ in g.next() }
        let restored = try RandomGenerator(state: saved)
        XCTAssertEqual((0..<5).map { _ in restored.next() }, expected)
        XCTAssertNotEqual(g.fork(stream: 1).next(), g.fork(stream: 2).next())
    }

    func testPrinting() throws {
        let t = try Tensor([1, 2.5, -3, 4], shape: [2, 2])
        XCTAssertEqual(t.description, "tensor([[1.0000, 2.5000],\n        [-3.0000, 4.0000]], shape=[2, 2])")
        XCTAssertEqual(try Tensor(int64: [1, 2]).description, "tensor([1, 2], shape=[2], dtype=int64)")
        let long = try Tensor.arange(10, dtype: .float32)
        XCTAssertTrue(long.description.contains("[0.0000, 1.0000, 2.0000, ..., 7.0000, 8.0000, 9.0000]"))
    }

    func testAllocatorReusesBlocks() throws {
        XCTAssertEqual(CachingHostAllocator.sizeClass(1), 64)
        XCTAssertEqual(CachingHostAllocator.sizeClass(5000), 5120)
        XCTAssertEqual(CachingHostAllocator.sizeClass(1 << 20), 1 << 20)
        XCTAssertEqual(CachingHostAllocator.sizeClass((1 << 20) + 1), (1 << 20) + (1 << 18))
        let allocator = CachingHostAllocator()
        let first = try allocator.allocate(10_000)
        allocator.release(first, bytes: 10_000)
        let second = try allocator.allocate(9_000)   // same size class
        XCTAssertEqual(first, second)
        allocator.release(second, bytes: 9_000)
        allocator.trim()
    }
}
