import Foundation
import Hummingbird
import ParleyCore
public import ParleyStore

/// Canned responses: `/api/v1/admin/canned-responses`. Agents read and use them; admins write.
/// And the audit log: `/api/v1/admin/audit-log` (admins).
public struct CannedResponseController: Sendable {
    let responses: CannedResponseStore
    let audit: AuditLogStore
    let tickets: TicketStore
    let chats: ChatStore

    public init(responses: CannedResponseStore, audit: AuditLogStore, tickets: TicketStore, chats: ChatStore) {
        self.responses = responses
        self.audit = audit
        self.tickets = tickets
        self.chats = chats
    }

    struct Body: Decodable {
        var shortcut: String
        var title: String
        var body: String
    }

    struct UseRequest: Decodable {
        var ticketId: String?
        var sessionId: String?
    }

    struct ResponseView: ResponseEncodable {
        var id: String
        var shortcut: String
        var title: String
        var body: String
        var usageCount: Int
        var createdAt: Date
        var updatedAt: Date

        init(_ response: CannedResponse) {
            self.id = response.id.description
            self.shortcut = response.shortcut
            self.title = response.title
            self.body = response.body
            self.usageCount = response.usageCount
            self.createdAt = response.createdAt
            self.updatedAt = response.updatedAt
        }
    }

    struct ListView: ResponseEncodable { var data: [ResponseView] }
    struct Rendered: ResponseEncodable { var body: String }

    struct AuditView: ResponseEncodable {
        var id: String
        var actorAgentId: String?
        var actorKind: String
        var action: String
        var entity: String
        var entityId: String
        var details: String?
        var createdAt: Date

        init(_ entry: AuditEntry) {
            self.id = entry.id
            self.actorAgentId = entry.actorAgentID?.description
            self.actorKind = entry.actorKind
            self.action = entry.action
            self.entity = entry.entity
            self.entityId = entry.entityID
            self.details = entry.details
            self.createdAt = entry.createdAt
        }
    }

    func addRoutes(to group: RouterGroup<AgentContext>) {
        group.get("canned-responses", use: self.list)
        group.post("canned-responses", use: self.create)
        group.patch("canned-responses/:response", use: self.update)
        group.delete("canned-responses/:response", use: self.delete)
        group.post("canned-responses/:response/use", use: self.use)
        group.get("audit-log", use: self.auditLog)
    }

    /// `?q=ref` narrows by shortcut prefix, for the `/` picker; most used first.
    func list(_ request: Request, context: AgentContext) async throws -> ListView {
        try context.principal.require(.answerConversations)
        let prefix = request.uri.queryParameters["q"].map(String.init)
        return ListView(
            data: try await self.responses.list(in: context.organizationID, prefix: prefix).map(ResponseView.init))
    }

    func create(_ request: Request, context: AgentContext) async throws -> EditedResponse<ResponseView> {
        try context.principal.require(.manageSettings)
        let input = try await request.decodeJSON(as: Body.self, context: context)
        let response = try await self.responses.create(
            .init(shortcut: input.shortcut, title: input.title, body: input.body), in: context.organizationID)
        return EditedResponse(status: .created, response: ResponseView(response))
    }

    func update(_ request: Request, context: AgentContext) async throws -> ResponseView {
        try context.principal.require(.manageSettings)
        let id = try context.id("response", as: CannedResponse.ID.self, entity: "canned response")
        let input = try await request.decodeJSON(as: Body.self, context: context)
        return ResponseView(
            try await self.responses.update(
                id, to: .init(shortcut: input.shortcut, title: input.title, body: input.body),
                in: context.organizationID))
    }

    func delete(_ request: Request, context: AgentContext) async throws -> Response {
        try context.principal.require(.manageSettings)
        let id = try context.id("response", as: CannedResponse.ID.self, entity: "canned response")
        try await self.responses.delete(id, in: context.organizationID)
        return Response(status: .noContent)
    }

    /// The body filled in for a ticket or a conversation (visitor name and email, the agent's name,
    /// the ticket id); counts the use.
    func use(_ request: Request, context: AgentContext) async throws -> Rendered {
        try context.principal.require(.answerConversations)
        let id = try context.id("response", as: CannedResponse.ID.self, entity: "canned response")
        let input = try await request.decodeJSON(as: UseRequest.self, context: context)
        var values: [String: String] = [:]
        if let name = context.principal.agent?.name { values["agent.name"] = name }
        if let text = input.ticketId {
            guard let ticketID = Ticket.ID(text) else { throw DomainError.notFound(entity: "ticket") }
            let ticket = try await self.tickets.ticket(ticketID, in: context.organizationID)
            values["ticket.id"] = ticket.id.description
            values["visitor.name"] = ticket.requesterName
            values["visitor.email"] = ticket.requesterEmail
        } else if let text = input.sessionId {
            guard let sessionID = ChatSession.ID(text) else { throw DomainError.notFound(entity: "conversation") }
            let session = try await self.chats.session(sessionID, in: context.organizationID)
            let visitor = try await self.chats.visitor(session.visitorID, in: context.organizationID)
            values["visitor.name"] = visitor.name
            values["visitor.email"] = visitor.email
        }
        return Rendered(body: try await self.responses.use(id, values: values, in: context.organizationID))
    }

    /// `?entity=<id>` for one ticket's history.
    func auditLog(_ request: Request, context: AgentContext) async throws -> PageResponse<AuditView> {
        try context.principal.require(.manageSettings)
        let entity = request.uri.queryParameters["entity"].map(String.init)
        return PageResponse(
            try await self.audit.list(in: context.organizationID, entityID: entity, page: try request.pageRequest()),
            AuditView.init)
    }
}
