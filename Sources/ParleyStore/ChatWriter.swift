public import Foundation
public import Logging
public import ParleyCore
import SQLKit
public import ServiceLifecycle
import Synchronization

/// The one road by which conversations change: commands are queued, and a single loop applies
/// them in groups, each group in one transaction (a group commit). In that transaction the
/// conversation rows are locked, the core's lifecycle decides each command and assigns `seq`,
/// messages and new states are written, and, on PostgreSQL, one NOTIFY tells the other instances.
/// A command's caller hears back only after the commit; then the committed events go to
/// `onCommit` in commit order.
///
/// A resend with a `clientID` already stored returns the stored message and writes nothing.
public final class ChatWriter: Service, Sendable {
    /// Who sends a command, for the store to check: a visitor may only touch their own conversation.
    public enum Actor: Sendable, Hashable {
        case visitor(Visitor.ID)
        case team
        case system

        /// Whether `message` is this actor's own (a resend of it gives it back).
        func wrote(_ message: ChatMessage) -> Bool {
            switch self {
            case .visitor: message.role == .user
            case .team: message.role == .agent
            case .system: message.role == .ai || message.role == .system
            }
        }
    }

    /// One command for one conversation.
    public struct Request: Sendable {
        public var sessionID: ChatSession.ID
        public var organizationID: Organization.ID
        public var actor: Actor
        public var command: ChatCommand
        /// The signed-in agent who asked, when one did (nobody is told of what they did themselves).
        public var agent: Agent.ID?

        public init(
            sessionID: ChatSession.ID, organizationID: Organization.ID, actor: Actor, command: ChatCommand,
            agent: Agent.ID? = nil
        ) {
            self.sessionID = sessionID
            self.organizationID = organizationID
            self.actor = actor
            self.command = command
            self.agent = agent
        }
    }

    /// The most commands one transaction takes.
    public static let maximumGroup = 256

    private let engine: any DatabaseEngine
    private let now: @Sendable () -> Date
    private let logger: Logger
    private let committer: Committer
    private let queue = WorkQueue<Pending>()

    struct Pending: Sendable {
        var request: Request
        var reply: @Sendable (Result<ChatOutcome, any Error>) -> Void
    }

    /// The refusal after shutdown began.
    public struct ShuttingDown: Error, CustomStringConvertible {
        public var description: String { "The server is shutting down; try again in a moment." }
    }

    /// A writer whose commits end at `committer` (its recorders, its notice, its commit hook).
    public init(committer: Committer, logger: Logger) {
        self.engine = committer.engine
        self.committer = committer
        self.logger = logger
        self.now = committer.now
    }

    /// A writer with a committer of its own that publishes to `onCommit` (tests, tools).
    public convenience init(
        engine: any DatabaseEngine, origin: String, logger: Logger, now: @escaping @Sendable () -> Date = Date.init,
        onCommit: @escaping @Sendable ([DomainEvent]) -> Void
    ) {
        self.init(committer: Committer(engine: engine, origin: origin, now: now, onCommit: onCommit), logger: logger)
    }

    /// Applies `request` and returns what it did, once committed. Throws `DomainError.notFound`,
    /// `InvalidTransition`, or a database error (nothing was written then).
    public func submit(_ request: Request) async throws -> ChatOutcome {
        try await withCheckedThrowingContinuation { reply in
            self.enqueue(request) { reply.resume(with: $0) }
        }
    }

    /// Queues `request` now (so a caller's requests keep their order without waiting for each
    /// other) and calls `completion` once it is committed or refused.
    public func enqueue(_ request: Request, completion: @escaping @Sendable (Result<ChatOutcome, any Error>) -> Void) {
        if !self.queue.append(contentsOf: [Pending(request: request, reply: completion)]) {
            completion(.failure(ShuttingDown()))
        }
    }

    /// Finds or creates the visitor and resumes their open conversation or starts one; a new one
    /// is announced (`session.created`) once committed.
    public func start(site: Site, anonymousID: String, identity: VisitorIdentity?, page: String?) async throws
        -> ChatStore.Started
    {
        let now = self.now()
        return try await self.committer.commit { db in
            let started = try await ChatStore.start(
                site: site, anonymousID: anonymousID, identity: identity, page: page, now: now, db: db)
            return (started, started.isNew ? [.sessionCreated(started.session)] : [])
        }
    }

    /// Marks the conversation read up to `seq` by the visitor or the team; the other side hears
    /// it (`read`) once committed.
    public func markRead(_ sessionID: ChatSession.ID, seq: Int64, byVisitor: Bool, in organizationID: Organization.ID)
        async throws -> ChatSession
    {
        try await self.committer.commit { db in
            let session = try await ChatStore.markRead(
                sessionID, seq: seq, byVisitor: byVisitor, in: organizationID, db: db)
            let read = LiveSignal.read(
                session: session.id, organization: session.organizationID, byVisitor: byVisitor,
                seq: byVisitor ? session.visitorReadSeq : session.agentReadSeq)
            return (session, [.live(read)])
        }
    }

    /// Records a visitor's thumbs up or down on an assistant's reply (`feedback.created`).
    public func recordFeedback(
        on messageID: ChatMessage.ID, helpful: Bool, comment: String?, in organizationID: Organization.ID
    ) async throws {
        let now = self.now()
        try await self.committer.commit { db in
            let feedback = try await AssistantStore.recordFeedback(
                on: messageID, helpful: helpful, comment: comment, in: organizationID, now: now, db: db)
            return ((), [.feedbackCreated(feedback)])
        }
    }

    /// Writes queued commands in groups until graceful shutdown (or cancellation); what is queued
    /// by then is still written, and later commands are refused.
    public func run() async throws {
        await withTaskCancellationHandler {
            await withGracefulShutdownHandler {
                await self.loop()
            } onGracefulShutdown: {
                self.queue.finish()
            }
        } onCancel: {
            self.queue.finish()
        }
    }

    private func loop() async {
        while let group = await self.queue.next(maximum: Self.maximumGroup) { await self.commit(group) }
    }

    /// Writes a group; a database error fails every command of it, but each is tried alone
    /// first, so one bad command never sinks the others.
    private func commit(_ group: [Pending]) async {
        do {
            // The committer publishes before it returns: a sender's own events are on their way
            // before its ack.
            let outcomes = try await self.committer.commit { db in try await self.apply(group.map(\.request), db: db) }
            for (pending, outcome) in zip(group, outcomes) { pending.reply(outcome) }
        } catch {
            guard group.count > 1 else {
                group[0].reply(.failure(error))
                return
            }
            self.logger.warning(
                "Group commit failed; writing its commands one by one", metadata: ["parley.error": "\(error)"])
            for pending in group { await self.commit([pending]) }
        }
    }

    /// Decides and writes a group inside the transaction `db`.
    private func apply(_ requests: [Request], db: any SQLDatabase) async throws -> (
        [Result<ChatOutcome, any Error>], [DomainEvent]
    ) {
        let ids = Array(Set(requests.map(\.sessionID.description))).sorted()
        let idList = SQLQueryString(ids.map { "'\($0)'" }.joined(separator: ", "))
        let lock: SQLQueryString = db.parleyDialect == .postgres ? " FOR UPDATE" : ""
        var sessions: [ChatSession.ID: ChatSession] = [:]
        for row in try await db.raw("SELECT * FROM chat_sessions WHERE id IN (" + idList + ") ORDER BY id" + lock).all()
        {
            let session = try ChatStore.decodeSession(row)
            sessions[session.id] = session
        }

        // Conversations that are one thread with a ticket: their tickets, locked after them
        // (`ThreadLink`; closing a ticket ends the link).
        var tickets = try await TicketStore.lockedTickets(sessions.values.compactMap(\.ticketID), db: db)
        let ticketsBefore = tickets
        var changedState = Set<ChatSession.ID>()
        var calendars: [Organization.ID: BusinessCalendar] = [:]
        var changedTickets: [Ticket.ID] = []
        // The time is read under the locks: changes of one conversation or ticket are stamped in
        // commit order.
        let now = self.now()

        // Earlier messages with the same client ids: a resend returns them.
        var stored: [String: ChatMessage] = [:]
        let clientIDs = Set(requests.compactMap { $0.command.clientID })
        if !clientIDs.isEmpty {
            let clientList = clientIDs.map { "\($0)" }
            for chunk in stride(from: 0, to: clientList.count, by: 200).map({
                Array(clientList[$0..<min($0 + 200, clientList.count)])
            }) {
                var query: SQLQueryString =
                    "SELECT * FROM chat_messages WHERE session_id IN (" + idList + ") AND client_id IN ("
                for (index, clientID) in chunk.enumerated() {
                    query = query + (index == 0 ? "" : ", ") + "\(bind: clientID)"
                }
                for row in try await db.raw(query + ")").all() {
                    let message = try ChatStore.decodeMessage(row)
                    stored["\(message.sessionID)|\(message.clientID ?? "")"] = message
                }
            }
        }

        var results: [Result<ChatOutcome, any Error>] = []
        var newMessages: [ChatMessage] = []
        var events: [DomainEvent] = []
        for request in requests {
            guard let session = sessions[request.sessionID], session.organizationID == request.organizationID,
                request.actor.mayWrite(to: session)
            else {
                results.append(.failure(DomainError.notFound(entity: "conversation")))
                continue
            }
            if let clientID = request.command.clientID, let earlier = stored["\(session.id)|\(clientID)"] {
                // A resend gives back the sender's own message; anyone else's (a note!) is never shown.
                guard request.actor.wrote(earlier) else {
                    results.append(
                        .failure(DomainError.conflict("This clientId is already used in this conversation.")))
                    continue
                }
                results.append(
                    .success(ChatOutcome(session: session, messages: [], sessionChanged: false, duplicateOf: earlier)))
                continue
            }
            do {
                let outcome = try ChatLifecycle.apply(request.command, to: session, now: now)
                sessions[session.id] = outcome.session
                newMessages += outcome.messages
                for message in outcome.messages {
                    if let clientID = message.clientID { stored["\(session.id)|\(clientID)"] = message }
                    events.append(.messageCreated(message))
                }
                if outcome.sessionChanged || !outcome.messages.isEmpty {
                    changedState.insert(session.id)
                    events.append(.sessionUpdated(outcome.session, from: session.status))
                }
                for notice in request.command.notifications(
                    before: session, after: outcome.session, by: request.agent, now: now)
                where try await NotificationStore.insert(notice, db: db) {
                    events.append(.notified(notice))
                }
                if let ticketID = session.ticketID, var ticket = tickets[ticketID] {
                    let calendar: BusinessCalendar
                    if let known = calendars[session.organizationID] {
                        calendar = known
                    } else {
                        calendar = try await TicketStore.calendar(session.organizationID, db: db)
                        calendars[session.organizationID] = calendar
                    }
                    for step in ThreadLink.ticketSteps(before: session, outcome: outcome, ticket: ticket) {
                        // What the ticket's state refuses (an answer to a closed one) stays on this side.
                        guard
                            let (after, message) = try? TicketWriter.decide(
                                step.event, on: ticket, message: step.message, now: now, calendar: calendar)
                        else { continue }
                        // The conversation itself says the visitor wrote; the bell stays for the ticket's other news.
                        let notifications = try await TicketWriter.write(
                            step.event, before: ticket, after: after, messages: message.map { [$0] } ?? [],
                            by: step.actor,
                            notify: step.event != .customerReply, now: now, db: db)
                        if let message { events.append(.ticketMessageCreated(message, requester: after.visitorID)) }
                        events += notifications.map(DomainEvent.notified)
                        ticket = after
                        if !changedTickets.contains(ticketID) { changedTickets.append(ticketID) }
                    }
                    tickets[ticketID] = ticket
                }
                results.append(.success(outcome))
            } catch {
                results.append(.failure(error))
            }
        }

        for id in changedTickets {
            if let ticket = tickets[id] { events.append(.ticketUpdated(ticket, before: ticketsBefore[id])) }
        }
        try await Self.insert(newMessages, db: db)
        try await Self.update(
            changedState.sorted(by: { $0.description < $1.description }).compactMap { sessions[$0] }, db: db)
        return (results, events)
    }

    static func insert(_ messages: [ChatMessage], db: any SQLDatabase) async throws {
        for start in stride(from: 0, to: messages.count, by: 100) {
            let chunk = messages[start..<min(start + 100, messages.count)]
            var query: SQLQueryString = """
                INSERT INTO chat_messages (id, session_id, organization_id, seq, role, author_agent_id, body, client_id,
                    metadata, created_at) VALUES
                """
            for (index, message) in chunk.enumerated() {
                query =
                    query + (index == 0 ? " " : ", ") + """
                        (\(bind: message.id.description), \(bind: message.sessionID.description),
                        \(bind: message.organizationID.description), \(bind: message.seq), \(bind: message.role.rawValue),
                        \(bind: message.authorAgentID?.description), \(bind: message.body), \(bind: message.clientID),
                        \(bind: try JSONColumn.encode(message.metadata)), \(bind: message.createdAt.millis))
                        """
            }
            try await db.raw(query).run()
        }
    }

    /// Writes the new states of a group's conversations: one multi-row upsert per 100 (the rows
    /// exist, so each takes the UPDATE branch), the same SQL on both engines, instead of a
    /// statement per conversation.
    static func update(_ sessions: [ChatSession], db: any SQLDatabase) async throws {
        for start in stride(from: 0, to: sessions.count, by: 100) {
            let chunk = sessions[start..<min(start + 100, sessions.count)]
            var query: SQLQueryString = """
                INSERT INTO chat_sessions (id, organization_id, site_id, visitor_id, status, assigned_agent_id, last_seq,
                    last_visitor_seq, visitor_read_seq, agent_read_seq, last_message_preview, last_message_role,
                    last_message_agent_id, last_message_at, activity_at, created_at, updated_at, closed_at, archived_at, ticket_id,
                    satisfaction) VALUES
                """
            for (index, session) in chunk.enumerated() {
                query =
                    query + (index == 0 ? " " : ", ") + """
                        (\(bind: session.id.description), \(bind: session.organizationID.description), \(bind: session.siteID.description),
                        \(bind: session.visitorID.description), \(bind: session.status.rawValue), \(bind: session.assignedAgentID?.description),
                        \(bind: session.lastSeq), \(bind: session.lastVisitorSeq), \(bind: session.visitorReadSeq), \(bind: session.agentReadSeq),
                        \(bind: session.lastMessagePreview), \(bind: session.lastMessageRole?.rawValue),
                        \(bind: session.lastMessageAuthorID?.description), \(bind: session.lastMessageAt?.millis),
                        \(bind: (session.lastMessageAt ?? session.createdAt).millis), \(bind: session.createdAt.millis),
                        \(bind: session.updatedAt.millis), \(bind: session.closedAt?.millis), \(bind: session.archivedAt?.millis),
                        \(bind: session.ticketID?.description), \(bind: try session.satisfaction.map(JSONColumn.encode)))
                        """
            }
            query =
                query + """
                     ON CONFLICT (id) DO UPDATE SET status = excluded.status, assigned_agent_id = excluded.assigned_agent_id,
                        last_seq = excluded.last_seq, last_visitor_seq = excluded.last_visitor_seq,
                        visitor_read_seq = excluded.visitor_read_seq, agent_read_seq = excluded.agent_read_seq,
                        last_message_preview = excluded.last_message_preview, last_message_role = excluded.last_message_role,
                        last_message_agent_id = excluded.last_message_agent_id,
                        last_message_at = excluded.last_message_at, activity_at = excluded.activity_at,
                        updated_at = excluded.updated_at, closed_at = excluded.closed_at, archived_at = excluded.archived_at,
                        ticket_id = excluded.ticket_id, satisfaction = excluded.satisfaction
                    """
            try await db.raw(query).run()
        }
    }
}

extension ChatWriter.Actor {
    func mayWrite(to session: ChatSession) -> Bool {
        switch self {
        case .visitor(let visitor): session.visitorID == visitor
        case .team, .system: true
        }
    }
}

extension ChatCommand {
    /// The sender's idempotency key, for commands that carry one.
    var clientID: String? {
        switch self {
        case .visitorMessage(_, let clientID, _), .agentMessage(_, _, _, let clientID, _),
            .internalNote(_, _, _, let clientID, _):
            clientID
        case .aiMessage(_, let replyTo, _): "ai:\(replyTo)"
        case .threadMessage(_, _, let clientID, _): clientID
        default: nil
        }
    }
}
