import Foundation
import Hummingbird
import ParleyCore
import ParleyRealtime
import ParleyStore

/// The assistant's drafted replies to a ticket, for agents: list them (the history), ask for a
/// fresh one, and accept one (as drafted or edited: it is sent as the agent's reply) or dismiss it.
struct TicketDraftController: Sendable {
    let tickets: TicketStore
    let drafts: TicketDraftStore
    let writer: TicketWriter
    let drafter: (@Sendable (Ticket, [TicketMessage]) async throws -> TicketDraft?)?

    struct DraftView: ResponseEncodable, Sendable {
        var id: String
        var ticketId: String
        var basedOnSeq: Int64
        var body: String
        var citations: [TicketDraft.Citation]
        var confidence: Double
        var kind: String
        var provider: String?
        var model: String?
        var status: String
        var sentBody: String?
        var decidedBy: String?
        var createdAt: Date
        var decidedAt: Date?

        init(_ draft: TicketDraft) {
            self.id = draft.id.description
            self.ticketId = draft.ticketID.description
            self.basedOnSeq = draft.basedOnSeq
            self.body = draft.body
            self.citations = draft.citations
            self.confidence = draft.confidence
            self.kind = draft.kind
            self.provider = draft.provider
            self.model = draft.model
            self.status = draft.status.rawValue
            self.sentBody = draft.sentBody
            self.decidedBy = draft.decidedBy?.description
            self.createdAt = draft.createdAt
            self.decidedAt = draft.decidedAt
        }
    }

    struct DraftList: ResponseEncodable { var data: [DraftView] }
    struct AcceptRequest: Decodable { var body: String? }
    struct Decided: ResponseEncodable {
        var draft: DraftView
        var ticket: TicketView
    }

    func addRoutes(to group: RouterGroup<AgentContext>) {
        group.get("tickets/:ticket/drafts", use: self.list)
        group.post("tickets/:ticket/drafts", use: self.create)
        group.post("tickets/:ticket/drafts/:draft/accept", use: self.accept)
        group.post("tickets/:ticket/drafts/:draft/dismiss", use: self.dismiss)
    }

    func list(_ request: Request, context: AgentContext) async throws -> DraftList {
        try context.principal.require(.answerConversations)
        let id = try context.id("ticket", as: Ticket.ID.self, entity: "ticket")
        _ = try await self.tickets.ticket(id, in: context.organizationID)
        return DraftList(data: try await self.drafts.list(for: id, in: context.organizationID).map(DraftView.init))
    }

    /// Drafts a reply now (the assistant also drafts one by itself for each customer message).
    func create(_ request: Request, context: AgentContext) async throws -> EditedResponse<DraftView> {
        try context.principal.require(.answerConversations)
        let id = try context.id("ticket", as: Ticket.ID.self, entity: "ticket")
        let ticket = try await self.tickets.ticket(id, in: context.organizationID)
        let thread = try await self.tickets.messages(of: id, in: context.organizationID, includeInternal: false)
        guard let drafter, let draft = try await drafter(ticket, thread) else {
            throw APIError(
                .unprocessableContent, code: "no_draft",
                message: "The assistant has nothing to suggest for this ticket: no article answers it.")
        }
        let stored = try await self.writer.addDraft(draft)
        return EditedResponse(status: .created, response: DraftView(stored))
    }

    /// Sends the draft as the agent's reply: as drafted, or with `body` as the agent edited it.
    func accept(_ request: Request, context: AgentContext) async throws -> Decided {
        try context.principal.require(.answerConversations)
        guard let agent = context.principal.agent else {
            throw DomainError.forbidden("Drafts are sent by agents; use an agent's session.")
        }
        let (ticketID, draft) = try await self.pending(context)
        let input = try await request.decodeJSON(as: AcceptRequest.self, context: context)
        let body = try Validate.messageBody(input.body ?? draft.body)
        let edited = body != draft.body
        // Decided first, so a double click or two agents send it once; put back if the reply fails.
        let decided = try await self.drafts.decide(
            draft.id, as: edited ? .edited : .accepted, sentBody: edited ? body : nil, by: agent.id,
            in: context.organizationID)
        let change: TicketStore.Change
        let organization = context.organizationID
        do {
            change = try await self.writer.apply(
                .agentReply(agent.id), to: ticketID, in: organization,
                message: .init(role: .agent, body: body, isInternal: false, author: agent.id), by: .agent(agent.id))
        } catch {
            try? await self.drafts.reopen(draft.id, in: context.organizationID)
            throw error
        }
        return Decided(draft: DraftView(decided), ticket: TicketView(change.ticket, forAgents: true))
    }

    func dismiss(_ request: Request, context: AgentContext) async throws -> DraftView {
        try context.principal.require(.answerConversations)
        let (_, draft) = try await self.pending(context)
        return DraftView(
            try await self.drafts.decide(
                draft.id, as: .dismissed, sentBody: nil, by: context.principal.agent?.id, in: context.organizationID))
    }

    /// The ticket and draft the path names; 409 unless the draft still waits for a decision.
    func pending(_ context: AgentContext) async throws -> (Ticket.ID, TicketDraft) {
        let ticketID = try context.id("ticket", as: Ticket.ID.self, entity: "ticket")
        let draftID = try context.id("draft", as: TicketDraft.ID.self, entity: "draft")
        let draft = try await self.drafts.find(draftID, in: context.organizationID)
        guard draft.ticketID == ticketID else { throw DomainError.notFound(entity: "draft") }
        guard draft.status == .pending else {
            throw DomainError.conflict(
                "This draft was already \(draft.status.rawValue.replacingOccurrences(of: "_", with: " ")).")
        }
        return (ticketID, draft)
    }
}
