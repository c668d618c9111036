public import ParleyOutbound
public import Foundation
public import Logging
public import ParleyAI
public import ParleyCore
public import ParleyStore

/// `parley eval`: runs a set of questions against an organization's assistant and knowledge base
/// (as configured: its providers, or the knowledge-base fallback without one) and measures how it
/// does. Nothing is written to any conversation.
public enum Evaluation {
    /// One question and what should happen: an article (any of `accept`), a handoff, or (`safe`)
    /// an answer free of `mustNotContain` and within `maxCharacters`.
    public struct Case: Sendable, Decodable {
        public var question: String
        /// `article`, `handoff`, `safe`, or (the first format) an accepted article's title.
        public var expect: String
        public var accept: [String]
        public var mustNotContain: [String]
        public var maxCharacters: Int?

        enum CodingKeys: String, CodingKey { case question, expect, accept, mustNotContain, maxCharacters }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            self.question = try container.decode(String.self, forKey: .question)
            self.expect = try container.decode(String.self, forKey: .expect)
            self.accept = try container.decodeIfPresent([String].self, forKey: .accept) ?? []
            self.mustNotContain = try container.decodeIfPresent([String].self, forKey: .mustNotContain) ?? []
            self.maxCharacters = try container.decodeIfPresent(Int.self, forKey: .maxCharacters)
            if !["article", "handoff", "safe"].contains(self.expect.lowercased()) {
                self.accept = [self.expect] + self.accept
                self.expect = "article"
            }
        }

        public var expectsHandoff: Bool { self.expect.lowercased() == "handoff" }
        public var isSafety: Bool { self.expect.lowercased() == "safe" }
        public var expectsArticle: Bool { !self.expectsHandoff && !self.isSafety }

        func accepts(_ title: String) -> Bool { self.accept.contains { $0.lowercased() == title.lowercased() } }
    }

    struct File: Decodable { var cases: [Case] }

    /// Reads `{"cases": [{"question": …, "expect": "article", "accept": ["Title", …]} | {"question": …,
    /// "expect": "handoff"} | {"question": …, "expect": "safe", "mustNotContain": […], "maxCharacters": N}]}`;
    /// `"expect": "Title"` is still read as one accepted article.
    public static func cases(from data: Data) throws -> [Case] {
        let cases = try JSONDecoder().decode(File.self, from: data).cases
        guard !cases.isEmpty else { throw EvalError(description: "the eval set has no cases") }
        for (index, item) in cases.enumerated() where item.expectsArticle && item.accept.isEmpty {
            throw EvalError(description: "case \(index + 1) expects an article but accepts none")
        }
        return cases
    }

    struct EvalError: Error, CustomStringConvertible { var description: String }

    /// What happened to one case.
    public struct Result: Sendable, Encodable {
        public var item: Case
        /// `answer`, `resolve`, `article`, `auto_reply`, `handoff` (or `retrieval` with --retrieval-only).
        public var kind: String
        public var citedTitles: [String]
        /// The titles retrieval ranked, best first.
        public var retrievedTitles: [String]
        /// The titles full text alone and vectors alone ranked (the lists fusion started from).
        public var lexicalTitles: [String] = []
        public var semanticTitles: [String] = []
        public var body: String
        public var confidence: Double?
        /// What the no-model decision rested on (for calibrating it).
        public var signals: String?
        public var millis: Int
        public var firstTokenMillis: Int?

        public var handedOver: Bool { self.kind == "handoff" }
        /// The rank (1-based) of the first accepted article retrieval found, if any.
        public var acceptedRank: Int? { self.rank(in: self.retrievedTitles) }

        func rank(in titles: [String]) -> Int? { titles.firstIndex(where: self.item.accepts).map { $0 + 1 } }
        /// Right when it handed over as expected, answered citing an accepted article, or (safe)
        /// kept clear of every forbidden string and within the length.
        public var correct: Bool {
            if self.item.isSafety {
                let lowered = self.body.lowercased()
                return !self.item.mustNotContain.contains { lowered.contains($0.lowercased()) }
                    && self.body.count <= (self.item.maxCharacters ?? Int.max)
            }
            return self.item.expectsHandoff
                ? self.handedOver
                : !self.handedOver && self.citedTitles.contains(where: self.item.accepts)
        }

        enum CodingKeys: String, CodingKey {
            case question, expect, accept, kind, cited, retrieved, acceptedRank, correct, confidence, signals, millis,
                body
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(self.item.question, forKey: .question)
            try container.encode(self.item.expect, forKey: .expect)
            try container.encode(self.item.accept, forKey: .accept)
            try container.encode(self.kind, forKey: .kind)
            try container.encode(self.citedTitles, forKey: .cited)
            try container.encode(Array(self.retrievedTitles.prefix(5)), forKey: .retrieved)
            try container.encode(self.acceptedRank, forKey: .acceptedRank)
            try container.encode(self.correct, forKey: .correct)
            try container.encode(self.confidence, forKey: .confidence)
            try container.encodeIfPresent(self.signals, forKey: .signals)
            try container.encode(self.millis, forKey: .millis)
            try container.encode(self.body, forKey: .body)
        }
    }

    /// The figures of a run.
    public struct Report: Sendable {
        public var results: [Result]

        /// Whether the run called no model and offered nothing (`--retrieval-only`).
        public var retrievalOnly = false

        var articleCases: [Result] { self.results.filter { $0.item.expectsArticle } }
        var handoffCases: [Result] { self.results.filter { $0.item.expectsHandoff } }
        var safetyCases: [Result] { self.results.filter { $0.item.isSafety } }
        /// Of the questions the knowledge base answers, the share whose accepted article
        /// retrieval ranked within the first `k`.
        public func recall(at k: Int) -> Double {
            Self.share(self.articleCases) { ($0.acceptedRank ?? Int.max) <= k }
        }

        /// The same for one of the lists fusion started from.
        func recall(at k: Int, of list: KeyPath<Result, [String]>) -> Double {
            Self.share(self.articleCases) { ($0.rank(in: $0[keyPath: list]) ?? Int.max) <= k }
        }
        /// Of the questions the knowledge base answers, the share answered (not handed over).
        public var answerRate: Double { Self.share(self.articleCases) { !$0.handedOver } }
        /// Of all questions, the share handed over.
        public var handoffRate: Double { Self.share(self.results) { $0.handedOver } }
        /// Of the answered questions, the share citing the expected article.
        public var citationAccuracy: Double {
            Self.share(self.articleCases.filter { !$0.handedOver }) { $0.correct }
        }
        /// Of the questions that should go to a person, the share that did.
        public var handoffAccuracy: Double { Self.share(self.handoffCases) { $0.handedOver } }
        public var accuracy: Double { Self.share(self.results) { $0.correct } }

        static func share(_ results: [Result], _ predicate: (Result) -> Bool) -> Double {
            results.isEmpty ? 0 : Double(results.filter(predicate).count) / Double(results.count)
        }

        static func percentile(_ values: [Int], _ p: Double) -> Int? {
            guard !values.isEmpty else { return nil }
            let sorted = values.sorted()
            return sorted[min(sorted.count - 1, Int((Double(sorted.count - 1) * p).rounded()))]
        }

        public var text: String {
            func percent(_ value: Double) -> String { String(format: "%.0f%%", value * 100) }
            let latencies = self.results.map(\.millis)
            let firstTokens = self.results.compactMap(\.firstTokenMillis)
            var recall =
                "retrieval:         recall@1 \(percent(self.recall(at: 1))), recall@3 \(percent(self.recall(at: 3))), recall@5 \(percent(self.recall(at: 5))) of \(self.articleCases.count) answerable questions"
            if self.results.contains(where: { !$0.semanticTitles.isEmpty }) {
                for (name, list) in [("full text", \Result.lexicalTitles), ("vectors", \Result.semanticTitles)] {
                    recall +=
                        "\n  \(name) alone:\(String(repeating: " ", count: 10 - name.count))recall@1 \(percent(self.recall(at: 1, of: list))), recall@3 \(percent(self.recall(at: 3, of: list))), recall@5 \(percent(self.recall(at: 5, of: list)))"
                }
            }
            let cases =
                "cases: \(self.results.count) (\(self.articleCases.count) expect an article, \(self.handoffCases.count) a handoff, \(self.safetyCases.count) safety)"
            if self.retrievalOnly { return [cases, recall].joined(separator: "\n") }
            let answered = self.articleCases.filter { !$0.handedOver }
            var lines = [
                cases, recall,
                "answer rate:       \(percent(self.answerRate)) of the questions the knowledge base answers",
                "handoff rate:      \(percent(self.handoffRate)) of all questions (expected handoffs taken: \(percent(self.handoffAccuracy)))",
                "citation accuracy: \(percent(self.citationAccuracy)) of answers cite an accepted article (\(answered.filter(\.correct).count) of \(answered.count))",
                "safety:            \(self.safetyCases.filter(\.correct).count) of \(self.safetyCases.count) safe",
                "overall accuracy:  \(percent(self.accuracy))",
                "latency:           p50 \(Self.percentile(latencies, 0.5) ?? 0) ms, p90 \(Self.percentile(latencies, 0.9) ?? 0) ms, max \(latencies.max() ?? 0) ms",
            ]
            if !firstTokens.isEmpty {
                lines.append(
                    "first token:       p50 \(Self.percentile(firstTokens, 0.5)!) ms, p90 \(Self.percentile(firstTokens, 0.9)!) ms"
                )
            }
            return lines.joined(separator: "\n")
        }
    }

    /// Runs every case against `organization`'s assistant, one after another, reporting progress.
    public static func run(
        _ cases: [Case], stores: Stores, organization: Organization.ID, client: OutboundClient?,
        options: Assistant.Options = Assistant.Options(), retrievalOnly: Bool = false, logger: Logger,
        progress: @Sendable (Int, Result) -> Void = { _, _ in }
    ) async throws -> Report {
        let committer = Committer(engine: stores.engine, origin: "eval") { _ in }
        let writer = ChatWriter(committer: committer, logger: logger)
        let ticketWriter = TicketWriter(committer: committer, tickets: stores.tickets)
        let assistant = Assistant(
            stores: stores, writer: writer,
            handoff: Handoff(chats: stores.chats, tickets: stores.tickets, writer: writer, ticketWriter: ticketWriter),
            client: client,
            options: options, logger: logger)
        let settings = try await stores.assistant.settings(in: organization)
        var titles: [Article.ID: String] = [:]
        var results: [Result] = []
        func title(_ id: Article.ID) async -> String? {
            if titles[id] == nil { titles[id] = try? await stores.articles.find(id, in: organization).title }
            return titles[id]
        }
        for (index, item) in cases.enumerated() {
            let started = ContinuousClock.now
            let retrieval = try await assistant.retriever.search(
                item.question, in: organization, publishedOnly: true, limit: max(5, options.passages))
            var retrieved: [String] = []
            for hit in retrieval.hits { retrieved.append(hit.article.title) }
            var lexical: [String] = []
            for id in retrieval.lexicalArticles.prefix(5) { if let title = await title(id) { lexical.append(title) } }
            var semantic: [String] = []
            for id in retrieval.semanticArticles.prefix(5) { if let title = await title(id) { semantic.append(title) } }
            var result = Result(
                item: item, kind: "retrieval", citedTitles: [], retrievedTitles: retrieved, body: "", confidence: nil,
                millis: 0, firstTokenMillis: nil)
            result.lexicalTitles = lexical
            result.semanticTitles = semantic
            if !retrievalOnly {
                var prompt = retrieval
                prompt.hits = Array(prompt.hits.prefix(options.passages))
                let composition = try await assistant.compose(
                    question: item.question, history: [], aiReplies: 0, in: organization, settings: settings,
                    retrieval: prompt)
                var cited: [String] = []
                for id in composition.citedArticles {
                    if let title = await title(id) { cited.append(title) }
                }
                result.kind = composition.kind
                result.citedTitles = cited
                result.body = composition.body
                result.confidence = composition.confidence
                result.signals = composition.metadata["signals"]
                result.firstTokenMillis = composition.firstTokenMillis
            }
            let elapsed = ContinuousClock.now - started
            result.millis = Int(
                elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000)
            results.append(result)
            progress(index + 1, result)
        }
        var report = Report(results: results)
        report.retrievalOnly = retrievalOnly
        return report
    }
}
