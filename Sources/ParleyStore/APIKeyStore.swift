import Foundation
public import ParleyCore
import SQLKit

/// API keys for integrations. The secret is returned once, at creation; only its hash is kept.
public struct APIKeyStore: Sendable {
    let engine: any DatabaseEngine
    let now: @Sendable () -> Date

    static let touchInterval: TimeInterval = 60

    /// Creates a key acting with `role`, which may not exceed the creator's and is never owner.
    public func create(
        name: String, role: AgentRole, in organizationID: Organization.ID, by creator: Agent.ID?, creatorRole: AgentRole
    ) async throws -> (key: APIKey, secret: String) {
        let name = try Validate.text(name, field: "name", max: 120)
        guard role != .owner else {
            throw ValidationError(field: "role", message: "An API key can be an admin or an agent, not an owner.")
        }
        guard role <= creatorRole else {
            throw DomainError.forbidden("An API key can't have more rights than its creator.")
        }
        let secret = Secrets.apiKey()
        let key = APIKey(
            id: .init(), organizationID: organizationID, name: name, prefix: String(secret.prefix(10)), role: role,
            createdBy: creator, createdAt: self.now(), lastUsedAt: nil, revokedAt: nil
        )
        try await self.engine.transaction { db in
            try await db.raw(
                """
                INSERT INTO api_keys (id, organization_id, name, prefix, key_hash, role, created_by, created_at)
                VALUES (\(bind: key.id.description), \(bind: organizationID.description), \(bind: key.name), \(bind: key.prefix),
                    \(bind: Secrets.sha256(secret)), \(bind: role.rawValue), \(bind: creator?.description), \(bind: key.createdAt.millis))
                """
            ).run()
        }
        return (key, secret)
    }

    public func list(in organizationID: Organization.ID, page: PageRequest) async throws -> Page<APIKey> {
        let rows = try await self.engine.read { db in
            try await db.raw(
                """
                SELECT * FROM api_keys WHERE organization_id = \(bind: organizationID.description)
                \(Keyset.after(page.cursor)) ORDER BY created_at DESC, id DESC LIMIT \(bind: page.limit + 1)
                """
            ).all()
        }
        return Page(fetched: try rows.map(Self.decode), limit: page.limit) {
            PageCursor(sortKey: $0.createdAt.millis, id: $0.id.description)
        }
    }

    public func find(_ id: APIKey.ID, in organizationID: Organization.ID) async throws -> APIKey {
        let row = try await self.engine.read { db in
            try await db.raw(
                "SELECT * FROM api_keys WHERE id = \(bind: id.description) AND organization_id = \(bind: organizationID.description)"
            ).first()
        }
        guard let row else { throw DomainError.notFound(entity: "API key") }
        return try Self.decode(row)
    }

    /// Revokes a key at once; revoking twice is harmless.
    public func revoke(_ id: APIKey.ID, in organizationID: Organization.ID) async throws -> APIKey {
        let now = self.now()
        try await self.engine.transaction { db in
            try await db.raw(
                """
                UPDATE api_keys SET revoked_at = \(bind: now.millis)
                WHERE id = \(bind: id.description) AND organization_id = \(bind: organizationID.description) AND revoked_at IS NULL
                """
            ).run()
        }
        return try await self.find(id, in: organizationID)
    }

    /// The live key whose secret this is, or nil.
    public func resolve(secret: String) async throws -> APIKey? {
        let hash = Secrets.sha256(secret)
        let row = try await self.engine.read { db in
            try await db.raw("SELECT * FROM api_keys WHERE key_hash = \(bind: hash) AND revoked_at IS NULL").first()
        }
        guard let row else { return nil }
        let key = try Self.decode(row)
        let now = self.now()
        if key.lastUsedAt.map({ now.timeIntervalSince($0) > Self.touchInterval }) ?? true {
            try await self.engine.transaction { db in
                try await db.raw(
                    "UPDATE api_keys SET last_used_at = \(bind: now.millis) WHERE key_hash = \(bind: hash)"
                ).run()
            }
        }
        return key
    }

    static func decode(_ row: any SQLRow) throws -> APIKey {
        guard let id = APIKey.ID(try row.string("id")), let org = Organization.ID(try row.string("organization_id")),
            let role = AgentRole(rawValue: try row.string("role"))
        else { throw CorruptRowError(description: "api key row") }
        return APIKey(
            id: id, organizationID: org, name: try row.string("name"), prefix: try row.string("prefix"), role: role,
            createdBy: try row.optionalString("created_by").flatMap(Agent.ID.init),
            createdAt: try row.date("created_at"),
            lastUsedAt: try row.optionalDate("last_used_at"), revokedAt: try row.optionalDate("revoked_at")
        )
    }
}
