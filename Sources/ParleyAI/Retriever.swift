public import Foundation
public import Logging
public import ParleyCore
public import ParleyOutbound
public import ParleyStore
import Synchronization

/// What retrieval found for a question.
public struct Retrieval: Sendable {
    /// Articles, best first, each with its best passages.
    public var hits: [ArticleStore.Hit]
    /// The cosine similarity of each passage the vectors ranked (by passage id); empty without
    /// embeddings.
    public var similarity: [String: Float]
    /// The article full text ranked first, and the one vectors ranked first.
    public var lexicalTop: Article.ID? { self.lexicalArticles.first }
    public var semanticTop: Article.ID? { self.semanticArticles.first }
    /// Each list's articles in its own order (what the fusion started from; eval reports them).
    public var lexicalArticles: [Article.ID]
    public var semanticArticles: [Article.ID]

    public init(
        hits: [ArticleStore.Hit], similarity: [String: Float] = [:], lexicalArticles: [Article.ID] = [],
        semanticArticles: [Article.ID] = []
    ) {
        self.hits = hits
        self.similarity = similarity
        self.lexicalArticles = lexicalArticles
        self.semanticArticles = semanticArticles
    }

    /// Whether vectors took part.
    public var usedEmbeddings: Bool { !self.similarity.isEmpty }

    /// The best similarity among an article's passages, if vectors ranked any.
    public func similarity(of hit: ArticleStore.Hit) -> Float? {
        hit.passages.compactMap { self.similarity[$0.id] }.max()
    }
}

/// Hybrid retrieval: BM25 over passages, fused by reciprocal rank with cosine similarity over the
/// organization's passage vectors (held in memory, reloaded when the knowledge version moves).
/// Without an embeddings provider, or when it fails, full text alone.
public final class Retriever: Sendable {
    let articles: ArticleStore
    let settings: AssistantStore
    let client: OutboundClient?
    let index = VectorIndex()
    let logger: Logger

    /// How many passages each list offers to the fusion.
    static let candidates = 50
    /// Full text counts half as much as vectors, and ranks are fused with a small constant (top
    /// places weigh more): on the Python FAQ set this lifted recall@1 from 77 % (equal weights,
    /// k = 60) to 82 % (BENCHMARKS.md has the grid).
    static let lexicalWeight = 0.5
    static let fusionK = 10.0

    public init(stores: Stores, client: OutboundClient?, logger: Logger) {
        self.articles = stores.articles
        self.settings = stores.assistant
        self.client = client
        self.logger = logger
    }

    public func search(_ text: String, in organizationID: Organization.ID, publishedOnly: Bool, limit: Int)
        async throws -> Retrieval
    {
        async let lexicalSearch = self.articles.passageSearch(
            text, in: organizationID, publishedOnly: publishedOnly, limit: Self.candidates)
        let semantic = await self.semanticSearch(text, in: organizationID, publishedOnly: publishedOnly)
        let lexical = try await lexicalSearch
        func articleOrder(_ ids: [String]) -> [String] {
            var seen = Set<String>()
            return ids.map { String($0.prefix { $0 != "#" }) }.filter { seen.insert($0).inserted }
        }
        let ranked: [(id: String, score: Double)]
        if semantic.isEmpty {
            ranked = lexical.map { ($0.id, $0.score) }
        } else {
            // Articles are ranked by fusing each list's article order; within an article, its
            // passages by their own fused score.
            let weights = [Self.lexicalWeight, 1]
            let passages = RankFusion.fuse([lexical.map(\.id), semantic.map(\.id)], weights: weights, k: Self.fusionK)
            let articleScores = Dictionary(
                uniqueKeysWithValues: RankFusion.fuse(
                    [articleOrder(lexical.map(\.id)), articleOrder(semantic.map(\.id))], weights: weights,
                    k: Self.fusionK
                ).map { ($0.id, $0.score) })
            ranked =
                passages.map { item in
                    (item.id, articleScores[String(item.id.prefix { $0 != "#" }), default: 0], item.score)
                }
                .sorted { $0.1 != $1.1 ? $0.1 > $1.1 : $0.2 > $1.2 }
                .map { ($0.0, $0.1) }
        }
        let hits = try await self.articles.hits(
            ranked: ranked, known: lexical, query: text, in: organizationID, limit: limit)
        return Retrieval(
            hits: hits, similarity: Dictionary(semantic.map { ($0.id, $0.score) }, uniquingKeysWith: { a, _ in a }),
            lexicalArticles: articleOrder(lexical.map(\.id)).compactMap(Article.ID.init),
            semanticArticles: articleOrder(semantic.map(\.id)).compactMap(Article.ID.init))
    }

    /// Passages nearest the question's vector; empty without a provider, vectors, or when the
    /// provider fails (logged and recorded in its health).
    func semanticSearch(_ text: String, in organizationID: Organization.ID, publishedOnly: Bool) async
        -> [(id: String, score: Float)]
    {
        guard let client = self.client else { return [] }
        do {
            guard let provider = try await self.settings.embeddingsProvider(in: organizationID) else { return [] }
            let version = try await self.articles.knowledgeVersion(in: organizationID)
            let vectors = try await self.index.snapshot(organizationID, model: provider.model, version: version) {
                try await self.articles.vectors(in: organizationID, model: provider.model)
            }
            guard !vectors.passageIDs.isEmpty else { return [] }
            let query = try await Embeddings.client(for: provider, client: client).embed([text], as: .query)
            guard let first = query.first else { return [] }
            return VectorIndex.nearest(
                VectorCoding.normalized(first), in: vectors, publishedOnly: publishedOnly, limit: Self.candidates)
        } catch {
            self.logger.warning(
                "Vector search failed; full text alone", metadata: ["parley.error": "\(error)"])
            if error is EmbeddingsError {
                try? await self.settings.recordEmbeddingsHealth(
                    in: organizationID, healthy: false, error: "\(error)")
            }
            return []
        }
    }
}

/// The organizations' passage vectors in memory, one snapshot per organization, replaced when
/// the organization's knowledge version moves (on any instance: the version is in the database).
public final class VectorIndex: Sendable {
    private let snapshots = Mutex<[Organization.ID: PassageVectors]>([:])

    public init() {}

    /// The current snapshot, loaded again when `version` or `model` differ from the held one.
    public func snapshot(
        _ organizationID: Organization.ID, model: String, version: Int64,
        load: () async throws -> PassageVectors
    ) async throws -> PassageVectors {
        if let held = self.snapshots.withLock({ $0[organizationID] }), held.version == version, held.model == model {
            return held
        }
        let loaded = try await load()
        self.snapshots.withLock { $0[organizationID] = loaded }
        return loaded
    }

    /// The `limit` passages most similar to `query` (unit length), best first: a dot product
    /// with every row, keeping the best few.
    public static func nearest(_ query: [Float], in vectors: PassageVectors, publishedOnly: Bool, limit: Int)
        -> [(id: String, score: Float)]
    {
        let dimensions = vectors.dimensions
        guard query.count == dimensions, dimensions > 0, limit > 0 else { return [] }
        var best: [(row: Int, score: Float)] = []
        best.reserveCapacity(limit + 1)
        var floor = -Float.infinity
        query.withUnsafeBufferPointer { q in
            vectors.matrix.withUnsafeBufferPointer { m in
                for row in 0..<vectors.passageIDs.count {
                    if publishedOnly && !vectors.published[row] { continue }
                    let sum = Self.dot(q, m, offset: row * dimensions, count: dimensions)
                    guard best.count < limit || sum > floor else { continue }
                    let at = best.firstIndex { $0.score < sum } ?? best.count
                    best.insert((row, sum), at: at)
                    if best.count > limit { best.removeLast() }
                    floor = best.count == limit ? best[best.count - 1].score : -Float.infinity
                }
            }
        }
        return best.map { (vectors.passageIDs[$0.row], $0.score) }
    }

    /// `query · matrix[offset..<offset+count]`, eight lanes at a time.
    @inline(__always)
    static func dot(
        _ query: UnsafeBufferPointer<Float>, _ matrix: UnsafeBufferPointer<Float>, offset: Int, count: Int
    ) -> Float {
        var lanes = SIMD8<Float>()
        var i = 0
        let q = query.baseAddress!
        let m = matrix.baseAddress! + offset
        while i + 8 <= count {
            let a = UnsafeRawPointer(q + i).loadUnaligned(as: SIMD8<Float>.self)
            let b = UnsafeRawPointer(m + i).loadUnaligned(as: SIMD8<Float>.self)
            lanes += a * b
            i += 8
        }
        var sum = lanes.sum()
        while i < count {
            sum += q[i] * m[i]
            i += 1
        }
        return sum
    }
}
