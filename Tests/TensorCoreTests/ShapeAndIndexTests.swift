import XCTest
@testable import TensorCore

final class ShapeAndIndexTests: XCTestCase {
    let m = { try! Tensor.arange(6, dtype: .float32).reshape([2, 3]) }

    func testReshapePermuteContiguous() throws {
        let t = m()
        XCTAssertEqual(try t.reshape([3, -1]).shape, [3, 2])
        let tt = try t.transpose(0, 1)
        XCTAssertEqual(tt.shape, [3, 2])
        XCTAssertFalse(tt.isContiguous)
        XCTAssertEqual(try tt.toArray(), [0, 3, 1, 4, 2, 5])
        XCTAssertTrue(try tt.contiguous().isContiguous)
        XCTAssertEqual(try tt.reshape([6]).toArray(), [0, 3, 1, 4, 2, 5])
        let cube = try Tensor.arange(24, dtype: .float32).reshape([2, 3, 4]).permute([2, 0, 1])
        XCTAssertEqual(cube.shape, [4, 2, 3])
        XCTAssertEqual(try cube.toArray().prefix(6), [0, 4, 8, 12, 16, 20])
        assertThrowsMessage(["reshape", "[2, 3]", "[4, 2]"]) { try t.reshape([4, 2]) }
        assertThrowsMessage(["permute", "[0, 0]"]) { try t.permute([0, 0]) }
    }

    func testSliceNarrowSqueeze() throws {
        let t = m()
        XCTAssertEqual(try t.narrow(axis: 1, start: 1, length: 2).toArray(), [1, 2, 4, 5])
        XCTAssertEqual(try t.slice(axis: 1, start: 0, end: 3, step: 2).toArray(), [0, 2, 3, 5])
        XCTAssertEqual(try t.slice(axis: 1, start: -1).toArray(), [2, 5])
        XCTAssertEqual(try t.unsqueeze(0).shape, [1, 2, 3])
        XCTAssertEqual(try t.unsqueeze(-1).shape, [2, 3, 1])
        XCTAssertEqual(try t.unsqueeze(1).squeeze(1).shape, [2, 3])
        XCTAssertEqual(try t.transpose(0, 1).unsqueeze(1).toArray(), [0, 3, 1, 4, 2, 5])
        assertThrowsMessage(["slice", "0..<4", "size 3"]) { try t.slice(axis: 1, start: 0, end: 4) }
        assertThrowsMessage(["axis 5", "rank 2"]) { try t.sum(axis: 5) }
    }

    func testConcatSplitStackExpand() throws {
        let a = m(), b = try Tensor([9, 9, 9], shape: [1, 3])
        let c = try Tensor.concat([a, b], axis: 0)
        XCTAssertEqual(c.shape, [3, 3])
        XCTAssertEqual(try c.toArray(), [0, 1, 2, 3, 4, 5, 9, 9, 9])
        let side = try Tensor.concat([a, a], axis: 1)
        XCTAssertEqual(try side.toArray(), [0, 1, 2, 0, 1, 2, 3, 4, 5, 3, 4, 5])
        let parts = try side.split(sizes: [2, 4], axis: 1)
        XCTAssertEqual(try parts[0].toArray(), [0, 1, 3, 4])
        XCTAssertEqual(try parts[1].toArray(), [2, 0, 1, 2, 5, 3, 4, 5])
        XCTAssertEqual(try side.chunk(2, axis: 1)[1].toArray(), [0, 1, 2, 3, 4, 5])
        let s = try Tensor.stack([a, a], axis: 1)
        XCTAssertEqual(s.shape, [2, 2, 3])
        XCTAssertEqual(try s.toArray(), [0, 1, 2, 0, 1, 2, 3, 4, 5, 3, 4, 5])
        XCTAssertEqual(try b.expand([2, 3]).toArray(), [9, 9, 9, 9, 9, 9])
        assertThrowsMessage(["concat", "[2, 3]", "[2, 2]", "outside axis 0"]) { try Tensor.concat([a, Tensor.zeros([2, 2])], axis: 0) }
        assertThrowsMessage(["split", "do not add up to 6"]) { try side.split(sizes: [2, 2], axis: 1) }
    }

    func testReductions() throws {
        let t = try Tensor([3, 1, 4, 1, 5, 9, 2, 6], shape: [2, 2, 2])
        XCTAssertEqual(try t.sum().item(), 31)
        XCTAssertEqual(try t.sum(axis: 0).toArray(), [8, 10, 6, 7])
        XCTAssertEqual(try t.sum(axes: [0, 2]).toArray(), [18, 13])
        XCTAssertEqual(try t.sum(axis: 1, keepDims: true).shape, [2, 1, 2])
        XCTAssertEqual(try t.mean(axis: -1).toArray(), [2, 2.5, 7, 4])
        XCTAssertEqual(try t.mean().item(), 31.0 / 8)
        let (values, indices) = try t.max(axis: 2)
        XCTAssertEqual(try values.toArray(), [3, 4, 9, 6])
        XCTAssertEqual(try indices.toInt64Array(), [0, 0, 1, 1])
        XCTAssertEqual(try t.min(axis: 0).values.toArray(), [3, 1, 2, 1])
        XCTAssertEqual(try t.argmax(axis: 1).toInt64Array(), [1, 0, 0, 0])
        XCTAssertEqual(try t.max().item(), 9)
        XCTAssertEqual(try t.argmax().toInt64Array(), [5])
        XCTAssertEqual(try t.prod(axes: [2]).toArray(), [3, 4, 45, 12])
        XCTAssertEqual(try Tensor(int64: [1, 2, 3]).sum().toInt64Array(), [6])
        // A long sum keeps float32 precision thanks to the double accumulator.
        let long = try Tensor.full([1_000_003], 0.1)
        XCTAssertEqual(try long.sum().item(), 100_000.3, accuracy: 0.05)
        // Non-contiguous input.
        XCTAssertEqual(try t.permute([2, 1, 0]).sum(axis: 0).toArray(), [4, 14, 5, 8])
    }

    func testGatherScatterIndexSelect() throws {
        let x = try Tensor([10, 11, 12, 20, 21, 22], shape: [2, 3])
        let idx = try Tensor(int64: [2, 0, 1, 1], shape: [2, 2])
        XCTAssertEqual(try x.gather(axis: 1, index: idx).toArray(), [12, 10, 21, 21])
        let scattered = try Tensor.zeros([2, 3]).scatterAdd(axis: 1, index: idx, source: Tensor.ones([2, 2]))
        XCTAssertEqual(try scattered.toArray(), [1, 0, 1, 0, 2, 0])
        let written = try Tensor.zeros([2, 3]).scatter(axis: 1, index: idx, source: Tensor([5, 6, 7, 7], shape: [2, 2]))
        XCTAssertEqual(try written.toArray(), [6, 0, 5, 0, 7, 0])
        let rows = try x.indexSelect(axis: 0, index: Tensor(int64: [1, 1, 0]))
        XCTAssertEqual(try rows.toArray(), [20, 21, 22, 20, 21, 22, 10, 11, 12])
        let cols = try x.indexSelect(axis: 1, index: Tensor(int64: [-1]))
        XCTAssertEqual(try cols.toArray(), [12, 22])
        let added = try Tensor.zeros([3]).indexAdd(axis: 0, index: Tensor(int64: [0, 2, 0]), source: Tensor([1, 2, 3]))
        XCTAssertEqual(try added.toArray(), [4, 0, 2])
        assertThrowsMessage(["gather", "index 3", "size 3"]) { try x.gather(axis: 1, index: Tensor(int64: [3, 0, 0, 0], shape: [2, 2])) }
        assertThrowsMessage(["int64", "float32"]) { try x.indexSelect(axis: 0, index: Tensor([0])) }
    }

    func testMaskedSelectAndNonzero() throws {
        let x = try Tensor([1, -2, 3, -4, 5, -6], shape: [2, 3])
        let positive = try x.greater(0)
        XCTAssertEqual(try x.maskedSelect(positive).toArray(), [1, 3, 5])
        XCTAssertEqual(try positive.nonzero().toInt64Array(), [0, 0, 0, 2, 1, 1])
        let columnMask = try Tensor(bool: [true, false, true])
        XCTAssertEqual(try x.maskedSelect(columnMask).toArray(), [1, 3, -4, -6])
        XCTAssertEqual(try x.maskedSelect(Tensor(bool: [false, false, false])).shape, [0])
    }

    func testMatmul() throws {
        let a = try Tensor([1, 2, 3, 4, 5, 6], shape: [2, 3])
        let b = try Tensor([7, 8, 9, 10, 11, 12], shape: [3, 2])
        XCTAssertEqual(try a.matmul(b).toArray(), [58, 64, 139, 154])
        let batch = try Tensor.stack([a, a * 2])
        let product = try batch.matmul(b)
        XCTAssertEqual(product.shape, [2, 2, 2])
        XCTAssertEqual(try product.toArray(), [58, 64, 139, 154, 116, 128, 278, 308])
        XCTAssertEqual(try a.transpose(0, 1).matmul(a).shape, [3, 3])
        assertThrowsMessage(["matmul", "[2, 3]", "[2, 3]", "3 vs 2"]) { try a.matmul(a) }
    }
}
