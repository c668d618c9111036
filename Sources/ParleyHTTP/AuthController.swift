import Hummingbird
import Foundation
import ParleyCore
public import ParleyStore

/// Sign-in, sign-out and the caller's own account: `/api/v1/auth/*` and `/api/v1/me`.
public struct AuthController: Sendable {
    let stores: Stores
    /// Whether cookies carry `Secure` (the public URL is https).
    let secureCookies: Bool
    let emailEnabled: Bool

    public init(stores: Stores, secureCookies: Bool, emailEnabled: Bool = false) {
        self.stores = stores
        self.secureCookies = secureCookies
        self.emailEnabled = emailEnabled
    }

    struct LoginRequest: Decodable {
        var email: String
        var password: String
    }

    struct PasswordChange: Decodable {
        var currentPassword: String
        var newPassword: String
    }

    func addPublicRoutes(to group: RouterGroup<ParleyRequestContext>) {
        group.post("auth/login", use: self.login)
        group.post("auth/password/forgot", use: self.forgot)
        group.post("auth/password/reset", use: self.reset)
        group.post("auth/invitation/accept", use: self.accept)
    }

    struct ForgotRequest: Decodable { var email: String }
    struct TokenRequest: Decodable {
        var token: String
        var password: String
        var name: String?
    }
    struct Accepted: ResponseEncodable { var email: String }

    /// "Forgot password?": the same answer (202) whether the account exists or not; throttled
    /// per email and per IP like sign-in.
    func forgot(_ request: Request, context: ParleyRequestContext) async throws -> Response {
        let input = try await request.decodeJSON(as: ForgotRequest.self, context: context)
        let email = input.email.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
        var keys = ["reset:\(email)"]
        if let ip = context.clientIP { keys.append("reset-ip:\(ip)") }
        if let wait = try await self.stores.loginThrottles.retryAfter(keys) {
            throw DomainError.rateLimited(retryAfter: wait)
        }
        // Without a mail server no link can be sent: saying so tells nothing about accounts.
        guard self.emailEnabled else {
            throw DomainError.conflict(
                "Email is not configured on this server, so no reset link can be sent: ask an admin to set a new password."
            )
        }
        // Every request counts toward the throttle: a reset link is one per few minutes.
        try await self.stores.loginThrottles.recordFailure(keys)
        if (try? Validate.email(email, field: "email")) != nil {
            try await self.stores.accountTokens.requestReset(email: email)
        }
        return Response(status: .accepted)
    }

    /// A reset link's new password: every session of the account ends.
    func reset(_ request: Request, context: ParleyRequestContext) async throws -> Accepted {
        let input = try await request.decodeJSON(as: TokenRequest.self, context: context)
        do {
            let agent = try await self.stores.accountTokens.redeem(input.token, kind: .reset, password: input.password)
            context.logger.info("Password reset by email", metadata: ["parley.agent.id": "\(agent.id)"])
            return Accepted(email: agent.email)
        } catch is AccountTokens.Refused {
            throw APIError(.gone, code: "link_expired", message: AccountTokens.Refused().description)
        }
    }

    /// An invitation's password (and name): the invitee can sign in from then on.
    func accept(_ request: Request, context: ParleyRequestContext) async throws -> Accepted {
        let input = try await request.decodeJSON(as: TokenRequest.self, context: context)
        do {
            let agent = try await self.stores.accountTokens.redeem(
                input.token, kind: .invitation, password: input.password, name: input.name)
            context.logger.info("Invitation accepted", metadata: ["parley.agent.id": "\(agent.id)"])
            return Accepted(email: agent.email)
        } catch is AccountTokens.Refused {
            throw APIError(.gone, code: "link_expired", message: AccountTokens.Refused().description)
        }
    }

    func addRoutes(to group: RouterGroup<AgentContext>) {
        group.post("auth/logout", use: self.logout)
        group.get("me", use: self.me)
        group.post("me/password", use: self.changePassword)
        group.patch("me", use: self.updateMe)
        group.get("me/preferences", use: self.preferences)
        group.put("me/preferences", use: self.setPreferences)
    }

    /// Checks email and password (throttled per email and per IP), then starts a session: an
    /// HttpOnly SameSite cookie and a CSRF token to echo on unsafe requests.
    func login(_ request: Request, context: ParleyRequestContext) async throws -> Response {
        let credentials = try await request.decodeJSON(as: LoginRequest.self, context: context)
        let email = credentials.email.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
        var keys = ["email:\(email)"]
        if let ip = context.clientIP { keys.append("ip:\(ip)") }
        if let wait = try await self.stores.loginThrottles.retryAfter(keys) {
            throw DomainError.rateLimited(retryAfter: wait)
        }
        guard let agent = try await self.stores.agents.authenticate(email: email, password: credentials.password) else {
            try await self.stores.loginThrottles.recordFailure(keys)
            context.logger.notice("Sign-in failed", metadata: ["parley.ip": "\(context.clientIP ?? "-")"])
            throw APIError(.unauthorized, code: "invalid_credentials", message: "The email or password is not right.")
        }
        try await self.stores.loginThrottles.clear(keys)
        let session = try await self.stores.sessions.create(for: agent)
        let organization = try await self.stores.organizations.find(agent.organizationID)
        context.logger.info("Signed in", metadata: ["parley.agent.id": "\(agent.id)"])
        var response = try MeResponse(
            agent: AgentResponse(agent), apiKey: nil, organization: OrganizationResponse(organization),
            role: agent.role.rawValue, permissions: Self.permissions(of: agent.role), csrfToken: session.csrfToken,
            emailConfigured: self.emailEnabled
        ).response(from: request, context: context)
        response.setCookie(
            Cookie(
                name: AuthenticationMiddleware.sessionCookie, value: session.token,
                maxAge: Int(AgentSessionStore.idleLifetime), path: "/", secure: self.secureCookies, httpOnly: true,
                sameSite: .lax
            ))
        return response
    }

    /// Ends this session (a no-op for an API key) and clears the cookie.
    func logout(_ request: Request, context: AgentContext) async throws -> Response {
        if case .session(let hash, _) = context.principal.credential {
            try await self.stores.sessions.revoke(tokenHash: hash)
        }
        var response = Response(status: .noContent)
        response.setCookie(
            Cookie(
                name: AuthenticationMiddleware.sessionCookie, value: "", maxAge: 0, path: "/",
                secure: self.secureCookies,
                httpOnly: true, sameSite: .lax
            ))
        return response
    }

    func me(_ request: Request, context: AgentContext) async throws -> MeResponse {
        let principal = context.principal
        let organization = try await self.stores.organizations.find(principal.organizationID)
        var csrf: String?
        var key: APIKeyResponse?
        switch principal.credential {
        case .session(_, let token): csrf = token
        case .apiKey(let apiKey): key = APIKeyResponse(apiKey)
        }
        return MeResponse(
            agent: principal.agent.map(AgentResponse.init), apiKey: key,
            organization: OrganizationResponse(organization),
            role: principal.role.rawValue, permissions: Self.permissions(of: principal.role), csrfToken: csrf,
            emailConfigured: self.emailEnabled
        )
    }

    struct ProfileChange: Decodable { var name: String }
    struct PreferencesChange: Decodable {
        var notifications: [String: Bool]?
        var email: [String: Bool]?
        var sound: Bool?
        var desktop: Bool?
    }
    struct PreferencesBody: ResponseEncodable, Decodable {
        var notifications: [String: Bool]
        /// By kind: also by email.
        var email: [String: Bool]?
        var sound: Bool?
        var desktop: Bool?

        init(_ preferences: AgentPreferences) {
            self.notifications = preferences.resolved
            self.email = preferences.resolvedEmail
            self.sound = preferences.sound ?? false
            self.desktop = preferences.desktop ?? false
        }
    }

    /// The caller changes their own display name.
    func updateMe(_ request: Request, context: AgentContext) async throws -> MeResponse {
        guard let agent = context.principal.agent else { throw DomainError.forbidden("An API key has no profile.") }
        let change = try await request.decodeJSON(as: ProfileChange.self, context: context)
        let renamed = try await self.stores.agents.rename(agent.id, to: change.name, in: agent.organizationID)
        var me = try await self.me(request, context: context)
        me.agent = AgentResponse(renamed)
        return me
    }

    /// Which notifications the caller wants (every kind, on or off).
    func preferences(_ request: Request, context: AgentContext) async throws -> PreferencesBody {
        guard let agent = context.principal.agent else { throw DomainError.forbidden("An API key has no preferences.") }
        return PreferencesBody(try await self.stores.agents.preferences(of: agent.id, in: agent.organizationID))
    }

    func setPreferences(_ request: Request, context: AgentContext) async throws -> PreferencesBody {
        guard let agent = context.principal.agent else { throw DomainError.forbidden("An API key has no preferences.") }
        let input = try await request.decodeJSON(as: PreferencesChange.self, context: context)
        // What the request leaves out stays as it was.
        let current = try await self.stores.agents.preferences(of: agent.id, in: agent.organizationID)
        let wanted = AgentPreferences(
            notifications: input.notifications ?? current.notifications, email: input.email ?? current.email,
            sound: input.sound ?? current.sound, desktop: input.desktop ?? current.desktop)
        let saved = try await self.stores.agents.setPreferences(
            try wanted.validated(), of: agent.id, in: agent.organizationID)
        return PreferencesBody(saved)
    }

    /// Changes the caller's password; every other session of theirs ends.
    func changePassword(_ request: Request, context: AgentContext) async throws -> Response {
        guard let agent = context.principal.agent, case .session(let hash, _) = context.principal.credential else {
            throw DomainError.forbidden("An API key has no password to change.")
        }
        let change = try await request.decodeJSON(as: PasswordChange.self, context: context)
        try await self.stores.agents.changePassword(
            of: agent.id, in: agent.organizationID, current: change.currentPassword, new: change.newPassword,
            keepingSession: hash
        )
        context.logger.info("Password changed", metadata: ["parley.agent.id": "\(agent.id)"])
        return Response(status: .noContent)
    }

    static func permissions(of role: AgentRole) -> [String] {
        Permission.allCases.filter { role.allows($0) }.map(\.rawValue)
    }
}
