import Foundation

/// One trial's `train` child: its own process group (the terminal's Ctrl-C reaches `tune` alone,
/// which then asks each trial once to save and stop), its output in the trial's `train.log`, and
/// `setpriv --pdeathsig INT` so that a `tune` killed outright still makes every trial save its
/// resume point and end, leaving no process behind.
final class TrialProcess {
    let pid: pid_t
    private(set) var exitStatus: Int32?
    private(set) var signalled = false

    /// Starts `arguments` (the executable first) in `directory`, standard output and error into `logPath`.
    init(arguments: [String], environment: [String: String], logPath: String) throws {
        let wrapped = FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv")
            ? ["/usr/bin/setpriv", "--pdeathsig", "INT", "--"] + arguments : arguments
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, logPath, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for s in [SIGINT, SIGTERM, SIGUSR1, SIGPIPE] { sigaddset(&defaults, s) }
        var unblocked = sigset_t()
        sigemptyset(&unblocked)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setsigmask(&attributes, &unblocked)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))
        let argv = wrapped.map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { (argv + envp).forEach { free($0) } }
        var child: pid_t = 0
        let status = posix_spawn(&child, wrapped[0], &actions, &attributes, argv, envp)
        guard status == 0 else { throw TuneError("cannot start \(wrapped[0]): \(String(cString: strerror(status)))") }
        pid = child
    }

    /// Asks the trial to save and stop (train's Ctrl-C), once.
    func interrupt() {
        guard !signalled, exitStatus == nil else { return }
        signalled = true
        Glibc.kill(pid, SIGINT)
    }


    /// Reaps the child without waiting; its exit status once it has ended (128 + n for signal n).
    func poll() -> Int32? {
        if let exitStatus { return exitStatus }
        var status: Int32 = 0
        let r = waitpid(pid, &status, WNOHANG)
        guard r == pid else { return nil }
        let code = status & 0x7f == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        exitStatus = code
        return code
    }
}

struct TuneError: Error, CustomStringConvertible {
    let description: String
    init(_ message: String) { description = message }
}
