import Foundation

/// Writes TensorBoard event files with scalar summaries: TFRecord framing (length, masked
/// CRC32C, payload, masked CRC32C) around `Event` protocol buffers encoded by hand
/// (wall_time = 1, step = 2, file_version = 3, summary = 5 { value = 1 { tag = 1, simple_value = 2 } }).
public final class TensorBoardWriter {
    public let path: String
    private let handle: FileHandle

    public init(folder: String) throws {
        let host = ProcessInfo.processInfo.hostName
        path = (folder as NSString).appendingPathComponent("events.out.tfevents.\(Int(Date().timeIntervalSince1970)).\(host)")
        FileManager.default.createFile(atPath: path, contents: nil)
        guard let h = FileHandle(forWritingAtPath: path) else { throw YOLOError("\(path): cannot create the TensorBoard event file") }
        handle = h
        var event = Proto()
        event.double(1, Date().timeIntervalSince1970)
        event.bytes(3, Array("brain.Event:2".utf8))
        write(event.data)
    }

    deinit { try? handle.close() }

    public func scalar(_ tag: String, _ value: Double, step: Int) {
        var v = Proto()
        v.bytes(1, Array(tag.utf8))
        v.float(2, Float(value))
        var summary = Proto()
        summary.bytes(1, v.data)
        var event = Proto()
        event.double(1, Date().timeIntervalSince1970)
        event.varintField(2, UInt64(step))
        event.bytes(5, summary.data)
        write(event.data)
    }

    /// A SessionLog START at `step` (Event field 6, status 1): TensorBoard drops the events of
    /// earlier files from that step on, so the part of a crashed run that a resumed run trains again
    /// is shown once.
    public func sessionStart(step: Int) {
        var session = Proto()
        session.varintField(1, 1)
        var event = Proto()
        event.double(1, Date().timeIntervalSince1970)
        event.varintField(2, UInt64(step))
        event.bytes(6, session.data)
        write(event.data)
    }

    private func write(_ payload: [UInt8]) {
        var record: [UInt8] = []
        var length = UInt64(payload.count).littleEndian
        let lengthBytes = withUnsafeBytes(of: &length) { Array($0) }
        record += lengthBytes
        record += le32(Self.masked(Self.crc32c(lengthBytes)))
        record += payload
        record += le32(Self.masked(Self.crc32c(payload)))
        // One write(2) per event: a killed process loses nothing already written; no fsync per scalar,
        // which cost milliseconds per training step.
        handle.write(Data(record))
    }

    private func le32(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8((v >> (8 * UInt32($0))) & 0xFF) } }

    static let table: [UInt32] = (0..<256).map { i -> UInt32 in
        var c = UInt32(i)
        for _ in 0..<8 { c = c & 1 != 0 ? 0x82F6_3B78 ^ (c >> 1) : c >> 1 }
        return c
    }

    /// CRC-32C (Castagnoli), as TFRecord uses.
    static func crc32c(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for b in bytes { crc = table[Int((crc ^ UInt32(b)) & 0xFF)] ^ (crc >> 8) }
        return crc ^ 0xFFFF_FFFF
    }

    static func masked(_ crc: UInt32) -> UInt32 { ((crc >> 15) | (crc << 17)) &+ 0xA282_EAD8 }
}

/// A minimal protocol-buffer encoder.
struct Proto {
    var data: [UInt8] = []
    mutating func varint(_ v: UInt64) {
        var v = v
        while v >= 0x80 { data.append(UInt8(v & 0x7F) | 0x80); v >>= 7 }
        data.append(UInt8(v))
    }
    mutating func varintField(_ field: Int, _ v: UInt64) { varint(UInt64(field << 3)); varint(v) }
    mutating func double(_ field: Int, _ v: Double) {
        varint(UInt64(field << 3 | 1))
        var bits = v.bitPattern.littleEndian
        data += withUnsafeBytes(of: &bits) { Array($0) }
    }
    mutating func float(_ field: Int, _ v: Float) {
        varint(UInt64(field << 3 | 5))
        var bits = v.bitPattern.littleEndian
        data += withUnsafeBytes(of: &bits) { Array($0) }
    }
    mutating func bytes(_ field: Int, _ b: [UInt8]) { varint(UInt64(field << 3 | 2)); varint(UInt64(b.count)); data += b }
}
