import Foundation

/// Ctrl-C / SIGTERM during training: the handler only raises a flag; the trainer checks it between
/// steps, saves, and exits cleanly. A second Ctrl-C exits at once. SIGUSR1 raises the same flag
/// and nothing more: it is how a stop reaches the ranks of a DDP job (mpirun forwards SIGUSR1 to
/// every rank, while its own Ctrl-C handling kills them within about two seconds).
public enum Interruption {
    nonisolated(unsafe) private static var flag: sig_atomic_t = 0

    public static var requested: Bool { flag != 0 }

    public static func install() {
        let handler: @convention(c) (Int32) -> Void = { _ in
            if Interruption.flag != 0 { _exit(130) }
            Interruption.flag = 1
        }
        signal(SIGINT, handler)
        signal(SIGTERM, handler)
        signal(SIGUSR1, { _ in Interruption.flag = 1 })
    }

    /// For tests: pretend a signal arrived, or clear it.
    public static func set(_ on: Bool) { flag = on ? 1 : 0 }
}
