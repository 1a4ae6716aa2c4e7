import Foundation

/// Ctrl-C / SIGTERM during training: the handler only raises a flag; the trainer checks it between
/// steps, saves, and exits cleanly. A second Ctrl-C exits at once.
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
    }

    /// For tests: pretend a signal arrived, or clear it.
    public static func set(_ on: Bool) { flag = on ? 1 : 0 }
}
