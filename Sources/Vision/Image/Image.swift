/// An 8-bit RGB image, row-major, 3 bytes per pixel. Value semantics.
public struct Image: Equatable, Sendable {
    public let width: Int
    public let height: Int
    public var pixels: [UInt8]

    public init(width: Int, height: Int, pixels: [UInt8]) throws {
        guard width > 0, height > 0, pixels.count == width * height * 3 else {
            throw ImageError("an image of \(width)x\(height) needs \(max(width, 0) * max(height, 0) * 3) bytes, "
                             + "found \(pixels.count)")
        }
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    /// A canvas filled with one colour (the reference pads with grey 128).
    public init(width: Int, height: Int, fill: RGB = .grey128) {
        precondition(width > 0 && height > 0, "image size must be positive")
        self.width = width
        self.height = height
        pixels = [UInt8](repeating: 0, count: width * height * 3)
        if fill != .black {
            for i in 0..<(width * height) { pixels[3 * i] = fill.r; pixels[3 * i + 1] = fill.g; pixels[3 * i + 2] = fill.b }
        }
    }

    public subscript(x: Int, y: Int) -> RGB {
        get {
            let i = (y * width + x) * 3
            return RGB(pixels[i], pixels[i + 1], pixels[i + 2])
        }
        set {
            let i = (y * width + x) * 3
            pixels[i] = newValue.r; pixels[i + 1] = newValue.g; pixels[i + 2] = newValue.b
        }
    }
}

public struct RGB: Equatable, Hashable, Sendable {
    public var r, g, b: UInt8
    public init(_ r: UInt8, _ g: UInt8, _ b: UInt8) { self.r = r; self.g = g; self.b = b }

    public static let black = RGB(0, 0, 0)
    public static let white = RGB(255, 255, 255)
    public static let grey128 = RGB(128, 128, 128)

    /// From hue, saturation, value in [0, 1] (colorsys.hsv_to_rgb, scaled to bytes).
    public init(hue: Double, saturation: Double, value: Double) {
        let h = (hue - hue.rounded(.down)) * 6, i = Int(h) % 6, f = h - Double(Int(h))
        let p = value * (1 - saturation), q = value * (1 - saturation * f), t = value * (1 - saturation * (1 - f))
        let (r, g, b): (Double, Double, Double)
        switch i {
        case 0: (r, g, b) = (value, t, p)
        case 1: (r, g, b) = (q, value, p)
        case 2: (r, g, b) = (p, value, t)
        case 3: (r, g, b) = (p, q, value)
        case 4: (r, g, b) = (t, p, value)
        default: (r, g, b) = (value, p, q)
        }
        self.init(UInt8(r * 255), UInt8(g * 255), UInt8(b * 255))
    }

    /// Black or white, whichever reads better on this colour.
    public var contrasting: RGB {
        0.299 * Double(r) + 0.587 * Double(g) + 0.114 * Double(b) > 140 ? .black : .white
    }
}

/// What went wrong with an image or drawing request, as a sentence naming the file if any.
public struct ImageError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Colours for class indices: hues spread evenly over the classes at full saturation and value.
public func classColors(_ count: Int) -> [RGB] {
    (0..<max(count, 0)).map { RGB(hue: Double($0) / Double(max(count, 1)), saturation: 1, value: 1) }
}
