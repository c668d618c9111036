public import Foundation
public import ParleyCore
import SQLKit

/// Conversations, their messages and visitors: reads, starting a conversation, read markers.
/// Changes to a conversation's messages and state go through `ChatWriter`, which assigns `seq`.
public struct ChatStore: Sendable {
    let engine: any DatabaseEngine
    let now: @Sendable () -> Date

    /// How many recent messages a (re)started conversation returns.
    public static let recentLimit = 50

    /// What starting or resuming a conversation found or made.
    public struct Started: Sendable {
        public var visitor: Visitor
        public var session: ChatSession
        public var recent: [ChatMessage]
        /// True when the conversation is new (announce it on the inbox).
        public var isNew: Bool
    }

    /// Finds or creates the visitor (by verified identity, else by the widget's anonymous id) and
    /// resumes their open conversation or starts one.
    /// Inside `ChatWriter.start`'s transaction.
    static func start(
        site: Site, anonymousID: String, identity: VisitorIdentity?, page: String?, now: Date, db: any SQLDatabase
    ) async throws -> Started {
        var visitor = try await Self.findVisitor(
            site: site, anonymousID: anonymousID, externalID: identity?.id, db: db)
        if var existing = visitor {
            existing.lastSeenAt = now
            if let page { existing.currentPage = page }
            if let identity {
                existing.externalID = identity.id
                if let email = identity.email { existing.email = email }
                if let name = identity.name { existing.name = name }
            }
            try await Self.saveVisitor(existing, db: db)
            visitor = existing
        } else {
            let created = Visitor(
                id: .init(), organizationID: site.organizationID, siteID: site.id, anonymousID: anonymousID,
                externalID: identity?.id, name: identity?.name, email: identity?.email, traits: [:],
                currentPage: page,
                firstSeenAt: now, lastSeenAt: now)
            try await db.raw(
                """
                INSERT INTO visitors (id, organization_id, site_id, anonymous_id, external_id, name, email, traits,
                    current_page, first_seen_at, last_seen_at)
                VALUES (\(bind: created.id.description), \(bind: site.organizationID.description), \(bind: site.id.description),
                    \(bind: anonymousID), \(bind: created.externalID), \(bind: created.name), \(bind: created.email), '{}',
                    \(bind: page), \(bind: now.millis), \(bind: now.millis))
                """
            ).run()
            visitor = created
        }
        let visitorValue = visitor!
        if let row = try await db.raw(
            """
            SELECT * FROM chat_sessions WHERE visitor_id = \(bind: visitorValue.id.description) AND status <> 'closed'
            ORDER BY created_at DESC LIMIT 1
            """
        ).first() {
            let session = try Self.decodeSession(row)
            let recent = try await Self.messages(
                in: session.id, after: max(0, session.lastSeq - Int64(Self.recentLimit)), limit: Self.recentLimit,
                db: db)
            return Started(visitor: visitorValue, session: session, recent: recent, isNew: false)
        }
        let session = ChatSession(
            id: .init(), organizationID: site.organizationID, siteID: site.id, visitorID: visitorValue.id,
            status: .aiActive, createdAt: now, updatedAt: now)
        try await db.raw(
            """
            INSERT INTO chat_sessions (id, organization_id, site_id, visitor_id, status, last_seq, last_visitor_seq,
                visitor_read_seq, agent_read_seq, activity_at, created_at, updated_at)
            VALUES (\(bind: session.id.description), \(bind: site.organizationID.description), \(bind: site.id.description),
                \(bind: visitorValue.id.description), \(bind: session.status.rawValue), 0, 0, 0, 0, \(bind: now.millis),
                \(bind: now.millis), \(bind: now.millis))
            """
        ).run()
        return Started(visitor: visitorValue, session: session, recent: [], isNew: true)
    }

    static func findVisitor(site: Site, anonymousID: String, externalID: String?, db: any SQLDatabase) async throws
        -> Visitor?
    {
        if let externalID,
            let row = try await db.raw(
                "SELECT * FROM visitors WHERE site_id = \(bind: site.id.description) AND external_id = \(bind: externalID)"
            ).first()
        {
            return try Self.decodeVisitor(row)
        }
        let row = try await db.raw(
            "SELECT * FROM visitors WHERE site_id = \(bind: site.id.description) AND anonymous_id = \(bind: anonymousID)"
        ).first()
        guard let row else { return nil }
        let visitor = try Self.decodeVisitor(row)
        // An anonymous browser that belongs to another identified user starts afresh.
        if let externalID, let known = visitor.externalID, known != externalID { return nil }
        return visitor
    }

    static func saveVisitor(_ visitor: Visitor, db: any SQLDatabase) async throws {
        try await db.raw(
            """
            UPDATE visitors SET external_id = \(bind: visitor.externalID), name = \(bind: visitor.name),
                email = \(bind: visitor.email), traits = \(bind: try JSONColumn.encode(visitor.traits)),
                current_page = \(bind: visitor.currentPage), last_seen_at = \(bind: visitor.lastSeenAt.millis)
            WHERE id = \(bind: visitor.id.description)
            """
        ).run()
    }

    /// Sets the email an anonymous visitor left (for the handoff).
    public func setEmail(_ email: String, of visitorID: Visitor.ID, in organizationID: Organization.ID) async throws
        -> Visitor
    {
        let email = try Validate.email(email)
        return try await self.engine.transaction { db in
            guard
                let row = try await db.raw(
                    "SELECT * FROM visitors WHERE id = \(bind: visitorID.description) AND organization_id = \(bind: organizationID.description)"
                ).first()
            else { throw DomainError.notFound(entity: "visitor") }
            var visitor = try Self.decodeVisitor(row)
            visitor.email = email
            try await Self.saveVisitor(visitor, db: db)
            return visitor
        }
    }

    public func visitor(_ id: Visitor.ID, in organizationID: Organization.ID) async throws -> Visitor {
        let row = try await self.engine.read { db in
            try await db.raw(
                "SELECT * FROM visitors WHERE id = \(bind: id.description) AND organization_id = \(bind: organizationID.description)"
            ).first()
        }
        guard let row else { throw DomainError.notFound(entity: "visitor") }
        return try Self.decodeVisitor(row)
    }

    /// Visitors seen on the organization's sites since `since`, most recent first.
    public func visitorsSeen(since: Date, in organizationID: Organization.ID, limit: Int = 100) async throws
        -> [Visitor]
    {
        try await self.engine.read { db in
            try await db.raw(
                """
                SELECT * FROM visitors WHERE organization_id = \(bind: organizationID.description)
                AND last_seen_at >= \(bind: since.millis) ORDER BY last_seen_at DESC LIMIT \(bind: limit)
                """
            ).all()
        }.map(Self.decodeVisitor)
    }

    /// Several visitors at once (for a page of conversations).
    public func visitors(_ ids: Set<Visitor.ID>, in organizationID: Organization.ID) async throws -> [Visitor] {
        guard !ids.isEmpty else { return [] }
        var query: SQLQueryString =
            "SELECT * FROM visitors WHERE organization_id = \(bind: organizationID.description) AND id IN ("
        for (index, id) in ids.enumerated() { query = query + (index == 0 ? "" : ", ") + "\(bind: id.description)" }
        let rows = try await self.engine.read { [query] db in try await db.raw(query + ")").all() }
        return try rows.map(Self.decodeVisitor)
    }

    /// Notes that a visitor is here now (the widget pings while open); at most once a minute.
    public func touch(_ visitorID: Visitor.ID, page: String?) async throws {
        let now = self.now()
        try await self.engine.transaction { db in
            try await db.raw(
                """
                UPDATE visitors SET last_seen_at = \(bind: now.millis), current_page = COALESCE(\(bind: page), current_page)
                WHERE id = \(bind: visitorID.description) AND last_seen_at < \(bind: now.addingTimeInterval(-60).millis)
                """
            ).run()
        }
    }

    public func session(_ id: ChatSession.ID, in organizationID: Organization.ID) async throws -> ChatSession {
        let row = try await self.engine.read { db in
            try await db.raw(
                "SELECT * FROM chat_sessions WHERE id = \(bind: id.description) AND organization_id = \(bind: organizationID.description)"
            ).first()
        }
        guard let row else { throw DomainError.notFound(entity: "conversation") }
        return try Self.decodeSession(row)
    }

    /// The conversation, if it belongs to this visitor; "not found" otherwise.
    public func session(_ id: ChatSession.ID, ofVisitor visitorID: Visitor.ID) async throws -> ChatSession {
        let row = try await self.engine.read { db in
            try await db.raw(
                "SELECT * FROM chat_sessions WHERE id = \(bind: id.description) AND visitor_id = \(bind: visitorID.description)"
            ).first()
        }
        guard let row else { throw DomainError.notFound(entity: "conversation") }
        return try Self.decodeSession(row)
    }

    /// One message by id, within the organization.
    public func message(_ id: ChatMessage.ID, in organizationID: Organization.ID) async throws -> ChatMessage {
        let row = try await self.engine.read { db in
            try await db.raw(
                "SELECT * FROM chat_messages WHERE id = \(bind: id.description) AND organization_id = \(bind: organizationID.description)"
            ).first()
        }
        guard let row else { throw DomainError.notFound(entity: "message") }
        return try Self.decodeMessage(row)
    }

    /// The assistant's replies since the conversation began, or since an agent last handed it back.
    public func aiReplyCount(in sessionID: ChatSession.ID) async throws -> Int {
        let row = try await self.engine.read { db in
            try await db.raw(
                """
                SELECT COUNT(*) AS n FROM chat_messages WHERE session_id = \(bind: sessionID.description) AND role = 'ai'
                AND seq > COALESCE((SELECT MAX(seq) FROM chat_messages WHERE session_id = \(bind: sessionID.description)
                    AND role = 'system' AND metadata LIKE \(bind: "%\"\(ChatMessage.assistantReturnedKey)\"%")), 0)
                """
            ).first()
        }
        return Int(try row?.int64("n") ?? 0)
    }

    /// Messages with `seq > after`, in order, at most `limit`.
    public func messages(in sessionID: ChatSession.ID, after: Int64, limit: Int) async throws -> [ChatMessage] {
        try await self.engine.read { db in try await Self.messages(in: sessionID, after: after, limit: limit, db: db) }
    }

    static func messages(in sessionID: ChatSession.ID, after: Int64, limit: Int, db: any SQLDatabase) async throws
        -> [ChatMessage]
    {
        try await db.raw(
            """
            SELECT * FROM chat_messages WHERE session_id = \(bind: sessionID.description) AND seq > \(bind: after)
            ORDER BY seq LIMIT \(bind: limit)
            """
        ).all().map(Self.decodeMessage)
    }

    /// Messages of several conversations within seq ranges (what another instance committed).
    public func messages(ranges: [(ChatSession.ID, ClosedRange<Int64>)]) async throws -> [ChatMessage] {
        guard !ranges.isEmpty else { return [] }
        return try await self.engine.read { db in
            var all: [ChatMessage] = []
            for (session, range) in ranges {
                all += try await db.raw(
                    """
                    SELECT * FROM chat_messages WHERE session_id = \(bind: session.description)
                    AND seq >= \(bind: range.lowerBound) AND seq <= \(bind: range.upperBound) ORDER BY seq
                    """
                ).all().map(Self.decodeMessage)
            }
            return all
        }
    }

    /// Filters for the agents' conversation list.
    public struct Filter: Sendable {
        public var statuses: [ChatStatus]
        /// Only this agent's conversations.
        public var assignedTo: Agent.ID?
        public var unassigned: Bool
        /// Archived conversations instead of the others.
        public var archived: Bool
        public var activeFrom: Date?
        public var activeUntil: Date?
        /// Only conversations where the visitor gave the assistant's replies this rating (`up`, `down`).
        public var feedback: String?

        public init(
            statuses: [ChatStatus] = [], assignedTo: Agent.ID? = nil, unassigned: Bool = false, archived: Bool = false,
            activeFrom: Date? = nil, activeUntil: Date? = nil
        ) {
            self.statuses = statuses
            self.assignedTo = assignedTo
            self.unassigned = unassigned
            self.archived = archived
            self.activeFrom = activeFrom
            self.activeUntil = activeUntil
        }
    }

    /// Conversations by last activity, newest first, with keyset paging.
    public func list(in organizationID: Organization.ID, filter: Filter, page: PageRequest) async throws -> Page<
        ChatSession
    > {
        var conditions: [SQLQueryString] = ["organization_id = \(bind: organizationID.description)"]
        conditions.append(filter.archived ? "archived_at IS NOT NULL" : "archived_at IS NULL")
        if !filter.statuses.isEmpty {
            let list = SQLQueryString(filter.statuses.map { "'\($0.rawValue)'" }.joined(separator: ", "))
            conditions.append("status IN (" + list + ")")
        }
        if let agent = filter.assignedTo { conditions.append("assigned_agent_id = \(bind: agent.description)") }
        if filter.unassigned { conditions.append("assigned_agent_id IS NULL") }
        if let from = filter.activeFrom { conditions.append("activity_at >= \(bind: from.millis)") }
        if let until = filter.activeUntil { conditions.append("activity_at < \(bind: until.millis)") }
        if let feedback = filter.feedback {
            conditions.append(
                """
                id IN (SELECT session_id FROM ai_interactions WHERE organization_id = \(bind: organizationID.description)
                    AND feedback = \(bind: feedback))
                """)
        }
        if let cursor = page.cursor {
            conditions.append(
                "(activity_at < \(bind: cursor.sortKey) OR (activity_at = \(bind: cursor.sortKey) AND id < \(bind: cursor.id)))"
            )
        }
        let whereClause = conditions.dropFirst().reduce(conditions[0]) { $0 + " AND " + $1 }
        let rows = try await self.engine.read { db in
            try await db.raw(
                "SELECT * FROM chat_sessions WHERE \(whereClause) ORDER BY activity_at DESC, id DESC LIMIT \(bind: page.limit + 1)"
            ).all()
        }
        return Page(fetched: try rows.map(Self.decodeSession), limit: page.limit) {
            PageCursor(sortKey: ($0.lastMessageAt ?? $0.createdAt).millis, id: $0.id.description)
        }
    }

    /// How many conversations there are in each status (archived counted apart).
    /// Conversations by status (archived apart), and the open ones (not closed, not archived)
    /// nobody has (`unassigned`) and `agent` has (`mine`).
    public func counts(in organizationID: Organization.ID, agent: Agent.ID? = nil) async throws -> [String: Int] {
        let (rows, open) = try await self.engine.read { db in
            let rows = try await db.raw(
                """
                SELECT CASE WHEN archived_at IS NULL THEN status ELSE 'archived' END AS bucket, COUNT(*) AS n
                FROM chat_sessions WHERE organization_id = \(bind: organizationID.description) GROUP BY 1
                """
            ).all()
            let open = try await db.raw(
                """
                SELECT SUM(CASE WHEN assigned_agent_id IS NULL THEN 1 ELSE 0 END) AS unassigned,
                    SUM(CASE WHEN assigned_agent_id = \(bind: agent?.description ?? "") THEN 1 ELSE 0 END) AS mine
                FROM chat_sessions WHERE organization_id = \(bind: organizationID.description)
                    AND status <> 'closed' AND archived_at IS NULL
                """
            ).first()
            return (rows, open)
        }
        var counts = Dictionary(uniqueKeysWithValues: ChatStatus.allCases.map { ($0.rawValue, 0) })
        counts["archived"] = 0
        for row in rows { counts[try row.string("bucket")] = Int(try row.int64("n")) }
        counts["unassigned"] = Int(try open?.optionalInt64("unassigned") ?? 0)
        counts["mine"] = Int(try open?.optionalInt64("mine") ?? 0)
        return counts
    }

    /// Moves a read marker forward (never back); returns the conversation as it is now.
    /// Inside `ChatWriter.markRead`'s transaction.
    static func markRead(
        _ sessionID: ChatSession.ID, seq: Int64, byVisitor: Bool, in organizationID: Organization.ID,
        db: any SQLDatabase
    ) async throws -> ChatSession {
        let column: SQLQueryString = byVisitor ? "visitor_read_seq" : "agent_read_seq"
        try await db.raw(
            """
            UPDATE chat_sessions SET \(column) = CASE WHEN \(column) < \(bind: seq) AND \(bind: seq) <= last_seq
                THEN \(bind: seq) ELSE \(column) END
            WHERE id = \(bind: sessionID.description) AND organization_id = \(bind: organizationID.description)
            """
        ).run()
        guard
            let row = try await db.raw(
                "SELECT * FROM chat_sessions WHERE id = \(bind: sessionID.description) AND organization_id = \(bind: organizationID.description)"
            ).first()
        else { throw DomainError.notFound(entity: "conversation") }
        return try Self.decodeSession(row)
    }

    /// Conversations with the AI or an agent and no activity since `before`, oldest first. An
    /// escalated conversation is waiting for the team, so it is never closed for being idle.
    public func idleSessions(before: Date, limit: Int) async throws -> [(ChatSession.ID, Organization.ID)] {
        let rows = try await self.engine.read { db in
            try await db.raw(
                """
                SELECT id, organization_id FROM chat_sessions WHERE status IN ('ai_active', 'agent_active')
                AND activity_at < \(bind: before.millis)
                ORDER BY activity_at LIMIT \(bind: limit)
                """
            ).all()
        }
        return try rows.compactMap { row in
            guard let id = ChatSession.ID(try row.string("id")),
                let org = Organization.ID(try row.string("organization_id"))
            else {
                return nil
            }
            return (id, org)
        }
    }

    /// A secret the server keeps in the database (so every instance shares it), made on first use.
    public func serverKey(_ name: String, make: @Sendable () -> String) async throws -> String {
        if let row = try await self.engine.read({ db in
            try await db.raw("SELECT value FROM server_keys WHERE name = \(bind: name)").first()
        }) {
            return try row.string("value")
        }
        let value = make()
        let now = self.now()
        return try await self.engine.transaction { db in
            try await db.raw(
                """
                INSERT INTO server_keys (name, value, created_at) VALUES (\(bind: name), \(bind: value), \(bind: now.millis))
                ON CONFLICT (name) DO NOTHING
                """
            ).run()
            return try await db.raw("SELECT value FROM server_keys WHERE name = \(bind: name)").first()!.string("value")
        }
    }

    // MARK: - Rows

    static func decodeVisitor(_ row: any SQLRow) throws -> Visitor {
        guard let id = Visitor.ID(try row.string("id")), let org = Organization.ID(try row.string("organization_id")),
            let site = Site.ID(try row.string("site_id"))
        else { throw CorruptRowError(description: "visitor row") }
        return Visitor(
            id: id, organizationID: org, siteID: site, anonymousID: try row.string("anonymous_id"),
            externalID: try row.optionalString("external_id"), name: try row.optionalString("name"),
            email: try row.optionalString("email"),
            traits: try JSONColumn.decode([String: String].self, from: try row.string("traits")),
            currentPage: try row.optionalString("current_page"), firstSeenAt: try row.date("first_seen_at"),
            lastSeenAt: try row.date("last_seen_at"))
    }

    /// A conversation, locked until the transaction ends (PostgreSQL; SQLite has one writer).
    static func lockedSession(_ id: ChatSession.ID, in organizationID: Organization.ID, db: any SQLDatabase)
        async throws -> ChatSession
    {
        let lock: SQLQueryString = db.parleyDialect == .postgres ? " FOR UPDATE" : ""
        let row = try await db.raw(
            """
            SELECT * FROM chat_sessions WHERE id = \(bind: id.description)
                AND organization_id = \(bind: organizationID.description)
            """ + lock
        ).first()
        guard let row else { throw DomainError.notFound(entity: "conversation") }
        return try Self.decodeSession(row)
    }

    static func visitor(_ id: Visitor.ID, db: any SQLDatabase) async throws -> Visitor {
        guard let row = try await db.raw("SELECT * FROM visitors WHERE id = \(bind: id.description)").first() else {
            throw DomainError.notFound(entity: "visitor")
        }
        return try Self.decodeVisitor(row)
    }

    static func decodeSession(_ row: any SQLRow) throws -> ChatSession {
        guard let id = ChatSession.ID(try row.string("id")),
            let org = Organization.ID(try row.string("organization_id")),
            let site = Site.ID(try row.string("site_id")), let visitor = Visitor.ID(try row.string("visitor_id")),
            let status = ChatStatus(rawValue: try row.string("status"))
        else { throw CorruptRowError(description: "chat session row") }
        var session = ChatSession(
            id: id, organizationID: org, siteID: site, visitorID: visitor, status: status,
            assignedAgentID: try row.optionalString("assigned_agent_id").flatMap(Agent.ID.init),
            lastSeq: try row.int64("last_seq"), lastVisitorSeq: try row.int64("last_visitor_seq"),
            visitorReadSeq: try row.int64("visitor_read_seq"), agentReadSeq: try row.int64("agent_read_seq"),
            lastMessagePreview: try row.optionalString("last_message_preview"),
            lastMessageRole: try row.optionalString("last_message_role").flatMap(MessageRole.init(rawValue:)),
            lastMessageAt: try row.optionalDate("last_message_at"), createdAt: try row.date("created_at"),
            updatedAt: try row.date("updated_at"), closedAt: try row.optionalDate("closed_at"),
            archivedAt: try row.optionalDate("archived_at"))
        session.lastMessageAuthorID = try row.optionalString("last_message_agent_id").flatMap(Agent.ID.init)
        session.ticketID = try row.optionalString("ticket_id").flatMap(Ticket.ID.init)
        session.satisfaction = try row.optionalString("satisfaction").flatMap {
            try? JSONColumn.decode(Satisfaction.self, from: $0)
        }
        return session
    }

    static func decodeMessage(_ row: any SQLRow) throws -> ChatMessage {
        guard let id = ChatMessage.ID(try row.string("id")), let session = ChatSession.ID(try row.string("session_id")),
            let org = Organization.ID(try row.string("organization_id")),
            let role = MessageRole(rawValue: try row.string("role"))
        else { throw CorruptRowError(description: "chat message row") }
        return ChatMessage(
            id: id, sessionID: session, organizationID: org, seq: try row.int64("seq"), role: role,
            authorAgentID: try row.optionalString("author_agent_id").flatMap(Agent.ID.init),
            body: try row.string("body"),
            clientID: try row.optionalString("client_id"), createdAt: try row.date("created_at"),
            metadata: try JSONColumn.decode([String: String].self, from: try row.string("metadata")))
    }
}
