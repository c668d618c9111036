public import Foundation
import Logging
public import ParleyStore
import SQLKit
import Synchronization

/// The engines the store and API suites run on: SQLite always; PostgreSQL when
/// `PARLEY_TEST_POSTGRES_URL` is set (scripts/test sets it). With
/// `PARLEY_TEST_REQUIRE_POSTGRES=1` a missing URL is an error rather than a silent skip.
public enum TestDatabase: String, Sendable, CaseIterable, CustomStringConvertible {
    case sqlite
    case postgres

    public var description: String { self.rawValue }

    public static var postgresURL: String? { ProcessInfo.processInfo.environment["PARLEY_TEST_POSTGRES_URL"] }

    /// Every engine available to this run.
    public static var all: [TestDatabase] {
        if Self.postgresURL != nil { return [.sqlite, .postgres] }
        precondition(
            ProcessInfo.processInfo.environment["PARLEY_TEST_REQUIRE_POSTGRES"] != "1",
            "PARLEY_TEST_REQUIRE_POSTGRES=1 but PARLEY_TEST_POSTGRES_URL is not set")
        return [.sqlite]
    }

    /// Runs `body` with a fresh, migrated database of this engine, removed afterwards: SQLite in
    /// memory, PostgreSQL in a schema of its own.
    public func withEngine<T: Sendable>(
        file: String? = nil, _ body: @Sendable (any DatabaseEngine) async throws -> T
    ) async throws -> T {
        let logger = {
            var logger = Logger(label: "parley.test.database")
            logger.logLevel = .warning
            return logger
        }()
        switch self {
        case .sqlite:
            let url = DatabaseURL.sqlite(path: file ?? ":memory:")
            return try await Databases.with(url, logger: logger) { engine in
                try await Migrator.migrate(engine, logger: logger)
                return try await body(engine)
            }
        case .postgres:
            guard let text = Self.postgresURL, case .postgres(var location) = try DatabaseURL(parsing: text) else {
                fatalError("PARLEY_TEST_POSTGRES_URL is not a postgres:// URL")
            }
            let schema = "t_" + Secrets.randomString(12).lowercased()
            location.schema = schema
            let engine = PostgresEngine(location: location, maximumConnections: 12, logger: logger)
            return try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await engine.run() }
                defer { group.cancelAll() }
                do {
                    try await Migrator.migrate(engine, logger: logger)
                    let value = try await body(engine)
                    try await Self.drop(schema, engine)
                    return value
                } catch {
                    try? await Self.drop(schema, engine)
                    throw error
                }
            }
        }
    }

    /// PostgreSQL only: `count` separate engines (separate connection pools, as separate
    /// instances would have) on one fresh schema.
    public static func withPostgresEngines<T: Sendable>(
        _ count: Int, _ body: @Sendable ([any DatabaseEngine]) async throws -> T
    ) async throws -> T {
        try await TestDatabase.postgres.withEngine { first in
            guard let first = first as? PostgresEngine, let text = Self.postgresURL,
                case .postgres(var location) = try DatabaseURL(parsing: text)
            else { fatalError("needs PostgreSQL") }
            location.schema = first.schema
            let others = (1..<count).map { _ in
                PostgresEngine(location: location, maximumConnections: 12, logger: Logger(label: "parley.test"))
            }
            return try await withThrowingTaskGroup(of: Void.self) { group in
                for engine in others { group.addTask { try await engine.run() } }
                defer { group.cancelAll() }
                return try await body([first] + others)
            }
        }
    }

    private static func drop(_ schema: String, _ engine: any DatabaseEngine) async throws {
        try await engine.transaction { db in try await db.raw("DROP SCHEMA \(ident: schema) CASCADE").run() }
    }
}

/// A clock that tests set and advance.
public final class TestClock: Sendable {
    private let current: Mutex<Date>

    public init(_ start: Date = Date(timeIntervalSince1970: 1_800_000_000)) { self.current = Mutex(start) }

    public var now: Date { self.current.withLock { $0 } }

    public func advance(by seconds: TimeInterval) { self.current.withLock { $0 = $0.addingTimeInterval(seconds) } }

    /// The closure stores take.
    public var function: @Sendable () -> Date { { self.now } }
}
