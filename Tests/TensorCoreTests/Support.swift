import XCTest
@testable import TensorCore

/// Asserts two float arrays agree within an absolute + relative tolerance, naming the first
/// differing position.
func assertClose(_ actual: [Float], _ expected: [Float], tolerance: Float = 1e-4, _ message: String = "",
                 file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(actual.count, expected.count, "count differs \(message)", file: file, line: line)
    for (i, (a, e)) in zip(actual, expected).enumerated() {
        let bound = tolerance * (1 + abs(e))
        if !(abs(a - e) <= bound) && !(a.isNaN && e.isNaN) {
            XCTFail("element \(i): \(a) vs expected \(e) (tolerance \(bound)) \(message)", file: file, line: line)
            return
        }
    }
}

/// Asserts that body throws a TensorError whose message contains every fragment.
func assertThrowsMessage(_ fragments: [String], file: StaticString = #filePath, line: UInt = #line,
                         _ body: () throws -> Any) {
    do {
        _ = try body()
        XCTFail("expected an error mentioning \(fragments)", file: file, line: line)
    } catch let error as TensorError {
        for fragment in fragments where !error.message.contains(fragment) {
            XCTFail("error '\(error.message)' does not mention '\(fragment)'", file: file, line: line)
        }
    } catch {
        XCTFail("unexpected error type \(error)", file: file, line: line)
    }
}

/// Checks the gradients autograd computes for `inputs` against central finite differences of
/// sum(f(inputs) * w) for a fixed random w. Computation in float32, so eps and tolerance are loose.
func checkGradients(_ inputs: [Tensor], eps: Float = 1e-2, tolerance: Float = 2e-2, seed: UInt64 = 7,
                    file: StaticString = #filePath, line: UInt = #line,
                    _ f: ([Tensor]) throws -> Tensor) throws {
    for t in inputs { t.requiresGrad = true; t.grad = nil }
    let probe = try f(inputs)
    let weights = try Tensor.uniform(probe.shape, low: 0.5, high: 1.5, generator: RandomGenerator(seed: seed))
    let loss = try (probe * weights).sum()
    try loss.backward()
    for (k, input) in inputs.enumerated() {
        guard let grad = input.grad else { XCTFail("input \(k) got no gradient", file: file, line: line); continue }
        let analytic = try grad.toArray()
        var values = try input.toArray()
        var numeric = [Float](repeating: 0, count: values.count)
        for i in 0..<values.count {
            let original = values[i]
            func evaluate(_ v: Float) throws -> Float {
                values[i] = v
                let shifted = try inputs.enumerated().map { j, t in
                    j == k ? try Tensor(values, shape: t.shape) : t.detach()
                }
                return try withNoGrad { try (f(shifted) * weights).sum().item() }
            }
            let plus = try evaluate(original + eps), minus = try evaluate(original - eps)
            values[i] = original
            numeric[i] = (plus - minus) / (2 * eps)
        }
        assertClose(analytic, numeric, tolerance: tolerance, "gradient of input \(k)", file: file, line: line)
    }
}

func randomTensor(_ shape: [Int], seed: UInt64, low: Float = -1, high: Float = 1) throws -> Tensor {
    try Tensor.uniform(shape, low: low, high: high, generator: RandomGenerator(seed: seed))
}
