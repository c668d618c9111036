import Foundation
public import ParleyCore
import SQLKit

/// Organizations: the tenants. Created by first start or `parley org create`.
public struct OrganizationStore: Sendable {
    let engine: any DatabaseEngine
    let now: @Sendable () -> Date

    public func create(name: String) async throws -> Organization {
        let name = try Validate.text(name, field: "name", max: 120)
        let organization = Organization(id: .init(), name: name, createdAt: self.now())
        try await self.engine.transaction { db in try await Self.insert(organization, into: db) }
        return organization
    }

    static func insert(_ organization: Organization, into db: any SQLDatabase) async throws {
        try await db.raw(
            """
            INSERT INTO organizations (id, name, created_at)
            VALUES (\(bind: organization.id.description), \(bind: organization.name), \(bind: organization.createdAt.millis))
            """
        ).run()
    }

    public func find(_ id: Organization.ID) async throws -> Organization {
        let row = try await self.engine.read { db in
            try await db.raw("SELECT * FROM organizations WHERE id = \(bind: id.description)").first()
        }
        guard let row else { throw DomainError.notFound(entity: "organization") }
        return try Self.decode(row)
    }

    /// Finds an organization by its id or, failing that, its exact name (for the CLI).
    public func find(idOrName: String) async throws -> Organization {
        if let id = Organization.ID(idOrName), let organization = try? await self.find(id) { return organization }
        let rows = try await self.engine.read { db in
            try await db.raw("SELECT * FROM organizations WHERE name = \(bind: idOrName)").all()
        }
        guard rows.count == 1 else {
            throw rows.isEmpty
                ? DomainError.notFound(entity: "organization")
                : DomainError.conflict("Several organizations are named '\(idOrName)'; use the id.")
        }
        return try Self.decode(rows[0])
    }

    /// All organizations, oldest first (a host has tens, not millions).
    public func all() async throws -> [Organization] {
        try await self.engine.read { db in
            try await db.raw("SELECT * FROM organizations ORDER BY created_at, id").all()
        }.map(Self.decode)
    }

    static func decode(_ row: any SQLRow) throws -> Organization {
        guard let id = Organization.ID(try row.string("id")) else {
            throw CorruptRowError(description: "organization id")
        }
        return Organization(id: id, name: try row.string("name"), createdAt: try row.date("created_at"))
    }
}
