import XCTest
@testable import TensorCore

final class AutogradTests: XCTestCase {
    func testChainRuleOnAKnownFunction() throws {
        // f(x, y) = sum(x * y + x^2) -> df/dx = y + 2x, df/dy = x
        let x = try Tensor([1, 2, 3]), y = try Tensor([4, 5, 6])
        x.requiresGrad = true; y.requiresGrad = true
        try (x * y + x.square()).sum().backward()
        XCTAssertEqual(try x.grad!.toArray(), [6, 9, 12])
        XCTAssertEqual(try y.grad!.toArray(), [1, 2, 3])
    }

    func testGradientsAccumulateAcrossCalls() throws {
        let w = try Tensor([2, -1])
        w.requiresGrad = true
        try (w * 3).sum().backward()
        try (w * w).sum().backward()
        XCTAssertEqual(try w.grad!.toArray(), [3 + 4, 3 - 2])
        w.grad = nil
        try w.sum().backward()
        XCTAssertEqual(try w.grad!.toArray(), [1, 1])
    }

    func testSharedSubexpressionsSumTheirGradients() throws {
        let x = try Tensor([3])
        x.requiresGrad = true
        let y = try x * x        // used twice below
        try (y + y * 2).sum().backward()   // 3 x^2 -> 6x
        XCTAssertEqual(try x.grad!.toArray(), [18])
    }

    func testNoGradAndDetach() throws {
        let x = try Tensor([1, 2])
        x.requiresGrad = true
        let inside = try withNoGrad { try x * 2 }
        XCTAssertFalse(inside.requiresGrad)
        XCTAssertFalse(GradMode.isEnabled == false)
        let detached = try x.detach() * 2
        XCTAssertFalse(detached.requiresGrad)
        let tracked = try x * 2
        XCTAssertTrue(tracked.requiresGrad)
        XCTAssertFalse(tracked.isLeaf)
        assertThrowsMessage(["does not require grad"]) { try inside.sum().backward() }
    }

    func testGraphIsFreedAfterBackward() throws {
        let x = try Tensor([1, 2])
        x.requiresGrad = true
        let loss = try (x.exp() * 2).sum()
        try loss.backward()
        assertThrowsMessage(["already freed"]) { try loss.backward() }
        XCTAssertNil(loss.gradNode?.rule)
    }

    /// The graph keeps the operations, not their results: an intermediate tensor that no backward
    /// rule saved is freed when the caller drops it, and backward still reaches the leaves.
    func testIntermediateResultsAreNotKeptByTheGraph() throws {
        let x = try Tensor([1, 2, 3])
        x.requiresGrad = true
        var sum: Tensor? = try x + x
        weak let released = sum
        var pooled: Tensor? = try Tensor.concat([sum!, x], axis: 0)
        weak let releasedConcat = pooled
        let loss = try (pooled! * pooled!).sum()
        sum = nil; pooled = nil
        XCTAssertNil(released, "add's output is not needed by any backward rule")
        XCTAssertNotNil(releasedConcat, "mul saved its operand")
        try loss.backward()
        XCTAssertEqual(try x.grad!.toArray(), [10, 20, 30])   // d/dx [(2x)^2 + x^2] = 8x + 2x
        XCTAssertNil(releasedConcat, "freed with the graph")
    }

    func testLeafGradientsAreIndependentCopies() throws {
        let a = try Tensor([1]), b = try Tensor([2])
        a.requiresGrad = true; b.requiresGrad = true
        try (a + b).sum().backward()
        try withNoGrad { try a.grad!.mul_(10) }
        XCTAssertEqual(try b.grad!.toArray(), [1])
    }

    func testNonScalarBackwardNeedsAGradient() throws {
        let x = try Tensor([1, 2])
        x.requiresGrad = true
        let y = try x * 2
        assertThrowsMessage(["non-scalar", "[2]"]) { try y.backward() }
        assertThrowsMessage(["[3]", "[2]"]) { try y.backward(Tensor([1, 1, 1])) }
        try y.backward(Tensor([1, 0.5]))
        XCTAssertEqual(try x.grad!.toArray(), [2, 1])
    }

    func testIntegerTensorsNeverRequireGrad() throws {
        let i = try Tensor(int64: [1])
        i.requiresGrad = true
        XCTAssertFalse(i.requiresGrad)
    }
}
