public import Crypto
public import Foundation
public import ParleyCore
public import SQLKit

/// Signs and reads the links emails carry (`MailLink`): the link's JSON in base64url, a dot, and
/// an HMAC-SHA256 of it under a key derived from the master key. A link that was changed, or
/// made with another key, reads as nothing.
public struct MailLinks: Sendable {
    let key: SymmetricKey

    public init(secrets: SecretBox) {
        self.key = HKDF<SHA256>.deriveKey(
            inputKeyMaterial: secrets.key, info: Data("parley mail links".utf8), outputByteCount: 32)
    }

    public func sign(_ link: MailLink) -> String {
        let body = Self.base64URL((try? JSONEncoder().encode(link)) ?? Data())
        let mac = HMAC<SHA256>.authenticationCode(for: Data(body.utf8), using: self.key)
        return body + "." + Self.base64URL(Data(mac))
    }

    /// The link a token stands for, when its signature holds (expiry is the caller's to check).
    public func read(_ token: String) -> MailLink? {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, let mac = Self.data(base64URL: String(parts[1])),
            HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: Data(parts[0].utf8), using: self.key),
            let json = Self.data(base64URL: String(parts[0]))
        else { return nil }
        return try? JSONDecoder().decode(MailLink.self, from: json)
    }

    static func base64URL(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func data(base64URL text: String) -> Data? {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        return Data(base64Encoded: base64)
    }
}

/// Addresses that unsubscribed from an organization's emails to customers.
public struct MailSuppressions: Sendable {
    let engine: any DatabaseEngine
    let now: @Sendable () -> Date

    public func suppress(_ email: String, in organizationID: Organization.ID) async throws {
        let now = self.now()
        try await self.engine.transaction { db in
            try await db.raw(
                """
                INSERT INTO email_suppressions (organization_id, email, created_at)
                VALUES (\(bind: organizationID.description), \(bind: email.lowercased()), \(bind: now.millis))
                ON CONFLICT (organization_id, email) DO NOTHING
                """
            ).run()
        }
    }

    public func isSuppressed(_ email: String, in organizationID: Organization.ID) async throws -> Bool {
        try await self.engine.read { db in
            try await db.raw(
                """
                SELECT 1 AS one FROM email_suppressions WHERE organization_id = \(bind: organizationID.description)
                    AND email = \(bind: email.lowercased())
                """
            ).first() != nil
        }
    }
}

/// Emails' listener on the road: each change that someone should hear of by email writes its
/// outbox row in the change's transaction (`MailJob`), once per cause (the deduplication key):
/// to the requester, a new ticket, an answer, a resolution; to a visitor who left, the
/// conversation's unread answers; to the team, a new ticket and the notifications agents want by
/// email. Internal notes never are. An answer in a conversation waits `chatDelay` first, and
/// the mailer skips it if the visitor read it in the widget by then.
public struct MailRecorder: CommitRecorder {
    let chatDelay: TimeInterval

    public init(chatDelay: TimeInterval = 300) { self.chatDelay = chatDelay }

    public func record(_ events: [DomainEvent], now: Date, db: any SQLDatabase) async throws -> [DomainEvent] {
        var items: [Outbox.NewItem] = []
        func add(
            _ job: MailJob, of organization: Organization.ID, order: String, dedupe: String, notBefore: Date? = nil
        )
            throws
        {
            items.append(
                Outbox.NewItem(
                    organizationID: organization, kind: .email, targetID: nil,
                    eventType: (job.kind ?? .ticketReply).rawValue, orderKey: order,
                    dedupeKey: "email:\(dedupe)", payload: try JSONColumn.encode(job), notBefore: notBefore))
        }
        var sessions: [ChatSession.ID: ChatSession] = [:]
        for case .sessionUpdated(let session, _) in events { sessions[session.id] = session }
        var unread: [ChatMessage] = []
        for event in events {
            switch event {
            case .ticketCreated(let ticket):
                let org = ticket.organizationID.description
                let order = "email|ticket:\(ticket.id)"
                if !ticket.requesterEmail.isEmpty {
                    try add(
                        MailJob(kind: .ticketReceived, organization: org, ticket: ticket.id.description),
                        of: ticket.organizationID, order: order,
                        dedupe: "ticket-received:\(ticket.id)")
                }
                try add(
                    MailJob(kind: .teamTicket, organization: org, ticket: ticket.id.description),
                    of: ticket.organizationID,
                    order: "email|team-ticket:\(ticket.id)", dedupe: "team-ticket:\(ticket.id)")
            case .ticketUpdated(let ticket, let before?):
                let org = ticket.organizationID.description
                let order = "email|ticket:\(ticket.id)"
                // An anonymous visitor's ticket that just got an address hears it was received.
                if before.requesterEmail.isEmpty, !ticket.requesterEmail.isEmpty {
                    try add(
                        MailJob(kind: .ticketReceived, organization: org, ticket: ticket.id.description),
                        of: ticket.organizationID, order: order,
                        dedupe: "ticket-received:\(ticket.id)")
                }
                if ticket.status == .resolved, before.status != .resolved, before.status != .closed,
                    let resolved = ticket.resolvedAt
                {
                    try add(
                        MailJob(kind: .ticketResolved, organization: org, ticket: ticket.id.description),
                        of: ticket.organizationID, order: order,
                        dedupe: "ticket-resolved:\(ticket.id):\(resolved.millis)")
                }
            case .ticketMessageCreated(let message, _)
            where Visibility.reachesCustomer(message) && (message.role == .agent || message.role == .ai):
                try add(
                    MailJob(
                        kind: .ticketReply, organization: message.organizationID.description,
                        ticket: message.ticketID.description, seq: message.seq),
                    of: message.organizationID, order: "email|ticket:\(message.ticketID)",
                    dedupe: "ticket-reply:\(message.id)",
                    notBefore: message.chatSeq == nil ? nil : now.addingTimeInterval(self.chatDelay))
            case .messageCreated(let message)
            where Visibility.reachesCustomer(message) && (message.role == .agent || message.role == .ai):
                // A conversation that is a ticket emails through the ticket (above).
                if sessions[message.sessionID]?.ticketID == nil { unread.append(message) }
            case .notified(let notice)
            where [.assignment, .slaWarning, .slaBreach].contains(notice.kind):
                try add(
                    MailJob(kind: .teamNotice, organization: notice.organizationID.description, notice: notice),
                    of: notice.organizationID, order: "email|agent:\(notice.agentID)",
                    dedupe: "team-notice:\(notice.id)")
            default:
                continue
            }
        }
        if !unread.isEmpty {
            // Only visitors who gave an address: one read for the commit's conversations.
            let ids = Set(unread.map(\.sessionID.description)).sorted()
            var query: SQLQueryString = """
                SELECT s.id FROM chat_sessions s JOIN visitors v ON v.id = s.visitor_id
                WHERE v.email IS NOT NULL AND v.email <> '' AND s.id IN (
                """
            for (index, id) in ids.enumerated() { query = query + (index == 0 ? "" : ", ") + "\(bind: id)" }
            let reachable = Set(try await db.raw(query + ")").all().map { try $0.string("id") })
            for message in unread where reachable.contains(message.sessionID.description) {
                try add(
                    MailJob(
                        kind: .chatUnread, organization: message.organizationID.description,
                        seq: message.seq, session: message.sessionID.description),
                    of: message.organizationID, order: "email|chat:\(message.sessionID)",
                    dedupe: "chat-unread:\(message.sessionID):\(message.seq)",
                    notBefore: now.addingTimeInterval(self.chatDelay))
            }
        }
        try await Outbox.insert(items, now: now, db: db)
        return []
    }
}

/// What the mailer reads to address and render emails.
public struct MailDirectory: Sendable {
    let engine: any DatabaseEngine

    /// The organization's sender name and reply address (defaults when never set).
    public func settings(in organizationID: Organization.ID) async throws -> MailSettings {
        try await self.engine.read { db in
            try await db.raw(
                "SELECT from_name, reply_to FROM organization_mail WHERE organization_id = \(bind: organizationID.description)"
            ).first().map {
                MailSettings(fromName: try $0.optionalString("from_name"), replyTo: try $0.optionalString("reply_to"))
            } ?? MailSettings()
        }
    }

    public func setSettings(_ settings: MailSettings, in organizationID: Organization.ID, now: Date) async throws
        -> MailSettings
    {
        let settings = try settings.validated()
        try await self.engine.transaction { db in
            try await db.raw(
                """
                INSERT INTO organization_mail (organization_id, from_name, reply_to, updated_at)
                VALUES (\(bind: organizationID.description), \(bind: settings.fromName), \(bind: settings.replyTo),
                    \(bind: now.millis))
                ON CONFLICT (organization_id) DO UPDATE SET from_name = excluded.from_name,
                    reply_to = excluded.reply_to, updated_at = excluded.updated_at
                """
            ).run()
        }
        return settings
    }

    /// Where the team hears of a new ticket: the support email of the ticket's conversation's
    /// site, else of any of the organization's sites, else the owner's address; nil: nobody.
    public func teamAddress(for ticket: Ticket) async throws -> (email: String, why: String)? {
        try await self.engine.read { db in
            var siteQuery: SQLQueryString =
                "SELECT widget FROM sites WHERE organization_id = \(bind: ticket.organizationID.description)"
            if let session = ticket.chatSessionID {
                siteQuery =
                    siteQuery + " ORDER BY CASE WHEN id = (SELECT site_id FROM chat_sessions WHERE id = "
                    + "\(bind: session.description)) THEN 0 ELSE 1 END, created_at"
            } else {
                siteQuery = siteQuery + " ORDER BY created_at"
            }
            for row in try await db.raw(siteQuery).all() {
                let widget = try? JSONColumn.decode(WidgetSettings.self, from: try row.string("widget"))
                if let email = widget?.supportEmail, !email.isEmpty { return (email, "the site's support email") }
            }
            let owner = try await db.raw(
                """
                SELECT email FROM agents WHERE organization_id = \(bind: ticket.organizationID.description)
                    AND role = 'owner' AND is_active = \(bind: true) ORDER BY created_at LIMIT 1
                """
            ).first()
            return try owner.map { (try $0.string("email"), "the organization's owner") }
        }
    }

    /// How far a conversation's answers were emailed to its visitor.
    public func emailedSeq(of session: ChatSession.ID) async throws -> Int64 {
        try await self.engine.read { db in
            try await db.raw("SELECT emailed_seq FROM chat_sessions WHERE id = \(bind: session.description)").first()
                .map { try $0.int64("emailed_seq") } ?? 0
        }
    }

    public func setEmailedSeq(_ seq: Int64, of session: ChatSession.ID) async throws {
        try await self.engine.transaction { db in
            try await db.raw(
                """
                UPDATE chat_sessions SET emailed_seq = \(bind: seq)
                WHERE id = \(bind: session.description) AND emailed_seq < \(bind: seq)
                """
            ).run()
        }
    }

    /// The conversation a reply's reference names (`[#c-1a2b3c4d]`), when `email` is its visitor's.
    public func conversation(reference: String, email: String, in organizationID: Organization.ID) async throws
        -> ChatSession?
    {
        try await self.engine.read { db in
            let row = try await db.raw(
                """
                SELECT s.* FROM chat_sessions s JOIN visitors v ON v.id = s.visitor_id
                WHERE s.organization_id = \(bind: organizationID.description) AND s.id LIKE \(bind: reference + "%")
                    AND LOWER(v.email) = \(bind: email.lowercased())
                ORDER BY s.created_at DESC LIMIT 1
                """
            ).first()
            return try row.map(ChatStore.decodeSession)
        }
    }
}
