import CKernels
import Foundation

/// The running CPU's float32 peak, computed as cores x FMA units x SIMD lanes x 2 x clock,
/// with the clock measured while every core is busy. Benchmarks report speeds as a ratio to it.
public struct MachinePeak: Sendable {
    public let cores: Int
    public let fmaUnits: Int
    public let lanes: Int
    public let clockHz: Double

    public var flopsPerSecond: Double { Double(cores * fmaUnits * lanes * 2) * clockHz }

    /// Two FMA pipes per core is what every AVX2 / AVX-512 x86 core since Haswell and Zen has;
    /// without FMA a multiply and an add issue separately, which counts the same way.
    public static func measure(seconds: Double = 0.3) -> MachinePeak {
        MachinePeak(cores: Int(ck_max_threads()), fmaUnits: 2, lanes: Int(ck_simd_float_lanes()),
                    clockHz: ck_measure_clock_hz(seconds))
    }

    public var summary: String {
        String(format: "%d cores x %d FMA units x %d lanes x 2 FLOP x %.2f GHz = %.1f GFLOP/s", cores, fmaUnits, lanes,
               clockHz / 1e9, flopsPerSecond / 1e9)
    }
}

/// Threads used by the CPU kernels (oneDNN's OpenMP pool and our own loops).
public enum CPUThreads {
    public static var count: Int {
        get { Int(ck_max_threads()) }
        set { ck_set_num_threads(Int32(newValue)) }
    }
}
