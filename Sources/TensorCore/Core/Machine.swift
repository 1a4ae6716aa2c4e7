import CKernels
import Foundation

/// The running CPU's float32 peak, computed as cores x FMA units x SIMD lanes x 2 x clock,
/// with the clock and the FMA units measured while every core is busy. Benchmarks report speeds as
/// a ratio to it.
public struct MachinePeak: Sendable {
    public let cores: Int
    public let fmaUnits: Int
    public let lanes: Int
    public let clockHz: Double

    public var flopsPerSecond: Double { Double(cores * fmaUnits * lanes * 2) * clockHz }

    /// The FMA units are counted at the widest vector width, not assumed: AVX2 cores since Haswell
    /// and Zen have two, but an AVX-512 core may have one 512-bit unit (AMD Zen 4 splits each
    /// 512-bit FMA over its two 256-bit units; many Intel parts have one) or two (server Xeons,
    /// Zen 5). Assuming two doubled the peak of a Zen 4 EPYC. Without FMA a multiply and an add
    /// issue separately, counted as two units.
    public static func measure(seconds: Double = 0.3) -> MachinePeak {
        MachinePeak(cores: Int(ck_max_threads()), fmaUnits: Int(ck_measure_fma_units(seconds)),
                    lanes: Int(ck_simd_float_lanes()), clockHz: ck_measure_clock_hz(seconds))
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

/// How the CPU computes float32 3x3 stride-1 convolutions (training's forward, backward-data and
/// backward-weights, and inference's fused convolutions): through oneDNN's Winograd kernels where it
/// has them (AVX-512 cores), which makes YOLOv4-tiny's training step 1.4-1.6x and its inference
/// 1.1-1.6x faster, or with the direct method everywhere. Both agree to float32 rounding; the direct
/// method is what versions before this one computed, bit for bit. bfloat16 and CPUs without those
/// kernels always use the direct method.
public enum CPUConvolutions {
    /// Training conv-BN-activation units keep the convolution's activations in oneDNN's blocked
    /// layout between the convolution and the fused batch norm (`Tensor.convBatchNormActivation`);
    /// false composes the unit from `conv2d` and `batchNormActivation` (to compare against).
    nonisolated(unsafe) public static var blockedUnits = true

    public static var winograd: Bool {
        get { ck_conv_winograd() != 0 }
        set { ck_conv_set_winograd(newValue ? 1 : 0) }
    }

    /// oneDNN's implementation of each float32 training pass for these parameters on this CPU (for
    /// example "jit_wino_4x3:avx512_core" or "jit:avx512_core"), as the setting above chooses it.
    public static func implementations(_ p: Conv2dParameters) -> (forward: String, backwardData: String, backwardWeights: String) {
        var params = p.kernelParams
        params.precision = 0
        return (String(cString: ck_conv_forward_impl(&params)), String(cString: ck_conv_backward_data_impl(&params)),
                String(cString: ck_conv_backward_weights_impl(&params)))
    }
}
