import ArgumentParser
import Foundation
import NN
import TensorCore
import YOLO

/// Images per second of a detector at 416: inference at batch 1 and 8, and a full training step
/// (forward, loss, backward, SGD update) at batch 8, each also as a fraction of the CPU's float32 peak.
@main
struct ModelBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "model_benchmark",
        abstract: "Inference and training-step speed of YOLOv4-tiny (or YOLOv4) against the CPU's float32 peak.")

    @Option(help: "yolov4-tiny or yolov4.") var model = "yolov4-tiny"
    @Option(help: "Input size.") var size = 416
    @Option(help: "Classes (80: COCO heads).") var classes = 80
    @Option(help: "Timed repetitions; the median is reported.") var repeats = 3
    @Option(help: "Training batch size.") var batch = 8

    func run() throws {
        runReportingErrors {
            let kind = try ModelKind(parsing: model)
            let detector = try kind.make(numClasses: classes)
            let peak = MachinePeak.measure()
            let forwardFlops = try ModelSummary(model: detector, inputHeight: size, inputWidth: size).flops
            print("Machine peak: \(peak.summary)")
            print(String(format: "%@ at %d: %.2f GFLOP per image forward", kind.rawValue, size, forwardFlops / 1e9))
            detector.eval()
            for b in [1, batch] {
                let x = try Tensor.uniform([b, 3, size, size], generator: RandomGenerator(seed: 1))
                let t = try median(times: repeats) { _ = try withNoGrad { try detector.outputs(x) } }
                report("inference, batch \(b)", images: Double(b) / t, flops: forwardFlops, peak: peak)
            }
            detector.train()
            let anchors = kind.defaultAnchors.map { ($0.0 * Double(size) / 416, $0.1 * Double(size) / 416) }
            let loss = YOLOLoss(anchors: anchors, numClasses: classes, inputWidth: size, inputHeight: size,
                                anchorsMask: detector.anchorsMask)
            let optimizer = Optimizer(.sgd, groups: ParameterGroup.yoloGroups(detector, weightDecay: 5e-4), lr: 1e-3, momentum: 0.937)
            let g = RandomGenerator(seed: 2)
            let x = try Tensor.uniform([batch, 3, size, size], generator: g)
            let targets = (0..<batch).map { _ in (0..<4).map { _ in
                TargetBox(cx: g.uniform(0.2, 0.8), cy: g.uniform(0.2, 0.8), w: g.uniform(0.05, 0.4), h: g.uniform(0.05, 0.4),
                          classIndex: Int(g.next() % UInt64(classes)))
            } }
            let t = try median(times: repeats) {
                optimizer.zeroGrad()
                try loss.total(detector.outputs(x), targets: targets).backward()
                try optimizer.step()
            }
            // A training step costs about 3 forwards (forward, backward-data, backward-weights).
            report("training step, batch \(batch)", images: Double(batch) / t, flops: 3 * forwardFlops, peak: peak)
        }
    }

    func median(times: Int, _ body: () throws -> Void) throws -> Double {
        try body()   // warm-up: primitive creation, allocator
        var samples: [Double] = []
        for _ in 0..<max(times, 1) {
            let start = Date()
            try body()
            samples.append(Date().timeIntervalSince(start))
        }
        return samples.sorted()[samples.count / 2]
    }

    func report(_ what: String, images: Double, flops: Double, peak: MachinePeak) {
        let rate = images * flops
        print(String(format: "%-26@ %7.2f images/s  %6.1f GFLOP/s  %5.1f%% of peak", what as NSString, images, rate / 1e9,
                     100 * rate / peak.flopsPerSecond))
    }
}
