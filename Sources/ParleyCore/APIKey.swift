public import Foundation

/// A key for integrations, sent as `Authorization: Bearer`. Only its hash is stored; the secret
/// is shown once, at creation.
public struct APIKey: Sendable, Hashable, Codable {
    public typealias ID = TypedID<APIKey>

    public var id: ID
    public var organizationID: Organization.ID
    public var name: String
    /// The first characters of the secret, to recognise a key in a list.
    public var prefix: String
    /// What the key may do; never more than the role of the agent who created it, never owner.
    public var role: AgentRole
    public var createdBy: Agent.ID?
    public var createdAt: Date
    public var lastUsedAt: Date?
    public var revokedAt: Date?

    public init(
        id: ID, organizationID: Organization.ID, name: String, prefix: String, role: AgentRole,
        createdBy: Agent.ID?, createdAt: Date, lastUsedAt: Date?, revokedAt: Date?
    ) {
        self.id = id
        self.organizationID = organizationID
        self.name = name
        self.prefix = prefix
        self.role = role
        self.createdBy = createdBy
        self.createdAt = createdAt
        self.lastUsedAt = lastUsedAt
        self.revokedAt = revokedAt
    }
}
