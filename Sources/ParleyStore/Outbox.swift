public import Foundation
public import ParleyCore
import SQLKit
import Synchronization

/// The transactional outbox: every side effect that leaves the process (a webhook delivery, an
/// email) is a row written in the transaction of the change that causes it, with a
/// deduplication key so that one cause never yields two deliveries. Workers claim due rows
/// (`FOR UPDATE SKIP LOCKED` on PostgreSQL, so instances share them; SQLite's single writer), in
/// order per `orderKey` (a row waits while an earlier one of its key is still pending), retry with
/// exponential backoff and jitter, and after the retry budget leave the row `dead`, where admins
/// see it, retry it or discard it. A claim is a lease: a worker killed mid-delivery loses it when
/// the lease runs out, and the row is delivered again with the same id (at least once).
public struct Outbox: Sendable {
    let engine: any DatabaseEngine
    let now: @Sendable () -> Date

    /// What a row asks for.
    public enum Kind: String, Sendable, Codable {
        case webhook
        case email
    }

    public enum Status: String, Sendable, Codable {
        case pending
        case running
        case delivered
        case dead
    }

    /// A row as written with its change.
    public struct NewItem: Sendable {
        public var id: String
        public var organizationID: Organization.ID
        public var kind: Kind
        public var targetID: String?
        public var eventType: String
        public var orderKey: String
        public var dedupeKey: String
        public var payload: String
        /// Not sent before then (a chat's email waits to see whether the visitor reads it first).
        public var notBefore: Date?

        public init(
            id: String = Outbox.newID(), organizationID: Organization.ID, kind: Kind, targetID: String?,
            eventType: String, orderKey: String, dedupeKey: String, payload: String, notBefore: Date? = nil
        ) {
            self.id = id
            self.organizationID = organizationID
            self.kind = kind
            self.targetID = targetID
            self.eventType = eventType
            self.orderKey = orderKey
            self.dedupeKey = dedupeKey
            self.payload = payload
            self.notBefore = notBefore
        }
    }

    /// A row.
    public struct Item: Sendable, Hashable {
        public var id: String
        public var position: Int64
        public var organizationID: Organization.ID
        public var kind: Kind
        public var targetID: String?
        public var eventType: String
        public var orderKey: String
        public var payload: String
        public var status: Status
        public var attempts: Int
        public var nextAttemptAt: Date
        public var lastStatus: Int?
        public var lastLatencyMilliseconds: Int?
        public var lastError: String?
        public var responseExcerpt: String?
        public var createdAt: Date
        public var updatedAt: Date
        public var lastAttemptAt: Date?
        public var deliveredAt: Date?
    }

    /// How one attempt went.
    public struct Attempt: Sendable {
        public var status: Int?
        public var latencyMilliseconds: Int?
        public var error: String?
        /// At most 1 KB of the answer.
        public var excerpt: String?

        public init(status: Int?, latencyMilliseconds: Int?, error: String?, excerpt: String?) {
            self.status = status
            self.latencyMilliseconds = latencyMilliseconds
            self.error = error.map { String($0.prefix(1000)) }
            self.excerpt = excerpt.map { Self.cut($0, bytes: 1024) }
        }

        static func cut(_ text: String, bytes: Int) -> String {
            var out = ""
            var size = 0
            for character in text {
                size += character.utf8.count
                if size > bytes { break }
                out.append(character)
            }
            return out
        }
    }

    /// How retries are spread: the first after `base`, each next one twice as late (±20%
    /// jitter), at most an hour apart; after `budget` (from the first attempt or an admin's
    /// retry) the row is dead.
    public struct RetryPolicy: Sendable {
        public var base: TimeInterval
        public var budget: TimeInterval

        public init(base: TimeInterval = 5, budget: TimeInterval = 24 * 3600) {
            self.base = base
            self.budget = budget
        }

        /// The delay after the `attempt`th failed attempt, given a random `jitter` in 0...1.
        public func delay(afterAttempt attempt: Int, jitter: Double) -> TimeInterval {
            let exponential = self.base * pow(2, Double(max(0, min(attempt - 1, 30))))
            return min(exponential, 3600) * (0.8 + 0.4 * jitter)
        }
    }

    /// How long a claim lasts: a delivery's whole time (10 s) and some.
    public static let lease: TimeInterval = 30

    public static func newID() -> String { "msg_" + Secrets.randomString(24) }

    /// Rung when rows are written, so that the worker wakes after a commit that wrote some (and
    /// only then: most commits write none, and a claim is a write).
    public static let doorbell = Doorbell()

    /// A flag that says "rows were written since you last looked".
    public final class Doorbell: Sendable {
        private let rung = Atomic<Bool>(false)

        func ring() { self.rung.store(true, ordering: .releasing) }

        /// Whether it rang since the last call.
        public func answer() -> Bool { self.rung.exchange(false, ordering: .acquiringAndReleasing) }
    }

    // MARK: Writing (inside the change's transaction)

    /// Adds rows in the caller's transaction; a row whose deduplication key exists is skipped.
    static func insert(_ items: [NewItem], now: Date, db: any SQLDatabase) async throws {
        if !items.isEmpty { Self.doorbell.ring() }
        for item in items {
            try await db.raw(
                """
                INSERT INTO outbox (id, organization_id, kind, target_id, event_type, order_key, dedupe_key, payload,
                    status, attempts, next_attempt_at, created_at, updated_at, retry_from)
                VALUES (\(bind: item.id), \(bind: item.organizationID.description), \(bind: item.kind.rawValue),
                    \(bind: item.targetID), \(bind: item.eventType), \(bind: item.orderKey), \(bind: item.dedupeKey),
                    \(bind: item.payload), 'pending', 0, \(bind: max(now, item.notBefore ?? now).millis), \(bind: now.millis), \(bind: now.millis),
                    \(bind: now.millis))
                ON CONFLICT (dedupe_key) DO NOTHING
                """
            ).run()
        }
    }

    // MARK: Working

    /// Claims up to `limit` due rows for `worker`: pending and due, or running with a lapsed
    /// lease, and first of their order key among the rows not yet delivered or dead.
    public func claim(limit: Int, worker: String) async throws -> [Item] {
        let now = self.now()
        let due: SQLQueryString = """
            SELECT o.position FROM outbox o
            WHERE ((o.status = 'pending' AND o.next_attempt_at <= \(bind: now.millis))
                OR (o.status = 'running' AND o.locked_until < \(bind: now.millis)))
              AND NOT EXISTS (SELECT 1 FROM outbox e WHERE e.order_key = o.order_key AND e.position < o.position
                AND e.status IN ('pending', 'running'))
            ORDER BY o.position LIMIT \(bind: limit)
            """
        // The one dialect branch: PostgreSQL skips rows other claimers hold.
        let select: SQLQueryString = self.engine.dialect == .postgres ? due + " FOR UPDATE OF o SKIP LOCKED" : due
        let rows = try await self.engine.transaction { db in
            try await db.raw(
                """
                UPDATE outbox SET status = 'running', attempts = attempts + 1, locked_by = \(bind: worker),
                    locked_until = \(bind: now.addingTimeInterval(Self.lease).millis), updated_at = \(bind: now.millis),
                    last_attempt_at = \(bind: now.millis)
                WHERE position IN (\(select))
                RETURNING *
                """
            ).all()
        }
        return try rows.map(Self.decode).sorted { $0.position < $1.position }
    }

    /// Records a successful delivery, if `worker` still holds the row.
    public func delivered(_ item: Item, worker: String, attempt: Attempt) async throws {
        let now = self.now()
        try await self.engine.transaction { db in
            try await db.raw(
                """
                UPDATE outbox SET status = 'delivered', locked_by = NULL, locked_until = NULL,
                    last_status = \(bind: attempt.status), last_latency_ms = \(bind: attempt.latencyMilliseconds),
                    last_error = NULL, response_excerpt = \(bind: attempt.excerpt), delivered_at = \(bind: now.millis),
                    updated_at = \(bind: now.millis)
                WHERE id = \(bind: item.id) AND locked_by = \(bind: worker)
                """
            ).run()
        }
    }

    /// Records a failed attempt: the row is tried again after a backoff, or is dead once the
    /// retry budget is spent. Returns the status it is left in.
    @discardableResult
    public func failed(
        _ item: Item, worker: String, attempt: Attempt, policy: RetryPolicy, jitter: Double = .random(in: 0...1)
    ) async throws -> Status {
        let now = self.now()
        return try await self.engine.transaction { db in
            guard
                let row = try await db.raw(
                    "SELECT retry_from FROM outbox WHERE id = \(bind: item.id) AND locked_by = \(bind: worker)"
                ).first()
            else { return .running }
            let retryFrom = try row.date("retry_from")
            let deadline = retryFrom.addingTimeInterval(policy.budget)
            let next = now.addingTimeInterval(policy.delay(afterAttempt: item.attempts, jitter: jitter))
            let status: Status = now >= deadline ? .dead : .pending
            try await db.raw(
                """
                UPDATE outbox SET status = \(bind: status.rawValue), locked_by = NULL, locked_until = NULL,
                    next_attempt_at = \(bind: min(next, deadline).millis), last_status = \(bind: attempt.status),
                    last_latency_ms = \(bind: attempt.latencyMilliseconds), last_error = \(bind: attempt.error),
                    response_excerpt = \(bind: attempt.excerpt), updated_at = \(bind: now.millis)
                WHERE id = \(bind: item.id) AND locked_by = \(bind: worker)
                """
            ).run()
            return status
        }
    }

    /// Puts a row back for later without counting an attempt (its endpoint is paused).
    public func postpone(_ item: Item, worker: String, until date: Date) async throws {
        let now = self.now()
        try await self.engine.transaction { db in
            try await db.raw(
                """
                UPDATE outbox SET status = 'pending', attempts = attempts - 1, locked_by = NULL, locked_until = NULL,
                    next_attempt_at = \(bind: date.millis), updated_at = \(bind: now.millis)
                WHERE id = \(bind: item.id) AND locked_by = \(bind: worker)
                """
            ).run()
        }
    }

    /// On a single instance (SQLite) at start: claims left by a killed process are released at
    /// once rather than when their lease runs out.
    public func releaseClaims() async throws {
        try await self.engine.transaction { db in
            try await db.raw(
                "UPDATE outbox SET status = 'pending', locked_by = NULL, locked_until = NULL WHERE status = 'running'"
            ).run()
        }
    }

    /// When the next row falls due (nil: nothing is waiting), so a worker sleeps until then.
    public func nextDue() async throws -> Date? {
        let row = try await self.engine.read { db in
            try await db.raw(
                "SELECT MIN(next_attempt_at) AS due FROM outbox WHERE status = 'pending'"
            ).first()
        }
        return try row?.optionalDate("due")
    }

    // MARK: Admins

    /// The organization's rows, newest first, optionally of one status or target.
    public func list(
        in organizationID: Organization.ID, status: Status? = nil, target: String? = nil, page: PageRequest
    ) async throws -> Page<Item> {
        let rows = try await self.engine.read { db in
            var query: SQLQueryString =
                "SELECT * FROM outbox WHERE organization_id = \(bind: organizationID.description)"
            if let status { query = query + " AND status = \(bind: status.rawValue)" }
            if let target { query = query + " AND target_id = \(bind: target)" }
            if let cursor = page.cursor { query = query + " AND position < \(bind: cursor.sortKey)" }
            return try await db.raw(query + " ORDER BY position DESC LIMIT \(bind: page.limit + 1)").all()
        }
        return Page(fetched: try rows.map(Self.decode), limit: page.limit) {
            PageCursor(sortKey: $0.position, id: $0.id)
        }
    }

    public func item(_ id: String, in organizationID: Organization.ID) async throws -> Item {
        let row = try await self.engine.read { db in
            try await db.raw(
                "SELECT * FROM outbox WHERE id = \(bind: id) AND organization_id = \(bind: organizationID.description)"
            ).first()
        }
        guard let row else { throw DomainError.notFound(entity: "delivery") }
        return try Self.decode(row)
    }

    /// Sends a row again, now, with a fresh retry budget and the same id (a dead letter, or a
    /// delivery an admin wants repeated). A row being delivered right now is left alone (409).
    public func retry(_ id: String, in organizationID: Organization.ID) async throws -> Item {
        let now = self.now()
        let changed = try await self.engine.transaction { db in
            try await db.raw(
                """
                UPDATE outbox SET status = 'pending', next_attempt_at = \(bind: now.millis), retry_from = \(bind: now.millis),
                    updated_at = \(bind: now.millis)
                WHERE id = \(bind: id) AND organization_id = \(bind: organizationID.description) AND status <> 'running'
                RETURNING id
                """
            ).all()
        }
        let item = try await self.item(id, in: organizationID)
        guard !changed.isEmpty else { throw DomainError.conflict("This delivery is being sent right now.") }
        return item
    }

    /// Removes a row that is not being sent (a dead letter an admin gives up on).
    public func discard(_ id: String, in organizationID: Organization.ID) async throws {
        _ = try await self.item(id, in: organizationID)
        let removed = try await self.engine.transaction { db in
            try await db.raw(
                """
                DELETE FROM outbox WHERE id = \(bind: id) AND organization_id = \(bind: organizationID.description)
                    AND status <> 'running' RETURNING id
                """
            ).all()
        }
        guard !removed.isEmpty else { throw DomainError.conflict("This delivery is being sent right now.") }
    }

    /// Counts by status (metrics, tests).
    public func counts() async throws -> [String: Int] {
        let rows = try await self.engine.read { db in
            try await db.raw("SELECT status, COUNT(*) AS n FROM outbox GROUP BY status").all()
        }
        return Dictionary(uniqueKeysWithValues: try rows.map { (try $0.string("status"), Int(try $0.int64("n"))) })
    }

    static func decode(_ row: any SQLRow) throws -> Item {
        guard let organization = Organization.ID(try row.string("organization_id")),
            let kind = Kind(rawValue: try row.string("kind")), let status = Status(rawValue: try row.string("status"))
        else { throw CorruptRowError(description: "outbox row") }
        return Item(
            id: try row.string("id"), position: try row.int64("position"), organizationID: organization, kind: kind,
            targetID: try row.optionalString("target_id"), eventType: try row.string("event_type"),
            orderKey: try row.string("order_key"), payload: try row.string("payload"), status: status,
            attempts: Int(try row.int64("attempts")), nextAttemptAt: try row.date("next_attempt_at"),
            lastStatus: try row.optionalInt64("last_status").map(Int.init),
            lastLatencyMilliseconds: try row.optionalInt64("last_latency_ms").map(Int.init),
            lastError: try row.optionalString("last_error"),
            responseExcerpt: try row.optionalString("response_excerpt"),
            createdAt: try row.date("created_at"), updatedAt: try row.date("updated_at"),
            lastAttemptAt: try row.optionalDate("last_attempt_at"), deliveredAt: try row.optionalDate("delivered_at"))
    }
}
