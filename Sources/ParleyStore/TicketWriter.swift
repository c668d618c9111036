public import Foundation
public import ParleyCore
import SQLKit

/// The one road by which tickets change, the twin of `ChatWriter`: the core decides
/// (`TicketLifecycle`), and each change commits the ticket, its message with the next gap-free
/// `seq`, its audit entry, its notifications, its events' outbox rows and the other instances'
/// notice in one transaction (`Committer`), under the ticket's row lock. Its events are published
/// by the commit hook alone, in commit order.
public struct TicketWriter: Sendable {
    let committer: Committer
    let tickets: TicketStore

    public init(committer: Committer, tickets: TicketStore) {
        self.committer = committer
        self.tickets = tickets
    }

    var engine: any DatabaseEngine { self.committer.engine }
    func now() -> Date { self.tickets.now() }

    /// What a new ticket publishes: `ticket.created`, its first message, its state.
    static func created(_ ticket: Ticket, _ message: TicketMessage) -> [DomainEvent] {
        [
            .ticketCreated(ticket), .ticketMessageCreated(message, requester: ticket.visitorID),
            .ticketUpdated(ticket, before: nil),
        ]
    }

    // MARK: Creating

    /// Opens a ticket with the requester's first message, SLA deadlines from the organization's
    /// policy for its priority.
    public func create(
        _ new: TicketStore.NewTicket, in organizationID: Organization.ID, by actor: TicketActor = .customer
    ) async throws -> Ticket {
        let email = try Validate.email(new.requesterEmail, field: "email")
        let subject = try Validate.text(new.subject, field: "subject", max: 200)
        let body = try Validate.messageBody(new.body)
        let tags = try Validate.tags(new.tags)
        let now = self.now()
        let classified = TicketClassifier.classify(subject: subject, body: body)
        var ticket = Ticket(
            id: .init(), organizationID: organizationID, visitorID: new.visitorID, requesterEmail: email,
            requesterName: new.requesterName, subject: subject, status: .open,
            priority: new.priority ?? classified.priority, source: new.source, chatSessionID: nil, lastSeq: 1,
            createdAt: now, updatedAt: now)
        ticket.tags = tags
        ticket.category =
            try new.category.map { try Validate.text($0, field: "category", max: 80) }
            ?? (new.priority == nil ? classified.category : nil)
        let message = TicketMessage(
            id: .init(), ticketID: ticket.id, organizationID: organizationID, seq: 1, role: .customer,
            authorAgentID: nil, body: body, isInternal: false, createdAt: now)
        return try await self.open(
            ticket, with: message, by: actor, details: "\(ticket.source.rawValue), \(ticket.priority.rawValue)")
    }

    /// Commits a new ticket with its first message: SLA deadlines, the assistant's job, the audit entry.
    private func open(_ new: Ticket, with message: TicketMessage, by actor: TicketActor, details: String) async throws
        -> Ticket
    {
        try await self.committer.commit { db in
            var ticket = new
            try await TicketStore.applySLA(to: &ticket, db: db)
            try await TicketStore.insert(ticket, db: db)
            try await TicketStore.insert(message, db: db)
            try await TicketStore.enqueueAssist(ticket, reason: .created, now: ticket.createdAt, db: db)
            try await AuditLogStore.record(
                AuditEntry(
                    organizationID: ticket.organizationID, actorAgentID: actor.agentID, actorKind: actor.kind,
                    action: "ticket.create", entity: "ticket", entityID: ticket.id.description, details: details,
                    createdAt: ticket.createdAt), db: db)
            return (ticket, Self.created(ticket, message))
        }
    }

    /// Makes the conversation a ticket (a handoff, or an agent's "Make a ticket"), unless it has
    /// one already (then that one is returned, and `created` is false). The two are one thread
    /// from then on (`ThreadLink`): the ticket starts with the conversation's messages as its own
    /// (notes stay internal), its assignee, and a first response already given in the chat.
    public func openFromConversation(
        _ sessionID: ChatSession.ID, in organizationID: Organization.ID, by actor: TicketActor = .system
    ) async throws -> (ticket: Ticket, created: Bool) {
        return try await self.committer.commit { db in
            var session = try await ChatStore.lockedSession(sessionID, in: organizationID, db: db)
            let now = self.now()
            if let linked = session.ticketID,
                let existing = try await TicketStore.lockedTickets([linked], db: db)[linked],
                existing.status != .closed
            {
                return ((existing, false), [])
            }
            let visitor = try await ChatStore.visitor(session.visitorID, db: db)
            let messages = try await ChatStore.messages(in: session.id, after: 0, limit: 100_000, db: db)
            var ticket = Ticket(
                id: .init(), organizationID: organizationID, visitorID: visitor.id,
                requesterEmail: visitor.email ?? "", requesterName: visitor.name,
                subject: Ticket.subject(from: messages.first { $0.role == .user }?.body), status: .open,
                priority: .medium, source: .chat, chatSessionID: session.id, lastSeq: 0, createdAt: now,
                updatedAt: now)
            ticket.tags = ["chat"]
            ticket.assigneeID = session.assignedAgentID
            if ticket.assigneeID != nil { ticket.status = .inProgress }
            ticket.firstResponseAt =
                messages.first { $0.role == .agent && !$0.isInternal && $0.authorAgentID != nil }?.createdAt
            let thread = messages.map { message in
                let copy = ThreadLink.copy(of: message)
                return TicketMessage(
                    id: .init(), ticketID: ticket.id, organizationID: organizationID, seq: 0, role: copy.role,
                    authorAgentID: copy.author, body: copy.body, isInternal: copy.isInternal,
                    createdAt: message.createdAt, attachments: copy.attachments)
            }.enumerated().map { index, message in
                var numbered = message
                numbered.seq = Int64(index + 1)
                numbered.chatSeq = messages[index].seq
                return numbered
            }
            ticket.lastSeq = Int64(thread.count)
            // The assistant had its turn in the conversation (and handed over, or a person took
            // it): no model runs on the ticket by itself; the words classify it, and agents ask
            // for a draft when they want one.
            let words = Visibility.customerThread(messages).filter { $0.role == .user }.map(\.body)
            let classified = TicketClassifier.classify(subject: ticket.subject, body: words.joined(separator: "\n"))
            ticket.priority = classified.priority
            ticket.category = classified.category
            try await TicketStore.applySLA(to: &ticket, db: db)
            try await TicketStore.insert(ticket, db: db)
            for message in thread { try await TicketStore.insert(message, db: db) }
            try await AuditLogStore.record(
                AuditEntry(
                    organizationID: organizationID, actorAgentID: actor.agentID, actorKind: actor.kind,
                    action: "ticket.create", entity: "ticket", entityID: ticket.id.description,
                    details: actor.agentID == nil ? "chat handoff" : "made from a conversation", createdAt: now),
                db: db)
            let status = session.status
            session.ticketID = ticket.id
            session.updatedAt = now
            try await ChatWriter.update([session], db: db)
            var events: [DomainEvent] = [.ticketCreated(ticket)]
            events += thread.map { DomainEvent.ticketMessageCreated($0, requester: ticket.visitorID) }
            events += [.ticketUpdated(ticket, before: nil), .sessionUpdated(session, from: status)]
            return ((ticket, true), events)
        }
    }

    /// Sets the requester's email where it was unknown (an anonymous visitor left theirs).
    public func setRequesterEmail(_ email: String, of id: Ticket.ID, in organizationID: Organization.ID) async throws
        -> Ticket
    {
        let email = try Validate.email(email, field: "email")
        return try await self.change(id, in: organizationID, by: .customer, action: "ticket.requester") { ticket, _ in
            ticket.requesterEmail = email
            return "email left"
        }
    }

    // MARK: Changing

    /// Applies `event` to the ticket (the core decides; 409 for what it forbids), with `message`
    /// appended at the next seq, in one transaction. `visitor` limits it to that requester's ticket.
    /// `onlyIf` is checked on the locked row first: when it says the ticket moved on, nothing
    /// changes and `TicketChangedError` is thrown (the assistant's answer, decided on an older
    /// state, must not land after a person stepped in). A ticket that is one thread with a
    /// conversation writes the change there too (`ThreadLink`), locking the conversation first.
    public func apply(
        _ event: TicketEvent, to id: Ticket.ID, in organizationID: Organization.ID,
        message: TicketStore.NewMessage? = nil, visitor: Visitor.ID? = nil, by actor: TicketActor = .system,
        onlyIf precondition: (@Sendable (Ticket) -> Bool)? = nil
    ) async throws -> TicketStore.Change {
        let body = try message.map { try Validate.messageBody($0.body) }
        if case .rate(let stars, let comment) = event {
            guard (1...5).contains(stars) else {
                throw ValidationError(field: "stars", message: "stars must be 1 to 5.")
            }
            _ = try comment.map { try Validate.text($0, field: "comment", max: 2000, allowEmpty: true) }
        }
        return try await self.committer.commit { db in
            // The conversation's lock comes before the ticket's, as in `ChatWriter`.
            let conversation = try await TicketStore.conversation(of: id, in: organizationID, db: db)
            let session = try await conversation.asyncMap {
                try await ChatStore.lockedSession($0, in: organizationID, db: db)
            }
            let before = try await TicketStore.lockedTicket(id, in: organizationID, db: db)
            // The time is read under the locks: one ticket's changes are stamped in commit order.
            let now = self.now()
            if let visitor, before.visitorID != visitor { throw DomainError.notFound(entity: "ticket") }
            if let precondition, !precondition(before) { throw TicketStore.TicketChangedError() }
            let calendar = try await TicketStore.calendar(organizationID, db: db)
            var copy: ThreadLink.Copy?
            if let message, let body {
                let files = try await AttachmentStore.references(
                    message.attachments, ticket: id, customer: message.role == .customer, db: db)
                copy = ThreadLink.Copy(
                    role: message.role, author: message.author, body: body, isInternal: message.isInternal,
                    attachments: files, chatSeq: nil)
            }
            var (ticket, stored) = try Self.decide(event, on: before, message: copy, now: now, calendar: calendar)
            var thread = stored.map { [$0] } ?? []
            var events: [DomainEvent] = []
            var taken: Agent.ID?
            if let session, session.ticketID == id {
                let name = try await stored?.authorAgentID.asyncMap { try await Self.agentName($0, db: db) } ?? nil
                let commands = ThreadLink.chatCommands(
                    before: before, after: ticket, message: stored, authorName: name, session: session)
                let written = try await Self.write(commands, to: session, now: now, db: db)
                events += written.events
                // The conversation's order is the thread's: what the conversation added around the
                // message (a takeover's "joined", a close) is the ticket's too, in place.
                let mirrored = stored.map { ThreadLink.clientPrefix + $0.id.description }
                var seq = before.lastSeq
                thread = []
                for message in written.messages {
                    seq += 1
                    if let mirror = stored, message.clientID == mirrored {
                        var placed = mirror
                        placed.seq = seq
                        placed.chatSeq = message.seq
                        stored = placed
                        thread.append(placed)
                    } else {
                        let copy = ThreadLink.copy(of: message)
                        var extra = TicketMessage(
                            id: .init(), ticketID: id, organizationID: organizationID, seq: seq, role: copy.role,
                            authorAgentID: copy.author, body: copy.body, isInternal: copy.isInternal, createdAt: now,
                            attachments: copy.attachments)
                        extra.chatSeq = message.seq
                        thread.append(extra)
                    }
                }
                if let mirror = stored, !thread.contains(where: { $0.id == mirror.id }) {
                    seq += 1
                    var placed = mirror
                    placed.seq = seq
                    stored = placed
                    thread.append(placed)
                }
                ticket.lastSeq = seq
                // An answer here took the conversation over: the ticket is that agent's too.
                if let agent = written.session?.assignedAgentID, agent != session.assignedAgentID,
                    agent != ticket.assigneeID
                {
                    ticket = try TicketLifecycle.apply(.assign(agent), to: ticket, now: now, calendar: calendar)
                    taken = agent
                }
            }
            let notifications = try await Self.write(
                event, before: before, after: ticket, messages: thread, by: actor, notify: true, now: now, db: db)
            if let taken {
                try await AuditLogStore.record(
                    AuditEntry(
                        organizationID: organizationID, actorAgentID: actor.agentID, actorKind: actor.kind,
                        action: "ticket.assign", entity: "ticket", entityID: id.description,
                        details: "to \(taken) (took the conversation over)", createdAt: now), db: db)
            }
            if case .customerReply = event, stored != nil {
                try await TicketStore.enqueueAssist(ticket, reason: .customerReply, now: now, db: db)
            }
            var ticketEvents: [DomainEvent] = thread.map {
                DomainEvent.ticketMessageCreated($0, requester: ticket.visitorID)
            }
            ticketEvents.append(.ticketUpdated(ticket, before: before))
            ticketEvents += notifications.map(DomainEvent.notified)
            return (
                TicketStore.Change(before: before, ticket: ticket, message: stored, notifications: notifications),
                ticketEvents + events
            )
        }
    }

    /// The core's decision on a locked ticket: its new state, and the message at the next seq
    /// (not yet written).
    static func decide(
        _ event: TicketEvent, on before: Ticket, message: ThreadLink.Copy?, now: Date, calendar: BusinessCalendar
    ) throws -> (Ticket, TicketMessage?) {
        var ticket = try TicketLifecycle.apply(event, to: before, now: now, calendar: calendar)
        guard let message else { return (ticket, nil) }
        ticket.lastSeq += 1
        var new = TicketMessage(
            id: .init(), ticketID: ticket.id, organizationID: ticket.organizationID, seq: ticket.lastSeq,
            role: message.role, authorAgentID: message.author, body: message.body, isInternal: message.isInternal,
            createdAt: now, attachments: message.attachments)
        new.chatSeq = message.chatSeq
        return (ticket, new)
    }

    /// Writes a decided change in the caller's transaction: the ticket, its messages, the audit
    /// entry and (when `notify`) its notifications, which it returns.
    static func write(
        _ event: TicketEvent, before: Ticket, after ticket: Ticket, messages: [TicketMessage], by actor: TicketActor,
        notify: Bool, now: Date, db: any SQLDatabase
    ) async throws -> [AgentNotification] {
        for message in messages { try await TicketStore.insert(message, db: db) }
        try await TicketStore.save(ticket, db: db)
        let (action, details) = event.audit(before: before, after: ticket)
        try await AuditLogStore.record(
            AuditEntry(
                organizationID: ticket.organizationID, actorAgentID: actor.agentID, actorKind: actor.kind,
                action: action, entity: "ticket", entityID: ticket.id.description, details: details, createdAt: now),
            db: db)
        guard notify else { return [] }
        var notifications: [AgentNotification] = []
        for notification in event.notifications(before: before, after: ticket, by: actor, now: now)
        where try await NotificationStore.insert(notification, db: db) {
            notifications.append(notification)
        }
        return notifications
    }

    /// Applies a ticket's `commands` to its locked conversation and writes what they made; a
    /// command the conversation's state refuses (a close of a closed one) is skipped.
    static func write(_ commands: [ChatCommand], to session: ChatSession, now: Date, db: any SQLDatabase)
        async throws -> (messages: [ChatMessage], session: ChatSession?, events: [DomainEvent])
    {
        var current = session
        var messages: [ChatMessage] = []
        var changed = false
        for command in commands {
            guard let outcome = try? ChatLifecycle.apply(command, to: current, now: now) else { continue }
            current = outcome.session
            messages += outcome.messages
            changed = changed || outcome.sessionChanged || !outcome.messages.isEmpty
        }
        guard changed else { return ([], nil, []) }
        try await ChatWriter.insert(messages, db: db)
        try await ChatWriter.update([current], db: db)
        return (
            messages, current,
            messages.map(DomainEvent.messageCreated) + [.sessionUpdated(current, from: session.status)]
        )
    }

    static func agentName(_ id: Agent.ID, db: any SQLDatabase) async throws -> String? {
        try await db.raw("SELECT name FROM agents WHERE id = \(bind: id.description)").first().map {
            try $0.string("name")
        }
    }

    /// Changes the priority, and the SLA deadlines with it (counted from the ticket's creation).
    public func setPriority(
        _ priority: TicketPriority, of id: Ticket.ID, in organizationID: Organization.ID,
        by actor: TicketActor = .system
    ) async throws -> Ticket {
        try await self.change(id, in: organizationID, by: actor, action: "ticket.priority") { ticket, db in
            guard ticket.status != .closed else {
                throw TicketTransitionError(from: .closed, message: "This ticket is closed; its priority stays.")
            }
            let before = ticket.priority
            ticket.priority = priority
            try await TicketStore.applySLA(to: &ticket, db: db)
            return "\(before.rawValue) -> \(priority.rawValue)"
        }
    }

    /// Sets the category (the classification of a model, or an agent's).
    public func setCategory(
        _ category: String?, of id: Ticket.ID, in organizationID: Organization.ID, by actor: TicketActor = .system
    ) async throws -> Ticket {
        let category = try category.map { try Validate.text($0, field: "category", max: 80) }
        return try await self.change(id, in: organizationID, by: actor, action: "ticket.category") { ticket, _ in
            let before = ticket.category
            ticket.category = category
            return "\(before ?? "none") -> \(category ?? "none")"
        }
    }

    /// Replaces the tags.
    public func setTags(
        _ tags: [String], of id: Ticket.ID, in organizationID: Organization.ID, by actor: TicketActor = .system
    ) async throws -> Ticket {
        let tags = try Validate.tags(tags)
        return try await self.change(id, in: organizationID, by: actor, action: "ticket.tags") { ticket, _ in
            ticket.tags = tags
            return tags.joined(separator: ", ")
        }
    }

    /// A change of a field the lifecycle doesn't govern, on the locked row: `edit` changes the
    /// ticket and returns the audit entry's details.
    private func change(
        _ id: Ticket.ID, in organizationID: Organization.ID, by actor: TicketActor, action: String,
        _ edit: @escaping @Sendable (inout Ticket, any SQLDatabase) async throws -> String
    ) async throws -> Ticket {
        return try await self.committer.commit { db in
            let before = try await TicketStore.lockedTicket(id, in: organizationID, db: db)
            let now = self.now()
            var ticket = before
            let details = try await edit(&ticket, db)
            ticket.updatedAt = now
            try await TicketStore.save(ticket, db: db)
            try await AuditLogStore.record(
                AuditEntry(
                    organizationID: organizationID, actorAgentID: actor.agentID, actorKind: actor.kind,
                    action: action, entity: "ticket", entityID: id.description, details: details, createdAt: now),
                db: db)
            return (ticket, [.ticketUpdated(ticket, before: before)])
        }
    }

    /// Stores a new pending draft (older pending ones are superseded); dashboards showing the
    /// ticket hear that a draft is ready (`ticket.updated`).
    public func addDraft(_ draft: TicketDraft) async throws -> TicketDraft {
        try await self.committer.commit { db in
            let ticket = try await TicketStore.lockedTicket(draft.ticketID, in: draft.organizationID, db: db)
            try await TicketDraftStore.insert(draft, db: db)
            return (draft, [.ticketUpdated(ticket, before: nil)])
        }
    }

    // MARK: The SLA job

    /// Marks tickets entering the last fifth of an SLA target (warning) or past it (breach), each
    /// once, notifying the assignee; and closes tickets resolved for longer than `autoCloseAfter`.
    public func sweep(now: Date, autoCloseAfter: TimeInterval, limit: Int = 500) async throws
        -> TicketStore.SweepResult
    {
        let nowMillis = now.millis
        var result = TicketStore.SweepResult()
        for (ticket, sla) in try await self.tickets.slaCandidates(now: now, limit: limit) {
            let breached = sla.firstResponse == .breached || sla.resolution == .breached
            let column = breached ? "sla_breached_at" : "sla_warned_at"
            let kind: AgentNotification.Kind = breached ? .slaBreach : .slaWarning
            let title = (breached ? "SLA breached: " : "SLA due soon: ") + ticket.subject
            let (marked, stored) = try await self.committer.commit {
                db -> ((Bool, [AgentNotification]), [DomainEvent]) in
                // Only the instance whose update changes the row notifies (several may sweep).
                let changed = try await db.raw(
                    """
                    UPDATE tickets SET \(unsafeRaw: column) = \(bind: nowMillis)
                    WHERE id = \(bind: ticket.id.description) AND \(unsafeRaw: column) IS NULL RETURNING id
                    """
                ).all()
                guard !changed.isEmpty else { return ((false, []), []) }
                // The assignee hears of it; a ticket nobody has goes to every admin.
                let stored = try await NotificationStore.notify(
                    kind, title: title, agent: ticket.assigneeID, ticket: ticket.id, in: ticket.organizationID,
                    roles: ticket.assigneeID == nil ? [.owner, .admin] : nil, now: now, db: db)
                try await AuditLogStore.record(
                    AuditEntry(
                        organizationID: ticket.organizationID, actorAgentID: nil, actorKind: "system",
                        action: breached ? "ticket.sla_breach" : "ticket.sla_warning", entity: "ticket",
                        entityID: ticket.id.description,
                        details: "first response \(sla.firstResponse.rawValue), resolution \(sla.resolution.rawValue)",
                        createdAt: now), db: db)
                return ((true, stored), [.ticketUpdated(ticket, before: nil)] + stored.map(DomainEvent.notified))
            }
            guard marked else { continue }
            if breached { result.breached.append(ticket) } else { result.warned.append(ticket) }
            result.notifications += stored
        }
        for (id, organization) in try await self.tickets.resolved(
            before: now.addingTimeInterval(-autoCloseAfter), limit: limit)
        {
            do {
                result.closed.append(try await self.apply(.autoClose, to: id, in: organization).ticket)
            } catch is TicketTransitionError {
                continue  // reopened meanwhile
            }
        }
        return result
    }
}
