public import Foundation
public import Logging
public import ParleyCore

/// Where every handoff leads, whoever asked (the visitor's button, the assistant's rules, the
/// model's decision): the conversation goes to the team, and a visitor Parley can reach by email
/// gets a ticket carrying the transcript, linked to the conversation. An anonymous visitor is
/// asked for an email, and gets the ticket when they leave one.
public struct Handoff: Sendable {
    let chats: ChatStore
    public let tickets: TicketStore
    let writer: ChatWriter
    let notifications: NotificationStore
    /// Told of each new ticket (the app tells the agents' inbox).
    let ticketOpened: @Sendable (Ticket) async -> Void
    /// Told of the notifications a handoff made (the app pushes them on the inbox).
    let notified: @Sendable ([AgentNotification]) async -> Void

    public init(
        chats: ChatStore, tickets: TicketStore, writer: ChatWriter,
        ticketOpened: @escaping @Sendable (Ticket) async -> Void = { _ in },
        notified: @escaping @Sendable ([AgentNotification]) async -> Void = { _ in }
    ) {
        self.chats = chats
        self.tickets = tickets
        self.writer = writer
        self.notifications = NotificationStore(engine: tickets.engine, now: tickets.now)
        self.ticketOpened = ticketOpened
        self.notified = notified
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
                command: .escalate(reason, visitorHasEmail: visitor.email != nil)))
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
            let made = try await self.notifications.notify(
                .handoff, title: "\(who) needs a person: \(reason.summary)",
                agent: outcome.session.assignedAgentID, session: sessionID, in: organizationID)
            await self.notified(made)
        } catch {
            logger.error("Could not notify the team of a handoff", metadata: ["parley.error": "\(error)"])
        }
        if let email = visitor.email {
            await self.openTicket(outcome.session, visitor: visitor, email: email, logger: logger)
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

    /// The visitor left an email: a conversation already with the team gets its ticket now.
    public func emailLeft(_ session: ChatSession, visitor: Visitor, logger: Logger) async -> Ticket? {
        guard let email = visitor.email, session.status == .escalated || session.status == .agentActive else {
            return nil
        }
        return await self.openTicket(session, visitor: visitor, email: email, logger: logger)
    }

    @discardableResult
    private func openTicket(_ session: ChatSession, visitor: Visitor, email: String, logger: Logger) async -> Ticket? {
        do {
            let (ticket, created) = try await self.tickets.openFromConversation(session, visitor: visitor, email: email)
            if created {
                logger.info(
                    "Opened a ticket for a handed-over conversation",
                    metadata: ["parley.ticket.id": "\(ticket.id)", "parley.session.id": "\(session.id)"])
                await self.ticketOpened(ticket)
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
