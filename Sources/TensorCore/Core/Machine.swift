import CKernels
import Foundation

/// The running CPU's float32 peak: the FMA throughput all its threads sustain together at the widest
/// vector width, measured. Benchmarks report speeds as a ratio to it.
public struct MachinePeak: Sendable {
    public let cores: Int
    public let lanes: Int
    /// The scalar clock with every core busy (a chain of dependent adds).
    public let clockHz: Double
    public let flopsPerSecond: Double

    /// FMA instructions per core and cycle at `lanes` wide, as measured against the scalar clock:
    /// about 2 on AVX2 cores since Haswell and Zen 2 and on AVX-512 server Xeons (less where
    /// AVX-512 runs at a lower clock), 1 on AMD Zen 4's AVX-512 (each 512-bit FMA takes both of its
    /// 256-bit units) and on many other Intel parts. A formula that assumed 2 doubled the peak of a
    /// Zen 4 EPYC; measuring also counts hyperthreads, which share their core's units, right.
    public var fmaPerCycle: Double { flopsPerSecond / (Double(cores * lanes * 2) * clockHz) }

    /// Without FMA (older CPUs) a multiply and an add issue separately: two per cycle, counted as
    /// one multiply-add each.
    public static func measure(seconds: Double = 0.3) -> MachinePeak {
        let cores = Int(ck_max_threads()), lanes = Int(ck_simd_float_lanes())
        let clock = ck_measure_clock_hz(seconds)
        let measured = ck_measure_fma_flops(seconds)
        return MachinePeak(cores: cores, lanes: lanes, clockHz: clock,
                           flopsPerSecond: measured > 0 ? measured : Double(cores * 2 * lanes * 2) * clock)
    }

    public var summary: String {
        String(format: "%d cores x %d lanes x 2 FLOP x %.2f GHz x %.2f FMA per cycle (measured) = %.1f GFLOP/s",
               cores, lanes, clockHz / 1e9, fmaPerCycle, flopsPerSecond / 1e9)
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
