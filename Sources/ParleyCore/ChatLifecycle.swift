public import Foundation

/// What someone asks of a conversation. Every change to a conversation is one of these.
public enum ChatCommand: Sendable, Hashable {
    /// The visitor writes; a closed conversation opens again, an archived one is restored.
    case visitorMessage(body: String, clientID: String?, metadata: [String: String] = [:])
    /// An agent writes; this takes the conversation over from the AI (and assigns it, if unassigned).
    case agentMessage(
        agent: Agent.ID, agentName: String, body: String, clientID: String?, metadata: [String: String] = [:])
    /// An agent writes a note for the team only: the visitor never sees it (nor does the AI).
    /// It changes nothing else: no takeover, no assignment.
    case internalNote(
        agent: Agent.ID, agentName: String, body: String, clientID: String?, metadata: [String: String] = [:])
    /// Parley says something (e.g. why a conversation closed).
    case systemMessage(body: String)
    /// Gives the conversation to an agent, or to nobody.
    case assign(Agent.ID?)
    /// Ends the conversation.
    case close(CloseReason)
    /// Hides a conversation from the active lists.
    case archive
    /// Brings an archived conversation back.
    case restore
    /// Hands the conversation to the team (the visitor asked, or the assistant could not help).
    /// `emailOn`: whether a reply can reach the visitor by email at all (a mail server is configured).
    case escalate(EscalationReason, visitorHasEmail: Bool, emailOn: Bool = true)
    /// The assistant's one reply to the visitor message `replyTo` (its seq); only while the AI is
    /// in charge. Stored with client id `ai:<replyTo>`, so a second reply to it is a resend.
    case aiMessage(body: String, replyTo: Int64, metadata: [String: String])
    /// A message written on the conversation's ticket by the assistant, Parley or an integration
    /// (`ThreadLink`): appended as it is, whoever is in charge.
    case threadMessage(role: MessageRole, body: String, clientID: String, metadata: [String: String])
    /// The visitor rates the help they got, once the conversation ended, once.
    case rate(stars: Int, comment: String?)
    /// The conversation's ticket was closed: history now, the conversation goes on alone.
    case ticketClosed
    /// An agent gives the conversation back to the assistant; its reply budget starts again.
    case returnToAssistant(agentName: String)
}

/// Why a conversation went to the team.
public enum EscalationReason: String, Sendable, Hashable, Codable {
    /// The visitor asked for a person.
    case visitorAsked = "visitor_asked"
    /// Nothing in the knowledge base answered (no provider, or every provider failed).
    case noAnswer = "no_answer"
    /// The assistant already replied `maxMessagesBeforeEscalation` times.
    case limitReached = "limit_reached"
    /// The reply's confidence was below the organization's threshold.
    case lowConfidence = "low_confidence"
    /// The model decided a person should answer (`handoff`, or `[ESCALATE]`).
    case assistantHandoff = "assistant_handoff"
    /// The provider's stream broke after it had started.
    case providerFailed = "provider_failed"

    /// A few words on why, for the agents' bell.
    public var summary: String {
        switch self {
        case .visitorAsked: "asked for a person"
        case .assistantHandoff: "the assistant handed over"
        case .lowConfidence: "the assistant was not sure"
        case .noAnswer: "no answer in the knowledge base"
        case .limitReached: "many messages without a resolution"
        case .providerFailed: "the assistant failed"
        }
    }
}

/// Why a conversation ended; each says so to the visitor differently.
public enum CloseReason: String, Sendable, Hashable, Codable {
    /// An agent closed it.
    case agent
    /// The visitor ended it.
    case visitor
    /// Nobody wrote for longer than the idle timeout.
    case idle
    /// The assistant settled the visitor's question.
    case resolved
    /// The conversation's ticket was resolved.
    case ticketResolved = "ticket_resolved"
}

/// A command that the conversation's state does not allow (409 at the edge).
public struct InvalidTransition: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public var description: String { self.message }
}

/// What applying a command produced, for the store to persist and the bus to publish.
public struct ChatOutcome: Sendable {
    public var session: ChatSession
    /// New messages, with their `seq` already assigned, in order.
    public var messages: [ChatMessage]
    /// Whether the conversation's state (not only its messages) changed.
    public var sessionChanged: Bool
    /// When the command was a repeat of an earlier message (same client id): that message.
    public var duplicateOf: ChatMessage?

    public init(session: ChatSession, messages: [ChatMessage], sessionChanged: Bool, duplicateOf: ChatMessage?) {
        self.session = session
        self.messages = messages
        self.sessionChanged = sessionChanged
        self.duplicateOf = duplicateOf
    }
}

/// The lifecycle of a conversation: pure, every change goes through `apply`.
///
/// | command | from | to |
/// | --- | --- | --- |
/// | visitor message | any (closed reopens: `escalated` with a ticket, else `ai_active`; archived is restored) | same, `escalated` or `ai_active` |
/// | agent message | any | `agent_active`, assigned to the agent if unassigned |
/// | internal note | any | same (the visitor and the AI never see it) |
/// | assign | any but closed | same |
/// | close | any but closed | `closed` |
/// | archive | not archived | archived |
/// | restore | archived | not archived |
/// | escalate | `ai_active` only | `escalated` |
/// | AI message | `ai_active` only | same |
/// | thread message | any | same |
/// | rate | `closed`, not yet rated | same |
/// | ticket closed | with a ticket | same, without the ticket |
/// | return to assistant | `escalated` or `agent_active` | `ai_active` |
public enum ChatLifecycle {
    /// How much of a message the lists show.
    public static let previewLength = 140

    /// Applies `command` to `session` at `now`. New messages take `session.lastSeq + 1, + 2…`.
    public static func apply(
        _ command: ChatCommand, to session: ChatSession, now: Date, newID: () -> ChatMessage.ID = { .init() }
    ) throws(InvalidTransition) -> ChatOutcome {
        var session = session
        var messages: [ChatMessage] = []
        var changed = false

        func append(_ role: MessageRole, _ body: String, agent: Agent.ID? = nil, clientID: String? = nil) {
            session.lastSeq += 1
            let message = ChatMessage(
                id: newID(), sessionID: session.id, organizationID: session.organizationID, seq: session.lastSeq,
                role: role, authorAgentID: agent, body: body, clientID: clientID, createdAt: now)
            messages.append(message)
            session.lastMessagePreview = String(body.prefix(Self.previewLength))
            session.lastMessageRole = role
            session.lastMessageAuthorID = agent
            session.lastMessageAt = now
        }

        switch command {
        case .visitorMessage(let body, let clientID, let metadata):
            if session.status == .closed {
                // A conversation with a ticket is the team's: its thread goes on with them.
                session.status = session.ticketID == nil ? .aiActive : .escalated
                session.closedAt = nil
                changed = true
            }
            if session.archivedAt != nil {
                session.archivedAt = nil
                changed = true
            }
            append(.user, body, clientID: clientID)
            messages[messages.count - 1].metadata = metadata
            session.lastVisitorSeq = session.lastSeq
            session.visitorReadSeq = session.lastSeq

        case .agentMessage(let agent, let agentName, let body, let clientID, let metadata):
            if session.status != .agentActive {
                append(.system, "\(agentName) joined the conversation")
                session.status = .agentActive
                session.closedAt = nil
                changed = true
            }
            if session.assignedAgentID == nil {
                session.assignedAgentID = agent
                changed = true
            }
            if session.archivedAt != nil {
                session.archivedAt = nil
                changed = true
            }
            append(.agent, body, agent: agent, clientID: clientID)
            messages[messages.count - 1].metadata = metadata.merging(["authorName": agentName]) { mine, _ in mine }
            session.agentReadSeq = session.lastSeq

        case .internalNote(let agent, let agentName, let body, let clientID, let metadata):
            // The preview and the last-message fields stay the conversation's, not the note's.
            let kept = (
                session.lastMessagePreview, session.lastMessageRole, session.lastMessageAt, session.lastMessageAuthorID
            )
            append(.agent, body, agent: agent, clientID: clientID)
            (session.lastMessagePreview, session.lastMessageRole, session.lastMessageAt, session.lastMessageAuthorID) =
                kept
            messages[messages.count - 1].metadata = metadata.merging([
                ChatMessage.internalKey: "true", "authorName": agentName,
            ]) { _, fixed in fixed }
            session.agentReadSeq = session.lastSeq

        case .systemMessage(let body):
            append(.system, body)

        case .assign(let agent):
            guard session.status != .closed else {
                throw InvalidTransition(message: "This conversation is closed; it can't be assigned.")
            }
            guard session.assignedAgentID != agent else { break }
            session.assignedAgentID = agent
            changed = true

        case .close(let reason):
            guard session.status != .closed else {
                throw InvalidTransition(message: "This conversation is already closed.")
            }
            let text: String
            switch reason {
            case .agent: text = "The conversation was closed"
            case .visitor: text = "The visitor ended the conversation"
            case .idle: text = "The conversation was closed after a period of inactivity"
            case .resolved: text = "Glad we could help. Write again any time to reopen this conversation."
            case .ticketResolved: text = "Your request was resolved. Write here again if you need anything else."
            }
            append(.system, text)
            session.status = .closed
            session.closedAt = now
            changed = true

        case .archive:
            guard session.archivedAt == nil else {
                throw InvalidTransition(message: "This conversation is already archived.")
            }
            session.archivedAt = now
            changed = true

        case .restore:
            guard session.archivedAt != nil else {
                throw InvalidTransition(message: "This conversation is not archived.")
            }
            session.archivedAt = nil
            changed = true

        case .escalate(_, let visitorHasEmail, let emailOn):
            guard session.status == .aiActive else {
                throw InvalidTransition(
                    message: session.status == .closed
                        ? "This conversation is closed." : "This conversation is already with the team.")
            }
            append(
                .system,
                !emailOn
                    ? "We've passed your conversation to our team. Someone will reply here: keep this page open, or come back to it."
                    : visitorHasEmail
                        ? "We've passed your conversation to our team. Someone will reply here, and by email if you've left."
                        : "We've passed your conversation to our team. Leave your email so we can reply even if you leave."
            )
            session.status = .escalated
            changed = true

        case .aiMessage(let body, let replyTo, let metadata):
            // Code, not the model, keeps the AI quiet once a person is in charge or it has ended.
            guard session.status == .aiActive else {
                throw InvalidTransition(
                    message: "The assistant does not speak in a conversation that is \(session.status.rawValue).")
            }
            append(.ai, body, clientID: "ai:\(replyTo)")
            messages[messages.count - 1].metadata = metadata

        case .threadMessage(let role, let body, let clientID, let metadata):
            append(role, body, clientID: clientID)
            messages[messages.count - 1].metadata = metadata

        case .rate(let stars, let comment):
            guard session.status == .closed else {
                throw InvalidTransition(message: "A conversation is rated once it has ended.")
            }
            guard session.satisfaction == nil else {
                throw InvalidTransition(message: "This conversation has been rated already.")
            }
            session.satisfaction = Satisfaction(stars: stars, comment: comment, ratedAt: now)
            changed = true

        case .ticketClosed:
            guard session.ticketID != nil else { break }
            session.ticketID = nil
            changed = true

        case .returnToAssistant(let agentName):
            guard session.status == .escalated || session.status == .agentActive else {
                throw InvalidTransition(
                    message: session.status == .closed
                        ? "This conversation is closed." : "The assistant is already answering this conversation.")
            }
            append(.system, "\(agentName) handed the conversation back to the assistant")
            messages[messages.count - 1].metadata = [ChatMessage.assistantReturnedKey: "true"]
            session.status = .aiActive
            changed = true
        }
        if changed || !messages.isEmpty { session.updatedAt = now }
        return ChatOutcome(session: session, messages: messages, sessionChanged: changed, duplicateOf: nil)
    }
}

extension ChatCommand {
    /// Who should hear of this change: a conversation's new assignee, unless they gave it to
    /// themselves (`agent` asked) or it is a ticket's (the ticket's assignment tells them).
    public func notifications(before: ChatSession, after: ChatSession, by agent: Agent.ID?, now: Date)
        -> [AgentNotification]
    {
        guard case .assign(let assignee?) = self, before.ticketID == nil, assignee != before.assignedAgentID,
            assignee != agent
        else { return [] }
        return [
            AgentNotification(
                organizationID: after.organizationID, agentID: assignee, kind: .assignment,
                title: "Conversation assigned to you: \(after.lastMessagePreview ?? "a conversation")",
                sessionID: after.id, createdAt: now)
        ]
    }
}
