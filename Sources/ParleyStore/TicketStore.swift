public import Foundation
public import ParleyCore
import SQLKit

/// Tickets and their threads, scoped by organization: reads, SLA policies and business hours, and
/// the SQL that `TicketWriter` (the one road by which tickets change) commits with.
public struct TicketStore: Sendable {
    let engine: any DatabaseEngine
    let now: @Sendable () -> Date
    /// Business hours, read by every widget config and handoff.
    let calendars = TimedCache<Organization.ID, BusinessCalendar>()

    init(engine: any DatabaseEngine, now: @escaping @Sendable () -> Date) {
        self.engine = engine
        self.now = now
    }

    // MARK: Creating

    /// What a new ticket is made of.
    public struct NewTicket: Sendable {
        public var requesterEmail: String
        public var requesterName: String?
        public var visitorID: Visitor.ID?
        public var subject: String
        public var body: String
        /// Nil: classified from the words (the keyword fallback), with the category.
        public var priority: TicketPriority?
        public var source: TicketSource
        public var category: String?
        public var tags: [String]

        public init(
            requesterEmail: String, requesterName: String? = nil, visitorID: Visitor.ID? = nil, subject: String,
            body: String, priority: TicketPriority? = .medium, source: TicketSource = .form, category: String? = nil,
            tags: [String] = []
        ) {
            self.requesterEmail = requesterEmail
            self.requesterName = requesterName
            self.visitorID = visitorID
            self.subject = subject
            self.body = body
            self.priority = priority
            self.source = source
            self.category = category
            self.tags = tags
        }
    }

    static func applySLA(to ticket: inout Ticket, db: any SQLDatabase) async throws {
        let policies = try await Self.policies(ticket.organizationID, db: db)
        let calendar = try await Self.calendar(ticket.organizationID, db: db)
        guard let policy = policies.first(where: { $0.priority == ticket.priority }) else {
            ticket.firstResponseDueAt = nil
            ticket.resolutionDueAt = nil
            return
        }
        let due = SLAClock.deadlines(for: policy, from: ticket.createdAt, calendar: calendar)
        ticket.firstResponseDueAt = due.firstResponse
        ticket.resolutionDueAt = due.resolution
    }

    static func insert(_ ticket: Ticket, db: any SQLDatabase) async throws {
        try await db.raw(
            """
            INSERT INTO tickets (id, organization_id, visitor_id, requester_email, requester_name, subject, status,
                priority, source, chat_session_id, last_seq, created_at, updated_at, assignee_id, tags, category,
                satisfaction, first_response_at, resolved_at, closed_at, first_response_due_at, resolution_due_at,
                sla_paused_at, ai_resolved)
            VALUES (\(bind: ticket.id.description), \(bind: ticket.organizationID.description),
                \(bind: ticket.visitorID?.description), \(bind: ticket.requesterEmail), \(bind: ticket.requesterName),
                \(bind: ticket.subject), \(bind: ticket.status.rawValue), \(bind: ticket.priority.rawValue),
                \(bind: ticket.source.rawValue), \(bind: ticket.chatSessionID?.description), \(bind: ticket.lastSeq),
                \(bind: ticket.createdAt.millis), \(bind: ticket.updatedAt.millis), \(bind: ticket.assigneeID?.description),
                \(bind: try JSONColumn.encode(ticket.tags)), \(bind: ticket.category),
                \(bind: try ticket.satisfaction.map(JSONColumn.encode)), \(bind: ticket.firstResponseAt?.millis),
                \(bind: ticket.resolvedAt?.millis), \(bind: ticket.closedAt?.millis),
                \(bind: ticket.firstResponseDueAt?.millis), \(bind: ticket.resolutionDueAt?.millis),
                \(bind: ticket.slaPausedAt?.millis), \(bind: ticket.aiResolved))
            """
        ).run()
        if db.parleyDialect == .sqlite {
            try await Self.index(ticket.id, ticket.organizationID, ticket.subject, db: db)
        }
    }

    static func save(_ ticket: Ticket, db: any SQLDatabase) async throws {
        try await db.raw(
            """
            UPDATE tickets SET status = \(bind: ticket.status.rawValue), priority = \(bind: ticket.priority.rawValue),
                last_seq = \(bind: ticket.lastSeq), updated_at = \(bind: ticket.updatedAt.millis),
                assignee_id = \(bind: ticket.assigneeID?.description), tags = \(bind: try JSONColumn.encode(ticket.tags)),
                category = \(bind: ticket.category), satisfaction = \(bind: try ticket.satisfaction.map(JSONColumn.encode)),
                first_response_at = \(bind: ticket.firstResponseAt?.millis), resolved_at = \(bind: ticket.resolvedAt?.millis),
                closed_at = \(bind: ticket.closedAt?.millis), first_response_due_at = \(bind: ticket.firstResponseDueAt?.millis),
                resolution_due_at = \(bind: ticket.resolutionDueAt?.millis), sla_paused_at = \(bind: ticket.slaPausedAt?.millis),
                ai_resolved = \(bind: ticket.aiResolved), requester_email = \(bind: ticket.requesterEmail)
            WHERE id = \(bind: ticket.id.description) AND organization_id = \(bind: ticket.organizationID.description)
            """
        ).run()
    }

    static func insert(_ message: TicketMessage, db: any SQLDatabase) async throws {
        try await db.raw(
            """
            INSERT INTO ticket_messages (id, ticket_id, organization_id, seq, role, author_agent_id, body, internal, created_at,
                attachments, chat_seq)
            VALUES (\(bind: message.id.description), \(bind: message.ticketID.description),
                \(bind: message.organizationID.description), \(bind: message.seq), \(bind: message.role.rawValue),
                \(bind: message.authorAgentID?.description), \(bind: message.body), \(bind: message.isInternal),
                \(bind: message.createdAt.millis),
                \(bind: message.attachments.isEmpty ? nil : String(decoding: try JSONEncoder().encode(message.attachments), as: UTF8.self)),
                \(bind: message.chatSeq))
            """
        ).run()
        if db.parleyDialect == .sqlite {
            try await Self.index(message.ticketID, message.organizationID, message.body, db: db)
        }
    }

    /// SQLite's search rows (PostgreSQL indexes the columns themselves).
    static func index(_ ticket: Ticket.ID, _ organization: Organization.ID, _ text: String, db: any SQLDatabase)
        async throws
    {
        try await db.raw(
            """
            INSERT INTO ticket_search (ticket_id, organization_id, text)
            VALUES (\(bind: ticket.description), \(bind: organization.description), \(bind: text))
            """
        ).run()
    }

    // MARK: Changing

    /// A message that goes with a change.
    public struct NewMessage: Sendable {
        public var role: TicketRole
        public var body: String
        public var isInternal: Bool
        public var author: Agent.ID?
        /// Files uploaded to this ticket beforehand, sent with the message.
        public var attachments: [Attachment.ID]

        public init(
            role: TicketRole, body: String, isInternal: Bool = false, author: Agent.ID? = nil,
            attachments: [Attachment.ID] = []
        ) {
            self.role = role
            self.body = body
            self.isInternal = isInternal
            self.author = author
            self.attachments = attachments
        }
    }

    /// What a change did.
    public struct Change: Sendable {
        public var before: Ticket
        public var ticket: Ticket
        public var message: TicketMessage?
        /// Notifications the change made (stored with it), for the caller to push.
        public var notifications: [AgentNotification] = []

        public init(
            before: Ticket, ticket: Ticket, message: TicketMessage?, notifications: [AgentNotification] = []
        ) {
            self.before = before
            self.ticket = ticket
            self.message = message
            self.notifications = notifications
        }
    }

    /// The assistant's work on a ticket, queued with what called for it: classification (new
    /// tickets) and a drafted reply (new tickets and customer replies).
    public struct AssistJob: Codable, Sendable {
        public static let kind = "tickets.assist"
        public enum Reason: String, Codable, Sendable {
            case created
            case customerReply = "customer_reply"
        }
        public var ticket: String
        public var organization: String
        public var reason: Reason
    }

    /// A change refused because the ticket is no longer as the caller saw it.
    public struct TicketChangedError: Error, Sendable {}

    /// The organization's ticket whose id starts with `reference` (the `[#1a2b3c4d]` of email
    /// subjects) and whose requester is `email`; nil when none or several match.
    public func ticket(reference: String, requester email: String?, in organizationID: Organization.ID) async throws
        -> Ticket?
    {
        guard reference.count == 8, reference.allSatisfy(\.isHexDigit) else { return nil }
        let rows = try await self.engine.read { db in
            var query: SQLQueryString = """
                SELECT * FROM tickets WHERE organization_id = \(bind: organizationID.description)
                    AND id LIKE \(bind: reference.lowercased() + "%")
                """
            if let email { query = query + " AND LOWER(requester_email) = \(bind: email.lowercased())" }
            return try await db.raw(query + " LIMIT 2").all()
        }
        return rows.count == 1 ? try Self.decode(rows[0]) : nil
    }

    static func enqueueAssist(_ ticket: Ticket, reason: AssistJob.Reason, now: Date, db: any SQLDatabase) async throws {
        let job = AssistJob(
            ticket: ticket.id.description, organization: ticket.organizationID.description, reason: reason)
        try await JobQueue.insert(
            kind: AssistJob.kind, payload: String(decoding: try JSONEncoder().encode(job), as: UTF8.self), now: now,
            db: db)
    }

    /// The tickets `ids`, locked in id order (PostgreSQL); missing ones are left out.
    static func lockedTickets(_ ids: [Ticket.ID], db: any SQLDatabase) async throws -> [Ticket.ID: Ticket] {
        guard !ids.isEmpty else { return [:] }
        let lock: SQLQueryString = db.parleyDialect == .postgres ? " FOR UPDATE" : ""
        let rows = try await db.raw(
            "SELECT * FROM tickets WHERE id IN (" + Self.list(Set(ids.map(\.description)).sorted()) + ") ORDER BY id"
                + lock
        ).all()
        var tickets: [Ticket.ID: Ticket] = [:]
        for row in rows {
            let ticket = try Self.decode(row)
            tickets[ticket.id] = ticket
        }
        return tickets
    }

    /// The conversation a ticket is one thread with (read without a lock: it never changes).
    static func conversation(of id: Ticket.ID, in organizationID: Organization.ID, db: any SQLDatabase) async throws
        -> ChatSession.ID?
    {
        try await db.raw(
            """
            SELECT chat_session_id FROM tickets WHERE id = \(bind: id.description)
                AND organization_id = \(bind: organizationID.description)
            """
        ).first().flatMap { try $0.optionalString("chat_session_id").flatMap(ChatSession.ID.init) }
    }

    static func lockedTicket(_ id: Ticket.ID, in organizationID: Organization.ID, db: any SQLDatabase) async throws
        -> Ticket
    {
        let lock = db.parleyDialect == .postgres ? " FOR UPDATE" : ""
        let row = try await db.raw(
            """
            SELECT * FROM tickets WHERE id = \(bind: id.description) AND organization_id = \(bind: organizationID.description)
            """ + SQLQueryString(stringLiteral: lock)
        ).first()
        guard let row else { throw DomainError.notFound(entity: "ticket") }
        return try Self.decode(row)
    }

    // MARK: The SLA job

    /// What one sweep did.
    public struct SweepResult: Sendable {
        public var warned: [Ticket] = []
        public var breached: [Ticket] = []
        public var closed: [Ticket] = []
        /// The notifications the sweep stored (and published).
        public var notifications: [AgentNotification] = []
    }

    /// Where the sweep stands with a ticket's two SLA targets.
    public struct SLAStanding: Sendable {
        public var firstResponse: SLAState
        public var resolution: SLAState
    }

    /// Tickets past an SLA target (breach) or within its last fifth (warning, not yet warned).
    func slaCandidates(now: Date, limit: Int) async throws -> [(Ticket, SLAStanding)] {
        let nowMillis = now.millis
        let rows = try await self.engine.read { db in
            try await db.raw(
                """
                SELECT * FROM tickets WHERE status NOT IN ('resolved', 'closed') AND sla_breached_at IS NULL
                    AND ((first_response_at IS NULL AND first_response_due_at IS NOT NULL)
                        OR (sla_paused_at IS NULL AND resolution_due_at IS NOT NULL))
                    AND (first_response_due_at - (first_response_due_at - created_at) / 5 <= \(bind: nowMillis)
                        OR resolution_due_at - (resolution_due_at - created_at) / 5 <= \(bind: nowMillis))
                LIMIT \(bind: limit)
                """
            ).all()
        }
        var candidates: [(Ticket, SLAStanding)] = []
        for row in rows {
            let ticket = try Self.decode(row)
            let standing = SLAStanding(
                firstResponse: SLAClock.state(
                    due: ticket.firstResponseDueAt, done: ticket.firstResponseAt,
                    target: ticket.firstResponseDueAt.map { Int($0.timeIntervalSince(ticket.createdAt) / 60) }, now: now
                ),
                resolution: SLAClock.state(
                    due: ticket.resolutionDueAt, done: ticket.resolvedAt,
                    target: ticket.resolutionDueAt.map { Int($0.timeIntervalSince(ticket.createdAt) / 60) }, now: now,
                    paused: ticket.slaPausedAt))
            let breached = standing.firstResponse == .breached || standing.resolution == .breached
            let warning = !breached && (standing.firstResponse == .warning || standing.resolution == .warning)
            guard breached || (warning && ((try? row.optionalDate("sla_warned_at")) ?? nil) == nil) else { continue }
            candidates.append((ticket, standing))
        }
        return candidates
    }

    /// Tickets resolved before `date` (to close).
    func resolved(before date: Date, limit: Int) async throws -> [(Ticket.ID, Organization.ID)] {
        let rows = try await self.engine.read { db in
            try await db.raw(
                """
                SELECT id, organization_id FROM tickets WHERE status = 'resolved'
                    AND resolved_at <= \(bind: date.millis) LIMIT \(bind: limit)
                """
            ).all()
        }
        return try rows.compactMap { row in
            guard let id = Ticket.ID(try row.string("id")),
                let organization = Organization.ID(try row.string("organization_id"))
            else { return nil }
            return (id, organization)
        }
    }

    // MARK: SLA policies and business hours

    public func policies(in organizationID: Organization.ID) async throws -> [SLAPolicy] {
        try await self.engine.read { db in try await Self.policies(organizationID, db: db) }
    }

    /// The organization's policies, or the defaults until it sets its own.
    static func policies(_ organizationID: Organization.ID, db: any SQLDatabase) async throws -> [SLAPolicy] {
        let rows = try await db.raw(
            "SELECT * FROM sla_policies WHERE organization_id = \(bind: organizationID.description)"
        ).all()
        if rows.isEmpty { return SLAPolicy.defaults }
        return try rows.compactMap { row in
            guard let priority = TicketPriority(rawValue: try row.string("priority")) else { return nil }
            return SLAPolicy(
                priority: priority, firstResponseMinutes: Int(try row.int64("first_response_minutes")),
                resolutionMinutes: Int(try row.int64("resolution_minutes")),
                businessHoursOnly: try row.bool("business_hours_only"))
        }
    }

    /// Replaces the policies (one per priority at most; a priority left out has no SLA).
    public func setPolicies(_ policies: [SLAPolicy], in organizationID: Organization.ID) async throws -> [SLAPolicy] {
        guard Set(policies.map(\.priority)).count == policies.count else {
            throw ValidationError(field: "policies", message: "One policy per priority.")
        }
        for policy in policies {
            guard (1...525_600).contains(policy.firstResponseMinutes), (1...525_600).contains(policy.resolutionMinutes)
            else {
                throw ValidationError(
                    field: "policies", message: "Targets must be 1 to 525,600 minutes (\(policy.priority.rawValue)).")
            }
        }
        try await self.engine.transaction { db in
            try await db.raw("DELETE FROM sla_policies WHERE organization_id = \(bind: organizationID.description)")
                .run()
            for policy in policies {
                try await db.raw(
                    """
                    INSERT INTO sla_policies (organization_id, priority, first_response_minutes, resolution_minutes,
                        business_hours_only)
                    VALUES (\(bind: organizationID.description), \(bind: policy.priority.rawValue),
                        \(bind: policy.firstResponseMinutes), \(bind: policy.resolutionMinutes), \(bind: policy.businessHoursOnly))
                    """
                ).run()
            }
        }
        return policies
    }

    /// The organization's business hours (kept two seconds; see `TimedCache`).
    public func calendar(in organizationID: Organization.ID) async throws -> BusinessCalendar {
        try await self.calendars.value(organizationID) {
            try await self.engine.read { db in try await Self.calendar(organizationID, db: db) }
        }
    }

    static func calendar(_ organizationID: Organization.ID, db: any SQLDatabase) async throws -> BusinessCalendar {
        let row = try await db.raw(
            "SELECT business_calendar FROM organization_settings WHERE organization_id = \(bind: organizationID.description)"
        ).first()
        guard let row else { return .always }
        return try JSONColumn.decode(BusinessCalendar.self, from: try row.string("business_calendar"))
    }

    /// Sets the business hours (checked: a known time zone, periods within a day, real dates).
    public func setCalendar(_ calendar: BusinessCalendar, in organizationID: Organization.ID) async throws
        -> BusinessCalendar
    {
        guard TimeZone(identifier: calendar.timeZone) != nil else {
            throw ValidationError(field: "timeZone", message: "timeZone must be an IANA time zone like Europe/Paris.")
        }
        for (day, periods) in calendar.weeklyHours {
            guard (1...7).contains(day) else {
                throw ValidationError(field: "weeklyHours", message: "Weekdays are 1 (Sunday) to 7 (Saturday).")
            }
            for period in periods where !(0 <= period.start && period.start < period.end && period.end <= 1440) {
                throw ValidationError(
                    field: "weeklyHours", message: "A period runs from a start to a later end within the day (0-1440).")
            }
        }
        for day in calendar.holidays where day.count != 10 || day.split(separator: "-").count != 3 {
            throw ValidationError(field: "holidays", message: "Holidays are dates like 2026-12-25.")
        }
        let json = try JSONColumn.encode(calendar)
        let now = self.now().millis
        try await self.engine.transaction { db in
            try await db.raw(
                """
                INSERT INTO organization_settings (organization_id, business_calendar, updated_at)
                VALUES (\(bind: organizationID.description), \(bind: json), \(bind: now))
                ON CONFLICT (organization_id) DO UPDATE SET business_calendar = excluded.business_calendar,
                    updated_at = excluded.updated_at
                """
            ).run()
        }
        self.calendars.forget(organizationID)
        return calendar
    }

    // MARK: Reading

    public func ticket(forConversation sessionID: ChatSession.ID, in organizationID: Organization.ID) async throws
        -> Ticket?
    {
        let row = try await self.engine.read { db in
            try await db.raw(
                """
                SELECT * FROM tickets WHERE chat_session_id = \(bind: sessionID.description)
                    AND organization_id = \(bind: organizationID.description) ORDER BY created_at DESC LIMIT 1
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

    /// A ticket's thread, in order; internal notes only when `includeInternal` (never for customers).
    /// `after` and `limit` page it by seq (a channel's replay).
    public func messages(
        of id: Ticket.ID, in organizationID: Organization.ID, includeInternal: Bool, after: Int64 = 0,
        limit: Int = 100_000
    ) async throws -> [TicketMessage] {
        let rows = try await self.engine.read { db in
            try await db.raw(
                """
                SELECT * FROM ticket_messages WHERE ticket_id = \(bind: id.description)
                    AND organization_id = \(bind: organizationID.description) AND seq > \(bind: after)
                """ + (includeInternal ? "" : " AND internal = \(bind: false)") + " ORDER BY seq LIMIT \(bind: limit)"
            ).all()
        }
        return try rows.map(Self.decodeMessage)
    }

    static func decodeMessage(_ row: any SQLRow) throws -> TicketMessage {
        guard let id = TicketMessage.ID(try row.string("id")), let ticket = Ticket.ID(try row.string("ticket_id")),
            let organization = Organization.ID(try row.string("organization_id")),
            let role = TicketRole(rawValue: try row.string("role"))
        else { throw CorruptRowError(description: "ticket_messages row") }
        var message = TicketMessage(
            id: id, ticketID: ticket, organizationID: organization, seq: try row.int64("seq"), role: role,
            authorAgentID: try row.optionalString("author_agent_id").flatMap(Agent.ID.init),
            body: try row.string("body"), isInternal: try row.bool("internal"),
            createdAt: try row.date("created_at"),
            attachments: try row.optionalString("attachments").flatMap {
                try? JSONDecoder().decode([Attachment.Reference].self, from: Data($0.utf8))
            } ?? [])
        message.chatSeq = try row.optionalInt64("chat_seq")
        return message
    }

    /// What the agents' list can filter by.
    public struct Filter: Sendable {
        public enum Assignee: Sendable, Equatable {
            case unassigned
            case agent(Agent.ID)
        }
        /// Which SLA targets are at stake: past a deadline, or within its last fifth.
        public enum SLAFilter: String, Sendable {
            case breached
            case warning
        }
        public enum Sort: String, Sendable {
            case newest, oldest, updated
        }
        public var statuses: [TicketStatus] = []
        public var priorities: [TicketPriority] = []
        public var assignee: Assignee?
        public var tag: String?
        public var source: TicketSource?
        public var sla: SLAFilter?
        public var from: Date?
        public var to: Date?
        /// Words that must all appear in the subject or a message.
        public var text: String?
        public var visitor: Visitor.ID?
        public var sort: Sort = .newest

        public init() {}
    }

    /// Tickets matching `filter`, keyset-paged in the chosen order.
    public func list(in organizationID: Organization.ID, filter: Filter, page: PageRequest) async throws -> Page<Ticket>
    {
        let now = self.now()
        let rows = try await self.engine.read { db -> [any SQLRow] in
            guard let query = Self.listQuery(organizationID, filter, page, now: now, dialect: db.parleyDialect) else {
                return []
            }
            return try await db.raw(query).all()
        }
        let sortedByUpdate = filter.sort == .updated
        return Page(fetched: try rows.map(Self.decode), limit: page.limit) {
            PageCursor(sortKey: (sortedByUpdate ? $0.updatedAt : $0.createdAt).millis, id: $0.id.description)
        }
    }

    /// The database's plan for the list query (`EXPLAIN QUERY PLAN` on SQLite, `EXPLAIN` on
    /// PostgreSQL), one line per step: to check that filters and search use their indexes.
    public func explainList(in organizationID: Organization.ID, filter: Filter, page: PageRequest) async throws
        -> [String]
    {
        let now = self.now()
        return try await self.engine.read { db -> [String] in
            guard let query = Self.listQuery(organizationID, filter, page, now: now, dialect: db.parleyDialect) else {
                return []
            }
            switch db.parleyDialect {
            case .sqlite:
                return try await db.raw("EXPLAIN QUERY PLAN " + query).all().map { try $0.string("detail") }
            case .postgres:
                return try await db.raw("EXPLAIN " + query).all().map { try $0.string("QUERY PLAN") }
            }
        }
    }

    /// The list query; nil when a search has no words (nothing can match).
    static func listQuery(
        _ organizationID: Organization.ID, _ filter: Filter, _ page: PageRequest, now date: Date,
        dialect: DatabaseDialect
    ) -> SQLQueryString? {
        let now = date.millis
        let column = filter.sort == .updated ? "updated_at" : "created_at"
        let descending = filter.sort != .oldest
        var query: SQLQueryString =
            "SELECT t.* FROM tickets t WHERE t.organization_id = \(bind: organizationID.description)"
        if !filter.statuses.isEmpty {
            query = query + " AND t.status IN (" + Self.list(filter.statuses.map(\.rawValue)) + ")"
        }
        if !filter.priorities.isEmpty {
            query = query + " AND t.priority IN (" + Self.list(filter.priorities.map(\.rawValue)) + ")"
        }
        switch filter.assignee {
        case .unassigned: query = query + " AND t.assignee_id IS NULL"
        case .agent(let id): query = query + " AND t.assignee_id = \(bind: id.description)"
        case nil: break
        }
        if let visitor = filter.visitor { query = query + " AND t.visitor_id = \(bind: visitor.description)" }
        if let source = filter.source { query = query + " AND t.source = \(bind: source.rawValue)" }
        if let tag = filter.tag {
            // Tags are a JSON array of lowercase words: match the quoted tag.
            query = query + " AND t.tags LIKE \(bind: "%\"" + tag.lowercased() + "\"%")"
        }
        if let from = filter.from { query = query + " AND t.created_at >= \(bind: from.millis)" }
        if let to = filter.to { query = query + " AND t.created_at < \(bind: to.millis)" }
        switch filter.sla {
        case .breached:
            query =
                query
                    + """
                     AND ((t.first_response_at IS NULL AND t.first_response_due_at < \(bind: now))
                        OR (t.resolved_at IS NULL AND t.sla_paused_at IS NULL AND t.resolution_due_at < \(bind: now))
                        OR t.first_response_at > t.first_response_due_at OR t.resolved_at > t.resolution_due_at)
                    """
        case .warning:
            // Within the last fifth of a target (in wall-clock time here).
            query =
                query
                    + """
                     AND t.status NOT IN ('resolved', 'closed') AND (
                        (t.first_response_at IS NULL AND t.first_response_due_at >= \(bind: now)
                            AND t.first_response_due_at - \(bind: now) < (t.first_response_due_at - t.created_at) / 5)
                        OR (t.sla_paused_at IS NULL AND t.resolution_due_at >= \(bind: now)
                            AND t.resolution_due_at - \(bind: now) < (t.resolution_due_at - t.created_at) / 5))
                    """
        case nil: break
        }
        if let text = filter.text {
            let words = SearchTerms.words(text)
            if words.isEmpty { return nil }
            switch dialect {
            case .sqlite:
                let match = words.map { "\"\($0)\"" }.joined(separator: " ")
                query =
                    query
                    + " AND t.id IN (SELECT ticket_id FROM ticket_search WHERE ticket_search MATCH \(bind: match) AND organization_id = \(bind: organizationID.description))"
            case .postgres:
                // Two indexed searches (subjects, messages), each by its own GIN index, collected once
                // into an array, so the tickets themselves are fetched by primary key.
                let tsquery = words.joined(separator: " & ")
                query =
                    query
                        + """
                         AND t.id = ANY (ARRAY(SELECT s.id FROM tickets s WHERE s.organization_id = \(bind: organizationID.description)
                                AND to_tsvector('english', s.subject) @@ to_tsquery('english', \(bind: tsquery))
                            UNION SELECT m.ticket_id FROM ticket_messages m WHERE m.organization_id = \(bind: organizationID.description)
                                AND to_tsvector('english', m.body) @@ to_tsquery('english', \(bind: tsquery))))
                        """
            }
        }
        if let cursor = page.cursor {
            let op = descending ? "<" : ">"
            query =
                query
                + " AND (t.\(unsafeRaw: column) \(unsafeRaw: op) \(bind: cursor.sortKey) OR (t.\(unsafeRaw: column) = \(bind: cursor.sortKey) AND t.id \(unsafeRaw: op) \(bind: cursor.id)))"
        }
        let direction = descending ? "DESC" : "ASC"
        return query
            + " ORDER BY t.\(unsafeRaw: column) \(unsafeRaw: direction), t.id \(unsafeRaw: direction) LIMIT \(bind: page.limit + 1)"
    }

    static func list(_ values: [String]) -> SQLQueryString {
        var query: SQLQueryString = ""
        for (index, value) in values.enumerated() {
            query = query + (index == 0 ? "" : ", ") + "\(bind: value)"
        }
        return query
    }

    /// How many of the organization's tickets are in each status.
    public func counts(in organizationID: Organization.ID) async throws -> [String: Int] {
        let rows = try await self.engine.read { db in
            try await db.raw(
                "SELECT status, COUNT(*) AS n FROM tickets WHERE organization_id = \(bind: organizationID.description) GROUP BY status"
            ).all()
        }
        var counts = Dictionary(uniqueKeysWithValues: TicketStatus.allCases.map { ($0.rawValue, 0) })
        for row in rows { counts[try row.string("status")] = Int(try row.int64("n")) }
        return counts
    }

    static func decode(_ row: any SQLRow) throws -> Ticket {
        guard let id = Ticket.ID(try row.string("id")),
            let organization = Organization.ID(try row.string("organization_id")),
            let status = TicketStatus(rawValue: try row.string("status")),
            let priority = TicketPriority(rawValue: try row.string("priority")),
            let source = TicketSource(rawValue: try row.string("source"))
        else { throw CorruptRowError(description: "tickets row") }
        var ticket = Ticket(
            id: id, organizationID: organization,
            visitorID: try row.optionalString("visitor_id").flatMap(Visitor.ID.init),
            requesterEmail: try row.string("requester_email"), requesterName: try row.optionalString("requester_name"),
            subject: try row.string("subject"), status: status, priority: priority, source: source,
            chatSessionID: try row.optionalString("chat_session_id").flatMap(ChatSession.ID.init),
            lastSeq: try row.int64("last_seq"), createdAt: try row.date("created_at"),
            updatedAt: try row.date("updated_at"))
        ticket.assigneeID = try row.optionalString("assignee_id").flatMap(Agent.ID.init)
        ticket.tags = try JSONColumn.decode([String].self, from: try row.string("tags"))
        ticket.category = try row.optionalString("category")
        ticket.satisfaction = try row.optionalString("satisfaction").map {
            try JSONColumn.decode(Satisfaction.self, from: $0)
        }
        ticket.firstResponseAt = try row.optionalDate("first_response_at")
        ticket.resolvedAt = try row.optionalDate("resolved_at")
        ticket.closedAt = try row.optionalDate("closed_at")
        ticket.firstResponseDueAt = try row.optionalDate("first_response_due_at")
        ticket.resolutionDueAt = try row.optionalDate("resolution_due_at")
        ticket.slaPausedAt = try row.optionalDate("sla_paused_at")
        ticket.aiResolved = try row.bool("ai_resolved")
        return ticket
    }
}
