import ArgumentParser
import Foundation
import NN
import TensorCore
import YOLO

/// Images per second of a detector at 416: inference at batch 1 and 8, and a full training step
/// (forward, loss, backward, SGD update) at batch 8, each also as a fraction of the CPU's float32 peak;
/// in each precision asked for (float32, and under autocast bfloat16 / float16), with the ratio to
/// float32 measured in the same run and the peak memory the tensor core's allocator held.
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
    @Option(help: "fp32, bf16, fp16, or a comma list (e.g. fp32,bf16); 'all' is fp32 and every 16-bit type this machine runs natively.")
    var precision = "fp32"
    @Flag(help: "Inference with NCHW tensors between layers instead of channels-last (the chain it replaced, to compare).")
    var nchwInference = false
    @Flag(help: "The direct method for every convolution (by default float32 3x3 stride-1 ones use Winograd kernels where the CPU has them, as train's winograd = True).")
    var noWinograd = false

    @Flag(help: "Training conv-BN-activation units with every convolution's activations reordered to NCHW and back (by default they stay in oneDNN's blocked layout between the convolution and the batch norm, where the CPU's kernels use it).")
    var noBlockedUnits = false

    func precisions(native: [DType]) throws -> [DType?] {
        if precision == "all" { return [nil] + native.map { Optional($0) } }
        return try precision.split(separator: ",").map { name -> DType? in
            switch name.trimmingCharacters(in: .whitespaces) {
            case "fp32": return nil
            case "bf16": return .bfloat16
            case "fp16": return .float16
            default: throw YOLOError("--precision '\(name)': expected fp32, bf16, fp16 or all")
            }
        }
    }

    func run() throws {
        runReportingErrors {
            ChannelsLastInference.enabled = !nchwInference
            CPUConvolutions.winograd = !noWinograd
            CPUConvolutions.blockedUnits = !noBlockedUnits
            let kind = try ModelKind(parsing: model)
            let detector = try kind.make(numClasses: classes)
            let peak = MachinePeak.measure()
            let forwardFlops = try ModelSummary(model: detector, inputHeight: size, inputWidth: size).flops
            print("Machine peak: \(peak.summary)")
            print(String(format: "%@ at %d: %.2f GFLOP per image forward", kind.rawValue, size, forwardFlops / 1e9))
            let native = Autocast.nativeTypes(.convolution, on: .cpu)
            print("16-bit types this CPU computes convolutions in natively: "
                  + (native.isEmpty ? "none (16-bit runs are emulated, slower than float32)" : native.map(\.rawValue).joined(separator: ", ")))
            print("Float32 convolutions: " + (noWinograd ? "direct method (--no-winograd)"
                  : "Winograd for 3x3 stride-1 where this CPU has the kernels, direct elsewhere "
                    + "(GFLOP/s count the direct method's work, so they can pass 100 % of the peak)"))
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
            var baseline: [String: Double] = [:]
            for type in try precisions(native: native) {
                let name = type.map { $0 == .bfloat16 ? "bf16" : "fp16" } ?? "fp32"
                print("-- \(name)" + (type.map { native.contains($0) ? " (native)" : " (emulated)" } ?? ""))
                func measure(_ what: String, images: Double, flops: Double) {
                    let ratio = baseline[what].map { String(format: "  %.2fx fp32", images / $0) } ?? ""
                    if type == nil { baseline[what] = images }
                    report(what, images: images, flops: flops, peak: peak, suffix: ratio)
                }
                try Autocast.with(type) {
                    detector.eval()
                    for b in [1, batch] {
                        let x = try Tensor.uniform([b, 3, size, size], generator: RandomGenerator(seed: 1))
                        let t = try median(times: repeats) { _ = try withNoGrad { try detector.outputs(x) } }
                        measure("inference, batch \(b)", images: Double(b) / t, flops: forwardFlops)
                    }
                    detector.train()
                    Backends.cpu.resetPeakAllocatedBytes()
                    let t = try median(times: repeats) {
                        optimizer.zeroGrad()
                        try loss.total(detector.outputs(x), targets: targets).backward()
                        try optimizer.step()
                    }
                    // A training step costs about 3 forwards (forward, backward-data, backward-weights).
                    measure("training step, batch \(batch)", images: Double(batch) / t, flops: 3 * forwardFlops)
                    print(String(format: "%-26@ %7.0f MiB held at the peak", "training memory" as NSString,
                                 Double(Backends.cpu.peakAllocatedBytes) / 1_048_576))
                }
            }
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

    func report(_ what: String, images: Double, flops: Double, peak: MachinePeak, suffix: String = "") {
        let rate = images * flops
        print(String(format: "%-26@ %7.2f images/s  %6.1f GFLOP/s  %5.1f%% of float32 peak%@", what as NSString, images, rate / 1e9,
                     100 * rate / peak.flopsPerSecond, suffix))
    }
}
