import Foundation
import NN
import TensorCore

/// Loading `model_path` / `pretrained` weights into a detector as the reference does (SPEC §5),
/// with the explanations users need: counts of loaded and skipped keys, the reminder that a
/// skipped head is normal and a skipped backbone is not, backbone-only files recognised, and a
/// class-count mismatch said in words.
public enum WeightLoading {
    public struct Outcome {
        public var report: LoadReport
        public var backboneOnly: Bool
        public var messages: [String]
        /// The model the file's keys belong to, when they tell.
        public var fileModel: ModelKind?
        /// Backbone tensors of the model that the file filled, of all of them.
        public var backboneLoaded: Int
        public var backboneTotal: Int
        /// "these are yolov4 weights; the model is yolov4-tiny", when the file is for the other model.
        public var architectureMismatch: String?
    }

    /// YOLOv4's CSPDarknet53 has `stages`, YOLOv4-tiny's backbone `resblock_body` blocks (full files
    /// with "backbone.", backbone-only files without).
    public static func model(ofKeys keys: [String]) -> ModelKind? {
        let bare = keys.map { $0.hasPrefix("backbone.") ? String($0.dropFirst(9)) : $0 }
        if bare.contains(where: { $0.hasPrefix("stages.") }) { return .yolov4 }
        if bare.contains(where: { $0.hasPrefix("resblock_body") }) { return .yolov4Tiny }
        return nil
    }

    public static func load(_ path: String, into model: Detector, classesPath: String? = nil) throws -> Outcome {
        let value = try PthReader.load(path)
        guard let state = value.stateDict, !state.isEmpty else {
            throw YOLOError("\(path): no state dict of tensors found in the checkpoint")
        }
        let keys = state.map { $0.0.hasPrefix("module.") ? String($0.0.dropFirst(7)) : $0.0 }
        let modelKeys = Set(model.namedTensors().map(\.0))
        // A backbone-only file has the backbone's keys without the "backbone." prefix.
        let backboneOnly = !keys.contains { $0.hasPrefix("backbone.") } && !keys.contains { modelKeys.contains($0) }
            && keys.contains { modelKeys.contains("backbone." + $0) }
        let report = try model.load(stateDict: state, prefix: backboneOnly ? "backbone." : "")
        var messages: [String] = []
        if backboneOnly { messages.append("\(path) holds backbone weights only (keys without 'backbone.'): loaded into the backbone.") }
        messages.append("Successful Load Key: \(report.loaded.count) keys, e.g. \(report.loaded.prefix(3).joined(separator: ", "))")
        messages.append("Fail To Load Key: \(report.skipped.count) keys" + (report.skipped.isEmpty ? "" :
            ", e.g. " + report.skipped.prefix(3).map { "\($0.key) (\($0.reason))" }.joined(separator: "; ")))
        messages.append("Note: it is normal that the head part is not loaded (a different class count); "
                        + "it is an error if the backbone part is not loaded.")
        if let mismatch = classMismatch(state: state, model: model, path: path, classesPath: classesPath) { messages.append(mismatch) }
        let backboneSkipped = report.skipped.filter { ($0.key.hasPrefix("backbone.") || backboneOnly) && !$0.reason.hasPrefix("not in") }
        if !backboneSkipped.isEmpty {
            messages.append("Warning: \(backboneSkipped.count) backbone tensors did not fit (e.g. \(backboneSkipped[0].key): "
                            + "\(backboneSkipped[0].reason)); are these weights for the other model (yolov4 vs yolov4-tiny)?")
        }
        let mine: ModelKind = model is YOLOv4 ? .yolov4 : .yolov4Tiny
        let theirs = Self.model(ofKeys: keys)
        let mismatch = theirs.flatMap { $0 == mine ? nil : "\(path): these are \($0.rawValue) weights; the model is \(mine.rawValue) "
            + "(set model = '\($0.rawValue)', or use \(mine.rawValue) weights)" }
        if let mismatch { messages.append(mismatch) }
        if report.loaded.isEmpty {
            throw YOLOError(mismatch ?? "\(path): none of its \(state.count) tensors fits this \(type(of: model)) model "
                            + "(e.g. '\(state[0].0)'); is it the weights of another model?")
        }
        let backbone = Set(model.namedTensors().map(\.0).filter { $0.hasPrefix("backbone.") })
        return Outcome(report: report, backboneOnly: backboneOnly, messages: messages, fileModel: theirs,
                       backboneLoaded: report.loaded.filter { backbone.contains($0) }.count, backboneTotal: backbone.count,
                       architectureMismatch: mismatch)
    }

    /// Names both class counts when the file's heads were trained for another number of classes.
    static func classMismatch(state: [(String, Tensor)], model: Detector, path: String, classesPath: String?) -> String? {
        let heads = model.namedTensors().filter { $0.0.hasSuffix(".1.weight") && $0.0.contains("head") }
        for (name, slot) in heads {
            guard let theirs = state.first(where: { $0.0 == name || $0.0 == "module." + name })?.1 else { continue }
            let anchors = model.anchorsMask.first?.count ?? 3
            guard theirs.rank == 4, theirs.shape[0] != slot.value.shape[0], theirs.shape[0] % anchors == 0 else { continue }
            let fileClasses = theirs.shape[0] / anchors - 5
            return "The heads in \(path) were trained for \(fileClasses) classes, but the model has \(model.numClasses)"
                + (classesPath.map { " (from \($0))" } ?? "") + ": the heads start from scratch. If the weights are your "
                + "own trained ones, use the classes file they were trained with."
        }
        return nil
    }
}
