import Foundation
public import ParleyCore
import SQLKit

/// Sites (widgets) of an organization. Every query is scoped by organization.
public struct SiteStore: Sendable {
    let engine: any DatabaseEngine
    let now: @Sendable () -> Date

    /// What an admin gives to create a site.
    public struct NewSite: Sendable {
        public var name: String
        public var allowedOrigins: [String]
        public var widget: WidgetSettings
        public var strictIdentity: Bool

        public init(
            name: String, allowedOrigins: [String] = [], widget: WidgetSettings = .default, strictIdentity: Bool = false
        ) {
            self.name = name
            self.allowedOrigins = allowedOrigins
            self.widget = widget
            self.strictIdentity = strictIdentity
        }
    }

    /// The fields an update may change; nil leaves a field as it is.
    public struct Changes: Sendable {
        public var name: String?
        public var allowedOrigins: [String]?
        public var widget: WidgetSettings?
        public var strictIdentity: Bool?
        public var isActive: Bool?
        public var rotateIdentitySecret: Bool

        public init(
            name: String? = nil, allowedOrigins: [String]? = nil, widget: WidgetSettings? = nil,
            strictIdentity: Bool? = nil, isActive: Bool? = nil, rotateIdentitySecret: Bool = false
        ) {
            self.name = name
            self.allowedOrigins = allowedOrigins
            self.widget = widget
            self.strictIdentity = strictIdentity
            self.isActive = isActive
            self.rotateIdentitySecret = rotateIdentitySecret
        }
    }

    public func create(_ new: NewSite, in organizationID: Organization.ID) async throws -> Site {
        let site = try self.makeSite(new, in: organizationID)
        try await self.engine.transaction { db in try await Self.insert(site, into: db) }
        return site
    }

    func makeSite(_ new: NewSite, in organizationID: Organization.ID) throws -> Site {
        let now = self.now()
        return Site(
            id: .init(), organizationID: organizationID, name: try Validate.text(new.name, field: "name", max: 120),
            publicKey: Secrets.siteKey(), identitySecret: Secrets.identitySecret(), strictIdentity: new.strictIdentity,
            allowedOrigins: try Validate.origins(new.allowedOrigins), widget: try new.widget.validated(),
            isActive: true,
            createdAt: now, updatedAt: now
        )
    }

    static func insert(_ site: Site, into db: any SQLDatabase) async throws {
        try await db.raw(
            """
            INSERT INTO sites (id, organization_id, name, public_key, identity_secret, strict_identity, allowed_origins,
                widget, is_active, created_at, updated_at)
            VALUES (\(bind: site.id.description), \(bind: site.organizationID.description), \(bind: site.name),
                \(bind: site.publicKey), \(bind: site.identitySecret), \(bind: site.strictIdentity),
                \(bind: try JSONColumn.encode(site.allowedOrigins)), \(bind: try JSONColumn.encode(site.widget)),
                \(bind: site.isActive), \(bind: site.createdAt.millis), \(bind: site.updatedAt.millis))
            """
        ).run()
    }

    public func find(_ id: Site.ID, in organizationID: Organization.ID) async throws -> Site {
        try await self.engine.read { db in try await Self.find(id, in: organizationID, db: db) }
    }

    static func find(_ id: Site.ID, in organizationID: Organization.ID, db: any SQLDatabase) async throws -> Site {
        let row = try await db.raw(
            "SELECT * FROM sites WHERE id = \(bind: id.description) AND organization_id = \(bind: organizationID.description)"
        ).first()
        guard let row else { throw DomainError.notFound(entity: "site") }
        return try Self.decode(row)
    }

    /// The site a widget names by its public key, in whichever organization it is.
    public func find(publicKey: String) async throws -> Site {
        let row = try await self.engine.read { db in
            try await db.raw("SELECT * FROM sites WHERE public_key = \(bind: publicKey)").first()
        }
        guard let row else { throw DomainError.notFound(entity: "site") }
        return try Self.decode(row)
    }

    public func list(in organizationID: Organization.ID, page: PageRequest) async throws -> Page<Site> {
        let rows = try await self.engine.read { db in
            try await db.raw(
                """
                SELECT * FROM sites WHERE organization_id = \(bind: organizationID.description)
                \(Keyset.after(page.cursor)) ORDER BY created_at DESC, id DESC LIMIT \(bind: page.limit + 1)
                """
            ).all()
        }
        return Page(fetched: try rows.map(Self.decode), limit: page.limit) {
            PageCursor(sortKey: $0.createdAt.millis, id: $0.id.description)
        }
    }

    public func update(_ id: Site.ID, in organizationID: Organization.ID, with changes: Changes) async throws -> Site {
        let name = try changes.name.map { value throws(ValidationError) in
            try Validate.text(value, field: "name", max: 120)
        }
        let origins = try changes.allowedOrigins.map { value throws(ValidationError) in try Validate.origins(value) }
        let widget = try changes.widget.map { value throws(ValidationError) in try value.validated() }
        let now = self.now()
        return try await self.engine.transaction { db in
            var site = try await Self.find(id, in: organizationID, db: db)
            if let name { site.name = name }
            if let origins { site.allowedOrigins = origins }
            if let widget { site.widget = widget }
            if let strict = changes.strictIdentity { site.strictIdentity = strict }
            if let active = changes.isActive { site.isActive = active }
            if changes.rotateIdentitySecret { site.identitySecret = Secrets.identitySecret() }
            site.updatedAt = now
            try await db.raw(
                """
                UPDATE sites SET name = \(bind: site.name), allowed_origins = \(bind: try JSONColumn.encode(site.allowedOrigins)),
                    widget = \(bind: try JSONColumn.encode(site.widget)), strict_identity = \(bind: site.strictIdentity),
                    is_active = \(bind: site.isActive), identity_secret = \(bind: site.identitySecret),
                    updated_at = \(bind: now.millis)
                WHERE id = \(bind: id.description) AND organization_id = \(bind: organizationID.description)
                """
            ).run()
            return site
        }
    }

    static func decode(_ row: any SQLRow) throws -> Site {
        guard let id = Site.ID(try row.string("id")), let org = Organization.ID(try row.string("organization_id"))
        else {
            throw CorruptRowError(description: "site ids")
        }
        return Site(
            id: id, organizationID: org, name: try row.string("name"), publicKey: try row.string("public_key"),
            identitySecret: try row.string("identity_secret"), strictIdentity: try row.bool("strict_identity"),
            allowedOrigins: try JSONColumn.decode([String].self, from: try row.string("allowed_origins")),
            widget: try JSONColumn.decode(WidgetSettings.self, from: try row.string("widget")),
            isActive: try row.bool("is_active"), createdAt: try row.date("created_at"),
            updatedAt: try row.date("updated_at")
        )
    }
}

/// JSON kept in a TEXT column, the same on both engines.
enum JSONColumn {
    static func encode(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    static func decode<T: Decodable>(_ type: T.Type, from text: String) throws -> T {
        try JSONDecoder().decode(type, from: Data(text.utf8))
    }
}

/// Keyset paging over (created_at, id), newest first: the condition for "after this cursor".
enum Keyset {
    static func after(_ cursor: PageCursor?) -> SQLQueryString {
        guard let cursor else { return "" }
        return """
            AND (created_at < \(bind: cursor.sortKey) OR (created_at = \(bind: cursor.sortKey) AND id < \(bind: cursor.id)))
            """
    }
}
