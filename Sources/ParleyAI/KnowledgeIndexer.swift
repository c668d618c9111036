public import Foundation
public import Logging
public import ParleyCore
public import ParleyOutbound
public import ParleyStore
import Synchronization

/// Computes the vectors of an organization's passages with its embeddings provider, a batch at a
/// time, each batch committed (so a crash loses at most one batch and work resumes where it
/// stopped). `parley kb reindex` runs it in the foreground; `KnowledgeIndexService` in the
/// background whenever an organization's knowledge changes.
public struct KnowledgeIndexer: Sendable {
    let articles: ArticleStore
    let settings: AssistantStore
    let client: OutboundClient
    let logger: Logger

    public init(stores: Stores, client: OutboundClient, logger: Logger) {
        self.articles = stores.articles
        self.settings = stores.assistant
        self.client = client
        self.logger = logger
    }

    /// Embeds every passage without a vector of the provider's model, reporting (embedded,
    /// passages) after each batch; returns the last figures, or nil without a provider.
    @discardableResult
    public func index(
        _ organizationID: Organization.ID, batchSize: Int = Embeddings.batchSize,
        progress: @Sendable (Int, Int) -> Void = { _, _ in }
    ) async throws -> (embedded: Int, passages: Int)? {
        guard let provider = try await self.settings.embeddingsProvider(in: organizationID) else { return nil }
        let embeddings = Embeddings.client(for: provider, client: self.client)
        var state = try await self.articles.vectorProgress(in: organizationID, model: provider.model)
        progress(state.embedded, state.passages)
        while true {
            let batch = try await self.articles.passagesWithoutVectors(
                in: organizationID, model: provider.model, limit: batchSize)
            if batch.isEmpty { break }
            let vectors: [[Float]]
            do {
                vectors = try await embeddings.embed(batch.map(\.content), as: .passage)
            } catch {
                if !provider.derived {
                    try? await self.settings.recordEmbeddingsHealth(
                        in: organizationID, healthy: false, error: "\(error)")
                }
                throw error
            }
            try await self.articles.storeVectors(
                zip(batch, vectors).map { ($0.hash, $1) }, model: provider.model, in: organizationID)
            state.embedded += batch.count
            progress(min(state.embedded, state.passages), state.passages)
        }
        if !provider.derived, provider.healthy != true {
            try? await self.settings.recordEmbeddingsHealth(in: organizationID, healthy: true, error: nil)
        }
        try await self.articles.pruneVectors(in: organizationID, keeping: provider.model)
        let final = try await self.articles.vectorProgress(in: organizationID, model: provider.model)
        return (final.embedded, final.passages)
    }
}
