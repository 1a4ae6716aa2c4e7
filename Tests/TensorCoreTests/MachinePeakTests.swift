import Foundation
import XCTest
@testable import TensorCore

/// The float32 peak the benchmarks divide by is the FMA throughput measured on every core at once.
final class MachinePeakTests: XCTestCase {
    func testThePeakIsTheMeasuredFMAThroughput() throws {
        let peak = MachinePeak.measure(seconds: 0.1)
        XCTAssertGreaterThan(peak.flopsPerSecond, 0)
        // No x86 core issues more than two vector FMAs per cycle.
        XCTAssertLessThan(peak.fmaPerCycle, 2.6, peak.summary)
        // AMD's family 25 with AVX-512 is Zen 4: one 512-bit FMA per cycle, which a formula with two
        // units per core doubled (a loaded machine reads lower, never near two).
        let info = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let lines = info.split(separator: "\n")
        let flags = lines.first { $0.hasPrefix("flags") } ?? ""
        let family = lines.first { $0.hasPrefix("cpu family") }?.split(separator: ":").last
        let isZen4 = info.contains("AuthenticAMD") && family.flatMap { Int($0.trimmingCharacters(in: .whitespaces)) } == 25
        if peak.lanes == 16 && isZen4 && flags.contains("avx512f") {
            XCTAssertLessThan(peak.fmaPerCycle, 1.3, "Zen 4: \(peak.summary)")
            XCTAssertGreaterThan(peak.fmaPerCycle, 0.25, "Zen 4: \(peak.summary)")
        }
    }
}
