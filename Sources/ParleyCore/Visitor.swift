public import Foundation

/// A person on a customer's website, anonymous or identified by the site.
public struct Visitor: Sendable, Hashable, Codable {
    public typealias ID = TypedID<Visitor>

    public var id: ID
    public var organizationID: Organization.ID
    public var siteID: Site.ID
    /// The widget's own random id for this browser.
    public var anonymousID: String
    /// The site's user id, when the site identified the visitor with a valid signature.
    public var externalID: String?
    public var name: String?
    public var email: String?
    /// Anything else the site told us (plan, company…), as text.
    public var traits: [String: String]
    /// The page the visitor was last seen on.
    public var currentPage: String?
    public var firstSeenAt: Date
    public var lastSeenAt: Date

    /// How recently a visitor was seen to count as there now (the widget pings while open).
    public static let presence: TimeInterval = 120

    public init(
        id: ID, organizationID: Organization.ID, siteID: Site.ID, anonymousID: String, externalID: String?,
        name: String?, email: String?, traits: [String: String], currentPage: String?, firstSeenAt: Date,
        lastSeenAt: Date
    ) {
        self.id = id
        self.organizationID = organizationID
        self.siteID = siteID
        self.anonymousID = anonymousID
        self.externalID = externalID
        self.name = name
        self.email = email
        self.traits = traits
        self.currentPage = currentPage
        self.firstSeenAt = firstSeenAt
        self.lastSeenAt = lastSeenAt
    }
}

/// What the widget says about who the visitor is. Trusted only when `userHash` checks out.
public struct VisitorIdentity: Sendable, Hashable, Codable {
    public var id: String
    public var email: String?
    public var name: String?
    /// HMAC-SHA256 of `id` under the site's identity secret, hex.
    public var userHash: String?

    public init(id: String, email: String? = nil, name: String? = nil, userHash: String? = nil) {
        self.id = id
        self.email = email
        self.name = name
        self.userHash = userHash
    }
}
