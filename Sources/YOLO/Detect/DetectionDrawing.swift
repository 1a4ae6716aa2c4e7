import Foundation
import Vision

/// Draws detections as the reference does (SPEC §7): a box per detection in its class colour
/// (hues spread over the classes), line width about (W + H) / mean(input shape), and a filled
/// label "<class> <score:.2f>" above the box, scaled so it stays legible at any image size.
public enum DetectionDrawing {
    public static func draw(_ detections: [Detection], on image: Image, classes: ClassNames, inputSize: Int) -> Image {
        var out = image
        let colors = classColors(classes.count)
        let thickness = max((image.width + image.height) / max(inputSize, 1), 1)
        let scale = max(1, min(image.width, image.height) / 300)
        for d in detections {
            let (left, top, right, bottom) = pixelBox(d, in: image)
            let color = colors[d.classIndex % max(colors.count, 1)]
            out.drawRectangle(x0: left, y0: top, x1: right, y1: bottom, color: color, lineWidth: thickness)
            let label = "\(classes.names[d.classIndex]) \(String(format: "%.2f", d.score))"
            let labelHeight = BitmapFont.size(of: label, scale: scale).height + 2 * scale
            let y = top - labelHeight >= 0 ? top - labelHeight : top + 1
            out.drawLabel(label, x: left, y: y, background: color, scale: scale)
        }
        return out
    }

    /// The box in whole pixels inside the image: left, top, right, bottom (inclusive).
    static func pixelBox(_ d: Detection, in image: Image) -> (Int, Int, Int, Int) {
        (max(0, Int(d.left.rounded(.down))), max(0, Int(d.top.rounded(.down))),
         min(image.width - 1, Int(d.right.rounded(.down))), min(image.height - 1, Int(d.bottom.rounded(.down))))
    }

    /// The detection's pixels (predict's crop option); nil when the box lies outside the image.
    public static func crop(_ d: Detection, from image: Image) -> Image? {
        let (left, top, right, bottom) = pixelBox(d, in: image)
        guard right >= left && bottom >= top else { return nil }
        return image.cropped(x: left, y: top, width: right - left + 1, height: bottom - top + 1)
    }

    /// Detections per class name, in the classes file's order (predict's count option).
    public static func counts(_ detections: [Detection], classes: ClassNames) -> [(name: String, count: Int)] {
        classes.names.indices.compactMap { c in
            let n = detections.filter { $0.classIndex == c }.count
            return n > 0 ? (classes.names[c], n) : nil
        }
    }

    /// One line per detection: class, score, top, left, bottom, right.
    public static func describe(_ d: Detection, classes: ClassNames) -> String {
        String(format: "%@ %.2f top=%d left=%d bottom=%d right=%d", classes.names[d.classIndex], d.score, Int(d.top), Int(d.left),
               Int(d.bottom), Int(d.right))
    }
}
