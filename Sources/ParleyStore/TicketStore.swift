public import Foundation
public import ParleyCore
import SQLKit

/// Tickets and their threads, scoped by organization. (For now: what handoff needs, creating a
/// ticket from a conversation, and reading tickets back.)
public struct TicketStore: Sendable {
    let engine: any DatabaseEngine
    let now: @Sendable () -> Date

    /// Creates the ticket of a handed-over conversation, with its transcript as the first
    /// message, unless the conversation has one already (then that one is returned, and
    /// `created` is false). One ticket per conversation, even with several instances racing.
    public func openFromConversation(
        _ session: ChatSession, visitor: Visitor, email: String
    ) async throws -> (ticket: Ticket, created: Bool) {
        if let existing = try await self.ticket(forConversation: session.id, in: session.organizationID) {
            return (existing, false)
        }
        let messages = try await self.engine.read { db in
            try await ChatStore.messages(in: session.id, after: 0, limit: 500, db: db)
        }
        let now = self.now()
        let firstQuestion = messages.first { $0.role == .user }?.body
        let ticket = Ticket(
            id: .init(), organizationID: session.organizationID, visitorID: visitor.id, requesterEmail: email,
            requesterName: visitor.name, subject: Ticket.subject(from: firstQuestion), status: .open,
            priority: .medium, source: .chat, chatSessionID: session.id, lastSeq: 1, createdAt: now, updatedAt: now)
        let transcript = TicketMessage(
            id: .init(), ticketID: ticket.id, organizationID: ticket.organizationID, seq: 1, role: .system,
            authorAgentID: nil,
            body: "Handed over from a conversation. Transcript:\n\n"
                + Ticket.transcript(of: messages, visitorName: visitor.name),
            isInternal: false, createdAt: now)
        do {
            try await self.engine.transaction { db in
                try await db.raw(
                    """
                    INSERT INTO tickets (id, organization_id, visitor_id, requester_email, requester_name, subject, status,
                        priority, source, chat_session_id, last_seq, created_at, updated_at)
                    VALUES (\(bind: ticket.id.description), \(bind: ticket.organizationID.description),
                        \(bind: visitor.id.description), \(bind: email), \(bind: visitor.name), \(bind: ticket.subject),
                        \(bind: ticket.status.rawValue), \(bind: ticket.priority.rawValue), \(bind: ticket.source.rawValue),
                        \(bind: session.id.description), 1, \(bind: now.millis), \(bind: now.millis))
                    """
                ).run()
                try await Self.insert(transcript, db: db)
            }
        } catch {
            // Another instance created it first (the unique conversation index): use theirs.
            if let existing = try await self.ticket(forConversation: session.id, in: session.organizationID) {
                return (existing, false)
            }
            throw error
        }
        return (ticket, true)
    }

    static func insert(_ message: TicketMessage, db: any SQLDatabase) async throws {
        try await db.raw(
            """
            INSERT INTO ticket_messages (id, ticket_id, organization_id, seq, role, author_agent_id, body, internal, created_at)
            VALUES (\(bind: message.id.description), \(bind: message.ticketID.description),
                \(bind: message.organizationID.description), \(bind: message.seq), \(bind: message.role.rawValue),
                \(bind: message.authorAgentID?.description), \(bind: message.body), \(bind: message.isInternal),
                \(bind: message.createdAt.millis))
            """
        ).run()
    }

    public func ticket(forConversation sessionID: ChatSession.ID, in organizationID: Organization.ID) async throws
        -> Ticket?
    {
        let row = try await self.engine.read { db in
            try await db.raw(
                """
                SELECT * FROM tickets WHERE chat_session_id = \(bind: sessionID.description)
                    AND organization_id = \(bind: organizationID.description)
                """
            ).first()
        }
        return try row.map(Self.decode)
    }

    public func ticket(_ id: Ticket.ID, in organizationID: Organization.ID) async throws -> Ticket {
        let row = try await self.engine.read { db in
            try await db.raw(
                "SELECT * FROM tickets WHERE id = \(bind: id.description) AND organization_id = \(bind: organizationID.description)"
            ).first()
        }
        guard let row else { throw DomainError.notFound(entity: "ticket") }
        return try Self.decode(row)
    }

    /// A ticket's thread, in order; internal notes only when `includeInternal`.
    public func messages(of id: Ticket.ID, in organizationID: Organization.ID, includeInternal: Bool) async throws
        -> [TicketMessage]
    {
        let rows = try await self.engine.read { db in
            try await db.raw(
                """
                SELECT * FROM ticket_messages WHERE ticket_id = \(bind: id.description)
                    AND organization_id = \(bind: organizationID.description)
                    \(unsafeRaw: includeInternal ? "" : "AND internal = \(db.parleyDialect == .postgres ? "false" : "0")")
                ORDER BY seq
                """
            ).all()
        }
        return try rows.map { row in
            guard let id = TicketMessage.ID(try row.string("id")), let ticket = Ticket.ID(try row.string("ticket_id")),
                let organization = Organization.ID(try row.string("organization_id")),
                let role = TicketRole(rawValue: try row.string("role"))
            else { throw CorruptRowError(description: "ticket_messages row") }
            return TicketMessage(
                id: id, ticketID: ticket, organizationID: organization, seq: try row.int64("seq"), role: role,
                authorAgentID: try row.optionalString("author_agent_id").flatMap(Agent.ID.init),
                body: try row.string("body"), isInternal: try row.bool("internal"),
                createdAt: try row.date("created_at"))
        }
    }

    /// The organization's tickets, newest first, keyset-paged.
    public func list(in organizationID: Organization.ID, page: PageRequest) async throws -> Page<Ticket> {
        let rows = try await self.engine.read { db in
            try await db.raw(
                """
                SELECT * FROM tickets WHERE organization_id = \(bind: organizationID.description) \(Keyset.after(page.cursor))
                ORDER BY created_at DESC, id DESC LIMIT \(bind: page.limit + 1)
                """
            ).all()
        }
        return Page(fetched: try rows.map(Self.decode), limit: page.limit) {
            PageCursor(sortKey: $0.createdAt.millis, id: $0.id.description)
        }
    }

    static func decode(_ row: any SQLRow) throws -> Ticket {
        guard let id = Ticket.ID(try row.string("id")),
            let organization = Organization.ID(try row.string("organization_id")),
            let status = TicketStatus(rawValue: try row.string("status")),
            let priority = TicketPriority(rawValue: try row.string("priority")),
            let source = TicketSource(rawValue: try row.string("source"))
        else { throw CorruptRowError(description: "tickets row") }
        return Ticket(
            id: id, organizationID: organization,
            visitorID: try row.optionalString("visitor_id").flatMap(Visitor.ID.init),
            requesterEmail: try row.string("requester_email"), requesterName: try row.optionalString("requester_name"),
            subject: try row.string("subject"), status: status, priority: priority, source: source,
            chatSessionID: try row.optionalString("chat_session_id").flatMap(ChatSession.ID.init),
            lastSeq: try row.int64("last_seq"), createdAt: try row.date("created_at"),
            updatedAt: try row.date("updated_at"))
    }
}
