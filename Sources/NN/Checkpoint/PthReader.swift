import Foundation
import TensorCore
import ZIPFoundation

/// Reads PyTorch checkpoint files: the zip format `torch.save` writes since 1.6
/// (`<name>/data.pkl` + one entry per storage) and the legacy format of earlier versions (a
/// pickle stream — magic number, protocol, system info, the object, the storage keys — followed
/// by the raw storages), which is how the reference's released weights were saved.
public enum PthReader {
    public static func load(_ path: String) throws -> CheckpointValue {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else { throw NNError("\(path): no such file") }
        guard !isFolder.boolValue else {
            throw NNError("\(path): is a folder, not a weights file (expected a .pth file such as logs/best_epoch_weights.pth)")
        }
        guard let data = FileManager.default.contents(atPath: path) else { throw NNError("\(path): cannot read the file") }
        let bytes = [UInt8](data)
        guard bytes.count >= 4 else { throw NNError("\(path): the file is too short to be a checkpoint (\(bytes.count) bytes)") }
        if bytes[0] == 0x50 && bytes[1] == 0x4B && bytes[2] == 0x03 && bytes[3] == 0x04 {
            return try loadZip(path)
        }
        if bytes[0] == 0x80 { return try loadLegacy(bytes, name: path) }
        let head = bytes.prefix(4).map { String(format: "%02x", $0) }.joined(separator: " ")
        throw NNError("\(path): not a PyTorch checkpoint (neither a zip archive nor a pickle; it starts with \(head))")
    }

    static func loadZip(_ path: String) throws -> CheckpointValue {
        let archive: Archive
        do { archive = try Archive(url: URL(fileURLWithPath: path), accessMode: .read) } catch {
            throw NNError("\(path): a damaged zip archive (\(error)); was the file cut short?")
        }
        guard let pickle = archive.first(where: { $0.path.hasSuffix("data.pkl") }) else {
            throw NNError("\(path): a zip archive without data.pkl, not a torch.save checkpoint")
        }
        let prefix = String(pickle.path.dropLast("data.pkl".count))
        let root = try read(archive, pickle, path)
        var reader = PickleReader(root, name: path)
        let value = try reader.load()
        return try materialise(value, name: path) { record in
            guard let entry = archive[prefix + "data/" + record.storageKey] else {
                throw NNError("\(path): storage '\(record.storageKey)' is missing from the archive (file truncated?)")
            }
            return try read(archive, entry, path)
        }
    }

    private static func read(_ archive: Archive, _ entry: Entry, _ path: String) throws -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(Int(entry.uncompressedSize))
        do { _ = try archive.extract(entry, skipCRC32: true) { out += $0 } } catch {
            throw NNError("\(path): cannot read '\(entry.path)' from the archive (\(error))")
        }
        return out
    }

    static func loadLegacy(_ bytes: [UInt8], name: String) throws -> CheckpointValue {
        var reader = PickleReader(bytes, name: name)
        let magic = try reader.load()
        let expected: [UInt8] = [0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19]   // 0x1950a86a20f9469cfc6c
        guard case .bigInt(let raw) = magic, raw == expected else {
            throw NNError("\(name): a pickle, but not a PyTorch checkpoint (no torch.save magic number)")
        }
        guard case .int(let protocolVersion) = try reader.load(), protocolVersion == 1001 else {
            throw NNError("\(name): unsupported legacy checkpoint protocol (expected 1001)")
        }
        _ = try reader.load()                          // system info
        let value = try reader.load()
        guard case .list(let keys) = try reader.load() else { throw NNError("\(name): legacy storage key list missing") }
        // Storages follow in key order: an int64 element count, then the raw bytes.
        var position = reader.position
        var storages: [String: [UInt8]] = [:]
        var sizes: [String: Int] = [:]
        collectStorageTypes(value, into: &sizes)
        for keyValue in keys.items {
            guard let key = keyValue.text else { throw NNError("\(name): a legacy storage key is not a string") }
            guard position + 8 <= bytes.count else { throw NNError("\(name): the file ends before storage '\(key)' (truncated)") }
            let numel = Int(bytes[position..<(position + 8)].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) })
            position += 8
            let byteCount = numel * (sizes[key] ?? 4)
            guard position + byteCount <= bytes.count else {
                throw NNError("\(name): the file ends inside storage '\(key)' (truncated)")
            }
            storages[key] = Array(bytes[position..<(position + byteCount)])
            position += byteCount
        }
        return try materialise(value, name: name) { record in
            guard let s = storages[record.storageKey] else { throw NNError("\(name): storage '\(record.storageKey)' is missing") }
            return s
        }
    }

    private static func collectStorageTypes(_ value: PickleValue, into sizes: inout [String: Int]) {
        switch value {
        case .tensor(let r): sizes[r.storageKey] = (try? elementType(r.storageType, name: "").1) ?? 4
        case .list(let box): for v in box.items { collectStorageTypes(v, into: &sizes) }
        case .tuple(let items): for v in items { collectStorageTypes(v, into: &sizes) }
        case .dict(let box): for (_, v) in box.pairs { collectStorageTypes(v, into: &sizes) }
        default: break
        }
    }

    /// Our dtype and the element size of a PyTorch storage type.
    static func elementType(_ storageType: String, name: String) throws -> (DType, Int) {
        switch storageType {
        case "FloatStorage": return (.float32, 4)
        case "HalfStorage": return (.float16, 2)
        case "BFloat16Storage": return (.bfloat16, 2)
        case "DoubleStorage": return (.float32, 8)       // converted
        case "LongStorage": return (.int64, 8)
        case "IntStorage": return (.int32, 4)
        case "ByteStorage": return (.uint8, 1)
        case "BoolStorage": return (.bool, 1)
        default:
            throw NNError("\(name): tensors of type \(storageType) are not supported "
                          + "(float32, float16, float64, int64, int32, uint8 and bool are)")
        }
    }

    /// Turns the pickle's values into checkpoint values, building each tensor from its storage.
    static func materialise(_ value: PickleValue, name: String, storage: (TensorRecord) throws -> [UInt8]) throws -> CheckpointValue {
        var cache: [String: [UInt8]] = [:]
        func convert(_ v: PickleValue) throws -> CheckpointValue {
            switch v {
            case .none: return .none
            case .bool(let b): return .bool(b)
            case .int(let i): return .int(Int(i))
            case .float(let d): return .double(d)
            case .string(let s): return .string(s)
            case .tuple(let items): return .list(try items.map(convert))
            case .list(let box): return .list(try box.items.map(convert))
            case .dict(let box):
                return .dict(try box.pairs.map { k, v in
                    let key = k.text ?? k.integer.map { String($0) } ?? "\(k.kind)"
                    return (key, try convert(v))
                })
            case .tensor(let record):
                if cache[record.storageKey] == nil { cache[record.storageKey] = try storage(record) }
                return .tensor(try makeTensor(record, cache[record.storageKey]!, name: name))
            case .call(let f, _):
                throw NNError("\(name): the checkpoint contains \(f.kind), which is not supported "
                              + "(only tensors, numbers, strings, lists and dicts are)")
            default:
                throw NNError("\(name): the checkpoint contains a \(v.kind) value, which is not supported")
            }
        }
        return try convert(value)
    }

    static func makeTensor(_ r: TensorRecord, _ bytes: [UInt8], name: String) throws -> Tensor {
        let (dtype, size) = try elementType(r.storageType, name: name)
        guard bytes.count >= r.storageNumel * size else {
            throw NNError("\(name): storage '\(r.storageKey)' holds \(bytes.count) bytes, expected \(r.storageNumel * size)")
        }
        let flat: Tensor
        if r.storageType == "DoubleStorage" {
            let doubles = bytes.withUnsafeBytes { Array($0.bindMemory(to: Double.self).prefix(r.storageNumel)) }
            flat = try Tensor(doubles.map { Float($0) })
        } else {
            flat = try Tensor.empty([r.storageNumel], dtype: dtype)
            try bytes.withUnsafeBytes { raw in
                try flat.backend.copyFromHost(raw.baseAddress!, to: flat.storage, byteOffset: 0, byteCount: r.storageNumel * size)
            }
        }
        return try flat.asStrided(shape: r.shape, strides: r.strides, offset: r.offset).contiguous()
    }
}
