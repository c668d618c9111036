public import Foundation

/// What an email in the outbox is about. The row is written with the change that causes it; the
/// mailer renders it from the data as it stands when it sends (and skips what no longer applies:
/// an answer read in the widget meanwhile, an address that unsubscribed).
public struct MailJob: Sendable, Hashable, Codable {
    public enum Kind: String, Sendable, Hashable, Codable {
        /// To the requester: we have your request, here is its reference.
        case ticketReceived = "ticket.received"
        /// To the requester: an agent's or the assistant's answer.
        case ticketReply = "ticket.reply"
        /// To the requester: resolved, with five rating links.
        case ticketResolved = "ticket.resolved"
        /// To a visitor who left: the conversation's answers they have not read.
        case chatUnread = "chat.unread"
        /// To the team: a new ticket (the site's support email, else the owner).
        case teamTicket = "team.ticket"
        /// To an agent: a notification they want by email (assignment, SLA).
        case teamNotice = "team.notification"
        /// To an invitee: a link to join and choose a password (48 hours, once).
        case accountInvitation = "account.invitation"
        /// To an agent who forgot their password: a link to choose a new one (one hour, once).
        case accountReset = "account.reset"
    }

    /// Nil in rows written before kinds existed: those are ticket replies.
    public var kind: Kind?
    public var organization: String
    public var ticket: String?
    public var seq: Int64?
    public var session: String?
    public var notice: AgentNotification?
    /// The agent an account email goes to.
    public var agent: String?
    /// An account link's token, sealed with the master key (the database never holds it plain).
    public var sealedToken: String?

    public init(
        kind: Kind, organization: String, ticket: String? = nil, seq: Int64? = nil, session: String? = nil,
        notice: AgentNotification? = nil
    ) {
        self.kind = kind
        self.organization = organization
        self.ticket = ticket
        self.seq = seq
        self.session = session
        self.notice = notice
    }

    /// Whether it goes to a customer (who may unsubscribe), not to the team.
    public var isToCustomer: Bool {
        switch self.kind ?? .ticketReply {
        case .ticketReceived, .ticketReply, .ticketResolved, .chatUnread: true
        case .teamTicket, .teamNotice, .accountInvitation, .accountReset: false
        }
    }
}

/// A link in an email that acts without signing in (a rating, an unsubscribe): what it does,
/// for whom, until when. Signed by the server (`MailLinks`); never stored.
public struct MailLink: Sendable, Hashable, Codable {
    public enum Action: String, Sendable, Hashable, Codable {
        case rate
        case unsubscribe
    }

    public var action: Action
    public var organization: String
    /// The ticket rated.
    public var ticket: String?
    /// 1 to 5 for a rating.
    public var stars: Int?
    /// The address that unsubscribes.
    public var email: String?
    /// Seconds since 1970.
    public var expires: Int64

    public init(
        action: Action, organization: String, ticket: String? = nil, stars: Int? = nil, email: String? = nil,
        expires: Date
    ) {
        self.action = action
        self.organization = organization
        self.ticket = ticket
        self.stars = stars
        self.email = email
        self.expires = Int64(expires.timeIntervalSince1970)
    }

    public func isExpired(at now: Date) -> Bool { Int64(now.timeIntervalSince1970) > self.expires }

    /// How long links in emails work.
    public static let ratingLifetime: TimeInterval = 30 * 24 * 3600
    public static let unsubscribeLifetime: TimeInterval = 365 * 24 * 3600
}

/// An organization's own sender name and reply address on emails to its customers.
public struct MailSettings: Sendable, Hashable, Codable {
    /// The sender's name (default: `PARLEY_MAIL_FROM_NAME`, else the organization's name).
    public var fromName: String?
    /// Where customers' replies go (`Reply-To`): the address whose mail reaches Parley's inbound
    /// route (default: the sender, `PARLEY_MAIL_FROM`).
    public var replyTo: String?

    public init(fromName: String? = nil, replyTo: String? = nil) {
        self.fromName = fromName
        self.replyTo = replyTo
    }

    /// Checks every field, naming the first bad one; empty strings mean "the default".
    public func validated() throws(ValidationError) -> MailSettings {
        var copy = MailSettings()
        if let name = self.fromName?.trimmingCharacters(in: .whitespaces), !name.isEmpty {
            copy.fromName = try Validate.text(name, field: "fromName", max: 80)
        }
        if let address = self.replyTo?.trimmingCharacters(in: .whitespaces), !address.isEmpty {
            copy.replyTo = try Validate.email(address, field: "replyTo")
        }
        return copy
    }
}
