/// Horizontal bar charts: one labelled bar per item with its value printed at the end
/// (per-class AP, class counts).
public struct BarChart {
    public var title: String
    public var xLabel: String
    public var labels: [String]
    public var values: [Double]
    public var colors: [RGB]
    public var valueFormat: (Double) -> String
    public var width: Int

    public init(title: String, xLabel: String, labels: [String], values: [Double], colors: [RGB]? = nil,
                width: Int = 800, valueFormat: @escaping (Double) -> String = formatAxisValue) {
        self.title = title; self.xLabel = xLabel; self.labels = labels; self.values = values
        self.colors = colors ?? [RGB(65, 105, 225)]
        self.width = width; self.valueFormat = valueFormat
    }

    public func render() -> Image {
        let scale = max(1, width / 800)
        let barHeight = 14 * scale, gap = 6 * scale
        let height = max(240 * scale, 90 * scale + labels.count * (barHeight + gap))
        var image = Image(width: width, height: height, fill: .white)
        let labelWidth = labels.map { BitmapFont.size(of: $0, scale: scale).width }.max() ?? 0
        let maxValue = max(values.filter { $0.isFinite }.max() ?? 1, 1e-12)
        let (low, high) = PlotArea.niceRange(values + [0, maxValue * 1.15], includeZero: true)
        let area = PlotArea.draw(on: &image, title: title, xLabel: xLabel, yLabel: "", xRange: (low, high),
                                 yRange: (0, Double(max(labels.count, 1))), yLabelsWidth: labelWidth,
                                 xTickLabels: true)
        // Clear the y tick labels the frame drew; the class names replace them.
        image.fillRectangle(x0: 0, y0: area.top - 4 * scale, x1: area.left - 1, y1: area.bottom + 4 * scale, color: .white)
        let rowPitch = Double(area.bottom - area.top) / Double(max(labels.count, 1))
        for (i, (label, value)) in zip(labels, values).enumerated() {
            let center = area.top + Int((Double(i) + 0.5) * rowPitch)
            let half = min(barHeight, Int(rowPitch * 0.8)) / 2
            let color = colors[i % colors.count]
            let end = area.px(value.isFinite ? value : 0)
            image.fillRectangle(x0: area.px(0), y0: center - half, x1: end, y1: center + half, color: color)
            let lw = BitmapFont.size(of: label, scale: scale).width
            image.drawText(label, x: area.left - 6 * scale - lw, y: center - 3 * scale, color: .black, scale: scale)
            image.drawText(valueFormat(value), x: end + 4 * scale, y: center - 3 * scale, color: color == .white ? .black : color,
                           scale: scale)
        }
        return image
    }
}

/// Compact number text for axes and value labels ("0.25", "1e+05", "120").
public func formatAxisValue(_ v: Double) -> String { PlotArea.format(v) }
