import Foundation
import XCTest
@testable import TensorCore

/// The float32 peak the benchmarks divide by: the FMA units are measured, not assumed.
final class MachinePeakTests: XCTestCase {
    func testThePeakCountsTheFMAUnitsACoreSustains() throws {
        let peak = MachinePeak.measure(seconds: 0.1)
        XCTAssertTrue((1...2).contains(peak.fmaUnits), "\(peak.summary)")
        XCTAssertEqual(peak.flopsPerSecond, Double(peak.cores * peak.fmaUnits * peak.lanes * 2) * peak.clockHz)
        // AMD's family 25 with AVX-512 is Zen 4: each 512-bit FMA takes both 256-bit units, one per
        // cycle (assuming two doubled this machine's peak). AVX2-only cores have two.
        let info = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let flags = info.split(separator: "\n").first { $0.hasPrefix("flags") } ?? ""
        let family = info.split(separator: "\n").first { $0.hasPrefix("cpu family") }?.split(separator: ":").last
        let isZen4 = info.contains("AuthenticAMD") && family.flatMap { Int($0.trimmingCharacters(in: .whitespaces)) } == 25
        if peak.lanes == 16 && isZen4 && flags.contains("avx512f") {
            XCTAssertEqual(peak.fmaUnits, 1, "Zen 4: \(peak.summary)")
        } else if peak.lanes == 8 {
            XCTAssertEqual(peak.fmaUnits, 2, "AVX2: \(peak.summary)")
        }
    }
}
