import ArgumentParser
import Foundation
import TensorCore

/// Times the tensor core's convolutions on every conv layer of YOLOv4-tiny and reports each as
/// GFLOP/s and as a fraction of the machine's float32 peak.
@main
struct TensorCoreBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tensorcore_benchmark",
        abstract: "Convolution speed of the tensor core on YOLOv4-tiny's layers, against the CPU's float32 peak.",
        discussion: """
        For every distinct conv shape of YOLOv4-tiny (forward, backward-data and backward-weights) and for the
        whole sequence of its 21 convolutions, prints GFLOP/s and the ratio to the peak: the float32 FMA
        throughput of all cores at once at the widest vector width, measured. GFLOP/s count the direct
        method's work, so Winograd layers can pass 100 %. The sequence figures are the ones to quote.
        """)

    @Option(help: "Images per batch.") var batch = 8
    @Option(help: "Input size (a multiple of 32).") var size = 416
    @Option(help: "Classes of the detection heads (80 for COCO: 255 head channels).") var classes = 80
    @Option(help: "Timed repetitions; the median is reported.") var repeats = 5
    @Option(help: "CPU threads (default: all cores).") var threads: Int?
    @Flag(help: "The direct method for every convolution (by default 3x3 stride-1 ones use Winograd kernels where the CPU has them).")
    var noWinograd = false

    func validate() throws {
        guard size > 0, size % 32 == 0 else { throw ValidationError("--size must be a positive multiple of 32, found \(size)") }
        guard batch >= 1, repeats >= 1, classes >= 1 else { throw ValidationError("--batch, --repeats and --classes must be positive") }
    }

    func run() throws {
        if let threads { CPUThreads.count = threads }
        CPUConvolutions.winograd = !noWinograd
        let peak = MachinePeak.measure()
        print("Machine peak: \(peak.summary)")
        let layers = YOLOv4TinyConvs.layers(batch: batch, size: size, classes: classes)
        let perImage = layers.map(\.parameters.flops).reduce(0, +) / Double(batch)
        print(String(format: "YOLOv4-tiny at %d, batch %d: %d convolutions, %.2f GFLOP per image forward",
                     size, batch, layers.count, perImage / 1e9))

        var timings: [Conv2dParameters: PassTimes] = [:]
        for layer in layers where timings[layer.parameters] == nil {
            timings[layer.parameters] = try PassTimes.measure(layer.parameters, repeats: repeats)
        }

        print("")
        print(pad("layer", 34) + pad("shape", 30) + "  fwd GF/s  bwd-data  bwd-wgt   fwd %pk  bwd %pk  method")
        var seen = Set<Conv2dParameters>()
        for layer in layers where !seen.contains(layer.parameters) {
            seen.insert(layer.parameters)
            let t = timings[layer.parameters]!, p = layer.parameters
            let users = layers.filter { $0.parameters == p }.map(\.name)
            let shape = "\(p.inChannels)->\(p.outChannels) \(p.kernelHeight)x\(p.kernelWidth)/\(p.strideH) @\(p.height)"
            let f = p.flops
            print(pad(users.joined(separator: ", "), 34) + pad(shape, 30)
                  + String(format: "  %8.1f  %8.1f  %7.1f   %6.1f%%  %6.1f%%", f / t.forward / 1e9, f / t.backwardData / 1e9,
                           f / t.backwardWeights / 1e9, 100 * f / t.forward / peak.flopsPerSecond,
                           100 * 2 * f / (t.backwardData + t.backwardWeights) / peak.flopsPerSecond)
                  + "  " + method(p))
        }

        // The whole sequence: every layer in network order, timed back to back.
        let sequence = try SequenceTimes.measure(layers.map(\.parameters), repeats: repeats)
        let total = layers.map(\.parameters.flops).reduce(0, +)
        let fwdRate = total / sequence.forward, bwdRate = 2 * total / sequence.backward
        print("")
        print(String(format: "Whole sequence forward:  %6.1f GFLOP/s = %5.1f%% of peak (%.1f ms per batch)",
                     fwdRate / 1e9, 100 * fwdRate / peak.flopsPerSecond, sequence.forward * 1e3))
        print(String(format: "Whole sequence backward: %6.1f GFLOP/s = %5.1f%% of peak (data + weights, %.1f ms per batch)",
                     bwdRate / 1e9, 100 * bwdRate / peak.flopsPerSecond, sequence.backward * 1e3))
    }

    /// "winograd", "gemm" (a 1x1 convolution as a matrix product on NCHW) or "direct" for the three
    /// passes (one word when they agree).
    private func method(_ p: Conv2dParameters) -> String {
        let i = CPUConvolutions.implementations(p)
        let names = [i.forward, i.backwardData, i.backwardWeights].map {
            $0.contains("wino") ? "winograd" : $0.contains("gemm") ? "gemm" : "direct"
        }
        return Set(names).count == 1 ? names[0] : names.joined(separator: "/")
    }

    private func pad(_ s: String, _ n: Int) -> String { s.count >= n ? String(s.prefix(n)) : s + String(repeating: " ", count: n - s.count) }
}
