import Foundation
import TensorCore
import Vision

/// A deterministic synthetic VOC2007-style dataset, so a new user can run the whole pipeline with
/// no data of their own: JPEGs of varied size with textured, noisy backgrounds and several classes
/// of drawn shapes (varied colour, size, aspect ratio and rotation, partly overlapping, some cut
/// by the image border), their XML annotations, and a classes file.
public struct DemoDataset {
    public static let classes = ["circle", "square", "triangle", "cross", "ring"]

    public var imageCount = 300
    public var seed: UInt64 = 2024
    public var vocPath = "VOCdevkit"
    public var classesPath = "model_data/demo_classes.txt"
    public var minSide = 224
    public var maxSide = 416

    public init() {}

    /// Writes everything; returns the number of objects drawn.
    @discardableResult
    public func generate(progress: (Int) -> Void = { _ in }) throws -> Int {
        try SyntheticVOC(vocPath: vocPath, classesPath: classesPath, classes: Self.classes, database: "YOLOSwift demo",
                         idFormat: "demo_%04d", quality: 92)
            .write(count: imageCount, seed: seed, progress: progress) { Self.makeImage(rng: $0, minSide: minSide, maxSide: maxSide) }
    }

    /// One image and its boxes (class index into `classes`).
    public static func makeImage(rng: RandomGenerator, minSide: Int, maxSide: Int) -> (Image, [LabeledBox]) {
        let width = Int(rng.uniform(Float(minSide), Float(maxSide + 1)))
        let height = Int(rng.uniform(Float(minSide), Float(maxSide + 1)))
        var image = background(width: width, height: height, rng: rng)
        var boxes: [LabeledBox] = []
        let wanted = 1 + Int(rng.next() % 4)
        var attempts = 0
        while boxes.count < wanted && attempts < 40 {
            attempts += 1
            let cls = Int(rng.next() % UInt64(classes.count))
            let side = Double(min(width, height)) * Double(rng.uniform(0.15, 0.45))
            let aspect = Double(rng.uniform(0.7, 1.4))
            let w = side * aspect.squareRoot(), h = side / aspect.squareRoot()
            // Some objects hang over the border (truncated), most sit inside.
            let margin = rng.nextFloat() < 0.15 ? -0.3 : 0.0
            let cx = Double(rng.uniform(Float(w * (0.5 + margin)), Float(Double(width) - w * (0.5 + margin))))
            let cy = Double(rng.uniform(Float(h * (0.5 + margin)), Float(Double(height) - h * (0.5 + margin))))
            let angle = cls == 1 || cls == 2 || cls == 3 ? Double(rng.uniform(-0.5, 0.5)) : 0
            let contours = shape(cls, cx: cx, cy: cy, w: w, h: h, angle: angle)
            let xs = contours.flatMap { $0.map(\.0) }, ys = contours.flatMap { $0.map(\.1) }
            let box = LabeledBox(x1: max(xs.min()!, 0).rounded(.down), y1: max(ys.min()!, 0).rounded(.down),
                                 x2: min(xs.max()!, Double(width - 1)).rounded(.up),
                                 y2: min(ys.max()!, Double(height - 1)).rounded(.up), classIndex: cls)
            guard box.width > 8, box.height > 8 else { continue }
            // Partial overlap is fine; hiding most of another object is not.
            if boxes.contains(where: { overlap($0, box) > 0.3 }) { continue }
            let color = RGB(hue: Double(rng.nextFloat()), saturation: Double(rng.uniform(0.55, 1)),
                            value: Double(rng.uniform(0.55, 1)))
            image.fillPolygons(contours, color: color)
            boxes.append(box)
        }
        return (image, boxes)
    }

    /// A two-colour gradient with clutter (faint lines and patches) and per-pixel noise.
    static func background(width: Int, height: Int, rng: RandomGenerator) -> Image {
        let a = RGB(hue: Double(rng.nextFloat()), saturation: Double(rng.uniform(0, 0.4)), value: Double(rng.uniform(0.2, 0.9)))
        let b = RGB(hue: Double(rng.nextFloat()), saturation: Double(rng.uniform(0, 0.4)), value: Double(rng.uniform(0.2, 0.9)))
        var image = Image(width: width, height: height, fill: .black)
        let vertical = rng.nextFloat() < 0.5
        for y in 0..<height {
            for x in 0..<width {
                let t = vertical ? Double(y) / Double(height) : Double(x) / Double(width)
                image[x, y] = RGB(UInt8(Double(a.r) * (1 - t) + Double(b.r) * t), UInt8(Double(a.g) * (1 - t) + Double(b.g) * t),
                                  UInt8(Double(a.b) * (1 - t) + Double(b.b) * t))
            }
        }
        for _ in 0..<(3 + Int(rng.next() % 6)) {
            let grey = UInt8(rng.uniform(40, 220))
            let tint = RGB(grey, UInt8(min(255, Int(grey) + Int(rng.next() % 30))), grey)
            if rng.nextFloat() < 0.5 {
                image.drawLine(x0: Int(rng.uniform(0, Float(width))), y0: Int(rng.uniform(0, Float(height))),
                               x1: Int(rng.uniform(0, Float(width))), y1: Int(rng.uniform(0, Float(height))),
                               color: tint, lineWidth: 1 + Int(rng.next() % 3))
            } else {
                let x = Int(rng.uniform(0, Float(width))), y = Int(rng.uniform(0, Float(height)))
                image.fillRectangle(x0: x, y0: y, x1: x + Int(rng.uniform(5, Float(width) / 4)),
                                    y1: y + Int(rng.uniform(5, Float(height) / 4)), color: tint)
            }
        }
        image.pixels.withUnsafeMutableBufferPointer { p in
            for i in 0..<p.count {
                let noise = Int(rng.next() % 41) - 20
                p[i] = UInt8(clamping: Int(p[i]) + noise)
            }
        }
        return image
    }

    /// The outline(s) of a shape class centred at (cx, cy) within w x h, rotated by angle.
    static func shape(_ cls: Int, cx: Double, cy: Double, w: Double, h: Double, angle: Double) -> [[(Double, Double)]] {
        func ellipse(_ rx: Double, _ ry: Double) -> [(Double, Double)] {
            (0..<48).map { i in let t = Double(i) / 48 * 2 * .pi; return (cx + rx * cos(t), cy + ry * sin(t)) }
        }
        func rotated(_ points: [(Double, Double)]) -> [(Double, Double)] {
            points.map { (x, y) in
                let dx = x - cx, dy = y - cy
                return (cx + dx * cos(angle) - dy * sin(angle), cy + dx * sin(angle) + dy * cos(angle))
            }
        }
        let hw = w / 2, hh = h / 2
        switch cls {
        case 0: return [ellipse(hw, hh)]
        case 1: return [rotated([(cx - hw, cy - hh), (cx + hw, cy - hh), (cx + hw, cy + hh), (cx - hw, cy + hh)])]
        case 2: return [rotated([(cx, cy - hh), (cx + hw, cy + hh), (cx - hw, cy + hh)])]
        case 3:
            let t = 0.18
            return [rotated([(cx - hw * t, cy - hh), (cx + hw * t, cy - hh), (cx + hw * t, cy - hh * t), (cx + hw, cy - hh * t),
                             (cx + hw, cy + hh * t), (cx + hw * t, cy + hh * t), (cx + hw * t, cy + hh), (cx - hw * t, cy + hh),
                             (cx - hw * t, cy + hh * t), (cx - hw, cy + hh * t), (cx - hw, cy - hh * t), (cx - hw * t, cy - hh * t)])]
        default: return [ellipse(hw, hh), ellipse(hw * 0.55, hh * 0.55)]
        }
    }

    /// Intersection over the smaller box's area.
    static func overlap(_ a: LabeledBox, _ b: LabeledBox) -> Double {
        let iw = max(0, min(a.x2, b.x2) - max(a.x1, b.x1)), ih = max(0, min(a.y2, b.y2) - max(a.y1, b.y1))
        return iw * ih / max(min(a.width * a.height, b.width * b.height), 1)
    }

    static func xml(id: String, width: Int, height: Int, boxes: [LabeledBox], classes: [String] = DemoDataset.classes,
                    database: String = "YOLOSwift demo") -> String {
        var text = """
        <annotation>
        \t<folder>VOC2007</folder>
        \t<filename>\(id).jpg</filename>
        \t<source><database>\(database)</database></source>
        \t<size><width>\(width)</width><height>\(height)</height><depth>3</depth></size>
        \t<segmented>0</segmented>

        """
        for b in boxes {
            let truncated = b.x1 <= 0 || b.y1 <= 0 || b.x2 >= Double(width - 1) || b.y2 >= Double(height - 1)
            text += """
            \t<object>
            \t\t<name>\(classes[b.classIndex])</name>
            \t\t<pose>Unspecified</pose>
            \t\t<truncated>\(truncated ? 1 : 0)</truncated>
            \t\t<difficult>0</difficult>
            \t\t<bndbox><xmin>\(Int(b.x1))</xmin><ymin>\(Int(b.y1))</ymin><xmax>\(Int(b.x2))</xmax><ymax>\(Int(b.y2))</ymax></bndbox>
            \t</object>

            """
        }
        return text + "</annotation>\n"
    }
}
