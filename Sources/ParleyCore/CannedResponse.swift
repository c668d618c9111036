public import Foundation

/// A saved reply agents insert with a `/shortcut`, with placeholders filled in when used.
public struct CannedResponse: Sendable, Hashable, Codable {
    public typealias ID = TypedID<CannedResponse>

    public var id: ID
    public var organizationID: Organization.ID
    /// What the agent types after `/`: lowercase letters, digits, `-` and `_`.
    public var shortcut: String
    public var title: String
    public var body: String
    public var usageCount: Int
    public var createdAt: Date
    public var updatedAt: Date

    public init(
        id: ID, organizationID: Organization.ID, shortcut: String, title: String, body: String, usageCount: Int,
        createdAt: Date, updatedAt: Date
    ) {
        self.id = id
        self.organizationID = organizationID
        self.shortcut = shortcut
        self.title = title
        self.body = body
        self.usageCount = usageCount
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    /// The placeholders a body may hold.
    public static let placeholders = ["visitor.name", "visitor.email", "agent.name", "ticket.id"]

    /// `body` with `{{visitor.name}}`, `{{visitor.email}}`, `{{agent.name}}` and `{{ticket.id}}`
    /// replaced by `values` (an unknown value becomes empty; a visitor with no name is "there").
    /// Values are inserted as text: nothing in them is read as a placeholder again.
    public static func render(_ body: String, values: [String: String]) -> String {
        var result = ""
        var rest = Substring(body)
        while let open = rest.range(of: "{{") {
            result += rest[..<open.lowerBound]
            let after = rest[open.upperBound...]
            guard let close = after.range(of: "}}") else {
                result += rest[open.lowerBound...]
                return result
            }
            let name = after[..<close.lowerBound].trimmingCharacters(in: .whitespaces)
            if Self.placeholders.contains(name) {
                let value = values[name].flatMap { $0.isEmpty ? nil : $0 }
                result += value ?? (name == "visitor.name" ? "there" : "")
            } else {
                result += rest[open.lowerBound..<close.upperBound]  // not ours: left as written
            }
            rest = after[close.upperBound...]
        }
        result += rest
        return result
    }
}

extension Validate {
    /// A canned response's shortcut: 1 to 40 of a-z, 0-9, `-`, `_` (a leading `/` is dropped).
    public static func shortcut(_ value: String, field: String = "shortcut") throws(ValidationError) -> String {
        var text = value.trimmingCharacters(in: .whitespaces).lowercased()
        if text.hasPrefix("/") { text.removeFirst() }
        guard (1...40).contains(text.count),
            text.unicodeScalars.allSatisfy({
                ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" || $0 == "_"
            })
        else {
            throw ValidationError(field: field, message: "\(field) must be 1 to 40 of a-z, 0-9, - and _.")
        }
        return text
    }
}

/// One entry of the audit log: who did what to which thing, and when.
public struct AuditEntry: Sendable, Hashable, Codable {
    public var id: String
    public var organizationID: Organization.ID
    /// The agent, when an agent did it.
    public var actorAgentID: Agent.ID?
    /// `agent`, `api_key`, `customer`, `assistant` or `system`.
    public var actorKind: String
    /// `ticket.status`, `ticket.assign`, `ticket.reply`, `ticket.note`…
    public var action: String
    public var entity: String
    public var entityID: String
    /// What changed, as text (`open -> in_progress`).
    public var details: String?
    public var createdAt: Date

    public init(
        organizationID: Organization.ID, actorAgentID: Agent.ID?, actorKind: String, action: String, entity: String,
        entityID: String, details: String?, createdAt: Date
    ) {
        self.id = UUID().uuidString.lowercased()
        self.organizationID = organizationID
        self.actorAgentID = actorAgentID
        self.actorKind = actorKind
        self.action = action
        self.entity = entity
        self.entityID = entityID
        self.details = details
        self.createdAt = createdAt
    }
}

/// Something an agent should know about: listed in the dashboard's bell and pushed on `inbox:`.
public struct AgentNotification: Sendable, Hashable, Codable {
    public typealias ID = TypedID<AgentNotification>

    /// What happened.
    public enum Kind: String, Sendable, Hashable, Codable, CaseIterable {
        /// A ticket was assigned to the agent.
        case assignment
        /// The customer answered one of the agent's tickets.
        case customerReply = "customer_reply"
        /// A ticket of the agent's is in the last fifth of an SLA target.
        case slaWarning = "sla_warning"
        /// A ticket of the agent's missed an SLA target.
        case slaBreach = "sla_breach"
        /// A conversation was handed to the team.
        case handoff
    }

    public var id: ID
    public var organizationID: Organization.ID
    public var agentID: Agent.ID
    public var kind: Kind
    public var title: String
    public var ticketID: Ticket.ID?
    public var sessionID: ChatSession.ID?
    public var createdAt: Date
    public var readAt: Date?

    public init(
        id: ID = .init(), organizationID: Organization.ID, agentID: Agent.ID, kind: Kind, title: String,
        ticketID: Ticket.ID? = nil, sessionID: ChatSession.ID? = nil, createdAt: Date, readAt: Date? = nil
    ) {
        self.id = id
        self.organizationID = organizationID
        self.agentID = agentID
        self.kind = kind
        self.title = title
        self.ticketID = ticketID
        self.sessionID = sessionID
        self.createdAt = createdAt
        self.readAt = readAt
    }
}
