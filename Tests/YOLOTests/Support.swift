import Foundation
import XCTest
@testable import YOLO
import Vision

/// A fresh temporary folder removed at the end of the test.
func temporaryFolder(_ test: XCTestCase, _ name: String = "yolo") -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(getpid())-\(UUID().uuidString.prefix(8))")
    try! FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    test.addTeardownBlock { try? FileManager.default.removeItem(at: url) }
    return url
}

func write(_ text: String, _ url: URL) throws {
    try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
    try text.write(to: url, atomically: true, encoding: .utf8)
}

func vocXML(width: Int, height: Int, objects: [(String, Int, Int, Int, Int, Bool)]) -> String {
    var s = "<annotation><filename>x.jpg</filename><size><width>\(width)</width><height>\(height)</height><depth>3</depth></size>"
    for (name, x1, y1, x2, y2, difficult) in objects {
        s += "<object><name>\(name)</name><difficult>\(difficult ? 1 : 0)</difficult>"
            + "<bndbox><xmin>\(x1)</xmin><ymin>\(y1)</ymin><xmax>\(x2)</xmax><ymax>\(y2)</ymax></bndbox></object>"
    }
    return s + "</annotation>"
}

func assertMessage(_ error: Error, contains fragments: [String], file: StaticString = #filePath, line: UInt = #line) {
    for f in fragments where !"\(error)".contains(f) { XCTFail("'\(error)' does not mention '\(f)'", file: file, line: line) }
}
