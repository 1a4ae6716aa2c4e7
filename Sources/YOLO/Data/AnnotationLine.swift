import Foundation

/// A box in pixels (x1, y1, x2, y2) with its class index.
public struct LabeledBox: Equatable, Sendable {
    public var x1, y1, x2, y2: Double
    public var classIndex: Int
    public init(x1: Double, y1: Double, x2: Double, y2: Double, classIndex: Int) {
        self.x1 = x1; self.y1 = y1; self.x2 = x2; self.y2 = y2; self.classIndex = classIndex
    }
    public var width: Double { x2 - x1 }
    public var height: Double { y2 - y1 }
}

/// One line of a training list (`2007_train.txt`): an image path and its boxes,
/// `<path> x1,y1,x2,y2,cls x1,y1,x2,y2,cls ...` with integer coordinates.
public struct AnnotationLine: Equatable, Sendable {
    public var imagePath: String
    public var boxes: [LabeledBox]

    public init(imagePath: String, boxes: [LabeledBox]) {
        self.imagePath = imagePath
        self.boxes = boxes
    }

    /// The reference format; coordinates are written as integers.
    public var text: String {
        ([imagePath] + boxes.map { "\(Int($0.x1)),\(Int($0.y1)),\(Int($0.x2)),\(Int($0.y2)),\($0.classIndex)" })
            .joined(separator: " ")
    }

    /// Parses a line; `location` ("file:line") prefixes errors.
    public init(parsing line: String, location: String, classCount: Int? = nil) throws {
        let fields = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        guard let path = fields.first else { throw YOLOError("\(location): empty annotation line") }
        imagePath = path
        boxes = try fields.dropFirst().map { field in
            let parts = field.split(separator: ",", omittingEmptySubsequences: false)
            let numbers = parts.map { Double($0) }
            guard parts.count == 5, numbers.allSatisfy({ $0 != nil }) else {
                if !field.contains(",") {
                    throw YOLOError("\(location): '\(field)' is not a box x1,y1,x2,y2,class; if it is part of the "
                                    + "image path, the path contains a space (not supported: rename it)")
                }
                throw YOLOError("\(location): box '\(field)' should be x1,y1,x2,y2,class (5 numbers)")
            }
            let v = numbers.map { $0! }
            guard v[4] >= 0, v[4] == v[4].rounded() else {
                throw YOLOError("\(location): box '\(field)' has class \(parts[4]), expected a class index")
            }
            if let classCount, Int(v[4]) >= classCount {
                throw YOLOError("\(location): box '\(field)' has class index \(Int(v[4])), but the classes file has "
                                + "\(classCount) classes (0-\(classCount - 1))")
            }
            return LabeledBox(x1: v[0], y1: v[1], x2: v[2], y2: v[3], classIndex: Int(v[4]))
        }
    }

    /// Reads a whole list; blank lines are skipped.
    public static func load(_ path: String, classCount: Int? = nil) throws -> [AnnotationLine] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw YOLOError("\(path): cannot read the annotation list (run voc_annotation first?)")
        }
        var lines: [AnnotationLine] = []
        for (i, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespacesAndNewlines)
            if trimmed.isEmpty { continue }
            lines.append(try AnnotationLine(parsing: trimmed, location: "\(path):\(i + 1)", classCount: classCount))
        }
        return lines
    }
}
