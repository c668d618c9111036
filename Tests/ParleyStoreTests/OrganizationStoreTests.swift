import Foundation
import ParleyCore
import ParleyStore
import ParleyTesting
import Testing

@Suite struct OrganizationStoreTests {
    @Test(arguments: TestDatabase.all)
    func everyLookupIsScopedToItsOrganization(database: TestDatabase) async throws {
        try await database.withEngine { engine in
            let stores = Stores(engine: engine, hasher: PasswordHasher(cost: 4))
            let acme = try await stores.makeOrganization("Acme")
            let globex = try await stores.makeOrganization("Globex")
            let key = try await stores.apiKeys.create(
                name: "ci", role: .agent, in: globex.organization.id, by: nil, creatorRole: .owner)

            await #expect(throws: DomainError.notFound(entity: "site")) {
                try await stores.sites.find(globex.site.id, in: acme.organization.id)
            }
            await #expect(throws: DomainError.notFound(entity: "agent")) {
                try await stores.agents.find(globex.owner.id, in: acme.organization.id)
            }
            await #expect(throws: DomainError.notFound(entity: "API key")) {
                try await stores.apiKeys.find(key.key.id, in: acme.organization.id)
            }
            await #expect(throws: DomainError.notFound(entity: "site")) {
                try await stores.sites.update(globex.site.id, in: acme.organization.id, with: .init(name: "taken"))
            }
            let sites = try await stores.sites.list(in: acme.organization.id, page: .init())
            #expect(sites.items.map(\.id) == [acme.site.id])
            let agents = try await stores.agents.list(in: acme.organization.id, page: .init())
            #expect(agents.items.map(\.id) == [acme.owner.id])
            #expect(try await stores.apiKeys.list(in: acme.organization.id, page: .init()).items.isEmpty)
        }
    }

    @Test(arguments: TestDatabase.all)
    func firstStartCreatesOneOrganizationEvenWhenRacing(database: TestDatabase) async throws {
        try await database.withEngine { engine in
            let stores = Stores(engine: engine, hasher: PasswordHasher(cost: 4))
            let created = try await withThrowingTaskGroup(of: Bool.self) { group in
                for index in 0..<4 {
                    group.addTask {
                        try await stores.createFirstOrganization(
                            .init(
                                name: "First \(index)",
                                owner: .init(
                                    email: "owner\(index)@example.com", name: "", role: .owner,
                                    password: "long enough pw"),
                                site: .init(name: "Website"))) != nil
                    }
                }
                return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(created == 1)
            #expect(try await stores.organizations.all().count == 1)
        }
    }

    @Test(arguments: TestDatabase.all)
    func keysetPagesCoverEveryRowOnceEvenWithEqualTimestamps(database: TestDatabase) async throws {
        try await database.withEngine { engine in
            let clock = TestClock()
            let stores = Stores(engine: engine, hasher: PasswordHasher(cost: 4), now: clock.function)
            let org = try await stores.makeOrganization()
            for index in 0..<9 {
                if index % 3 == 0 { clock.advance(by: 1) }  // three rows share each timestamp
                _ = try await stores.sites.create(.init(name: "Site \(index)"), in: org.organization.id)
            }
            var seen: [Site.ID] = []
            var cursor: PageCursor?
            repeat {
                let page = try await stores.sites.list(in: org.organization.id, page: .init(cursor: cursor, limit: 4))
                seen += page.items.map(\.id)
                cursor = page.nextCursor
            } while cursor != nil
            #expect(seen.count == 10)
            #expect(Set(seen).count == 10)
            let all = try await stores.sites.list(in: org.organization.id, page: .init(limit: 50)).items.map(\.id)
            #expect(seen == all)
        }
    }

    @Test(arguments: TestDatabase.all)
    func duplicateEmailsAreAConflict(database: TestDatabase) async throws {
        try await database.withEngine { engine in
            let stores = Stores(engine: engine, hasher: PasswordHasher(cost: 4))
            let acme = try await stores.makeOrganization()
            let other = try await stores.makeOrganization("Other")
            await #expect(throws: DomainError.self) {
                try await stores.makeAgent(in: other.organization.id, email: acme.owner.email.uppercased())
            }
        }
    }
}
