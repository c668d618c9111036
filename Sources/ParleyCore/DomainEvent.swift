import Foundation

/// Something that happened, to fan out after it was committed.
public enum DomainEvent: Sendable, Hashable {
    /// A message was stored (wire name `message.created`).
    case messageCreated(ChatMessage)
    /// A conversation started (wire name `session.created`).
    case sessionCreated(ChatSession)
    /// A conversation's state changed (wire name `session.updated`).
    case sessionUpdated(ChatSession)

    /// The name on the wire.
    public var name: String {
        switch self {
        case .messageCreated: "message.created"
        case .sessionCreated: "session.created"
        case .sessionUpdated: "session.updated"
        }
    }

    /// The channels that receive it: the conversation's own and the organization's inbox.
    public var channels: [Channel] {
        switch self {
        case .messageCreated(let message): [.supportChat(message.sessionID), .inbox(message.organizationID)]
        case .sessionCreated(let session), .sessionUpdated(let session):
            [.supportChat(session.id), .inbox(session.organizationID)]
        }
    }

    /// Whether `principal` may see it (visitors never see another visitor's anything).
    public func isVisible(to principal: RealtimePrincipal) -> Bool {
        switch (self, principal) {
        case (_, .agent(_, let organization)):
            return self.organizationID == organization
        case (.messageCreated(let message), .visitor(_, let organization)):
            return message.organizationID == organization
        case (.sessionCreated(let session), .visitor(let visitor, _)),
            (.sessionUpdated(let session), .visitor(let visitor, _)):
            return session.visitorID == visitor
        }
    }

    public var organizationID: Organization.ID {
        switch self {
        case .messageCreated(let message): message.organizationID
        case .sessionCreated(let session), .sessionUpdated(let session): session.organizationID
        }
    }
}
