public import Foundation

/// A real-time channel: the stream of one conversation, one ticket, or an organization's inbox.
public enum Channel: Sendable, Hashable, CustomStringConvertible {
    /// `supportChat:<sessionId>`: one conversation.
    case supportChat(ChatSession.ID)
    /// `support:<ticketId>`: one ticket's thread.
    case support(Ticket.ID)
    /// `inbox:<orgId>`: the agents' feed of an organization.
    case inbox(Organization.ID)

    /// Parses the wire form; nil for anything else.
    public init?(_ text: String) {
        guard let colon = text.firstIndex(of: ":") else { return nil }
        let kind = text[..<colon]
        let rest = String(text[text.index(after: colon)...])
        switch kind {
        case "supportChat": guard let id = ChatSession.ID(rest) else { return nil }; self = .supportChat(id)
        case "support": guard let id = Ticket.ID(rest) else { return nil }; self = .support(id)
        case "inbox": guard let id = Organization.ID(rest) else { return nil }; self = .inbox(id)
        default: return nil
        }
    }

    public var description: String {
        switch self {
        case .supportChat(let id): "supportChat:\(id)"
        case .support(let id): "support:\(id)"
        case .inbox(let id): "inbox:\(id)"
        }
    }

    /// The label for metrics (no ids).
    public var kind: String {
        switch self {
        case .supportChat: "supportChat"
        case .support: "support"
        case .inbox: "inbox"
        }
    }
}

/// Who holds a real-time connection.
public enum RealtimePrincipal: Sendable, Hashable {
    /// A visitor, by the signed token the widget holds.
    case visitor(Visitor.ID, organization: Organization.ID)
    /// An agent or an API key of an organization.
    case agent(Agent.ID?, organization: Organization.ID)

    public var organizationID: Organization.ID {
        switch self {
        case .visitor(_, let organization), .agent(_, let organization): organization
        }
    }
}

/// Who may join which channel. Pure: the caller loads the conversation the channel names.
public enum ChannelAccess {
    /// Whether `principal` may subscribe to `channel`; `session` is the conversation a
    /// `supportChat:` channel names and `ticket` the ticket a `support:` channel names (nil when
    /// there is none). A visitor joins only their own ticket (as its identified requester).
    public static func mayJoin(
        _ channel: Channel, as principal: RealtimePrincipal, session: ChatSession?, ticket: Ticket? = nil
    ) -> Bool {
        switch (channel, principal) {
        case (.supportChat, .visitor(let visitor, let organization)):
            guard let session else { return false }
            return session.visitorID == visitor && session.organizationID == organization
        case (.supportChat, .agent(_, let organization)):
            guard let session else { return false }
            return session.organizationID == organization
        case (.inbox(let organization), .agent(_, let own)):
            return organization == own
        case (.inbox, .visitor):
            return false
        case (.support, .agent(_, let organization)):
            guard let ticket else { return false }
            return ticket.organizationID == organization
        case (.support, .visitor(let visitor, let organization)):
            guard let ticket else { return false }
            return ticket.visitorID == visitor && ticket.organizationID == organization
        }
    }
}
