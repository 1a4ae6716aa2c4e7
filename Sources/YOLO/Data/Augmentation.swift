import TensorCore
import Vision

/// An image at the network's input size with its boxes in that image's pixels.
public struct Sample {
    public var image: Image
    public var boxes: [LabeledBox]
}

/// The reference augmentation (SPEC §4): random aspect/scale/placement on a grey canvas,
/// horizontal flip and HSV jitter; Mosaic of four images; MixUp; and the validation letterbox.
public struct Augmentation {
    public var inputWidth: Int
    public var inputHeight: Int
    public var jitter = 0.3
    public var hue = 0.1, saturation = 0.7, value = 0.4

    public init(inputWidth: Int, inputHeight: Int) {
        self.inputWidth = inputWidth
        self.inputHeight = inputHeight
    }

    func rand(_ rng: RandomGenerator, _ low: Double = 0, _ high: Double = 1) -> Double {
        Double(rng.nextFloat()) * (high - low) + low
    }

    /// Validation / evaluation input: letterbox only (bicubic, centred, grey 128).
    public func letterbox(_ image: Image, _ boxes: [LabeledBox], rng: RandomGenerator) -> Sample {
        let (canvas, p) = image.letterboxed(width: inputWidth, height: inputHeight)
        let sx = Double(p.resizedWidth) / Double(image.width), sy = Double(p.resizedHeight) / Double(image.height)
        return Sample(image: canvas, boxes: place(shuffled(boxes, rng), sx: sx, sy: sy, dx: p.offsetX, dy: p.offsetY, flip: false))
    }

    /// Training input without Mosaic.
    public func randomData(_ image: Image, _ boxes: [LabeledBox], rng: RandomGenerator) -> Sample {
        let (w, h) = (inputWidth, inputHeight)
        let ar = Double(image.width) / Double(image.height) * rand(rng, 1 - jitter, 1 + jitter) / rand(rng, 1 - jitter, 1 + jitter)
        let scale = rand(rng, 0.25, 2)
        let (nw, nh) = size(aspect: ar, scale: scale)
        let dx = Int(rand(rng, 0, Double(w - nw))), dy = Int(rand(rng, 0, Double(h - nh)))
        var canvas = Image(width: w, height: h, fill: .grey128)
        canvas.paste(image.resized(width: nw, height: nh), x: dx, y: dy)
        let flip = rand(rng) < 0.5
        if flip { canvas = canvas.flippedHorizontally() }
        canvas = jittered(canvas, rng)
        let placed = place(shuffled(boxes, rng), sx: Double(nw) / Double(image.width), sy: Double(nh) / Double(image.height),
                           dx: dx, dy: dy, flip: flip)
        return Sample(image: canvas, boxes: placed)
    }

    /// Mosaic of four (image, boxes): each flipped at random, scaled by r(0.4, 1), placed in its
    /// quadrant (top-left, bottom-left, bottom-right, top-right) around a split point at
    /// r(0.3, 0.7) of the width and height; one HSV jitter over the result; boxes cut at the split.
    public func mosaic(_ items: [(Image, [LabeledBox])], rng: RandomGenerator) -> Sample {
        precondition(items.count == 4, "mosaic needs four images")
        let (w, h) = (inputWidth, inputHeight)
        let offsetX = rand(rng, 0.3, 0.7), offsetY = rand(rng, 0.3, 0.7)
        let cutX = Int(Double(w) * offsetX), cutY = Int(Double(h) * offsetY)
        var result = Image(width: w, height: h, fill: .grey128)
        var pieces: [[LabeledBox]] = []
        for (index, (original, originalBoxes)) in items.enumerated() {
            var image = original, boxes = originalBoxes
            if rand(rng) < 0.5 && !boxes.isEmpty {
                image = image.flippedHorizontally()
                boxes = boxes.map { LabeledBox(x1: Double(image.width) - $0.x2, y1: $0.y1, x2: Double(image.width) - $0.x1,
                                               y2: $0.y2, classIndex: $0.classIndex) }
            }
            let ar = Double(image.width) / Double(image.height) * rand(rng, 1 - jitter, 1 + jitter) / rand(rng, 1 - jitter, 1 + jitter)
            let (nw, nh) = size(aspect: ar, scale: rand(rng, 0.4, 1))
            let dx = index < 2 ? cutX - nw : cutX
            let dy = index == 0 || index == 3 ? cutY - nh : cutY
            // Only this image's quadrant of its grey canvas reaches the mosaic: paste it there directly.
            let (qx, qy) = (index < 2 ? 0 : cutX, index == 0 || index == 3 ? 0 : cutY)
            let (qx1, qy1) = (index < 2 ? cutX : w, index == 0 || index == 3 ? cutY : h)
            result.paste(image.resized(width: nw, height: nh), x: dx, y: dy, clipX0: qx, clipY0: qy, clipX1: qx1, clipY1: qy1)
            pieces.append(place(shuffled(boxes, rng), sx: Double(nw) / Double(image.width), sy: Double(nh) / Double(image.height),
                                dx: dx, dy: dy, flip: false))
        }
        result = jittered(result, rng)
        return Sample(image: result, boxes: Self.cutMosaicBoxes(pieces, cutX: Double(cutX), cutY: Double(cutY)))
    }

    /// The reference's box merge: drop boxes wholly outside their quadrant, clip those crossing
    /// a split line. Unlike the reference, boxes cut down to 1 pixel or less are dropped too.
    static func cutMosaicBoxes(_ pieces: [[LabeledBox]], cutX: Double, cutY: Double) -> [LabeledBox] {
        var merged: [LabeledBox] = []
        for (i, boxes) in pieces.enumerated() {
            for var b in boxes {
                switch i {
                case 0:
                    if b.y1 > cutY || b.x1 > cutX { continue }
                    if b.y2 >= cutY && b.y1 <= cutY { b.y2 = cutY }
                    if b.x2 >= cutX && b.x1 <= cutX { b.x2 = cutX }
                case 1:
                    if b.y2 < cutY || b.x1 > cutX { continue }
                    if b.y2 >= cutY && b.y1 <= cutY { b.y1 = cutY }
                    if b.x2 >= cutX && b.x1 <= cutX { b.x2 = cutX }
                case 2:
                    if b.y2 < cutY || b.x2 < cutX { continue }
                    if b.y2 >= cutY && b.y1 <= cutY { b.y1 = cutY }
                    if b.x2 >= cutX && b.x1 <= cutX { b.x1 = cutX }
                default:
                    if b.y1 > cutY || b.x2 < cutX { continue }
                    if b.y2 >= cutY && b.y1 <= cutY { b.y2 = cutY }
                    if b.x2 >= cutX && b.x1 <= cutX { b.x1 = cutX }
                }
                if b.width > 1 && b.height > 1 { merged.append(b) }
            }
        }
        return merged
    }

    /// MixUp: the average of two samples, boxes of both.
    public func mixup(_ a: Sample, _ b: Sample) throws -> Sample {
        Sample(image: try a.image.blended(with: b.image, weight: 0.5), boxes: a.boxes + b.boxes)
    }

    private func size(aspect: Double, scale: Double) -> (Int, Int) {
        if aspect < 1 {
            let nh = Int(scale * Double(inputHeight))
            return (max(Int(Double(nh) * aspect), 1), max(nh, 1))
        }
        let nw = Int(scale * Double(inputWidth))
        return (max(nw, 1), max(Int(Double(nw) / aspect), 1))
    }

    private func jittered(_ image: Image, _ rng: RandomGenerator) -> Image {
        let rh = rand(rng, -1, 1) * hue + 1, rs = rand(rng, -1, 1) * saturation + 1, rv = rand(rng, -1, 1) * value + 1
        return image.hsvJittered(hue: Float(rh), saturation: Float(rs), value: Float(rv))
    }

    private func shuffled(_ boxes: [LabeledBox], _ rng: RandomGenerator) -> [LabeledBox] {
        var b = boxes
        if b.count > 1 { for i in stride(from: b.count - 1, to: 0, by: -1) { b.swapAt(i, Int(rng.next() % UInt64(i + 1))) } }
        return b
    }

    /// Scales and shifts boxes onto the canvas (integer pixels, as the reference's int arrays),
    /// mirrors them with the image, clips to the canvas and keeps those wider and taller than 1.
    func place(_ boxes: [LabeledBox], sx: Double, sy: Double, dx: Int, dy: Int, flip: Bool) -> [LabeledBox] {
        let (w, h) = (Double(inputWidth), Double(inputHeight))
        return boxes.compactMap { b in
            var x1 = (b.x1 * sx + Double(dx)).rounded(.towardZero), x2 = (b.x2 * sx + Double(dx)).rounded(.towardZero)
            var y1 = (b.y1 * sy + Double(dy)).rounded(.towardZero), y2 = (b.y2 * sy + Double(dy)).rounded(.towardZero)
            if flip { (x1, x2) = (w - x2, w - x1) }
            x1 = max(x1, 0); y1 = max(y1, 0); x2 = min(x2, w); y2 = min(y2, h)
            guard x2 - x1 > 1, y2 - y1 > 1 else { return nil }
            return LabeledBox(x1: x1, y1: y1, x2: x2, y2: y2, classIndex: b.classIndex)
        }
    }
}
