public import Foundation

/// A token bucket: `capacity` requests at once, refilled at `capacity / period`. Pure.
public struct TokenBucket: Sendable, Equatable {
    public let capacity: Double
    public let refillPerSecond: Double
    public private(set) var tokens: Double
    public private(set) var updatedAt: Date

    public init(capacity: Int, per period: TimeInterval, now: Date) {
        self.capacity = Double(capacity)
        self.refillPerSecond = Double(capacity) / period
        self.tokens = Double(capacity)
        self.updatedAt = now
    }

    /// Takes one token at `now`; returns nil when allowed, else the whole seconds to wait.
    public mutating func take(now: Date) -> Int? {
        let elapsed = max(0, now.timeIntervalSince(self.updatedAt))
        self.tokens = min(self.capacity, self.tokens + elapsed * self.refillPerSecond)
        self.updatedAt = now
        if self.tokens >= 1 {
            self.tokens -= 1
            return nil
        }
        return max(1, Int(((1 - self.tokens) / self.refillPerSecond).rounded(.up)))
    }

    /// Whether the bucket is full again at `now` (so it can be forgotten).
    public func isFull(at now: Date) -> Bool {
        self.tokens + max(0, now.timeIntervalSince(self.updatedAt)) * self.refillPerSecond >= self.capacity
    }
}
