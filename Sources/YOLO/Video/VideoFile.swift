import CVideo
import Foundation
import Vision

/// Frames from a video file or a camera, decoded by FFmpeg, as RGB images.
public final class VideoReader {
    private let handle: OpaquePointer
    public let path: String
    public let width, height: Int
    /// Frames per second the stream declares (0 when it does not say).
    public let fps: Double
    /// The frame count the container declares or its duration implies; nil when unknown (cameras).
    public let frameCount: Int?
    public let codec: String

    /// `source` is a file, "0".."9" for /dev/videoN, or a /dev/video* path.
    public init(source: String) throws {
        let camera = Self.cameraPath(source)
        let path = camera ?? source
        if let camera, !FileManager.default.fileExists(atPath: camera) {
            throw YOLOError("--video-path \(source): no camera at \(camera) (no /dev/video* device on this machine)")
        }
        if camera == nil {
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else {
                throw YOLOError("--video-path \(path): no such file")
            }
            guard !isFolder.boolValue else { throw YOLOError("--video-path \(path): is a folder, not a video") }
            guard FileManager.default.isReadableFile(atPath: path) else { throw YOLOError("--video-path \(path): cannot read (permission denied)") }
        }
        var error = [CChar](repeating: 0, count: 256)
        guard let h = cv_reader_open(path, camera == nil ? 0 : 1, &error, Int32(error.count)) else {
            let reason = String(cString: error)
            throw YOLOError("--video-path \(path): FFmpeg cannot open it as a video (\(reason))")
        }
        handle = h
        self.path = path
        width = Int(cv_reader_width(h))
        height = Int(cv_reader_height(h))
        fps = cv_reader_fps(h)
        let count = Int(cv_reader_frame_count(h))
        frameCount = count > 0 ? count : nil
        codec = String(cString: cv_reader_codec(h))
    }

    deinit { cv_reader_close(handle) }

    /// Damaged packets skipped so far (decoding goes on past them), with FFmpeg's reason for the first.
    public var skipped: (count: Int, reason: String) {
        (Int(cv_reader_skipped_packets(handle)), String(cString: cv_reader_skip_reason(handle)))
    }

    /// The next frame, or nil at the end of the stream.
    public func next() throws -> Image? {
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        var error = [CChar](repeating: 0, count: 256)
        let rc = pixels.withUnsafeMutableBufferPointer { cv_reader_next(handle, $0.baseAddress, &error, Int32(error.count)) }
        if rc < 0 { throw YOLOError("\(path): cannot decode a frame (\(String(cString: error)))") }
        return rc == 0 ? nil : try Image(width: width, height: height, pixels: pixels)
    }

    /// "0" -> /dev/video0; a /dev/video* path as it is; nil for files.
    static func cameraPath(_ source: String) -> String? {
        if let n = Int(source), n >= 0, source.allSatisfy(\.isNumber) { return "/dev/video\(n)" }
        return source.hasPrefix("/dev/video") ? source : nil
    }
}

/// An encoded video file: H.264 in MP4 where libx264 is there, else MPEG-4 part 2 (said by `codec`).
/// Written under a temporary name and renamed at `finish`, so an interrupted run leaves no half file
/// under the real name (nor replaces an older one).
public final class VideoWriter {
    private var handle: OpaquePointer?
    public let path: String
    let temporary: String
    public let width, height: Int
    public let codec: String

    public init(path: String, width: Int, height: Int, fps: Double) throws {
        let url = URL(fileURLWithPath: path)
        temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())").path
        var error = [CChar](repeating: 0, count: 256)
        guard let h = cv_writer_open(path, temporary, Int32(width), Int32(height), fps, &error, Int32(error.count)) else {
            try? FileManager.default.removeItem(atPath: temporary)
            throw YOLOError("--video-save-path \(path): cannot write a video there (\(String(cString: error)))")
        }
        handle = h
        self.path = path
        self.width = width
        self.height = height
        codec = String(cString: cv_writer_codec(h))
    }

    deinit {
        if let handle { cv_writer_close(handle) }
        if handle != nil { try? FileManager.default.removeItem(atPath: temporary) }
    }

    public func write(_ image: Image) throws {
        guard let handle else { throw YOLOError("\(path): the video is finished already") }
        guard image.width == width, image.height == height else {
            throw YOLOError("\(path): a \(image.width)x\(image.height) frame in a \(width)x\(height) video")
        }
        var error = [CChar](repeating: 0, count: 256)
        let rc = image.pixels.withUnsafeBufferPointer { cv_writer_write(handle, $0.baseAddress, &error, Int32(error.count)) }
        if rc < 0 { throw YOLOError("\(path): cannot encode a frame (\(String(cString: error)))") }
    }

    /// Flushes the encoder, writes the trailer and moves the file into place.
    public func finish() throws {
        guard let handle else { return }
        var error = [CChar](repeating: 0, count: 256)
        let rc = cv_writer_finish(handle, &error, Int32(error.count))
        cv_writer_close(handle)
        self.handle = nil
        guard rc == 0 else {
            try? FileManager.default.removeItem(atPath: temporary)
            throw YOLOError("\(path): cannot finish the video (\(String(cString: error)))")
        }
        guard rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(atPath: temporary)
            throw YOLOError("\(path): cannot move the finished video into place (\(reason))")
        }
    }
}
