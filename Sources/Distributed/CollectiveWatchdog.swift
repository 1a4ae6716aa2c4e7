import Foundation

/// Ends this process when one collective has waited longer than `timeout`: the other ranks are
/// gone or stuck (a rank killed without the launcher noticing, a rank in an endless loop, ranks
/// calling collectives in a different order). Exiting without MPI_Finalize makes mpirun end every
/// other rank, so a job never hangs for longer than the timeout.
final class CollectiveWatchdog: @unchecked Sendable {
    let timeout: Double
    let rankName: String
    private let lock = NSLock()
    private var current: (what: String, since: Double, limit: Double)?
    /// The limit of the collectives entered from now on (`timeout` unless changed for a while).
    var limit: Double {
        get { lock.lock(); defer { lock.unlock() }; return currentLimit }
        set { lock.lock(); currentLimit = newValue; lock.unlock() }
    }
    private var currentLimit: Double
    private var stopped = false
    private var thread: Thread?

    init(timeout: Double, rankName: String) {
        self.timeout = timeout
        self.rankName = rankName
        currentLimit = timeout
        guard timeout > 0 else { return }
        let thread = Thread { [weak self] in self?.watch() }
        thread.name = "collective-watchdog"
        thread.start()
        self.thread = thread
    }

    private static func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }

    func enter(_ what: String) {
        lock.lock(); current = (what, Self.now(), currentLimit); lock.unlock()
    }

    func leave() {
        lock.lock(); current = nil; lock.unlock()
    }

    func stop() {
        lock.lock(); stopped = true; lock.unlock()
    }

    private func watch() {
        while true {
            Thread.sleep(forTimeInterval: min(1, timeout / 4))
            lock.lock()
            let (state, done) = (current, stopped)
            lock.unlock()
            if done { return }
            guard let state, Self.now() - state.since > state.limit else { continue }
            let message = "\(rankName): \(state.what) waited more than \(Int(state.limit)) s for the other ranks (one of them "
                + "stopped, hangs or runs other code); ending the job (the timeout is dist_timeout in the parameter file)\n"
            FileHandle.standardError.write(Data(message.utf8))
            _exit(75)
        }
    }
}
