public import Hummingbird
public import Foundation
public import ParleyCore

/// One page of a list: `data` and the cursor of the next page (null on the last).
public struct PageResponse<Item: ResponseEncodable & Sendable>: ResponseEncodable, Sendable {
    public var data: [Item]
    public var nextCursor: String?

    init<Source>(_ page: Page<Source>, _ transform: (Source) -> Item) {
        self.data = page.items.map(transform)
        self.nextCursor = page.nextCursor?.token
    }
}

/// An agent as the API shows it (never the password hash).
public struct AgentResponse: ResponseEncodable, Sendable {
    public var id: String
    public var email: String
    public var name: String
    public var role: String
    public var isActive: Bool
    public var createdAt: Date
    public var updatedAt: Date

    init(_ agent: Agent) {
        self.id = agent.id.description
        self.email = agent.email
        self.name = agent.name
        self.role = agent.role.rawValue
        self.isActive = agent.isActive
        self.createdAt = agent.createdAt
        self.updatedAt = agent.updatedAt
    }
}

/// An organization as the API shows it.
public struct OrganizationResponse: ResponseEncodable, Sendable {
    public var id: String
    public var name: String

    init(_ organization: Organization) {
        self.id = organization.id.description
        self.name = organization.name
    }
}

/// A site as admins see it, with its embed snippet.
public struct SiteResponse: ResponseEncodable, Sendable {
    public var id: String
    public var name: String
    public var publicKey: String
    public var identitySecret: String
    public var strictIdentity: Bool
    public var allowedOrigins: [String]
    public var widget: WidgetSettings
    public var isActive: Bool
    public var embedSnippet: String
    public var createdAt: Date
    public var updatedAt: Date

    init(_ site: Site, baseURL: String) {
        self.id = site.id.description
        self.name = site.name
        self.publicKey = site.publicKey
        self.identitySecret = site.identitySecret
        self.strictIdentity = site.strictIdentity
        self.allowedOrigins = site.allowedOrigins
        self.widget = site.widget
        self.isActive = site.isActive
        self.embedSnippet = Self.snippet(siteKey: site.publicKey, baseURL: baseURL)
        self.createdAt = site.createdAt
        self.updatedAt = site.updatedAt
    }

    /// The one line a site owner pastes into their pages.
    public static func snippet(siteKey: String, baseURL: String) -> String {
        "<script src=\"\(baseURL)/widget.js\" data-site=\"\(siteKey)\" async></script>"
    }
}

/// An API key as listed (never its secret).
public struct APIKeyResponse: ResponseEncodable, Sendable {
    public var id: String
    public var name: String
    public var prefix: String
    public var role: String
    public var createdBy: String?
    public var createdAt: Date
    public var lastUsedAt: Date?
    public var revokedAt: Date?

    init(_ key: APIKey) {
        self.id = key.id.description
        self.name = key.name
        self.prefix = key.prefix
        self.role = key.role.rawValue
        self.createdBy = key.createdBy?.description
        self.createdAt = key.createdAt
        self.lastUsedAt = key.lastUsedAt
        self.revokedAt = key.revokedAt
    }
}

/// A new API key with its secret, shown this once.
public struct CreatedAPIKeyResponse: ResponseEncodable, Sendable {
    public var key: APIKeyResponse
    public var secret: String
}

/// The caller: the agent and organization, and the CSRF token a session must echo.
public struct MeResponse: ResponseEncodable, Sendable {
    public var agent: AgentResponse?
    public var apiKey: APIKeyResponse?
    public var organization: OrganizationResponse
    public var role: String
    public var permissions: [String]
    public var csrfToken: String?
    /// Whether a mail server is configured: without one, nothing reaches a customer by email.
    public var emailConfigured: Bool?
}

/// A short status document for probes.
public struct StatusResponse: ResponseEncodable, Sendable {
    public var status: String
}

import ParleyRealtime

extension SessionView: ResponseEncodable {}
extension MessageView: ResponseEncodable {}
