/// One detected object in image pixels, reported as top, left, bottom, right like the reference.
public struct Detection: Equatable, Sendable {
    public var top, left, bottom, right: Double
    public var classIndex: Int
    /// objectness x class probability: what thresholds and NMS use.
    public var score: Double
    public var objectness: Double
    public var classProbability: Double

    public init(top: Double, left: Double, bottom: Double, right: Double, classIndex: Int, score: Double,
                objectness: Double, classProbability: Double) {
        self.top = top; self.left = left; self.bottom = bottom; self.right = right
        self.classIndex = classIndex; self.score = score; self.objectness = objectness; self.classProbability = classProbability
    }
}

/// How raw outputs become detections.
public struct DetectionSettings: Sendable {
    public var confidence: Double = 0.5
    public var nmsIoU: Double = 0.3
    /// Whether the input was letterboxed (else plainly resized) from the image.
    public var letterbox = false
    /// Keep at most this many detections per image, best first (nil: all).
    public var maxDetections: Int?
    public init(confidence: Double = 0.5, nmsIoU: Double = 0.3, letterbox: Bool = false, maxDetections: Int? = nil) {
        self.confidence = confidence; self.nmsIoU = nmsIoU; self.letterbox = letterbox; self.maxDetections = maxDetections
    }

    /// Refuses values no detector setting can have (a score above 1 would silently find nothing).
    public func validated() throws -> DetectionSettings {
        guard (0...1).contains(confidence) else { throw YOLOError("--confidence \(confidence): must be between 0 and 1 (scores are probabilities)") }
        guard nmsIoU > 0, nmsIoU <= 1 else { throw YOLOError("--nms-iou \(nmsIoU): must be above 0 and at most 1 (an IoU)") }
        if let maxDetections, maxDetections < 1 { throw YOLOError("--max-boxes \(maxDetections): must be at least 1") }
        return self
    }
}
