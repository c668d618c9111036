import Foundation
import Logging
import ParleyAI
import ParleyCore
import ParleyOutbound
import ParleyStore
import ServiceLifecycle

/// Keeps every organization's passage vectors current: every couple of seconds it looks at each
/// organization's knowledge version and, when it moved (an article imported or edited, a new
/// embeddings provider), embeds what has no vector yet. A failing provider is retried after
/// `backoff`. Several instances may each run one: vectors are keyed by text and model, so doing
/// a batch twice stores it once.
struct KnowledgeIndexService: Service {
    let stores: Stores
    let indexer: KnowledgeIndexer
    let ready: StartupGate
    var interval: Duration = .seconds(2)
    var backoff: TimeInterval = 30
    let logger: Logger

    func run() async throws {
        await cancelWhenGracefulShutdown {
            guard await self.ready.wait() else { return }
            var done: [Organization.ID: Int64] = [:]
            var retryAt: [Organization.ID: Date] = [:]
            while !Task.isCancelled {
                await self.pass(done: &done, retryAt: &retryAt)
                do { try await Task.sleep(for: self.interval) } catch { return }
            }
        }
    }

    /// One look at every organization whose knowledge changed since the last pass (one query),
    /// embedding what its passages lack.
    func pass(done: inout [Organization.ID: Int64], retryAt: inout [Organization.ID: Date]) async {
        let versions: [Organization.ID: Int64]
        do { versions = try await self.stores.articles.knowledgeVersions() } catch { return }
        for (organization, version) in versions where done[organization] != version && !Task.isCancelled {
            if let at = retryAt[organization], at > Date() { continue }
            do {
                var scoped = self.logger
                scoped[metadataKey: "parley.organization.id"] = "\(organization)"
                let logger = scoped
                let result = try await self.indexer.index(organization) { embedded, passages in
                    if embedded < passages, embedded % 256 < Embeddings.batchSize {
                        logger.info("Embedding passages", metadata: ["parley.kb.progress": "\(embedded)/\(passages)"])
                    }
                }
                if let result, result.embedded > 0 {
                    logger.debug(
                        "Passages embedded", metadata: ["parley.kb.progress": "\(result.embedded)/\(result.passages)"])
                }
                // Storing vectors moved the version: remember the one after this pass.
                done[organization] = try await self.stores.articles.knowledgeVersion(in: organization)
                retryAt[organization] = nil
            } catch {
                if Task.isCancelled { return }
                self.logger.warning(
                    "Could not embed passages; retrying later",
                    metadata: ["parley.organization.id": "\(organization)", "parley.error": "\(error)"])
                retryAt[organization] = Date().addingTimeInterval(self.backoff)
            }
        }
    }
}
