public import Foundation

/// An organization's webhook endpoint: where events are POSTed, and which.
public struct WebhookEndpoint: Sendable, Hashable, Identifiable {
    public typealias ID = TypedID<WebhookEndpoint>

    public var id: ID
    public var organizationID: Organization.ID
    public var url: String
    public var description: String?
    /// The event types it wants (`WebhookEvent.types`).
    public var events: [String]
    public var active: Bool
    public var createdAt: Date
    public var updatedAt: Date

    public init(
        id: ID, organizationID: Organization.ID, url: String, description: String?, events: [String], active: Bool,
        createdAt: Date, updatedAt: Date
    ) {
        self.id = id
        self.organizationID = organizationID
        self.url = url
        self.description = description
        self.events = events
        self.active = active
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    /// Whether it wants events of `type` (a test event goes to every endpoint).
    public func wants(_ type: String) -> Bool {
        self.active && (self.events.contains(type) || type == WebhookEvent.testType)
    }
}

/// An event as webhooks deliver it: its type, the aggregate whose order it keeps, the key that
/// makes one cause one delivery, and its data (JSON).
public struct WebhookEvent: Sendable, Hashable {
    /// Every type an endpoint can ask for.
    public static let types = [
        "conversation.created", "message.created", "conversation.escalated", "conversation.closed", "ticket.created",
        "ticket.updated", "ticket.replied", "ticket.rated", "feedback.created",
    ]
    /// The type of "send a test event".
    public static let testType = "webhook.test"

    public var type: String
    /// Deliveries with the same key reach an endpoint in the order they were made
    /// (`conversation:<id>`, `ticket:<id>`).
    public var orderKey: String
    /// What caused it, unique per type: with the endpoint, the outbox's deduplication key.
    public var cause: String
    /// The `data` member of the payload, as JSON.
    public var data: String
    public var organizationID: Organization.ID
    public var occurredAt: Date

    public init(
        type: String, orderKey: String, cause: String, data: String, organizationID: Organization.ID, occurredAt: Date
    ) {
        self.type = type
        self.orderKey = orderKey
        self.cause = cause
        self.data = data
        self.organizationID = organizationID
        self.occurredAt = occurredAt
    }

    /// The webhook events a committed event makes (none for live signals, internal notes or
    /// changes webhooks don't describe).
    public static func events(for event: DomainEvent) -> [WebhookEvent] {
        switch event {
        case .sessionCreated(let session):
            return [
                Self.make(
                    "conversation.created", session.organizationID, conversation: session.id, cause: "\(session.id)",
                    at: session.createdAt, ["conversation": ConversationData(session)])
            ]
        case .messageCreated(let message):
            // The visitor's, an agent's and the assistant's words; never a note, nor Parley's own lines.
            guard Visibility.reachesCustomer(message), message.role != .system else { return [] }
            return [
                Self.make(
                    "message.created", message.organizationID, conversation: message.sessionID,
                    cause: "\(message.id)", at: message.createdAt,
                    MessageCreatedData(conversationId: message.sessionID.description, message: .init(message)))
            ]
        case .sessionUpdated(let session, let from):
            guard let from, from != session.status else { return [] }
            let type: String
            switch session.status {
            case .escalated: type = "conversation.escalated"
            case .closed: type = "conversation.closed"
            case .aiActive, .agentActive: return []
            }
            return [
                Self.make(
                    type, session.organizationID, conversation: session.id,
                    cause: "\(session.id):\(session.status.rawValue):\(session.updatedAt.millisecondsSince1970)",
                    at: session.updatedAt, ["conversation": ConversationData(session)])
            ]
        case .ticketCreated(let ticket):
            return [
                Self.make(
                    "ticket.created", ticket.organizationID, ticket: ticket.id, cause: "\(ticket.id)",
                    at: ticket.createdAt, ["ticket": TicketData(ticket)])
            ]
        case .ticketMessageCreated(let message, _):
            guard Visibility.reachesCustomer(message), message.role == .agent || message.role == .ai else { return [] }
            return [
                Self.make(
                    "ticket.replied", message.organizationID, ticket: message.ticketID, cause: "\(message.id)",
                    at: message.createdAt,
                    TicketRepliedData(ticketId: message.ticketID.description, message: .init(message)))
            ]
        case .ticketUpdated(let ticket, let before):
            guard let before else { return [] }
            var events: [WebhookEvent] = []
            let changes = TicketData.changes(from: before, to: ticket)
            if !changes.isEmpty {
                events.append(
                    Self.make(
                        "ticket.updated", ticket.organizationID, ticket: ticket.id,
                        cause:
                            "\(ticket.id):\(ticket.updatedAt.millisecondsSince1970):\(changes.joined(separator: ","))",
                        at: ticket.updatedAt,
                        TicketUpdatedData(ticket: .init(ticket), changes: changes, previous: .init(before))))
            }
            if before.satisfaction == nil, let rating = ticket.satisfaction {
                events.append(
                    Self.make(
                        "ticket.rated", ticket.organizationID, ticket: ticket.id, cause: "\(ticket.id)",
                        at: rating.ratedAt,
                        TicketRatedData(
                            ticket: .init(ticket), rating: .init(stars: rating.stars, comment: rating.comment))))
            }
            return events
        case .feedbackCreated(let feedback):
            return [
                Self.make(
                    "feedback.created", feedback.organizationID,
                    key: feedback.sessionID.map { "conversation:\($0)" } ?? "feedback:\(feedback.messageID)",
                    cause: "\(feedback.messageID):\(feedback.createdAt.millisecondsSince1970)", at: feedback.createdAt,
                    FeedbackData(
                        conversationId: feedback.sessionID?.description, messageId: feedback.messageID.description,
                        rating: feedback.helpful ? "up" : "down", comment: feedback.comment))
            ]
        case .notified, .live:
            return []
        }
    }

    /// The test event an admin sends from the dashboard.
    public static func test(organizationID: Organization.ID, endpoint: WebhookEndpoint.ID, now: Date) -> WebhookEvent {
        Self.make(
            Self.testType, organizationID, key: "test:\(endpoint)", cause: "\(UUID())", at: now,
            ["message": "A test event from Parley."])
    }

    private static func make(
        _ type: String, _ organization: Organization.ID, conversation: ChatSession.ID, cause: String, at: Date,
        _ data: some Encodable
    ) -> WebhookEvent {
        Self.make(type, organization, key: "conversation:\(conversation)", cause: cause, at: at, data)
    }

    private static func make(
        _ type: String, _ organization: Organization.ID, ticket: Ticket.ID, cause: String, at: Date,
        _ data: some Encodable
    ) -> WebhookEvent {
        Self.make(type, organization, key: "ticket:\(ticket)", cause: cause, at: at, data)
    }

    private static func make(
        _ type: String, _ organization: Organization.ID, key: String, cause: String, at: Date, _ data: some Encodable
    ) -> WebhookEvent {
        WebhookEvent(
            type: type, orderKey: key, cause: cause, data: Self.json(data), organizationID: organization,
            occurredAt: at)
    }

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(date.ISO8601Format(.init(includingFractionalSeconds: true)))
        }
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    static func json(_ value: some Encodable) -> String {
        (try? String(decoding: Self.encoder.encode(value), as: UTF8.self)) ?? "{}"
    }

    /// The body POSTed: `{"id","type","timestamp","organizationId","data"}`.
    public static func payload(id: String, type: String, timestamp: Date, organizationID: Organization.ID, data: String)
        -> String
    {
        let head = Self.json(
            Head(id: id, type: type, timestamp: timestamp, organizationId: organizationID.description))
        // `data` is JSON already: splice it in as the last member.
        return String(head.dropLast()) + #","data":"# + data + "}"
    }

    struct Head: Encodable {
        var id: String
        var type: String
        var timestamp: Date
        var organizationId: String
    }
}

extension Date {
    /// Milliseconds since 1970, for keys.
    var millisecondsSince1970: Int64 { Int64((self.timeIntervalSince1970 * 1000).rounded()) }
}

// MARK: - Payloads

struct ConversationData: Encodable {
    var id: String
    var siteId: String
    var visitorId: String
    var status: String
    var assigneeId: String?
    var lastSeq: Int64
    var createdAt: Date
    var updatedAt: Date
    var closedAt: Date?

    init(_ session: ChatSession) {
        self.id = session.id.description
        self.siteId = session.siteID.description
        self.visitorId = session.visitorID.description
        self.status = session.status.rawValue
        self.assigneeId = session.assignedAgentID?.description
        self.lastSeq = session.lastSeq
        self.createdAt = session.createdAt
        self.updatedAt = session.updatedAt
        self.closedAt = session.closedAt
    }
}

struct MessageData: Encodable {
    var id: String
    var seq: Int64
    var role: String
    var authorAgentId: String?
    var body: String
    var createdAt: Date

    init(_ message: ChatMessage) {
        self.id = message.id.description
        self.seq = message.seq
        self.role = message.role.rawValue
        self.authorAgentId = message.authorAgentID?.description
        self.body = message.body
        self.createdAt = message.createdAt
    }

    init(_ message: TicketMessage) {
        self.id = message.id.description
        self.seq = message.seq
        self.role = message.role.rawValue
        self.authorAgentId = message.authorAgentID?.description
        self.body = message.body
        self.createdAt = message.createdAt
    }
}

struct MessageCreatedData: Encodable {
    var conversationId: String
    var message: MessageData
}

struct TicketData: Encodable {
    var id: String
    var subject: String
    var status: String
    var priority: String
    var source: String
    var requesterEmail: String
    var requesterName: String?
    var assigneeId: String?
    var tags: [String]
    var category: String?
    var conversationId: String?
    var createdAt: Date
    var updatedAt: Date

    init(_ ticket: Ticket) {
        self.id = ticket.id.description
        self.subject = ticket.subject
        self.status = ticket.status.rawValue
        self.priority = ticket.priority.rawValue
        self.source = ticket.source.rawValue
        self.requesterEmail = ticket.requesterEmail
        self.requesterName = ticket.requesterName
        self.assigneeId = ticket.assigneeID?.description
        self.tags = ticket.tags
        self.category = ticket.category
        self.conversationId = ticket.chatSessionID?.description
        self.createdAt = ticket.createdAt
        self.updatedAt = ticket.updatedAt
    }

    /// What `ticket.updated` reports: status, priority, assignee, tags and category.
    static func changes(from before: Ticket, to after: Ticket) -> [String] {
        var changes: [String] = []
        if before.status != after.status { changes.append("status") }
        if before.priority != after.priority { changes.append("priority") }
        if before.assigneeID != after.assigneeID { changes.append("assignee") }
        if before.tags != after.tags { changes.append("tags") }
        if before.category != after.category { changes.append("category") }
        return changes
    }
}

struct TicketUpdatedData: Encodable {
    var ticket: TicketData
    var changes: [String]
    var previous: TicketData
}

struct TicketRepliedData: Encodable {
    var ticketId: String
    var message: MessageData
}

struct TicketRatedData: Encodable {
    struct Rating: Encodable {
        var stars: Int
        var comment: String?
    }
    var ticket: TicketData
    var rating: Rating
}

struct FeedbackData: Encodable {
    var conversationId: String?
    var messageId: String
    var rating: String
    var comment: String?
}
