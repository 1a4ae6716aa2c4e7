import Foundation

/// Unpickles the subset of protocol 0-5 that `torch.save` writes. Globals are not imported:
/// only the ones a checkpoint legitimately uses are understood (tensor rebuilds, storages,
/// OrderedDict); anything else is kept as an opaque call, so a malicious pickle cannot run code.
struct PickleReader {
    let bytes: [UInt8]
    var position: Int
    let name: String

    init(_ bytes: [UInt8], at position: Int = 0, name: String) {
        self.bytes = bytes
        self.position = position
        self.name = name
    }

    private func fail(_ what: String) -> Error { NNError("\(name): \(what) (at byte \(position))") }

    private mutating func take(_ n: Int) throws -> ArraySlice<UInt8> {
        guard n >= 0, position + n <= bytes.count else { throw fail("the pickle ends early (file truncated?)") }
        defer { position += n }
        return bytes[position..<(position + n)]
    }

    private mutating func uint(_ n: Int) throws -> UInt64 {
        try take(n).reversed().reduce(0) { $0 << 8 | UInt64($1) }
    }

    private mutating func line() throws -> String {
        guard let end = bytes[position...].firstIndex(of: 0x0A) else { throw fail("unterminated text opcode") }
        defer { position = end + 1 }
        return String(decoding: bytes[position..<end], as: UTF8.self)
    }

    /// Runs the pickle machine to STOP and returns the result.
    mutating func load() throws -> PickleValue {
        var stack: [PickleValue] = []
        var memo: [Int: PickleValue] = [:]
        func pop() throws -> PickleValue {
            guard let v = stack.popLast() else { throw fail("stack underflow") }
            return v
        }
        func popToMark() throws -> [PickleValue] {
            guard let m = stack.lastIndex(where: { if case .mark = $0 { return true }; return false }) else {
                throw fail("MARK missing")
            }
            let items = Array(stack[(m + 1)...])
            stack.removeSubrange(m...)
            return items
        }
        while true {
            let op = try take(1).first!
            switch op {
            case 0x80: _ = try take(1)                                   // PROTO
            case 0x95: _ = try take(8)                                   // FRAME
            case 0x2E: return try pop()                                  // STOP
            case 0x28: stack.append(.mark)                               // MARK
            case 0x30: _ = try pop()                                     // POP
            case 0x31: _ = try popToMark()                               // POP_MARK
            case 0x32: stack.append(stack.last ?? .none)                 // DUP
            case 0x4E: stack.append(.none)                               // NONE
            case 0x88: stack.append(.bool(true))
            case 0x89: stack.append(.bool(false))
            case 0x4A: stack.append(.int(Int64(Int32(truncatingIfNeeded: try uint(4)))))   // BININT
            case 0x4B: stack.append(.int(Int64(try uint(1))))            // BININT1
            case 0x4D: stack.append(.int(Int64(try uint(2))))            // BININT2
            case 0x8A, 0x8B:                                             // LONG1, LONG4
                let n = Int(try uint(op == 0x8A ? 1 : 4))
                let raw = Array(try take(n))
                if n == 0 { stack.append(.int(0)) } else if n <= 8 {
                    var v = raw.reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
                    if raw.last! & 0x80 != 0 && n < 8 { v |= ~UInt64(0) << (8 * n) }   // sign-extend
                    stack.append(.int(Int64(bitPattern: v)))
                } else { stack.append(.bigInt(raw)) }
            case 0x49: stack.append(.int(Int64(try line()) ?? 0))        // INT (text)
            case 0x47: stack.append(.float(Double(bitPattern: try take(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) })))  // BINFLOAT
            case 0x58, 0x8C, 0x8D:                                       // BINUNICODE, SHORT_BINUNICODE, BINUNICODE8
                let n = Int(try uint(op == 0x58 ? 4 : (op == 0x8C ? 1 : 8)))
                stack.append(.string(String(decoding: try take(n), as: UTF8.self)))
            case 0x54, 0x55:                                             // BINSTRING, SHORT_BINSTRING (py2 str)
                let n = Int(try uint(op == 0x54 ? 4 : 1))
                stack.append(.string(String(decoding: try take(n), as: UTF8.self)))
            case 0x42, 0x43, 0x8E:                                       // BINBYTES, SHORT_BINBYTES, BINBYTES8
                let n = Int(try uint(op == 0x42 ? 4 : (op == 0x43 ? 1 : 8)))
                stack.append(.bytes(Array(try take(n))))
            case 0x29: stack.append(.tuple([]))                          // EMPTY_TUPLE
            case 0x74: stack.append(.tuple(try popToMark()))             // TUPLE
            case 0x85: stack.append(.tuple([try pop()]))
            case 0x86: let b = try pop(), a = try pop(); stack.append(.tuple([a, b]))
            case 0x87: let c = try pop(), b = try pop(), a = try pop(); stack.append(.tuple([a, b, c]))
            case 0x5D: stack.append(.list(.init()))                      // EMPTY_LIST
            case 0x6C: stack.append(.list(.init(try popToMark())))       // LIST
            case 0x61:                                                   // APPEND
                let v = try pop()
                guard case .list(let box) = stack.last else { throw fail("APPEND to a non-list") }
                box.items.append(v)
            case 0x65:                                                   // APPENDS
                let items = try popToMark()
                guard case .list(let box) = stack.last else { throw fail("APPENDS to a non-list") }
                box.items += items
            case 0x7D: stack.append(.dict(.init()))                      // EMPTY_DICT
            case 0x64:                                                   // DICT
                let items = try popToMark()
                let box = PickleValue.DictBox()
                for i in stride(from: 0, to: items.count - 1, by: 2) { box.pairs.append((items[i], items[i + 1])) }
                stack.append(.dict(box))
            case 0x73:                                                   // SETITEM
                let v = try pop(), k = try pop()
                guard case .dict(let box) = stack.last else { throw fail("SETITEM on a non-dict") }
                box.pairs.append((k, v))
            case 0x75:                                                   // SETITEMS
                let items = try popToMark()
                guard case .dict(let box) = stack.last else { throw fail("SETITEMS on a non-dict") }
                for i in stride(from: 0, to: items.count - 1, by: 2) { box.pairs.append((items[i], items[i + 1])) }
            case 0x63:                                                   // GLOBAL
                let module = try line(), name = try line()
                stack.append(.global(module: module, name: name))
            case 0x93:                                                   // STACK_GLOBAL
                let n = try pop(), m = try pop()
                guard let module = m.text, let name = n.text else { throw fail("STACK_GLOBAL needs two strings") }
                stack.append(.global(module: module, name: name))
            case 0x52, 0x81:                                             // REDUCE, NEWOBJ
                let args = try pop(), callable = try pop()
                guard case .tuple(let a) = args else { throw fail("REDUCE arguments are not a tuple") }
                stack.append(try reduce(callable, a))
            case 0x62: _ = try pop()                                     // BUILD: state ignored (e.g. _metadata)
            case 0x51: stack.append(.persistent(try pop()))              // BINPERSID
            case 0x50: stack.append(.persistent(.string(try line())))    // PERSID
            case 0x71: memo[Int(try uint(1))] = stack.last               // BINPUT
            case 0x72: memo[Int(try uint(4))] = stack.last               // LONG_BINPUT
            case 0x94: memo[memo.count] = stack.last                     // MEMOIZE
            case 0x70: memo[Int(try line()) ?? -1] = stack.last          // PUT
            case 0x68, 0x6A, 0x67:                                       // BINGET, LONG_BINGET, GET
                let key = op == 0x67 ? (Int(try line()) ?? -1) : Int(try uint(op == 0x68 ? 1 : 4))
                guard let v = memo[key] else { throw fail("memo entry \(key) missing") }
                stack.append(v)
            default:
                throw fail(String(format: "unsupported pickle opcode 0x%02x", op))
            }
        }
    }

    /// Interprets the few calls a checkpoint makes; others stay opaque.
    private func reduce(_ callable: PickleValue, _ args: [PickleValue]) throws -> PickleValue {
        guard case .global(let module, let name) = callable else { return .call(callable, args) }
        switch (module, name) {
        case ("collections", "OrderedDict"), ("builtins", "dict"), ("__builtin__", "dict"):
            let box = PickleValue.DictBox()
            if case .list(let items)? = args.first {
                for item in items.items { if case .tuple(let kv) = item, kv.count == 2 { box.pairs.append((kv[0], kv[1])) } }
            }
            return .dict(box)
        case ("torch._utils", "_rebuild_tensor_v2"), ("torch._utils", "_rebuild_tensor"):
            guard args.count >= 4, case .persistent(let id) = args[0], case .tuple(let ref) = id,
                  ref.count >= 5, ref[0].text == "storage" else {
                throw fail("a tensor whose storage reference is not understood")
            }
            guard case .global(_, let storageType) = ref[1] else { throw fail("a storage without a type") }
            let key = ref[2].text ?? (ref[2].integer.map { String($0) } ?? "")
            guard let numel = ref[4].integer, let offset = args[1].integer,
                  case .tuple(let size) = args[2], case .tuple(let stride) = args[3] else {
                throw fail("a tensor with unreadable geometry")
            }
            return .tensor(TensorRecord(storageKey: key, storageType: storageType, storageNumel: Int(numel), offset: Int(offset),
                                        shape: size.map { Int($0.integer ?? 0) }, strides: stride.map { Int($0.integer ?? 0) }))
        case ("torch._utils", "_rebuild_parameter"), ("torch._utils", "_rebuild_parameter_with_state"):
            return args.first ?? .none
        default:
            return .call(callable, args)
        }
    }
}

/// Errors of the NN module (checkpoint files, state dicts): sentences naming the file and the problem.
public struct NNError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
