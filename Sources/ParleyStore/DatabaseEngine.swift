public import SQLKit
public import ServiceLifecycle

/// The two SQL engines Parley runs on. Switch on this only in the few named places that differ.
public enum DatabaseDialect: String, Sendable {
    case sqlite
    case postgres
}

/// A connection source that runs reads and all-or-nothing transactions.
///
/// It is a `Service`: `run()` keeps its connections alive until graceful shutdown, and it is the
/// first service of the group.
public protocol DatabaseEngine: Service {
    var dialect: DatabaseDialect { get }

    /// Runs `body` with a connection for reads (and single-statement writes).
    func read<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T

    /// Runs `body` in one transaction: it commits when `body` returns and rolls back when it throws.
    func transaction<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T

    /// Closes the connections. Called once, after the last use.
    func shutdown() async throws
}
