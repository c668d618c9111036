public import Foundation

/// A support request that outlives a conversation: created when a conversation is handed to the
/// team and the visitor can be reached by email. (The full lifecycle, SLA and agent tools come
/// with the ticket system; this is what handoff needs.)
public struct Ticket: Sendable, Hashable, Codable {
    public typealias ID = TypedID<Ticket>

    public var id: ID
    public var organizationID: Organization.ID
    public var visitorID: Visitor.ID?
    /// Empty when nobody knows it yet (an anonymous visitor's handed-over conversation).
    public var requesterEmail: String
    public var requesterName: String?
    public var subject: String
    public var status: TicketStatus
    public var priority: TicketPriority
    public var source: TicketSource
    /// The conversation it came from (source `chat`).
    public var chatSessionID: ChatSession.ID?
    /// The `seq` of the last message of its thread; gap-free like a conversation's.
    public var lastSeq: Int64
    public var createdAt: Date
    public var updatedAt: Date
    public var assigneeID: Agent.ID?
    public var tags: [String] = []
    public var category: String?
    public var satisfaction: Satisfaction?
    /// The first public reply of an agent (never the assistant's).
    public var firstResponseAt: Date?
    public var resolvedAt: Date?
    public var closedAt: Date?
    public var firstResponseDueAt: Date?
    public var resolutionDueAt: Date?
    /// Set while the SLA clock is paused (waiting on the customer).
    public var slaPausedAt: Date?
    /// Resolved by the assistant; the customer may reopen it.
    public var aiResolved = false

    public init(
        id: ID, organizationID: Organization.ID, visitorID: Visitor.ID?, requesterEmail: String,
        requesterName: String?, subject: String, status: TicketStatus, priority: TicketPriority,
        source: TicketSource, chatSessionID: ChatSession.ID?, lastSeq: Int64, createdAt: Date, updatedAt: Date
    ) {
        self.id = id
        self.organizationID = organizationID
        self.visitorID = visitorID
        self.requesterEmail = requesterEmail
        self.requesterName = requesterName
        self.subject = subject
        self.status = status
        self.priority = priority
        self.source = source
        self.chatSessionID = chatSessionID
        self.lastSeq = lastSeq
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    /// A subject from the visitor's first words: one line, at most 80 characters.
    public static func subject(from text: String?) -> String {
        let line = (text ?? "").split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
        let trimmed = line.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty else { return "Conversation with the assistant" }
        return trimmed.count <= 80 ? trimmed : String(trimmed.prefix(79)) + "…"
    }
}

/// Where a ticket stands.
public enum TicketStatus: String, Sendable, Hashable, Codable, CaseIterable {
    /// New, nobody on it yet.
    case open
    /// Waiting on something other than the customer.
    case pending
    /// An agent is working on it.
    case inProgress = "in_progress"
    /// The team replied; the customer's turn.
    case waitingOnCustomer = "waiting_on_customer"
    /// Answered; reopens if the customer writes.
    case resolved
    /// Done.
    case closed
}

/// How urgent a ticket is.
public enum TicketPriority: String, Sendable, Hashable, Codable, CaseIterable {
    /// Whenever there is time.
    case low
    /// The default.
    case medium
    /// Before the others.
    case high
    /// Now.
    case urgent
}

/// How a ticket came in.
public enum TicketSource: String, Sendable, Hashable, Codable, CaseIterable {
    /// The offline form.
    case form
    /// A conversation handed to the team, or made a ticket by an agent.
    case chat
    /// An email.
    case email
}

/// Who wrote a ticket message.
public enum TicketRole: String, Sendable, Hashable, Codable, CaseIterable {
    /// The requester.
    case customer
    /// A member of the team.
    case agent
    /// The assistant.
    case ai
    /// Parley itself.
    case system
}

/// One message of a ticket's thread.
public struct TicketMessage: Sendable, Hashable, Codable {
    public typealias ID = TypedID<TicketMessage>

    public var id: ID
    public var ticketID: Ticket.ID
    public var organizationID: Organization.ID
    public var seq: Int64
    public var role: TicketRole
    public var authorAgentID: Agent.ID?
    public var body: String
    /// An internal note: agents only, never the customer.
    public var isInternal: Bool
    public var createdAt: Date
    /// Files sent with it (an internal note's files are internal too).
    public var attachments: [Attachment.Reference]
    /// Its `seq` in the ticket's conversation, when the two are one thread (`ThreadLink`).
    public var chatSeq: Int64?

    public init(
        id: ID, ticketID: Ticket.ID, organizationID: Organization.ID, seq: Int64, role: TicketRole,
        authorAgentID: Agent.ID?, body: String, isInternal: Bool, createdAt: Date,
        attachments: [Attachment.Reference] = []
    ) {
        self.id = id
        self.ticketID = ticketID
        self.organizationID = organizationID
        self.seq = seq
        self.role = role
        self.authorAgentID = authorAgentID
        self.body = body
        self.isInternal = isInternal
        self.createdAt = createdAt
        self.attachments = attachments
    }
}

/// Who changes a ticket, for the audit log.
public enum TicketActor: Sendable, Hashable {
    /// A signed-in agent.
    case agent(Agent.ID)
    /// An integration's API key.
    case apiKey
    /// The requester.
    case customer
    /// The AI assistant.
    case assistant
    /// Parley itself (jobs, handoff).
    case system

    public var kind: String {
        switch self {
        case .agent: "agent"
        case .apiKey: "api_key"
        case .customer: "customer"
        case .assistant: "assistant"
        case .system: "system"
        }
    }

    public var agentID: Agent.ID? {
        if case .agent(let id) = self { return id }
        return nil
    }
}

extension TicketEvent {
    /// The audit log's name for this change, and what changed, given the ticket before and after.
    public func audit(before: Ticket, after: Ticket) -> (action: String, details: String?) {
        let status = before.status == after.status ? nil : "\(before.status.rawValue) -> \(after.status.rawValue)"
        switch self {
        case .customerReply: return ("ticket.customer_reply", status)
        case .agentReply: return ("ticket.reply", status)
        case .internalNote: return ("ticket.note", nil)
        case .assign(let agent):
            return (
                "ticket.assign",
                [agent.map { "to \($0)" } ?? "unassigned", status].compactMap { $0 }.joined(separator: "; ")
            )
        case .changeStatus: return ("ticket.status", status)
        case .customerClose: return ("ticket.close", status)
        case .customerReopen: return ("ticket.reopen", status)
        case .aiResolve: return ("ticket.ai_resolve", status)
        case .autoClose: return ("ticket.auto_close", status)
        case .rate(let stars, _): return ("ticket.rate", "\(stars) stars")
        case .rateComment: return ("ticket.rate_comment", nil)
        case .assistantMessage: return ("ticket.ai_message", nil)
        case .systemMessage: return ("ticket.system_message", nil)
        }
    }
}

extension TicketEvent {
    /// Who should hear of this change: a new assignee (not when they took it themselves), and the
    /// assignee when the customer writes or reopens.
    public func notifications(before: Ticket, after: Ticket, by actor: TicketActor, now: Date) -> [AgentNotification] {
        switch self {
        case .assign(let agent?) where agent != actor.agentID && agent != before.assigneeID:
            return [
                AgentNotification(
                    organizationID: after.organizationID, agentID: agent, kind: .assignment,
                    title: "Assigned to you: \(after.subject)", ticketID: after.id, createdAt: now)
            ]
        case .customerReply, .customerReopen:
            guard let assignee = after.assigneeID else { return [] }
            return [
                AgentNotification(
                    organizationID: after.organizationID, agentID: assignee, kind: .customerReply,
                    title: "The customer replied: \(after.subject)", ticketID: after.id, createdAt: now)
            ]
        default:
            return []
        }
    }
}
