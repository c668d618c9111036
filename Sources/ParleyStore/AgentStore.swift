import Foundation
public import ParleyCore
import SQLKit

/// Agents (team members) and their passwords. Every query is scoped by organization, but for
/// sign-in, which finds an agent by email.
public struct AgentStore: Sendable {
    let engine: any DatabaseEngine
    let hasher: PasswordHasher
    let now: @Sendable () -> Date

    /// What it takes to add someone to a team.
    public struct NewAgent: Sendable {
        public var email: String
        public var name: String
        public var role: AgentRole
        public var password: String

        public init(email: String, name: String, role: AgentRole, password: String) {
            self.email = email
            self.name = name
            self.role = role
            self.password = password
        }
    }

    /// The fields an update may change; nil leaves a field as it is.
    public struct Changes: Sendable {
        public var name: String?
        public var role: AgentRole?
        public var isActive: Bool?
        public var password: String?

        public init(name: String? = nil, role: AgentRole? = nil, isActive: Bool? = nil, password: String? = nil) {
            self.name = name
            self.role = role
            self.isActive = isActive
            self.password = password
        }
    }

    /// Checks `new` and hashes its password, ready to insert.
    func prepare(_ new: NewAgent, in organizationID: Organization.ID) async throws -> (Agent, passwordHash: String) {
        let email = try Validate.email(new.email)
        let name = try Validate.text(
            new.name.isEmpty ? String(email.split(separator: "@")[0]) : new.name, field: "name", max: 120)
        let password = try Validate.password(new.password)
        let now = self.now()
        let agent = Agent(
            id: .init(), organizationID: organizationID, email: email, name: name, role: new.role, isActive: true,
            createdAt: now, updatedAt: now
        )
        return (agent, try await self.hasher.hash(password))
    }

    /// Adds an agent; `actorRole` is the role of whoever asks (nil for the CLI, which may do anything).
    public func create(_ new: NewAgent, in organizationID: Organization.ID, by actorRole: AgentRole?) async throws
        -> Agent
    {
        if let actorRole { try TeamRules.checkCreate(role: new.role, by: actorRole) }
        let (agent, hash) = try await self.prepare(new, in: organizationID)
        try await self.engine.transaction { db in try await Self.insert(agent, passwordHash: hash, into: db) }
        return agent
    }

    static func insert(_ agent: Agent, passwordHash: String, into db: any SQLDatabase) async throws {
        let existing = try await db.raw("SELECT id FROM agents WHERE email = \(bind: agent.email)").first()
        guard existing == nil else {
            throw DomainError.conflict("An account with the email \(agent.email) already exists.")
        }
        try await db.raw(
            """
            INSERT INTO agents (id, organization_id, email, name, role, password_hash, is_active, created_at, updated_at)
            VALUES (\(bind: agent.id.description), \(bind: agent.organizationID.description), \(bind: agent.email),
                \(bind: agent.name), \(bind: agent.role.rawValue), \(bind: passwordHash), \(bind: agent.isActive),
                \(bind: agent.createdAt.millis), \(bind: agent.updatedAt.millis))
            """
        ).run()
    }

    public func find(_ id: Agent.ID, in organizationID: Organization.ID) async throws -> Agent {
        try await self.engine.read { db in try await Self.find(id, in: organizationID, db: db) }
    }

    /// The organization's active agent with this email, if any.
    public func active(email: String, in organizationID: Organization.ID) async throws -> Agent? {
        try await self.engine.read { db in
            try await db.raw(
                """
                SELECT * FROM agents WHERE organization_id = \(bind: organizationID.description)
                    AND LOWER(email) = \(bind: email.lowercased()) AND is_active = \(bind: true)
                """
            ).first().map(Self.decode)
        }
    }

    static func find(_ id: Agent.ID, in organizationID: Organization.ID, db: any SQLDatabase) async throws -> Agent {
        let row = try await db.raw(
            "SELECT * FROM agents WHERE id = \(bind: id.description) AND organization_id = \(bind: organizationID.description)"
        ).first()
        guard let row else { throw DomainError.notFound(entity: "agent") }
        return try Self.decode(row)
    }

    public func list(in organizationID: Organization.ID, page: PageRequest) async throws -> Page<Agent> {
        let rows = try await self.engine.read { db in
            try await db.raw(
                """
                SELECT * FROM agents WHERE organization_id = \(bind: organizationID.description)
                \(Keyset.after(page.cursor)) ORDER BY created_at DESC, id DESC LIMIT \(bind: page.limit + 1)
                """
            ).all()
        }
        return Page(fetched: try rows.map(Self.decode), limit: page.limit) {
            PageCursor(sortKey: $0.createdAt.millis, id: $0.id.description)
        }
    }

    /// Changes an agent as `actorRole` (agent `actorID`) asked. Deactivating an agent or setting
    /// their password ends all of their sessions.
    public func update(
        _ id: Agent.ID, in organizationID: Organization.ID, with changes: Changes, by actorRole: AgentRole,
        actorID: Agent.ID?
    ) async throws -> Agent {
        let name = try changes.name.map { value throws(ValidationError) in
            try Validate.text(value, field: "name", max: 120)
        }
        let hash = try await changes.password.map { try Validate.password($0) }.asyncMap {
            try await self.hasher.hash($0)
        }
        let now = self.now()
        return try await self.engine.transaction { db in
            var agent = try await Self.find(id, in: organizationID, db: db)
            let owners = try await Self.activeOwnerCount(in: organizationID, db: db)
            try TeamRules.check(
                .init(role: changes.role, isActive: changes.isActive, setsPassword: hash != nil),
                to: agent, by: actorRole, actorID: actorID, activeOwners: owners
            )
            if let name { agent.name = name }
            if let role = changes.role { agent.role = role }
            if let active = changes.isActive { agent.isActive = active }
            agent.updatedAt = now
            try await db.raw(
                """
                UPDATE agents SET name = \(bind: agent.name), role = \(bind: agent.role.rawValue),
                    is_active = \(bind: agent.isActive), updated_at = \(bind: now.millis)
                WHERE id = \(bind: id.description) AND organization_id = \(bind: organizationID.description)
                """
            ).run()
            if let hash {
                try await db.raw("UPDATE agents SET password_hash = \(bind: hash) WHERE id = \(bind: id.description)")
                    .run()
            }
            if hash != nil || changes.isActive == false {
                try await AgentSessionStore.revokeAll(of: id, except: nil, db: db)
            }
            return agent
        }
    }

    static func activeOwnerCount(in organizationID: Organization.ID, db: any SQLDatabase) async throws -> Int {
        let row = try await db.raw(
            """
            SELECT COUNT(*) AS n FROM agents
            WHERE organization_id = \(bind: organizationID.description) AND role = 'owner' AND is_active = \(bind: true)
            """
        ).first()
        return Int(try row?.int64("n") ?? 0)
    }

    /// The active agent with this email and password, or nil. Takes as long for an unknown email.
    /// An agent changes their own display name.
    public func rename(_ id: Agent.ID, to name: String, in organizationID: Organization.ID) async throws -> Agent {
        let name = try Validate.text(name, field: "name", max: 120)
        let now = self.now()
        return try await self.engine.transaction { db in
            var agent = try await Self.find(id, in: organizationID, db: db)
            agent.name = name
            agent.updatedAt = now
            try await db.raw(
                "UPDATE agents SET name = \(bind: name), updated_at = \(bind: now.millis) WHERE id = \(bind: id.description)"
            ).run()
            return agent
        }
    }

    /// Which notifications the agent wants (all, until they say otherwise).
    public func preferences(of id: Agent.ID, in organizationID: Organization.ID) async throws -> AgentPreferences {
        let row = try await self.engine.read { db in
            try await db.raw(
                "SELECT preferences FROM agents WHERE id = \(bind: id.description) AND organization_id = \(bind: organizationID.description)"
            ).first()
        }
        guard let row else { throw DomainError.notFound(entity: "agent") }
        return AgentPreferences.decode(try row.optionalString("preferences"))
    }

    public func setPreferences(_ preferences: AgentPreferences, of id: Agent.ID, in organizationID: Organization.ID)
        async throws -> AgentPreferences
    {
        let json = String(decoding: try JSONEncoder().encode(preferences), as: UTF8.self)
        try await self.engine.transaction { db in
            _ = try await Self.find(id, in: organizationID, db: db)
            try await db.raw(
                "UPDATE agents SET preferences = \(bind: json), updated_at = \(bind: self.now().millis) WHERE id = \(bind: id.description)"
            ).run()
        }
        return preferences
    }

    public func authenticate(email: String, password: String) async throws -> Agent? {
        let email = email.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
        let row = try await self.engine.read { db in
            try await db.raw("SELECT * FROM agents WHERE email = \(bind: email)").first()
        }
        guard let row else {
            _ = try await self.hasher.verify(password, hash: try await self.hasher.dummyHash())
            return nil
        }
        let agent = try Self.decode(row)
        guard try await self.hasher.verify(password, hash: try row.string("password_hash")), agent.isActive else {
            return nil
        }
        return agent
    }

    /// Changes an agent's own password after checking the current one; ends every other session.
    public func changePassword(
        of id: Agent.ID, in organizationID: Organization.ID, current: String, new: String,
        keepingSession tokenHash: String?
    ) async throws {
        let newPassword = try Validate.password(new, field: "newPassword")
        let row = try await self.engine.read { db in
            try await db.raw(
                "SELECT password_hash FROM agents WHERE id = \(bind: id.description) AND organization_id = \(bind: organizationID.description)"
            ).first()
        }
        guard let row else { throw DomainError.notFound(entity: "agent") }
        guard try await self.hasher.verify(current, hash: try row.string("password_hash")) else {
            throw ValidationError(field: "currentPassword", message: "The current password is not right.")
        }
        let hash = try await self.hasher.hash(newPassword)
        let now = self.now()
        try await self.engine.transaction { db in
            try await db.raw(
                "UPDATE agents SET password_hash = \(bind: hash), updated_at = \(bind: now.millis) WHERE id = \(bind: id.description)"
            ).run()
            try await AgentSessionStore.revokeAll(of: id, except: tokenHash, db: db)
        }
    }

    static func decode(_ row: any SQLRow) throws -> Agent {
        guard let id = Agent.ID(try row.string("id")), let org = Organization.ID(try row.string("organization_id")),
            let role = AgentRole(rawValue: try row.string("role"))
        else { throw CorruptRowError(description: "agent row") }
        return Agent(
            id: id, organizationID: org, email: try row.string("email"), name: try row.string("name"), role: role,
            isActive: try row.bool("is_active"), createdAt: try row.date("created_at"),
            updatedAt: try row.date("updated_at")
        )
    }
}

extension Optional {
    func asyncMap<T>(_ transform: (Wrapped) async throws -> T) async rethrows -> T? {
        guard let value = self else { return nil }
        return try await transform(value)
    }
}
