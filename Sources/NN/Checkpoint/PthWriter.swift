import Foundation
import TensorCore
import ZIPFoundation

/// Writes checkpoints in the zip format `torch.save` uses by default, loadable with
/// `torch.load(path, weights_only=True)`: `archive/data.pkl` (pickle protocol 2 with the
/// tensors as `torch._utils._rebuild_tensor_v2` of persistent storages), one `archive/data/<k>`
/// entry per tensor, `archive/byteorder` and `archive/version`. Written to a temporary name and
/// renamed, so an interrupted save never leaves a broken file under the real name.
public enum PthWriter {
    public static func save(_ value: CheckpointValue, to path: String, date: Date = Date()) throws {
        var pickle = PickleWriter()
        var storages: [[UInt8]] = []
        try pickle.write(value, storages: &storages)
        let url = URL(fileURLWithPath: path)
        let folder = url.deletingLastPathComponent()
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        } catch {
            let posix = ((error as NSError).userInfo[NSUnderlyingErrorKey] as? NSError).map { String(cString: strerror(Int32($0.code))) }
            throw NNError("\(path): cannot create the folder \(folder.path): \(posix ?? "\(error)")")
        }
        let temporary = folder.appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())")
        try? FileManager.default.removeItem(at: temporary)
        do {
            let archive = try Archive(url: temporary, accessMode: .create)
            func add(_ name: String, _ bytes: [UInt8]) throws {
                let data = Data(bytes)
                try archive.addEntry(with: "archive/" + name, type: .file, uncompressedSize: Int64(data.count),
                                     modificationDate: date, compressionMethod: .none) { position, size in
                    data.subdata(in: Int(position)..<(Int(position) + size))
                }
            }
            try add("data.pkl", pickle.bytes)
            try add("byteorder", Array("little".utf8))
            for (i, s) in storages.enumerated() { try add("data/\(i)", s) }
            try add("version", Array("3\n".utf8))
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            let needed = storages.reduce(pickle.bytes.count) { $0 + $1.count }
            throw NNError("\(path): cannot write the checkpoint: " + reason(error, folder: folder.path, needed: needed))
        }
        guard rename(temporary.path, url.path) == 0 else {
            try? FileManager.default.removeItem(at: temporary)
            throw NNError("\(path): cannot move the finished checkpoint into place (\(String(cString: strerror(errno))))")
        }
    }

    /// The zip library reports a full disk as an unwritable file: say which it was, with the sizes.
    static func reason(_ error: Error, folder: String, needed: Int) -> String {
        var stats = statvfs()
        if statvfs(folder, &stats) == 0 {
            let free = Int(stats.f_bavail) * Int(stats.f_frsize)
            if free < needed {
                return String(format: "no space left on device (the file needs %.1f MB, %@ has %.1f MB free)",
                              Double(needed) / 1e6, folder, Double(free) / 1e6)
            }
        }
        return "\(error)"
    }

    /// A state dict as an ordered dict of tensors.
    public static func save(stateDict: [(String, Tensor)], to path: String) throws {
        try save(.dict(stateDict.map { ($0.0, .tensor($0.1)) }), to: path)
    }
}

/// Pickle protocol 2 for checkpoint values.
struct PickleWriter {
    private(set) var bytes: [UInt8] = [0x80, 0x02]   // PROTO 2

    private mutating func op(_ code: UInt8) { bytes.append(code) }
    private mutating func u32(_ v: UInt32) { for i in 0..<4 { bytes.append(UInt8((v >> (8 * UInt32(i))) & 0xFF)) } }

    private mutating func global(_ module: String, _ name: String) {
        op(0x63)   // GLOBAL
        bytes += Array("\(module)\n\(name)\n".utf8)
    }

    private mutating func string(_ s: String) {
        let utf8 = Array(s.utf8)
        op(0x58); u32(UInt32(utf8.count)); bytes += utf8   // BINUNICODE
    }

    private mutating func int(_ v: Int) {
        if let small = Int32(exactly: v) {
            op(0x4A); u32(UInt32(bitPattern: small))           // BININT
        } else {
            op(0x8A); bytes.append(8)                           // LONG1, 8 bytes
            for i in 0..<8 { bytes.append(UInt8((UInt64(bitPattern: Int64(v)) >> (8 * UInt64(i))) & 0xFF)) }
        }
    }

    private mutating func intTuple(_ values: [Int]) {
        op(0x28)                                                // MARK
        for v in values { int(v) }
        op(0x74)                                                // TUPLE
    }

    private mutating func emptyOrderedDict() {
        global("collections", "OrderedDict")
        op(0x29); op(0x52)                                      // EMPTY_TUPLE, REDUCE
    }

    mutating func write(_ value: CheckpointValue, storages: inout [[UInt8]]) throws {
        try encode(value, &storages)
        op(0x2E)                                                // STOP
    }

    private mutating func encode(_ value: CheckpointValue, _ storages: inout [[UInt8]]) throws {
        switch value {
        case .none: op(0x4E)
        case .bool(let b): op(b ? 0x88 : 0x89)
        case .int(let i): int(i)
        case .double(let d):
            op(0x47)                                            // BINFLOAT, big-endian
            let bits = d.bitPattern
            for i in (0..<8).reversed() { bytes.append(UInt8((bits >> (8 * UInt64(i))) & 0xFF)) }
        case .string(let s): string(s)
        case .list(let items):
            op(0x5D)                                            // EMPTY_LIST
            if !items.isEmpty {
                op(0x28)
                for item in items { try encode(item, &storages) }
                op(0x65)                                        // APPENDS
            }
        case .dict(let pairs):
            emptyOrderedDict()
            if !pairs.isEmpty {
                op(0x28)
                for (k, v) in pairs { string(k); try encode(v, &storages) }
                op(0x75)                                        // SETITEMS
            }
        case .tensor(let t):
            try tensor(t, &storages)
        }
    }

    private mutating func tensor(_ t: Tensor, _ storages: inout [[UInt8]]) throws {
        let storageType: String
        switch t.dtype {
        case .float32: storageType = "FloatStorage"
        case .float16: storageType = "HalfStorage"
        case .bfloat16: storageType = "BFloat16Storage"
        case .int64: storageType = "LongStorage"
        case .int32: storageType = "IntStorage"
        case .uint8: storageType = "ByteStorage"
        case .bool: storageType = "BoolStorage"
        }
        let dense = try t.detach().to(device: .cpu).contiguous()
        var raw = [UInt8](repeating: 0, count: dense.count * dense.dtype.byteSize)
        try raw.withUnsafeMutableBytes { buffer in
            if let base = buffer.baseAddress, buffer.count > 0 {
                try dense.backend.copyToHost(dense.storage, byteOffset: dense.offset * dense.dtype.byteSize,
                                             byteCount: buffer.count, into: base)
            }
        }
        let key = storages.count
        storages.append(raw)
        global("torch._utils", "_rebuild_tensor_v2")
        op(0x28)                                                // MARK (arguments)
        op(0x28)                                                // MARK (persistent id)
        string("storage")
        global("torch", storageType)
        string(String(key))
        string("cpu")
        int(dense.count)
        op(0x74)                                                // TUPLE
        op(0x51)                                                // BINPERSID
        int(0)                                                  // storage offset
        intTuple(dense.shape)
        intTuple(contiguousStrides(dense.shape))
        op(0x89)                                                // requires_grad False
        emptyOrderedDict()                                      // backward hooks
        op(0x74)                                                // TUPLE
        op(0x52)                                                // REDUCE
    }

    private func contiguousStrides(_ shape: [Int]) -> [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        var running = 1
        for i in stride(from: shape.count - 1, through: 0, by: -1) { strides[i] = running; running *= max(shape[i], 1) }
        return strides
    }
}
