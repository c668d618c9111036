import Foundation
public import ParleyCore
import SQLKit

/// Knowledge-base articles and their full-text search, scoped by organization.
public struct ArticleStore: Sendable {
    let engine: any DatabaseEngine
    let now: @Sendable () -> Date

    /// What an article is made of; every field is checked.
    public struct Draft: Sendable {
        public var title: String
        public var body: String
        public var url: String?
        public var tags: [String]
        public var published: Bool

        public init(title: String, body: String, url: String? = nil, tags: [String] = [], published: Bool = true) {
            self.title = title
            self.body = body
            self.url = url
            self.tags = tags
            self.published = published
        }

        func validated() throws(ValidationError) -> Draft {
            var draft = self
            draft.title = try Validate.text(self.title, field: "title", max: 300)
            draft.body = try Validate.text(
                self.body, field: "body", max: Validate.maximumArticleLength, allowEmpty: true)
            draft.url = try Validate.url(self.url, field: "url")
            draft.tags = try Validate.tags(self.tags)
            return draft
        }
    }

    /// One search hit: the article, its rank (higher is better), its best passages (best first,
    /// at least one) and a short excerpt of the best around the match.
    public struct Hit: Sendable {
        public var article: Article
        public var score: Double
        public var excerpt: String
        public var passages: [PassageHit]

        /// The best passage's text.
        public var passage: String { self.passages.first?.text ?? "" }
    }

    public func create(_ draft: Draft, in organizationID: Organization.ID) async throws -> Article {
        let draft = try draft.validated()
        let now = self.now()
        let article = Article(
            id: .init(), organizationID: organizationID, title: draft.title, body: draft.body, url: draft.url,
            tags: draft.tags,
            published: draft.published, createdAt: now, updatedAt: now)
        try await self.engine.transaction { db in
            try await Self.insert(article, db: db)
            try await Self.writePassages(of: article, db: db)
        }
        return article
    }

    static func insert(_ article: Article, db: any SQLDatabase) async throws {
        try await db.raw(
            """
            INSERT INTO articles (id, organization_id, title, body, url, tags, published, created_at, updated_at)
            VALUES (\(bind: article.id.description), \(bind: article.organizationID.description), \(bind: article.title),
                \(bind: article.body), \(bind: article.url), \(bind: try JSONColumn.encode(article.tags)), \(bind: article.published),
                \(bind: article.createdAt.millis), \(bind: article.updatedAt.millis))
            """
        ).run()
    }

    public func find(_ id: Article.ID, in organizationID: Organization.ID) async throws -> Article {
        try await self.engine.read { db in try await Self.find(id, in: organizationID, db: db) }
    }

    static func find(_ id: Article.ID, in organizationID: Organization.ID, db: any SQLDatabase) async throws -> Article
    {
        let row = try await db.raw(
            "SELECT * FROM articles WHERE id = \(bind: id.description) AND organization_id = \(bind: organizationID.description)"
        ).first()
        guard let row else { throw DomainError.notFound(entity: "article") }
        return try Self.decode(row)
    }

    public func list(in organizationID: Organization.ID, page: PageRequest) async throws -> Page<Article> {
        let rows = try await self.engine.read { db in
            try await db.raw(
                """
                SELECT * FROM articles WHERE organization_id = \(bind: organizationID.description)
                \(Keyset.after(page.cursor)) ORDER BY created_at DESC, id DESC LIMIT \(bind: page.limit + 1)
                """
            ).all()
        }
        return Page(fetched: try rows.map(Self.decode), limit: page.limit) {
            PageCursor(sortKey: $0.createdAt.millis, id: $0.id.description)
        }
    }

    public func update(_ id: Article.ID, in organizationID: Organization.ID, to draft: Draft) async throws -> Article {
        let draft = try draft.validated()
        let now = self.now()
        return try await self.engine.transaction { db in
            var article = try await Self.find(id, in: organizationID, db: db)
            (article.title, article.body, article.url, article.tags, article.published, article.updatedAt) =
                (draft.title, draft.body, draft.url, draft.tags, draft.published, now)
            try await db.raw(
                """
                UPDATE articles SET title = \(bind: article.title), body = \(bind: article.body), url = \(bind: article.url),
                    tags = \(bind: try JSONColumn.encode(article.tags)), published = \(bind: article.published),
                    updated_at = \(bind: now.millis)
                WHERE id = \(bind: id.description) AND organization_id = \(bind: organizationID.description)
                """
            ).run()
            try await Self.writePassages(of: article, db: db)
            return article
        }
    }

    public func delete(_ id: Article.ID, in organizationID: Organization.ID) async throws {
        try await self.engine.transaction { db in
            _ = try await Self.find(id, in: organizationID, db: db)
            try await Self.deletePassages(of: id, in: organizationID, db: db)
            try await db.raw(
                "DELETE FROM articles WHERE id = \(bind: id.description) AND organization_id = \(bind: organizationID.description)"
            ).run()
        }
    }

    /// Imports Markdown documents: an article with the same title is updated, others are created.
    /// Returns how many were created and updated.
    public func importMarkdown(_ files: [(name: String, text: String)], in organizationID: Organization.ID) async throws
        -> (
            created: Int, updated: Int
        )
    {
        let drafts = try files.enumerated().map { index, file throws -> Draft in
            let parsed = MarkdownArticle(fileName: file.name, text: file.text)
            do {
                return try Draft(
                    title: parsed.title, body: parsed.body, url: parsed.url, tags: parsed.tags,
                    published: parsed.published
                )
                .validated()
            } catch let error as ValidationError {
                throw ValidationError(
                    field: "files[\(index)].\(error.field)", message: "\(file.name): \(error.message)")
            }
        }
        let now = self.now()
        return try await self.engine.transaction { db in
            var created = 0
            var updated = 0
            for draft in drafts {
                if let row = try await db.raw(
                    "SELECT * FROM articles WHERE organization_id = \(bind: organizationID.description) AND title = \(bind: draft.title)"
                ).first() {
                    var article = try Self.decode(row)
                    (article.body, article.url, article.tags, article.published, article.updatedAt) =
                        (draft.body, draft.url, draft.tags, draft.published, now)
                    try await Self.writePassages(of: article, db: db)
                    try await db.raw(
                        """
                        UPDATE articles SET body = \(bind: draft.body), url = \(bind: draft.url), tags = \(bind: try JSONColumn.encode(draft.tags)),
                            published = \(bind: draft.published), updated_at = \(bind: now.millis)
                        WHERE id = \(bind: try row.string("id"))
                        """
                    ).run()
                    updated += 1
                } else {
                    let article = Article(
                        id: .init(), organizationID: organizationID, title: draft.title, body: draft.body,
                        url: draft.url, tags: draft.tags, published: draft.published, createdAt: now, updatedAt: now)
                    try await Self.insert(article, db: db)
                    try await Self.writePassages(of: article, db: db)
                    created += 1
                }
            }
            return (created, updated)
        }
    }

    /// The best-matching articles for `text` by full text alone (BM25 over passages), in this
    /// organization only, best first, each with its best passages. `Retriever` fuses this with
    /// vectors when the organization has an embeddings provider.
    public func search(_ text: String, in organizationID: Organization.ID, publishedOnly: Bool, limit: Int = 10)
        async throws -> [Hit]
    {
        let found = try await self.passageSearch(text, in: organizationID, publishedOnly: publishedOnly, limit: 50)
        return try await self.hits(
            ranked: found.map { ($0.id, $0.score) }, known: found, query: text, in: organizationID, limit: limit)
    }

    static func decode(_ row: any SQLRow) throws -> Article {
        guard let id = Article.ID(try row.string("id")), let org = Organization.ID(try row.string("organization_id"))
        else {
            throw CorruptRowError(description: "article row")
        }
        return Article(
            id: id, organizationID: org, title: try row.string("title"), body: try row.string("body"),
            url: try row.optionalString("url"),
            tags: try JSONColumn.decode([String].self, from: try row.string("tags")),
            published: try row.bool("published"),
            createdAt: try row.date("created_at"), updatedAt: try row.date("updated_at"))
    }
}
