import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// One object of a VOC annotation, in the file's pixel coordinates.
public struct VOCObject: Equatable, Sendable {
    public var name: String
    public var difficult: Bool
    public var truncated: Bool
    public var xmin, ymin, xmax, ymax: Double
}

/// A VOC XML annotation: image size (when given) and objects.
public struct VOCAnnotation: Equatable, Sendable {
    public var filename: String?
    public var width: Int?
    public var height: Int?
    public var objects: [VOCObject]

    public static func load(_ path: String) throws -> VOCAnnotation {
        guard let data = FileManager.default.contents(atPath: path) else { throw YOLOError("\(path): cannot read the file") }
        return try parse(data, name: path)
    }

    /// Parses XML; errors name the file and, for malformed XML, the line.
    public static func parse(_ data: Data, name: String) throws -> VOCAnnotation {
        let root = try XMLTree.parse(data, name: name)
        guard root.name == "annotation" else {
            throw YOLOError("\(name): the root element is <\(root.name)>, expected <annotation>")
        }
        var annotation = VOCAnnotation(filename: root.child("filename")?.text, width: nil, height: nil, objects: [])
        if let size = root.child("size") {
            annotation.width = size.child("width").flatMap { Int(Double($0.text) ?? -1) }
            annotation.height = size.child("height").flatMap { Int(Double($0.text) ?? -1) }
        }
        for (i, object) in root.children(named: "object").enumerated() {
            let where_ = "\(name): object \(i + 1)"
            guard let className = object.child("name")?.text, !className.isEmpty else {
                throw YOLOError("\(where_) has no <name>")
            }
            guard let box = object.child("bndbox") else { throw YOLOError("\(where_) ('\(className)') has no <bndbox>") }
            func coordinate(_ key: String) throws -> Double {
                guard let text = box.child(key)?.text else { throw YOLOError("\(where_) ('\(className)') has no <\(key)>") }
                guard let value = Double(text), value.isFinite else {
                    throw YOLOError("\(where_) ('\(className)'): <\(key)> is '\(text)', expected a number")
                }
                return value
            }
            func flag(_ key: String) -> Bool { (object.child(key).flatMap { Int(Double($0.text) ?? 0) } ?? 0) == 1 }
            annotation.objects.append(VOCObject(name: className, difficult: flag("difficult"), truncated: flag("truncated"),
                                                xmin: try coordinate("xmin"), ymin: try coordinate("ymin"),
                                                xmax: try coordinate("xmax"), ymax: try coordinate("ymax")))
        }
        return annotation
    }
}

/// A minimal element tree over Foundation's XMLParser (libxml2).
final class XMLTree: NSObject, XMLParserDelegate {
    final class Node {
        let name: String
        var children: [Node] = []
        var textBuffer = ""
        init(name: String) { self.name = name }
        var text: String { textBuffer.trimmingCharacters(in: .whitespacesAndNewlines) }
        func child(_ name: String) -> Node? { children.first { $0.name == name } }
        func children(named name: String) -> [Node] { children.filter { $0.name == name } }
    }

    private var stack: [Node] = []
    private var root: Node?
    /// Structural problems libxml2 may recover from silently (mismatched or unclosed tags).
    private var problem: (line: Int, text: String)?

    static func parse(_ data: Data, name: String) throws -> Node {
        let tree = XMLTree()
        let parser = XMLParser(data: data)
        parser.delegate = tree
        let ok = parser.parse()
        if let problem = tree.problem {
            throw YOLOError("\(name): line \(problem.line): not well-formed XML (\(problem.text))")
        }
        guard ok, let root = tree.root else {
            let reason = parser.parserError.map { ($0 as NSError).localizedDescription } ?? "no root element"
            throw YOLOError("\(name): line \(parser.lineNumber): not well-formed XML (\(reason))")
        }
        if let open = tree.stack.last {
            throw YOLOError("\(name): line \(parser.lineNumber): not well-formed XML (<\(open.name)> is never closed)")
        }
        return root
    }

    func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?, qualifiedName: String?,
                attributes: [String: String] = [:]) {
        let node = Node(name: elementName)
        stack.last?.children.append(node)
        if stack.isEmpty { root = node }
        stack.append(node)
    }

    func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName: String?) {
        guard let open = stack.last, open.name == elementName else {
            if problem == nil {
                let expected = stack.last.map { "</\($0.name)>" } ?? "no closing tag"
                problem = (parser.lineNumber, "found </\(elementName)> where \(expected) was expected")
            }
            parser.abortParsing()
            return
        }
        stack.removeLast()
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) { stack.last?.textBuffer += string }
}
