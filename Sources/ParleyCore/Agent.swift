public import Foundation

/// A member of an organization's team who signs in to the dashboard.
public struct Agent: Sendable, Hashable, Codable {
    public typealias ID = TypedID<Agent>

    public var id: ID
    public var organizationID: Organization.ID
    public var email: String
    public var name: String
    public var role: AgentRole
    public var isActive: Bool
    public var createdAt: Date
    public var updatedAt: Date

    public init(
        id: ID, organizationID: Organization.ID, email: String, name: String, role: AgentRole,
        isActive: Bool, createdAt: Date, updatedAt: Date
    ) {
        self.id = id
        self.organizationID = organizationID
        self.email = email
        self.name = name
        self.role = role
        self.isActive = isActive
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// What an agent (or an API key) may do in its organization.
public enum AgentRole: String, Sendable, Hashable, Codable, CaseIterable, Comparable {
    /// Everything, including managing other owners. An organization always keeps one active owner.
    case owner
    /// Manages the team (but not owners), sites, API keys and settings.
    case admin
    /// Answers conversations and tickets.
    case agent

    private var rank: Int {
        switch self {
        case .owner: 3
        case .admin: 2
        case .agent: 1
        }
    }

    public static func < (lhs: AgentRole, rhs: AgentRole) -> Bool { lhs.rank < rhs.rank }

    /// Whether this role grants `permission`.
    public func allows(_ permission: Permission) -> Bool {
        switch permission {
        case .readTeam, .answerConversations: true
        case .manageTeam, .manageSites, .manageAPIKeys, .manageSettings: self >= .admin
        case .manageOwners: self == .owner
        }
    }

    /// Whether a holder of this role may give `other` to someone (an admin can't make owners).
    public func mayGrant(_ other: AgentRole) -> Bool {
        other == .owner ? self == .owner : self >= .admin
    }
}

/// The permissions that routes and stores check. Roles map to them in `AgentRole.allows(_:)`.
public enum Permission: String, Sendable, Hashable, CaseIterable {
    /// See the team (to assign work).
    case readTeam
    /// Read and answer conversations and tickets.
    case answerConversations
    /// Create, update and deactivate agents and admins.
    case manageTeam
    /// Create, update and deactivate owners, or make someone an owner.
    case manageOwners
    /// Create and update sites and their widget settings.
    case manageSites
    /// Create and revoke API keys.
    case manageAPIKeys
    /// Change the organization's settings.
    case manageSettings
}

/// What an agent chose to be told about. Every kind of notification is on until turned off.
public struct AgentPreferences: Sendable, Hashable, Codable {
    /// By kind (`assignment`, `customer_reply`, `sla_warning`, `sla_breach`, `handoff`).
    public var notifications: [String: Bool]

    /// Which kinds also come by email, by kind; assignments and SLA alerts do until turned off.
    public var email: [String: Bool]?
    /// The dashboard plays a sound for a new conversation, a handoff and a customer's reply on
    /// the agent's conversations or tickets (off until turned on).
    public var sound: Bool?
    /// The same as desktop notifications (off until the agent turns them on and the browser
    /// grants permission).
    public var desktop: Bool?

    public init(
        notifications: [String: Bool] = [:], email: [String: Bool]? = nil, sound: Bool? = nil, desktop: Bool? = nil
    ) {
        self.notifications = notifications
        self.email = email
        self.sound = sound
        self.desktop = desktop
    }

    /// Every kind by email, with the agent's choice or the default.
    public var resolvedEmail: [String: Bool] {
        Dictionary(uniqueKeysWithValues: AgentNotification.Kind.allCases.map { ($0.rawValue, self.wantsEmail($0)) })
    }

    public func wants(_ kind: AgentNotification.Kind) -> Bool { self.notifications[kind.rawValue] ?? true }

    /// Whether the agent wants `kind` by email too.
    public func wantsEmail(_ kind: AgentNotification.Kind) -> Bool {
        self.email?[kind.rawValue] ?? [.assignment, .slaWarning, .slaBreach].contains(kind)
    }

    /// Every kind, with the agent's choice or the default.
    public var resolved: [String: Bool] {
        Dictionary(uniqueKeysWithValues: AgentNotification.Kind.allCases.map { ($0.rawValue, self.wants($0)) })
    }

    /// Only known kinds are kept (422 for another).
    public func validated() throws(ValidationError) -> Self {
        for key in Array(self.notifications.keys) + Array((self.email ?? [:]).keys)
        where AgentNotification.Kind(rawValue: key) == nil {
            throw ValidationError(
                field: "notifications.\(key)",
                message:
                    "Unknown notification kind '\(key)': use \(AgentNotification.Kind.allCases.map(\.rawValue).joined(separator: ", "))."
            )
        }
        return self
    }

    public static func decode(_ json: String?) -> Self {
        guard let json, let decoded = try? JSONDecoder().decode(Self.self, from: Data(json.utf8)) else { return Self() }
        return decoded
    }
}
