import Foundation

/// What the launcher told this process through its environment: Open MPI's mpirun sets
/// OMPI_COMM_WORLD_SIZE / _RANK / _LOCAL_RANK / _LOCAL_SIZE for every rank it starts.
public struct LaunchEnvironment: Equatable, Sendable {
    public var worldSize: Int
    public var rank: Int
    public var localRank: Int
    public var localSize: Int

    public static let single = LaunchEnvironment(worldSize: 1, rank: 0, localRank: 0, localSize: 1)

    public init(worldSize: Int, rank: Int, localRank: Int, localSize: Int) {
        self.worldSize = worldSize; self.rank = rank; self.localRank = localRank; self.localSize = localSize
    }

    /// nil when no launcher started this process.
    public static func detect(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> LaunchEnvironment? {
        func number(_ key: String) -> Int? { environment[key].flatMap { Int($0.trimmingCharacters(in: .whitespaces)) } }
        guard let size = number("OMPI_COMM_WORLD_SIZE"), let rank = number("OMPI_COMM_WORLD_RANK") else {
            if environment["PMI_SIZE"] != nil || environment["PMI_RANK"] != nil {
                return LaunchEnvironment(worldSize: number("PMI_SIZE") ?? 1, rank: number("PMI_RANK") ?? 0,
                                         localRank: 0, localSize: 1)
            }
            return nil
        }
        return LaunchEnvironment(worldSize: size, rank: rank, localRank: number("OMPI_COMM_WORLD_LOCAL_RANK") ?? 0,
                                 localSize: number("OMPI_COMM_WORLD_LOCAL_SIZE") ?? 1)
    }

}

/// Joining the job this process was launched into.
public enum World {
    /// The communicator for this process: MPI when a launcher started several ranks, otherwise a
    /// single process (no MPI library needed). `timeout` bounds how long any collective may wait
    /// for the other ranks before the whole job is ended.
    public static func join(environment: [String: String] = ProcessInfo.processInfo.environment,
                            timeout: Double) throws -> Communicator {
        guard let launch = LaunchEnvironment.detect(environment), launch.worldSize > 1 else { return SingleProcess() }
        if environment["OMPI_COMM_WORLD_SIZE"] == nil {
            throw DistributedError("this process was started by an MPI launcher other than Open MPI's (PMI_SIZE = "
                                   + "\(environment["PMI_SIZE"] ?? "?")); only Open MPI's mpirun is supported: apt-get install "
                                   + "openmpi-bin, then mpirun -np N train")
        }
        return try MPICommunicator(launch: launch, timeout: timeout)
    }
}
