import Foundation
public import Logging
public import ParleyCore
public import ParleyStore
public import ServiceLifecycle

/// Answers visitors in conversations the AI is in charge of. Without an LLM provider (the only
/// mode so far) it offers a knowledge-base article when one clearly matches, labelled as an
/// article with its link, and otherwise hands the conversation to the team at once. A visitor
/// who asks for a person is always handed over.
///
/// It hears of visitor messages from the writer's commit hook (so with several instances only the
/// one that stored the message answers) and changes nothing but through the writer: its reply is
/// an `aiMessage` keyed to the visitor message, so it can never answer one message twice.
public final class Assistant: Service, Sendable {
    private let chats: ChatStore
    private let articles: ArticleStore
    private let writer: ChatWriter
    private let logger: Logger
    private let queue = WorkQueue<ChatMessage>()

    public init(chats: ChatStore, articles: ArticleStore, writer: ChatWriter, logger: Logger) {
        self.chats = chats
        self.articles = articles
        self.writer = writer
        self.logger = logger
    }

    /// Committed events (from the writer): visitor messages are queued for an answer.
    public func handle(_ events: [DomainEvent]) {
        let messages = events.compactMap { event -> ChatMessage? in
            if case .messageCreated(let message) = event, message.role == .user { return message }
            return nil
        }
        if !messages.isEmpty { self.queue.append(contentsOf: messages) }
    }

    public func run() async throws {
        await withTaskCancellationHandler {
            await withGracefulShutdownHandler {
                while let batch = await self.queue.next() {
                    for message in batch { await self.answer(message) }
                }
            } onGracefulShutdown: {
                self.queue.finish()
            }
        } onCancel: {
            self.queue.finish()
        }
    }

    /// Answers one visitor message, if it is still the latest and the AI is still in charge.
    func answer(_ message: ChatMessage) async {
        var logger = self.logger
        logger[metadataKey: "parley.session.id"] = "\(message.sessionID)"
        do {
            let session = try await self.chats.session(message.sessionID, in: message.organizationID)
            guard session.status == .aiActive, session.lastVisitorSeq == message.seq else { return }
            let visitor = try await self.chats.visitor(session.visitorID, in: session.organizationID)
            if HandoffIntent.asksForHuman(message.body) {
                try await self.submit(message, .escalate(.visitorAsked, visitorHasEmail: visitor.email != nil))
                logger.info("Handed over: the visitor asked for a person")
                return
            }
            let hits = try await self.articles.search(
                message.body, in: message.organizationID, publishedOnly: true, limit: 3)
            if let hit = hits.first(where: {
                KnowledgeMatch.isStrong(question: message.body, title: $0.article.title, body: $0.article.body)
            }) {
                var metadata = [
                    "kind": "article", "source": "knowledge_base", "articleId": hit.article.id.description,
                    "articleTitle": hit.article.title,
                ]
                if let url = hit.article.url { metadata["articleUrl"] = url }
                let body =
                    "This article may help: \(hit.article.title)\n\n\(hit.excerpt)"
                    + (hit.article.url.map { "\n\n\($0)" } ?? "")
                try await self.submit(message, .aiMessage(body: body, replyTo: message.seq, metadata: metadata))
                logger.info("Answered with an article", metadata: ["parley.article.id": "\(hit.article.id)"])
            } else {
                try await self.submit(message, .escalate(.noAnswer, visitorHasEmail: visitor.email != nil))
                logger.info("Handed over: no article matched and no AI provider is configured")
            }
        } catch is InvalidTransition {
            // An agent took over, or the visitor wrote again, meanwhile: stay quiet.
        } catch {
            logger.warning("The assistant could not answer", metadata: ["parley.error": "\(error)"])
        }
    }

    private func submit(_ message: ChatMessage, _ command: ChatCommand) async throws {
        _ = try await self.writer.submit(
            .init(
                sessionID: message.sessionID, organizationID: message.organizationID, actor: .system, command: command))
    }
}
