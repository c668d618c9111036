import Crypto
public import Foundation
public import ParleyCore
import SQLKit

/// One passage found by search: where it is, what it says, and its score in the list it came from.
public struct PassageHit: Sendable, Hashable {
    /// `<article id>#<position>`: rewritten with its article, never reused for another.
    public var id: String
    public var articleID: Article.ID
    public var position: Int
    public var heading: String
    public var text: String
    public var score: Double

    public init(id: String, articleID: Article.ID, position: Int, heading: String, text: String, score: Double) {
        self.id = id
        self.articleID = articleID
        self.position = position
        self.heading = heading
        self.text = text
        self.score = score
    }
}

/// The vectors of an organization's passages, as the in-memory index loads them.
public struct PassageVectors: Sendable {
    /// The knowledge version they were read at.
    public var version: Int64
    public var model: String
    public var dimensions: Int
    public var passageIDs: [String]
    public var articleIDs: [Article.ID]
    public var published: [Bool]
    /// Row-major, `dimensions` floats per passage, each row of unit length.
    public var matrix: [Float]

    public init(
        version: Int64, model: String, dimensions: Int, passageIDs: [String], articleIDs: [Article.ID],
        published: [Bool], matrix: [Float]
    ) {
        self.version = version
        self.model = model
        self.dimensions = dimensions
        self.passageIDs = passageIDs
        self.articleIDs = articleIDs
        self.published = published
        self.matrix = matrix
    }
}

/// Passages, their full-text index and their vectors: written in the transaction of every change
/// to an article, with the organization's knowledge version bumped so every instance's vectors in
/// memory know they are stale.
extension ArticleStore {
    // MARK: Writing

    static func writePassages(of article: Article, db: any SQLDatabase) async throws {
        try await self.deletePassages(of: article.id, in: article.organizationID, db: db)
        for passage in Passage.split(title: article.title, body: article.body) {
            try await db.raw(
                """
                INSERT INTO article_passages (id, article_id, organization_id, position, heading, body, content_hash)
                VALUES (\(bind: "\(article.id)#\(passage.position)"), \(bind: article.id.description),
                    \(bind: article.organizationID.description), \(bind: passage.position), \(bind: passage.heading),
                    \(bind: passage.text), \(bind: Self.hash(passage.content)))
                """
            ).run()
        }
    }

    static func deletePassages(of id: Article.ID, in organizationID: Organization.ID, db: any SQLDatabase) async throws
    {
        try await db.raw("DELETE FROM article_passages WHERE article_id = \(bind: id.description)").run()
        try await self.bumpVersion(organizationID, db: db)
    }

    static func bumpVersion(_ organizationID: Organization.ID, db: any SQLDatabase) async throws {
        try await db.raw(
            """
            INSERT INTO knowledge_versions (organization_id, version) VALUES (\(bind: organizationID.description), 1)
            ON CONFLICT (organization_id) DO UPDATE SET version = knowledge_versions.version + 1
            """
        ).run()
    }

    /// What identifies a passage's text for its vector.
    public static func hash(_ content: String) -> String {
        SHA256.hash(data: Data(content.utf8)).prefix(16).map { String(format: "%02x", $0) }.joined()
    }

    /// Splits every article that has no passages yet (articles stored before passages existed).
    /// Runs after migrations; a no-op once done.
    static func backfillPassages(_ engine: any DatabaseEngine) async throws -> Int {
        let rows = try await engine.read { db in
            try await db.raw(
                "SELECT * FROM articles a WHERE NOT EXISTS (SELECT 1 FROM article_passages p WHERE p.article_id = a.id)"
            ).all()
        }
        let articles = try rows.map(Self.decode)
        for batch in stride(from: 0, to: articles.count, by: 200) {
            try await engine.transaction { db in
                for article in articles[batch..<min(articles.count, batch + 200)] {
                    try await Self.writePassages(of: article, db: db)
                }
            }
        }
        return articles.count
    }

    // MARK: Full-text search

    /// Passages ranked by BM25 (FTS5 on SQLite; a weighted tsvector on PostgreSQL), best first.
    /// The text is reduced to plain words, so no query syntax reaches either engine.
    public func passageSearch(_ text: String, in organizationID: Organization.ID, publishedOnly: Bool, limit: Int)
        async throws -> [PassageHit]
    {
        let all = SearchTerms.words(text)
        let meaningful = KnowledgeMatch.keywords(text)
        let words = meaningful.isEmpty ? all : meaningful
        guard !words.isEmpty else { return [] }
        let published: SQLQueryString = publishedOnly ? " AND a.published = \(bind: true)" : ""
        // The one full-text dialect branch.
        let rows = try await self.engine.read { db in
            switch db.parleyDialect {
            case .sqlite:
                let match = words.map { "\"\($0)\"" }.joined(separator: " OR ")
                return try await db.raw(
                    """
                    SELECT p.id, p.article_id, p.position, p.heading, p.body, -bm25(passages_fts, 4.0, 1.0) AS score
                    FROM passages_fts JOIN article_passages p ON p.rowid = passages_fts.rowid
                    JOIN articles a ON a.id = p.article_id
                    WHERE passages_fts MATCH \(bind: match) AND p.organization_id = \(bind: organizationID.description)
                    """ + published + " ORDER BY score DESC LIMIT \(bind: limit)"
                ).all()
            case .postgres:
                // BM25's shape over tsvector: each word's ts_rank weighted by its inverse document
                // frequency in the organization (ts_rank alone lets common words decide).
                return try await db.raw(
                    """
                    WITH terms AS (
                        SELECT DISTINCT to_tsquery('english', w) AS q FROM unnest(\(bind: words)::text[]) AS w
                    ), total AS (
                        SELECT COUNT(*)::float8 AS n FROM article_passages WHERE organization_id = \(bind: organizationID.description)
                    ), df AS (
                        SELECT t.q, (SELECT COUNT(*) FROM article_passages p
                            WHERE p.organization_id = \(bind: organizationID.description) AND p.search @@ t.q)::float8 AS n
                        FROM terms t WHERE numnode(t.q) > 0
                    )
                    SELECT p.id, p.article_id, p.position, p.heading, p.body,
                        SUM(ln(1 + (total.n - df.n + 0.5) / (df.n + 0.5)) * ts_rank(p.search, df.q))::float8 AS score
                    FROM df CROSS JOIN total
                    JOIN article_passages p ON p.search @@ df.q AND p.organization_id = \(bind: organizationID.description)
                    JOIN articles a ON a.id = p.article_id
                    WHERE TRUE
                    """ + published
                        + " GROUP BY p.id, p.article_id, p.position, p.heading, p.body ORDER BY score DESC LIMIT \(bind: limit)"
                ).all()
            }
        }
        return try rows.map { row in
            try Self.passage(row, score: try row.decode(column: "score", as: Double.self))
        }
    }

    static func passage(_ row: any SQLRow, score: Double) throws -> PassageHit {
        guard let article = Article.ID(try row.string("article_id")) else {
            throw CorruptRowError(description: "article_passages row")
        }
        return PassageHit(
            id: try row.string("id"), articleID: article, position: Int(try row.int64("position")),
            heading: try row.string("heading"), text: try row.string("body"), score: score)
    }

    /// Articles for passages ranked best first (as fusion left them): each article once, at its
    /// best passage's place, with up to two of its passages; `known` saves reading passages again.
    public func hits(
        ranked: [(id: String, score: Double)], known: [PassageHit], query: String, in organizationID: Organization.ID,
        limit: Int
    ) async throws -> [Hit] {
        var order: [Article.ID] = []
        var chosen: [Article.ID: [(id: String, score: Double)]] = [:]
        for item in ranked {
            guard let hash = item.id.firstIndex(of: "#"), let article = Article.ID(String(item.id[..<hash])) else {
                continue
            }
            if chosen[article] == nil {
                guard order.count < limit else { continue }
                order.append(article)
            }
            if chosen[article, default: []].count < 2 { chosen[article, default: []].append(item) }
        }
        guard !order.isEmpty else { return [] }
        var passages = Dictionary(known.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        let missing = chosen.values.flatMap { $0.map(\.id) }.filter { passages[$0] == nil }
        let articleIDs = order.map(\.description)
        let (passageRows, articleRows) = try await self.engine.read { db in
            (
                // By primary key alone (an organization filter in SQL lets the planner scan the
                // organization's index instead); the organization is checked on the rows.
                missing.isEmpty
                    ? []
                    : try await db.raw(
                        """
                        SELECT id, article_id, organization_id, position, heading, body FROM article_passages
                        WHERE id IN (\(binds: missing))
                        """
                    ).all(),
                try await db.raw("SELECT * FROM articles WHERE id IN (\(binds: articleIDs))").all()
            )
        }
        for row in passageRows where try row.string("organization_id") == organizationID.description {
            let passage = try Self.passage(row, score: 0)
            passages[passage.id] = passage
        }
        let articles = Dictionary(
            try articleRows.map(Self.decode).filter { $0.organizationID == organizationID }.map { ($0.id, $0) },
            uniquingKeysWith: { first, _ in first })
        let words = SearchTerms.words(query)
        return order.compactMap { id -> Hit? in
            guard let article = articles[id] else { return nil }
            let found = chosen[id, default: []].compactMap { item -> PassageHit? in
                guard var passage = passages[item.id] else { return nil }
                passage.score = item.score
                return passage
            }
            guard let best = found.first else { return nil }
            return Hit(
                article: article, score: best.score, excerpt: Self.excerpt(best.text, words: words), passages: found)
        }
    }

    /// About 240 characters of `body` around the first matching word.
    static func excerpt(_ body: String, words: [String]) -> String {
        let lowered = body.lowercased()
        let position = words.compactMap { lowered.range(of: $0)?.lowerBound }.min() ?? lowered.startIndex
        let offset = lowered.distance(from: lowered.startIndex, to: position)
        let start =
            body.index(body.startIndex, offsetBy: max(0, offset - 80), limitedBy: body.endIndex) ?? body.startIndex
        let end = body.index(start, offsetBy: 240, limitedBy: body.endIndex) ?? body.endIndex
        let passage = body[start..<end].replacingOccurrences(of: "\n", with: " ").trimmingCharacters(in: .whitespaces)
        return (start > body.startIndex ? "…" : "") + passage + (end < body.endIndex ? "…" : "")
    }

    // MARK: Vectors

    /// The organization's knowledge version: changes with every change to its passages or vectors.
    public func knowledgeVersion(in organizationID: Organization.ID) async throws -> Int64 {
        try await self.engine.read { db in
            try await db.raw(
                "SELECT version FROM knowledge_versions WHERE organization_id = \(bind: organizationID.description)"
            ).first()?.int64("version") ?? 0
        }
    }

    /// Every organization's knowledge version (organizations that never had an article have none).
    public func knowledgeVersions() async throws -> [Organization.ID: Int64] {
        let rows = try await self.engine.read { db in
            try await db.raw("SELECT organization_id, version FROM knowledge_versions").all()
        }
        var versions: [Organization.ID: Int64] = [:]
        for row in rows {
            if let id = Organization.ID(try row.string("organization_id")) { versions[id] = try row.int64("version") }
        }
        return versions
    }

    /// How many distinct passage texts the organization has, and how many have a vector of `model`.
    public func vectorProgress(in organizationID: Organization.ID, model: String) async throws
        -> (passages: Int, embedded: Int)
    {
        let row = try await self.engine.read { db in
            try await db.raw(
                """
                SELECT COUNT(DISTINCT p.content_hash) AS passages, COUNT(DISTINCT v.content_hash) AS embedded
                FROM article_passages p LEFT JOIN passage_vectors v ON v.organization_id = p.organization_id
                    AND v.model = \(bind: model) AND v.content_hash = p.content_hash
                WHERE p.organization_id = \(bind: organizationID.description)
                """
            ).first()
        }
        return (Int(try row?.int64("passages") ?? 0), Int(try row?.int64("embedded") ?? 0))
    }

    /// Up to `limit` passage texts (hash and content) with no vector of `model` yet.
    public func passagesWithoutVectors(in organizationID: Organization.ID, model: String, limit: Int) async throws
        -> [(hash: String, content: String)]
    {
        let rows = try await self.engine.read { db in
            try await db.raw(
                """
                SELECT p.content_hash, MIN(p.heading) AS heading, MIN(p.body) AS body FROM article_passages p
                WHERE p.organization_id = \(bind: organizationID.description) AND NOT EXISTS (
                    SELECT 1 FROM passage_vectors v WHERE v.organization_id = p.organization_id
                        AND v.model = \(bind: model) AND v.content_hash = p.content_hash)
                GROUP BY p.content_hash ORDER BY p.content_hash LIMIT \(bind: limit)
                """
            ).all()
        }
        return try rows.map {
            (
                try $0.string("content_hash"),
                Passage(position: 0, heading: try $0.string("heading"), text: try $0.string("body")).content
            )
        }
    }

    /// Stores vectors (normalised to unit length) for passage texts, and bumps the version.
    public func storeVectors(
        _ vectors: [(hash: String, vector: [Float])], model: String, in organizationID: Organization.ID
    ) async throws {
        guard !vectors.isEmpty else { return }
        let now = self.now()
        try await self.engine.transaction { db in
            for item in vectors {
                try await db.raw(
                    """
                    INSERT INTO passage_vectors (organization_id, model, content_hash, vector, created_at)
                    VALUES (\(bind: organizationID.description), \(bind: model), \(bind: item.hash),
                        \(bind: VectorCoding.encode(VectorCoding.normalized(item.vector))), \(bind: now.millis))
                    ON CONFLICT (organization_id, model, content_hash) DO NOTHING
                    """
                ).run()
            }
            try await Self.bumpVersion(organizationID, db: db)
        }
    }

    /// Removes vectors of other models and of texts no passage has any more.
    public func pruneVectors(in organizationID: Organization.ID, keeping model: String) async throws {
        try await self.engine.transaction { db in
            try await db.raw(
                """
                DELETE FROM passage_vectors WHERE organization_id = \(bind: organizationID.description)
                AND (model <> \(bind: model) OR NOT EXISTS (SELECT 1 FROM article_passages p
                    WHERE p.organization_id = passage_vectors.organization_id AND p.content_hash = passage_vectors.content_hash))
                """
            ).run()
        }
    }

    /// Every passage of the organization that has a vector of `model`, with it, read at one version.
    public func vectors(in organizationID: Organization.ID, model: String) async throws -> PassageVectors {
        try await self.engine.read { db in
            let version =
                try await db.raw(
                    "SELECT version FROM knowledge_versions WHERE organization_id = \(bind: organizationID.description)"
                ).first()?.int64("version") ?? 0
            let rows = try await db.raw(
                """
                SELECT p.id, p.article_id, a.published, v.vector FROM article_passages p
                JOIN passage_vectors v ON v.organization_id = p.organization_id AND v.model = \(bind: model)
                    AND v.content_hash = p.content_hash
                JOIN articles a ON a.id = p.article_id
                WHERE p.organization_id = \(bind: organizationID.description)
                """
            ).all()
            var result = PassageVectors(
                version: version, model: model, dimensions: 0, passageIDs: [], articleIDs: [], published: [],
                matrix: [])
            result.passageIDs.reserveCapacity(rows.count)
            for row in rows {
                let vector = VectorCoding.decode(try row.decode(column: "vector", as: Data.self))
                if result.dimensions == 0 {
                    result.dimensions = vector.count
                    result.matrix.reserveCapacity(vector.count * rows.count)
                }
                guard vector.count == result.dimensions, let article = Article.ID(try row.string("article_id"))
                else { continue }
                result.passageIDs.append(try row.string("id"))
                result.articleIDs.append(article)
                result.published.append(try row.bool("published"))
                result.matrix.append(contentsOf: vector)
            }
            return result
        }
    }
}

/// Vectors as stored: little-endian 32-bit floats.
public enum VectorCoding {
    public static func encode(_ vector: [Float]) -> Data {
        var data = Data(capacity: vector.count * 4)
        for value in vector {
            withUnsafeBytes(of: value.bitPattern.littleEndian) { data.append(contentsOf: $0) }
        }
        return data
    }

    public static func decode(_ data: Data) -> [Float] {
        let count = data.count / 4
        return data.withUnsafeBytes { raw in
            (0..<count).map { index in
                Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: index * 4, as: UInt32.self)))
            }
        }
    }

    /// The vector scaled to unit length (cosine similarity becomes a dot product).
    public static func normalized(_ vector: [Float]) -> [Float] {
        let norm = vector.reduce(0) { $0 + $1 * $1 }.squareRoot()
        return norm > 0 ? vector.map { $0 / norm } : vector
    }
}
