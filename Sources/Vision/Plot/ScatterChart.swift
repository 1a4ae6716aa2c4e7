/// Scatter plots of point groups with optional cross markers (k-means clusters and centres).
public struct ScatterChart {
    public struct Group {
        public var points: [(Double, Double)]
        public var color: RGB
        public var marker: (Double, Double)?
        /// Dot radius in pixels at 400 px (nil: the default, 2).
        public var radius: Int?
        public init(points: [(Double, Double)], color: RGB, marker: (Double, Double)? = nil, radius: Int? = nil) {
            self.points = points; self.color = color; self.marker = marker; self.radius = radius
        }
    }

    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var groups: [Group]
    public var width: Int
    public var height: Int
    /// Both axes start at zero (sizes); off, they fit the data (metrics against parameters).
    public var includesZero: Bool

    public init(title: String, xLabel: String, yLabel: String, groups: [Group], width: Int = 800, height: Int = 600,
                includesZero: Bool = true) {
        self.title = title; self.xLabel = xLabel; self.yLabel = yLabel
        self.groups = groups; self.width = width; self.height = height; self.includesZero = includesZero
    }

    public func render() -> Image {
        var image = Image(width: width, height: height, fill: .white)
        let all = groups.flatMap { $0.points + ($0.marker.map { [$0] } ?? []) }
        let area = PlotArea.draw(on: &image, title: title, xLabel: xLabel, yLabel: yLabel,
                                 xRange: PlotArea.niceRange(all.map(\.0), includeZero: includesZero),
                                 yRange: PlotArea.niceRange(all.map(\.1), includeZero: includesZero))
        let scale = max(1, min(width, height) / 400)
        for g in groups {
            let r = g.radius.map { $0 * scale } ?? scale + 1
            for (x, y) in g.points { image.fillCircle(centerX: area.px(x), centerY: area.py(y), radius: r, color: g.color) }
        }
        for g in groups {
            guard let (x, y) = g.marker else { continue }
            let cx = area.px(x), cy = area.py(y), r = 6 * scale
            image.drawLine(x0: cx - r, y0: cy - r, x1: cx + r, y1: cy + r, color: .black, lineWidth: 2 * scale)
            image.drawLine(x0: cx - r, y0: cy + r, x1: cx + r, y1: cy - r, color: .black, lineWidth: 2 * scale)
        }
        return image
    }
}
