import Foundation
public import Logging
public import SQLKit
import SQLiteKit
import SQLiteNIO
import NIOCore
import ServiceLifecycle
import Synchronization

/// SQLite in WAL mode with `synchronous=FULL`: one writer connection whose transactions are
/// serialised, and reader connections that run beside it. An in-memory database has one
/// connection for everything (each connection would otherwise see its own empty database).
public final class SQLiteEngine: DatabaseEngine {
    public let dialect = DatabaseDialect.sqlite
    private let writer: SQLiteConnection
    private let readers: [SQLiteConnection]
    private let writeLock = AsyncLock()
    private let closed = Mutex(false)
    private let next = Counter()
    private let logger: Logger

    /// Opens (creating when missing) the database at `path`, or an in-memory one for `:memory:`.
    public static func open(path: String, readers readerCount: Int = 2, logger: Logger) async throws -> SQLiteEngine {
        let isMemory = path == ":memory:"
        if !isMemory {
            let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        }
        let storage: SQLiteConnection.Storage = isMemory ? .memory : .file(path: path)
        let writer = try await SQLiteConnection.open(storage: storage, logger: logger)
        try await Self.configure(writer, isWriter: true, isMemory: isMemory)
        var readers: [SQLiteConnection] = []
        if !isMemory {
            for _ in 0..<readerCount {
                let reader = try await SQLiteConnection.open(storage: storage, logger: logger)
                try await Self.configure(reader, isWriter: false, isMemory: false)
                readers.append(reader)
            }
        }
        return SQLiteEngine(writer: writer, readers: readers, logger: logger)
    }

    private init(writer: SQLiteConnection, readers: [SQLiteConnection], logger: Logger) {
        self.writer = writer
        self.readers = readers
        self.logger = logger
    }

    private static func configure(_ connection: SQLiteConnection, isWriter: Bool, isMemory: Bool) async throws {
        let db = connection.sql(queryLogLevel: nil)
        try await db.raw("PRAGMA busy_timeout = 5000").run()
        try await db.raw("PRAGMA foreign_keys = ON").run()
        if !isMemory {
            if isWriter { try await db.raw("PRAGMA journal_mode = WAL").run() }
            try await db.raw("PRAGMA synchronous = FULL").run()
        }
    }

    public func read<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        guard !self.readers.isEmpty else {
            let writer = self.writer
            return try await self.writeLock.withLock { try await body(writer.sql(queryLogLevel: .trace)) }
        }
        let reader = self.readers[self.next.increment() % self.readers.count]
        return try await body(reader.sql(queryLogLevel: .trace))
    }

    public func transaction<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        let writer = self.writer
        return try await self.writeLock.withLock {
            let db = writer.sql(queryLogLevel: .trace)
            try await db.raw("BEGIN IMMEDIATE").run()
            do {
                let value = try await body(db)
                try await db.raw("COMMIT").run()
                return value
            } catch {
                // Rolled back even when the task was cancelled (a shutdown mid-job): the future-based
                // call runs whatever the task's state, so the writer never stays inside a transaction.
                let rollback: EventLoopFuture<Void> = db.raw("ROLLBACK").run()
                _ = try? await rollback.get()
                throw error
            }
        }
    }

    /// Runs until graceful shutdown, then closes the connections (services stop in reverse
    /// order, so nothing uses the database after this one).
    public func run() async throws {
        // Cancelled rather than shut down: whoever cancelled it (`Databases.with`) closes it.
        do { try await gracefulShutdown() } catch { return }
        try await self.shutdown()
    }

    /// Closes every connection, once (later calls do nothing).
    public func shutdown() async throws {
        guard
            self.closed.withLock({ closed in
                defer { closed = true }; return !closed
            })
        else { return }
        var failure: (any Error)?
        for connection in self.readers + [self.writer] {
            // The future-based close runs whatever the calling task's state (a cancelled task's
            // async close would leave the connection open, and SQLiteNIO traps on that).
            let closing: EventLoopFuture<Void> = connection.close()
            do { try await closing.get() } catch { failure = failure ?? error }
        }
        if let failure { throw failure }
    }
}

/// A thread-safe round-robin counter.
final class Counter: Sendable {
    private let value = Mutex<Int>(0)

    func increment() -> Int {
        self.value.withLock { value in
            value &+= 1
            return value & Int.max
        }
    }
}
