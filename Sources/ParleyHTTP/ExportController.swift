import Foundation
import Hummingbird
import HTTPTypes
import NIOCore
import ParleyCore
public import ParleyStore

/// Exports for admins: `/api/v1/admin/export/{tickets,conversations}?format=csv|json` with the
/// lists' filters, streamed page by page (memory stays flat however many rows there are). CSV
/// cells are neutralised against formulas; ticket exports carry no message, so no internal note.
public struct ExportController: Sendable {
    let tickets: TicketStore
    let chats: ChatStore

    public init(tickets: TicketStore, chats: ChatStore) {
        self.tickets = tickets
        self.chats = chats
    }

    /// The most rows an export holds.
    static let maximumRows = 1_000_000
    static let pageSize = 500

    func addRoutes(to group: RouterGroup<AgentContext>) {
        group.get("export/tickets", use: self.exportTickets)
        group.get("export/conversations", use: self.exportConversations)
    }

    enum Format: String {
        case csv, json
    }

    static func format(_ request: Request) throws -> Format {
        let text = request.uri.queryParameters["format"].map(String.init) ?? "csv"
        guard let format = Format(rawValue: text) else {
            throw ValidationError(field: "format", message: "format must be csv or json.")
        }
        return format
    }

    static let ticketColumns = [
        "id", "subject", "status", "priority", "source", "requester_email", "requester_name", "assignee_id", "tags",
        "category", "created_at", "first_response_at", "resolved_at", "closed_at", "first_response_due_at",
        "resolution_due_at", "satisfaction", "ai_resolved",
    ]

    static func ticketCells(_ ticket: Ticket) -> [String?] {
        let date = { (value: Date?) in value.map { $0.formatted(.iso8601) } }
        return [
            ticket.id.description, ticket.subject, ticket.status.rawValue, ticket.priority.rawValue,
            ticket.source.rawValue, ticket.requesterEmail, ticket.requesterName, ticket.assigneeID?.description,
            ticket.tags.joined(separator: " "), ticket.category, date(ticket.createdAt), date(ticket.firstResponseAt),
            date(ticket.resolvedAt), date(ticket.closedAt), date(ticket.firstResponseDueAt),
            date(ticket.resolutionDueAt), ticket.satisfaction.map { String($0.stars) }, String(ticket.aiResolved),
        ]
    }

    static let conversationColumns = [
        "id", "status", "visitor_id", "assigned_agent_id", "last_message_preview", "last_message_at", "created_at",
        "closed_at", "archived_at",
    ]

    static func conversationCells(_ session: ChatSession) -> [String?] {
        let date = { (value: Date?) in value.map { $0.formatted(.iso8601) } }
        return [
            session.id.description, session.status.rawValue, session.visitorID.description,
            session.assignedAgentID?.description, session.lastMessagePreview, date(session.lastMessageAt),
            date(session.createdAt), date(session.closedAt), date(session.archivedAt),
        ]
    }

    func exportTickets(_ request: Request, context: AgentContext) async throws -> Response {
        try context.principal.require(.manageSettings)
        let filter = try TicketController.filter(request, context: context)
        let organization = context.organizationID
        let tickets = self.tickets
        return try Self.stream(
            format: Self.format(request), name: "tickets", columns: Self.ticketColumns
        ) { cursor in
            let page = try await tickets.list(
                in: organization, filter: filter, page: PageRequest(cursor: cursor, limit: Self.pageSize))
            return (page.items.map(Self.ticketCells), page.nextCursor)
        }
    }

    func exportConversations(_ request: Request, context: AgentContext) async throws -> Response {
        try context.principal.require(.manageSettings)
        let filter = try ChatController.filter(request, context: context)
        let organization = context.organizationID
        let chats = self.chats
        return try Self.stream(
            format: Self.format(request), name: "conversations", columns: Self.conversationColumns
        ) { cursor in
            let page = try await chats.list(
                in: organization, filter: filter, page: PageRequest(cursor: cursor, limit: Self.pageSize))
            return (page.items.map(Self.conversationCells), page.nextCursor)
        }
    }

    /// A streamed attachment: rows are fetched a page at a time as the client reads.
    static func stream(
        format: Format, name: String, columns: [String],
        page: @escaping @Sendable (PageCursor?) async throws -> ([[String?]], PageCursor?)
    ) throws -> Response {
        let day = Date().formatted(.iso8601.year().month().day())
        var headers: HTTPFields = [
            .contentType: format == .csv ? "text/csv; charset=utf-8" : "application/json",
            .contentDisposition: "attachment; filename=\"\(name)-\(day).\(format.rawValue)\"",
        ]
        headers[HTTPField.Name("X-Content-Type-Options")!] = "nosniff"
        return Response(
            status: .ok, headers: headers,
            body: ResponseBody { writer in
                var cursor: PageCursor?
                var rows = 0
                var first = true
                try await writer.write(ByteBuffer(string: format == .csv ? CSV.row(columns) : "["))
                repeat {
                    let (items, next) = try await page(cursor)
                    var chunk = ""
                    for cells in items {
                        switch format {
                        case .csv:
                            chunk += CSV.row(cells)
                        case .json:
                            var object: [String: String] = [:]
                            for (column, cell) in zip(columns, cells) where cell != nil { object[column] = cell }
                            let encoder = JSONEncoder()
                            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
                            chunk +=
                                (first ? "\n" : ",\n") + String(decoding: try encoder.encode(object), as: UTF8.self)
                            first = false
                        }
                    }
                    if !chunk.isEmpty { try await writer.write(ByteBuffer(string: chunk)) }
                    rows += items.count
                    cursor = next
                } while cursor != nil && rows < Self.maximumRows
                if format == .json { try await writer.write(ByteBuffer(string: "\n]\n")) }
                try await writer.finish(nil)
            })
    }
}
