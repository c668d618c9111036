public import Foundation
public import ParleyCore

/// A frame from a client: `subscribe`, `unsubscribe`, `send`, `typing`, `read`, `ping`.
public struct ClientFrame: Decodable, Sendable {
    public var type: String
    public var channel: String?
    public var after: Int64?
    public var clientId: String?
    public var body: String?
    public var on: Bool?
    public var seq: Int64?
}

/// Server frames, encoded once and shared by every receiver.
public enum ServerFrame {
    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = .withoutEscapingSlashes
        return encoder
    }()

    /// `{"type":"event","channel":…,"seq":…,"name":…,"data":…}`
    public static func event<Payload: Encodable>(channel: Channel, seq: Int64?, name: String, data: Payload) -> String {
        Self.event(channel: channel, seq: seq, name: name, json: Self.encode(data))
    }

    /// The same frame around data already encoded (encode a message once, frame it per channel).
    /// The channel and name are ids and fixed words: nothing in them needs escaping.
    public static func event(channel: Channel, seq: Int64?, name: String, json: String) -> String {
        #"{"type":"event","channel":"\#(channel)","seq":\#(seq.map(String.init) ?? "null"),"name":"\#(name)","data":\#(json)}"#
    }

    public static func subscribed(channel: String, recovered: Bool, session: SessionView?) -> String {
        struct Frame: Encodable {
            var type = "subscribed"
            var channel: String
            var recovered: Bool
            var session: SessionView?
        }
        return Self.encode(Frame(channel: channel, recovered: recovered, session: session))
    }

    public static func ack(clientId: String, message: MessageView, duplicate: Bool) -> String {
        // clientId is visible ASCII (validated) but may hold a quote or backslash: encode it.
        #"{"type":"ack","clientId":\#(Self.encode(clientId)),"duplicate":\#(duplicate),"message":\#(Self.encode(message))}"#
    }

    public static func error(code: String, message: String, clientId: String? = nil, channel: String? = nil) -> String {
        struct Frame: Encodable {
            var type = "error"
            var code: String
            var message: String
            var clientId: String?
            var channel: String?
        }
        return Self.encode(Frame(code: code, message: message, clientId: clientId, channel: channel))
    }

    public static let pong = #"{"type":"pong"}"#

    /// A `message.delta`'s data, written directly (it is sent for every token of every reply).
    static func deltaData(
        session: ChatSession.ID, streamID: String, replyTo: Int64, index: Int, text: String, done: Bool,
        outcome: String?
    ) -> String {
        var json = #"{"sessionId":""#
        json += session.description
        json += #"","streamId":"#
        Self.appendString(streamID, to: &json)
        json += #","replyTo":\#(replyTo),"index":\#(index),"delta":"#
        Self.appendString(text, to: &json)
        json += #","done":\#(done)"#
        if let outcome {
            json += #","outcome":"#
            Self.appendString(outcome, to: &json)
        }
        json += "}"
        return json
    }

    /// Appends `text` as a JSON string literal: quotes, backslashes and control characters escaped.
    static func appendString(_ text: String, to json: inout String) {
        json += "\""
        var plainStart = text.unicodeScalars.startIndex
        var index = plainStart
        let scalars = text.unicodeScalars
        while index < scalars.endIndex {
            let scalar = scalars[index]
            let escaped: String?
            switch scalar {
            case "\"": escaped = "\\\""
            case "\\": escaped = "\\\\"
            case "\n": escaped = "\\n"
            case "\r": escaped = "\\r"
            case "\t": escaped = "\\t"
            default:
                escaped = scalar.value < 0x20 ? String(format: "\\u%04x", scalar.value) : nil
            }
            if let escaped {
                json.unicodeScalars.append(contentsOf: scalars[plainStart..<index])
                json += escaped
                plainStart = scalars.index(after: index)
            }
            index = scalars.index(after: index)
        }
        json.unicodeScalars.append(contentsOf: scalars[plainStart..<scalars.endIndex])
        json += "\""
    }

    static func encode(_ value: some Encodable) -> String {
        (try? String(decoding: Self.encoder.encode(value), as: UTF8.self)) ?? #"{"type":"error","code":"internal"}"#
    }
}

/// A message as both sides see it on the wire.
public struct MessageView: Codable, Sendable, Hashable {
    public var id: String
    public var sessionId: String
    public var seq: Int64
    public var role: String
    public var authorAgentId: String?
    public var body: String
    public var clientId: String?
    public var createdAt: Date
    public var metadata: [String: String]
    /// Files the message carries; `url` is the visitor's address (agents use `/api/v1/admin/attachments/{id}`).
    public var attachments: [AttachmentView]?

    public struct AttachmentView: Codable, Sendable, Hashable {
        public var id: String
        public var name: String
        public var contentType: String
        public var size: Int
        public var url: String

        public init(_ reference: Attachment.Reference) {
            self.id = reference.id
            self.name = reference.name
            self.contentType = reference.contentType
            self.size = reference.size
            self.url = "/api/v1/chat/attachments/\(reference.id)"
        }
    }

    public init(_ message: ChatMessage) {
        self.id = message.id.description
        self.sessionId = message.sessionID.description
        self.seq = message.seq
        self.role = message.role.rawValue
        self.authorAgentId = message.authorAgentID?.description
        self.body = message.body
        self.clientId = message.clientID
        self.createdAt = message.createdAt
        self.metadata = message.metadata
        let references = Attachment.references(in: message.metadata)
        if !references.isEmpty {
            self.metadata[Attachment.metadataKey] = nil
            self.attachments = references.map(AttachmentView.init)
        }
    }
}

/// A conversation on the wire. Visitors get the public part only.
public struct SessionView: Codable, Sendable, Hashable {
    public var id: String
    public var status: String
    public var lastSeq: Int64
    public var visitorReadSeq: Int64
    public var agentReadSeq: Int64
    public var siteId: String?
    public var visitorId: String?
    public var assignedAgentId: String?
    public var lastMessagePreview: String?
    public var lastMessageRole: String?
    /// The agent who wrote the last message, when an agent did.
    public var lastAuthorId: String?
    public var lastMessageAt: Date?
    public var unread: Bool?
    public var createdAt: Date
    public var updatedAt: Date
    public var closedAt: Date?
    public var archivedAt: Date?
    /// The ticket it is one thread with, if any.
    public var ticketId: String?
    /// The visitor's rating, once given.
    public var satisfaction: Satisfaction?

    public init(_ session: ChatSession, forAgents: Bool) {
        self.id = session.id.description
        self.status = session.status.rawValue
        self.lastSeq = session.lastSeq
        self.visitorReadSeq = session.visitorReadSeq
        self.agentReadSeq = session.agentReadSeq
        self.createdAt = session.createdAt
        self.updatedAt = session.updatedAt
        self.closedAt = session.closedAt
        self.ticketId = session.ticketID?.description
        self.satisfaction = session.satisfaction
        if forAgents {
            self.siteId = session.siteID.description
            self.visitorId = session.visitorID.description
            self.assignedAgentId = session.assignedAgentID?.description
            self.lastMessagePreview = session.lastMessagePreview
            self.lastMessageRole = session.lastMessageRole?.rawValue
            self.lastAuthorId = session.lastMessageAuthorID?.description
            self.lastMessageAt = session.lastMessageAt
            self.unread = session.isUnreadForAgents
            self.archivedAt = session.archivedAt
        }
    }
}

/// A ticket's message on `support:<ticketId>` (internal notes reach agents only).
public struct TicketMessageView: Codable, Sendable, Hashable {
    public var id: String
    public var ticketId: String
    public var seq: Int64
    public var role: String
    public var authorAgentId: String?
    public var body: String
    public var `internal`: Bool
    public var createdAt: Date
    public var attachments: [MessageView.AttachmentView]?
    /// Its seq in the ticket's conversation, when the two are one thread.
    public var chatSeq: Int64?

    public init(_ message: TicketMessage) {
        self.id = message.id.description
        self.ticketId = message.ticketID.description
        self.seq = message.seq
        self.role = message.role.rawValue
        self.authorAgentId = message.authorAgentID?.description
        self.body = message.body
        self.internal = message.isInternal
        self.createdAt = message.createdAt
        if !message.attachments.isEmpty { self.attachments = message.attachments.map(MessageView.AttachmentView.init) }
        self.chatSeq = message.chatSeq
    }
}

/// A ticket's state on the wire (`ticket.updated`); customers get the public part only.
public struct TicketView: Codable, Sendable, Hashable {
    public var id: String
    public var subject: String
    public var status: String
    public var priority: String
    public var source: String
    public var lastSeq: Int64
    public var aiResolved: Bool
    public var updatedAt: Date
    public var assigneeId: String?
    public var tags: [String]?
    public var category: String?
    public var firstResponseDueAt: Date?
    public var resolutionDueAt: Date?
    /// The statuses an agent may set next.
    public var allowedStatuses: [String]?

    public init(_ ticket: Ticket, forAgents: Bool) {
        self.id = ticket.id.description
        self.subject = ticket.subject
        self.status = ticket.status.rawValue
        self.priority = ticket.priority.rawValue
        self.source = ticket.source.rawValue
        self.lastSeq = ticket.lastSeq
        self.aiResolved = ticket.aiResolved
        self.updatedAt = ticket.updatedAt
        if forAgents {
            self.assigneeId = ticket.assigneeID?.description
            self.tags = ticket.tags
            self.category = ticket.category
            self.firstResponseDueAt = ticket.firstResponseDueAt
            self.resolutionDueAt = ticket.resolutionDueAt
            self.allowedStatuses = TicketLifecycle.nextStatuses(from: ticket.status)
        }
    }
}
