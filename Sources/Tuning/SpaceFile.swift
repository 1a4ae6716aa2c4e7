import Foundation

/// A search-space file in the parameter file's syntax, one key a line with its distribution:
///
///     Init_lr = loguniform(1e-4, 1e-2)
///     mosaic_prob = uniform(0, 1)
///     weight_decay = uniform(0, 1e-3, step=1e-4)
///     Freeze_Epoch = randint(5, 20)
///     Unfreeze_batch_size = choice([8, 16, 32])
///     optimizer_type = choice(['sgd', 'adam'])
///
/// `#` starts a comment. Errors name the file and line and say what was expected.
public enum SpaceFile {
    public struct Failure: Error, CustomStringConvertible {
        public let message: String
        public var description: String { message }
    }

    /// `check(key, distribution)` returns why a key or its values are not allowed (an unknown key,
    /// a choice the key cannot take), or nil.
    public static func parse(_ text: String, file: String,
                             check: (String, Distribution) -> String? = { _, _ in nil }) throws -> SearchSpace {
        var parameters: [(String, Distribution)] = []
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let location = "\(file):\(index + 1)"
            let line = stripComment(String(raw)).trimmingCharacters(in: .whitespaces)
            if line.isEmpty { continue }
            guard let eq = line.firstIndex(of: "=") else {
                throw Failure(message: "\(location): expected 'key = distribution(...)', found '\(line)'")
            }
            let key = line[..<eq].trimmingCharacters(in: .whitespaces)
            guard !key.isEmpty, key.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else {
                throw Failure(message: "\(location): '\(key)' is not a parameter name")
            }
            if parameters.contains(where: { $0.0 == key }) { throw Failure(message: "\(location): \(key) is given a second time") }
            let distribution = try parseDistribution(line[line.index(after: eq)...].trimmingCharacters(in: .whitespaces), at: location)
            if let problem = distribution.problem() { throw Failure(message: "\(location): \(key) = \(problem)") }
            if let problem = check(key, distribution) { throw Failure(message: "\(location): \(problem)") }
            parameters.append((key, distribution))
        }
        guard !parameters.isEmpty else {
            throw Failure(message: "\(file): the search space is empty (give lines such as 'Init_lr = loguniform(1e-4, 1e-2)')")
        }
        return SearchSpace(parameters)
    }

    private static let usage = "uniform(low, high), uniform(low, high, step=s), loguniform(low, high), randint(low, high) "
        + "or choice([a, b, ...])"

    static func parseDistribution(_ text: String, at location: String) throws -> Distribution {
        guard let open = text.firstIndex(of: "("), text.hasSuffix(")") else {
            throw Failure(message: "\(location): expected a distribution, \(usage); found '\(text)'")
        }
        let name = text[..<open].trimmingCharacters(in: .whitespaces).lowercased()
        let inside = String(text[text.index(after: open)..<text.index(before: text.endIndex)])
        let arguments = try splitArguments(inside, at: location)
        var positional: [String] = [], named: [String: String] = [:]
        for a in arguments {
            if let eq = a.firstIndex(of: "="), !a.hasPrefix("[") {
                named[a[..<eq].trimmingCharacters(in: .whitespaces)] = a[a.index(after: eq)...].trimmingCharacters(in: .whitespaces)
            } else {
                positional.append(a)
            }
        }
        func number(_ s: String, _ what: String) throws -> Double {
            guard let v = Double(s) else { throw Failure(message: "\(location): \(name): \(what) = '\(s)' is not a number") }
            return v
        }
        func expect(_ count: Int, allowed: Set<String> = []) throws {
            guard positional.count == count else {
                throw Failure(message: "\(location): \(name) takes \(count) value(s), found \(positional.count) (\(usage))")
            }
            if let extra = named.keys.first(where: { !allowed.contains($0) }) {
                throw Failure(message: "\(location): \(name) has no option '\(extra)'")
            }
        }
        switch name {
        case "uniform":
            try expect(2, allowed: ["step"])
            return .uniform(low: try number(positional[0], "low"), high: try number(positional[1], "high"),
                            step: try named["step"].map { try number($0, "step") })
        case "loguniform":
            try expect(2)
            return .logUniform(low: try number(positional[0], "low"), high: try number(positional[1], "high"))
        case "randint":
            try expect(2)
            let low = try number(positional[0], "low"), high = try number(positional[1], "high")
            guard low == low.rounded(), high == high.rounded() else {
                throw Failure(message: "\(location): randint(\(positional[0]), \(positional[1])): both ends must be whole numbers")
            }
            return .integer(low: Int(low), high: Int(high))
        case "choice":
            try expect(1)
            let list = positional[0]
            guard list.hasPrefix("["), list.hasSuffix("]") else {
                throw Failure(message: "\(location): choice takes a list in brackets, e.g. choice([8, 16, 32])")
            }
            let items = try splitArguments(String(list.dropFirst().dropLast()), at: location)
            return .choice(try items.map { item in
                if (item.hasPrefix("'") && item.hasSuffix("'")) || (item.hasPrefix("\"") && item.hasSuffix("\"")), item.count >= 2 {
                    return .text(String(item.dropFirst().dropLast()))
                }
                if item == "True" || item == "False" { return .flag(item == "True") }
                return .number(try number(item, "a choice"))
            })
        default:
            throw Failure(message: "\(location): unknown distribution '\(name)'; expected \(usage)")
        }
    }

    /// Splits on commas outside brackets and quotes.
    static func splitArguments(_ text: String, at location: String) throws -> [String] {
        var parts: [String] = [], current = "", depth = 0
        var quote: Character?
        for c in text {
            if let q = quote {
                if c == q { quote = nil }
            } else if c == "'" || c == "\"" {
                quote = c
            } else if c == "[" {
                depth += 1
            } else if c == "]" {
                depth -= 1
            } else if c == "," && depth == 0 {
                parts.append(current.trimmingCharacters(in: .whitespaces))
                current = ""
                continue
            }
            current.append(c)
        }
        guard quote == nil, depth == 0 else { throw Failure(message: "\(location): unbalanced quotes or brackets in '\(text)'") }
        let last = current.trimmingCharacters(in: .whitespaces)
        if !last.isEmpty || !parts.isEmpty { parts.append(last) }
        if parts.contains(where: \.isEmpty) { throw Failure(message: "\(location): an empty value in '\(text)'") }
        return parts
    }

    private static func stripComment(_ line: String) -> String {
        var quote: Character?
        for (i, c) in line.enumerated() {
            if let q = quote { if c == q { quote = nil } } else if c == "'" || c == "\"" { quote = c } else if c == "#" {
                return String(line.prefix(i))
            }
        }
        return line
    }
}
