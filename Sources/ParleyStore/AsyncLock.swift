/// A first-come, first-served async mutex: SQLite has one writer, and transactions on it must not
/// interleave.
public actor AsyncLock {
    private var isLocked = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    public init() {}

    public func lock() async {
        if !self.isLocked {
            self.isLocked = true
            return
        }
        await withCheckedContinuation { self.waiters.append($0) }
    }

    public func unlock() {
        if self.waiters.isEmpty {
            self.isLocked = false
        } else {
            self.waiters.removeFirst().resume()
        }
    }

    public func withLock<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
        await self.lock()
        do {
            let value = try await body()
            self.unlock()
            return value
        } catch {
            self.unlock()
            throw error
        }
    }
}
