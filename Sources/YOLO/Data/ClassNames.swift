import Foundation

/// A classes file: one class name per line (surrounding whitespace trimmed, blank lines ignored).
public struct ClassNames: Equatable, Sendable {
    public let names: [String]
    public var count: Int { names.count }

    public init(_ names: [String]) { self.names = names }

    public init(contentsOf path: String) throws {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw YOLOError("\(path): cannot read the classes file (expected one class name per line)")
        }
        let names = text.split(whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard !names.isEmpty else { throw YOLOError("\(path): the classes file lists no classes") }
        var seen = Set<String>()
        for name in names where !seen.insert(name).inserted {
            throw YOLOError("\(path): class '\(name)' is listed twice")
        }
        self.names = names
    }

    public func index(of name: String) -> Int? { names.firstIndex(of: name.trimmingCharacters(in: .whitespacesAndNewlines)) }
}
