import Foundation
import XCTest
@testable import CUDABackend
import TensorCore

/// The repository's `.cuda/lib` (where scripts/setup.sh unpacks NVRTC from PyPI) joins the search
/// unless YOLO_CUDA_LIBRARY_PATH already names folders.
func useRepositoryCUDAFolder() {
    guard ProcessInfo.processInfo.environment[CUDA.libraryPathVariable] == nil else { return }
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    setenv(CUDA.libraryPathVariable, root.appendingPathComponent(".cuda/lib").path, 1)
}

/// Needs NVRTC only, not a GPU: CI catches a kernel that does not compile.
final class KernelCompileTests: XCTestCase {
    func testEveryKernelCompilesForEachGPUGeneration() throws {
        useRepositoryCUDAFolder()
        guard let version = CUDA.nvrtcVersion() else {
            throw XCTSkip("NVRTC not found (scripts/setup.sh puts it in .cuda/lib, or set \(CUDA.libraryPathVariable)): "
                          + "kernel compilation was not checked")
        }
        print("NVRTC \(version.0).\(version.1)")
        // Volta, Ampere, Ada, Hopper.
        for architecture in ["compute_70", "compute_80", "compute_89", "compute_90"] {
            let ptx = try CUDA.compileKernels(architecture: architecture)
            for name in CUDA.kernelNames {
                XCTAssertTrue(ptx.contains(".entry \(name)("), "\(name) missing from the PTX for \(architecture)")
            }
        }
    }

    func testACompileErrorComesBackWithTheCompilerLog() throws {
        useRepositoryCUDAFolder()
        guard CUDA.nvrtcVersion() != nil else { throw XCTSkip("NVRTC not found") }
        XCTAssertThrowsError(try KernelCompiler.compile("extern \"C\" __global__ void broken() { undeclared_name = 1; }",
                                                        name: "broken.cu", architecture: "compute_80")) { error in
            XCTAssertTrue("\(error)".contains("NVRTC could not compile broken.cu"), "\(error)")
            XCTAssertTrue("\(error)".contains("undeclared_name"), "\(error)")
        }
    }

    func testMissingLibrariesAreNamedWithWhereTheyWereSought() throws {
        // Without a GPU driver the message names the library and the folders; with one, install succeeds.
        switch CUDA.install() {
        case .success(let count): XCTAssertGreaterThan(count, 0)
        case .failure(let error):
            let text = "\(error)"
            XCTAssertTrue(text.hasPrefix("CUDA is not usable") || text.contains("no GPU is visible"), text)
            if text.contains("was not found") { XCTAssertTrue(text.contains("LD_LIBRARY_PATH"), text) }
            XCTAssertThrowsError(try Tensor.zeros([2], device: .cuda(0)))
        }
    }
}
