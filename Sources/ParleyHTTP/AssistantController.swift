import Foundation
import Hummingbird
import ParleyCore
public import ParleyOutbound
public import ParleyStore

/// The assistant's settings and providers: `/api/v1/admin/ai/*`. Agents read; admins change.
/// API keys are write-only: responses say whether one is set, never what it is. A provider's
/// base URL passes the outbound guard before it is saved (422 naming `baseUrl`).
public struct AssistantController: Sendable {
    let assistant: AssistantStore
    let outbound: OutboundGuard

    public init(assistant: AssistantStore, outbound: OutboundGuard) {
        self.assistant = assistant
        self.outbound = outbound
    }

    struct SettingsBody: ResponseEncodable, Decodable {
        var systemPrompt: String
        var welcomeMessage: String
        var contextMessages: Int
        var maxMessagesBeforeEscalation: Int
        var confidenceThreshold: Double
        var autoReplyRules: [AutoReplyRule]
        var autoResolveThreshold: Double?
        var groundingThreshold: Double?
        var maxAnswerWords: Int?
        var imagePrompt: String?

        init(_ settings: AssistantSettings) {
            self.systemPrompt = settings.systemPrompt
            self.welcomeMessage = settings.welcomeMessage
            self.contextMessages = settings.contextMessages
            self.maxMessagesBeforeEscalation = settings.maxMessagesBeforeEscalation
            self.confidenceThreshold = settings.confidenceThreshold
            self.autoReplyRules = settings.autoReplyRules
            self.autoResolveThreshold = settings.autoResolveThreshold
            self.groundingThreshold = settings.groundingThreshold
            self.maxAnswerWords = settings.maxAnswerWords
            self.imagePrompt = settings.imagePrompt
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(self.systemPrompt, forKey: .systemPrompt)
            try container.encode(self.welcomeMessage, forKey: .welcomeMessage)
            try container.encode(self.contextMessages, forKey: .contextMessages)
            try container.encode(self.maxMessagesBeforeEscalation, forKey: .maxMessagesBeforeEscalation)
            try container.encode(self.confidenceThreshold, forKey: .confidenceThreshold)
            try container.encode(self.autoReplyRules, forKey: .autoReplyRules)
            // Written as null when off, so clients see the setting exists.
            try container.encode(self.autoResolveThreshold, forKey: .autoResolveThreshold)
            try container.encode(self.groundingThreshold, forKey: .groundingThreshold)
            try container.encode(self.maxAnswerWords, forKey: .maxAnswerWords)
            try container.encode(self.imagePrompt, forKey: .imagePrompt)
        }

        var settings: AssistantSettings {
            AssistantSettings(
                systemPrompt: self.systemPrompt, welcomeMessage: self.welcomeMessage,
                contextMessages: self.contextMessages, maxMessagesBeforeEscalation: self.maxMessagesBeforeEscalation,
                confidenceThreshold: self.confidenceThreshold, autoReplyRules: self.autoReplyRules,
                autoResolveThreshold: self.autoResolveThreshold,
                groundingThreshold: self.groundingThreshold ?? AssistantSettings.defaultGroundingThreshold,
                maxAnswerWords: self.maxAnswerWords ?? 150, imagePrompt: self.imagePrompt)
        }
    }

    struct ProviderRequest: Decodable {
        var kind: ProviderKind
        var name: String
        var baseUrl: String?
        var model: String
        var apiKey: String?
        var enabled: Bool?
        var position: Int?
        /// Whether the model reads images (default false).
        var vision: Bool?
    }

    struct ProviderResponse: ResponseEncodable {
        struct Health: Encodable {
            var healthy: Bool?
            var lastError: String?
            var checkedAt: Date?
        }
        var id: String
        var kind: String
        var name: String
        var baseUrl: String
        var model: String
        var hasApiKey: Bool
        var enabled: Bool
        var position: Int
        var vision: Bool
        var health: Health
        var createdAt: Date
        var updatedAt: Date

        init(_ provider: AIProvider) {
            self.id = provider.id.description
            self.kind = provider.kind.rawValue
            self.name = provider.name
            self.baseUrl = provider.baseURL
            self.model = provider.model
            self.hasApiKey = provider.apiKey != nil
            self.enabled = provider.enabled
            self.position = provider.position
            self.vision = provider.vision
            self.health = Health(
                healthy: provider.healthy, lastError: provider.lastError, checkedAt: provider.checkedAt)
            self.createdAt = provider.createdAt
            self.updatedAt = provider.updatedAt
        }
    }

    struct ProvidersResponse: ResponseEncodable { var data: [ProviderResponse] }

    struct InteractionsResponse: ResponseEncodable {
        struct Item: Encodable {
            var id: String
            var sessionId: String
            var question: String
            var outcome: String
            var reason: String?
            var messageId: String?
            var provider: String?
            var model: String?
            var latencyMs: Int?
            var firstTokenMs: Int?
            var promptTokens: Int?
            var completionTokens: Int?
            var confidence: Double?
            var citations: [String]
            var feedback: String?
            var feedbackComment: String?
            var createdAt: Date
        }
        var data: [Item]
    }

    func addRoutes(to group: RouterGroup<AgentContext>) {
        group.get("settings", use: self.settings)
        group.put("settings", use: self.updateSettings)
        group.get("providers", use: self.providers)
        group.post("providers", use: self.addProvider)
        group.patch("providers/:provider", use: self.updateProvider)
        group.delete("providers/:provider", use: self.deleteProvider)
        group.get("interactions", use: self.interactions)
        group.get("embeddings", use: self.embeddings)
        group.put("embeddings", use: self.setEmbeddings)
        group.delete("embeddings", use: self.deleteEmbeddings)
    }

    struct EmbeddingsRequest: Decodable {
        var kind: EmbeddingsProvider.Kind
        var baseUrl: String?
        var model: String
        var queryModel: String?
        /// Nil keeps the stored key; empty removes it.
        var apiKey: String?
    }

    struct EmbeddingsResponse: ResponseEncodable {
        var kind: String
        var baseUrl: String
        var model: String
        var queryModel: String
        var hasApiKey: Bool
        /// Borrowed from the OpenAI chat provider, not configured.
        var derived: Bool
        var healthy: Bool?
        var lastError: String?

        init(_ provider: EmbeddingsProvider) {
            self.kind = provider.kind.rawValue
            self.baseUrl = provider.baseURL
            self.model = provider.model
            self.queryModel = provider.queryModel
            self.hasApiKey = provider.apiKey != nil
            self.derived = provider.derived
            self.healthy = provider.healthy
            self.lastError = provider.lastError
        }
    }

    /// The embeddings provider in use: configured, or borrowed from an OpenAI chat provider; 404 with none.
    func embeddings(_ request: Request, context: AgentContext) async throws -> EmbeddingsResponse {
        try context.principal.require(.answerConversations)
        guard let provider = try await self.assistant.embeddingsProvider(in: context.organizationID) else {
            throw DomainError.notFound(entity: "embeddings provider")
        }
        return EmbeddingsResponse(provider)
    }

    /// Sets the embeddings provider; its base URL is checked like a chat provider's. The index is
    /// rebuilt in the background for the new model.
    func setEmbeddings(_ request: Request, context: AgentContext) async throws -> EmbeddingsResponse {
        try context.principal.require(.manageSettings)
        let input = try await request.decodeJSON(as: EmbeddingsRequest.self, context: context)
        let url = (input.baseUrl?.isEmpty ?? true) ? input.kind.defaultBaseURL : input.baseUrl!
        // Every field first, then where the URL leads.
        let checked = try EmbeddingsProvider(
            kind: input.kind, baseURL: url, model: input.model, queryModel: input.queryModel ?? "",
            apiKey: input.apiKey
        ).validated()
        try await self.outbound.validate(checked.baseURL, field: "baseUrl")
        let provider = try await self.assistant.setEmbeddingsProvider(checked, in: context.organizationID)
        return EmbeddingsResponse(provider)
    }

    func deleteEmbeddings(_ request: Request, context: AgentContext) async throws -> Response {
        try context.principal.require(.manageSettings)
        try await self.assistant.deleteEmbeddingsProvider(in: context.organizationID)
        return Response(status: .noContent)
    }

    func settings(_ request: Request, context: AgentContext) async throws -> SettingsBody {
        try context.principal.require(.answerConversations)
        return SettingsBody(try await self.assistant.settings(in: context.organizationID))
    }

    func updateSettings(_ request: Request, context: AgentContext) async throws -> SettingsBody {
        try context.principal.require(.manageSettings)
        let input = try await request.decodeJSON(as: SettingsBody.self, context: context)
        return SettingsBody(try await self.assistant.updateSettings(input.settings, in: context.organizationID))
    }

    func providers(_ request: Request, context: AgentContext) async throws -> ProvidersResponse {
        try context.principal.require(.answerConversations)
        return ProvidersResponse(
            data: try await self.assistant.providers(in: context.organizationID).map(ProviderResponse.init))
    }

    func addProvider(_ request: Request, context: AgentContext) async throws -> EditedResponse<ProviderResponse> {
        try context.principal.require(.manageSettings)
        let input = try await request.decodeJSON(as: ProviderRequest.self, context: context)
        try await self.checkDestination(input)
        let provider = try await self.assistant.addProvider(Self.draft(input), in: context.organizationID)
        return EditedResponse(status: .created, response: ProviderResponse(provider))
    }

    func updateProvider(_ request: Request, context: AgentContext) async throws -> ProviderResponse {
        try context.principal.require(.manageSettings)
        let id = try context.id("provider", as: AIProvider.ID.self, entity: "provider")
        let input = try await request.decodeJSON(as: ProviderRequest.self, context: context)
        try await self.checkDestination(input)
        return ProviderResponse(
            try await self.assistant.updateProvider(id, Self.draft(input), in: context.organizationID))
    }

    func deleteProvider(_ request: Request, context: AgentContext) async throws -> Response {
        try context.principal.require(.manageSettings)
        let id = try context.id("provider", as: AIProvider.ID.self, entity: "provider")
        try await self.assistant.deleteProvider(id, in: context.organizationID)
        return Response(status: .noContent)
    }

    /// The assistant's latest interactions with their feedback (the accuracy report's raw data).
    func interactions(_ request: Request, context: AgentContext) async throws -> InteractionsResponse {
        try context.principal.require(.answerConversations)
        let items = try await self.assistant.interactions(in: context.organizationID, limit: 200)
        return InteractionsResponse(
            data: items.map {
                .init(
                    id: $0.id, sessionId: $0.sessionID.description, question: $0.question, outcome: $0.outcome,
                    reason: $0.reason, messageId: $0.messageID?.description, provider: $0.provider, model: $0.model,
                    latencyMs: $0.latencyMillis, firstTokenMs: $0.firstTokenMillis, promptTokens: $0.promptTokens,
                    completionTokens: $0.completionTokens, confidence: $0.confidence, citations: $0.citations,
                    feedback: $0.feedback, feedbackComment: $0.feedbackComment, createdAt: $0.createdAt)
            })
    }

    /// The base URL (or the kind's default) must be a destination the guard allows: public, or
    /// opted in by the operator.
    func checkDestination(_ input: ProviderRequest) async throws {
        let url = (input.baseUrl?.isEmpty ?? true) ? input.kind.defaultBaseURL : input.baseUrl!
        try await self.outbound.validate(url, field: "baseUrl")
    }

    static func draft(_ input: ProviderRequest) -> AssistantStore.ProviderDraft {
        .init(
            kind: input.kind, name: input.name, baseURL: input.baseUrl, model: input.model, apiKey: input.apiKey,
            enabled: input.enabled ?? true, position: input.position, vision: input.vision ?? false)
    }
}
