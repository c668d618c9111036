import Foundation
import ParleyCore
import SQLKit

/// Failed sign-ins per key (`email:…`, `ip:…`), shared by every instance through the database.
public struct LoginThrottleStore: Sendable {
    let engine: any DatabaseEngine
    let now: @Sendable () -> Date

    /// Seconds until `keys` may try again (the longest wait of any), or nil.
    public func retryAfter(_ keys: [String]) async throws -> Int? {
        let now = self.now()
        var wait: Int?
        for key in keys {
            if let seconds = try await self.load(key)?.retryAfter(now: now) { wait = max(wait ?? 0, seconds) }
        }
        return wait
    }

    public func recordFailure(_ keys: [String]) async throws {
        let now = self.now()
        for key in keys {
            try await self.engine.transaction { db in
                let row = try await db.raw("SELECT * FROM login_throttles WHERE throttle_key = \(bind: key)").first()
                var throttle = try row.map(Self.decode) ?? LoginThrottle(windowStart: now)
                throttle.recordFailure(now: now)
                try await db.raw(
                    """
                    INSERT INTO login_throttles (throttle_key, failures, window_start, locked_until)
                    VALUES (\(bind: key), \(bind: throttle.failures), \(bind: throttle.windowStart.millis), \(bind: throttle.lockedUntil?.millis))
                    ON CONFLICT (throttle_key) DO UPDATE SET failures = excluded.failures,
                        window_start = excluded.window_start, locked_until = excluded.locked_until
                    """
                ).run()
            }
        }
    }

    public func clear(_ keys: [String]) async throws {
        try await self.engine.transaction { db in
            for key in keys { try await db.raw("DELETE FROM login_throttles WHERE throttle_key = \(bind: key)").run() }
        }
    }

    /// Forgets records whose window and lock have both passed.
    public func deleteStale() async throws {
        let cutoff = self.now().addingTimeInterval(-LoginThrottle.window - LoginThrottle.maximumLock).millis
        try await self.engine.transaction { db in
            try await db.raw("DELETE FROM login_throttles WHERE window_start < \(bind: cutoff)").run()
        }
    }

    private func load(_ key: String) async throws -> LoginThrottle? {
        try await self.engine.read { db in
            try await db.raw("SELECT * FROM login_throttles WHERE throttle_key = \(bind: key)").first()
        }.map(Self.decode)
    }

    static func decode(_ row: any SQLRow) throws -> LoginThrottle {
        LoginThrottle(
            failures: Int(try row.int64("failures")), windowStart: try row.date("window_start"),
            lockedUntil: try row.optionalDate("locked_until")
        )
    }
}
