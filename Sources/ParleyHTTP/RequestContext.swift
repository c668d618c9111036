public import Hummingbird
public import HummingbirdWebSocket
import Logging
public import NIOCore
public import ParleyCore
import ParleyStore

/// Who is calling: a signed-in agent (session cookie) or an integration (API key).
public struct Principal: Sendable {
    /// How the caller authenticated; a session must echo its CSRF token on unsafe requests.
    public enum Credential: Sendable {
        /// A dashboard session: the hash of its token and its CSRF token.
        case session(tokenHash: String, csrfToken: String)
        /// An API key.
        case apiKey(APIKey)
    }

    public var organizationID: Organization.ID
    public var role: AgentRole
    /// The agent, for a session; nil for an API key.
    public var agent: Agent?
    public var credential: Credential

    /// Throws 403 unless the caller's role grants `permission`.
    public func require(_ permission: Permission) throws {
        guard self.role.allows(permission) else {
            throw DomainError.forbidden("Your role (\(self.role.rawValue)) does not allow this.")
        }
    }
}

/// The context of every request: where it came from, and who is calling once authenticated.
public struct ParleyRequestContext: RequestContext, RemoteAddressRequestContext, WebSocketRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?
    /// The connection's channel; the realtime gateway writes fan-out frames onto it directly.
    public let channel: any NIOCore.Channel
    public let webSocket: WebSocketHandlerReference<ParleyRequestContext>
    /// Set by `AuthenticationMiddleware` on the routes that need it.
    public var principal: Principal?
    /// Set by `VisitorAuthenticationMiddleware` on the visitor routes.
    public var visitor: VisitorTokens.Claims?
    /// The client's IP address: the peer's, or the forwarded one when the peer is a trusted proxy.
    public var clientIP: String?

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.remoteAddress = source.channel.remoteAddress
        self.channel = source.channel
        self.webSocket = .init()
        self.principal = nil
        self.visitor = nil
        self.clientIP = source.channel.remoteAddress?.ipAddress
    }

    /// Request bodies are JSON documents of a few kilobytes; anything over this is refused (413).
    public var maxUploadSize: Int { 1024 * 1024 }
}

/// The context of a visitor route: the verified claims of the visitor's token.
public struct VisitorContext: ChildRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let visitor: VisitorTokens.Claims
    public let clientIP: String?

    public init(context: ParleyRequestContext) throws {
        guard let visitor = context.visitor else { throw DomainError.unauthenticated("Start a conversation first.") }
        self.coreContext = context.coreContext
        self.visitor = visitor
        self.clientIP = context.clientIP
    }

    public var maxUploadSize: Int { 64 * 1024 }
}

/// The context of a route that needs an authenticated caller; building it fails with 401 otherwise.
public struct AgentContext: ChildRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let principal: Principal
    public let clientIP: String?

    public init(context: ParleyRequestContext) throws {
        guard let principal = context.principal else { throw DomainError.unauthenticated("Sign in first.") }
        self.coreContext = context.coreContext
        self.principal = principal
        self.clientIP = context.clientIP
    }

    public var maxUploadSize: Int { 1024 * 1024 }
    public var organizationID: Organization.ID { self.principal.organizationID }
}

extension RequestContext {
    /// The typed id in path parameter `name`; a malformed one is "not found", like a missing one.
    func id<Entity>(_ name: String, as type: TypedID<Entity>.Type, entity: String) throws -> TypedID<Entity> {
        guard let text = self.parameters.get(name), let id = TypedID<Entity>(text) else {
            throw DomainError.notFound(entity: entity)
        }
        return id
    }
}
