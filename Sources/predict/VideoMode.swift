import Foundation
import Vision
import YOLO

extension PredictCommand {
    /// The source, opened (and the output place tried) before the model loads.
    func openVideo() throws -> (reader: VideoReader, savePath: String?) {
        guard videoBatch >= 1 else { throw YOLOError("--video-batch \(videoBatch): must be at least 1") }
        if let videoFPS, !(videoFPS > 0 && videoFPS <= 1000) {
            throw YOLOError("--video-fps \(videoFPS): expected a rate above 0 and at most 1000")
        }
        if !images.isEmpty { throw YOLOError("video mode reads --video-path, not image arguments (\(images[0]) ...)") }
        if let videoFrames, videoFrames < 1 { throw YOLOError("--video-frames \(videoFrames): must be at least 1") }
        let reader = try VideoReader(source: videoPath)
        let name = Int(videoPath) != nil || videoPath.hasPrefix("/dev/video") ? "camera" : stem(videoPath)
        let savePath = videoSavePath ?? (dirSave as NSString).appendingPathComponent(name + "_out.mp4")
        if savePath.isEmpty { return (reader, nil) }
        try OutputFolders.ensureWritable((savePath as NSString).deletingLastPathComponent, key: "--video-save-path")
        return (reader, savePath)
    }

    /// Returns each frame's detections for --json.
    func annotateVideo(_ reader: VideoReader, savePath: String?, runner: DetectionRunner, classes: ClassNames,
                       inputSize: Int) throws -> [[String: Any]] {
        let fps = videoFPS ?? (reader.fps > 0 ? reader.fps : 25)
        let writer = try savePath.map { try VideoWriter(path: $0, width: reader.width, height: reader.height, fps: fps) }
        let known = reader.frameCount.map { min($0, videoFrames ?? Int.max) }
        print("\(reader.path): \(reader.width)x\(reader.height) \(reader.codec), "
              + (reader.fps > 0 ? String(format: "%.2f fps", reader.fps) : "frame rate unknown")
              + (known.map { ", \($0) frames" } ?? ""))
        if let writer {
            print("writing \(writer.path) (\(writer.codec == "libx264" ? "H.264" : writer.codec), \(String(format: "%.2f", fps)) fps)"
                  + (writer.codec == "libx264" ? "" : ": no H.264 encoder for this container here"))
        } else {
            print("--video-save-path '': no video is written")
        }
        Interruption.install()
        var annotation = VideoAnnotation(runner: runner, classes: classes, inputSize: inputSize)
        annotation.batch = videoBatch
        let bar = known.map { ProgressBar(title: "video", total: $0, unit: "frame") }
        var counts: [String: Int] = [:]
        var frames: [[String: Any]] = []
        var lastPrint = Date()
        let report = try annotation.run(reader, into: writer, maxFrames: videoFrames,
                                        shouldStop: { Interruption.requested }) { index, found, rate in
            for d in found { counts[classes.names[d.classIndex], default: 0] += 1 }
            if json != nil {
                frames.append(["frame": index, "detections": found.map { jsonObject($0, classes: classes) }])
            }
            if let bar {
                bar.update(index + 1, status: String(format: "fps= %.2f", rate))
            } else if Date().timeIntervalSince(lastPrint) >= 1 {
                lastPrint = Date()
                print(String(format: "frame %d fps= %.2f", index + 1, rate))
            }
        }
        bar?.finish()
        print(String(format: "%d frames in %.1f s: %.2f fps (decode, detect, draw and encode)", report.frames, report.seconds,
                     report.framesPerSecond) + (report.stoppedEarly ? ", stopped by Ctrl-C" : ""))
        let skipped = reader.skipped
        // The count may be an estimate from the duration, so a frame or two short is no sign of damage.
        if let declared = reader.frameCount, !report.stoppedEarly, videoFrames == nil,
           declared - report.frames > max(2, declared / 100) {
            FileHandle.standardError.write(Data(("warning: \(reader.path): \(report.frames) of the \(declared) frames its container "
                                                 + "declares could be decoded (a damaged or cut stream)\n").utf8))
        }
        if skipped.count > 0 {
            FileHandle.standardError.write(Data(("warning: \(reader.path): \(skipped.count) damaged packets could not be decoded and "
                                                 + "were skipped (\(skipped.reason))\n").utf8))
        }
        let summary = counts.sorted { $0.value > $1.value }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        print("detections: " + (summary.isEmpty ? "none" : summary))
        if let writer { print("Save processed video to the path: \(writer.path)") }
        return frames
    }
}
