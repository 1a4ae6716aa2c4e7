import Foundation

/// The anchors file: one line of `w,h` pairs in pixels at the input size, e.g.
/// `12,16, 19,36, 40,28, ...`, sorted by area.
public enum AnchorsFile {
    public static let yolov4Default: [(Double, Double)] = [(12, 16), (19, 36), (40, 28), (36, 75), (76, 55), (72, 146),
                                                           (142, 110), (192, 243), (459, 401)]
    public static let yolov4TinyDefault: [(Double, Double)] = [(10, 14), (23, 27), (37, 58), (81, 82), (135, 169), (344, 319)]

    public static func format(_ anchors: [(Double, Double)]) -> String {
        anchors.map { "\(Int($0.0)),\(Int($0.1))" }.joined(separator: ", ")
    }

    public static func write(_ anchors: [(Double, Double)], to path: String) throws {
        try writeText(format(anchors) + "\n", to: path)
    }

    /// The anchors for a model: exactly as many as its anchors_mask uses (6 for yolov4-tiny, 9 for
    /// yolov4), since a file for the other model would train or detect with the wrong boxes.
    public static func read(_ path: String, for config: TrainConfig) throws -> [(Double, Double)] {
        let anchors = try read(path)
        let needed = (config.anchorsMask.flatMap { $0 }.max() ?? 0) + 1
        guard anchors.count == needed else {
            let usual = config.model == "yolov4" ? "model_data/yolo_anchors.txt" : "model_data/yolo_tiny_anchors.txt"
            throw YOLOError("\(path): \(anchors.count) anchors, but \(config.model) with anchors_mask \(config.anchorsMask) uses "
                            + "\(needed); point anchors_path at a file for this model (\(usual), or kmeans_for_anchors "
                            + "--anchors-num \(needed))")
        }
        return anchors
    }

    public static func read(_ path: String) throws -> [(Double, Double)] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw YOLOError("\(path): cannot read the anchors file (expected 'w,h, w,h, ...' on one line)")
        }
        let numbers = text.split(whereSeparator: { $0 == "," || $0.isWhitespace }).map { (String($0), Double($0)) }
        if let bad = numbers.first(where: { $0.1 == nil || $0.1! <= 0 }) {
            throw YOLOError("\(path): '\(bad.0)' is not a positive anchor size (expected 'w,h, w,h, ...')")
        }
        guard !numbers.isEmpty, numbers.count % 2 == 0 else {
            throw YOLOError("\(path): \(numbers.count) numbers found, expected pairs of width,height")
        }
        return stride(from: 0, to: numbers.count, by: 2).map { (numbers[$0].1!, numbers[$0 + 1].1!) }
    }
}
