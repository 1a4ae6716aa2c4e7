/// Whether operations record the graph. Off inside `withNoGrad` (evaluation, optimizer
/// updates); per task/thread, so loader workers never see another thread's setting.
public enum GradMode {
    @TaskLocal static var enabled = true

    public static var isEnabled: Bool { enabled }
}

/// Runs body without recording operations for autograd.
public func withNoGrad<T>(_ body: () throws -> T) rethrows -> T {
    try GradMode.$enabled.withValue(false) { try body() }
}
