import Foundation
import ParleyCore
import ParleyStore
import ParleyTesting
import Testing

@Suite struct JobQueueTests {
    @Test(arguments: TestDatabase.all)
    func concurrentWorkersNeverClaimTheSameJob(database: TestDatabase) async throws {
        try await database.withEngine { engine in
            let stores = Stores(engine: engine)
            let total = 120
            for index in 0..<total { try await stores.jobs.enqueue(kind: "test", payload: "{\"n\":\(index)}") }
            let claims = Claims()
            try await withThrowingTaskGroup(of: Void.self) { group in
                for worker in 0..<4 {
                    group.addTask {
                        while true {
                            let jobs = try await stores.jobs.claim(limit: 7, worker: "w\(worker)")
                            if jobs.isEmpty { return }
                            await claims.add(jobs.map(\.payload))
                            for job in jobs { try await stores.jobs.complete(job, worker: "w\(worker)") }
                        }
                    }
                }
                try await group.waitForAll()
            }
            let payloads = await claims.all
            #expect(payloads.count == total)
            #expect(Set(payloads).count == total)
            #expect(try await stores.jobs.counts() == ["done": total])
        }
    }

    @Test(arguments: TestDatabase.all)
    func anExpiredLeaseIsClaimedAgainAndTheOldHolderCannotComplete(database: TestDatabase) async throws {
        try await database.withEngine { engine in
            let clock = TestClock()
            let stores = Stores(engine: engine, now: clock.function)
            try await stores.jobs.enqueue(kind: "test")
            let first = try await stores.jobs.claim(limit: 1, worker: "a", lease: 30)
            #expect(first.count == 1)
            #expect(try await stores.jobs.claim(limit: 1, worker: "b", lease: 30).isEmpty)
            clock.advance(by: 31)
            let second = try await stores.jobs.claim(limit: 1, worker: "b", lease: 30)
            #expect(second.first?.id == first.first?.id)
            #expect(second.first?.attempts == 2)
            try await stores.jobs.complete(first[0], worker: "a")  // no longer a's
            #expect(try await stores.jobs.counts() == ["running": 1])
            try await stores.jobs.complete(second[0], worker: "b")
            #expect(try await stores.jobs.counts() == ["done": 1])
        }
    }

    @Test(arguments: TestDatabase.all)
    func failuresBackOffThenFailForGood(database: TestDatabase) async throws {
        try await database.withEngine { engine in
            let clock = TestClock()
            let stores = Stores(engine: engine, now: clock.function)
            try await stores.jobs.enqueue(kind: "test", maxAttempts: 2)
            var job = try #require(try await stores.jobs.claim(limit: 1, worker: "w").first)
            try await stores.jobs.fail(job, worker: "w", error: "boom")
            #expect(try await stores.jobs.claim(limit: 1, worker: "w").isEmpty)  // backing off
            clock.advance(by: Job.retryDelay(afterAttempt: 1) + 1)
            job = try #require(try await stores.jobs.claim(limit: 1, worker: "w").first)
            try await stores.jobs.fail(job, worker: "w", error: "boom")
            #expect(try await stores.jobs.counts() == ["failed": 1])
        }
    }

    @Test(arguments: TestDatabase.all)
    func aUniqueKeyQueuesOnceWhilePendingAndARunningJobMayQueueItsSuccessor(database: TestDatabase) async throws {
        try await database.withEngine { engine in
            let stores = Stores(engine: engine)
            #expect(try await stores.jobs.enqueue(kind: "cleanup", uniqueKey: "cleanup") != nil)
            #expect(try await stores.jobs.enqueue(kind: "cleanup", uniqueKey: "cleanup") == nil)
            let job = try #require(try await stores.jobs.claim(limit: 1, worker: "w").first)
            #expect(
                try await stores.jobs.enqueue(
                    kind: "cleanup", runAt: Date().addingTimeInterval(3600), uniqueKey: "cleanup") != nil)
            #expect(try await stores.jobs.enqueue(kind: "cleanup", uniqueKey: "cleanup") == nil)
            try await stores.jobs.complete(job, worker: "w")
            #expect(try await stores.jobs.counts() == ["done": 1, "pending": 1])
        }
    }
}

actor Claims {
    var all: [String] = []
    func add(_ payloads: [String]) { self.all += payloads }
}
