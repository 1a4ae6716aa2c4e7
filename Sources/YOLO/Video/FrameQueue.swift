import Foundation

/// A bounded first-in first-out hand-over between two threads (decoder -> detector -> encoder):
/// `put` waits while it is full, `take` while it is empty; `close` ends it, with an error if the
/// producer failed, and wakes both sides.
final class FrameQueue<Element>: @unchecked Sendable {
    private var items: [Element] = []
    private let capacity: Int
    private let condition = NSCondition()
    private var closed = false
    private(set) var failure: Error?

    init(capacity: Int) { self.capacity = max(capacity, 1) }

    /// False when the queue was closed (the consumer stopped): the producer should stop too.
    @discardableResult
    func put(_ item: Element) -> Bool {
        condition.lock(); defer { condition.unlock() }
        while items.count >= capacity && !closed { condition.wait() }
        guard !closed else { return false }
        items.append(item)
        condition.broadcast()
        return true
    }

    /// The next item; nil once the queue is closed and empty.
    func take() -> Element? {
        condition.lock(); defer { condition.unlock() }
        while items.isEmpty && !closed { condition.wait() }
        guard !items.isEmpty else { return nil }
        let item = items.removeFirst()
        condition.broadcast()
        return item
    }

    func close(failure: Error? = nil) {
        condition.lock(); defer { condition.unlock() }
        if self.failure == nil { self.failure = failure }
        closed = true
        condition.broadcast()
    }
}
