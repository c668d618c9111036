public import Hummingbird
import Foundation
import ParleyCore

/// Resolves the client's IP (believing `X-Forwarded-For` only from trusted proxies) and applies
/// the per-IP limit on every public route.
public struct ClientIPMiddleware: RouterMiddleware {
    public typealias Context = ParleyRequestContext
    let trustedProxies: TrustedProxies

    public init(trustedProxies: TrustedProxies) { self.trustedProxies = trustedProxies }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
        async throws -> Response
    {
        var context = context
        context.clientIP = self.trustedProxies.clientIP(
            peer: context.remoteAddress?.ipAddress, headers: request.headers)
        return try await next(request, context)
    }
}

/// A per-IP limit for a group of routes (429 with `Retry-After` past it).
public struct RateLimitMiddleware: RouterMiddleware {
    public typealias Context = ParleyRequestContext
    let limiter: RateLimiter
    let methods: Set<HTTPRequest.Method>?

    public init(_ limiter: RateLimiter, methods: Set<HTTPRequest.Method>? = nil) {
        self.limiter = limiter
        self.methods = methods
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
        async throws -> Response
    {
        if self.methods?.contains(request.method) ?? true {
            try self.limiter.take("ip:\(context.clientIP ?? "unknown")")
        }
        return try await next(request, context)
    }
}

/// Reads the visitor token (`Authorization: Bearer v1.…`) on visitor routes.
public struct VisitorAuthenticationMiddleware: RouterMiddleware {
    public typealias Context = ParleyRequestContext
    let tokens: VisitorTokens

    public init(tokens: VisitorTokens) { self.tokens = tokens }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
        async throws -> Response
    {
        var context = context
        if let authorization = request.headers[.authorization], authorization.lowercased().hasPrefix("bearer ") {
            let token = String(authorization.dropFirst("bearer ".count)).trimmingCharacters(in: .whitespaces)
            guard let claims = self.tokens.verify(token, now: Date()) else {
                throw APIError(
                    .unauthorized, code: "unauthenticated",
                    message: "This visitor token is not valid; start a new conversation.")
            }
            context.visitor = claims
        }
        return try await next(request, context)
    }
}
