import Foundation
import Logging
import ParleyAI
import ParleyCore
import ParleyOutbound
import ParleyStore
import ServiceLifecycle
import Synchronization

/// Keeps every organization's passage vectors current: every couple of seconds it reads every
/// organization's knowledge version (one query) and, where it moved (an article imported or
/// edited, a new embeddings provider), embeds what has no vector yet. Organizations are worked on
/// side by side, at most `concurrency` at once, so one whose provider is slow or unreachable never
/// holds up the others; a failing one is retried after `backoff`. Several instances may each run
/// one: vectors are keyed by text and model, so a batch done twice is stored once.
struct KnowledgeIndexService: Service {
    let stores: Stores
    let indexer: KnowledgeIndexer
    let ready: StartupGate
    var interval: Duration = .seconds(2)
    var backoff: TimeInterval = 30
    var concurrency = 4
    let logger: Logger

    /// What the passes share with the work they start.
    final class Progress: Sendable {
        struct State {
            /// The version each organization was current at.
            var done: [Organization.ID: Int64] = [:]
            var retryAt: [Organization.ID: Date] = [:]
            var running: Set<Organization.ID> = []
        }
        let state = Mutex(State())
    }

    func run() async throws {
        await cancelWhenGracefulShutdown {
            guard await self.ready.wait() else { return }
            let progress = Progress()
            await withDiscardingTaskGroup { group in
                while !Task.isCancelled {
                    let (started, backlog) = await self.due(progress)
                    for organization in started {
                        group.addTask { await self.work(on: organization, progress: progress) }
                    }
                    // With more waiting than may run at once, look again as soon as a slot frees.
                    do { try await Task.sleep(for: backlog ? .milliseconds(20) : self.interval) } catch { return }
                }
            }
        }
    }

    /// The organizations whose knowledge moved, not being worked on and not waiting out a failure,
    /// marked running (at most `concurrency` in all); and whether more are waiting for a slot.
    func due(_ progress: Progress) async -> (started: [Organization.ID], backlog: Bool) {
        guard let versions = try? await self.stores.articles.knowledgeVersions() else { return ([], false) }
        let now = Date()
        return progress.state.withLock { state in
            var started: [Organization.ID] = []
            var backlog = false
            for (organization, version) in versions where state.done[organization] != version {
                if state.running.contains(organization) { continue }
                if let at = state.retryAt[organization], at > now { continue }
                guard state.running.count < self.concurrency else {
                    backlog = true
                    break
                }
                state.running.insert(organization)
                started.append(organization)
            }
            return (started, backlog)
        }
    }

    func work(on organization: Organization.ID, progress: Progress) async {
        var scoped = self.logger
        scoped[metadataKey: "parley.organization.id"] = "\(organization)"
        let logger = scoped
        do {
            let result = try await self.indexer.index(organization) { embedded, passages in
                if embedded < passages, embedded % 256 < Embeddings.batchSize {
                    logger.info("Embedding passages", metadata: ["parley.kb.progress": "\(embedded)/\(passages)"])
                }
            }
            if let result, result.embedded > 0 {
                logger.debug(
                    "Passages embedded", metadata: ["parley.kb.progress": "\(result.embedded)/\(result.passages)"])
            }
            // Storing vectors moved the version: remember the one after this work.
            let version = try await self.stores.articles.knowledgeVersion(in: organization)
            progress.state.withLock { state in
                state.done[organization] = version
                state.retryAt[organization] = nil
                state.running.remove(organization)
            }
        } catch {
            if !Task.isCancelled {
                logger.warning("Could not embed passages; retrying later", metadata: ["parley.error": "\(error)"])
            }
            let retry = Date().addingTimeInterval(self.backoff)
            progress.state.withLock { state in
                state.retryAt[organization] = retry
                state.running.remove(organization)
            }
        }
    }
}
