import CVision
import Foundation

/// A decoded file: pixels as stored, and the EXIF orientation the file asks viewers to apply.
public struct DecodedImage: Sendable {
    public var image: Image
    public var orientation: Int
    public var sourceChannels: Int

    /// The image as people should see it (EXIF orientation applied).
    public var oriented: Image { image.applyingOrientation(orientation) }
}

extension Image {
    /// Decodes JPEG or PNG bytes, recognised by their signature (not the file name).
    public static func decode(_ bytes: [UInt8], name: String = "image") throws -> DecodedImage {
        guard !bytes.isEmpty else { throw ImageError("\(name): the file is empty") }
        var result = cv_decoded()
        let status: Int32
        if bytes.count >= 3 && bytes[0] == 0xFF && bytes[1] == 0xD8 && bytes[2] == 0xFF {
            status = bytes.withUnsafeBufferPointer { cv_decode_jpeg($0.baseAddress, $0.count, &result) }
        } else if bytes.count >= 8 && bytes[0..<8] == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] {
            status = bytes.withUnsafeBufferPointer { cv_decode_png($0.baseAddress, $0.count, &result) }
        } else {
            let head = bytes.prefix(4).map { String(format: "%02x", $0) }.joined(separator: " ")
            throw ImageError("\(name): not a JPEG or PNG image (it starts with bytes \(head))")
        }
        guard status == 0, let pixels = result.pixels else {
            let reason = withUnsafeBytes(of: result.error) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
            throw ImageError("\(name): cannot decode: \(reason.isEmpty ? "corrupt data" : reason)")
        }
        defer { cv_free(pixels) }
        let count = Int(result.width) * Int(result.height) * 3
        let image = try Image(width: Int(result.width), height: Int(result.height),
                              pixels: Array(UnsafeBufferPointer(start: pixels, count: count)))
        return DecodedImage(image: image, orientation: Int(result.orientation), sourceChannels: Int(result.source_channels))
    }

    /// Reads and decodes a file. Errors name the path.
    public static func load(_ path: String) throws -> DecodedImage {
        guard let data = FileManager.default.contents(atPath: path) else {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
                throw ImageError("\(path): cannot read the file\(isDirectory.boolValue ? " (it is a folder)" : "")")
            }
            throw ImageError("\(path): no such file")
        }
        return try decode([UInt8](data), name: path)
    }

    public func encodeJPEG(quality: Int = 95) throws -> [UInt8] {
        guard (1...100).contains(quality) else { throw ImageError("JPEG quality must be 1-100, found \(quality)") }
        return try encode { rgb, out, size, error in
            cv_encode_jpeg(rgb, Int32(width), Int32(height), Int32(quality), out, size, error, 256)
        }
    }

    public func encodePNG() throws -> [UInt8] {
        try encode { rgb, out, size, error in cv_encode_png(rgb, Int32(width), Int32(height), out, size, error, 256) }
    }

    private func encode(_ body: (UnsafePointer<UInt8>, UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>,
                                 UnsafeMutablePointer<Int>, UnsafeMutablePointer<CChar>) -> Int32) throws -> [UInt8] {
        var out: UnsafeMutablePointer<UInt8>?
        var size = 0
        var error = [CChar](repeating: 0, count: 256)
        let status = pixels.withUnsafeBufferPointer { p in
            error.withUnsafeMutableBufferPointer { body(p.baseAddress!, &out, &size, $0.baseAddress!) }
        }
        guard status == 0, let out else { throw ImageError("cannot encode: \(String(cString: error))") }
        defer { cv_free(out) }
        return Array(UnsafeBufferPointer(start: out, count: size))
    }

    /// Writes JPEG (.jpg/.jpeg) or PNG (.png) by extension, through a temporary file renamed into
    /// place, so a crash never leaves a half-written image under the real name.
    public func save(_ path: String, quality: Int = 95) throws {
        let ext = (path as NSString).pathExtension.lowercased()
        let bytes: [UInt8]
        switch ext {
        case "jpg", "jpeg": bytes = try encodeJPEG(quality: quality)
        case "png": bytes = try encodePNG()
        default: throw ImageError("\(path): unknown image extension '.\(ext)' (use .jpg or .png)")
        }
        try writeAtomically(Data(bytes), to: path)
    }
}

/// Writes data to a temporary name in the same folder, then renames it over the target.
public func writeAtomically(_ data: Data, to path: String) throws {
    let url = URL(fileURLWithPath: path)
    let folder = url.deletingLastPathComponent()
    do {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    } catch {
        throw ImageError("\(path): cannot create the folder \(folder.path): \(systemReason(error))")
    }
    let temporary = folder.appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())")
    do {
        try data.write(to: temporary)
        if rename(temporary.path, url.path) != 0 {
            throw ImageError("\(path): cannot move the finished file into place (\(String(cString: strerror(errno))))")
        }
    } catch {
        try? FileManager.default.removeItem(at: temporary)
        if let e = error as? ImageError { throw e }
        throw ImageError("\(path): cannot write: \(systemReason(error))")
    }
}

/// The operating system's words for a Foundation file error ("No space left on device", "Not a
/// directory"), rather than Foundation's domain and code.
public func systemReason(_ error: Error) -> String {
    let ns = error as NSError
    if let posix = ns.userInfo[NSUnderlyingErrorKey] as? NSError, posix.domain == NSPOSIXErrorDomain {
        return String(cString: strerror(Int32(posix.code)))
    }
    if ns.domain == NSPOSIXErrorDomain { return String(cString: strerror(Int32(ns.code))) }
    return ns.localizedDescription
}
