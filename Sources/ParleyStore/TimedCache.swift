import Synchronization

/// Values read often and changed rarely (an organization's settings), kept for `lifetime`:
/// another instance's change shows here within that time; a change made through the owning store
/// calls `forget` and shows at once.
final class TimedCache<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    private let entries = Mutex<[Key: (value: Value, expires: ContinuousClock.Instant)]>([:])
    let lifetime: Duration

    init(lifetime: Duration = .seconds(2)) { self.lifetime = lifetime }

    /// The cached value, or `load`'s (then kept).
    func value(_ key: Key, load: () async throws -> Value) async rethrows -> Value {
        let now = ContinuousClock.now
        if let entry = self.entries.withLock({ $0[key] }), entry.expires > now { return entry.value }
        let value = try await load()
        self.entries.withLock { $0[key] = (value, now + self.lifetime) }
        return value
    }

    func forget(_ key: Key) { _ = self.entries.withLock { $0.removeValue(forKey: key) } }
}
