public import Foundation

/// Something that happened: the one event type the bus carries. Committed events come only from a
/// writer's commit hook (`ChatWriter`, `TicketWriter`); live signals (typing, presence, a streamed
/// reply's pieces) change nothing stored and are relayed as they happen.
public enum DomainEvent: Sendable, Hashable {
    /// A message was stored (wire name `message.created`).
    case messageCreated(ChatMessage)
    /// A conversation started (wire name `session.created`).
    case sessionCreated(ChatSession)
    /// A conversation's state changed (wire name `session.updated`); `from` is its status before,
    /// when the writer knew it (listeners tell an escalation or a close from it).
    case sessionUpdated(ChatSession, from: ChatStatus?)
    /// A ticket was opened (wire name `ticket.created`, on the inbox).
    case ticketCreated(Ticket)
    /// A message in a ticket's thread (wire name `message.created` on `support:<ticketId>`);
    /// `requester` is the ticket's visitor, who sees it unless it is an internal note.
    case ticketMessageCreated(TicketMessage, requester: Visitor.ID?)
    /// A ticket's state changed (wire name `ticket.updated`); `before` is its state before the
    /// change, when the writer knew it.
    case ticketUpdated(Ticket, before: Ticket?)
    /// A notification for one agent was stored (wire name `notification.created`, on the inbox).
    case notified(AgentNotification)
    /// A visitor rated an assistant's reply (no wire frame; webhooks hear of it).
    case feedbackCreated(AssistantFeedback)
    /// A live signal: delivered as it happens, never stored, never replayed.
    case live(LiveSignal)

    /// The name on the wire.
    public var name: String {
        switch self {
        case .messageCreated: "message.created"
        case .sessionCreated: "session.created"
        case .sessionUpdated: "session.updated"
        case .ticketCreated: "ticket.created"
        case .ticketMessageCreated: "message.created"
        case .ticketUpdated: "ticket.updated"
        case .notified: "notification.created"
        case .feedbackCreated: "feedback.created"
        case .live(let signal): signal.name
        }
    }

    /// The channels that receive it: the conversation's or ticket's own and the organization's inbox.
    public var channels: [Channel] {
        switch self {
        case .messageCreated(let message): [.supportChat(message.sessionID), .inbox(message.organizationID)]
        case .sessionCreated(let session), .sessionUpdated(let session, _):
            [.supportChat(session.id), .inbox(session.organizationID)]
        case .ticketCreated(let ticket): [.inbox(ticket.organizationID)]
        case .ticketMessageCreated(let message, _): [.support(message.ticketID)]
        case .ticketUpdated(let ticket, _): [.support(ticket.id), .inbox(ticket.organizationID)]
        case .notified(let notification): [.inbox(notification.organizationID)]
        case .feedbackCreated: []
        case .live(let signal): signal.channels
        }
    }

    /// Whether `principal` may see it: visitors never see another visitor's anything, an internal
    /// note (`Visibility.reachesCustomer`), or the team's inbox.
    public func isVisible(to principal: RealtimePrincipal) -> Bool {
        switch (self, principal) {
        case (_, .agent(_, let organization)):
            return self.organizationID == organization
        case (.messageCreated(let message), .visitor(_, let organization)):
            return message.organizationID == organization && Visibility.reachesCustomer(message)
        case (.sessionCreated(let session), .visitor(let visitor, _)),
            (.sessionUpdated(let session, _), .visitor(let visitor, _)):
            return session.visitorID == visitor
        case (.ticketMessageCreated(let message, let requester), .visitor(let visitor, let organization)):
            return Visibility.reachesCustomer(message) && requester == visitor && message.organizationID == organization
        case (.ticketUpdated(let ticket, _), .visitor(let visitor, let organization)):
            return ticket.visitorID == visitor && ticket.organizationID == organization
        case (.ticketCreated, .visitor), (.notified, .visitor), (.feedbackCreated, .visitor):
            return false
        case (.live(let signal), .visitor(_, let organization)):
            return signal.organizationID == organization && !signal.isForTeamOnly
        }
    }

    public var organizationID: Organization.ID {
        switch self {
        case .messageCreated(let message): message.organizationID
        case .sessionCreated(let session), .sessionUpdated(let session, _): session.organizationID
        case .ticketCreated(let ticket), .ticketUpdated(let ticket, _): ticket.organizationID
        case .ticketMessageCreated(let message, _): message.organizationID
        case .notified(let notification): notification.organizationID
        case .feedbackCreated(let feedback): feedback.organizationID
        case .live(let signal): signal.organizationID
        }
    }

    /// Whether it was committed (a writer's), as opposed to a live signal.
    public var isCommitted: Bool {
        if case .live = self { return false }
        return true
    }
}

/// Who sees what of a ticket's or a conversation's thread: the one rule, used by every path that
/// shows, sends or prompts with it (the widget and its channels, emails, webhooks, the assistant's
/// prompt, the handoff transcript, exports for customers).
public enum Visibility {
    /// Whether a message may reach the customer (a visitor, a requester, an email, a webhook, the
    /// assistant's prompt): internal notes never do.
    public static func reachesCustomer(_ message: ChatMessage) -> Bool { !message.isInternal }

    /// The same for a ticket's message.
    public static func reachesCustomer(_ message: TicketMessage) -> Bool { !message.isInternal }

    /// The messages of `thread` that may reach the customer, in order.
    public static func customerThread(_ thread: [ChatMessage]) -> [ChatMessage] {
        thread.filter { Self.reachesCustomer($0) }
    }

    /// The same for a ticket's thread.
    public static func customerThread(_ thread: [TicketMessage]) -> [TicketMessage] {
        thread.filter { Self.reachesCustomer($0) }
    }
}

/// A visitor's thumbs up or down on an assistant's reply.
public struct AssistantFeedback: Sendable, Hashable, Codable {
    public var organizationID: Organization.ID
    public var sessionID: ChatSession.ID?
    public var messageID: ChatMessage.ID
    public var helpful: Bool
    public var comment: String?
    public var createdAt: Date

    public init(
        organizationID: Organization.ID, sessionID: ChatSession.ID?, messageID: ChatMessage.ID, helpful: Bool,
        comment: String?, createdAt: Date
    ) {
        self.organizationID = organizationID
        self.sessionID = sessionID
        self.messageID = messageID
        self.helpful = helpful
        self.comment = comment
        self.createdAt = createdAt
    }
}

/// Live signals: delivered as they happen, never stored, never replayed.
public enum LiveSignal: Sendable, Hashable, Codable {
    /// Someone started or stopped typing in a conversation.
    case typing(session: ChatSession.ID, organization: Organization.ID, role: MessageRole, name: String?, on: Bool)
    /// Someone read a conversation up to `seq`.
    case read(session: ChatSession.ID, organization: Organization.ID, byVisitor: Bool, seq: Int64)
    /// An agent came online or went offline.
    case presence(agent: Agent.ID, organization: Organization.ID, online: Bool)
    /// A visitor opened or closed the widget's connection (live visitors).
    case visitor(Visitor.ID, organization: Organization.ID, name: String?, email: String?, page: String?, online: Bool)
    /// A piece of an AI reply as it streams; `done` ends the stream with its outcome.
    case messageDelta(
        session: ChatSession.ID, organization: Organization.ID, streamID: String, replyTo: Int64, index: Int,
        text: String, done: Bool, outcome: String?)

    public var name: String {
        switch self {
        case .typing: "typing"
        case .read: "read"
        case .presence: "agent.presence"
        case .visitor(_, _, _, _, _, let online): online ? "visitor.online" : "visitor.offline"
        case .messageDelta: "message.delta"
        }
    }

    public var channels: [Channel] {
        switch self {
        case .typing(let session, _, _, _, _), .read(let session, _, _, _): [.supportChat(session)]
        case .messageDelta(let session, _, _, _, _, _, _, _): [.supportChat(session)]
        case .presence(_, let organization, _), .visitor(_, let organization, _, _, _, _): [.inbox(organization)]
        }
    }

    public var organizationID: Organization.ID {
        switch self {
        case .typing(_, let organization, _, _, _), .read(_, let organization, _, _),
            .presence(_, let organization, _), .visitor(_, let organization, _, _, _, _),
            .messageDelta(_, let organization, _, _, _, _, _, _):
            organization
        }
    }

    /// Presence of agents and visitors is for the team's inbox only.
    var isForTeamOnly: Bool {
        switch self {
        case .presence, .visitor: true
        case .typing, .read, .messageDelta: false
        }
    }
}
