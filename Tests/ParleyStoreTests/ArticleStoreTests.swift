import Foundation
import ParleyCore
import ParleyStore
import ParleyTesting
import Testing

@Suite struct ArticleStoreTests {
    static let articles: [ArticleStore.Draft] = [
        .init(
            title: "Resetting your password",
            body: "Open Settings, choose Security and press Reset password. A link arrives by email.",
            tags: ["account"]),
        .init(
            title: "Shipping times",
            body: "Orders ship within two business days. Express shipping arrives the next day."),
        .init(
            title: "Refund policy",
            body: "You can ask for a refund within 30 days of purchase. Refunds go back to the card you paid with."),
        .init(title: "Internal: refund exceptions", body: "Managers may approve refund exceptions.", published: false),
    ]

    @Test(arguments: TestDatabase.all)
    func searchRanksTheRightArticleFirstAndOnlyWithinTheOrganization(database: TestDatabase) async throws {
        try await database.withEngine { engine in
            let stores = Stores(engine: engine, hasher: PasswordHasher(cost: 4))
            let acme = try await stores.makeOrganization("Acme")
            let globex = try await stores.makeOrganization("Globex")
            for draft in Self.articles { _ = try await stores.articles.create(draft, in: acme.organization.id) }
            _ = try await stores.articles.create(
                .init(title: "Globex refund policy", body: "Globex refunds: never."), in: globex.organization.id)

            let reset = try await stores.articles.search(
                "how do I reset my password?", in: acme.organization.id, publishedOnly: true)
            #expect(reset.first?.article.title == "Resetting your password")
            #expect(reset.first?.excerpt.lowercased().contains("reset") == true)

            let refunds = try await stores.articles.search("refund", in: acme.organization.id, publishedOnly: true)
            #expect(refunds.map(\.article.title) == ["Refund policy"])  // unpublished and Globex's are not there
            let all = try await stores.articles.search("refund", in: acme.organization.id, publishedOnly: false)
            #expect(Set(all.map(\.article.title)) == ["Refund policy", "Internal: refund exceptions"])
            let theirs = try await stores.articles.search(
                "refund policy", in: globex.organization.id, publishedOnly: false)
            #expect(theirs.map(\.article.title) == ["Globex refund policy"])
        }
    }

    @Test(arguments: TestDatabase.all)
    func queriesCannotInjectSearchSyntax(database: TestDatabase) async throws {
        try await database.withEngine { engine in
            let stores = Stores(engine: engine, hasher: PasswordHasher(cost: 4))
            let org = try await stores.makeOrganization()
            for draft in Self.articles { _ = try await stores.articles.create(draft, in: org.organization.id) }
            for text in [
                #""unbalanced"#, "title:refund", "refund AND NOT", "(shipping", "ship* NEAR", "' OR 1=1 --", "!!!", "",
            ] {
                // Never throws, whatever the text.
                _ = try await stores.articles.search(text, in: org.organization.id, publishedOnly: true)
            }
            #expect(try await stores.articles.search("!!!", in: org.organization.id, publishedOnly: true).isEmpty)
        }
    }

    @Test(arguments: TestDatabase.all)
    func theIndexFollowsUpdatesAndDeletes(database: TestDatabase) async throws {
        try await database.withEngine { engine in
            let stores = Stores(engine: engine, hasher: PasswordHasher(cost: 4))
            let org = try await stores.makeOrganization()
            let article = try await stores.articles.create(
                .init(title: "Gift cards", body: "Gift cards never expire."), in: org.organization.id)
            _ = try await stores.articles.update(
                article.id, in: org.organization.id, to: .init(title: "Vouchers", body: "Vouchers last a year."))
            #expect(try await stores.articles.search("gift", in: org.organization.id, publishedOnly: true).isEmpty)
            #expect(
                try await stores.articles.search("vouchers", in: org.organization.id, publishedOnly: true).count == 1)
            try await stores.articles.delete(article.id, in: org.organization.id)
            #expect(try await stores.articles.search("vouchers", in: org.organization.id, publishedOnly: true).isEmpty)
            await #expect(throws: DomainError.notFound(entity: "article")) {
                try await stores.articles.find(article.id, in: org.organization.id)
            }
        }
    }

    @Test(arguments: TestDatabase.all)
    func importingMarkdownCreatesThenUpdatesByTitle(database: TestDatabase) async throws {
        try await database.withEngine { engine in
            let stores = Stores(engine: engine, hasher: PasswordHasher(cost: 4))
            let org = try await stores.makeOrganization()
            let first = try await stores.articles.importMarkdown(
                [("returns.md", "# Returns\nSend it back within 30 days."), ("shipping.md", "# Shipping\nTwo days.")],
                in: org.organization.id)
            #expect(first.created == 2 && first.updated == 0)
            let second = try await stores.articles.importMarkdown(
                [("returns.md", "# Returns\nSend it back within 60 days.")], in: org.organization.id)
            #expect(second.created == 0 && second.updated == 1)
            #expect(
                try await stores.articles.search("60 days", in: org.organization.id, publishedOnly: true).first?.article
                    .title == "Returns")
            await #expect(throws: ValidationError.self) {
                try await stores.articles.importMarkdown(
                    [("bad.md", "---\ntitle: X\nurl: ftp://nope\n---\nbody")], in: org.organization.id)
            }
        }
    }
}
