import Foundation
import XCTest
@testable import NN
import TensorCore

let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
func fixture(_ name: String) -> String { fixtures.appendingPathComponent(name).path }

final class PthTests: XCTestCase {
    struct Expected: Decodable { let shape: [Int]; let values: [Float] }

    lazy var expected: [String: Expected] = {
        try! JSONDecoder().decode([String: Expected].self, from: Data(contentsOf: fixtures.appendingPathComponent("expected.json")))
    }()

    func checkState(_ state: [(String, Tensor)], file: StaticString = #filePath, line: UInt = #line) throws {
        XCTAssertEqual(state.map(\.0), ["backbone.conv1.conv.weight", "backbone.conv1.bn.num_batches_tracked", "half", "transposed",
                                        "shared_tail", "mask", "double", "int32"], file: file, line: line)
        for (key, tensor) in state {
            let e = expected[key]!
            XCTAssertEqual(tensor.shape, e.shape, key, file: file, line: line)
            XCTAssertEqual(try tensor.toArray(), e.values, key, file: file, line: line)
        }
        let dtypes = Dictionary(uniqueKeysWithValues: state.map { ($0.0, $0.1.dtype) })
        XCTAssertEqual(dtypes["half"], .float16)
        XCTAssertEqual(dtypes["backbone.conv1.bn.num_batches_tracked"], .int64)
        XCTAssertEqual(dtypes["mask"], .bool)
        XCTAssertEqual(dtypes["int32"], .int32)
        XCTAssertEqual(dtypes["double"], .float32)   // converted
    }

    func testReadsPyTorchZipFormat() throws {
        try checkState(try XCTUnwrap(PthReader.load(fixture("state_zip.pth")).stateDict))
    }

    func testReadsPyTorchLegacyFormat() throws {
        try checkState(try XCTUnwrap(PthReader.load(fixture("state_legacy.pth")).stateDict))
    }

    func testReadsACheckpointDictWithExtras() throws {
        let c = try PthReader.load(fixture("checkpoint.pth"))
        try checkState(try XCTUnwrap(c.stateDict))
        XCTAssertEqual(c["epoch"]?.intValue, 7)
        XCTAssertEqual(c["lr"]?.doubleValue, 0.001)
        XCTAssertEqual(c["name"]?.stringValue, "yolo")
        XCTAssertEqual(c["big"]?.intValue, 1 << 40)
        guard case .list(let losses)? = c["losses"] else { return XCTFail("losses") }
        XCTAssertEqual(losses.compactMap(\.doubleValue), [1.5, 2.25])
        guard case .bool(true)? = c["done"], case .none? = c["nothing"] else { return XCTFail("done / nothing") }
    }

    func testWriteReadRoundTrip() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("pth-\(getpid())")
        defer { try? FileManager.default.removeItem(at: folder) }
        let state = try XCTUnwrap(PthReader.load(fixture("state_zip.pth")).stateDict)
        let path = folder.appendingPathComponent("ours.pth").path
        try PthWriter.save(.dict([("model", .dict(state.map { ($0.0, .tensor($0.1)) })), ("epoch", .int(3)), ("lr", .double(0.5)),
                                  ("phase", .string("unfreeze")), ("history", .list([.double(1), .double(2)]))]), to: path)
        let back = try PthReader.load(path)
        try checkState(try XCTUnwrap(back.stateDict))
        XCTAssertEqual(back["epoch"]?.intValue, 3)
        XCTAssertEqual(back["phase"]?.stringValue, "unfreeze")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path), ["ours.pth"])   // no temporary left
    }

    /// written_by_us.pth was loaded by real PyTorch with weights_only=True (make_fixtures.py wrote
    /// written_by_us.torch.json from it). Our writer must still produce exactly those bytes.
    func testOurFilesAreTheOnesPyTorchAccepted() throws {
        let state = try XCTUnwrap(PthReader.load(fixture("state_zip.pth")).stateDict)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("golden-\(getpid())")
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = ProcessInfo.processInfo.environment["WRITE_GOLDEN"] == nil
            ? folder.appendingPathComponent("written_by_us.pth").path : fixture("written_by_us.pth")
        try PthWriter.save(.dict([("model", .dict(state.map { ($0.0, .tensor($0.1)) })), ("epoch", .int(12)),
                                  ("lr", .double(0.00125)), ("phase", .string("freeze"))]),
                           to: path, date: Date(timeIntervalSince1970: 1_700_000_000))
        XCTAssertEqual(FileManager.default.contents(atPath: path), FileManager.default.contents(atPath: fixture("written_by_us.pth")))
        let report = try JSONSerialization.jsonObject(with: Data(contentsOf: fixtures.appendingPathComponent("written_by_us.torch.json")))
            as! [String: Any]
        let weight = report["backbone.conv1.conv.weight"] as! [String: Any]
        XCTAssertEqual(weight["dtype"] as? String, "torch.float32")
        XCTAssertEqual((weight["values"] as! [Double]).map { Float($0) }, expected["backbone.conv1.conv.weight"]!.values)
        XCTAssertEqual((report["half"] as! [String: Any])["dtype"] as? String, "torch.float16")
        XCTAssertEqual((report["backbone.conv1.bn.num_batches_tracked"] as! [String: Any])["dtype"] as? String, "torch.int64")
        XCTAssertEqual((report["_extras"] as! [String: Any])["epoch"] as? Int, 12)
    }

    func testBadFilesNameTheProblem() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("badpth-\(getpid())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        func expectError(_ path: String, _ fragments: [String], line: UInt = #line) {
            XCTAssertThrowsError(try PthReader.load(path), line: line) { error in
                for f in fragments where !"\(error)".contains(f) { XCTFail("'\(error)' does not mention '\(f)'", line: line) }
            }
        }
        expectError(folder.appendingPathComponent("missing.pth").path, ["missing.pth", "no such file"])
        let text = folder.appendingPathComponent("notes.pth")
        try Data("hello world".utf8).write(to: text)
        expectError(text.path, ["notes.pth", "not a PyTorch checkpoint"])
        for name in ["state_zip.pth", "state_legacy.pth"] {
            let cut = folder.appendingPathComponent("cut-" + name)
            let bytes = FileManager.default.contents(atPath: fixture(name))!
            try bytes.prefix(bytes.count * 2 / 3).write(to: cut)
            expectError(cut.path, ["cut-" + name])
        }
        // bfloat16 storages are read since the bfloat16 dtype exists.
        XCTAssertEqual(try PthReader.load(fixture("bfloat16.pth")).stateDict?.first?.1.dtype, .bfloat16)
        expectError(fixture("namespace.pth"), ["namespace.pth", "argparse.Namespace", "not supported"])
    }
}
