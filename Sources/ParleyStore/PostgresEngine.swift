public import Logging
import NIOSSL
import PostgresKit
public import PostgresNIO
public import SQLKit
import ServiceLifecycle
import Synchronization

/// PostgreSQL through PostgresNIO's pooled client. `run()` drives the pool; queries wait for it.
public final class PostgresEngine: DatabaseEngine {
    public let dialect = DatabaseDialect.postgres
    public let client: PostgresClient
    /// The schema named in the URL, if any (set as `search_path` on every connection).
    public let schema: String?
    private let logger: Logger
    /// Queries wait until `run()` has started the pool (PostgresNIO warns about leases before).
    private let running = Mutex<(started: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    public init(location: DatabaseURL.PostgresLocation, maximumConnections: Int = 20, logger: Logger) {
        let tls: PostgresClient.Configuration.TLS
        switch location.tls {
        case .disable: tls = .disable
        case .prefer: tls = .prefer(.makeClientConfiguration())
        case .require: tls = .require(.makeClientConfiguration())
        }
        var configuration = PostgresClient.Configuration(
            host: location.host, port: location.port, username: location.username, password: location.password,
            database: location.database, tls: tls
        )
        configuration.options.maximumConnections = maximumConnections
        if let schema = location.schema {
            configuration.options.additionalStartupParameters = [("search_path", schema)]
        }
        self.client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        self.schema = location.schema
        self.logger = logger
    }

    func untilRunning() async {
        if self.running.withLock({ $0.started }) { return }
        await withCheckedContinuation { continuation in
            let resumeNow = self.running.withLock { state in
                if state.started { return true }
                state.waiters.append(continuation)
                return false
            }
            if resumeNow { continuation.resume() }
        }
        await Task.yield()
    }

    public func read<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        await self.untilRunning()
        return try await self.client.withConnection { connection in
            try await body(connection.sql(queryLogLevel: .trace))
        }
    }

    public func transaction<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        await self.untilRunning()
        do {
            return try await self.client.withTransaction(logger: self.logger) { connection in
                try await body(connection.sql(queryLogLevel: .trace))
            }
        } catch let error as PostgresTransactionError {
            // What the body threw (a domain error, say) is the error; the wrapper only says the
            // transaction rolled back, which it did cleanly when there is no rollback error.
            if let thrown = error.closureError, error.rollbackError == nil { throw thrown }
            throw error
        }
    }

    public func run() async throws {
        let waiters = self.running.withLock { state in
            state.started = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
        await self.client.run()
    }

    public func shutdown() async throws {}
}

// MARK: - Notifications (the LISTEN/NOTIFY dialect branch)

extension PostgresEngine {
    /// Sends `payload` on `channel` now, outside any transaction (for live signals; committed
    /// changes notify inside their transaction, see `ChatWriter`).
    public func notify(_ channel: String, payload: String) async throws {
        try await self.read { db in try await db.raw("SELECT pg_notify(\(bind: channel), \(bind: payload))").run() }
    }

    /// Listens on `channel` until the task is cancelled, handing each payload to `handle` in
    /// order; a lost connection is re-established with backoff (100 ms doubling to 5 s).
    public func listen(_ channel: String, logger: Logger, _ handle: @Sendable (String) async throws -> Void) async {
        await self.untilRunning()
        var delay: Duration = .milliseconds(100)
        while !Task.isCancelled {
            do {
                try await self.client.withConnection { connection in
                    try await connection.listen(on: channel) { notifications in
                        delay = .milliseconds(100)
                        for try await notification in notifications {
                            do {
                                try await handle(notification.payload)
                            } catch {
                                logger.warning(
                                    "Could not handle a notification", metadata: ["parley.error": "\(error)"])
                            }
                        }
                    }
                }
            } catch {
                if Task.isCancelled { return }
                logger.warning("LISTEN connection lost; reconnecting", metadata: ["parley.error": "\(error)"])
                try? await Task.sleep(for: delay)
                delay = min(delay * 2, .seconds(5))
            }
        }
    }
}
