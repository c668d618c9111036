import Foundation

/// Something that happened, to fan out after it was committed.
public enum DomainEvent: Sendable, Hashable {
    /// A message was stored (wire name `message.created`).
    case messageCreated(ChatMessage)
    /// A conversation started (wire name `session.created`).
    case sessionCreated(ChatSession)
    /// A conversation's state changed (wire name `session.updated`).
    case sessionUpdated(ChatSession)
    /// A message in a ticket's thread (wire name `message.created` on `support:<ticketId>`);
    /// `requester` is the ticket's visitor, who sees it unless it is an internal note.
    case ticketMessageCreated(TicketMessage, requester: Visitor.ID?)
    /// A ticket's state changed (wire name `ticket.updated`).
    case ticketUpdated(Ticket)

    /// The name on the wire.
    public var name: String {
        switch self {
        case .messageCreated: "message.created"
        case .sessionCreated: "session.created"
        case .sessionUpdated: "session.updated"
        case .ticketMessageCreated: "message.created"
        case .ticketUpdated: "ticket.updated"
        }
    }

    /// The channels that receive it: the conversation's own and the organization's inbox.
    public var channels: [Channel] {
        switch self {
        case .messageCreated(let message): [.supportChat(message.sessionID), .inbox(message.organizationID)]
        case .sessionCreated(let session), .sessionUpdated(let session):
            [.supportChat(session.id), .inbox(session.organizationID)]
        case .ticketMessageCreated(let message, _): [.support(message.ticketID)]
        case .ticketUpdated(let ticket): [.support(ticket.id), .inbox(ticket.organizationID)]
        }
    }

    /// Whether `principal` may see it (visitors never see another visitor's anything).
    public func isVisible(to principal: RealtimePrincipal) -> Bool {
        switch (self, principal) {
        case (_, .agent(_, let organization)):
            return self.organizationID == organization
        case (.messageCreated(let message), .visitor(_, let organization)):
            return message.organizationID == organization && !message.isInternal
        case (.sessionCreated(let session), .visitor(let visitor, _)),
            (.sessionUpdated(let session), .visitor(let visitor, _)):
            return session.visitorID == visitor
        case (.ticketMessageCreated(let message, let requester), .visitor(let visitor, let organization)):
            return !message.isInternal && requester == visitor && message.organizationID == organization
        case (.ticketUpdated(let ticket), .visitor(let visitor, let organization)):
            return ticket.visitorID == visitor && ticket.organizationID == organization
        }
    }

    public var organizationID: Organization.ID {
        switch self {
        case .messageCreated(let message): message.organizationID
        case .sessionCreated(let session), .sessionUpdated(let session): session.organizationID
        case .ticketMessageCreated(let message, _): message.organizationID
        case .ticketUpdated(let ticket): ticket.organizationID
        }
    }
}
