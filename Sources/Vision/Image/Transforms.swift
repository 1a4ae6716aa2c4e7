import CVision

public enum ResizeFilter: Int32, Sendable { case nearest = 0, bilinear = 1, bicubic = 2 }

/// Where a letterboxed image sits on its canvas: scale and offset map original pixels to the
/// canvas (canvas = original * scale + offset).
public struct LetterboxPlacement: Equatable, Sendable {
    public var scale: Double
    public var offsetX: Int
    public var offsetY: Int
    public var resizedWidth: Int
    public var resizedHeight: Int

    /// Where an image of imageWidth x imageHeight lands on a width x height letterbox canvas
    /// (the reference's letterbox: scale = min(w/iw, h/ih), centred).
    public init(imageWidth: Int, imageHeight: Int, width w: Int, height h: Int) {
        scale = min(Double(w) / Double(imageWidth), Double(h) / Double(imageHeight))
        resizedWidth = max(1, Int(Double(imageWidth) * scale))
        resizedHeight = max(1, Int(Double(imageHeight) * scale))
        offsetX = (w - resizedWidth) / 2
        offsetY = (h - resizedHeight) / 2
    }
}

extension Image {
    public func resized(width newWidth: Int, height newHeight: Int, filter: ResizeFilter = .bicubic) -> Image {
        precondition(newWidth > 0 && newHeight > 0, "resize target must be positive")
        if newWidth == width && newHeight == height { return self }
        var out = [UInt8](repeating: 0, count: newWidth * newHeight * 3)
        pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                cv_resize(src.baseAddress, Int32(width), Int32(height), dst.baseAddress, Int32(newWidth), Int32(newHeight),
                          filter.rawValue)
            }
        }
        return try! Image(width: newWidth, height: newHeight, pixels: out)
    }

    /// Fits the image inside width x height keeping its aspect ratio, centred on a grey-128
    /// canvas (the reference's letterbox: scale = min(w/iw, h/ih), bicubic).
    public func letterboxed(width w: Int, height h: Int, filter: ResizeFilter = .bicubic) -> (Image, LetterboxPlacement) {
        let placement = LetterboxPlacement(imageWidth: width, imageHeight: height, width: w, height: h)
        var canvas = Image(width: w, height: h, fill: .grey128)
        canvas.paste(resized(width: placement.resizedWidth, height: placement.resizedHeight, filter: filter),
                     x: placement.offsetX, y: placement.offsetY)
        return (canvas, placement)
    }

    public func flippedHorizontally() -> Image {
        var copy = self
        let (w, h) = (Int32(width), Int32(height))
        copy.pixels.withUnsafeMutableBufferPointer { cv_flip_horizontal($0.baseAddress, w, h) }
        return copy
    }

    /// Copies other onto this image with its top-left at (x, y), clipped to the bounds.
    public mutating func paste(_ other: Image, x: Int, y: Int) {
        let (w, h) = (Int32(width), Int32(height))
        other.pixels.withUnsafeBufferPointer { src in
            pixels.withUnsafeMutableBufferPointer { dst in
                cv_paste(src.baseAddress, Int32(other.width), Int32(other.height), dst.baseAddress, w, h, Int32(x), Int32(y))
            }
        }
    }

    /// Copies other onto this image with its top-left at (x, y), writing only inside the
    /// rectangle [clipX0, clipX1) x [clipY0, clipY1).
    public mutating func paste(_ other: Image, x: Int, y: Int, clipX0: Int, clipY0: Int, clipX1: Int, clipY1: Int) {
        let (w, h) = (Int32(width), Int32(height))
        other.pixels.withUnsafeBufferPointer { src in
            pixels.withUnsafeMutableBufferPointer { dst in
                cv_paste_clipped(src.baseAddress, Int32(other.width), Int32(other.height), dst.baseAddress, w, h, Int32(x), Int32(y),
                                 Int32(clipX0), Int32(clipY0), Int32(clipX1), Int32(clipY1))
            }
        }
    }

    /// The part inside the rectangle (clipped to the image; at least 1x1).
    public func cropped(x: Int, y: Int, width cw: Int, height ch: Int) -> Image {
        let x0 = min(max(x, 0), width - 1), y0 = min(max(y, 0), height - 1)
        let x1 = max(min(x + cw, width), x0 + 1), y1 = max(min(y + ch, height), y0 + 1)
        var out = Image(width: x1 - x0, height: y1 - y0, fill: .black)
        out.paste(self, x: -x0, y: -y0)
        return out
    }

    /// The reference's HSV jitter with multipliers r = U(-1, 1) * [hue, sat, val] + 1 already drawn.
    public func hsvJittered(hue rh: Float, saturation rs: Float, value rv: Float) -> Image {
        var copy = self
        let n = Int64(width * height)
        copy.pixels.withUnsafeMutableBufferPointer { cv_hsv_jitter($0.baseAddress, n, rh, rs, rv) }
        return copy
    }

    /// self * weight + other * (1 - weight), rounded (MixUp with weight 0.5).
    public func blended(with other: Image, weight: Float) throws -> Image {
        guard other.width == width, other.height == height else {
            throw ImageError("blend: sizes differ (\(width)x\(height) and \(other.width)x\(other.height))")
        }
        var out = self
        let count = Int64(pixels.count)
        pixels.withUnsafeBufferPointer { a in
            other.pixels.withUnsafeBufferPointer { b in
                out.pixels.withUnsafeMutableBufferPointer { cv_blend(a.baseAddress, b.baseAddress, $0.baseAddress, count, weight) }
            }
        }
        return out
    }

    /// EXIF orientation 1-8 applied (rotations swap width and height for 5-8).
    public func applyingOrientation(_ orientation: Int) -> Image {
        guard (2...8).contains(orientation) else { return self }
        var ow: Int32 = 0, oh: Int32 = 0
        let out = pixels.withUnsafeBufferPointer {
            cv_apply_orientation($0.baseAddress, Int32(width), Int32(height), Int32(orientation), &ow, &oh)
        }
        guard let out else { return self }
        defer { cv_free(out) }
        return try! Image(width: Int(ow), height: Int(oh), pixels: Array(UnsafeBufferPointer(start: out, count: pixels.count)))
    }

    /// Writes the pixels as planar float32 in [0, 1] (C, H, W): the network's input layout.
    public func writePlanarFloats(into destination: UnsafeMutablePointer<Float>) {
        let n = Int64(width * height)
        pixels.withUnsafeBufferPointer { cv_to_planar_float($0.baseAddress, n, destination) }
    }
}

/// OpenCV-compatible byte conversions, exposed for the tests that compare against OpenCV.
func cvRGBtoHSV(_ rgb: UnsafeBufferPointer<UInt8>, _ hsv: UnsafeMutableBufferPointer<UInt8>) {
    cv_rgb_to_hsv(rgb.baseAddress, hsv.baseAddress, Int64(rgb.count / 3))
}

func cvHSVtoRGB(_ hsv: UnsafeBufferPointer<UInt8>, _ rgb: UnsafeMutableBufferPointer<UInt8>) {
    cv_hsv_to_rgb(hsv.baseAddress, rgb.baseAddress, Int64(hsv.count / 3))
}
