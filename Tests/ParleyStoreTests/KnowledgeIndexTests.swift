import Foundation
import Logging
import ParleyCore
import ParleyStore
import ParleyTesting
import SQLKit
import Testing

/// Passages, their full-text index and their vectors, on both engines.
@Suite struct KnowledgeIndexTests {
    static let guide = """
        Our app keeps your notes in sync across devices.

        ## Exporting your notes

        Open Settings, choose Export and pick Markdown or PDF. The export arrives as a zip file by email \
        within ten minutes. Exports include attachments up to 40 MB.

        ## Deleting your account

        Deleting your account removes every note after a 14-day grace period. Sign in during the grace \
        period to cancel the deletion.
        """

    @Test(arguments: TestDatabase.all)
    func searchFindsTheSectionThatAnswersAndEveryChangeKeepsPassagesInStep(database: TestDatabase) async throws {
        try await database.withEngine { engine in
            let stores = Stores(engine: engine, hasher: PasswordHasher(cost: 4))
            let org = try await stores.makeOrganization()
            let other = try await stores.makeOrganization("Globex")
            let version0 = try await stores.articles.knowledgeVersion(in: org.organization.id)
            let guide = try await stores.articles.create(
                .init(title: "Account guide", body: Self.guide), in: org.organization.id)
            _ = try await stores.articles.create(
                .init(title: "Globex account guide", body: Self.guide), in: other.organization.id)
            #expect(try await stores.articles.knowledgeVersion(in: org.organization.id) > version0)

            // The article comes back with the passage of the section that answers, not its opening.
            let hits = try await stores.articles.search(
                "how long is the grace period before my account is deleted", in: org.organization.id,
                publishedOnly: true)
            #expect(hits.map(\.article.title) == ["Account guide"])
            #expect(hits.first?.passages.first?.heading == "Account guide — Deleting your account")
            #expect(hits.first?.passage.contains("14-day grace period") == true)
            let passages = try await stores.articles.passageSearch(
                "export zip", in: org.organization.id, publishedOnly: true, limit: 10)
            #expect(passages.first?.heading == "Account guide — Exporting your notes")
            #expect(passages.allSatisfy { $0.articleID == guide.id })

            // An edit rewrites the passages; unpublishing hides them from published searches.
            _ = try await stores.articles.update(
                guide.id, in: org.organization.id,
                to: .init(
                    title: "Account guide", body: "## Deleting your account\n\nDeletion is immediate.",
                    published: false))
            #expect(
                try await stores.articles.search("grace period", in: org.organization.id, publishedOnly: false)
                    .isEmpty)
            #expect(
                try await stores.articles.search("deletion immediate", in: org.organization.id, publishedOnly: true)
                    .isEmpty)
            #expect(
                try await stores.articles.search("deletion immediate", in: org.organization.id, publishedOnly: false)
                    .first?.passage == "Deletion is immediate.")
            // Deleting the article removes its passages.
            try await stores.articles.delete(guide.id, in: org.organization.id)
            #expect(
                try await stores.articles.passageSearch(
                    "deletion", in: org.organization.id, publishedOnly: false, limit: 10
                ).isEmpty)
            #expect(try await stores.articles.vectorProgress(in: org.organization.id, model: "m").passages == 0)
        }
    }

    @Test(arguments: TestDatabase.all)
    func articlesStoredBeforePassagesAreSplitAfterMigrating(database: TestDatabase) async throws {
        try await database.withEngine { engine in
            let stores = Stores(engine: engine, hasher: PasswordHasher(cost: 4))
            let org = try await stores.makeOrganization()
            _ = try await stores.articles.create(.init(title: "Old", body: Self.guide), in: org.organization.id)
            // As a database from before migration 18 would be: articles without passages.
            try await engine.transaction { db in try await db.raw("DELETE FROM article_passages").run() }
            #expect(
                try await stores.articles.search("grace period", in: org.organization.id, publishedOnly: true).isEmpty)
            try await Migrator.migrate(engine, logger: Logger(label: "test"))
            #expect(
                try await stores.articles.search("grace period", in: org.organization.id, publishedOnly: true).first?
                    .article.title == "Old")
        }
    }

    @Test(arguments: TestDatabase.all)
    func vectorsAreKeptByTextAndModelAndReadAtOneVersion(database: TestDatabase) async throws {
        try await database.withEngine { engine in
            let stores = Stores(engine: engine, hasher: PasswordHasher(cost: 4))
            let org = try await stores.makeOrganization()
            let id = org.organization.id
            let article = try await stores.articles.create(.init(title: "Account guide", body: Self.guide), in: id)
            let total = try await stores.articles.vectorProgress(in: id, model: "m1")
            #expect(total.passages >= 2)
            #expect(total.embedded == 0)

            // Embed every passage: what is missing comes in batches, then nothing is.
            var batch = try await stores.articles.passagesWithoutVectors(in: id, model: "m1", limit: 1)
            #expect(batch.count == 1)
            #expect(batch.first?.content.hasPrefix("Account guide") == true)
            while !batch.isEmpty {
                try await stores.articles.storeVectors(batch.map { ($0.hash, [3, 4]) }, model: "m1", in: id)
                batch = try await stores.articles.passagesWithoutVectors(in: id, model: "m1", limit: 1)
            }
            #expect(try await stores.articles.vectorProgress(in: id, model: "m1").embedded == total.passages)
            let vectors = try await stores.articles.vectors(in: id, model: "m1")
            #expect(vectors.dimensions == 2)
            #expect(vectors.passageIDs.count == total.passages)
            #expect(vectors.matrix.prefix(2) == [0.6, 0.8])  // stored at unit length
            #expect(vectors.version == (try await stores.articles.knowledgeVersion(in: id)))
            #expect(try await stores.articles.vectors(in: id, model: "other").passageIDs.isEmpty)

            // An edit that keeps a section's text keeps that section's vector.
            let edited = Self.guide.replacingOccurrences(
                of: "within ten minutes", with: "within an hour")
            _ = try await stores.articles.update(
                article.id, in: id, to: .init(title: "Account guide", body: edited))
            let after = try await stores.articles.vectorProgress(in: id, model: "m1")
            #expect(after.embedded == after.passages - 1)
            // Vectors of texts no passage has any more, and of other models, are pruned.
            try await stores.articles.storeVectors([("stale-hash", [1, 0])], model: "m0", in: id)
            try await stores.articles.pruneVectors(in: id, keeping: "m1")
            let rows = try await engine.read { db in
                try await db.raw("SELECT COUNT(*) AS n FROM passage_vectors").first()?.decode(
                    column: "n", as: Int.self)
            }
            #expect(rows == after.embedded)
        }
    }

    @Test(arguments: TestDatabase.all)
    func anEmbeddingsProviderIsSealedAndOpenAIsChatKeyIsBorrowed(database: TestDatabase) async throws {
        try await database.withEngine { engine in
            let stores = Stores(engine: engine, hasher: PasswordHasher(cost: 4))
            let org = try await stores.makeOrganization()
            let id = org.organization.id
            #expect(try await stores.assistant.embeddingsProvider(in: id) == nil)
            // An OpenAI chat provider lends its key, with text-embedding-3-small.
            _ = try await stores.assistant.addProvider(
                .init(kind: .openai, name: "openai", model: "gpt-4o-mini", apiKey: "sk-chat"), in: id)
            let derived = try #require(try await stores.assistant.embeddingsProvider(in: id))
            #expect(derived.derived && derived.apiKey == "sk-chat" && derived.model == "text-embedding-3-small")
            // A configured one wins; its key is sealed at rest and kept when not given again.
            _ = try await stores.assistant.setEmbeddingsProvider(
                EmbeddingsProvider(
                    kind: .openai, baseURL: "https://embed.example/v1", model: "e5-passage", queryModel: "e5-query",
                    apiKey: "sk-embed-secret"), in: id)
            let raw = try await engine.read { db in
                try await db.raw("SELECT api_key_sealed FROM embedding_providers").first()?.decode(
                    column: "api_key_sealed", as: String.self)
            }
            #expect(raw?.contains("sk-embed-secret") == false)
            _ = try await stores.assistant.setEmbeddingsProvider(
                EmbeddingsProvider(kind: .gemini, baseURL: "", model: "text-embedding-004", apiKey: nil), in: id)
            let stored = try #require(try await stores.assistant.embeddingsProvider(in: id))
            #expect(stored.kind == .gemini && stored.apiKey == "sk-embed-secret" && !stored.derived)
            #expect(stored.baseURL == EmbeddingsProvider.Kind.gemini.defaultBaseURL)
            #expect(stored.queryModel == "text-embedding-004")
            await #expect(throws: ValidationError.self) {
                try await stores.assistant.setEmbeddingsProvider(
                    EmbeddingsProvider(kind: .openai, baseURL: "ftp://x", model: "m", apiKey: nil), in: id)
            }
            try await stores.assistant.deleteEmbeddingsProvider(in: id)
            #expect(try await stores.assistant.embeddingsProvider(in: id)?.derived == true)
        }
    }
}
