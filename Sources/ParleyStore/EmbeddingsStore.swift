public import Foundation
public import ParleyCore
import SQLKit

/// An organization's embeddings provider (its key sealed like the chat providers' keys).
extension AssistantStore {
    /// The configured provider; else, when the organization's first enabled chat provider is
    /// OpenAI's own API, its key with `text-embedding-3-small`; else nil (full text alone).
    public func embeddingsProvider(in organizationID: Organization.ID) async throws -> EmbeddingsProvider? {
        try await self.embeddingsCache.value(organizationID) {
            if let stored = try await self.storedEmbeddingsProvider(in: organizationID) { return stored }
            let providers = try await self.providers(in: organizationID).filter(\.enabled)
            guard let chat = providers.first, chat.kind == .openai,
                URL(string: chat.baseURL)?.host == "api.openai.com", chat.apiKey != nil
            else { return nil }
            return EmbeddingsProvider(
                kind: .openai, baseURL: chat.baseURL, model: EmbeddingsProvider.openAIDefaultModel,
                apiKey: chat.apiKey, derived: true)
        }
    }

    /// The provider an admin configured (or the server seeded), if any.
    public func storedEmbeddingsProvider(in organizationID: Organization.ID) async throws -> EmbeddingsProvider? {
        let row = try await self.engine.read { db in
            try await db.raw(
                "SELECT * FROM embedding_providers WHERE organization_id = \(bind: organizationID.description)"
            ).first()
        }
        guard let row else { return nil }
        guard let kind = EmbeddingsProvider.Kind(rawValue: try row.string("kind")) else {
            throw CorruptRowError(description: "embedding_providers row")
        }
        return EmbeddingsProvider(
            kind: kind, baseURL: try row.string("base_url"), model: try row.string("model"),
            queryModel: try row.string("query_model"),
            apiKey: try row.optionalString("api_key_sealed").map(self.box.open),
            healthy: try row.optionalBool("healthy"),
            lastError: try row.optionalString("last_error"))
    }

    /// Stores the provider (checked first). A nil key keeps the stored one; an empty one removes it.
    @discardableResult
    public func setEmbeddingsProvider(_ provider: EmbeddingsProvider, in organizationID: Organization.ID) async throws
        -> EmbeddingsProvider
    {
        var provider = try provider.validated()
        let existing = try await self.storedEmbeddingsProvider(in: organizationID)
        if provider.apiKey == nil { provider.apiKey = existing?.apiKey }
        if provider.apiKey?.isEmpty == true { provider.apiKey = nil }
        provider.derived = false
        let sealed = try provider.apiKey.map(self.box.seal)
        let now = self.now()
        let stored = provider
        try await self.engine.transaction { db in
            try await db.raw(
                "DELETE FROM embedding_providers WHERE organization_id = \(bind: organizationID.description)"
            ).run()
            try await db.raw(
                """
                INSERT INTO embedding_providers (organization_id, kind, base_url, model, query_model, api_key_sealed, updated_at)
                VALUES (\(bind: organizationID.description), \(bind: stored.kind.rawValue), \(bind: stored.baseURL),
                    \(bind: stored.model), \(bind: stored.queryModel), \(bind: sealed), \(bind: now.millis))
                """
            ).run()
            try await ArticleStore.bumpVersion(organizationID, db: db)
        }
        self.embeddingsCache.forget(organizationID)
        return provider
    }

    /// Removes the configured provider (retrieval falls back to full text, or the derived one).
    public func deleteEmbeddingsProvider(in organizationID: Organization.ID) async throws {
        try await self.engine.transaction { db in
            try await db.raw(
                "DELETE FROM embedding_providers WHERE organization_id = \(bind: organizationID.description)"
            ).run()
            try await ArticleStore.bumpVersion(organizationID, db: db)
        }
        self.embeddingsCache.forget(organizationID)
    }

    /// Records whether the provider answered (a configured one only), when it changed.
    public func recordEmbeddingsHealth(in organizationID: Organization.ID, healthy: Bool, error: String?) async throws {
        try await self.engine.transaction { db in
            try await db.raw(
                """
                UPDATE embedding_providers SET healthy = \(bind: healthy), last_error = \(bind: error)
                WHERE organization_id = \(bind: organizationID.description)
                """
            ).run()
        }
    }

    /// Stores the provider `AI_EMBEDDINGS_URL`/`_MODEL`/`_KEY` describe for every organization
    /// that has none yet. Returns how many got it.
    @discardableResult
    public func seedEmbeddingsProvider(_ provider: EmbeddingsProvider) async throws -> Int {
        let organizations = try await self.engine.read { db in
            try await db.raw(
                "SELECT id FROM organizations WHERE id NOT IN (SELECT organization_id FROM embedding_providers)"
            ).all()
        }
        var seeded = 0
        for row in organizations {
            guard let id = Organization.ID(try row.string("id")) else { continue }
            try await self.setEmbeddingsProvider(provider, in: id)
            seeded += 1
        }
        return seeded
    }
}
