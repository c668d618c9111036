public import Foundation
public import ParleyCore
import SQLKit
import Synchronization

/// The assistant's configuration per organization (settings and ordered providers, whose API
/// keys are sealed by the `SecretBox`) and its log of interactions with the visitors' feedback.
public struct AssistantStore: Sendable {
    let engine: any DatabaseEngine
    let box: SecretBox
    let now: @Sendable () -> Date
    /// What answering reads on every visitor message, kept for a moment (see `configuration(in:)`).
    let cache = TimedCache<Organization.ID, Configuration>()
    /// The embeddings provider retrieval asks for on every question, kept the same way.
    let embeddingsCache = TimedCache<Organization.ID, EmbeddingsProvider?>()
    /// The health last written per provider, so a healthy provider costs no write per answer.
    let health = HealthMemory()

    init(engine: any DatabaseEngine, box: SecretBox, now: @escaping @Sendable () -> Date) {
        self.engine = engine
        self.box = box
        self.now = now
    }

    final class HealthMemory: Sendable {
        let healthy = Mutex<[AIProvider.ID: Bool]>([:])
    }

    /// The settings and the enabled providers of an organization.
    public struct Configuration: Sendable {
        public var settings: AssistantSettings
        public var providers: [AIProvider]
    }

    /// The settings and the enabled providers, as the assistant (and the widget's config) need
    /// them on every request: read at most every two seconds per organization, at once after a
    /// change made through this store.
    public func configuration(in organizationID: Organization.ID) async throws -> Configuration {
        try await self.cache.value(organizationID) {
            Configuration(
                settings: try await self.settings(in: organizationID),
                providers: try await self.providers(in: organizationID).filter(\.enabled))
        }
    }

    // MARK: Settings

    /// The organization's settings, or the defaults; and when they last changed.
    public func settings(in organizationID: Organization.ID) async throws -> AssistantSettings {
        let row = try await self.engine.read { db in
            try await db.raw(
                "SELECT settings FROM assistant_settings WHERE organization_id = \(bind: organizationID.description)"
            ).first()
        }
        guard let row else { return AssistantSettings() }
        return try JSONColumn.decode(AssistantSettings.self, from: try row.string("settings"))
    }

    /// Replaces the settings (checked first).
    public func updateSettings(_ settings: AssistantSettings, in organizationID: Organization.ID) async throws
        -> AssistantSettings
    {
        let settings = try settings.validated()
        let json = try JSONColumn.encode(settings)
        let now = self.now().millis
        try await self.engine.transaction { db in
            try await db.raw(
                """
                INSERT INTO assistant_settings (organization_id, settings, updated_at)
                VALUES (\(bind: organizationID.description), \(bind: json), \(bind: now))
                ON CONFLICT (organization_id) DO UPDATE SET settings = excluded.settings, updated_at = excluded.updated_at
                """
            ).run()
        }
        self.cache.forget(organizationID)
        self.embeddingsCache.forget(organizationID)
        return settings
    }

    // MARK: Providers

    /// What an admin gives for a provider; the key is write-only.
    public struct ProviderDraft: Sendable {
        public var kind: ProviderKind
        public var name: String
        public var baseURL: String?
        public var model: String
        /// Nil keeps the stored key (on update); empty removes it.
        public var apiKey: String?
        public var enabled: Bool
        public var position: Int?
        /// Whether the model reads images.
        public var vision: Bool

        public init(
            kind: ProviderKind, name: String, baseURL: String? = nil, model: String, apiKey: String? = nil,
            enabled: Bool = true, position: Int? = nil, vision: Bool = false
        ) {
            self.vision = vision
            self.kind = kind
            self.name = name
            self.baseURL = baseURL
            self.model = model
            self.apiKey = apiKey
            self.enabled = enabled
            self.position = position
        }

        func validated() throws(ValidationError) -> ProviderDraft {
            var draft = self
            draft.name = try Validate.text(self.name, field: "name", max: 80)
            draft.model = try Validate.text(self.model, field: "model", max: 200)
            let url = (self.baseURL?.isEmpty ?? true) ? self.kind.defaultBaseURL : self.baseURL!
            guard let parsed = URL(string: url), ["http", "https"].contains(parsed.scheme ?? ""), parsed.host != nil
            else {
                throw ValidationError(field: "baseUrl", message: "baseUrl must be an http or https URL.")
            }
            draft.baseURL = url
            if let key = self.apiKey, key.count > 500 {
                throw ValidationError(field: "apiKey", message: "apiKey must be at most 500 characters.")
            }
            if let position = self.position, !(0...1000).contains(position) {
                throw ValidationError(field: "position", message: "position must be between 0 and 1000.")
            }
            return draft
        }
    }

    /// The organization's providers in the order they are tried, keys opened.
    public func providers(in organizationID: Organization.ID) async throws -> [AIProvider] {
        let rows = try await self.engine.read { db in
            try await db.raw(
                """
                SELECT * FROM ai_providers WHERE organization_id = \(bind: organizationID.description)
                ORDER BY position, created_at, id
                """
            ).all()
        }
        return try rows.map(self.decode)
    }

    public func provider(_ id: AIProvider.ID, in organizationID: Organization.ID) async throws -> AIProvider {
        guard let provider = try await self.providers(in: organizationID).first(where: { $0.id == id }) else {
            throw DomainError.notFound(entity: "provider")
        }
        return provider
    }

    public func addProvider(_ draft: ProviderDraft, in organizationID: Organization.ID) async throws -> AIProvider {
        let draft = try draft.validated()
        let now = self.now()
        let existing = try await self.providers(in: organizationID)
        guard existing.count < 10 else {
            throw ValidationError(field: "providers", message: "An organization has at most 10 providers.")
        }
        let provider = AIProvider(
            id: .init(), organizationID: organizationID,
            position: draft.position ?? ((existing.map(\.position).max() ?? -1) + 1), kind: draft.kind,
            name: draft.name, baseURL: draft.baseURL!, model: draft.model,
            apiKey: draft.apiKey.flatMap { $0.isEmpty ? nil : $0 }, enabled: draft.enabled, vision: draft.vision,
            createdAt: now, updatedAt: now)
        let sealed = try provider.apiKey.map(self.box.seal)
        try await self.engine.transaction { db in
            try await db.raw(
                """
                INSERT INTO ai_providers (id, organization_id, position, kind, name, base_url, model, api_key_sealed,
                    enabled, vision, created_at, updated_at)
                VALUES (\(bind: provider.id.description), \(bind: organizationID.description), \(bind: provider.position),
                    \(bind: provider.kind.rawValue), \(bind: provider.name), \(bind: provider.baseURL), \(bind: provider.model),
                    \(bind: sealed), \(bind: provider.enabled), \(bind: provider.vision), \(bind: now.millis), \(bind: now.millis))
                """
            ).run()
            // A chat provider may lend its key to embeddings: the indexer looks again.
            try await ArticleStore.bumpVersion(organizationID, db: db)
        }
        self.cache.forget(organizationID)
        self.embeddingsCache.forget(organizationID)
        return provider
    }

    public func updateProvider(_ id: AIProvider.ID, _ draft: ProviderDraft, in organizationID: Organization.ID)
        async throws -> AIProvider
    {
        let draft = try draft.validated()
        var provider = try await self.provider(id, in: organizationID)
        provider.kind = draft.kind
        provider.name = draft.name
        provider.baseURL = draft.baseURL!
        provider.model = draft.model
        provider.enabled = draft.enabled
        provider.vision = draft.vision
        if let position = draft.position { provider.position = position }
        if let key = draft.apiKey { provider.apiKey = key.isEmpty ? nil : key }
        provider.updatedAt = self.now()
        let sealed = try provider.apiKey.map(self.box.seal)
        let updated = provider
        try await self.engine.transaction { db in
            try await db.raw(
                """
                UPDATE ai_providers SET position = \(bind: updated.position), kind = \(bind: updated.kind.rawValue),
                    name = \(bind: updated.name), base_url = \(bind: updated.baseURL), model = \(bind: updated.model),
                    api_key_sealed = \(bind: sealed), enabled = \(bind: updated.enabled), vision = \(bind: updated.vision),
                    healthy = NULL, last_error = NULL, checked_at = NULL, updated_at = \(bind: updated.updatedAt.millis)
                WHERE id = \(bind: id.description) AND organization_id = \(bind: organizationID.description)
                """
            ).run()
            // A chat provider may lend its key to embeddings: the indexer looks again.
            try await ArticleStore.bumpVersion(organizationID, db: db)
        }
        self.cache.forget(organizationID)
        self.embeddingsCache.forget(organizationID)
        self.health.healthy.withLock { _ = $0.removeValue(forKey: id) }
        return updated
    }

    public func deleteProvider(_ id: AIProvider.ID, in organizationID: Organization.ID) async throws {
        _ = try await self.provider(id, in: organizationID)
        try await self.engine.transaction { db in
            try await db.raw(
                "DELETE FROM ai_providers WHERE id = \(bind: id.description) AND organization_id = \(bind: organizationID.description)"
            ).run()
            try await ArticleStore.bumpVersion(organizationID, db: db)
        }
        self.cache.forget(organizationID)
        self.embeddingsCache.forget(organizationID)
    }

    /// Records what a provider just did, when that differs from what is stored (so a healthy
    /// provider costs no write per answer).
    public func recordHealth(_ id: AIProvider.ID, healthy: Bool, error: String?) async throws {
        if healthy, self.health.healthy.withLock({ $0[id] }) == true { return }
        defer { self.health.healthy.withLock { $0[id] = healthy } }
        let error = error.map { String($0.prefix(500)) }
        try await self.engine.transaction { db in
            try await db.raw(
                """
                UPDATE ai_providers SET healthy = \(bind: healthy), last_error = \(bind: error), checked_at = \(bind: self.now().millis)
                WHERE id = \(bind: id.description)
                    AND (\(bind: !healthy) OR healthy IS NULL OR healthy = \(bind: false))
                """
            ).run()
        }
    }

    /// Stores the provider that `AI_API_KEY`/`AI_API_URL`/`AI_MODEL` describe, for every
    /// organization that has none yet. Returns how many organizations got it.
    @discardableResult
    public func seedDefaultProvider(_ draft: ProviderDraft) async throws -> Int {
        let organizations = try await self.engine.read { db in
            try await db.raw(
                "SELECT id FROM organizations WHERE id NOT IN (SELECT organization_id FROM ai_providers)"
            ).all()
        }
        var seeded = 0
        for row in organizations {
            guard let id = Organization.ID(try row.string("id")) else { continue }
            _ = try await self.addProvider(draft, in: id)
            seeded += 1
        }
        return seeded
    }

    func decode(_ row: any SQLRow) throws -> AIProvider {
        guard let id = AIProvider.ID(try row.string("id")),
            let organization = Organization.ID(try row.string("organization_id")),
            let kind = ProviderKind(rawValue: try row.string("kind"))
        else { throw CorruptRowError(description: "ai_providers row") }
        return AIProvider(
            id: id, organizationID: organization, position: Int(try row.int64("position")), kind: kind,
            name: try row.string("name"), baseURL: try row.string("base_url"), model: try row.string("model"),
            apiKey: try row.optionalString("api_key_sealed").map(self.box.open), enabled: try row.bool("enabled"),
            vision: try row.bool("vision"), healthy: try row.optionalBool("healthy"),
            lastError: try row.optionalString("last_error"),
            checkedAt: try row.optionalDate("checked_at"), createdAt: try row.date("created_at"),
            updatedAt: try row.date("updated_at"))
    }

    // MARK: Interactions and feedback

    /// One thing the assistant did with one visitor message: the accuracy report's raw material.
    public struct Interaction: Sendable, Hashable {
        public var id: String
        public var organizationID: Organization.ID
        public var sessionID: ChatSession.ID
        public var replyTo: Int64
        public var question: String
        /// `answer`, `resolve`, `article`, `auto_reply` or `handoff`.
        public var outcome: String
        public var reason: String?
        public var messageID: ChatMessage.ID?
        public var provider: String?
        public var model: String?
        public var latencyMillis: Int?
        public var firstTokenMillis: Int?
        public var promptTokens: Int?
        public var completionTokens: Int?
        public var confidence: Double?
        public var citations: [String]
        public var feedback: String?
        public var feedbackComment: String?
        public var createdAt: Date

        public init(
            organizationID: Organization.ID, sessionID: ChatSession.ID, replyTo: Int64, question: String,
            outcome: String, reason: String? = nil, messageID: ChatMessage.ID? = nil, provider: String? = nil,
            model: String? = nil, latencyMillis: Int? = nil, firstTokenMillis: Int? = nil, promptTokens: Int? = nil,
            completionTokens: Int? = nil, confidence: Double? = nil, citations: [String] = [], createdAt: Date
        ) {
            self.id = UUID().uuidString.lowercased()
            self.organizationID = organizationID
            self.sessionID = sessionID
            self.replyTo = replyTo
            self.question = question
            self.outcome = outcome
            self.reason = reason
            self.messageID = messageID
            self.provider = provider
            self.model = model
            self.latencyMillis = latencyMillis
            self.firstTokenMillis = firstTokenMillis
            self.promptTokens = promptTokens
            self.completionTokens = completionTokens
            self.confidence = confidence
            self.citations = citations
            self.createdAt = createdAt
        }
    }

    public func log(_ item: Interaction) async throws {
        let citations = try JSONColumn.encode(item.citations)
        try await self.engine.transaction { db in
            try await db.raw(
                """
                INSERT INTO ai_interactions (id, organization_id, session_id, reply_to, question, outcome, reason,
                    message_id, provider, model, latency_ms, first_token_ms, prompt_tokens, completion_tokens,
                    confidence, citations, created_at)
                VALUES (\(bind: item.id), \(bind: item.organizationID.description), \(bind: item.sessionID.description),
                    \(bind: item.replyTo), \(bind: String(item.question.prefix(2000))), \(bind: item.outcome), \(bind: item.reason),
                    \(bind: item.messageID?.description), \(bind: item.provider), \(bind: item.model),
                    \(bind: item.latencyMillis), \(bind: item.firstTokenMillis), \(bind: item.promptTokens),
                    \(bind: item.completionTokens), \(bind: item.confidence), \(bind: citations), \(bind: item.createdAt.millis))
                """
            ).run()
        }
    }

    /// The latest interactions of an organization, newest first.
    public func interactions(in organizationID: Organization.ID, limit: Int = 100) async throws -> [Interaction] {
        let rows = try await self.engine.read { db in
            try await db.raw(
                """
                SELECT * FROM ai_interactions WHERE organization_id = \(bind: organizationID.description)
                ORDER BY created_at DESC, id DESC LIMIT \(bind: limit)
                """
            ).all()
        }
        return try rows.map { row in
            guard let organization = Organization.ID(try row.string("organization_id")),
                let session = ChatSession.ID(try row.string("session_id"))
            else { throw CorruptRowError(description: "ai_interactions row") }
            var item = Interaction(
                organizationID: organization, sessionID: session, replyTo: try row.int64("reply_to"),
                question: try row.string("question"), outcome: try row.string("outcome"),
                reason: try row.optionalString("reason"),
                messageID: try row.optionalString("message_id").flatMap(ChatMessage.ID.init),
                provider: try row.optionalString("provider"), model: try row.optionalString("model"),
                latencyMillis: try row.optionalInt64("latency_ms").map(Int.init),
                firstTokenMillis: try row.optionalInt64("first_token_ms").map(Int.init),
                promptTokens: try row.optionalInt64("prompt_tokens").map(Int.init),
                completionTokens: try row.optionalInt64("completion_tokens").map(Int.init),
                confidence: try row.optionalDouble("confidence"),
                citations: try JSONColumn.decode([String].self, from: try row.string("citations")),
                createdAt: try row.date("created_at"))
            item.id = try row.string("id")
            item.feedback = try row.optionalString("feedback")
            item.feedbackComment = try row.optionalString("feedback_comment")
            return item
        }
    }

    /// Thumbs up or down on an AI message (the latest vote counts).
    /// Inside `ChatWriter.recordFeedback`'s transaction: the visitor's rating of an assistant's
    /// reply; returns it, or throws "not found" when no interaction holds that reply.
    static func recordFeedback(
        on messageID: ChatMessage.ID, helpful: Bool, comment: String?, in organizationID: Organization.ID, now: Date,
        db: any SQLDatabase
    ) async throws -> AssistantFeedback {
        let row = try await db.raw(
            """
            UPDATE ai_interactions SET feedback = \(bind: helpful ? "up" : "down"), feedback_comment = \(bind: comment),
                feedback_at = \(bind: now.millis)
            WHERE message_id = \(bind: messageID.description) AND organization_id = \(bind: organizationID.description)
            RETURNING session_id
            """
        ).first()
        guard let row else { throw DomainError.notFound(entity: "assistant reply") }
        return AssistantFeedback(
            organizationID: organizationID, sessionID: ChatSession.ID(try row.string("session_id")),
            messageID: messageID, helpful: helpful, comment: comment, createdAt: now)
    }

    /// An agent's mark on one of the assistant's answers.
    public struct Review: Sendable, Hashable {
        public var messageID: ChatMessage.ID
        /// `right` or `wrong`; nil clears the mark.
        public var verdict: String?
        public var reviewedBy: Agent.ID?
        public var reviewedAt: Date?
    }

    /// Marks the assistant's answer `messageID` in conversation `sessionID` right or wrong (nil
    /// clears it); "not found" when it is not an answer of the assistant there.
    public func review(
        _ messageID: ChatMessage.ID, in sessionID: ChatSession.ID, organizationID: Organization.ID, verdict: String?,
        by agent: Agent.ID
    ) async throws -> Review {
        let now = self.now()
        let row = try await self.engine.transaction { db in
            try await db.raw(
                """
                UPDATE ai_interactions SET review = \(bind: verdict), reviewed_by = \(bind: verdict == nil ? nil : agent.description),
                    reviewed_at = \(bind: verdict == nil ? nil : now.millis)
                WHERE message_id = \(bind: messageID.description) AND session_id = \(bind: sessionID.description)
                    AND organization_id = \(bind: organizationID.description)
                RETURNING message_id
                """
            ).first()
        }
        guard row != nil else { throw DomainError.notFound(entity: "assistant answer") }
        return Review(
            messageID: messageID, verdict: verdict, reviewedBy: verdict == nil ? nil : agent,
            reviewedAt: verdict == nil ? nil : now)
    }

    /// The marks on a conversation's answers.
    public func reviews(in sessionID: ChatSession.ID, organizationID: Organization.ID) async throws -> [Review] {
        let rows = try await self.engine.read { db in
            try await db.raw(
                """
                SELECT message_id, review, reviewed_by, reviewed_at FROM ai_interactions
                WHERE session_id = \(bind: sessionID.description) AND organization_id = \(bind: organizationID.description)
                    AND review IS NOT NULL AND message_id IS NOT NULL
                ORDER BY reviewed_at
                """
            ).all()
        }
        return try rows.compactMap { row in
            guard let id = ChatMessage.ID(try row.string("message_id")) else { return nil }
            return Review(
                messageID: id, verdict: try row.optionalString("review"),
                reviewedBy: try row.optionalString("reviewed_by").flatMap(Agent.ID.init),
                reviewedAt: try row.optionalDate("reviewed_at"))
        }
    }
}
