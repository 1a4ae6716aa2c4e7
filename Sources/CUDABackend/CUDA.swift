import CCUDA
import Foundation
import TensorCore

/// Entry point of the GPU backend: opens the CUDA libraries at run time and registers the
/// backend with the tensor core. Nothing here is needed to build or to run on the CPU.
public enum CUDA {
    /// The environment variable naming extra folders (':'-separated) searched first for the libraries.
    public static let libraryPathVariable = "YOLO_CUDA_LIBRARY_PATH"

    nonisolated(unsafe) private static var loadOutcome: Result<Int, TensorError>?
    private static let lock = NSLock()

    static var searchFolders: String? { ProcessInfo.processInfo.environment[libraryPathVariable] }

    /// Loads the libraries once and registers the backend. Returns the number of GPUs, or the
    /// message saying what was missing (the CPU stays usable either way).
    @discardableResult
    public static func install() -> Result<Int, TensorError> {
        lock.lock(); defer { lock.unlock() }
        if let loadOutcome { return loadOutcome }
        let outcome: Result<Int, TensorError>
        if ccu_load_all(searchFolders) != 0 {
            outcome = .failure(TensorError("CUDA is not usable: " + String(cString: ccu_last_error())))
        } else {
            var count: Int32 = 0
            if ccu_device_count(&count) != 0 {
                outcome = .failure(TensorError("CUDA is not usable: " + String(cString: ccu_last_error())))
            } else if count == 0 {
                outcome = .failure(TensorError("CUDA loaded, but no GPU is visible (CUDA_VISIBLE_DEVICES, nvidia-smi)"))
            } else {
                outcome = .success(Int(count))
                Backends.register(kind: "cuda") { index in
                    guard index < Int(count) else {
                        throw TensorError("device cuda:\(index) does not exist: \(count) GPU(s) visible (cuda:0 ... cuda:\(count - 1))")
                    }
                    return try CUDABackend(index: index)
                }
            }
        }
        loadOutcome = outcome
        return outcome
    }

    /// One line per library found, for logs.
    public static var librarySummary: String {
        ["driver", "nvrtc", "cublas", "cudnn"].map { "\($0): \(String(cString: ccu_library_path($0)))" }.joined(separator: ", ")
    }

    /// Compiles every kernel with NVRTC for `architecture` (e.g. "compute_90"), loading only NVRTC:
    /// this works on a machine without a GPU. Returns the PTX, or throws with the compiler's log.
    public static func compileKernels(architecture: String) throws -> String {
        guard ccu_load_nvrtc(searchFolders) == 0 else { throw TensorError(String(cString: ccu_last_error())) }
        return try KernelCompiler.compile(KernelSource.text, name: "yolo_kernels.cu", architecture: architecture)
    }

    /// The NVRTC version, when it loads.
    public static func nvrtcVersion() -> (Int, Int)? {
        guard ccu_load_nvrtc(searchFolders) == 0 else { return nil }
        var major: Int32 = 0, minor: Int32 = 0
        guard ccu_nvrtc_version(&major, &minor) == 0 else { return nil }
        return (Int(major), Int(minor))
    }

    /// The names of every kernel in the source, so callers can check a compiled module has them all.
    public static var kernelNames: [String] { KernelSource.names }
}

enum KernelCompiler {
    static func compile(_ source: String, name: String, architecture: String) throws -> String {
        var ptx: UnsafeMutablePointer<CChar>?
        var log: UnsafeMutablePointer<CChar>?
        defer { free(ptx); free(log) }
        let status = ccu_compile(source, name, architecture, &ptx, &log)
        let logText = log.map { String(cString: $0) } ?? ""
        guard status == 0, let ptx else {
            throw TensorError(String(cString: ccu_last_error()) + (logText.isEmpty ? "" : "\n" + logText))
        }
        return String(cString: ptx)
    }
}
