public import Foundation

/// A conversation between a visitor and the AI or the team ("conversation" on screen).
public struct ChatSession: Sendable, Hashable, Codable {
    public typealias ID = TypedID<ChatSession>

    public var id: ID
    public var organizationID: Organization.ID
    public var siteID: Site.ID
    public var visitorID: Visitor.ID
    public var status: ChatStatus
    public var assignedAgentID: Agent.ID?
    /// The `seq` of the last message; the next message gets `lastSeq + 1`. Gap-free.
    public var lastSeq: Int64
    /// The `seq` of the visitor's last message (unread for agents when above `agentReadSeq`).
    public var lastVisitorSeq: Int64
    /// How far the visitor has read.
    public var visitorReadSeq: Int64
    /// How far the team has read.
    public var agentReadSeq: Int64
    public var lastMessagePreview: String?
    public var lastMessageRole: MessageRole?
    /// The agent who wrote the last message, when an agent did (lists say "You: ").
    public var lastMessageAuthorID: Agent.ID?
    public var lastMessageAt: Date?
    public var createdAt: Date
    public var updatedAt: Date
    public var closedAt: Date?
    public var archivedAt: Date?
    /// The ticket this conversation continues as (one thread, `ThreadLink`), while it is not closed.
    public var ticketID: Ticket.ID?
    /// The visitor's rating once it ended (a conversation that is a ticket rates the ticket).
    public var satisfaction: Satisfaction?

    public init(
        id: ID, organizationID: Organization.ID, siteID: Site.ID, visitorID: Visitor.ID, status: ChatStatus,
        assignedAgentID: Agent.ID? = nil, lastSeq: Int64 = 0, lastVisitorSeq: Int64 = 0, visitorReadSeq: Int64 = 0,
        agentReadSeq: Int64 = 0, lastMessagePreview: String? = nil, lastMessageRole: MessageRole? = nil,
        lastMessageAt: Date? = nil, createdAt: Date, updatedAt: Date, closedAt: Date? = nil, archivedAt: Date? = nil
    ) {
        self.id = id
        self.organizationID = organizationID
        self.siteID = siteID
        self.visitorID = visitorID
        self.status = status
        self.assignedAgentID = assignedAgentID
        self.lastSeq = lastSeq
        self.lastVisitorSeq = lastVisitorSeq
        self.visitorReadSeq = visitorReadSeq
        self.agentReadSeq = agentReadSeq
        self.lastMessagePreview = lastMessagePreview
        self.lastMessageRole = lastMessageRole
        self.lastMessageAt = lastMessageAt
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.closedAt = closedAt
        self.archivedAt = archivedAt
    }

    /// Whether the visitor wrote something the team has not read.
    public var isUnreadForAgents: Bool { self.lastVisitorSeq > self.agentReadSeq }
}

/// Who is answering a conversation.
public enum ChatStatus: String, Sendable, Hashable, Codable, CaseIterable {
    /// The AI answers (or, with no AI, nobody yet).
    case aiActive = "ai_active"
    /// An agent has taken over; the AI stays silent.
    case agentActive = "agent_active"
    /// Handed over to the team; waiting for an agent.
    case escalated
    /// Ended; a new visitor message opens it again.
    case closed
}

/// Who wrote a message.
public enum MessageRole: String, Sendable, Hashable, Codable, CaseIterable {
    /// The visitor.
    case user
    /// The AI assistant.
    case ai
    /// A member of the team.
    case agent
    /// Parley itself (a takeover, a close).
    case system
}

/// One message of a conversation, with its place (`seq`) in the conversation's total order.
public struct ChatMessage: Sendable, Hashable, Codable {
    public typealias ID = TypedID<ChatMessage>

    public var id: ID
    public var sessionID: ChatSession.ID
    public var organizationID: Organization.ID
    /// 1, 2, 3… per conversation, without gaps, assigned in the transaction that stores it.
    public var seq: Int64
    public var role: MessageRole
    public var authorAgentID: Agent.ID?
    public var body: String
    /// The sender's idempotency key: a resend with the same one returns this message.
    public var clientID: String?
    public var createdAt: Date
    /// Free-form details as JSON text (sources, confidence, attachments…).
    public var metadata: [String: String]

    /// The metadata key that marks an agent's internal note.
    public static let internalKey = "internal"
    /// Marks the system message of an agent handing the conversation back to the assistant: the
    /// assistant's reply budget counts from it.
    public static let assistantReturnedKey = "assistantReturned"

    /// An internal note: the team's only; never sent to the visitor or given to the AI.
    public var isInternal: Bool { self.metadata[Self.internalKey] == "true" }

    public init(
        id: ID, sessionID: ChatSession.ID, organizationID: Organization.ID, seq: Int64, role: MessageRole,
        authorAgentID: Agent.ID?, body: String, clientID: String?, createdAt: Date, metadata: [String: String] = [:]
    ) {
        self.id = id
        self.sessionID = sessionID
        self.organizationID = organizationID
        self.seq = seq
        self.role = role
        self.authorAgentID = authorAgentID
        self.body = body
        self.clientID = clientID
        self.createdAt = createdAt
        self.metadata = metadata
    }
}

extension Validate {
    /// The longest message accepted, in characters.
    public static let maximumMessageLength = 10_000

    /// A message body: not blank, at most 10,000 characters; kept as written (only trimmed).
    public static func messageBody(_ value: String, field: String = "body") throws(ValidationError) -> String {
        let trimmed = value.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { throw ValidationError(field: field, message: "\(field) must not be empty.") }
        guard trimmed.count <= self.maximumMessageLength else {
            throw ValidationError(
                field: field, message: "\(field) must be at most \(self.maximumMessageLength) characters.")
        }
        return trimmed
    }

    /// A client's idempotency key: 1 to 100 visible ASCII characters.
    public static func clientID(_ value: String, field: String = "clientId") throws(ValidationError) -> String {
        guard (1...100).contains(value.count), value.unicodeScalars.allSatisfy({ $0.value > 32 && $0.value < 127 })
        else {
            throw ValidationError(field: field, message: "\(field) must be 1 to 100 visible ASCII characters.")
        }
        return value
    }
}
