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
    /// One question and what should happen: an article's title, or `handoff`.
    public struct Case: Sendable, Decodable {
        public var question: String
        public var expect: String

        public var expectsHandoff: Bool { self.expect.lowercased() == "handoff" }
    }

    struct File: Decodable { var cases: [Case] }

    /// Reads `{"cases": [{"question": …, "expect": "Article title" | "handoff"}]}`.
    public static func cases(from data: Data) throws -> [Case] {
        let cases = try JSONDecoder().decode(File.self, from: data).cases
        guard !cases.isEmpty else { throw EvalError(description: "the eval set has no cases") }
        return cases
    }

    struct EvalError: Error, CustomStringConvertible { var description: String }

    /// What happened to one case.
    public struct Result: Sendable {
        public var item: Case
        /// `answer`, `resolve`, `article`, `auto_reply` or `handoff`.
        public var kind: String
        public var citedTitles: [String]
        public var millis: Int
        public var firstTokenMillis: Int?

        public var handedOver: Bool { self.kind == "handoff" }
        /// Right when it handed over as expected, or answered citing the expected article.
        public var correct: Bool {
            self.item.expectsHandoff
                ? self.handedOver
                : !self.handedOver && self.citedTitles.contains { $0.lowercased() == self.item.expect.lowercased() }
        }
    }

    /// The figures of a run.
    public struct Report: Sendable {
        public var results: [Result]

        var articleCases: [Result] { self.results.filter { !$0.item.expectsHandoff } }
        var handoffCases: [Result] { self.results.filter { $0.item.expectsHandoff } }
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
            var lines = [
                "cases: \(self.results.count) (\(self.articleCases.count) expect an article, \(self.handoffCases.count) a handoff)",
                "answer rate:       \(percent(self.answerRate)) of the questions the knowledge base answers",
                "handoff rate:      \(percent(self.handoffRate)) of all questions (expected handoffs taken: \(percent(self.handoffAccuracy)))",
                "citation accuracy: \(percent(self.citationAccuracy)) of answers cite the expected article",
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
        options: Assistant.Options = Assistant.Options(), logger: Logger,
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
        for (index, item) in cases.enumerated() {
            let started = ContinuousClock.now
            let composition = try await assistant.compose(
                question: item.question, history: [], aiReplies: 0, in: organization, settings: settings)
            let elapsed = ContinuousClock.now - started
            var cited: [String] = []
            for id in composition.citedArticles {
                if titles[id] == nil { titles[id] = try? await stores.articles.find(id, in: organization).title }
                if let title = titles[id] { cited.append(title) }
            }
            let result = Result(
                item: item, kind: composition.kind, citedTitles: cited,
                millis: Int(elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000),
                firstTokenMillis: composition.firstTokenMillis)
            results.append(result)
            progress(index + 1, result)
        }
        return Report(results: results)
    }
}
