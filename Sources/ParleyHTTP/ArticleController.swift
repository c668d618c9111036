import Foundation
import Hummingbird
import ParleyCore
public import ParleyStore

/// The knowledge base: `/api/v1/admin/kb/*`. Agents read and search; admins write and import.
public struct ArticleController: Sendable {
    let articles: ArticleStore

    public init(articles: ArticleStore) { self.articles = articles }

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
            var score: Double
            var published: Bool
        }
        var data: [Hit]
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

    /// `?q=words&published=true`: full-text search as the assistant sees it (published only) or all.
    func search(_ request: Request, context: AgentContext) async throws -> SearchResponse {
        try context.principal.require(.answerConversations)
        guard let text = request.uri.queryParameters["q"].map(String.init), !text.isEmpty, text.count <= 1000 else {
            throw ValidationError(field: "q", message: "q must be 1 to 1000 characters.")
        }
        let hits = try await self.articles.search(
            text, in: context.organizationID, publishedOnly: request.uri.queryParameters["published"] == "true",
            limit: 20)
        return SearchResponse(
            data: hits.map {
                .init(
                    id: $0.article.id.description, title: $0.article.title, url: $0.article.url, excerpt: $0.excerpt,
                    score: $0.score,
                    published: $0.article.published)
            })
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
