import NN
import TensorCore

/// A YOLO detector: images in, one raw head output per scale out (stride 32 first), each
/// [batch, anchors x (5 + classes), H, W].
public protocol Detector: Module {
    var numClasses: Int { get }
    var anchorsMask: [[Int]] { get }
    func outputs(_ x: Tensor) throws -> [Tensor]
}

public enum ModelKind: String, CaseIterable, Sendable {
    case yolov4 = "yolov4"
    case yolov4Tiny = "yolov4-tiny"

    public var defaultAnchorsMask: [[Int]] { self == .yolov4 ? [[6, 7, 8], [3, 4, 5], [0, 1, 2]] : [[3, 4, 5], [1, 2, 3]] }
    public var defaultAnchors: [(Double, Double)] { self == .yolov4 ? AnchorsFile.yolov4Default : AnchorsFile.yolov4TinyDefault }

    /// Accepts "yolov4", "YOLOv4-tiny", "tiny", ...
    public init(parsing text: String) throws {
        switch text.lowercased().replacingOccurrences(of: "_", with: "-") {
        case "yolov4", "yolo4", "v4": self = .yolov4
        case "yolov4-tiny", "yolo4-tiny", "tiny", "v4-tiny", "yolov4tiny": self = .yolov4Tiny
        default: throw YOLOError("unknown model '\(text)': expected yolov4 or yolov4-tiny")
        }
    }

    public func make(numClasses: Int, anchorsMask: [[Int]]? = nil, seed: UInt64 = 0) throws -> Detector {
        guard numClasses >= 1 else { throw YOLOError("the model needs at least one class, found \(numClasses)") }
        switch self {
        case .yolov4: return try YOLOv4(numClasses: numClasses, anchorsMask: anchorsMask ?? defaultAnchorsMask, seed: seed)
        case .yolov4Tiny: return try YOLOv4Tiny(numClasses: numClasses, anchorsMask: anchorsMask ?? defaultAnchorsMask, seed: seed)
        }
    }
}
