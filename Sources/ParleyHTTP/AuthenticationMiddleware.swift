public import Hummingbird
public import HTTPTypes
public import ParleyCore
import Foundation
public import ParleyStore

/// Finds the caller from the session cookie or an `Authorization: Bearer` API key, and refuses
/// unsafe requests made with a session cookie that do not echo its CSRF token in `X-CSRF-Token`.
/// Routes after it see `context.principal`, or fail with 401 in `AgentContext`.
public struct AuthenticationMiddleware: RouterMiddleware {
    public typealias Context = ParleyRequestContext

    public static let sessionCookie = "parley_session"
    public static let csrfHeader = HTTPField.Name("X-CSRF-Token")!

    let stores: Stores

    public init(stores: Stores) { self.stores = stores }

    public func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        var context = context
        if let authorization = request.headers[.authorization] {
            guard authorization.lowercased().hasPrefix("bearer ") else {
                throw APIError(.unauthorized, code: "unauthenticated", message: "Use Authorization: Bearer <API key>.")
            }
            let secret = String(authorization.dropFirst("bearer ".count)).trimmingCharacters(in: .whitespaces)
            guard let key = try await self.stores.apiKeys.resolve(secret: secret) else {
                throw APIError(
                    .unauthorized, code: "unauthenticated", message: "This API key is not valid or has been revoked.")
            }
            context.principal = Principal(
                organizationID: key.organizationID, role: key.role, agent: nil, credential: .apiKey(key))
        } else if let token = request.cookies[Self.sessionCookie]?.value, !token.isEmpty {
            if let session = try await self.stores.sessions.resolve(token: token) {
                if !Self.isSafe(request.method) {
                    let sent = request.headers[Self.csrfHeader] ?? ""
                    guard Secrets.constantTimeEquals(sent, session.csrfToken) else {
                        throw APIError(
                            .forbidden, code: "csrf_failed",
                            message: "Missing or wrong X-CSRF-Token header; use the token returned at sign-in.")
                    }
                }
                context.principal = Principal(
                    organizationID: session.agent.organizationID, role: session.agent.role, agent: session.agent,
                    credential: .session(tokenHash: session.tokenHash, csrfToken: session.csrfToken)
                )
            }
        }
        return try await next(request, context)
    }

    static func isSafe(_ method: HTTPRequest.Method) -> Bool {
        method == .get || method == .head || method == .options
    }
}

/// Refuses callers whose role lacks `permission` (403), for a whole group of routes.
public struct RequirePermission: RouterMiddleware {
    public typealias Context = AgentContext
    let permission: Permission

    public init(_ permission: Permission) { self.permission = permission }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
        async throws -> Response
    {
        try context.principal.require(self.permission)
        return try await next(request, context)
    }
}
