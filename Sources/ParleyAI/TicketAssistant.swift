import ParleyOutbound
public import Foundation
public import ParleyCore
import ParleyStore

/// The assistant's work for agents: classifying new tickets and drafting replies to them, with
/// the organization's providers and knowledge base (the same retrieval and rules as the widget).
extension Assistant {
    /// The priority and category a model gives a ticket; nil without a provider, or when the
    /// model failed (the keyword classification made at creation then stands).
    public func classify(subject: String, body: String, in organizationID: Organization.ID) async
        -> (priority: TicketPriority?, category: String?)?
    {
        guard let client = self.client,
            let providers = try? await self.settings.configuration(in: organizationID).providers, !providers.isEmpty
        else { return nil }
        let fleet = ProviderFleet(providers.map { Self.provider(for: $0, client: client) }) { index, healthy, error in
            try? await self.settings.recordHealth(providers[index].id, healthy: healthy, error: error)
        }
        let prompt = TicketClassifier.prompt(subject: subject, body: body)
        let request = CompletionRequest(
            messages: [ChatTurn(role: "system", content: prompt.system), ChatTurn(role: "user", content: prompt.user)],
            maxTokens: 60, temperature: 0)
        do {
            var text = ""
            var chunks = try await fleet.stream(request).chunks.makeAsyncIterator()
            while let batch = try await chunks.nextBatch() {
                for case .delta(let piece) in batch { text += piece }
            }
            let parsed = TicketClassifier.parse(modelReply: text)
            return parsed.priority == nil && parsed.category == nil ? nil : parsed
        } catch {
            self.logger.warning("Could not classify a ticket", metadata: ["parley.error": "\(error)"])
            return nil
        }
    }

    /// A reply to the ticket's latest customer message, drafted from the knowledge base, or nil
    /// when the assistant has nothing to offer (it would hand over, or said nothing). Internal
    /// notes never enter the prompt.
    public func draft(for ticket: Ticket, thread: [TicketMessage]) async throws -> TicketDraft? {
        let visible = Visibility.customerThread(thread)
        guard let asked = visible.last(where: { $0.role == .customer }) ?? visible.first else { return nil }
        var settings = try await self.settings.configuration(in: ticket.organizationID).settings
        // A ticket is already with people: no canned rules, no reply budget.
        settings.autoReplyRules = []
        settings.maxMessagesBeforeEscalation = 100
        let session = ChatSession.ID()
        let history = visible.filter { $0.id != asked.id }.suffix(settings.contextMessages).map { message in
            ChatMessage(
                id: .init(), sessionID: session, organizationID: ticket.organizationID, seq: message.seq,
                role: message.role == .customer ? .user : message.role == .system ? .system : .agent,
                authorAgentID: nil, body: message.body, clientID: nil, createdAt: message.createdAt)
        }
        let question = "\(ticket.subject)\n\n\(asked.body.prefix(4000))"
        let composition = try await self.compose(
            question: question, history: Array(history), aiReplies: 0, in: ticket.organizationID, settings: settings)
        if case .handoff = composition.outcome { return nil }
        guard !composition.body.isEmpty, composition.kind != "auto_reply" else { return nil }
        var citations: [TicketDraft.Citation] = []
        if let json = composition.metadata["citations"],
            let cited = try? JSONDecoder().decode([[String: String]].self, from: Data(json.utf8))
        {
            citations = cited.compactMap { item in
                item["id"].map {
                    TicketDraft.Citation(
                        id: $0, title: item["title"] ?? "", url: item["url"].flatMap { $0.isEmpty ? nil : $0 })
                }
            }
        } else if let id = composition.metadata["articleId"] {
            citations = [
                TicketDraft.Citation(
                    id: id, title: composition.metadata["articleTitle"] ?? "", url: composition.metadata["articleUrl"])
            ]
        }
        return TicketDraft(
            organizationID: ticket.organizationID, ticketID: ticket.id, basedOnSeq: ticket.lastSeq,
            body: composition.body, citations: citations,
            // An article offered without a model rests on retrieval alone: a middling confidence.
            confidence: composition.confidence ?? 0.5, kind: composition.kind, provider: composition.provider,
            model: composition.model, createdAt: Date())
    }
}
