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

    /// Creates the ticket of a handed-over conversation, with its transcript as the first
    /// message, unless the conversation has one already (then that one is returned, and
    /// `created` is false). One ticket per conversation, even with several instances racing.
    public func openFromConversation(
        _ session: ChatSession, visitor: Visitor, email: String
    ) async throws -> (ticket: Ticket, created: Bool) {
        if let existing = try await self.tickets.ticket(forConversation: session.id, in: session.organizationID) {
            return (existing, false)
        }
        let messages = try await self.engine.read { db in
            try await ChatStore.messages(in: session.id, after: 0, limit: 500, db: db)
        }
        let now = self.now()
        let firstQuestion = messages.first { $0.role == .user }?.body
        var ticket = Ticket(
            id: .init(), organizationID: session.organizationID, visitorID: visitor.id, requesterEmail: email,
            requesterName: visitor.name, subject: Ticket.subject(from: firstQuestion), status: .open,
            priority: .medium, source: .chat, chatSessionID: session.id, lastSeq: 1, createdAt: now, updatedAt: now)
        ticket.tags = ["chat"]
        let transcript = TicketMessage(
            id: .init(), ticketID: ticket.id, organizationID: ticket.organizationID, seq: 1, role: .system,
            authorAgentID: nil,
            body: "Handed over from a conversation. Transcript:\n\n"
                + Ticket.transcript(of: Visibility.customerThread(messages), visitorName: visitor.name),
            isInternal: false, createdAt: now)
        do {
            return (try await self.open(ticket, with: transcript, by: .system, details: "chat handoff"), true)
        } catch {
            // Another instance created it first (the unique conversation index): use theirs.
            if let existing = try await self.tickets.ticket(forConversation: session.id, in: session.organizationID) {
                return (existing, false)
            }
            throw error
        }
    }

    // MARK: Changing

    /// Applies `event` to the ticket (the core decides; 409 for what it forbids), with `message`
    /// appended at the next seq, in one transaction. `visitor` limits it to that requester's ticket.
    /// `onlyIf` is checked on the locked row first: when it says the ticket moved on, nothing
    /// changes and `TicketChangedError` is thrown (the assistant's answer, decided on an older
    /// state, must not land after a person stepped in).
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
        let now = self.now()
        return try await self.committer.commit { db in
            let before = try await TicketStore.lockedTicket(id, in: organizationID, db: db)
            if let visitor, before.visitorID != visitor { throw DomainError.notFound(entity: "ticket") }
            if let precondition, !precondition(before) { throw TicketStore.TicketChangedError() }
            let calendar = try await TicketStore.calendar(organizationID, db: db)
            var ticket = try TicketLifecycle.apply(event, to: before, now: now, calendar: calendar)
            var stored: TicketMessage?
            if let message, let body {
                ticket.lastSeq += 1
                let files = try await AttachmentStore.references(
                    message.attachments, ticket: id, customer: message.role == .customer, db: db)
                let new = TicketMessage(
                    id: .init(), ticketID: id, organizationID: organizationID, seq: ticket.lastSeq, role: message.role,
                    authorAgentID: message.author, body: body, isInternal: message.isInternal, createdAt: now,
                    attachments: files)
                try await TicketStore.insert(new, db: db)
                stored = new
            }
            try await TicketStore.save(ticket, db: db)
            if case .customerReply = event, stored != nil {
                try await TicketStore.enqueueAssist(ticket, reason: .customerReply, now: now, db: db)
            }
            let (action, details) = event.audit(before: before, after: ticket)
            try await AuditLogStore.record(
                AuditEntry(
                    organizationID: organizationID, actorAgentID: actor.agentID, actorKind: actor.kind, action: action,
                    entity: "ticket", entityID: id.description, details: details, createdAt: now), db: db)
            var notifications: [AgentNotification] = []
            for notification in event.notifications(before: before, after: ticket, by: actor, now: now)
            where try await NotificationStore.insert(notification, db: db) {
                notifications.append(notification)
            }
            var events: [DomainEvent] = []
            if let stored { events.append(.ticketMessageCreated(stored, requester: ticket.visitorID)) }
            events.append(.ticketUpdated(ticket, before: before))
            events += notifications.map(DomainEvent.notified)
            return (
                TicketStore.Change(before: before, ticket: ticket, message: stored, notifications: notifications),
                events
            )
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
        let now = self.now()
        return try await self.committer.commit { db in
            let before = try await TicketStore.lockedTicket(id, in: organizationID, db: db)
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
            let notification = ticket.assigneeID.map {
                AgentNotification(
                    organizationID: ticket.organizationID, agentID: $0, kind: breached ? .slaBreach : .slaWarning,
                    title: (breached ? "SLA breached: " : "SLA due soon: ") + ticket.subject, ticketID: ticket.id,
                    createdAt: now)
            }
            let (marked, notified) = try await self.committer.commit { db -> ((Bool, Bool), [DomainEvent]) in
                // Only the instance whose update changes the row notifies (several may sweep).
                let changed = try await db.raw(
                    """
                    UPDATE tickets SET \(unsafeRaw: column) = \(bind: nowMillis)
                    WHERE id = \(bind: ticket.id.description) AND \(unsafeRaw: column) IS NULL RETURNING id
                    """
                ).all()
                guard !changed.isEmpty else { return ((false, false), []) }
                var events: [DomainEvent] = [.ticketUpdated(ticket, before: nil)]
                var notified = false
                if let notification, try await NotificationStore.insert(notification, db: db) {
                    events.append(.notified(notification))
                    notified = true
                }
                try await AuditLogStore.record(
                    AuditEntry(
                        organizationID: ticket.organizationID, actorAgentID: nil, actorKind: "system",
                        action: breached ? "ticket.sla_breach" : "ticket.sla_warning", entity: "ticket",
                        entityID: ticket.id.description,
                        details: "first response \(sla.firstResponse.rawValue), resolution \(sla.resolution.rawValue)",
                        createdAt: now), db: db)
                return ((true, notified), events)
            }
            guard marked else { continue }
            if breached { result.breached.append(ticket) } else { result.warned.append(ticket) }
            if let notification, notified { result.notifications.append(notification) }
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
