public import Foundation
public import ParleyCore
import SQLKit

/// Single-use links that let someone set an agent's password by email: an invitation (48 hours,
/// the invitee chooses their password) and a reset ("Forgot password?", one hour; using it ends
/// the account's other sessions). Only a hash of each token is stored; the email carries the
/// token, sealed in its outbox row.
public struct AccountTokens: Sendable {
    public enum Kind: String, Sendable {
        case invitation
        case reset

        public var lifetime: TimeInterval { self == .invitation ? 48 * 3600 : 3600 }
    }

    let engine: any DatabaseEngine
    let hasher: PasswordHasher
    let box: SecretBox
    let now: @Sendable () -> Date

    /// Why a token was refused (the same answer for unknown, used and expired: 410 at the edge).
    public struct Refused: Error, CustomStringConvertible {
        public init() {}
        public var description: String { "This link is not valid any more. Ask for a new one." }
    }

    /// Invites `email` to the organization as `role`: the agent exists at once (with a password
    /// nobody knows) and the invitation email leaves through the outbox.
    public func invite(
        email: String, name: String, role: AgentRole, in organizationID: Organization.ID, by actorRole: AgentRole,
        agents: AgentStore
    ) async throws -> Agent {
        try TeamRules.checkCreate(role: role, by: actorRole)
        let (agent, hash) = try await agents.prepare(
            .init(email: email, name: name, role: role, password: Secrets.password()), in: organizationID)
        let now = self.now()
        try await self.engine.transaction { db in
            try await AgentStore.insert(agent, passwordHash: hash, into: db)
            try await self.issue(.invitation, for: agent, now: now, db: db)
        }
        return agent
    }

    /// "Forgot password?": a reset link to an active agent with this email, if there is one in
    /// any organization (the caller answers the same either way).
    public func requestReset(email: String) async throws {
        let now = self.now()
        try await self.engine.transaction { db in
            let rows = try await db.raw(
                "SELECT * FROM agents WHERE LOWER(email) = \(bind: email.lowercased()) AND is_active = \(bind: true)"
            ).all()
            for row in rows { try await self.issue(.reset, for: try AgentStore.decode(row), now: now, db: db) }
        }
    }

    /// Sets the password with a token, once; a reset ends every session of the account.
    /// Returns the agent.
    public func redeem(_ token: String, kind: Kind, password: String, name: String? = nil) async throws -> Agent {
        let password = try Validate.password(password)
        let name = try name.map { try Validate.text($0, field: "name", max: 120) }
        let hash = try await self.hasher.hash(password)
        let now = self.now()
        return try await self.engine.transaction { db in
            let used = try await db.raw(
                """
                UPDATE account_tokens SET used_at = \(bind: now.millis)
                WHERE token_hash = \(bind: Secrets.sha256(token)) AND kind = \(bind: kind.rawValue)
                    AND used_at IS NULL AND expires_at > \(bind: now.millis)
                RETURNING agent_id, organization_id
                """
            ).first()
            guard let used, let agentID = Agent.ID(try used.string("agent_id")),
                let organizationID = Organization.ID(try used.string("organization_id"))
            else { throw Refused() }
            var agent = try await AgentStore.find(agentID, in: organizationID, db: db)
            guard agent.isActive else { throw Refused() }
            if let name, !name.isEmpty { agent.name = name }
            try await db.raw(
                """
                UPDATE agents SET password_hash = \(bind: hash), name = \(bind: agent.name), updated_at = \(bind: now.millis)
                WHERE id = \(bind: agentID.description)
                """
            ).run()
            // Any other link of the account dies with this one.
            try await db.raw(
                "UPDATE account_tokens SET used_at = \(bind: now.millis) WHERE agent_id = \(bind: agentID.description) AND used_at IS NULL"
            ).run()
            try await AgentSessionStore.revokeAll(of: agentID, except: nil, db: db)
            return agent
        }
    }

    func issue(_ kind: Kind, for agent: Agent, now: Date, db: any SQLDatabase) async throws {
        let token = Secrets.token()
        try await db.raw(
            """
            INSERT INTO account_tokens (token_hash, organization_id, agent_id, kind, expires_at, used_at, created_at)
            VALUES (\(bind: Secrets.sha256(token)), \(bind: agent.organizationID.description), \(bind: agent.id.description),
                \(bind: kind.rawValue), \(bind: now.addingTimeInterval(kind.lifetime).millis), NULL, \(bind: now.millis))
            """
        ).run()
        var job = MailJob(
            kind: kind == .invitation ? .accountInvitation : .accountReset,
            organization: agent.organizationID.description)
        job.agent = agent.id.description
        job.sealedToken = try self.box.seal(token)
        try await Outbox.insert(
            [
                Outbox.NewItem(
                    organizationID: agent.organizationID, kind: .email, targetID: nil,
                    eventType: (job.kind ?? .accountReset).rawValue, orderKey: "email|agent:\(agent.id)",
                    dedupeKey: "email:\(kind.rawValue):\(Secrets.sha256(token))", payload: try JSONColumn.encode(job))
            ], now: now, db: db)
    }

    /// The token an outbox row carries, for the mailer.
    public func open(_ sealed: String) throws -> String { try self.box.open(sealed) }
}
