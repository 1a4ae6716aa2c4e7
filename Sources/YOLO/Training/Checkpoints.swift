import Foundation
import NN
import TensorCore

/// Checkpoint files in `save_dir` (SPEC §3) and the resume point.
public enum Checkpoints {
    public static let resumeName = "resume_point.pth"

    public static func epochName(_ epoch: Int, loss: Double, valLoss: Double) -> String {
        String(format: "ep%03d-loss%.3f-val_loss%.3f.pth", epoch, loss, valLoss)
    }

    /// The model's state dict, written atomically.
    public static func saveWeights(_ model: Module, to path: String) throws {
        try PthWriter.save(stateDict: model.stateDict(), to: path)
    }

    /// save_half's copy: float32 tensors as float16 (integer buffers unchanged), next to `path` as
    /// `<name>_fp16.pth`; predict, train's model_path and get_map read it back as float32.
    public static func saveHalfWeights(_ model: Module, besides path: String) throws {
        let half = try model.stateDict().map { name, t in (name, t.dtype == .float32 ? try t.to(.float16) : t) }
        try PthWriter.save(stateDict: half, to: halfName(path))
    }

    public static func halfName(_ path: String) -> String { String(path.dropLast(4)) + "_fp16.pth" }

    /// `iter_N.pth`: the checkpoint (and resume point) after N iterations of the run.
    public static func iterationName(_ iteration: Int) -> String { "iter_\(iteration).pth" }

    public static func iterationNumber(_ name: String) -> Int? {
        guard name.hasPrefix("iter_"), name.hasSuffix(".pth") else { return nil }
        return Int(name.dropFirst(5).dropLast(4))
    }

    /// Removes the oldest ep*.pth beyond the newest `keep` (0 keeps all).
    public static func prune(saveDir: String, keep: Int) {
        guard keep > 0 else { return }
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: saveDir)) ?? [])
            .filter { $0.hasPrefix("ep") && $0.hasSuffix(".pth") }.sorted()
        for name in files.dropLast(keep) { try? FileManager.default.removeItem(atPath: (saveDir as NSString).appendingPathComponent(name)) }
    }

    /// Removes the oldest iter_N.pth (by N) beyond the newest `keep` (0 keeps all).
    public static func pruneIterations(in folder: String, keep: Int) {
        guard keep > 0 else { return }
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [])
            .compactMap { name in iterationNumber(name).map { (name, $0) } }.sorted { $0.1 < $1.1 }
        for (name, _) in files.dropLast(keep) { try? FileManager.default.removeItem(atPath: (folder as NSString).appendingPathComponent(name)) }
    }
}
