/// Line charts with axes, ticks, legend and title (loss curves, mAP curves).
public struct LineChart {
    public struct Series {
        public var name: String
        public var x: [Double]
        public var y: [Double]
        public var color: RGB
        public var lineWidth: Int
        public var dashed: Bool
        /// A cross on the last point (a tuning trial stopped there).
        public var endMarker = false
        /// Listed in the legend (many similar curves show better without one entry each).
        public var inLegend = true

        public init(name: String, x: [Double]? = nil, y: [Double], color: RGB, lineWidth: Int = 2, dashed: Bool = false) {
            self.name = name
            self.x = x ?? y.indices.map { Double($0 + 1) }
            self.y = y
            self.color = color
            self.lineWidth = lineWidth
            self.dashed = dashed
        }
    }

    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var series: [Series]
    public var width: Int
    public var height: Int

    public init(title: String, xLabel: String, yLabel: String, series: [Series], width: Int = 800, height: Int = 600) {
        self.title = title; self.xLabel = xLabel; self.yLabel = yLabel
        self.series = series; self.width = width; self.height = height
    }

    public func render() -> Image {
        var image = Image(width: width, height: height, fill: .white)
        let xs = series.flatMap(\.x), ys = series.flatMap(\.y)
        let area = PlotArea.draw(on: &image, title: title, xLabel: xLabel, yLabel: yLabel,
                                 xRange: PlotArea.niceRange(xs), yRange: PlotArea.niceRange(ys))
        for s in series {
            let points = zip(s.x, s.y).filter { $0.0.isFinite && $0.1.isFinite }.map { (area.px($0.0), area.py($0.1)) }
            if points.count == 1 {
                image.fillCircle(centerX: points[0].0, centerY: points[0].1, radius: s.lineWidth + 1, color: s.color)
            }
            for (i, (a, b)) in zip(points, points.dropFirst()).enumerated() where !s.dashed || i % 2 == 0 {
                image.drawLine(x0: a.0, y0: a.1, x1: b.0, y1: b.1, color: s.color, lineWidth: s.lineWidth)
            }
            if s.endMarker, let (cx, cy) = points.last {
                let r = 4 * max(1, min(width, height) / 400)
                image.drawLine(x0: cx - r, y0: cy - r, x1: cx + r, y1: cy + r, color: s.color, lineWidth: s.lineWidth)
                image.drawLine(x0: cx - r, y0: cy + r, x1: cx + r, y1: cy - r, color: s.color, lineWidth: s.lineWidth)
            }
        }
        drawLegend(on: &image, area: area)
        return image
    }

    private func drawLegend(on image: inout Image, area: PlotArea) {
        let series = self.series.filter(\.inLegend)
        guard !series.isEmpty else { return }
        let scale = max(1, min(image.width, image.height) / 400)
        let rowHeight = 12 * scale
        let textWidth = series.map { BitmapFont.size(of: $0.name, scale: scale).width }.max() ?? 0
        let boxWidth = textWidth + 34 * scale, boxHeight = series.count * rowHeight + 8 * scale
        let x0 = area.right - boxWidth - 8 * scale, y0 = area.top + 8 * scale
        image.fillRectangle(x0: x0, y0: y0, x1: x0 + boxWidth, y1: y0 + boxHeight, color: .white)
        image.drawRectangle(x0: x0, y0: y0, x1: x0 + boxWidth, y1: y0 + boxHeight, color: RGB(160, 160, 160))
        for (i, s) in series.enumerated() {
            let y = y0 + 4 * scale + i * rowHeight + rowHeight / 2
            image.drawLine(x0: x0 + 6 * scale, y0: y, x1: x0 + 24 * scale, y1: y, color: s.color, lineWidth: s.lineWidth)
            image.drawText(s.name, x: x0 + 28 * scale, y: y - 3 * scale, color: .black, scale: scale)
        }
    }
}
