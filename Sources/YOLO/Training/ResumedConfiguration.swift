import Foundation

/// The configuration a resumed run continues with: the one its resume point was written with, so
/// `train --resume` continues the same run whatever the parameter file says now. Keys given again
/// with `--cfg-options` (or `--work-dir`) that differ are applied, each with a line saying what
/// changed, except those that would make the saved state unusable, which are refused.
public enum ResumedConfiguration {
    /// Keys a run cannot change midway: the model's shape, its classes, the optimizer's state, the
    /// random streams the exact resume relies on.
    public static let fixedKeys: Set<String> = ["model", "classes_path", "anchors_mask", "seed", "optimizer_type"]

    /// `saved` is the resume point's parameter text; `file` the parameter file as it is now (for a
    /// note when it differs); `overrides` the command line's key=value pairs.
    public static func resolve(saved: String, pointPath: String, file: TrainConfig?, fileName: String, overrides: [String],
                               workDir: String?, log: (String) -> Void) throws -> TrainConfig {
        let source = "\(pointPath) (the run's configuration)"
        let original = try TrainConfig.load(text: saved, source: source)
        var resolved = try TrainConfig.load(text: saved, source: source, overrides: overrides)
        if let workDir { resolved.saveDir = workDir }
        let given = Set(overrides.flatMap(keys)).union(workDir == nil ? [] : ["save_dir"])
        let changed = resolved.differences(from: original)
        if let fixed = changed.first(where: { fixedKeys.contains($0.key) }) {
            throw YOLOError("--cfg-options \(fixed.key)=\(fixed.mine): the run in \(pointPath) has \(fixed.key) = \(fixed.theirs), "
                            + "which a resumed run cannot change (its weights and optimizer state depend on it); start a new "
                            + "run from its weights with model_path instead")
        }
        for change in changed { log("Changed from the resumed run: \(change.key) = \(change.theirs) -> \(change.mine)") }
        if let file {
            let ignored = file.differences(from: original).filter { !given.contains($0.key) }
            if !ignored.isEmpty {
                log("Note: \(fileName) differs from the resumed run in " + ignored.map { "\($0.key) (\($0.theirs) in the run, "
                    + "\($0.mine) in the file)" }.joined(separator: ", ") + "; the run's values are kept (give a key with "
                    + "--cfg-options to change it)")
            }
        }
        return resolved
    }

    /// The keys a `key=value` override sets (one or several `;`-free assignments).
    static func keys(_ override: String) -> [String] {
        override.split(separator: "\n").compactMap { line in
            line.firstIndex(of: "=").map { String(line[..<$0]).trimmingCharacters(in: .whitespaces) }
        }
    }
}
