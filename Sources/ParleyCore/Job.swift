public import Foundation

/// A unit of background work, claimed by one worker at a time from the job table.
public struct Job: Sendable, Hashable {
    public typealias ID = TypedID<Job>

    public var id: ID
    /// What to do; a runner has one handler per kind.
    public var kind: String
    /// The handler's input, JSON.
    public var payload: String
    /// How many times it has been claimed, this one included.
    public var attempts: Int
    public var maxAttempts: Int
    public var runAt: Date

    public init(id: ID, kind: String, payload: String, attempts: Int, maxAttempts: Int, runAt: Date) {
        self.id = id
        self.kind = kind
        self.payload = payload
        self.attempts = attempts
        self.maxAttempts = maxAttempts
        self.runAt = runAt
    }

    /// When a job that failed its `attempts`-th try runs again: exponential backoff, capped at an hour.
    public static func retryDelay(afterAttempt attempts: Int) -> TimeInterval {
        min(3600, 5 * pow(2, Double(max(0, attempts - 1))))
    }
}
