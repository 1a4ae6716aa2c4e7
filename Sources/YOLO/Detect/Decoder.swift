import Foundation
import TensorCore
import Vision

/// Turns head outputs into detections (SPEC §7): decode x = sigmoid(tx) + grid_x,
/// w = exp(tw) * anchor_w / stride; score = objectness x best class probability; keep
/// score >= confidence; NMS per class; map boxes back to image pixels (undoing the letterbox
/// when one was used).
public struct Decoder {
    public let anchors: [(Double, Double)]
    public let anchorsMask: [[Int]]
    public let numClasses: Int
    public let inputWidth, inputHeight: Int

    public init(anchors: [(Double, Double)], anchorsMask: [[Int]], numClasses: Int, inputWidth: Int, inputHeight: Int) {
        self.anchors = anchors; self.anchorsMask = anchorsMask; self.numClasses = numClasses
        self.inputWidth = inputWidth; self.inputHeight = inputHeight
    }

    /// A candidate box, normalised to the input (x1, y1, x2, y2 in [0, 1] of the network input).
    struct Candidate {
        var x1, y1, x2, y2: Double
        var objectness, classProbability: Double
        var classIndex: Int
        var score: Double { objectness * classProbability }
    }

    /// Detections for each image of the batch; imageSizes are (width, height) of the originals.
    public func detect(_ outputs: [Tensor], imageSizes: [(Int, Int)], settings: DetectionSettings) throws -> [[Detection]] {
        let batch = outputs.first?.shape[0] ?? 0
        guard imageSizes.count == batch else { throw YOLOError("decode: \(imageSizes.count) image sizes for a batch of \(batch)") }
        var perImage = [[Candidate]](repeating: [], count: batch)
        for (l, output) in outputs.enumerated() {
            let candidates = try decodeLayer(l, output, threshold: settings.confidence)
            for b in 0..<batch { perImage[b] += candidates[b] }
        }
        return perImage.enumerated().map { b, candidates in
            var kept = Self.nonMaxSuppression(candidates, iou: settings.nmsIoU)
            if let limit = settings.maxDetections, kept.count > limit {
                kept = Array(kept.sorted { $0.score > $1.score }.prefix(limit))
            }
            return kept.map { toImage($0, imageSize: imageSizes[b], letterbox: settings.letterbox) }
        }
    }

    func decodeLayer(_ l: Int, _ output: Tensor, threshold: Double) throws -> [[Candidate]] {
        let (batch, h, w) = (output.shape[0], output.shape[2], output.shape[3])
        let mask = anchorsMask[l], attrs = 5 + numClasses
        guard output.shape[1] == mask.count * attrs else {
            throw YOLOError("decode: output \(l) has \(output.shape[1]) channels; \(mask.count) anchors x (5 + \(numClasses) "
                            + "classes) = \(mask.count * attrs) expected. Do the weights and the classes file agree?")
        }
        // Sigmoid everything once on the device; w and h use the raw values.
        let raw = try output.to(device: .cpu).contiguous().toArray()
        let squashed = try output.sigmoid().to(device: .cpu).toArray()
        let plane = h * w
        var result = [[Candidate]](repeating: [], count: batch)
        for b in 0..<batch {
            for (k, anchorIndex) in mask.enumerated() {
                let base = (b * mask.count + k) * attrs * plane
                let (aw, ah) = anchors[anchorIndex]
                for j in 0..<h {
                    for i in 0..<w {
                        let cell = j * w + i
                        let objectness = Double(squashed[base + 4 * plane + cell])
                        if objectness < threshold { continue }   // score = obj x cls <= obj
                        var best = 0, bestProbability = -1.0
                        for c in 0..<numClasses {
                            let p = Double(squashed[base + (5 + c) * plane + cell])
                            if p > bestProbability { bestProbability = p; best = c }
                        }
                        guard objectness * bestProbability >= threshold else { continue }
                        let cx = (Double(squashed[base + cell]) + Double(i)) / Double(w)
                        let cy = (Double(squashed[base + plane + cell]) + Double(j)) / Double(h)
                        let bw = exp(Double(raw[base + 2 * plane + cell])) * aw / Double(inputWidth)
                        let bh = exp(Double(raw[base + 3 * plane + cell])) * ah / Double(inputHeight)
                        result[b].append(Candidate(x1: cx - bw / 2, y1: cy - bh / 2, x2: cx + bw / 2, y2: cy + bh / 2,
                                                   objectness: objectness, classProbability: bestProbability, classIndex: best))
                    }
                }
            }
        }
        return result
    }

    /// Greedy NMS per class (IoU above the threshold suppresses), classes in ascending order and
    /// each class's survivors by descending score, as the reference concatenates them.
    static func nonMaxSuppression(_ candidates: [Candidate], iou threshold: Double) -> [Candidate] {
        var kept: [Candidate] = []
        for c in Set(candidates.map(\.classIndex)).sorted() {
            var pool = candidates.filter { $0.classIndex == c }.sorted { $0.score > $1.score }
            while let best = pool.first {
                kept.append(best)
                pool = pool.dropFirst().filter { iou(best, $0) <= threshold }
            }
        }
        return kept
    }

    static func iou(_ a: Candidate, _ b: Candidate) -> Double {
        let iw = max(0, min(a.x2, b.x2) - max(a.x1, b.x1)), ih = max(0, min(a.y2, b.y2) - max(a.y1, b.y1))
        let inter = iw * ih
        let union = (a.x2 - a.x1) * (a.y2 - a.y1) + (b.x2 - b.x1) * (b.y2 - b.y1) - inter
        return union > 0 ? inter / union : 0
    }

    /// Normalised input coordinates to image pixels. With a letterbox, the placement is the one
    /// `Image.letterboxed` made (the reference recomputes it with rounding, off by up to a pixel).
    func toImage(_ c: Candidate, imageSize: (Int, Int), letterbox: Bool) -> Detection {
        let (iw, ih) = (Double(imageSize.0), Double(imageSize.1))
        var (x1, y1, x2, y2) = (c.x1, c.y1, c.x2, c.y2)
        if letterbox {
            let placement = LetterboxPlacement(imageWidth: imageSize.0, imageHeight: imageSize.1, width: inputWidth, height: inputHeight)
            let nw = Double(placement.resizedWidth), nh = Double(placement.resizedHeight)
            let dx = Double(placement.offsetX), dy = Double(placement.offsetY)
            func mapX(_ v: Double) -> Double { (v * Double(inputWidth) - dx) / nw }
            func mapY(_ v: Double) -> Double { (v * Double(inputHeight) - dy) / nh }
            (x1, x2, y1, y2) = (mapX(x1), mapX(x2), mapY(y1), mapY(y2))
        }
        return Detection(top: y1 * ih, left: x1 * iw, bottom: y2 * ih, right: x2 * iw, classIndex: c.classIndex,
                         score: c.score, objectness: c.objectness, classProbability: c.classProbability)
    }
}
