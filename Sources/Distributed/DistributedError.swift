/// A failure of the communication layer, with what was being done and why.
public struct DistributedError: Error, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
