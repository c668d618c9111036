import Foundation
import Hummingbird
import ParleyCore
import ParleyRealtime
import ParleyStore

/// Email in: a mail provider's inbound webhook (or any integration with an API key) posts each
/// email received at the support address. A reply to one of Parley's emails (`[#1a2b3c4d]` in
/// the subject, from the ticket's requester) is the customer's reply; anything else opens a
/// ticket with source `email`. A reply to a conversation's email (`[#c-1a2b3c4d]`, from its
/// visitor's address) goes on in that conversation. Quoted earlier messages are cut; automatic
/// replies are ignored.
struct InboundEmailController: Sendable {
    let tickets: TicketStore
    let agents: AgentStore
    let writer: TicketWriter
    let chatWriter: ChatWriter
    let directory: MailDirectory

    struct InboundRequest: Decodable {
        var from: String
        var name: String?
        var subject: String?
        var text: String
        /// The `Auto-Submitted` header, when there was one (`auto-replied`, `auto-generated`).
        var autoSubmitted: String?
    }

    struct InboundResponse: ResponseEncodable {
        /// `reply` (added to a ticket), `message` (added to a conversation), `created` (a new
        /// ticket) or `ignored` (an automatic email).
        var outcome: String
        var ticketId: String?
        var conversationId: String?
    }

    func addRoutes(to group: RouterGroup<AgentContext>) {
        group.post("inbound/email", use: self.receive)
    }

    func receive(_ request: Request, context: AgentContext) async throws -> EditedResponse<InboundResponse> {
        try context.principal.require(.answerConversations)
        let input = try await request.decodeJSON(as: InboundRequest.self, context: context)
        let from = try Validate.email(input.from, field: "from")
        if let auto = input.autoSubmitted?.lowercased(), !auto.isEmpty, auto != "no" {
            return EditedResponse(status: .accepted, response: InboundResponse(outcome: "ignored"))
        }
        let text = InboundEmail.newText(of: input.text)
        guard !text.isEmpty else {
            throw ValidationError(field: "text", message: "The email has no new text (only a quoted message).")
        }
        let subject = (input.subject ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        let organization = context.organizationID
        if let reference = InboundEmail.conversationReference(in: subject),
            let session = try await self.directory.conversation(reference: reference, email: from, in: organization)
        {
            let outcome = try await self.chatWriter.submit(
                .init(
                    sessionID: session.id, organizationID: organization, actor: .visitor(session.visitorID),
                    command: .visitorMessage(
                        body: String(text.prefix(10_000)), clientID: nil, metadata: ["via": "email"])))
            return EditedResponse(
                status: .ok,
                response: InboundResponse(
                    outcome: "message", ticketId: outcome.session.ticketID?.description,
                    conversationId: session.id.description))
        }
        // An agent answering from their own mail client: their reply on the ticket, not the customer's.
        if let reference = InboundEmail.ticketReference(in: subject),
            let agent = try await self.agents.active(email: from, in: organization),
            let ticket = try await self.tickets.ticket(reference: reference, requester: nil, in: organization)
        {
            _ = try await self.writer.apply(
                .agentReply(agent.id), to: ticket.id, in: organization,
                message: .init(role: .agent, body: String(text.prefix(10_000)), author: agent.id),
                by: .agent(agent.id))
            return EditedResponse(
                status: .ok, response: InboundResponse(outcome: "agent_reply", ticketId: ticket.id.description))
        }
        if let reference = InboundEmail.ticketReference(in: subject),
            let ticket = try await self.tickets.ticket(reference: reference, requester: from, in: organization)
        {
            do {
                try await self.writer.apply(
                    .customerReply, to: ticket.id, in: organization,
                    message: .init(role: .customer, body: String(text.prefix(10_000))), by: .customer)
                return EditedResponse(
                    status: .ok, response: InboundResponse(outcome: "reply", ticketId: ticket.id.description))
            } catch is TicketTransitionError {
                // A closed ticket stays closed: the email opens a new one.
            }
        }
        let ticket = try await self.writer.create(
            .init(
                requesterEmail: from, requesterName: input.name.map { String($0.prefix(120)) },
                subject: InboundEmail.cleanSubject(subject), body: String(text.prefix(10_000)), priority: nil,
                source: .email),
            in: organization, by: .customer)
        return EditedResponse(
            status: .created, response: InboundResponse(outcome: "created", ticketId: ticket.id.description))
    }
}
