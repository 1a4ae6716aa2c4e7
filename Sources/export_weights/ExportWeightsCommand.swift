import ArgumentParser
import Foundation
import NN
import TensorCore
import YOLO

@main
struct ExportWeightsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export_weights",
        abstract: "Write trained weights the way released weights are shipped: whole, or the backbone alone, in half precision.",
        discussion: """
        --backbone-only keeps the backbone's tensors and drops their 'backbone.' prefix, as the reference's \
        CSPdarknet53*_backbone_weights.pth files are (for pretrained = True). --half stores floating-point tensors as \
        float16 (half the size; train and predict read them back as float32). Optimizer state and other entries of a \
        resume point are left out: the output is a plain state dict that PyTorch's load_state_dict takes.
        """)

    @Option(name: .customLong("model-path"), help: "Trained weights (a state dict, an ep*.pth, or a resume point).")
    var modelPath = "logs/best_epoch_weights.pth"
    @Option(help: "Where to write.") var output: String
    @Flag(name: .customLong("backbone-only"), help: "Only the backbone, keys without 'backbone.'.") var backboneOnly = false
    @Flag(help: "Floating-point tensors as float16.") var half = false

    func run() throws {
        runReportingErrors {
            guard let state = try PthReader.load(modelPath).stateDict, !state.isEmpty else {
                throw YOLOError("\(modelPath): no state dict of tensors found in the checkpoint")
            }
            var out: [(String, Tensor)] = []
            for (key, tensor) in state {
                let name = key.hasPrefix("module.") ? String(key.dropFirst(7)) : key
                if backboneOnly && !name.hasPrefix("backbone.") { continue }
                let kept = backboneOnly ? String(name.dropFirst("backbone.".count)) : name
                out.append((kept, half && tensor.dtype == .float32 ? try tensor.to(.float16) : tensor))
            }
            guard !out.isEmpty else {
                throw YOLOError("\(modelPath): no key starts with 'backbone.'; is it a full model's state dict?")
            }
            try PthWriter.save(stateDict: out, to: output)
            let bytes = (try? FileManager.default.attributesOfItem(atPath: output)[.size] as? Int) ?? 0
            let values = out.map { $0.1.count }.reduce(0, +)
            print("Wrote \(output): \(out.count) tensors, \(values) values, \(String(format: "%.1f", Double(bytes) / 1e6)) MB"
                  + (half ? " (float16)" : "") + (backboneOnly ? ", backbone only" : ""))
        }
    }
}
