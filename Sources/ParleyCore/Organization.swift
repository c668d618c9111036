public import Foundation

/// A tenant: everything else belongs to exactly one organization.
public struct Organization: Sendable, Hashable, Codable {
    public typealias ID = TypedID<Organization>

    public var id: ID
    public var name: String
    public var createdAt: Date

    public init(id: ID, name: String, createdAt: Date) {
        self.id = id
        self.name = name
        self.createdAt = createdAt
    }
}
