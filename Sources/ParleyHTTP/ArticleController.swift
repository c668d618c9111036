import Foundation
import Hummingbird
public import ParleyCore
public import ParleyStore

/// The knowledge base: `/api/v1/admin/kb/*`. Agents read and search; admins write and import.
public struct ArticleController: Sendable {
    let articles: ArticleStore
    let assistant: AssistantStore
    /// Ranks articles for a query as the assistant does (hybrid when the organization has
    /// embeddings); nil: full text alone.
    let searcher: KnowledgeSearcher?

    public init(articles: ArticleStore, assistant: AssistantStore, searcher: KnowledgeSearcher? = nil) {
        self.articles = articles
        self.assistant = assistant
        self.searcher = searcher
    }

    struct ArticleRequest: Decodable {
        var title: String
        var body: String
        var url: String?
        var tags: [String]?
        var published: Bool?
    }

    struct ImportRequest: Decodable {
        struct File: Decodable {
            var name: String
            var markdown: String
        }
        var files: [File]
    }

    struct ArticleResponse: ResponseEncodable {
        var id: String
        var title: String
        var body: String
        var url: String?
        var tags: [String]
        var published: Bool
        var createdAt: Date
        var updatedAt: Date

        init(_ article: Article) {
            self.id = article.id.description
            self.title = article.title
            self.body = article.body
            self.url = article.url
            self.tags = article.tags
            self.published = article.published
            self.createdAt = article.createdAt
            self.updatedAt = article.updatedAt
        }
    }

    struct SearchResponse: ResponseEncodable {
        struct Hit: Encodable {
            var id: String
            var title: String
            var url: String?
            var excerpt: String
            /// The article's best passage, whole.
            var passage: String
            var passageHeading: String
            var score: Double
            var published: Bool
        }
        var data: [Hit]
    }

    struct IndexResponse: ResponseEncodable {
        /// `fulltext` (no embeddings provider) or `hybrid`.
        var mode: String
        var model: String?
        var passages: Int
        var embedded: Int
        var provider: ProviderState?

        struct ProviderState: Encodable {
            var kind: String
            var baseUrl: String
            var derived: Bool
            var healthy: Bool?
            var lastError: String?
        }
    }

    struct ImportResponse: ResponseEncodable {
        var created: Int
        var updated: Int
    }

    func addRoutes(to group: RouterGroup<AgentContext>) {
        group.get("kb/articles", use: self.list)
        group.post("kb/articles", use: self.create)
        group.get("kb/articles/:article", use: self.show)
        group.patch("kb/articles/:article", use: self.update)
        group.delete("kb/articles/:article", use: self.delete)
        group.get("kb/search", use: self.search)
        group.get("kb/index", use: self.index)
        group.post("kb/import", use: self.importFiles)
    }

    func list(_ request: Request, context: AgentContext) async throws -> PageResponse<ArticleResponse> {
        try context.principal.require(.answerConversations)
        return PageResponse(
            try await self.articles.list(in: context.organizationID, page: try request.pageRequest()),
            ArticleResponse.init)
    }

    func show(_ request: Request, context: AgentContext) async throws -> ArticleResponse {
        try context.principal.require(.answerConversations)
        return ArticleResponse(
            try await self.articles.find(
                try context.id("article", as: Article.ID.self, entity: "article"), in: context.organizationID))
    }

    func create(_ request: Request, context: AgentContext) async throws -> EditedResponse<ArticleResponse> {
        try context.principal.require(.manageSettings)
        let input = try await request.decodeJSON(as: ArticleRequest.self, context: context)
        let article = try await self.articles.create(Self.draft(input), in: context.organizationID)
        return EditedResponse(status: .created, response: ArticleResponse(article))
    }

    func update(_ request: Request, context: AgentContext) async throws -> ArticleResponse {
        try context.principal.require(.manageSettings)
        let id = try context.id("article", as: Article.ID.self, entity: "article")
        let input = try await request.decodeJSON(as: ArticleRequest.self, context: context)
        return ArticleResponse(try await self.articles.update(id, in: context.organizationID, to: Self.draft(input)))
    }

    func delete(_ request: Request, context: AgentContext) async throws -> Response {
        try context.principal.require(.manageSettings)
        try await self.articles.delete(
            try context.id("article", as: Article.ID.self, entity: "article"), in: context.organizationID)
        return Response(status: .noContent)
    }

    /// `?q=words&published=true&limit=N`: articles ranked as the assistant ranks them (published
    /// only) or all, each with its best passage.
    func search(_ request: Request, context: AgentContext) async throws -> SearchResponse {
        try context.principal.require(.answerConversations)
        guard let text = request.uri.queryParameters["q"].map(String.init), !text.isEmpty, text.count <= 1000 else {
            throw ValidationError(field: "q", message: "q must be 1 to 1000 characters.")
        }
        var limit = 20
        if let value = request.uri.queryParameters["limit"] {
            guard let parsed = Int(value), (1...50).contains(parsed) else {
                throw ValidationError(field: "limit", message: "limit must be a whole number from 1 to 50.")
            }
            limit = parsed
        }
        let published = request.uri.queryParameters["published"] == "true"
        let hits: [ArticleStore.Hit]
        if let searcher = self.searcher {
            hits = try await searcher(text, context.organizationID, published, limit)
        } else {
            hits = try await self.articles.search(
                text, in: context.organizationID, publishedOnly: published, limit: limit)
        }
        return SearchResponse(
            data: hits.map {
                .init(
                    id: $0.article.id.description, title: $0.article.title, url: $0.article.url, excerpt: $0.excerpt,
                    passage: $0.passage, passageHeading: $0.passages.first?.heading ?? $0.article.title,
                    score: $0.score, published: $0.article.published)
            })
    }

    /// How far the semantic index is: passages, and how many have a vector of the provider's model.
    func index(_ request: Request, context: AgentContext) async throws -> IndexResponse {
        try context.principal.require(.answerConversations)
        guard let provider = try await self.assistant.embeddingsProvider(in: context.organizationID) else {
            let progress = try await self.articles.vectorProgress(in: context.organizationID, model: "")
            return IndexResponse(mode: "fulltext", model: nil, passages: progress.passages, embedded: 0, provider: nil)
        }
        let progress = try await self.articles.vectorProgress(in: context.organizationID, model: provider.model)
        return IndexResponse(
            mode: "hybrid", model: provider.model, passages: progress.passages, embedded: progress.embedded,
            provider: .init(
                kind: provider.kind.rawValue, baseUrl: provider.baseURL, derived: provider.derived,
                healthy: provider.healthy, lastError: provider.lastError))
    }

    /// Imports Markdown files (front matter or a `# ` heading gives the title); same title updates.
    func importFiles(_ request: Request, context: AgentContext) async throws -> ImportResponse {
        try context.principal.require(.manageSettings)
        let input = try await request.decodeJSON(as: ImportRequest.self, context: context)
        guard !input.files.isEmpty, input.files.count <= 500 else {
            throw ValidationError(field: "files", message: "files must list 1 to 500 Markdown files.")
        }
        let result = try await self.articles.importMarkdown(
            input.files.map { ($0.name, $0.markdown) }, in: context.organizationID)
        return ImportResponse(created: result.created, updated: result.updated)
    }

    static func draft(_ input: ArticleRequest) -> ArticleStore.Draft {
        .init(
            title: input.title, body: input.body, url: input.url, tags: input.tags ?? [],
            published: input.published ?? true)
    }
}

/// Ranks articles for a query: (text, organization, published only, limit).
public typealias KnowledgeSearcher = @Sendable (String, Organization.ID, Bool, Int) async throws -> [ArticleStore.Hit]
