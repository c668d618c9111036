public import Foundation
public import ParleyCore
import Synchronization

/// Per-key token buckets in this instance's memory (per IP, per visitor). Several instances each
/// keep their own, so the effective limit behind a load balancer is up to N times the setting.
public final class RateLimiter: Sendable {
    public let limit: Int
    public let period: TimeInterval
    private let buckets = Mutex<[String: TokenBucket]>([:])

    public init(limit: Int, per period: TimeInterval) {
        self.limit = limit
        self.period = period
    }

    /// Takes a token for `key`; throws `rateLimited` with the seconds to wait when there is none.
    public func take(_ key: String, now: Date = Date()) throws(DomainError) {
        let wait = self.buckets.withLock { buckets -> Int? in
            if buckets.count > 50_000 { buckets = buckets.filter { !$0.value.isFull(at: now) } }
            var bucket = buckets[key] ?? TokenBucket(capacity: self.limit, per: self.period, now: now)
            let wait = bucket.take(now: now)
            buckets[key] = bucket
            return wait
        }
        if let wait { throw .rateLimited(retryAfter: wait) }
    }
}
