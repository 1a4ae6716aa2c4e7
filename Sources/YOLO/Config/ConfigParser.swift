/// Parses the parameter file: `name = value` lines, `#` comments, values that are numbers
/// (`1e-3`), booleans (`True`/`true`), strings ('...' or "..."), lists (nested), `None`, and
/// arithmetic (+ - * / ** and parentheses) over numbers and earlier keys (`Min_lr = Init_lr * 0.01`).
/// Errors name the file and line.
struct ConfigParser {
    let file: String
    /// Whether errors add ":line" to the file name (not for a command-line override).
    var numberLines = true

    func parse(_ text: String, known: [String: ConfigValue] = [:]) throws -> [(key: String, value: ConfigValue, line: Int)] {
        var values = known
        var out: [(String, ConfigValue, Int)] = []
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = stripComment(String(rawLine)).trimmingCharacters(in: .whitespaces)
            if line.isEmpty { continue }
            let where_ = numberLines ? "\(file):\(index + 1)" : file
            guard let eq = line.firstIndex(of: "=") else {
                throw YOLOError("\(where_): expected 'name = value', found '\(line)'")
            }
            let key = line[..<eq].trimmingCharacters(in: .whitespaces)
            guard !key.isEmpty, key.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }), !key.first!.isNumber else {
                throw YOLOError("\(where_): '\(key)' is not a valid parameter name")
            }
            let expression = line[line.index(after: eq)...].trimmingCharacters(in: .whitespaces)
            var lexer = Lexer(text: expression, location: where_)
            let tokens = try lexer.tokens()
            var parser = ExpressionParser(tokens: tokens, location: where_, variables: values)
            let value = try parser.parseAll()
            values[key] = value
            out.append((key, value, index + 1))
        }
        return out
    }

    /// Removes a `#` comment that is not inside quotes.
    private func stripComment(_ line: String) -> String {
        ParameterFileSyntax.commentStart(in: line).map { String(line[..<$0]) } ?? line
    }
}

/// Pieces of the parameter file's syntax that tools writing such files need (tune's best_config).
public enum ParameterFileSyntax {
    /// Where the line's `#` comment starts, outside quotes; nil when it has none.
    public static func commentStart(in line: String) -> String.Index? {
        var quote: Character?
        for i in line.indices {
            let c = line[i]
            if let q = quote { if c == q { quote = nil } } else if c == "'" || c == "\"" { quote = c } else if c == "#" { return i }
        }
        return nil
    }
}

enum Token: Equatable {
    case number(Double, isInt: Bool)
    case string(String)
    case name(String)
    case symbol(String)
}

struct Lexer {
    let text: [Character]
    let location: String
    var i = 0

    init(text: String, location: String) {
        self.text = Array(text)
        self.location = location
    }

    mutating func tokens() throws -> [Token] {
        var out: [Token] = []
        while i < text.count {
            let c = text[i]
            if c.isWhitespace { i += 1; continue }
            if c.isNumber || (c == "." && i + 1 < text.count && text[i + 1].isNumber) {
                var s = ""
                var isInt = true
                while i < text.count, text[i].isNumber || text[i] == "." || text[i] == "e" || text[i] == "E" || text[i] == "_"
                        || ((text[i] == "-" || text[i] == "+") && (s.last == "e" || s.last == "E")) {
                    if text[i] == "." || text[i] == "e" || text[i] == "E" { isInt = false }
                    if text[i] != "_" { s.append(text[i]) }
                    i += 1
                }
                guard let v = Double(s) else { throw YOLOError("\(location): '\(s)' is not a number") }
                out.append(.number(v, isInt: isInt))
            } else if c == "'" || c == "\"" {
                var s = ""
                i += 1
                while i < text.count && text[i] != c { s.append(text[i]); i += 1 }
                guard i < text.count else { throw YOLOError("\(location): unterminated string \(c)\(s)") }
                i += 1
                out.append(.string(s))
            } else if c.isLetter || c == "_" {
                var s = ""
                while i < text.count, text[i].isLetter || text[i].isNumber || text[i] == "_" { s.append(text[i]); i += 1 }
                out.append(.name(s))
            } else if c == "*" && i + 1 < text.count && text[i + 1] == "*" {
                out.append(.symbol("**")); i += 2
            } else if "+-*/()[],".contains(c) {
                out.append(.symbol(String(c))); i += 1
            } else {
                throw YOLOError("\(location): unexpected character '\(c)' in '\(String(text))' (text values need quotes, "
                                + "e.g. '\(String(text))')")
            }
        }
        return out
    }
}

struct ExpressionParser {
    let tokens: [Token]
    let location: String
    let variables: [String: ConfigValue]
    var i = 0

    init(tokens: [Token], location: String, variables: [String: ConfigValue]) {
        self.tokens = tokens; self.location = location; self.variables = variables
    }

    mutating func parseAll() throws -> ConfigValue {
        guard !tokens.isEmpty else { throw YOLOError("\(location): missing value after '='") }
        let v = try expression()
        guard i == tokens.count else { throw YOLOError("\(location): unexpected \(describe(tokens[i])) after the value") }
        return v
    }

    private func describe(_ t: Token) -> String {
        switch t {
        case .number(let v, _): return "number \(v)"
        case .string(let s): return "string '\(s)'"
        case .name(let n): return "'\(n)'"
        case .symbol(let s): return "'\(s)'"
        }
    }

    private mutating func expression() throws -> ConfigValue {
        var left = try term()
        while i < tokens.count, case .symbol(let op) = tokens[i], op == "+" || op == "-" {
            i += 1
            left = try arithmetic(op, left, try term())
        }
        return left
    }

    private mutating func term() throws -> ConfigValue {
        var left = try power()
        while i < tokens.count, case .symbol(let op) = tokens[i], op == "*" || op == "/" {
            i += 1
            left = try arithmetic(op, left, try power())
        }
        return left
    }

    private mutating func power() throws -> ConfigValue {
        let base = try unary()
        if i < tokens.count, case .symbol("**") = tokens[i] {
            i += 1
            return try arithmetic("**", base, try power())
        }
        return base
    }

    private mutating func unary() throws -> ConfigValue {
        if i < tokens.count, case .symbol("-") = tokens[i] {
            i += 1
            return try arithmetic("-", .int(0), try unary())
        }
        return try atom()
    }

    private mutating func atom() throws -> ConfigValue {
        guard i < tokens.count else { throw YOLOError("\(location): the value ends early") }
        let t = tokens[i]
        i += 1
        switch t {
        case .number(let v, let isInt): return isInt && abs(v) < 1e15 ? .int(Int(v)) : .double(v)
        case .string(let s): return .string(s)
        case .name(let n):
            switch n {
            case "True", "true": return .bool(true)
            case "False", "false": return .bool(false)
            case "None", "none", "null": return .none
            default:
                guard let v = variables[n] else {
                    throw YOLOError("\(location): '\(n)' is not defined above (text values need quotes: '\(n)')")
                }
                return v
            }
        case .symbol("("):
            let v = try expression()
            try expect(")")
            return v
        case .symbol("["):
            var items: [ConfigValue] = []
            if i < tokens.count, case .symbol("]") = tokens[i] { i += 1; return .list([]) }
            while true {
                items.append(try expression())
                guard i < tokens.count, case .symbol(let s) = tokens[i] else { throw YOLOError("\(location): missing ']'") }
                i += 1
                if s == "]" { break }
                guard s == "," else { throw YOLOError("\(location): expected ',' or ']' in a list, found '\(s)'") }
                if i < tokens.count, case .symbol("]") = tokens[i] { i += 1; break }   // trailing comma
            }
            return .list(items)
        default:
            throw YOLOError("\(location): unexpected \(describe(t))")
        }
    }

    private mutating func expect(_ s: String) throws {
        guard i < tokens.count, case .symbol(s) = tokens[i] else { throw YOLOError("\(location): missing '\(s)'") }
        i += 1
    }

    private func arithmetic(_ op: String, _ a: ConfigValue, _ b: ConfigValue) throws -> ConfigValue {
        guard let x = a.number, let y = b.number else {
            throw YOLOError("\(location): '\(op)' needs numbers, found \(a.typeName) and \(b.typeName)")
        }
        if case .int(let p) = a, case .int(let q) = b, op != "/" {
            switch op {
            case "+": return .int(p + q)
            case "-": return .int(p - q)
            case "*": return .int(p * q)
            default: if q >= 0 { return .int(Int(pow(Double(p), Double(q)))) }
            }
        }
        switch op {
        case "+": return .double(x + y)
        case "-": return .double(x - y)
        case "*": return .double(x * y)
        case "/":
            guard y != 0 else { throw YOLOError("\(location): division by zero") }
            return .double(x / y)
        default: return .double(pow(x, y))
        }
    }
}

import Foundation
