public import Foundation
public import ParleyCore
import SQLKit

/// Agents' in-app notifications: written in the transaction of what caused them, listed newest
/// first, marked read one by one or all at once.
public struct NotificationStore: Sendable {
    let engine: any DatabaseEngine
    let now: @Sendable () -> Date

    /// Stores the notification unless its agent turned that kind off; says whether it did.
    @discardableResult
    static func insert(_ notification: AgentNotification, db: any SQLDatabase) async throws -> Bool {
        let row = try await db.raw(
            "SELECT preferences FROM agents WHERE id = \(bind: notification.agentID.description)"
        ).first()
        let preferences = AgentPreferences.decode(try row?.optionalString("preferences"))
        guard preferences.wants(notification.kind) else { return false }
        try await db.raw(
            """
            INSERT INTO notifications (id, organization_id, agent_id, kind, title, ticket_id, session_id, created_at, read_at)
            VALUES (\(bind: notification.id.description), \(bind: notification.organizationID.description),
                \(bind: notification.agentID.description), \(bind: notification.kind.rawValue), \(bind: notification.title),
                \(bind: notification.ticketID?.description), \(bind: notification.sessionID?.description),
                \(bind: notification.createdAt.millis), NULL)
            """
        ).run()
        return true
    }

    public func create(_ notification: AgentNotification) async throws {
        _ = try await self.engine.transaction { db in try await Self.insert(notification, db: db) }
    }

    /// Tells `agent`, or when nobody has it every active agent of the organization with one of
    /// `roles` (any role when nil; at most `limit`), about a conversation or ticket; returns what
    /// was stored, to push. Inside the caller's transaction (the `Committer`'s, which publishes
    /// what was stored).
    static func notify(
        _ kind: AgentNotification.Kind, title: String, agent: Agent.ID?, ticket: Ticket.ID? = nil,
        session: ChatSession.ID? = nil, in organizationID: Organization.ID, roles: [AgentRole]? = nil,
        limit: Int = 200, now: Date, db: any SQLDatabase
    ) async throws -> [AgentNotification] {
        var recipients: [Agent.ID] = []
        if let agent {
            recipients = [agent]
        } else {
            var query: SQLQueryString = """
                SELECT id FROM agents WHERE organization_id = \(bind: organizationID.description)
                    AND is_active = \(bind: true)
                """
            if let roles, !roles.isEmpty {
                query = query + " AND role IN (" + TicketStore.list(roles.map(\.rawValue)) + ")"
            }
            let rows = try await db.raw(query + " ORDER BY created_at, id LIMIT \(bind: limit)").all()
            recipients = try rows.compactMap { Agent.ID(try $0.string("id")) }
        }
        let notifications = recipients.map {
            AgentNotification(
                organizationID: organizationID, agentID: $0, kind: kind, title: title, ticketID: ticket,
                sessionID: session, createdAt: now)
        }
        var stored: [AgentNotification] = []
        for notification in notifications where try await Self.insert(notification, db: db) {
            stored.append(notification)
        }
        return stored
    }

    /// An agent's notifications, newest first (unread only on request), keyset-paged.
    public func list(for agent: Agent.ID, in organizationID: Organization.ID, unreadOnly: Bool, page: PageRequest)
        async throws -> Page<AgentNotification>
    {
        let rows = try await self.engine.read { db in
            var query: SQLQueryString = """
                SELECT * FROM notifications WHERE agent_id = \(bind: agent.description)
                    AND organization_id = \(bind: organizationID.description)
                """
            if unreadOnly { query = query + " AND read_at IS NULL" }
            query = query + Keyset.after(page.cursor)
            return try await db.raw(query + " ORDER BY created_at DESC, id DESC LIMIT \(bind: page.limit + 1)").all()
        }
        return Page(fetched: try rows.map(Self.decode), limit: page.limit) {
            PageCursor(sortKey: $0.createdAt.millis, id: $0.id.description)
        }
    }

    public func unreadCount(for agent: Agent.ID, in organizationID: Organization.ID) async throws -> Int {
        let row = try await self.engine.read { db in
            try await db.raw(
                """
                SELECT COUNT(*) AS n FROM notifications WHERE agent_id = \(bind: agent.description)
                    AND organization_id = \(bind: organizationID.description) AND read_at IS NULL
                """
            ).first()
        }
        return Int(try row?.int64("n") ?? 0)
    }

    /// Marks `ids` (or, with nil, every notification) of the agent read; returns how many changed.
    @discardableResult
    public func markRead(_ ids: [AgentNotification.ID]?, for agent: Agent.ID, in organizationID: Organization.ID)
        async throws -> Int
    {
        let now = self.now().millis
        return try await self.engine.transaction { db in
            var query: SQLQueryString = """
                UPDATE notifications SET read_at = \(bind: now) WHERE agent_id = \(bind: agent.description)
                    AND organization_id = \(bind: organizationID.description) AND read_at IS NULL
                """
            if let ids {
                if ids.isEmpty { return 0 }
                query = query + " AND id IN (" + TicketStore.list(ids.map(\.description)) + ")"
            }
            return try await db.raw(query + " RETURNING id").all().count
        }
    }

    static func decode(_ row: any SQLRow) throws -> AgentNotification {
        guard let id = AgentNotification.ID(try row.string("id")),
            let organization = Organization.ID(try row.string("organization_id")),
            let agent = Agent.ID(try row.string("agent_id")),
            let kind = AgentNotification.Kind(rawValue: try row.string("kind"))
        else { throw CorruptRowError(description: "notifications row") }
        return AgentNotification(
            id: id, organizationID: organization, agentID: agent, kind: kind, title: try row.string("title"),
            ticketID: try row.optionalString("ticket_id").flatMap(Ticket.ID.init),
            sessionID: try row.optionalString("session_id").flatMap(ChatSession.ID.init),
            createdAt: try row.date("created_at"), readAt: try row.optionalDate("read_at"))
    }
}
