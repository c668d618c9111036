public import Foundation
public import Logging
public import ParleyCore

/// Where every handoff leads, whoever asked (the visitor's button, the assistant's rules, the
/// model's decision): the conversation goes to the team and becomes a ticket, one thread with it
/// (`ThreadLink`). An anonymous visitor is asked for an email, which becomes the ticket's
/// requester address when they leave one.
public struct Handoff: Sendable {
    let chats: ChatStore
    public let tickets: TicketStore
    let writer: ChatWriter
    let ticketWriter: TicketWriter
    let committer: Committer
    /// Whether a reply can reach a visitor by email (a mail server is configured).
    let emailEnabled: Bool

    public init(
        chats: ChatStore, tickets: TicketStore, writer: ChatWriter, ticketWriter: TicketWriter,
        emailEnabled: Bool = true
    ) {
        self.emailEnabled = emailEnabled
        self.chats = chats
        self.tickets = tickets
        self.writer = writer
        self.ticketWriter = ticketWriter
        self.committer = ticketWriter.committer
    }

    /// Hands the conversation over (409 when it is not the AI's to hand over), then opens the
    /// ticket when the visitor has an email. A ticket that fails is logged, never undoes the handoff.
    public func escalate(
        _ sessionID: ChatSession.ID, in organizationID: Organization.ID, reason: EscalationReason,
        actor: ChatWriter.Actor, logger: Logger
    ) async throws -> ChatOutcome {
        let session = try await self.chats.session(sessionID, in: organizationID)
        let visitor = try await self.chats.visitor(session.visitorID, in: organizationID)
        var outcome = try await self.writer.submit(
            .init(
                sessionID: sessionID, organizationID: organizationID, actor: actor,
                command: .escalate(reason, visitorHasEmail: visitor.email != nil, emailOn: self.emailEnabled)))
        // Outside business hours the visitor is told when to expect a reply.
        let calendar = try await self.tickets.calendar(in: organizationID)
        let now = Date()
        if !calendar.isOpen(at: now), let opening = calendar.nextOpening(after: now) {
            let notice = try await self.writer.submit(
                .init(
                    sessionID: sessionID, organizationID: organizationID, actor: .system,
                    command: .systemMessage(body: Self.awayNotice(until: opening, calendar: calendar))))
            outcome.session = notice.session
            outcome.messages += notice.messages
        }
        // The assignee, or else the whole team, hears of it in the bell.
        do {
            let who = visitor.name ?? visitor.email ?? "A visitor"
            let assignee = outcome.session.assignedAgentID
            let now = self.committer.now()
            _ = try await self.committer.commit { db in
                let made = try await NotificationStore.notify(
                    .handoff, title: "\(who) needs a person: \(reason.summary)", agent: assignee,
                    session: sessionID, in: organizationID, now: now, db: db)
                return (made.count, made.map(DomainEvent.notified))
            }
        } catch {
            logger.error("Could not notify the team of a handoff", metadata: ["parley.error": "\(error)"])
        }
        if let ticket = await self.openTicket(outcome.session, logger: logger) {
            outcome.session.ticketID = ticket.id
        }
        return outcome
    }

    /// "Our team is away right now; we're back Monday 9:00 (Europe/Paris)."
    public static func awayNotice(until opening: Date, calendar: BusinessCalendar) -> String {
        let format = Date.FormatStyle(
            date: .omitted, time: .shortened, timeZone: TimeZone(identifier: calendar.timeZone) ?? .gmt
        )
        .weekday(.wide)
        return
            "Our team is away right now. We're back \(opening.formatted(format)) (\(calendar.timeZone)) and will reply then."
    }

    /// The visitor left an email: a conversation with the team gets its ticket (if it had none),
    /// and the ticket gets the address (if it had none).
    public func emailLeft(_ session: ChatSession, visitor: Visitor, logger: Logger) async -> Ticket? {
        guard let email = visitor.email, session.status == .escalated || session.status == .agentActive else {
            return nil
        }
        guard let ticket = await self.openTicket(session, logger: logger) else { return nil }
        guard ticket.requesterEmail.isEmpty else { return ticket }
        do {
            return try await self.ticketWriter.setRequesterEmail(email, of: ticket.id, in: ticket.organizationID)
        } catch {
            logger.error(
                "Could not give a ticket the visitor's email",
                metadata: ["parley.ticket.id": "\(ticket.id)", "parley.error": "\(error)"])
            return ticket
        }
    }

    @discardableResult
    private func openTicket(_ session: ChatSession, logger: Logger) async -> Ticket? {
        do {
            let (ticket, created) = try await self.ticketWriter.openFromConversation(
                session.id, in: session.organizationID)
            if created {
                logger.info(
                    "Opened a ticket for a handed-over conversation",
                    metadata: ["parley.ticket.id": "\(ticket.id)", "parley.session.id": "\(session.id)"])
            }
            return ticket
        } catch {
            logger.error(
                "Could not open a ticket for a handed-over conversation",
                metadata: ["parley.session.id": "\(session.id)", "parley.error": "\(error)"])
            return nil
        }
    }
}
