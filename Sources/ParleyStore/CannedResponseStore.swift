public import Foundation
public import ParleyCore
import SQLKit

/// Canned responses per organization, and the audit log.
public struct CannedResponseStore: Sendable {
    let engine: any DatabaseEngine
    let now: @Sendable () -> Date

    public struct Draft: Sendable {
        public var shortcut: String
        public var title: String
        public var body: String

        public init(shortcut: String, title: String, body: String) {
            self.shortcut = shortcut
            self.title = title
            self.body = body
        }

        func validated() throws(ValidationError) -> Draft {
            Draft(
                shortcut: try Validate.shortcut(self.shortcut),
                title: try Validate.text(self.title, field: "title", max: 120),
                body: try Validate.messageBody(self.body))
        }
    }

    public func create(_ draft: Draft, in organizationID: Organization.ID) async throws -> CannedResponse {
        let draft = try draft.validated()
        let now = self.now()
        let response = CannedResponse(
            id: .init(), organizationID: organizationID, shortcut: draft.shortcut, title: draft.title, body: draft.body,
            usageCount: 0, createdAt: now, updatedAt: now)
        try await self.engine.transaction { db in
            try await Self.refuseTaken(draft.shortcut, except: nil, in: organizationID, db: db)
            try await db.raw(
                """
                INSERT INTO canned_responses (id, organization_id, shortcut, title, body, usage_count, created_at, updated_at)
                VALUES (\(bind: response.id.description), \(bind: organizationID.description), \(bind: response.shortcut),
                    \(bind: response.title), \(bind: response.body), 0, \(bind: now.millis), \(bind: now.millis))
                """
            ).run()
        }
        return response
    }

    static func refuseTaken(
        _ shortcut: String, except id: CannedResponse.ID?, in organizationID: Organization.ID, db: any SQLDatabase
    ) async throws {
        let row = try await db.raw(
            """
            SELECT id FROM canned_responses WHERE organization_id = \(bind: organizationID.description)
                AND shortcut = \(bind: shortcut)
            """
        ).first()
        if let row, try row.string("id") != id?.description {
            throw DomainError.conflict("The shortcut /\(shortcut) is taken.")
        }
    }

    public func update(_ id: CannedResponse.ID, to draft: Draft, in organizationID: Organization.ID) async throws
        -> CannedResponse
    {
        let draft = try draft.validated()
        var response = try await self.find(id, in: organizationID)
        response.shortcut = draft.shortcut
        response.title = draft.title
        response.body = draft.body
        response.updatedAt = self.now()
        let updated = response
        try await self.engine.transaction { db in
            try await Self.refuseTaken(draft.shortcut, except: id, in: organizationID, db: db)
            try await db.raw(
                """
                UPDATE canned_responses SET shortcut = \(bind: updated.shortcut), title = \(bind: updated.title),
                    body = \(bind: updated.body), updated_at = \(bind: updated.updatedAt.millis)
                WHERE id = \(bind: id.description) AND organization_id = \(bind: organizationID.description)
                """
            ).run()
        }
        return updated
    }

    public func delete(_ id: CannedResponse.ID, in organizationID: Organization.ID) async throws {
        _ = try await self.find(id, in: organizationID)
        try await self.engine.transaction { db in
            try await db.raw(
                "DELETE FROM canned_responses WHERE id = \(bind: id.description) AND organization_id = \(bind: organizationID.description)"
            ).run()
        }
    }

    public func find(_ id: CannedResponse.ID, in organizationID: Organization.ID) async throws -> CannedResponse {
        let row = try await self.engine.read { db in
            try await db.raw(
                "SELECT * FROM canned_responses WHERE id = \(bind: id.description) AND organization_id = \(bind: organizationID.description)"
            ).first()
        }
        guard let row else { throw DomainError.notFound(entity: "canned response") }
        return try Self.decode(row)
    }

    /// The organization's responses, most used first; `prefix` narrows by shortcut (the `/` picker).
    public func list(in organizationID: Organization.ID, prefix: String?, limit: Int = 50) async throws
        -> [CannedResponse]
    {
        let filter: SQLQueryString
        if let prefix, !prefix.isEmpty {
            let clean = try Validate.shortcut(prefix, field: "q")
            filter = " AND shortcut LIKE \(bind: clean + "%")"
        } else {
            filter = ""
        }
        let rows = try await self.engine.read { db in
            try await db.raw(
                "SELECT * FROM canned_responses WHERE organization_id = \(bind: organizationID.description)" + filter
                    + " ORDER BY usage_count DESC, shortcut LIMIT \(bind: limit)"
            ).all()
        }
        return try rows.map(Self.decode)
    }

    /// The body with its placeholders filled in; counts the use.
    public func use(_ id: CannedResponse.ID, values: [String: String], in organizationID: Organization.ID)
        async throws -> String
    {
        let response = try await self.find(id, in: organizationID)
        try await self.engine.transaction { db in
            try await db.raw(
                "UPDATE canned_responses SET usage_count = usage_count + 1 WHERE id = \(bind: id.description)"
            ).run()
        }
        return CannedResponse.render(response.body, values: values)
    }

    static func decode(_ row: any SQLRow) throws -> CannedResponse {
        guard let id = CannedResponse.ID(try row.string("id")),
            let organization = Organization.ID(try row.string("organization_id"))
        else { throw CorruptRowError(description: "canned_responses row") }
        return CannedResponse(
            id: id, organizationID: organization, shortcut: try row.string("shortcut"), title: try row.string("title"),
            body: try row.string("body"), usageCount: Int(try row.int64("usage_count")),
            createdAt: try row.date("created_at"), updatedAt: try row.date("updated_at"))
    }
}

/// Who did what to which ticket and when; written in the transaction of the change itself.
public struct AuditLogStore: Sendable {
    let engine: any DatabaseEngine

    static func record(_ entry: AuditEntry, db: any SQLDatabase) async throws {
        try await db.raw(
            """
            INSERT INTO audit_log (id, organization_id, actor_agent_id, actor_kind, action, entity, entity_id, details, created_at)
            VALUES (\(bind: entry.id), \(bind: entry.organizationID.description), \(bind: entry.actorAgentID?.description),
                \(bind: entry.actorKind), \(bind: entry.action), \(bind: entry.entity), \(bind: entry.entityID),
                \(bind: entry.details), \(bind: entry.createdAt.millis))
            """
        ).run()
    }

    /// The organization's log, newest first, keyset-paged; optionally for one entity.
    public func list(in organizationID: Organization.ID, entityID: String? = nil, page: PageRequest) async throws
        -> Page<AuditEntry>
    {
        let rows = try await self.engine.read { db in
            var query: SQLQueryString =
                "SELECT * FROM audit_log WHERE organization_id = \(bind: organizationID.description)"
            if let entityID { query = query + " AND entity_id = \(bind: entityID)" }
            query = query + Keyset.after(page.cursor)
            return try await db.raw(query + " ORDER BY created_at DESC, id DESC LIMIT \(bind: page.limit + 1)").all()
        }
        let entries = try rows.map { row -> AuditEntry in
            guard let organization = Organization.ID(try row.string("organization_id")) else {
                throw CorruptRowError(description: "audit_log row")
            }
            var entry = AuditEntry(
                organizationID: organization,
                actorAgentID: try row.optionalString("actor_agent_id").flatMap(Agent.ID.init),
                actorKind: try row.string("actor_kind"), action: try row.string("action"),
                entity: try row.string("entity"), entityID: try row.string("entity_id"),
                details: try row.optionalString("details"), createdAt: try row.date("created_at"))
            entry.id = try row.string("id")
            return entry
        }
        return Page(fetched: entries, limit: page.limit) { PageCursor(sortKey: $0.createdAt.millis, id: $0.id) }
    }
}
