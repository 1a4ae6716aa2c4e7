import Foundation
import TensorCore
import Vision

/// The synthetic dataset the project's pretrained weights are trained on (scripts/pretrain.sh):
/// twenty classes the demo does not have (polygons, curved shapes, letters and digits, textured
/// shapes) in varied colours, sizes and rotations, with occlusion, distractor clutter and cloudy,
/// photograph-like backgrounds. It plays the part COCO plays for the reference's released weights:
/// what the backbone learns here (edges, corners, curves, textures, figure against ground) carries
/// over to the demo's classes, which appear here only in other forms.
public struct PretrainDataset {
    public static let classes = ["star", "hexagon", "pentagon", "diamond", "arrow", "crescent", "heart", "trapezoid",
                                 "semicircle", "octagon", "letter_A", "letter_E", "letter_K", "digit_3", "digit_7",
                                 "striped_square", "checker_disc", "dotted_ellipse", "frame", "bowtie"]

    public var imageCount = 3000
    public var seed: UInt64 = 7100
    public var vocPath = "pretrain_data/VOCdevkit"
    public var classesPath = "model_data/pretrain_classes.txt"
    public var minSide = 224
    public var maxSide = 320

    public init() {}

    /// Writes the images, VOC annotations and the classes file; returns the number of objects.
    @discardableResult
    public func generate(progress: (Int) -> Void = { _ in }) throws -> Int {
        try SyntheticVOC(vocPath: vocPath, classesPath: classesPath, classes: Self.classes,
                         database: "YOLOSwift pretraining shapes", idFormat: "pretrain_%05d", quality: 90)
            .write(count: imageCount, seed: seed, progress: progress) { Self.makeImage(rng: $0, minSide: minSide, maxSide: maxSide) }
    }

    public static func makeImage(rng: RandomGenerator, minSide: Int, maxSide: Int) -> (Image, [LabeledBox]) {
        let width = Int(rng.uniform(Float(minSide), Float(maxSide + 1)))
        let height = Int(rng.uniform(Float(minSide), Float(maxSide + 1)))
        var image = cloudyBackground(width: width, height: height, rng: rng)
        addClutter(&image, rng: rng)
        var boxes: [LabeledBox] = []
        let wanted = 1 + Int(rng.next() % 6)
        var attempts = 0
        while boxes.count < wanted && attempts < 60 {
            attempts += 1
            let cls = Int(rng.next() % UInt64(classes.count))
            let side = Double(min(width, height)) * Double(rng.uniform(0.1, 0.42))
            let aspect = Double(rng.uniform(0.75, 1.33))
            let w = side * aspect.squareRoot(), h = side / aspect.squareRoot()
            let margin = rng.nextFloat() < 0.12 ? -0.3 : 0.0
            let cx = Double(rng.uniform(Float(w * (0.5 + margin)), Float(Double(width) - w * (0.5 + margin))))
            let cy = Double(rng.uniform(Float(h * (0.5 + margin)), Float(Double(height) - h * (0.5 + margin))))
            let angle = (10...14).contains(cls) ? Double(rng.uniform(-0.35, 0.35)) : Double(rng.uniform(-Float.pi, Float.pi))
            let contours = shape(cls, cx: cx, cy: cy, w: w, h: h, angle: angle)
            let xs = contours.flatMap { $0.map(\.0) }, ys = contours.flatMap { $0.map(\.1) }
            let box = LabeledBox(x1: max(xs.min()!, 0).rounded(.down), y1: max(ys.min()!, 0).rounded(.down),
                                 x2: min(xs.max()!, Double(width - 1)).rounded(.up),
                                 y2: min(ys.max()!, Double(height - 1)).rounded(.up), classIndex: cls)
            guard box.width > 8, box.height > 8 else { continue }
            // Occlusion up to about half of the smaller object; more would hide what it is.
            if boxes.contains(where: { DemoDataset.overlap($0, box) > 0.45 }) { continue }
            let base = RGB(hue: Double(rng.nextFloat()), saturation: Double(rng.uniform(0.45, 1)), value: Double(rng.uniform(0.45, 1)))
            paint(&image, contours, style: style(cls), base: base, angle: angle, rng: rng)
            boxes.append(box)
        }
        return (image, boxes)
    }

    enum Style { case solid, stripes, checker, dots }

    static func style(_ cls: Int) -> Style {
        switch classes[cls] {
        case "striped_square": return .stripes
        case "checker_disc": return .checker
        case "dotted_ellipse": return .dots
        default: return .solid
        }
    }

    /// Fills the contours (even-odd) with a solid colour or a texture of the colour and its contrast.
    static func paint(_ image: inout Image, _ contours: [[(Double, Double)]], style: Style, base: RGB, angle: Double,
                      rng: RandomGenerator) {
        guard style != .solid else { image.fillPolygons(contours, color: base); return }
        var mask = Image(width: image.width, height: image.height, fill: .black)
        mask.fillPolygons(contours, color: RGB(255, 255, 255))
        let other = RGB(hue: Double(rng.nextFloat()), saturation: Double(rng.uniform(0.2, 1)), value: Double(rng.uniform(0.1, 0.5)))
        let period = Double(rng.uniform(5, 11))
        let (c, s) = (cos(angle), sin(angle))
        let xs = contours.flatMap { $0.map(\.0) }, ys = contours.flatMap { $0.map(\.1) }
        let x0 = max(Int(xs.min()!), 0), x1 = min(Int(xs.max()!) + 1, image.width - 1)
        let y0 = max(Int(ys.min()!), 0), y1 = min(Int(ys.max()!) + 1, image.height - 1)
        guard x0 <= x1, y0 <= y1 else { return }
        for y in y0...y1 {
            for x in x0...x1 where mask[x, y].r > 0 {
                let u = Double(x) * c + Double(y) * s, v = -Double(x) * s + Double(y) * c
                let on: Bool
                switch style {
                case .stripes: on = Int((u / period).rounded(.down)) % 2 == 0
                case .checker: on = (Int((u / period).rounded(.down)) + Int((v / period).rounded(.down))) % 2 == 0
                default:
                    let du = u - (u / period).rounded() * period, dv = v - (v / period).rounded() * period
                    on = du * du + dv * dv > period * period * 0.09
                }
                image[x, y] = on ? base : other
            }
        }
    }

    /// Smooth colour clouds (two octaves of value noise over a tinted gradient), then sensor noise:
    /// closer to a photograph's out-of-focus background than a plain gradient.
    static func cloudyBackground(width: Int, height: Int, rng: RandomGenerator) -> Image {
        func palette() -> RGB {
            RGB(hue: Double(rng.nextFloat()), saturation: Double(rng.uniform(0.05, 0.55)), value: Double(rng.uniform(0.15, 0.9)))
        }
        let corners = (0..<4).map { _ in palette() }
        let octaves: [(cells: Int, weight: Double)] = [(3, 0.35), (9, 0.18)]
        let grids = octaves.map { o in (0..<((o.cells + 1) * (o.cells + 1) * 3)).map { _ in Double(rng.uniform(-1, 1)) } }
        var image = Image(width: width, height: height, fill: .black)
        image.pixels.withUnsafeMutableBufferPointer { p in
            for y in 0..<height {
                let ty = Double(y) / Double(max(height - 1, 1))
                for x in 0..<width {
                    let tx = Double(x) / Double(max(width - 1, 1))
                    var rgb = [0.0, 0.0, 0.0]
                    for (k, channel) in [\RGB.r, \RGB.g, \RGB.b].enumerated() {
                        let top = Double(corners[0][keyPath: channel]) * (1 - tx) + Double(corners[1][keyPath: channel]) * tx
                        let bottom = Double(corners[2][keyPath: channel]) * (1 - tx) + Double(corners[3][keyPath: channel]) * tx
                        rgb[k] = top * (1 - ty) + bottom * ty
                    }
                    for (o, octave) in octaves.enumerated() {
                        let gx = tx * Double(octave.cells), gy = ty * Double(octave.cells)
                        let ix = min(Int(gx), octave.cells - 1), iy = min(Int(gy), octave.cells - 1)
                        let fx = gx - Double(ix), fy = gy - Double(iy)
                        let sx = fx * fx * (3 - 2 * fx), sy = fy * fy * (3 - 2 * fy)   // smoothstep
                        for k in 0..<3 {
                            func g(_ i: Int, _ j: Int) -> Double { grids[o][((j * (octave.cells + 1)) + i) * 3 + k] }
                            let value = (g(ix, iy) * (1 - sx) + g(ix + 1, iy) * sx) * (1 - sy)
                                + (g(ix, iy + 1) * (1 - sx) + g(ix + 1, iy + 1) * sx) * sy
                            rgb[k] += value * octave.weight * 255
                        }
                    }
                    let i = (y * width + x) * 3
                    for k in 0..<3 { p[i + k] = UInt8(clamping: Int(rgb[k].rounded())) }
                }
            }
            for i in 0..<p.count { p[i] = UInt8(clamping: Int(p[i]) + Int(rng.next() % 25) - 12) }
        }
        return image
    }

    /// Things that are not objects: lines, thin arcs and irregular blobs, so that the detector learns
    /// to tell a shape from clutter.
    static func addClutter(_ image: inout Image, rng: RandomGenerator) {
        let (width, height) = (Float(image.width), Float(image.height))
        for _ in 0..<(4 + Int(rng.next() % 8)) {
            let color = RGB(hue: Double(rng.nextFloat()), saturation: Double(rng.uniform(0, 0.6)), value: Double(rng.uniform(0.2, 0.95)))
            switch rng.next() % 3 {
            case 0:
                image.drawLine(x0: Int(rng.uniform(0, width)), y0: Int(rng.uniform(0, height)), x1: Int(rng.uniform(0, width)),
                               y1: Int(rng.uniform(0, height)), color: color, lineWidth: 1 + Int(rng.next() % 3))
            case 1:
                let cx = Double(rng.uniform(0, width)), cy = Double(rng.uniform(0, height)), r = Double(rng.uniform(10, width / 3))
                let start = Double(rng.uniform(0, 6.3)), span = Double(rng.uniform(0.5, 2.5))
                let points = (0...16).map { i -> (Int, Int) in
                    let t = start + span * Double(i) / 16
                    return (Int(cx + r * cos(t)), Int(cy + r * sin(t)))
                }
                for (a, b) in zip(points, points.dropFirst()) {
                    image.drawLine(x0: a.0, y0: a.1, x1: b.0, y1: b.1, color: color, lineWidth: 1 + Int(rng.next() % 2))
                }
            default:
                // A lumpy blob: a polygon of 7-11 points at random radii.
                let cx = Double(rng.uniform(0, width)), cy = Double(rng.uniform(0, height)), r = Double(rng.uniform(4, width / 12))
                let n = 7 + Int(rng.next() % 5)
                let points = (0..<n).map { i -> (Double, Double) in
                    let t = Double(i) / Double(n) * 2 * .pi, rr = r * Double(rng.uniform(0.5, 1.3))
                    return (cx + rr * cos(t), cy + rr * sin(t))
                }
                image.fillPolygons([points], color: color)
            }
        }
    }

    /// The outline(s) of class `cls` centred at (cx, cy) within w x h, rotated by `angle`.
    static func shape(_ cls: Int, cx: Double, cy: Double, w: Double, h: Double, angle: Double) -> [[(Double, Double)]] {
        let hw = w / 2, hh = h / 2
        func rotated(_ points: [(Double, Double)]) -> [(Double, Double)] {
            points.map { (x, y) in (cx + x * cos(angle) - y * sin(angle), cy + x * sin(angle) + y * cos(angle)) }
        }
        /// A regular polygon (or a star when `inner` is given) in unit coordinates, scaled to w x h.
        func polygon(_ n: Int, inner: Double? = nil, phase: Double = -Double.pi / 2) -> [(Double, Double)] {
            let count = inner == nil ? n : 2 * n
            return (0..<count).map { i in
                let t = phase + Double(i) / Double(count) * 2 * .pi
                let r = inner != nil && i % 2 == 1 ? inner! : 1
                return (hw * r * cos(t), hh * r * sin(t))
            }
        }
        func ellipse(_ rx: Double, _ ry: Double, from: Double = 0, to: Double = 2 * .pi, steps: Int = 40) -> [(Double, Double)] {
            (0..<steps).map { i in let t = from + (to - from) * Double(i) / Double(steps - 1); return (rx * cos(t), ry * sin(t)) }
        }
        func scaled(_ unit: [(Double, Double)]) -> [(Double, Double)] { unit.map { ($0.0 * hw, $0.1 * hh) } }
        /// The 5x7 font's cells of a character as squares, centred and scaled to w x h.
        func glyph(_ c: Character) -> [[(Double, Double)]] {
            let rows = BitmapFont.rows(of: c)
            let cw = w / Double(BitmapFont.glyphWidth), ch = h / Double(BitmapFont.glyphHeight)
            var cells: [[(Double, Double)]] = []
            for (r, bits) in rows.enumerated() {
                for col in 0..<BitmapFont.glyphWidth where bits & (UInt8(1) << UInt8(BitmapFont.glyphWidth - 1 - col)) != 0 {
                    let x = -hw + Double(col) * cw, y = -hh + Double(r) * ch
                    cells.append([(x, y), (x + cw, y), (x + cw, y + ch), (x, y + ch)])
                }
            }
            return cells
        }
        switch classes[cls] {
        case "star": return [rotated(polygon(5, inner: 0.42))]
        case "hexagon": return [rotated(polygon(6))]
        case "pentagon": return [rotated(polygon(5))]
        case "diamond": return [rotated(scaled([(0, -1), (0.62, 0), (0, 1), (-0.62, 0)]))]
        case "arrow":
            return [rotated(scaled([(-1, -0.28), (0.15, -0.28), (0.15, -0.75), (1, 0), (0.15, 0.75), (0.15, 0.28), (-1, 0.28)]))]
        case "crescent":
            // The outer arc, then back along an inner arc whose circle is shifted right.
            let outer = ellipse(1, 1, from: 0.5 * .pi, to: 1.5 * .pi)
            let inner = ellipse(0.62, 0.86, from: 1.5 * .pi, to: 0.5 * .pi).map { ($0.0 * -1 - 0.05, $0.1) }
            return [rotated(scaled(outer + inner))]
        case "heart":
            let points = (0..<48).map { i -> (Double, Double) in
                let t = Double(i) / 48 * 2 * .pi
                let x = 16 * pow(sin(t), 3), y = -(13 * cos(t) - 5 * cos(2 * t) - 2 * cos(3 * t) - cos(4 * t))
                return (x / 16, (y + 2.5) / 14.5)
            }
            return [rotated(scaled(points))]
        case "trapezoid": return [rotated(scaled([(-0.5, -0.8), (0.5, -0.8), (1, 0.8), (-1, 0.8)]))]
        case "semicircle": return [rotated(scaled(ellipse(1, 2, from: .pi, to: 2 * .pi).map { ($0.0, $0.1 + 1) } ))]
        case "octagon": return [rotated(polygon(8, phase: .pi / 8))]
        case "letter_A", "letter_E", "letter_K", "digit_3", "digit_7":
            let character = Character(String(classes[cls].last!))
            return glyph(character).map(rotated)
        case "striped_square": return [rotated(scaled([(-1, -1), (1, -1), (1, 1), (-1, 1)]))]
        case "checker_disc": return [rotated(ellipse(hw, hw, steps: 48))]
        case "dotted_ellipse": return [rotated(ellipse(hw, hh * 0.7, steps: 48))]
        case "frame":
            let outer = scaled([(-1, -1), (1, -1), (1, 1), (-1, 1)]), inner = scaled([(-0.6, -0.6), (0.6, -0.6), (0.6, 0.6), (-0.6, 0.6)])
            return [rotated(outer), rotated(inner)]
        default:   // bowtie: two triangles meeting at the centre
            return [rotated(scaled([(-1, -0.8), (0, 0), (-1, 0.8)])), rotated(scaled([(1, -0.8), (0, 0), (1, 0.8)]))]
        }
    }
}
