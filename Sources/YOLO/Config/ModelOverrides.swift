import Foundation

/// The model options of predict and get_map (`--model`, `--classes-path`, `--anchors-path`,
/// `--input-shape`) as parameter-file overrides, so they are checked like the file's own lines.
public enum ModelOverrides {
    public static func overrides(model: String?, classesPath: String?, anchorsPath: String?,
                                 inputShape: String?) throws -> [String] {
        func quoted(_ s: String) -> String { s.contains("'") ? "\"\(s)\"" : "'\(s)'" }
        var result: [String] = []
        if let model { result.append("model=\(quoted(model))") }
        if let classesPath { result.append("classes_path=\(quoted(classesPath))") }
        if let anchorsPath { result.append("anchors_path=\(quoted(anchorsPath))") }
        if let inputShape {
            let sides = inputShape.split(whereSeparator: { $0 == "," || $0 == "x" }).map { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard (1...2).contains(sides.count), sides.allSatisfy({ ($0 ?? 0) > 0 }) else {
                throw YOLOError("--input-shape '\(inputShape)': expected one side (416) or height,width (416,608)")
            }
            let h = sides[0]!, w = sides.count == 2 ? sides[1]! : h
            guard h % 32 == 0, w % 32 == 0 else {
                throw YOLOError("--input-shape '\(inputShape)': both sides must be multiples of 32 (the network's largest stride), "
                                + "e.g. \(max(32, h / 32 * 32)) or \(h / 32 * 32 + 32)")
            }
            result.append("input_shape=[\(h), \(w)]")
        }
        return result
    }
}
