import Foundation
import Logging
import ParleyStore
import ParleyTesting
import SQLKit
import Testing

@Suite struct MigratorTests {
    @Test(arguments: TestDatabase.all)
    func migratingTwiceAppliesNothingTheSecondTime(database: TestDatabase) async throws {
        try await database.withEngine { engine in
            // withEngine migrated once already.
            let again = try await Migrator.migrate(engine, logger: Logger(label: "test"))
            #expect(again.isEmpty)
            let count = try await engine.read { db in
                try await db.raw("SELECT COUNT(*) AS n FROM parley_migrations").first()!.decode(
                    column: "n", as: Int.self)
            }
            #expect(count == Migrator.known.count)
        }
    }

    @Test func aFileDatabaseUsesWALAndFullSync() async throws {
        let path = "/tmp/parley-test-\(Secrets.randomString(8)).sqlite"
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        try await TestDatabase.sqlite.withEngine(file: path) { engine in
            let (mode, sync) = try await engine.transaction { db in
                let mode = try await db.raw("PRAGMA journal_mode").first()!.decode(
                    column: "journal_mode", as: String.self)
                let sync = try await db.raw("PRAGMA synchronous").first()!.decode(column: "synchronous", as: Int.self)
                return (mode, sync)
            }
            #expect(mode == "wal")
            #expect(sync == 2)  // FULL
        }
    }

    /// A shutdown cancels a job mid-transaction: the transaction must still be rolled back, or the
    /// writer stays inside it and every later transaction fails.
    @Test(arguments: TestDatabase.all)
    func aCancelledTransactionIsRolledBackAndTheNextOneStarts(database: TestDatabase) async throws {
        try await database.withEngine { engine in
            let started = AsyncStream.makeStream(of: Void.self)
            let task = Task {
                try await engine.transaction { db in
                    try await db.raw("SELECT 1").run()
                    started.continuation.yield()
                    try await Task.sleep(for: .seconds(30))
                }
            }
            for await _ in started.stream { break }
            task.cancel()
            _ = try? await task.value
            try await engine.transaction { db in try await db.raw("SELECT 1").run() }
        }
    }
}
