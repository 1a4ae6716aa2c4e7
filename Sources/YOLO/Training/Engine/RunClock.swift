import Foundation

/// Time left in a run: training steps cost their measured seconds per image (so the switch to the
/// other phase's batch size is priced right), and each epoch's validation, mAP and saving cost the
/// measured mean of the epochs so far.
public struct RunClock {
    public private(set) var stepSeconds = 0.0
    public private(set) var stepImages = 0
    public private(set) var overheadSeconds = 0.0
    public private(set) var overheadEpochs = 0

    public init() {}

    public mutating func recordStep(seconds: Double, images: Int) {
        stepSeconds += seconds
        stepImages += images
    }

    /// Time spent between the last training step of an epoch and the first of the next.
    public mutating func recordEpochOverhead(seconds: Double) {
        overheadSeconds += seconds
        overheadEpochs += 1
    }

    public var secondsPerImage: Double { stepImages > 0 ? stepSeconds / Double(stepImages) : 0 }

    /// `remainingImages` still to train on and `remainingEpochs` whose end-of-epoch work is still ahead
    /// (the current one included).
    public func eta(remainingImages: Int, remainingEpochs: Int) -> Double {
        let overhead = overheadEpochs > 0 ? overheadSeconds / Double(overheadEpochs) : 0
        return secondsPerImage * Double(remainingImages) + overhead * Double(remainingEpochs)
    }

    /// H:MM:SS, with days in front past 24 hours, as Python's timedelta prints (MMDetection's eta).
    public static func format(_ seconds: Double) -> String {
        let s = max(0, Int(seconds.rounded()))
        let days = s / 86400, rest = s % 86400
        let clock = String(format: "%d:%02d:%02d", rest / 3600, rest / 60 % 60, rest % 60)
        return days > 0 ? "\(days) day\(days == 1 ? "" : "s"), " + clock : clock
    }
}
