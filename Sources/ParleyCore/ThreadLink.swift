public import Foundation

/// One thread per customer problem: a conversation that becomes a ticket goes on as one thread.
/// What is written on either side (the widget, the conversation view, the ticket view, an email
/// reply) is written on the other in the same transaction, in the same order, once; and the two
/// states move together (a takeover assigns the ticket, an agent's chat answer stops its
/// first-response clock, resolving the ticket closes the conversation, the visitor writing again
/// reopens the ticket). The link is the conversation's `ticketID`; these rules are pure, the
/// writers apply them under both rows' locks (the conversation's first, then the ticket's).
public enum ThreadLink {
    /// The client id prefix of a conversation message copied from its ticket's message.
    public static let clientPrefix = "ticket:"

    /// A ticket's side of a conversation's change: what happens to the ticket, and the message it
    /// gets, already decided.
    public struct TicketStep: Sendable, Hashable {
        public var event: TicketEvent
        public var message: Copy?
        public var actor: TicketActor

        public init(event: TicketEvent, message: Copy?, actor: TicketActor) {
            self.event = event
            self.message = message
            self.actor = actor
        }
    }

    /// A message as the ticket's thread gets it.
    public struct Copy: Sendable, Hashable {
        public var role: TicketRole
        public var author: Agent.ID?
        public var body: String
        public var isInternal: Bool
        public var attachments: [Attachment.Reference]
        /// Its seq in the conversation (set once it is there).
        public var chatSeq: Int64?

        public init(
            role: TicketRole, author: Agent.ID?, body: String, isInternal: Bool, attachments: [Attachment.Reference],
            chatSeq: Int64?
        ) {
            self.role = role
            self.author = author
            self.body = body
            self.isInternal = isInternal
            self.attachments = attachments
            self.chatSeq = chatSeq
        }
    }

    /// A conversation message as its ticket's thread has it (role, visibility, files).
    public static func copy(of message: ChatMessage, closingOpenTicket: Bool = false) -> Copy {
        let role: TicketRole
        switch message.role {
        case .user: role = .customer
        case .agent: role = .agent
        case .ai: role = .ai
        case .system: role = .system
        }
        return Copy(
            role: role, author: message.authorAgentID,
            body: closingOpenTicket
                ? message.body + (message.body.hasSuffix(".") ? " " : ". ") + "The ticket stays open." : message.body,
            isInternal: message.isInternal, attachments: Attachment.references(in: message.metadata),
            chatSeq: message.seq)
    }

    /// What the conversation's change (`before` → `outcome`) does to its ticket, in order: a new
    /// assignee first, then each new message as the event it is on a ticket.
    public static func ticketSteps(before: ChatSession, outcome: ChatOutcome, ticket: Ticket) -> [TicketStep] {
        var steps: [TicketStep] = []
        let assignee = outcome.session.assignedAgentID
        if assignee != before.assignedAgentID, assignee != ticket.assigneeID {
            let tookIt = outcome.messages.contains { $0.role == .agent && $0.authorAgentID == assignee }
            steps.append(
                TicketStep(
                    event: .assign(assignee), message: nil,
                    actor: tookIt ? assignee.map(TicketActor.agent) ?? .system : .system))
        }
        if let rating = outcome.session.satisfaction, before.satisfaction == nil, ticket.satisfaction == nil {
            steps.append(
                TicketStep(event: .rate(stars: rating.stars, comment: rating.comment), message: nil, actor: .customer))
        }
        let closed = outcome.session.status == .closed && before.status != .closed
        let ticketOpen = ticket.status != .resolved && ticket.status != .closed
        for message in outcome.messages where !(message.clientID ?? "").hasPrefix(Self.clientPrefix) {
            switch message.role {
            case .user:
                steps.append(TicketStep(event: .customerReply, message: Self.copy(of: message), actor: .customer))
            case .agent:
                guard let agent = message.authorAgentID else { continue }
                steps.append(
                    TicketStep(
                        event: message.isInternal ? .internalNote : .agentReply(agent),
                        message: Self.copy(of: message), actor: .agent(agent)))
            case .ai:
                steps.append(TicketStep(event: .assistantMessage, message: Self.copy(of: message), actor: .assistant))
            case .system:
                let closing = closed && message.seq == outcome.session.lastSeq && ticketOpen
                steps.append(
                    TicketStep(
                        event: .systemMessage, message: Self.copy(of: message, closingOpenTicket: closing),
                        actor: .system))
            }
        }
        return steps
    }

    /// What a ticket's change (`before` → `after`, with its new `message`) does to its
    /// conversation, in order: a new assignee, the message, a close when the ticket was resolved,
    /// and the end of the link when it was closed. `authorName` is the message's agent's name.
    public static func chatCommands(
        before: Ticket, after: Ticket, message: TicketMessage?, authorName: String?, session: ChatSession
    ) -> [ChatCommand] {
        var commands: [ChatCommand] = []
        if after.assigneeID != before.assigneeID, after.assigneeID != session.assignedAgentID,
            session.status != .closed
        {
            commands.append(.assign(after.assigneeID))
        }
        if let message {
            let clientID = Self.clientPrefix + message.id.description
            var metadata: [String: String] = [:]
            if !message.attachments.isEmpty, let json = try? JSONEncoder().encode(message.attachments) {
                metadata[Attachment.metadataKey] = String(decoding: json, as: UTF8.self)
            }
            switch message.role {
            case .customer:
                commands.append(.visitorMessage(body: message.body, clientID: clientID, metadata: metadata))
            case .agent:
                if let agent = message.authorAgentID {
                    let name = authorName ?? "An agent"
                    commands.append(
                        message.isInternal
                            ? .internalNote(
                                agent: agent, agentName: name, body: message.body, clientID: clientID,
                                metadata: metadata)
                            : .agentMessage(
                                agent: agent, agentName: name, body: message.body, clientID: clientID,
                                metadata: metadata))
                } else {
                    // An integration's reply: the team's words, with nobody to take over.
                    if message.isInternal { metadata[ChatMessage.internalKey] = "true" }
                    commands.append(
                        .threadMessage(role: .agent, body: message.body, clientID: clientID, metadata: metadata))
                }
            case .ai, .system:
                guard !message.isInternal else { break }
                commands.append(
                    .threadMessage(
                        role: message.role == .ai ? .ai : .system, body: message.body, clientID: clientID,
                        metadata: metadata))
            }
        }
        let finished: Set<TicketStatus> = [.resolved, .closed]
        if finished.contains(after.status), !finished.contains(before.status) {
            commands.append(.close(.ticketResolved))
        }
        // A closed ticket is history: the visitor's next message starts over with the assistant.
        if after.status == .closed, before.status != .closed { commands.append(.ticketClosed) }
        return commands
    }

    /// How a public reply on `ticket` reaches its customer now: in the widget when the ticket is
    /// one thread with a conversation whose visitor is there (`Visitor.presence`), else by
    /// email when there is an address and a mail server, else nowhere.
    public static func delivery(
        of ticket: Ticket, conversation: ChatSession?, visitorSeenAt: Date?, emailEnabled: Bool, now: Date
    ) -> ReplyDelivery {
        if let conversation, conversation.ticketID == ticket.id, let seen = visitorSeenAt,
            now.timeIntervalSince(seen) <= Visitor.presence
        {
            return .widget
        }
        return emailEnabled && !ticket.requesterEmail.isEmpty ? .email : .none
    }
}

/// The way a reply reaches a customer (`reachedBy` on the wire).
public enum ReplyDelivery: String, Sendable, Hashable, Codable {
    /// Live, in the chat widget they have open.
    case widget
    /// By email (for a conversation, once they have not read it in the widget in time).
    case email
    /// Nowhere: no email address, or no mail server.
    case none
}
