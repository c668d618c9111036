import Synchronization

/// A queue that one consumer drains in batches: producers append without waiting; the consumer
/// takes up to `maximum` items at once, waiting only when there are none. After `finish()`,
/// appends are refused and the consumer gets what is left, then nil.
public final class WorkQueue<Item: Sendable>: Sendable {
    private let state = Mutex<State>(State())

    struct State: ~Copyable {
        var items: [Item] = []
        var waiter: CheckedContinuation<Void, Never>?
        var finished = false
    }

    public init() {}

    /// Adds `items`; false (and nothing added) once finished.
    @discardableResult
    public func append(contentsOf items: [Item]) -> Bool {
        let (accepted, waiter) = self.state.withLock { state -> (Bool, CheckedContinuation<Void, Never>?) in
            guard !state.finished else { return (false, nil) }
            state.items.append(contentsOf: items)
            defer { state.waiter = nil }
            return (true, state.waiter)
        }
        waiter?.resume()
        return accepted
    }

    /// Refuses further items and wakes the consumer.
    public func finish() {
        let waiter = self.state.withLock { state in
            state.finished = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    /// The next batch (at most `maximum`), waiting while empty; nil once finished and drained.
    public func next(maximum: Int = .max) async -> [Item]? {
        while true {
            let batch = self.state.withLock { state -> [Item]?? in
                if !state.items.isEmpty {
                    let count = min(state.items.count, maximum)
                    defer { state.items.removeFirst(count) }
                    return .some(Array(state.items.prefix(count)))
                }
                return state.finished ? .some(nil) : .none
            }
            if let batch { return batch }
            await withCheckedContinuation { continuation in
                let resumeNow = self.state.withLock { state in
                    if !state.items.isEmpty || state.finished { return true }
                    state.waiter = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        }
    }
}
