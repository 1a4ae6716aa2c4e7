/// Raster drawing on RGB images: lines, rectangles, filled shapes and bitmap-font text. All
/// coordinates are clipped to the image, so callers can draw boxes that stick out.
extension Image {
    public mutating func fillRectangle(x0: Int, y0: Int, x1: Int, y1: Int, color: RGB) {
        let left = max(min(x0, x1), 0), right = min(max(x0, x1), width - 1)
        let top = max(min(y0, y1), 0), bottom = min(max(y0, y1), height - 1)
        guard left <= right, top <= bottom else { return }
        pixels.withUnsafeMutableBufferPointer { p in
            for y in top...bottom {
                var i = (y * width + left) * 3
                for _ in left...right { p[i] = color.r; p[i + 1] = color.g; p[i + 2] = color.b; i += 3 }
            }
        }
    }

    /// An outline whose border grows inwards by `lineWidth` pixels (as PIL draws nested rectangles).
    public mutating func drawRectangle(x0: Int, y0: Int, x1: Int, y1: Int, color: RGB, lineWidth: Int = 1) {
        for i in 0..<max(lineWidth, 1) {
            let l = x0 + i, t = y0 + i, r = x1 - i, b = y1 - i
            guard l <= r, t <= b else { break }
            fillRectangle(x0: l, y0: t, x1: r, y1: t, color: color)
            fillRectangle(x0: l, y0: b, x1: r, y1: b, color: color)
            fillRectangle(x0: l, y0: t, x1: l, y1: b, color: color)
            fillRectangle(x0: r, y0: t, x1: r, y1: b, color: color)
        }
    }

    /// A straight line of the given thickness (Bresenham, thickened with squares).
    public mutating func drawLine(x0: Int, y0: Int, x1: Int, y1: Int, color: RGB, lineWidth: Int = 1) {
        var x = x0, y = y0
        let dx = abs(x1 - x0), dy = -abs(y1 - y0), sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1
        var err = dx + dy
        let half = (max(lineWidth, 1) - 1) / 2
        while true {
            fillRectangle(x0: x - half, y0: y - half, x1: x - half + max(lineWidth, 1) - 1,
                          y1: y - half + max(lineWidth, 1) - 1, color: color)
            if x == x1 && y == y1 { break }
            let e2 = 2 * err
            if e2 >= dy { err += dy; x += sx }
            if e2 <= dx { err += dx; y += sy }
        }
    }

    public mutating func fillCircle(centerX: Int, centerY: Int, radius: Int, color: RGB) {
        guard radius >= 0 else { return }
        for y in (centerY - radius)...(centerY + radius) where y >= 0 && y < height {
            let half = Int((Double(radius * radius - (y - centerY) * (y - centerY))).squareRoot())
            fillRectangle(x0: centerX - half, y0: y, x1: centerX + half, y1: y, color: color)
        }
    }

    /// A filled polygon (even-odd rule) over pixel centres.
    public mutating func fillPolygon(_ points: [(Double, Double)], color: RGB) {
        fillPolygons([points], color: color)
    }

    /// Several contours filled together with the even-odd rule, so an inner contour cuts a hole.
    public mutating func fillPolygons(_ contours: [[(Double, Double)]], color: RGB) {
        let all = contours.filter { $0.count >= 3 }
        let ys = all.flatMap { $0.map(\.1) }
        guard let lowest = ys.min(), let highest = ys.max() else { return }
        let minY = max(Int(lowest.rounded(.down)), 0), maxY = min(Int(highest.rounded(.up)), height - 1)
        guard minY <= maxY else { return }
        for y in minY...maxY {
            let cy = Double(y) + 0.5
            var crossings: [Double] = []
            for points in all {
                for i in 0..<points.count {
                    let (ax, ay) = points[i], (bx, by) = points[(i + 1) % points.count]
                    if (ay <= cy && by > cy) || (by <= cy && ay > cy) {
                        crossings.append(ax + (cy - ay) / (by - ay) * (bx - ax))
                    }
                }
            }
            crossings.sort()
            var i = 0
            while i + 1 < crossings.count {
                let left = Int((crossings[i] - 0.5).rounded(.up)), right = Int((crossings[i + 1] - 0.5).rounded(.down))
                if left <= right { fillRectangle(x0: left, y0: y, x1: right, y1: y, color: color) }
                i += 2
            }
        }
    }

    /// Text with its top-left corner at (x, y), each font pixel drawn as scale x scale.
    public mutating func drawText(_ text: String, x: Int, y: Int, color: RGB, scale: Int = 1) {
        let s = max(scale, 1)
        var penX = x
        for character in text {
            let rows = BitmapFont.glyph(character)
            for (row, bits) in rows.enumerated() where bits != 0 {
                for column in 0..<BitmapFont.glyphWidth where bits & (0x10 >> column) != 0 {
                    let px = penX + column * s, py = y + row * s
                    fillRectangle(x0: px, y0: py, x1: px + s - 1, y1: py + s - 1, color: color)
                }
            }
            penX += BitmapFont.advance * s
        }
    }

    /// A filled tag with text, e.g. a detection label "person 0.87" above a box.
    public mutating func drawLabel(_ text: String, x: Int, y: Int, background: RGB, scale: Int = 1) {
        let (w, h) = BitmapFont.size(of: text, scale: scale)
        let pad = max(scale, 1)
        fillRectangle(x0: x, y0: y, x1: x + w + 2 * pad - 1, y1: y + h + 2 * pad - 1, color: background)
        drawText(text, x: x + pad, y: y + pad, color: background.contrasting, scale: scale)
    }
}
