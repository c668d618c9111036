import Foundation
import Hummingbird
import NIOCore
import NIOWebSocket
import Synchronization
import HummingbirdWebSocket
import Logging
import ParleyCore
public import ParleyRealtime
public import ParleyStore

/// `GET /api/v1/realtime`: the one WebSocket endpoint. Authenticated at upgrade (a visitor token
/// as `?token=`, or an agent's session cookie, or an API key as `Authorization: Bearer`), with the
/// `Origin` checked; every `subscribe` is authorised; `send` is acknowledged after its commit;
/// `subscribe` with `after` replays what was missed from the database before going live.
public struct RealtimeGateway: Sendable {
    /// Replay at most this many messages; beyond it the client gets `recovered:false` and pages REST.
    public static let replayLimit = 500
    public static let maximumSubscriptions = 50
    public static let maximumVisitorSubscriptions = 10
    public static let maximumFrameSize = 64 * 1024

    let hub: RealtimeHub
    let bus: any EventBus
    let stores: Stores
    let chats: ChatStore
    let writer: ChatWriter
    let tokens: VisitorTokens
    let origins: OriginPolicy
    let messageLimiter: RateLimiter
    let trustedProxies: TrustedProxies

    public init(
        hub: RealtimeHub, bus: any EventBus, stores: Stores, chats: ChatStore, writer: ChatWriter,
        tokens: VisitorTokens,
        baseURL: String, messageLimiter: RateLimiter, trustedProxies: TrustedProxies
    ) {
        self.hub = hub
        self.bus = bus
        self.stores = stores
        self.chats = chats
        self.writer = writer
        self.tokens = tokens
        self.origins = OriginPolicy(baseURL: baseURL)
        self.messageLimiter = messageLimiter
        self.trustedProxies = trustedProxies
    }

    /// Who is on the other end, resolved once at upgrade.
    struct Caller: Sendable {
        var principal: RealtimePrincipal
        var agent: Agent?
        var visitor: Visitor?
        var clientIP: String?
    }

    func addRoutes(to router: Router<ParleyRequestContext>) {
        router.ws(
            "api/v1/realtime",
            shouldUpgrade: { request, context in
                _ = try await self.authenticate(request, context: context)
                return .upgrade([:])
            },
            onUpgrade: { inbound, outbound, context in
                let caller = try await self.authenticate(context.request, context: context.requestContext)
                try await self.serve(
                    caller, inbound: inbound, channel: context.requestContext.channel, logger: context.logger)
            })
    }

    func authenticate(_ request: Request, context: ParleyRequestContext) async throws -> Caller {
        let ip = self.trustedProxies.clientIP(peer: context.remoteAddress?.ipAddress, headers: request.headers)
        let origin = request.headers[.origin]
        let bearer = request.headers[.authorization].flatMap { header in
            header.lowercased().hasPrefix("bearer ")
                ? String(header.dropFirst(7)).trimmingCharacters(in: .whitespaces) : nil
        }
        if let token = request.uri.queryParameters["token"].map(String.init)
            ?? bearer.flatMap({ $0.hasPrefix("v1.") ? $0 : nil })
        {
            guard let claims = self.tokens.verify(token, now: Date()) else {
                throw APIError(.unauthorized, code: "unauthenticated", message: "This visitor token is not valid.")
            }
            let site = try await self.stores.sites.find(claims.site, in: claims.organization)
            if !self.origins.allows(origin, for: site) {
                throw APIError(.forbidden, code: "origin_not_allowed", message: "This website may not use this chat.")
            }
            let visitor = try await self.chats.visitor(claims.visitor, in: claims.organization)
            return Caller(
                principal: .visitor(visitor.id, organization: claims.organization), visitor: visitor, clientIP: ip)
        }
        if let secret = bearer {
            guard let key = try await self.stores.apiKeys.resolve(secret: secret) else {
                throw APIError(
                    .unauthorized, code: "unauthenticated", message: "This API key is not valid or has been revoked.")
            }
            return Caller(principal: .agent(nil, organization: key.organizationID), clientIP: ip)
        }
        if let token = request.cookies[AuthenticationMiddleware.sessionCookie]?.value,
            let session = try await self.stores.sessions.resolve(token: token)
        {
            // A page of another site must not ride on an agent's cookie (cross-site WebSocket hijacking).
            if !self.origins.isOwn(origin) {
                throw APIError(
                    .forbidden, code: "origin_not_allowed", message: "Connect from the dashboard's own origin.")
            }
            return Caller(
                principal: .agent(session.agent.id, organization: session.agent.organizationID), agent: session.agent,
                clientIP: ip)
        }
        throw APIError(
            .unauthorized, code: "unauthenticated", message: "Connect with a visitor token, a session or an API key.")
    }

    /// Reads frames until the socket closes. Outgoing frames do not pass through a task: the hub
    /// queues them and one event-loop task per batch writes them all with one flush (what makes
    /// fan-out cheap). A connection that stays unwritable for `outboxLimit` frames is closed as
    /// a slow consumer; its client resumes with `after`.
    func serve(_ caller: Caller, inbound: WebSocketInboundStream, channel: any NIOCore.Channel, logger: Logger)
        async throws
    {
        let pusher = FramePusher(channel: channel)
        let connection = self.hub.connect(caller.principal) { pusher.schedule() }
        pusher.connection.withLock { $0 = connection }
        await self.announce(caller, online: true)
        do {
            for try await message in inbound.messages(maxSize: Self.maximumFrameSize) {
                guard case .text(let text) = message else {
                    connection.send(ServerFrame.error(code: "bad_frame", message: "Frames are JSON text."))
                    continue
                }
                await self.handle(text, from: caller, on: connection, logger: logger)
            }
        } catch {
            logger.debug("WebSocket closed", metadata: ["parley.error": "\(error)"])
        }
        self.hub.disconnect(connection)
        await self.announce(caller, online: false)
    }

    func announce(_ caller: Caller, online: Bool) async {
        if let agent = caller.agent {
            self.bus.relay(.presence(agent: agent.id, organization: agent.organizationID, online: online), from: nil)
        } else if let visitor = caller.visitor {
            if online { try? await self.chats.touch(visitor.id, page: nil) }
            self.bus.relay(
                .visitor(
                    visitor.id, organization: visitor.organizationID, name: visitor.name, email: visitor.email,
                    page: visitor.currentPage, online: online), from: nil)
        }
    }

    func handle(_ text: String, from caller: Caller, on connection: RealtimeConnection, logger: Logger) async {
        guard let frame = try? JSONDecoder().decode(ClientFrame.self, from: Data(text.utf8)) else {
            connection.send(ServerFrame.error(code: "bad_frame", message: "Frames are JSON objects with a type."))
            return
        }
        do {
            switch frame.type {
            case "ping":
                connection.send(ServerFrame.pong)
                if let visitor = caller.visitor { try? await self.chats.touch(visitor.id, page: nil) }
            case "subscribe": try await self.subscribe(frame, caller: caller, connection: connection)
            case "unsubscribe":
                let channel = try Self.channel(frame)
                self.hub.leave(connection, channel: channel)
            case "send": try self.send(frame, caller: caller, connection: connection)
            case "typing":
                let (session, _) = try self.joinedConversation(frame, connection)
                let role: MessageRole = caller.agent == nil ? .user : .agent
                self.bus.relay(
                    .typing(
                        session: session, organization: caller.principal.organizationID, role: role,
                        name: caller.agent?.name,
                        on: frame.on ?? true), from: connection.id)
            case "read":
                let (session, _) = try self.joinedConversation(frame, connection)
                guard let seq = frame.seq else {
                    throw ValidationError(field: "seq", message: "read needs the seq read up to.")
                }
                let byVisitor = caller.visitor != nil
                // The other side hears it from the writer's commit.
                _ = try await self.writer.markRead(
                    session, seq: seq, byVisitor: caller.visitor != nil, in: caller.principal.organizationID)
            default:
                connection.send(ServerFrame.error(code: "bad_frame", message: "Unknown frame type '\(frame.type)'."))
            }
        } catch {
            let mapped =
                APIError.from(error)
                ?? APIError(.internalServerError, code: "internal", message: "Something went wrong on our side.")
            if mapped.status.code >= 500 {
                logger.error("Realtime frame failed", metadata: ["parley.error": "\(error)"])
            }
            connection.send(
                ServerFrame.error(
                    code: mapped.code, message: mapped.message, clientId: frame.clientId, channel: frame.channel))
        }
    }

    func subscribe(_ frame: ClientFrame, caller: Caller, connection: RealtimeConnection) async throws {
        let channel = try Self.channel(frame)
        let limit = caller.visitor == nil ? Self.maximumSubscriptions : Self.maximumVisitorSubscriptions
        guard connection.isJoined(channel) || connection.channelCount < limit else {
            throw APIError(
                .tooManyRequests, code: "too_many_subscriptions", message: "At most \(limit) channels per connection.")
        }
        var session: ChatSession?
        if case .supportChat(let id) = channel {
            session = try? await self.chats.session(id, in: caller.principal.organizationID)
        }
        var ticket: Ticket?
        if case .support(let id) = channel {
            ticket = try? await self.stores.tickets.ticket(id, in: caller.principal.organizationID)
        }
        guard ChannelAccess.mayJoin(channel, as: caller.principal, session: session, ticket: ticket) else {
            throw APIError(
                .forbidden, code: "forbidden", message: "You may not join \(frame.channel ?? "this channel").")
        }
        if let ticket {
            // A ticket's thread keeps the conversations' promise: replay after `after`, then live.
            // Customers never get internal notes, in the replay or live.
            let after = min(max(0, frame.after ?? ticket.lastSeq), ticket.lastSeq)
            self.hub.beginJoin(connection, channel: channel, after: after)
            let missed = try await self.stores.tickets.messages(
                of: ticket.id, in: ticket.organizationID, includeInternal: caller.visitor == nil, after: after,
                limit: Self.replayLimit + 1)
            let recovered = missed.count <= Self.replayLimit
            self.hub.goLive(
                connection, channel: channel, replay: recovered ? missed : [],
                subscribedFrame: ServerFrame.subscribed(
                    channel: channel.description, recovered: recovered, session: nil))
            return
        }
        guard let session else {
            // The inbox: live from now on; nothing to replay (lists are reloaded over REST).
            self.hub.beginJoin(connection, channel: channel, after: 0)
            self.hub.goLive(
                connection, channel: channel, replay: [ChatMessage](),
                subscribedFrame: ServerFrame.subscribed(
                    channel: channel.description, recovered: frame.after == nil, session: nil))
            return
        }
        let after = min(max(0, frame.after ?? session.lastSeq), session.lastSeq)
        // Join first (live frames wait), then read the gap from the database, then go live:
        // whatever commits meanwhile is either in the replay or in the buffer, and seq dedupes.
        self.hub.beginJoin(connection, channel: channel, after: after)
        let missed = try await self.chats.messages(in: session.id, after: after, limit: Self.replayLimit + 1)
        let recovered = missed.count <= Self.replayLimit
        // Visitors never get the team's internal notes.
        let replay = caller.visitor == nil ? missed : Visibility.customerThread(missed)
        let view = SessionView(session, forAgents: caller.agent != nil || caller.visitor == nil)
        self.hub.goLive(
            connection, channel: channel, replay: recovered ? replay : [],
            subscribedFrame: ServerFrame.subscribed(channel: channel.description, recovered: recovered, session: view))
    }

    func send(_ frame: ClientFrame, caller: Caller, connection: RealtimeConnection) throws {
        let (session, _) = try self.joinedConversation(frame, connection)
        guard let rawClientID = frame.clientId else {
            throw ValidationError(field: "clientId", message: "send needs a clientId.")
        }
        let clientID = try Validate.clientID(rawClientID)
        let body = try Validate.messageBody(frame.body ?? "")
        let command: ChatCommand
        let actor: ChatWriter.Actor
        if let visitor = caller.visitor {
            try self.messageLimiter.take("ip:\(caller.clientIP ?? "unknown")")
            command = .visitorMessage(body: body, clientID: clientID)
            actor = .visitor(visitor.id)
        } else if let agent = caller.agent {
            command = .agentMessage(agent: agent.id, agentName: agent.name, body: body, clientID: clientID)
            actor = .team
        } else {
            throw DomainError.forbidden("Replies are written by agents; an API key can't send.")
        }
        self.writer.enqueue(
            .init(sessionID: session, organizationID: caller.principal.organizationID, actor: actor, command: command)
        ) {
            result in
            switch result {
            case .success(let outcome):
                if let earlier = outcome.duplicateOf {
                    connection.send(ServerFrame.ack(clientId: clientID, message: MessageView(earlier), duplicate: true))
                } else if let message = outcome.messages.last {
                    connection.send(
                        ServerFrame.ack(clientId: clientID, message: MessageView(message), duplicate: false))
                }
            case .failure(let error):
                let mapped =
                    APIError.from(error)
                    ?? APIError(
                        .internalServerError, code: "internal", message: "The message was not stored; send it again.")
                connection.send(
                    ServerFrame.error(
                        code: mapped.code, message: mapped.message, clientId: clientID, channel: frame.channel))
            }
        }
    }

    /// The conversation a frame names, which the connection must have joined.
    func joinedConversation(_ frame: ClientFrame, _ connection: RealtimeConnection) throws -> (
        ChatSession.ID, ParleyCore.Channel
    ) {
        let channel = try Self.channel(frame)
        guard case .supportChat(let id) = channel else {
            throw APIError(.badRequest, code: "bad_channel", message: "This works on supportChat channels only.")
        }
        guard connection.isJoined(channel) else {
            throw APIError(.forbidden, code: "not_subscribed", message: "Subscribe to \(channel) first.")
        }
        return (id, channel)
    }

    static func channel(_ frame: ClientFrame) throws -> ParleyCore.Channel {
        guard let text = frame.channel, let channel = ParleyCore.Channel(text) else {
            throw APIError(
                .badRequest, code: "bad_channel",
                message: "channel must be supportChat:<id>, support:<id> or inbox:<id>.")
        }
        return channel
    }
}

/// Writes a connection's queued frames on its event loop: one scheduled task per batch.
final class FramePusher: Sendable {
    let channel: any NIOCore.Channel
    let connection = Mutex<RealtimeConnection?>(nil)
    /// Frames written while the socket was not writable (NIO buffers them); reset when it drains.
    private let unwritableFrames = Mutex(0)

    init(channel: any NIOCore.Channel) { self.channel = channel }

    func schedule() {
        self.channel.eventLoop.execute { self.push() }
    }

    private func push() {
        guard let connection = self.connection.withLock({ $0 }) else {
            // Frames queued before the connection was attached: try again on the next turn.
            self.channel.eventLoop.execute { self.push() }
            return
        }
        if connection.isOverflowed {
            self.channel.close(promise: nil)
            return
        }
        let frames = connection.takeFrames()
        guard !frames.isEmpty, self.channel.isActive else { return }
        for frame in frames {
            self.channel.write(WebSocketFrame(fin: true, opcode: .text, data: frame), promise: nil)
        }
        self.channel.flush()
        let stuck = self.unwritableFrames.withLock { count -> Bool in
            count = self.channel.isWritable ? 0 : count + frames.count
            return count > RealtimeConnection.outboxLimit
        }
        if stuck { self.channel.close(promise: nil) }
    }
}
