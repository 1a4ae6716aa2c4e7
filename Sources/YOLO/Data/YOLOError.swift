/// A user-facing error from the YOLO tools: names the file, line or key, what was found and what
/// was expected.
public struct YOLOError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
