import Foundation
import TensorCore

/// k-means over box sizes with distance 1 - IoU (boxes compared as if they shared a corner) and
/// the median as the update, as the reference does; seeded, and an emptied cluster is re-seeded
/// with the worst-fitting box instead of becoming NaN.
public enum AnchorKMeans {
    public struct Result {
        public var centers: [(Double, Double)]
        public var assignment: [Int]
        public var iterations: Int
    }

    /// Width and height of every object, normalised by its image size, from VOC XML files.
    /// Files without a usable <size> are skipped and named.
    public static func boxSizes(annotationsFolder: String) throws -> (sizes: [(Double, Double)], skipped: [String]) {
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: annotationsFolder)) ?? [])
            .filter { $0.hasSuffix(".xml") }.sorted()
        guard !files.isEmpty else { throw YOLOError("\(annotationsFolder): no .xml annotations found") }
        var sizes: [(Double, Double)] = [], skipped: [String] = []
        for file in files {
            let path = (annotationsFolder as NSString).appendingPathComponent(file)
            guard let a = try? VOCAnnotation.load(path), let w = a.width, let h = a.height, w > 0, h > 0 else {
                skipped.append(path)
                continue
            }
            for o in a.objects {
                let bw = (o.xmax.rounded(.towardZero) - o.xmin.rounded(.towardZero)) / Double(w)
                let bh = (o.ymax.rounded(.towardZero) - o.ymin.rounded(.towardZero)) / Double(h)
                if bw > 0 && bh > 0 { sizes.append((bw, bh)) }
            }
        }
        guard !sizes.isEmpty else { throw YOLOError("\(annotationsFolder): the annotations contain no boxes") }
        return (sizes, skipped)
    }

    static func iou(_ a: (Double, Double), _ b: (Double, Double)) -> Double {
        let inter = min(a.0, b.0) * min(a.1, b.1)
        return inter / (a.0 * a.1 + b.0 * b.1 - inter)
    }

    /// Mean over boxes of the best IoU with any center.
    public static func averageIoU(_ boxes: [(Double, Double)], _ centers: [(Double, Double)]) -> Double {
        boxes.map { b in centers.map { iou(b, $0) }.max() ?? 0 }.reduce(0, +) / Double(max(boxes.count, 1))
    }

    public static func cluster(_ boxes: [(Double, Double)], k: Int, rng: RandomGenerator, maxIterations: Int = 1000,
                               log: (String) -> Void = { _ in }) throws -> Result {
        guard k > 0, boxes.count >= k else {
            throw YOLOError("k-means needs at least \(k) boxes for \(k) anchors, found \(boxes.count)")
        }
        var pool = Array(boxes.indices)
        for i in 0..<k { pool.swapAt(i, i + Int(rng.next() % UInt64(pool.count - i))) }
        var centers = pool.prefix(k).map { boxes[$0] }
        var assignment = [Int](repeating: -1, count: boxes.count)
        var iteration = 0
        while iteration < maxIterations {
            let near = boxes.map { b in (0..<k).max { iou(b, centers[$0]) < iou(b, centers[$1]) }! }
            if near == assignment { break }
            assignment = near
            for j in 0..<k {
                let members = boxes.indices.filter { assignment[$0] == j }.map { boxes[$0] }
                if members.isEmpty {
                    let worst = boxes.indices.min { iou(boxes[$0], centers[assignment[$0]]) < iou(boxes[$1], centers[assignment[$1]]) }!
                    centers[j] = boxes[worst]
                } else {
                    centers[j] = (median(members.map(\.0)), median(members.map(\.1)))
                }
            }
            if iteration % 5 == 0 { log(String(format: "iter: %d. avg_iou:%.2f", iteration, averageIoU(boxes, centers))) }
            iteration += 1
        }
        return Result(centers: centers, assignment: assignment, iterations: iteration)
    }

    /// numpy's median: the mean of the two middle values for an even count.
    static func median(_ values: [Double]) -> Double {
        let s = values.sorted()
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }
}
