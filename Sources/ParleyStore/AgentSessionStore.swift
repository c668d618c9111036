public import Foundation
public import ParleyCore
import SQLKit

/// Dashboard sign-in sessions. The cookie holds a random token; only its hash is stored.
public struct AgentSessionStore: Sendable {
    let engine: any DatabaseEngine
    let now: @Sendable () -> Date

    /// How long a session lives without use.
    public static let idleLifetime: TimeInterval = 7 * 24 * 3600
    /// How stale `last_seen_at` may get before a request refreshes it (saves a write per request).
    static let touchInterval: TimeInterval = 60

    /// A new session's secrets: the cookie token and the CSRF token.
    public struct Issued: Sendable {
        public var token: String
        public var csrfToken: String
        public var expiresAt: Date
    }

    /// A session found by its token, with the agent it belongs to.
    public struct Resolved: Sendable {
        public var agent: Agent
        public var tokenHash: String
        public var csrfToken: String
    }

    public func create(for agent: Agent) async throws -> Issued {
        let token = Secrets.token()
        let csrf = Secrets.token()
        let now = self.now()
        let expires = now.addingTimeInterval(Self.idleLifetime)
        try await self.engine.transaction { db in
            try await db.raw(
                """
                INSERT INTO agent_sessions (token_hash, agent_id, organization_id, csrf_token, created_at, last_seen_at, expires_at)
                VALUES (\(bind: Secrets.sha256(token)), \(bind: agent.id.description), \(bind: agent.organizationID.description),
                    \(bind: csrf), \(bind: now.millis), \(bind: now.millis), \(bind: expires.millis))
                """
            ).run()
        }
        return Issued(token: token, csrfToken: csrf, expiresAt: expires)
    }

    /// The live session and active agent for `token`, or nil; extends a session in use.
    public func resolve(token: String) async throws -> Resolved? {
        let hash = Secrets.sha256(token)
        let now = self.now()
        let row = try await self.engine.read { db in
            try await db.raw(
                """
                SELECT a.*, s.csrf_token AS session_csrf, s.last_seen_at AS session_seen FROM agent_sessions s
                JOIN agents a ON a.id = s.agent_id AND a.organization_id = s.organization_id
                WHERE s.token_hash = \(bind: hash) AND s.expires_at > \(bind: now.millis) AND a.is_active = \(bind: true)
                """
            ).first()
        }
        guard let row else { return nil }
        let agent = try AgentStore.decode(row)
        if now.timeIntervalSince(try row.date("session_seen")) > Self.touchInterval {
            try await self.engine.transaction { db in
                try await db.raw(
                    """
                    UPDATE agent_sessions SET last_seen_at = \(bind: now.millis),
                        expires_at = \(bind: now.addingTimeInterval(Self.idleLifetime).millis)
                    WHERE token_hash = \(bind: hash)
                    """
                ).run()
            }
        }
        return Resolved(agent: agent, tokenHash: hash, csrfToken: try row.string("session_csrf"))
    }

    public func revoke(tokenHash: String) async throws {
        try await self.engine.transaction { db in
            try await db.raw("DELETE FROM agent_sessions WHERE token_hash = \(bind: tokenHash)").run()
        }
    }

    static func revokeAll(of agentID: Agent.ID, except tokenHash: String?, db: any SQLDatabase) async throws {
        try await db.raw(
            "DELETE FROM agent_sessions WHERE agent_id = \(bind: agentID.description) AND token_hash <> \(bind: tokenHash ?? "")"
        ).run()
    }

    /// Deletes expired sessions; returns how many.
    @discardableResult
    public func deleteExpired() async throws -> Int {
        let now = self.now()
        return try await self.engine.transaction { db in
            let rows = try await db.raw(
                "DELETE FROM agent_sessions WHERE expires_at <= \(bind: now.millis) RETURNING token_hash"
            ).all()
            return rows.count
        }
    }
}
