/// The error every tensor operation throws: a sentence naming the operation, the shapes and
/// dtypes involved and what was expected.
public struct TensorError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

func describe(_ shape: [Int]) -> String { "[" + shape.map(String.init).joined(separator: ", ") + "]" }

/// Turns a failing C kernel's status into a thrown error with its message.
@inline(__always)
func checkKernel(_ status: Int32, _ operation: @autoclosure () -> String) throws {
    if status != 0 {
        throw TensorError("\(operation()): \(String(cString: ck_last_error()))")
    }
}

import CKernels
