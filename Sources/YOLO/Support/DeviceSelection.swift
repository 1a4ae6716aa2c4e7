import CUDABackend
import Foundation
import TensorCore

/// Which device train, predict and get_map run on: `Cuda = True` (or `--device cuda[:N]`) asks for
/// a GPU. The CUDA libraries are opened at run time; where they or a GPU are missing, `Cuda = True`
/// falls back to the CPU with a warning that says why, while an explicit `--device cuda` is an
/// error. CUDA_VISIBLE_DEVICES is applied by the driver itself.
public enum DeviceSelection {
    /// `gpu` is the device Cuda = True picks (a DDP rank's: its local rank).
    public static func choose(cuda: Bool, gpu: Int = 0, requested: String? = nil, log: (String) -> Void) throws -> Device {
        let wanted: Device
        if let requested {
            wanted = try Device(parsing: requested)
        } else {
            wanted = cuda ? .cuda(gpu) : .cpu
        }
        guard case .cuda = wanted else { return .cpu }
        switch CUDA.install() {
        case .success:
            do {
                _ = try Backends.backend(for: wanted)
            } catch {
                if requested != nil { throw YOLOError("--device \(requested!): \(error)") }
                log("Warning: Cuda = True, but \(wanted) could not start: \(error). Running on the CPU.")
                return .cpu
            }
            log("Using \(wanted) (\(CUDA.librarySummary)).")
            return wanted
        case .failure(let error):
            if let requested { throw YOLOError("--device \(requested): \(error)") }
            log("Warning: Cuda = True, but \(error). Running on the CPU.")
            return .cpu
        }
    }

    /// An out-of-memory error from the GPU, retold with what to change.
    public static func explainOutOfMemory(_ error: Error, phase: String, batchSize: Int, key: String) -> Error {
        let text = "\(error)"
        guard text.contains("out of GPU memory") else { return error }
        return YOLOError("\(text)\nThis happened in the \(phase) phase at batch size \(batchSize): lower \(key) (halving it "
                         + "roughly halves the activations' memory; the learning rate is refitted to the batch size), or use "
                         + "a smaller input_shape or yolov4-tiny.")
    }
}
