import Foundation

/// Finds the backend of a device. The CPU backend is always present; a GPU backend registers
/// itself with a factory when its libraries load, so this module never links CUDA.
public enum Backends {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var factories: [String: (Int) throws -> Backend] = [:]
    nonisolated(unsafe) private static var instances: [Device: Backend] = [:]

    public static let cpu: Backend = CPUBackend()

    public static func register(kind: String, factory: @escaping (Int) throws -> Backend) {
        lock.lock(); defer { lock.unlock() }
        factories[kind] = factory
    }

    public static func backend(for device: Device) throws -> Backend {
        switch device {
        case .cpu:
            return cpu
        case .cuda(let index):
            lock.lock(); defer { lock.unlock() }
            if let existing = instances[device] { return existing }
            guard let factory = factories["cuda"] else {
                throw TensorError("device \(device) is not available: this build has no CUDA backend "
                                  + "loaded (use the CPU, or a build and machine with CUDA)")
            }
            let made = try factory(index)
            instances[device] = made
            return made
        }
    }
}
