import Foundation
public import struct NIOCore.ByteBuffer
public import ParleyCore
public import ParleyStore
import Synchronization

/// One WebSocket connection's side of the hub: who it is, what it joined, and its outbox.
///
/// Frames wait in a bounded outbox. The transport takes all pending frames at once: pushed (one
/// event-loop task per batch, written with one flush) or pulled (`nextFrames`). Each frame is a
/// buffer encoded once and shared by every receiver. A connection
/// that falls more than `outboxLimit` frames behind is closed (`slow consumer`), never silently
/// skipped: its client resumes with `after` and reads what it missed from the database.
public final class RealtimeConnection: Sendable {
    public typealias ID = Int

    public static let outboxLimit = 4096

    public let id: ID
    public let principal: RealtimePrincipal
    private let state = Mutex(State())
    private let outbox = Mutex(Outbox())
    /// Push mode: called (once per batch) when frames are waiting; the transport then takes them
    /// all with `takeFrames` on its own thread. Nil in pull mode (`nextFrames`).
    private let framesWaiting: (@Sendable () -> Void)?

    /// Per channel: live or still replaying (then live frames wait), and the last message seq
    /// sent, so that nothing shows twice.
    struct ChannelState {
        var buffered: [(seq: Int64?, isMessage: Bool, frame: ByteBuffer)]?
        var lastMessageSeq: Int64
    }

    struct State {
        var channels: [Channel: ChannelState] = [:]
    }

    struct Outbox: ~Copyable {
        var frames: [ByteBuffer] = []
        var waiter: CheckedContinuation<Void, Never>?
        var finished = false
        var overflowed = false
        /// Push mode: a `framesWaiting` call is pending and has not taken the frames yet.
        var signalled = false
    }

    init(id: ID, principal: RealtimePrincipal, framesWaiting: (@Sendable () -> Void)?) {
        self.id = id
        self.principal = principal
        self.framesWaiting = framesWaiting
    }

    /// How many channels this connection has joined.
    public var channelCount: Int { self.state.withLock { $0.channels.count } }

    public func isJoined(_ channel: Channel) -> Bool { self.state.withLock { $0.channels[channel] != nil } }

    /// Sends a frame that belongs to no channel (acks, errors, pongs).
    public func send(_ frame: String) { self.enqueue([ByteBuffer(string: frame)]) }

    func enqueue(_ frames: [ByteBuffer]) {
        guard !frames.isEmpty else { return }
        let (waiter, signal) = self.outbox.withLock { outbox -> (CheckedContinuation<Void, Never>?, Bool) in
            guard !outbox.finished else { return (nil, false) }
            if outbox.frames.count + frames.count > Self.outboxLimit {
                outbox.overflowed = true
                outbox.finished = true
                outbox.frames.removeAll()
            } else {
                outbox.frames.append(contentsOf: frames)
            }
            let signal = !outbox.signalled
            outbox.signalled = true
            defer { outbox.waiter = nil }
            return (outbox.waiter, signal)
        }
        waiter?.resume()
        if signal { self.framesWaiting?() }
    }

    /// Push mode: everything queued now (possibly nothing), for the transport to write at once.
    public func takeFrames() -> [ByteBuffer] {
        self.outbox.withLock { outbox in
            outbox.signalled = false
            defer { outbox.frames.removeAll() }
            return outbox.frames
        }
    }

    /// Everything queued, waiting until there is something; nil once finished and drained.
    public func nextFrames() async -> [ByteBuffer]? {
        while true {
            let taken = self.outbox.withLock { outbox -> [ByteBuffer]?? in
                if !outbox.frames.isEmpty {
                    defer { outbox.frames.removeAll(keepingCapacity: false) }
                    return .some(outbox.frames)
                }
                return outbox.finished ? .some(nil) : .none
            }
            if let taken { return taken }
            await withCheckedContinuation { continuation in
                let resumeNow = self.outbox.withLock { outbox in
                    if !outbox.frames.isEmpty || outbox.finished { return true }
                    outbox.waiter = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        }
    }

    /// Ends the outbox; the writer stops after what is queued.
    public func finish() {
        let waiter = self.outbox.withLock { outbox in
            outbox.finished = true
            defer { outbox.waiter = nil }
            return outbox.waiter
        }
        waiter?.resume()
    }

    /// Set when the outbox overflowed; the gateway closes the socket.
    public var isOverflowed: Bool { self.outbox.withLock { $0.overflowed } }

    /// Starts buffering live frames for `channel` until `goLive` (so a replay can come first).
    func beginJoin(_ channel: Channel, after: Int64) {
        self.state.withLock { $0.channels[channel] = ChannelState(buffered: [], lastMessageSeq: after) }
    }

    /// Sends replayed messages, then what arrived meanwhile (skipping what the replay covered).
    func goLive(_ channel: Channel, replay: [(seq: Int64, frame: ByteBuffer)], before first: ByteBuffer?) {
        let frames: [ByteBuffer] = self.state.withLock { state in
            guard var channelState = state.channels[channel] else { return [] }
            var frames: [ByteBuffer] = first.map { [$0] } ?? []
            for item in replay where item.seq > channelState.lastMessageSeq {
                frames.append(item.frame)
                channelState.lastMessageSeq = item.seq
            }
            for item in channelState.buffered ?? [] {
                if item.isMessage, let seq = item.seq {
                    guard seq > channelState.lastMessageSeq else { continue }
                    channelState.lastMessageSeq = seq
                }
                frames.append(item.frame)
            }
            channelState.buffered = nil
            state.channels[channel] = channelState
            return frames
        }
        self.enqueue(frames)
    }

    func leave(_ channel: Channel) {
        _ = self.state.withLock { $0.channels.removeValue(forKey: channel) }
    }

    /// Offers a channel frame: buffered while joining, dropped if that message was sent already.
    func offer(_ frame: ByteBuffer, channel: Channel, seq: Int64?, isMessage: Bool) {
        let send: Bool = self.state.withLock { state in
            guard var channelState = state.channels[channel] else { return false }
            if channelState.buffered != nil {
                channelState.buffered!.append((seq, isMessage, frame))
                state.channels[channel] = channelState
                return false
            }
            if isMessage, let seq {
                guard seq > channelState.lastMessageSeq else { return false }
                channelState.lastMessageSeq = seq
                state.channels[channel] = channelState
            }
            return true
        }
        if send { self.enqueue([frame]) }
    }
}

/// Routes committed events and live signals to the connections that joined their channels.
/// Each frame is encoded once per audience (agents, visitors) and shared.
public final class RealtimeHub: Sendable {
    private let connections = Mutex<[Channel: [RealtimeConnection.ID: RealtimeConnection]]>([:])
    private let nextID = Atomic<Int>(0)
    public init() {}

    /// A new connection for `principal`; call `disconnect` when its socket closes. With
    /// `framesWaiting`, frames are pushed: it is called once per batch and the transport takes them
    /// with `takeFrames`; without, they are pulled with `nextFrames`.
    public func connect(_ principal: RealtimePrincipal, framesWaiting: (@Sendable () -> Void)? = nil)
        -> RealtimeConnection
    {
        RealtimeConnection(
            id: self.nextID.wrappingAdd(1, ordering: .relaxed).newValue, principal: principal,
            framesWaiting: framesWaiting)
    }

    public func disconnect(_ connection: RealtimeConnection) {
        self.connections.withLock { map in
            for channel in map.keys where map[channel]?[connection.id] != nil {
                map[channel]?[connection.id] = nil
                if map[channel]?.isEmpty == true { map[channel] = nil }
            }
        }
        connection.finish()
    }

    /// Joins `channel` in buffering mode: live frames wait until `goLive`.
    public func beginJoin(_ connection: RealtimeConnection, channel: Channel, after: Int64) {
        connection.beginJoin(channel, after: after)
        self.connections.withLock { $0[channel, default: [:]][connection.id] = connection }
    }

    public func goLive(
        _ connection: RealtimeConnection, channel: Channel, replay: [ChatMessage], subscribedFrame: String
    ) {
        let frames = replay.map { message in
            (
                seq: message.seq,
                frame: ByteBuffer(
                    string: ServerFrame.event(
                        channel: channel, seq: message.seq, name: "message.created", data: MessageView(message)))
            )
        }
        connection.goLive(channel, replay: frames, before: ByteBuffer(string: subscribedFrame))
    }

    /// The same for a ticket's channel: its missed messages, then live.
    public func goLive(
        _ connection: RealtimeConnection, channel: Channel, replay: [TicketMessage], subscribedFrame: String
    ) {
        let frames = replay.map { message in
            (
                seq: message.seq,
                frame: ByteBuffer(
                    string: ServerFrame.event(
                        channel: channel, seq: message.seq, name: "message.created",
                        data: TicketMessageView(message)))
            )
        }
        connection.goLive(channel, replay: frames, before: ByteBuffer(string: subscribedFrame))
    }

    public func leave(_ connection: RealtimeConnection, channel: Channel) {
        connection.leave(channel)
        self.connections.withLock { map in
            map[channel]?[connection.id] = nil
            if map[channel]?.isEmpty == true { map[channel] = nil }
        }
    }

    /// How many connections have joined `channel`.
    public func subscriberCount(_ channel: Channel) -> Int { self.connections.withLock { $0[channel]?.count ?? 0 } }

    /// Delivers events, in the order given, to the connections of their channels that may see
    /// them (not to `except`, a live signal's sender). Each event's data is encoded once per
    /// audience (once in all for a message, which both audiences see alike) and framed per channel.
    public func deliver(_ events: [DomainEvent], except: RealtimeConnection.ID? = nil) {
        for event in events {
            var data: [Bool: String] = [:]
            func json(forAgents: Bool) -> String {
                let key = event.isAudienceSpecific ? forAgents : true
                if let cached = data[key] { return cached }
                let encoded = Self.data(event, forAgents: forAgents)
                data[key] = encoded
                return encoded
            }
            let (seq, isMessage) = Self.position(of: event)
            for channel in event.channels {
                guard let receivers = self.connections.withLock({ $0[channel].map { Array($0.values) } }),
                    !receivers.isEmpty
                else {
                    continue
                }
                var frames: [Bool: ByteBuffer] = [:]
                // Seq orders one conversation; the inbox mixes many, so only conversations dedupe by it.
                let dedupe: Bool
                switch channel {
                case .supportChat, .support: dedupe = isMessage
                case .inbox: dedupe = false
                }
                for connection in receivers where connection.id != except && event.isVisible(to: connection.principal) {
                    let forAgents: Bool
                    if case .agent = connection.principal { forAgents = true } else { forAgents = false }
                    let key = event.isAudienceSpecific ? forAgents : true
                    let frame: ByteBuffer
                    if let cached = frames[key] {
                        frame = cached
                    } else {
                        frame = ByteBuffer(
                            string: ServerFrame.event(
                                channel: channel, seq: seq, name: event.name, json: json(forAgents: forAgents)))
                        frames[key] = frame
                    }
                    connection.offer(frame, channel: channel, seq: seq, isMessage: dedupe)
                }
            }
        }
    }

    static func position(of event: DomainEvent) -> (Int64?, Bool) {
        switch event {
        case .messageCreated(let message): (message.seq, true)
        case .sessionCreated(let session), .sessionUpdated(let session, _): (session.lastSeq, false)
        case .ticketMessageCreated(let message, _): (message.seq, true)
        case .ticketUpdated(let ticket, _): (ticket.lastSeq, false)
        case .ticketCreated, .notified, .feedbackCreated, .live: (nil, false)
        }
    }

    static func data(_ event: DomainEvent, forAgents: Bool) -> String {
        switch event {
        case .messageCreated(let message): ServerFrame.encode(MessageView(message))
        case .sessionCreated(let session), .sessionUpdated(let session, _):
            ServerFrame.encode(SessionView(session, forAgents: forAgents))
        case .ticketMessageCreated(let message, _): ServerFrame.encode(TicketMessageView(message))
        case .ticketUpdated(let ticket, _): ServerFrame.encode(TicketView(ticket, forAgents: forAgents))
        case .ticketCreated(let ticket):
            ServerFrame.encode(
                SignalView(
                    ticketId: ticket.id.description, sessionId: ticket.chatSessionID?.description,
                    subject: ticket.subject))
        case .notified(let notification): ServerFrame.encode(SignalView(notification))
        case .feedbackCreated: "{}"
        case .live(.messageDelta(let session, _, let stream, let replyTo, let index, let text, let done, let outcome)):
            // The hot path of a streamed reply: framed by hand, no encoder per token.
            ServerFrame.deltaData(
                session: session, streamID: stream, replyTo: replyTo, index: index, text: text, done: done,
                outcome: outcome)
        case .live(let signal): ServerFrame.encode(SignalView(signal))
        }
    }
}

/// A signal's data on the wire.
struct SignalView: Encodable {
    var sessionId: String?
    var agentId: String?
    var visitorId: String?
    var role: String?
    var name: String?
    var email: String?
    var page: String?
    var on: Bool?
    var seq: Int64?
    var byVisitor: Bool?
    var online: Bool?
    var streamId: String?
    var replyTo: Int64?
    var index: Int?
    var delta: String?
    var done: Bool?
    var outcome: String?
    var ticketId: String?
    var subject: String?
    var id: String?
    var kind: String?
    var title: String?
    var createdAt: Date?

    init(ticketId: String, sessionId: String?, subject: String) {
        self.ticketId = ticketId
        self.sessionId = sessionId
        self.subject = subject
    }

    init(_ notification: AgentNotification) {
        self.id = notification.id.description
        self.agentId = notification.agentID.description
        self.kind = notification.kind.rawValue
        self.title = notification.title
        self.ticketId = notification.ticketID?.description
        self.sessionId = notification.sessionID?.description
        self.createdAt = notification.createdAt
    }

    init(_ signal: LiveSignal) {
        switch signal {
        case .typing(let session, _, let role, let name, let on):
            self.sessionId = session.description
            self.role = role.rawValue
            self.name = name
            self.on = on
        case .read(let session, _, let byVisitor, let seq):
            self.sessionId = session.description
            self.byVisitor = byVisitor
            self.seq = seq
        case .presence(let agent, _, let online):
            self.agentId = agent.description
            self.online = online
        case .messageDelta(let session, _, let stream, let replyTo, let index, let text, let done, let outcome):
            self.sessionId = session.description
            self.streamId = stream
            self.replyTo = replyTo
            self.index = index
            self.delta = text
            self.done = done
            self.outcome = outcome
        case .visitor(let visitor, _, let name, let email, let page, let online):
            self.visitorId = visitor.description
            self.name = name
            self.email = email
            self.page = page
            self.online = online
        }
    }
}

extension DomainEvent {
    /// Whether agents and visitors see different data (a conversation's state; not a message).
    var isAudienceSpecific: Bool {
        switch self {
        case .messageCreated, .ticketMessageCreated, .ticketCreated, .notified, .feedbackCreated, .live: false
        case .sessionCreated, .sessionUpdated, .ticketUpdated: true
        }
    }
}
