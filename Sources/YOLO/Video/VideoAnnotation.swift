import Foundation
import Vision

/// predict's video mode: frames decoded on one thread, detected and drawn in batches on the
/// caller's, encoded on a third, so decoding and encoding overlap with inference. Each frame gets
/// its boxes and the running rate ("fps= 12.34", as the reference draws it).
public struct VideoAnnotation {
    public struct Report {
        public var frames: Int
        public var seconds: Double
        public var stoppedEarly: Bool
        public var framesPerSecond: Double { seconds > 0 ? Double(frames) / seconds : 0 }
    }

    public var runner: DetectionRunner
    public var classes: ClassNames
    public var inputSize: Int
    /// Frames detected together (batch inference).
    public var batch = 1
    public var drawRate = true

    public init(runner: DetectionRunner, classes: ClassNames, inputSize: Int) {
        self.runner = runner
        self.classes = classes
        self.inputSize = inputSize
    }

    /// Runs to the end of the stream, `maxFrames`, or `shouldStop()` (Ctrl-C); whatever was
    /// written is a complete video. `onFrame` gets each frame's index, detections and the running rate.
    public func run(_ reader: VideoReader, into writer: VideoWriter?, maxFrames: Int? = nil,
                    shouldStop: @escaping () -> Bool = { false },
                    onFrame: (Int, [Detection], Double) -> Void = { _, _, _ in }) throws -> Report {
        let decoded = FrameQueue<Image>(capacity: 2 * max(batch, 1) + 2)
        let drawn = FrameQueue<Image>(capacity: 2 * max(batch, 1) + 2)
        let limit = maxFrames ?? Int.max
        let decoderDone = DispatchSemaphore(value: 0)
        let decoder = Thread {
            defer { decoderDone.signal() }
            var count = 0
            do {
                while count < limit, !shouldStop(), let frame = try reader.next() {
                    guard decoded.put(frame) else { break }
                    count += 1
                }
                decoded.close()
            } catch { decoded.close(failure: error) }
        }
        let encoderDone = DispatchSemaphore(value: 0)
        let encoder = Thread {
            defer { encoderDone.signal() }
            guard let writer else { while drawn.take() != nil {}; return }
            do {
                while let frame = drawn.take() { try writer.write(frame) }
            } catch {
                drawn.close(failure: error)
                decoded.close()   // nothing more is wanted
            }
        }
        decoder.start()
        encoder.start()

        let start = Date()
        var recent: [Date] = []   // the last 30 frames' finishing times, for the running rate
        var frames = 0
        var failure: Error?
        while true {
            var chunk: [Image] = []
            while chunk.count < max(batch, 1), let frame = decoded.take() { chunk.append(frame) }
            if chunk.isEmpty { break }
            do {
                let found = try runner.detect(chunk)
                for (frame, detections) in zip(chunk, found) {
                    recent.append(Date())
                    if recent.count > 30 { recent.removeFirst() }
                    let rate = recent.count > 1 ? Double(recent.count - 1) / recent.last!.timeIntervalSince(recent.first!)
                                                : 1 / max(Date().timeIntervalSince(start), 1e-9)
                    var image = DetectionDrawing.draw(detections, on: frame, classes: classes, inputSize: inputSize)
                    if drawRate {
                        let scale = max(1, min(image.width, image.height) / 240)
                        image.drawText(String(format: "fps= %.2f", rate), x: 4 * scale, y: 4 * scale, color: RGB(0, 255, 0),
                                       scale: scale)
                    }
                    onFrame(frames, detections, rate)
                    frames += 1
                    if !drawn.put(image) { break }
                }
            } catch {
                failure = error
                decoded.close()
                break
            }
            if drawn.failure != nil { break }
        }
        // Let the decoder thread see the end even when we stopped first.
        decoded.close()
        while decoded.take() != nil {}
        drawn.close()
        decoderDone.wait()
        encoderDone.wait()
        let seconds = Date().timeIntervalSince(start)
        if let failure { throw failure }
        if let failure = decoded.failure { throw failure }
        if let failure = drawn.failure { throw failure }
        try writer?.finish()
        return Report(frames: frames, seconds: seconds, stoppedEarly: shouldStop())
    }
}
