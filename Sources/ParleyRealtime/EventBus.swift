import Foundation
import Synchronization
public import Logging
public import ParleyCore
public import ParleyStore
public import ServiceLifecycle

/// Carries events to every instance's hub: committed ones from the writers' commit hook (the
/// other instances hear of them from the notice the commit itself sent), live signals as they
/// happen. One event type (`DomainEvent`), one notice format (`BusNotice`).
public protocol EventBus: Service {
    /// Events this instance committed, in commit order. Only the commit hook calls this.
    func publish(_ events: [DomainEvent])
    /// A live signal (typing, presence, a streamed reply's piece), not a change: delivered here at
    /// once (not to `connection`, its sender) and to the other instances.
    func relay(_ signal: LiveSignal, from connection: RealtimeConnection.ID?)
}

/// One process: events go straight to the local hub (SQLite, or a single instance).
public struct LocalEventBus: EventBus {
    let hub: RealtimeHub

    public init(hub: RealtimeHub) { self.hub = hub }

    public func publish(_ events: [DomainEvent]) { self.hub.deliver(events) }

    public func relay(_ signal: LiveSignal, from connection: RealtimeConnection.ID?) {
        self.hub.deliver([.live(signal)], except: connection)
    }

    public func run() async throws { try? await gracefulShutdown() }
}

/// Several instances on one PostgreSQL: every commit's NOTIFY (sent in its transaction, so
/// delivered in commit order) tells every instance what changed, and each loads it from the
/// database (payloads stay small). A conversation's events reach this instance's hub at once
/// (its own notices are skipped), unless an earlier message of it, committed on another instance,
/// has not been delivered here yet: then they wait while that one is loaded (`ChatOrder`), so a
/// subscriber never sees a later message first (the hub would drop the earlier one as old). A
/// ticket's events reach every instance's hub, this one's included,
/// only from the notices: one stream in commit order, so a change committed here never overtakes
/// an earlier one committed elsewhere whose notice is still on its way. Live signals travel in
/// NOTIFYs of their own, in the same format, on the same channel.
public final class PostgresEventBus: EventBus {
    let hub: RealtimeHub
    let engine: PostgresEngine
    let chats: ChatStore
    let tickets: TicketStore
    let origin: String
    let logger: Logger

    public init(
        hub: RealtimeHub, engine: PostgresEngine, chats: ChatStore, tickets: TicketStore, origin: String,
        logger: Logger
    ) {
        self.hub = hub
        self.engine = engine
        self.chats = chats
        self.tickets = tickets
        self.origin = origin
        self.logger = logger
    }

    /// Per ticket, the last message seq this instance delivered (a notice loads from there).
    private let deliveredTicketSeqs = Mutex<[Ticket.ID: Int64]>([:])

    private func delivered(_ ticket: Ticket.ID, through seq: Int64) {
        self.deliveredTicketSeqs.withLock { seqs in
            if seqs.count > 10_000 { seqs.removeAll() }
            seqs[ticket] = max(seqs[ticket] ?? 0, seq)
        }
    }

    /// Per conversation, the last message seq delivered here, and the events held back while an
    /// earlier message from another instance is loaded. Deliveries happen under this lock, so the
    /// state and the hub agree.
    private struct ChatOrder {
        var delivered: [ChatSession.ID: Int64] = [:]
        var held: [ChatSession.ID: [DomainEvent]] = [:]
    }
    private let chatOrder = Mutex(ChatOrder())
    /// Conversations with held events, for the catching-up loop.
    private let catchUps = WorkQueue<ChatSession.ID>()

    public func publish(_ events: [DomainEvent]) {
        var late: [ChatSession.ID] = []
        self.chatOrder.withLock { order in
            var now: [DomainEvent] = []
            for event in events where !event.isTicketEvent {
                guard let session = event.chatSessionID else {
                    now.append(event)
                    continue
                }
                if order.held[session] != nil {
                    order.held[session]!.append(event)
                    continue
                }
                if case .messageCreated(let message) = event {
                    let known = order.delivered[session]
                    // Earlier messages were committed elsewhere and may be on their way (or, when
                    // nothing was delivered here yet, may not have been): wait for them.
                    if message.seq > (known ?? 0) + 1, self.watched(.supportChat(session), message.organizationID) {
                        order.held[session] = [event]
                        late.append(session)
                        continue
                    }
                    if order.delivered.count > 10_000 { order.delivered.removeAll() }
                    order.delivered[session] = max(known ?? 0, message.seq)
                }
                now.append(event)
            }
            self.hub.deliver(now)
        }
        if !late.isEmpty { self.catchUps.append(contentsOf: late) }
    }

    /// Delivers `messages` (loaded from the database) where they continue what was delivered
    /// here, then the held events that follow them; returns whether some are still held.
    private func deliverInOrder(_ session: ChatSession.ID, loaded messages: [ChatMessage], then extra: [DomainEvent])
        -> Bool
    {
        self.chatOrder.withLock { order in
            var events: [DomainEvent] = []
            var known = order.delivered[session]
            for message in messages.sorted(by: { $0.seq < $1.seq }) where message.seq > (known ?? 0) {
                if let last = known, message.seq > last + 1 { break }
                known = message.seq
                events.append(.messageCreated(message))
            }
            events += extra
            var stillHeld: [DomainEvent] = []
            if var held = order.held.removeValue(forKey: session) {
                while !held.isEmpty {
                    let event = held[0]
                    if case .messageCreated(let message) = event {
                        if let last = known, message.seq <= last {
                            held.removeFirst()
                            continue
                        }
                        if let last = known, message.seq > last + 1 { break }
                        known = message.seq
                    }
                    events.append(held.removeFirst())
                }
                stillHeld = held
            }
            if let known { order.delivered[session] = known }
            if !stillHeld.isEmpty { order.held[session] = stillHeld }
            self.hub.deliver(events)
            return !stillHeld.isEmpty
        }
    }

    /// Loads what held conversations miss, then delivers it and what was held, in order.
    private func catchUp() async {
        while let sessions = await self.catchUps.next(maximum: 100) {
            for session in Set(sessions) {
                let (known, wanted, organization) = self.chatOrder.withLock { order in
                    let held = order.held[session] ?? []
                    let seqs = held.compactMap { event -> Int64? in
                        if case .messageCreated(let message) = event { return message.seq }
                        return nil
                    }
                    return (order.delivered[session] ?? 0, seqs.min() ?? 0, held.first?.organizationID)
                }
                guard organization != nil, wanted > known + 1 else {
                    _ = self.deliverInOrder(session, loaded: [], then: [])
                    continue
                }
                do {
                    // Each connection drops what it has had already; at most the last 200 are loaded.
                    // A longer gap means nothing of it was delivered here (the conversation was not
                    // watched): its subscribers read it from the database when they joined.
                    let start = max(known + 1, wanted - 200)
                    if start > known + 1 { self.chatOrder.withLock { $0.delivered[session] = start - 1 } }
                    let missing = try await self.chats.messages(ranges: [(session, start...(wanted - 1))])
                    if self.deliverInOrder(session, loaded: missing, then: []) {
                        self.catchUps.append(contentsOf: [session])
                        try? await Task.sleep(for: .milliseconds(5))
                    }
                } catch {
                    self.logger.warning(
                        "Could not load a conversation's messages", metadata: ["parley.error": "\(error)"])
                    self.catchUps.append(contentsOf: [session])
                    try? await Task.sleep(for: .milliseconds(100))
                }
            }
        }
    }

    /// Live signals waiting to be sent to the other instances, in order.
    private let outgoing = WorkQueue<LiveSignal>()

    /// Delivers here at once; the other instances hear of it from a sender loop that puts
    /// whatever has queued into as few NOTIFYs as fit (a streamed reply makes one signal per
    /// token, and the stream never waits for the database).
    public func relay(_ signal: LiveSignal, from connection: RealtimeConnection.ID?) {
        self.hub.deliver([.live(signal)], except: connection)
        self.outgoing.append(contentsOf: [signal])
    }

    private func sendSignals() async {
        while let batch = await self.outgoing.next(maximum: 500) {
            for payload in BusNotice.payloads(origin: self.origin, items: batch.map(BusNotice.Item.live)) {
                do {
                    try await self.engine.notify(BusNotice.channel, payload: payload)
                } catch {
                    self.logger.warning("Could not relay signals", metadata: ["parley.error": "\(error)"])
                }
            }
        }
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    await self.engine.listen(BusNotice.channel, logger: self.logger) { try await self.receive($0) }
                }
                group.addTask {
                    await withTaskCancellationHandler {
                        await self.catchUp()
                    } onCancel: {
                        self.catchUps.finish()
                    }
                }
                // When shutdown cancels the listener, the sender finishes what is queued.
                group.addTask {
                    await withTaskCancellationHandler {
                        await self.sendSignals()
                    } onCancel: {
                        self.outgoing.finish()
                    }
                }
            }
        }
    }

    /// Another instance's notice: what it names is loaded and delivered here, in the notice's order.
    private func receive(_ payload: String) async throws {
        guard let (origin, all) = try BusNotice.decode(payload) else { return }
        // This instance's own notices: only tickets' changes, delivered here from this stream alone.
        let items = origin != self.origin ? all : all.filter { if case .ticket = $0 { true } else { false } }
        var events: [DomainEvent] = []
        for item in items {
            switch item {
            case .chat(let session, let organization, let from, let to, let created):
                // Skip conversations nobody here watches (their inbox may still want the update).
                guard self.watched(.supportChat(session), organization) else { continue }
                self.hub.deliver(events)
                events = []
                var messages: [ChatMessage] = []
                if let from, let to {
                    // From the first not yet delivered here, so that nothing is skipped.
                    let known = self.chatOrder.withLock { $0.delivered[session] }
                    let start = min(from, (known ?? (from - 1)) + 1)
                    if to >= start { messages = try await self.chats.messages(ranges: [(session, start...to)]) }
                }
                let state = try await self.chats.session(session, in: organization)
                if self.deliverInOrder(
                    session, loaded: messages,
                    then: [created ? .sessionCreated(state) : .sessionUpdated(state, from: nil)])
                {
                    self.catchUps.append(contentsOf: [session])
                }
            case .ticket(let ticket, let organization, let seqs, let created):
                guard self.watched(.support(ticket), organization) else { continue }
                events += try await self.ticketEvents(ticket, in: organization, seqs: seqs, created: created)
            case .notified(let notification):
                events.append(.notified(notification))
            case .live(let signal):
                events.append(.live(signal))
            }
        }
        self.hub.deliver(events)
    }

    private func watched(_ channel: Channel, _ organization: Organization.ID) -> Bool {
        self.hub.subscriberCount(channel) > 0 || self.hub.subscriberCount(.inbox(organization)) > 0
    }

    private func ticketEvents(_ id: Ticket.ID, in organization: Organization.ID, seqs: [Int64], created: Bool)
        async throws -> [DomainEvent]
    {
        let ticket = try await self.tickets.ticket(id, in: organization)
        var events: [DomainEvent] = created ? [.ticketCreated(ticket)] : []
        if let first = seqs.min(), let last = seqs.max() {
            // Notices come in commit order: load from the last seq delivered here (which also fills
            // a gap a lost LISTEN connection left), or from the notice's first.
            let after = self.deliveredTicketSeqs.withLock { $0[id] } ?? (first - 1)
            if last > after {
                let messages = try await self.tickets.messages(
                    of: id, in: organization, includeInternal: true, after: after, limit: Int(last - after))
                events += messages.map { DomainEvent.ticketMessageCreated($0, requester: ticket.visitorID) }
                self.delivered(id, through: last)
            }
        }
        events.append(.ticketUpdated(ticket, before: nil))
        return events
    }
}

extension DomainEvent {
    /// A ticket's change (on PostgreSQL delivered from the ordered notice stream only).
    var isTicketEvent: Bool {
        switch self {
        case .ticketCreated, .ticketMessageCreated, .ticketUpdated: true
        default: false
        }
    }
}

extension DomainEvent {
    /// The conversation it belongs to (its messages and states), if any.
    var chatSessionID: ChatSession.ID? {
        switch self {
        case .messageCreated(let message): message.sessionID
        case .sessionCreated(let session), .sessionUpdated(let session, _): session.id
        default: nil
        }
    }
}
