import Foundation
import Hummingbird
import ParleyCore
public import ParleyStore

/// Agents' ticket endpoints, mounted at `/api/v1/admin/tickets`. (Reading for now: handoff
/// creates tickets; the ticket system adds the rest.)
public struct TicketController: Sendable {
    let tickets: TicketStore

    public init(tickets: TicketStore) { self.tickets = tickets }

    struct TicketResponse: ResponseEncodable {
        var id: String
        var subject: String
        var status: String
        var priority: String
        var source: String
        var requesterEmail: String
        var requesterName: String?
        var visitorId: String?
        var chatSessionId: String?
        var lastSeq: Int64
        var createdAt: Date
        var updatedAt: Date
        var messages: [MessageResponse]?

        init(_ ticket: Ticket, messages: [TicketMessage]? = nil) {
            self.id = ticket.id.description
            self.subject = ticket.subject
            self.status = ticket.status.rawValue
            self.priority = ticket.priority.rawValue
            self.source = ticket.source.rawValue
            self.requesterEmail = ticket.requesterEmail
            self.requesterName = ticket.requesterName
            self.visitorId = ticket.visitorID?.description
            self.chatSessionId = ticket.chatSessionID?.description
            self.lastSeq = ticket.lastSeq
            self.createdAt = ticket.createdAt
            self.updatedAt = ticket.updatedAt
            self.messages = messages?.map(MessageResponse.init)
        }
    }

    struct MessageResponse: Encodable {
        var id: String
        var seq: Int64
        var role: String
        var authorAgentId: String?
        var body: String
        var `internal`: Bool
        var createdAt: Date

        init(_ message: TicketMessage) {
            self.id = message.id.description
            self.seq = message.seq
            self.role = message.role.rawValue
            self.authorAgentId = message.authorAgentID?.description
            self.body = message.body
            self.`internal` = message.isInternal
            self.createdAt = message.createdAt
        }
    }

    func addRoutes(to group: RouterGroup<AgentContext>) {
        group.get(use: self.list)
        group.get(":ticket", use: self.show)
    }

    func list(_ request: Request, context: AgentContext) async throws -> PageResponse<TicketResponse> {
        try context.principal.require(.answerConversations)
        return PageResponse(
            try await self.tickets.list(in: context.organizationID, page: try request.pageRequest()),
            { TicketResponse($0) })
    }

    func show(_ request: Request, context: AgentContext) async throws -> TicketResponse {
        try context.principal.require(.answerConversations)
        let id = try context.id("ticket", as: Ticket.ID.self, entity: "ticket")
        let ticket = try await self.tickets.ticket(id, in: context.organizationID)
        let messages = try await self.tickets.messages(of: id, in: context.organizationID, includeInternal: true)
        return TicketResponse(ticket, messages: messages)
    }
}
