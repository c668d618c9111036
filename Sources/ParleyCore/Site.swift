public import Foundation

/// A website that embeds the widget. Visitors reach it by its public key; its secret signs
/// identified users (`userHash`).
public struct Site: Sendable, Hashable, Codable {
    public typealias ID = TypedID<Site>

    public var id: ID
    public var organizationID: Organization.ID
    public var name: String
    /// The public key in the embed snippet (`data-site`).
    public var publicKey: String
    /// The HMAC secret that signs identified users; shown to admins only.
    public var identitySecret: String
    /// When on, a visitor identity that is not signed is refused.
    public var strictIdentity: Bool
    /// Origins (`https://example.com`) that may embed the widget; empty allows any.
    public var allowedOrigins: [String]
    public var widget: WidgetSettings
    public var isActive: Bool
    public var createdAt: Date
    public var updatedAt: Date

    public init(
        id: ID, organizationID: Organization.ID, name: String, publicKey: String, identitySecret: String,
        strictIdentity: Bool, allowedOrigins: [String], widget: WidgetSettings, isActive: Bool,
        createdAt: Date, updatedAt: Date
    ) {
        self.id = id
        self.organizationID = organizationID
        self.name = name
        self.publicKey = publicKey
        self.identitySecret = identitySecret
        self.strictIdentity = strictIdentity
        self.allowedOrigins = allowedOrigins
        self.widget = widget
        self.isActive = isActive
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    /// Whether a request from `origin` may use this site's widget.
    public func allows(origin: String?) -> Bool {
        guard !self.allowedOrigins.isEmpty else { return true }
        guard let origin, let normalized = try? Validate.origin(origin, field: "origin") else { return false }
        return self.allowedOrigins.contains(normalized)
    }
}

/// How the widget looks and greets visitors on a site.
public struct WidgetSettings: Sendable, Hashable, Codable {
    /// Shown in the panel's header.
    public var title: String
    /// The accent colour, `#RRGGBB`.
    public var color: String
    /// The first message a visitor sees.
    public var welcomeMessage: String
    /// Text beside the launcher button; empty for an icon only.
    public var launcherText: String
    /// Which corner the launcher sits in.
    public var position: WidgetPosition
    /// Replies to visitors come from this address when set (else the organization's).
    public var supportEmail: String?
    /// When off, the widget shows nothing.
    public var enabled: Bool

    public static let `default` = WidgetSettings(
        title: "Support", color: "#2563eb", welcomeMessage: "Hi! How can we help?", launcherText: "",
        position: .right, supportEmail: nil, enabled: true
    )

    public init(
        title: String, color: String, welcomeMessage: String, launcherText: String, position: WidgetPosition,
        supportEmail: String?, enabled: Bool
    ) {
        self.title = title
        self.color = color
        self.welcomeMessage = welcomeMessage
        self.launcherText = launcherText
        self.position = position
        self.supportEmail = supportEmail
        self.enabled = enabled
    }

    /// Checks every field, naming the first bad one.
    public func validated() throws(ValidationError) -> WidgetSettings {
        var copy = self
        copy.title = try Validate.text(self.title, field: "widget.title", max: 80)
        copy.color = try Validate.color(self.color, field: "widget.color")
        copy.welcomeMessage = try Validate.text(
            self.welcomeMessage, field: "widget.welcomeMessage", max: 1000, allowEmpty: true)
        copy.launcherText = try Validate.text(
            self.launcherText, field: "widget.launcherText", max: 40, allowEmpty: true)
        if let email = self.supportEmail, !email.isEmpty {
            copy.supportEmail = try Validate.email(email, field: "widget.supportEmail")
        } else {
            copy.supportEmail = nil
        }
        return copy
    }
}

/// The corner of the page the widget launcher sits in.
public enum WidgetPosition: String, Sendable, Hashable, Codable {
    /// Bottom left.
    case left
    /// Bottom right.
    case right
}
