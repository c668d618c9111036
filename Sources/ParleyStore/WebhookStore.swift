public import Foundation
public import ParleyCore
import Crypto
public import SQLKit

/// An organization's webhook endpoints. Signing secrets are stored sealed (`SecretBox`) and shown
/// once, when made or rolled.
public struct WebhookStore: Sendable {
    let engine: any DatabaseEngine
    let box: SecretBox
    let now: @Sendable () -> Date

    /// What an admin sets.
    public struct Draft: Sendable {
        public var url: String?
        public var description: String??
        public var events: [String]?
        public var active: Bool?

        public init(url: String? = nil, description: String?? = nil, events: [String]? = nil, active: Bool? = nil) {
            self.url = url
            self.description = description
            self.events = events
            self.active = active
        }
    }

    /// The most endpoints an organization may have.
    public static let maximumEndpoints = 20

    /// `whsec_` and the base64 of 24 random bytes.
    public static func newSecret() -> String {
        "whsec_" + Data(SymmetricKey(size: .bits192).withUnsafeBytes { Array($0) }).base64EncodedString()
    }

    public func create(_ draft: Draft, in organizationID: Organization.ID) async throws -> (WebhookEndpoint, String) {
        guard let url = draft.url else { throw ValidationError(field: "url", message: "url is required.") }
        let now = self.now()
        let endpoint = WebhookEndpoint(
            id: .init(), organizationID: organizationID, url: try Self.validURL(url),
            description: try Self.validDescription(draft.description ?? nil),
            events: try Self.validEvents(draft.events ?? []), active: draft.active ?? true, createdAt: now,
            updatedAt: now)
        let secret = Self.newSecret()
        let sealed = try self.box.seal(secret)
        try await self.engine.transaction { db in
            let count =
                try await db.raw(
                    "SELECT COUNT(*) AS n FROM webhook_endpoints WHERE organization_id = \(bind: organizationID.description)"
                ).first()?.int64("n") ?? 0
            guard count < Self.maximumEndpoints else {
                throw ValidationError(
                    field: "url", message: "An organization has at most \(Self.maximumEndpoints) endpoints.")
            }
            try await db.raw(
                """
                INSERT INTO webhook_endpoints (id, organization_id, url, description, events, active, secret_sealed,
                    created_at, updated_at)
                VALUES (\(bind: endpoint.id.description), \(bind: organizationID.description), \(bind: endpoint.url),
                    \(bind: endpoint.description), \(bind: try JSONColumn.encode(endpoint.events)), \(bind: endpoint.active),
                    \(bind: sealed), \(bind: now.millis), \(bind: now.millis))
                """
            ).run()
        }
        return (endpoint, secret)
    }

    public func list(in organizationID: Organization.ID) async throws -> [WebhookEndpoint] {
        let rows = try await self.engine.read { db in
            try await db.raw(
                """
                SELECT * FROM webhook_endpoints WHERE organization_id = \(bind: organizationID.description)
                ORDER BY created_at, id
                """
            ).all()
        }
        return try rows.map(Self.decode)
    }

    public func find(_ id: WebhookEndpoint.ID, in organizationID: Organization.ID) async throws -> WebhookEndpoint {
        try await self.engine.read { db in try await Self.find(id, in: organizationID, db: db) }
    }

    static func find(_ id: WebhookEndpoint.ID, in organizationID: Organization.ID, db: any SQLDatabase) async throws
        -> WebhookEndpoint
    {
        let row = try await db.raw(
            """
            SELECT * FROM webhook_endpoints WHERE id = \(bind: id.description)
                AND organization_id = \(bind: organizationID.description)
            """
        ).first()
        guard let row else { throw DomainError.notFound(entity: "webhook endpoint") }
        return try Self.decode(row)
    }

    public func update(_ id: WebhookEndpoint.ID, with draft: Draft, in organizationID: Organization.ID) async throws
        -> WebhookEndpoint
    {
        let url = try draft.url.map(Self.validURL)
        let description = try draft.description.map(Self.validDescription)
        let events = try draft.events.map(Self.validEvents)
        let now = self.now()
        return try await self.engine.transaction { db in
            var endpoint = try await Self.find(id, in: organizationID, db: db)
            if let url { endpoint.url = url }
            if let description { endpoint.description = description }
            if let events { endpoint.events = events }
            if let active = draft.active { endpoint.active = active }
            endpoint.updatedAt = now
            try await db.raw(
                """
                UPDATE webhook_endpoints SET url = \(bind: endpoint.url), description = \(bind: endpoint.description),
                    events = \(bind: try JSONColumn.encode(endpoint.events)), active = \(bind: endpoint.active),
                    updated_at = \(bind: now.millis)
                WHERE id = \(bind: id.description) AND organization_id = \(bind: organizationID.description)
                """
            ).run()
            return endpoint
        }
    }

    /// Removes the endpoint and its deliveries (pending ones are never sent).
    public func delete(_ id: WebhookEndpoint.ID, in organizationID: Organization.ID) async throws {
        try await self.engine.transaction { db in
            _ = try await Self.find(id, in: organizationID, db: db)
            try await db.raw(
                """
                DELETE FROM outbox WHERE target_id = \(bind: id.description)
                    AND organization_id = \(bind: organizationID.description)
                """
            ).run()
            try await db.raw(
                """
                DELETE FROM webhook_endpoints WHERE id = \(bind: id.description)
                    AND organization_id = \(bind: organizationID.description)
                """
            ).run()
        }
    }

    /// A new signing secret; the old one stops signing at once.
    public func rollSecret(_ id: WebhookEndpoint.ID, in organizationID: Organization.ID) async throws
        -> (WebhookEndpoint, String)
    {
        let secret = Self.newSecret()
        let sealed = try self.box.seal(secret)
        let now = self.now()
        let endpoint = try await self.engine.transaction { db in
            var endpoint = try await Self.find(id, in: organizationID, db: db)
            endpoint.updatedAt = now
            try await db.raw(
                """
                UPDATE webhook_endpoints SET secret_sealed = \(bind: sealed), updated_at = \(bind: now.millis)
                WHERE id = \(bind: id.description) AND organization_id = \(bind: organizationID.description)
                """
            ).run()
            return endpoint
        }
        return (endpoint, secret)
    }

    /// The endpoint and its secret, for a delivery (nil once deleted).
    public func forDelivery(_ id: String, in organizationID: Organization.ID) async throws -> (WebhookEndpoint, String)?
    {
        guard let id = WebhookEndpoint.ID(id) else { return nil }
        let row = try await self.engine.read { db in
            try await db.raw(
                """
                SELECT * FROM webhook_endpoints WHERE id = \(bind: id.description)
                    AND organization_id = \(bind: organizationID.description)
                """
            ).first()
        }
        guard let row else { return nil }
        return (try Self.decode(row), try self.box.open(try row.string("secret_sealed")))
    }

    /// Queues a test event for the endpoint (active or not) and returns its delivery.
    public func sendTest(_ id: WebhookEndpoint.ID, in organizationID: Organization.ID) async throws -> Outbox.NewItem {
        let now = self.now()
        return try await self.engine.transaction { db in
            let endpoint = try await Self.find(id, in: organizationID, db: db)
            let event = WebhookEvent.test(organizationID: organizationID, endpoint: endpoint.id, now: now)
            let item = WebhookRecorder.item(for: event, to: endpoint)
            try await Outbox.insert([item], now: now, db: db)
            return item
        }
    }

    /// The active endpoints of `organizations`, in the committing transaction.
    static func active(in organizations: Set<Organization.ID>, db: any SQLDatabase) async throws -> [WebhookEndpoint] {
        guard !organizations.isEmpty else { return [] }
        var query: SQLQueryString =
            "SELECT * FROM webhook_endpoints WHERE active = \(bind: true) AND organization_id IN ("
        for (index, organization) in organizations.sorted(by: { $0.description < $1.description }).enumerated() {
            query = query + (index == 0 ? "" : ", ") + "\(bind: organization.description)"
        }
        return try await db.raw(query + ")").all().map(Self.decode)
    }

    static func validURL(_ text: String) throws -> String {
        let url = text.trimmingCharacters(in: .whitespaces)
        guard url.count <= 2000, let parsed = URL(string: url), let scheme = parsed.scheme?.lowercased(),
            ["http", "https"].contains(scheme), let host = parsed.host, !host.isEmpty
        else {
            throw ValidationError(field: "url", message: "url must be an http or https URL.")
        }
        return url
    }

    static func validDescription(_ text: String?) throws -> String? {
        guard let text, !text.isEmpty else { return nil }
        return try Validate.text(text, field: "description", max: 200, allowEmpty: true)
    }

    static func validEvents(_ events: [String]) throws -> [String] {
        guard !events.isEmpty else {
            throw ValidationError(field: "events", message: "Choose at least one event type.")
        }
        for event in events where !WebhookEvent.types.contains(event) {
            throw ValidationError(
                field: "events",
                message: "Unknown event type '\(event)'; known: \(WebhookEvent.types.joined(separator: ", ")).")
        }
        return WebhookEvent.types.filter(events.contains)
    }

    static func decode(_ row: any SQLRow) throws -> WebhookEndpoint {
        guard let id = WebhookEndpoint.ID(try row.string("id")),
            let organization = Organization.ID(try row.string("organization_id"))
        else { throw CorruptRowError(description: "webhook_endpoints row") }
        return WebhookEndpoint(
            id: id, organizationID: organization, url: try row.string("url"),
            description: try row.optionalString("description"),
            events: try JSONColumn.decode([String].self, from: try row.string("events")),
            active: try row.bool("active"), createdAt: try row.date("created_at"), updatedAt: try row.date("updated_at")
        )
    }
}

/// The webhooks' listener on the road: for each committed event an endpoint wants, an outbox row
/// in the same transaction (one per endpoint and cause).
public struct WebhookRecorder: CommitRecorder {
    public init() {}

    public func record(_ events: [DomainEvent], now: Date, db: any SQLDatabase) async throws -> [DomainEvent] {
        let organizations = Set(events.lazy.filter(\.isCommitted).map(\.organizationID))
        // One indexed read per commit; the events are only turned into payloads when someone listens.
        let endpoints = try await WebhookStore.active(in: organizations, db: db)
        guard !endpoints.isEmpty else { return [] }
        var items: [Outbox.NewItem] = []
        for event in events where endpoints.contains(where: { $0.organizationID == event.organizationID }) {
            for webhook in WebhookEvent.events(for: event) {
                for endpoint in endpoints
                where endpoint.organizationID == webhook.organizationID && endpoint.wants(webhook.type) {
                    items.append(Self.item(for: webhook, to: endpoint))
                }
            }
        }
        try await Outbox.insert(items, now: now, db: db)
        return []
    }

    static func item(for event: WebhookEvent, to endpoint: WebhookEndpoint) -> Outbox.NewItem {
        let id = Outbox.newID()
        return Outbox.NewItem(
            id: id, organizationID: event.organizationID, kind: .webhook, targetID: endpoint.id.description,
            eventType: event.type, orderKey: "\(endpoint.id)|\(event.orderKey)",
            dedupeKey: "webhook:\(endpoint.id):\(event.type):\(event.cause)",
            payload: WebhookEvent.payload(
                id: id, type: event.type, timestamp: event.occurredAt, organizationID: event.organizationID,
                data: event.data))
    }
}

/// The Standard Webhooks signature: `v1,` and the base64 of HMAC-SHA256 over
/// `"{id}.{timestamp}.{body}"`, keyed with the secret's bytes (the base64 after `whsec_`).
public enum WebhookSignature {
    public static func sign(secret: String, id: String, timestamp: Int, body: String) -> String {
        let encoded = secret.hasPrefix("whsec_") ? String(secret.dropFirst(6)) : secret
        let key = SymmetricKey(data: Data(base64Encoded: encoded) ?? Data(encoded.utf8))
        let mac = HMAC<SHA256>.authenticationCode(for: Data("\(id).\(timestamp).\(body)".utf8), using: key)
        return "v1," + Data(mac).base64EncodedString()
    }
}
