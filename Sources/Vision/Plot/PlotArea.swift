import Foundation

/// The frame shared by the charts: title, axes with "nice" ticks and labels, and the mapping
/// from data coordinates to pixels.
struct PlotArea {
    let left, top, right, bottom: Int          // pixel bounds of the data area
    let xMin, xMax, yMin, yMax: Double

    func px(_ x: Double) -> Int { left + Int(((x - xMin) / max(xMax - xMin, 1e-12) * Double(right - left)).rounded()) }
    func py(_ y: Double) -> Int { bottom - Int(((y - yMin) / max(yMax - yMin, 1e-12) * Double(bottom - top)).rounded()) }

    /// Round tick positions covering [low, high], about `target` of them.
    static func ticks(_ low: Double, _ high: Double, target: Int = 6) -> [Double] {
        guard high > low, low.isFinite, high.isFinite else { return [low] }
        let raw = (high - low) / Double(max(target, 1))
        let magnitude = pow(10, floor(log10(raw)))
        let step = [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? 10 * magnitude
        var ticks: [Double] = []
        var t = ceil(low / step) * step
        while t <= high + step * 1e-9 {
            // Printed through %.10g so 0.6000000000000001 becomes 0.6.
            ticks.append(abs(t) < step * 1e-9 ? 0 : Double(String(format: "%.10g", t))!)
            t += step
        }
        return ticks
    }

    /// Expands a data range to tick boundaries with a little room, never empty.
    static func niceRange(_ values: [Double], includeZero: Bool = false) -> (Double, Double) {
        let finite = values.filter { $0.isFinite }
        var low = finite.min() ?? 0, high = finite.max() ?? 1
        if includeZero { low = min(low, 0); high = max(high, 0) }
        if high - low < 1e-12 { low -= 0.5; high += 0.5 }
        let ticks = Self.ticks(low, high)
        let step = ticks.count > 1 ? ticks[1] - ticks[0] : (high - low)
        return (min(low, floor(low / step) * step), max(high, ceil(high / step) * step))
    }

    static func format(_ v: Double) -> String {
        if v == 0 { return "0" }
        let a = abs(v)
        if a >= 1e5 || a < 1e-3 { return String(format: "%.1e", v) }
        if a >= 100 || v == v.rounded() { return String(format: "%.0f", v) }
        if a >= 1 { return String(format: "%.2g", v).count > 4 ? String(format: "%.1f", v) : String(format: "%.2g", v) }
        return String(format: "%.3g", v)
    }

    /// Draws the frame, ticks, grid, tick labels, axis labels and title; returns the area.
    static func draw(on image: inout Image, title: String, xLabel: String, yLabel: String,
                     xRange: (Double, Double), yRange: (Double, Double), yLabelsWidth: Int? = nil,
                     xTickLabels: Bool = true) -> PlotArea {
        let scale = max(1, min(image.width, image.height) / 400)
        let yTicks = ticks(yRange.0, yRange.1)
        let tickText = yTicks.map(format)
        let labelWidth = yLabelsWidth ?? (tickText.map { BitmapFont.size(of: $0, scale: scale).width }.max() ?? 0)
        let area = PlotArea(left: 16 * scale + labelWidth + 14 * scale, top: 24 * scale,
                            right: image.width - 20 * scale, bottom: image.height - 40 * scale,
                            xMin: xRange.0, xMax: xRange.1, yMin: yRange.0, yMax: yRange.1)
        let grid = RGB(225, 225, 225), ink = RGB(40, 40, 40)
        for (t, text) in zip(yTicks, tickText) {
            let y = area.py(t)
            image.drawLine(x0: area.left, y0: y, x1: area.right, y1: y, color: grid)
            let w = BitmapFont.size(of: text, scale: scale).width
            image.drawText(text, x: area.left - 6 * scale - w, y: y - 3 * scale, color: ink, scale: scale)
        }
        if xTickLabels {
            for t in ticks(xRange.0, xRange.1) {
                let x = area.px(t)
                image.drawLine(x0: x, y0: area.top, x1: x, y1: area.bottom, color: grid)
                let text = format(t), w = BitmapFont.size(of: text, scale: scale).width
                image.drawText(text, x: x - w / 2, y: area.bottom + 6 * scale, color: ink, scale: scale)
            }
        }
        image.drawRectangle(x0: area.left, y0: area.top, x1: area.right, y1: area.bottom, color: ink)
        let titleWidth = BitmapFont.size(of: title, scale: scale + 1).width
        image.drawText(title, x: (image.width - titleWidth) / 2, y: 6 * scale, color: .black, scale: scale + 1)
        let xw = BitmapFont.size(of: xLabel, scale: scale).width
        image.drawText(xLabel, x: (area.left + area.right - xw) / 2, y: image.height - 18 * scale, color: ink, scale: scale)
        // The y label reads top to bottom, one character per line, beside the axis.
        for (i, c) in yLabel.enumerated() {
            let y = (area.top + area.bottom) / 2 - yLabel.count * 4 * scale + i * 8 * scale
            image.drawText(String(c), x: 4 * scale, y: y, color: ink, scale: scale)
        }
        return area
    }
}
