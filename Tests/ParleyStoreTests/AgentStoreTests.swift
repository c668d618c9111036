import Foundation
import ParleyCore
import ParleyStore
import ParleyTesting
import Testing

@Suite struct AgentStoreTests {
    @Test(arguments: TestDatabase.all)
    func authenticationChecksPasswordAndActivity(database: TestDatabase) async throws {
        try await database.withEngine { engine in
            let stores = Stores(engine: engine, hasher: PasswordHasher(cost: 4))
            let org = try await stores.makeOrganization()
            let agent = try await stores.makeAgent(in: org.organization.id)
            #expect(
                try await stores.agents.authenticate(email: agent.email.uppercased(), password: Stores.fixturePassword)?
                    .id == agent.id)
            #expect(try await stores.agents.authenticate(email: agent.email, password: "wrong password") == nil)
            #expect(
                try await stores.agents.authenticate(email: "nobody@example.com", password: Stores.fixturePassword)
                    == nil)
            _ = try await stores.agents.update(
                agent.id, in: org.organization.id, with: .init(isActive: false), by: .owner, actorID: org.owner.id)
            #expect(try await stores.agents.authenticate(email: agent.email, password: Stores.fixturePassword) == nil)
        }
    }

    @Test(arguments: TestDatabase.all)
    func sessionsExpireWhenIdleAndEndWithDeactivation(database: TestDatabase) async throws {
        try await database.withEngine { engine in
            let clock = TestClock()
            let stores = Stores(engine: engine, hasher: PasswordHasher(cost: 4), now: clock.function)
            let org = try await stores.makeOrganization()
            let agent = try await stores.makeAgent(in: org.organization.id)
            let session = try await stores.sessions.create(for: agent)
            #expect(try await stores.sessions.resolve(token: session.token)?.agent.id == agent.id)
            #expect(try await stores.sessions.resolve(token: "forged") == nil)
            clock.advance(by: AgentSessionStore.idleLifetime - 10)
            #expect(try await stores.sessions.resolve(token: session.token) != nil)  // use extends it
            clock.advance(by: AgentSessionStore.idleLifetime - 10)
            #expect(try await stores.sessions.resolve(token: session.token) != nil)
            clock.advance(by: AgentSessionStore.idleLifetime + 1)
            #expect(try await stores.sessions.resolve(token: session.token) == nil)
            #expect(try await stores.sessions.deleteExpired() == 1)

            let live = try await stores.sessions.create(for: agent)
            _ = try await stores.agents.update(
                agent.id, in: org.organization.id, with: .init(isActive: false), by: .owner, actorID: org.owner.id)
            #expect(try await stores.sessions.resolve(token: live.token) == nil)
        }
    }

    @Test(arguments: TestDatabase.all)
    func changingAPasswordEndsOtherSessionsOnly(database: TestDatabase) async throws {
        try await database.withEngine { engine in
            let stores = Stores(engine: engine, hasher: PasswordHasher(cost: 4))
            let org = try await stores.makeOrganization()
            let here = try await stores.sessions.create(for: org.owner)
            let elsewhere = try await stores.sessions.create(for: org.owner)
            let hereHash = try #require(try await stores.sessions.resolve(token: here.token)).tokenHash
            await #expect(throws: ValidationError.self) {
                try await stores.agents.changePassword(
                    of: org.owner.id, in: org.organization.id, current: "not it at all", new: "a brand new password",
                    keepingSession: hereHash)
            }
            try await stores.agents.changePassword(
                of: org.owner.id, in: org.organization.id, current: Stores.fixturePassword, new: "a brand new password",
                keepingSession: hereHash)
            #expect(try await stores.sessions.resolve(token: here.token) != nil)
            #expect(try await stores.sessions.resolve(token: elsewhere.token) == nil)
            #expect(
                try await stores.agents.authenticate(email: org.owner.email, password: "a brand new password") != nil)
        }
    }

    @Test(arguments: TestDatabase.all)
    func apiKeysResolveUntilRevokedAndStoreOnlyAHash(database: TestDatabase) async throws {
        try await database.withEngine { engine in
            let stores = Stores(engine: engine, hasher: PasswordHasher(cost: 4))
            let org = try await stores.makeOrganization()
            let (key, secret) = try await stores.apiKeys.create(
                name: "Zapier", role: .admin, in: org.organization.id, by: org.owner.id, creatorRole: .owner)
            #expect(secret.hasPrefix(key.prefix))
            #expect(try await stores.apiKeys.resolve(secret: secret)?.id == key.id)
            let stored = try await engine.read { db in
                try await db.raw("SELECT key_hash FROM api_keys").first()!.decode(column: "key_hash", as: String.self)
            }
            #expect(stored != secret && !stored.contains(secret))
            await #expect(throws: ValidationError.self) {
                try await stores.apiKeys.create(
                    name: "x", role: .owner, in: org.organization.id, by: nil, creatorRole: .owner)
            }
            await #expect(throws: DomainError.self) {
                try await stores.apiKeys.create(
                    name: "x", role: .admin, in: org.organization.id, by: nil, creatorRole: .agent)
            }
            _ = try await stores.apiKeys.revoke(key.id, in: org.organization.id)
            #expect(try await stores.apiKeys.resolve(secret: secret) == nil)
        }
    }

    @Test(arguments: TestDatabase.all)
    func loginThrottlesAreShared(database: TestDatabase) async throws {
        try await database.withEngine { engine in
            let clock = TestClock()
            let stores = Stores(engine: engine, now: clock.function)
            let keys = ["email:a@b.co"]
            for _ in 0..<LoginThrottle.freeFailures { try await stores.loginThrottles.recordFailure(keys) }
            #expect(try await stores.loginThrottles.retryAfter(keys) == 30)
            #expect(try await stores.loginThrottles.retryAfter(["email:other@b.co"]) == nil)
            clock.advance(by: 31)
            #expect(try await stores.loginThrottles.retryAfter(keys) == nil)
            try await stores.loginThrottles.clear(keys)
            try await stores.loginThrottles.recordFailure(keys)
            #expect(try await stores.loginThrottles.retryAfter(keys) == nil)
        }
    }
}
