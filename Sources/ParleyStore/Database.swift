import Foundation
public import Logging
import SQLKit

/// Opens the engine a URL names.
public enum Databases {
    /// The engine for `url`. A PostgreSQL engine must be `run()` (as a service) before it answers.
    public static func open(_ url: DatabaseURL, logger: Logger) async throws -> any DatabaseEngine {
        switch url {
        case .sqlite(let path): try await SQLiteEngine.open(path: path, logger: logger)
        case .postgres(let location): PostgresEngine(location: location, logger: logger)
        }
    }

    /// Opens the engine, runs it for the length of `body` and shuts it down: for CLI commands
    /// that run outside the server's service group.
    public static func with<T: Sendable>(
        _ url: DatabaseURL, logger: Logger, _ body: @Sendable (any DatabaseEngine) async throws -> T
    ) async throws -> T {
        let engine = try await self.open(url, logger: logger)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await engine.run() }
            do {
                let value = try await body(engine)
                group.cancelAll()
                try await engine.shutdown()
                return value
            } catch {
                group.cancelAll()
                try? await engine.shutdown()
                throw error
            }
        }
    }
}

/// Conversions between domain values and column values, the same on both engines:
/// ids are lowercased UUID text, times are milliseconds since 1970 (BIGINT).
extension Date {
    var millis: Int64 { Int64((self.timeIntervalSince1970 * 1000).rounded(.down)) }
    init(millis: Int64) { self.init(timeIntervalSince1970: Double(millis) / 1000) }
}

extension SQLDatabase {
    /// The engine this connection speaks to, for the few named dialect branches.
    var parleyDialect: DatabaseDialect { self.dialect.name == "postgresql" ? .postgres : .sqlite }
}

extension SQLRow {
    func string(_ column: String) throws -> String { try self.decode(column: column, as: String.self) }
    func optionalString(_ column: String) throws -> String? { try self.decode(column: column, as: String?.self) }
    func int64(_ column: String) throws -> Int64 { try self.decode(column: column, as: Int64.self) }
    func optionalInt64(_ column: String) throws -> Int64? { try self.decode(column: column, as: Int64?.self) }
    func bool(_ column: String) throws -> Bool { try self.decode(column: column, as: Bool.self) }
    func optionalBool(_ column: String) throws -> Bool? { try self.decode(column: column, as: Bool?.self) }
    func optionalDouble(_ column: String) throws -> Double? { try self.decode(column: column, as: Double?.self) }
    func date(_ column: String) throws -> Date { Date(millis: try self.int64(column)) }
    func optionalDate(_ column: String) throws -> Date? { try self.optionalInt64(column).map(Date.init(millis:)) }
}

/// A stored value that could not be read back; a bug or a hand-edited database.
struct CorruptRowError: Error, CustomStringConvertible {
    var description: String
}
