public import Foundation

/// Failed sign-in attempts for one key (an email, or an IP address), and the lock they earn.
///
/// After `freeFailures` failures within `window`, every further failure locks the key for a period
/// that doubles each time, up to `maximumLock`. A success clears the record.
public struct LoginThrottle: Sendable, Equatable {
    /// Failures counted in the current window.
    public var failures: Int
    /// When the current window began.
    public var windowStart: Date
    /// No attempt is allowed before this.
    public var lockedUntil: Date?

    public static let freeFailures = 5
    public static let window: TimeInterval = 15 * 60
    public static let firstLock: TimeInterval = 30
    public static let maximumLock: TimeInterval = 15 * 60

    public init(failures: Int = 0, windowStart: Date, lockedUntil: Date? = nil) {
        self.failures = failures
        self.windowStart = windowStart
        self.lockedUntil = lockedUntil
    }

    /// Seconds to wait before an attempt is allowed at `now`, or nil when it is allowed.
    public func retryAfter(now: Date) -> Int? {
        guard let lockedUntil, lockedUntil > now else { return nil }
        return max(1, Int(lockedUntil.timeIntervalSince(now).rounded(.up)))
    }

    /// Records a failure at `now`, starting a new window when the old one has passed.
    public mutating func recordFailure(now: Date) {
        if now.timeIntervalSince(self.windowStart) > Self.window {
            self.failures = 0
            self.windowStart = now
            self.lockedUntil = nil
        }
        self.failures += 1
        let over = self.failures - Self.freeFailures
        if over >= 0 {
            let lock = min(Self.maximumLock, Self.firstLock * pow(2, Double(min(over, 16))))
            self.lockedUntil = now.addingTimeInterval(lock)
        }
    }
}
