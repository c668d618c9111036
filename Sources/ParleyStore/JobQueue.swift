public import Foundation
public import ParleyCore
import SQLKit

/// The job table. Any number of workers, in any number of instances, claim from it without two
/// of them ever running the same job at once: PostgreSQL claims with `FOR UPDATE SKIP LOCKED`,
/// SQLite through its single writer. A claim is a lease; a worker that dies loses it when the
/// lease runs out, and the job runs again.
public struct JobQueue: Sendable {
    let engine: any DatabaseEngine
    let now: @Sendable () -> Date

    /// Adds a job. With a `uniqueKey`, a job with the same key that is still pending makes this a
    /// no-op (returns nil): recurring work is queued once, and a running job may queue its successor.
    @discardableResult
    public func enqueue(
        kind: String, payload: String = "{}", runAt: Date? = nil, maxAttempts: Int = 5, uniqueKey: String? = nil
    ) async throws -> Job.ID? {
        let now = self.now()
        return try await self.engine.transaction { db in
            if let uniqueKey {
                let pending = try await db.raw(
                    "SELECT id FROM jobs WHERE unique_key = \(bind: uniqueKey) AND status = 'pending'"
                ).first()
                if pending != nil { return nil }
                try await db.raw("UPDATE jobs SET unique_key = NULL WHERE unique_key = \(bind: uniqueKey)").run()
            }
            return try await Self.insert(
                kind: kind, payload: payload, runAt: runAt ?? now, maxAttempts: maxAttempts, uniqueKey: uniqueKey,
                now: now, db: db)
        }
    }

    /// Adds a job inside the caller's transaction, so it exists exactly when what made it does.
    @discardableResult
    static func insert(
        kind: String, payload: String, runAt: Date? = nil, maxAttempts: Int = 3, uniqueKey: String? = nil, now: Date,
        db: any SQLDatabase
    ) async throws -> Job.ID {
        let id = Job.ID()
        try await db.raw(
            """
            INSERT INTO jobs (id, kind, payload, status, run_at, attempts, max_attempts, unique_key, created_at, updated_at)
            VALUES (\(bind: id.description), \(bind: kind), \(bind: payload), 'pending', \(bind: (runAt ?? now).millis), 0,
                \(bind: maxAttempts), \(bind: uniqueKey), \(bind: now.millis), \(bind: now.millis))
            """
        ).run()
        return id
    }

    /// Claims up to `limit` due jobs for `worker`, leasing each for `lease` seconds.
    public func claim(limit: Int, worker: String, lease: TimeInterval = 60) async throws -> [Job] {
        let now = self.now()
        let due: SQLQueryString = """
            SELECT id FROM jobs
            WHERE (status = 'pending' AND run_at <= \(bind: now.millis))
               OR (status = 'running' AND locked_until < \(bind: now.millis))
            ORDER BY run_at LIMIT \(bind: limit)
            """
        // The one dialect branch of the queue: PostgreSQL skips rows other claimers hold.
        let select: SQLQueryString = self.engine.dialect == .postgres ? due + " FOR UPDATE SKIP LOCKED" : due
        let rows = try await self.engine.transaction { db in
            try await db.raw(
                """
                UPDATE jobs SET status = 'running', attempts = attempts + 1, locked_by = \(bind: worker),
                    locked_until = \(bind: now.addingTimeInterval(lease).millis), updated_at = \(bind: now.millis)
                WHERE id IN (\(select))
                RETURNING id, kind, payload, attempts, max_attempts, run_at
                """
            ).all()
        }
        return try rows.map { row in
            guard let id = Job.ID(try row.string("id")) else { throw CorruptRowError(description: "job id") }
            return Job(
                id: id, kind: try row.string("kind"), payload: try row.string("payload"),
                attempts: Int(try row.int64("attempts")),
                maxAttempts: Int(try row.int64("max_attempts")), runAt: try row.date("run_at")
            )
        }.sorted { $0.runAt < $1.runAt }
    }

    /// Marks a job done, if `worker` still holds it.
    public func complete(_ job: Job, worker: String) async throws {
        let now = self.now()
        try await self.engine.transaction { db in
            try await db.raw(
                """
                UPDATE jobs SET status = 'done', locked_by = NULL, locked_until = NULL, updated_at = \(bind: now.millis)
                WHERE id = \(bind: job.id.description) AND locked_by = \(bind: worker)
                """
            ).run()
        }
    }

    /// Records a failure: the job runs again after a backoff, or fails for good after its last attempt.
    public func fail(_ job: Job, worker: String, error: String) async throws {
        let now = self.now()
        let final = job.attempts >= job.maxAttempts
        let runAt = now.addingTimeInterval(Job.retryDelay(afterAttempt: job.attempts))
        try await self.engine.transaction { db in
            try await db.raw(
                """
                UPDATE jobs SET status = \(bind: final ? "failed" : "pending"), run_at = \(bind: runAt.millis),
                    locked_by = NULL, locked_until = NULL, last_error = \(bind: String(error.prefix(2000))),
                    updated_at = \(bind: now.millis)
                WHERE id = \(bind: job.id.description) AND locked_by = \(bind: worker)
                """
            ).run()
        }
    }

    /// Counts of jobs by status, for the metrics and tests.
    public func counts() async throws -> [String: Int] {
        let rows = try await self.engine.read { db in
            try await db.raw("SELECT status, COUNT(*) AS n FROM jobs GROUP BY status").all()
        }
        return Dictionary(uniqueKeysWithValues: try rows.map { (try $0.string("status"), Int(try $0.int64("n"))) })
    }
}
