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
/// (its own notices are skipped). A ticket's reach every instance's hub, this one's included,
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

    public func publish(_ events: [DomainEvent]) {
        self.hub.deliver(events.filter { !$0.isTicketEvent })
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
        var ranges: [(ChatSession.ID, ClosedRange<Int64>)] = []
        /// Conversations' messages are loaded together; what follows them waits its turn.
        func flushMessages() async throws {
            guard !ranges.isEmpty else { return }
            let messages = try await self.chats.messages(ranges: ranges)
            events.insert(contentsOf: messages.map(DomainEvent.messageCreated), at: 0)
            ranges = []
        }
        for item in items {
            switch item {
            case .chat(let session, let organization, let from, let to, let created):
                // Skip conversations nobody here watches (their inbox may still want the update).
                guard self.watched(.supportChat(session), organization) else { continue }
                if let from, let to { ranges.append((session, from...to)) }
                let state = try await self.chats.session(session, in: organization)
                events.append(created ? .sessionCreated(state) : .sessionUpdated(state, from: nil))
            case .ticket(let ticket, let organization, let seqs, let created):
                guard self.watched(.support(ticket), organization) else { continue }
                events += try await self.ticketEvents(ticket, in: organization, seqs: seqs, created: created)
            case .notified(let notification):
                events.append(.notified(notification))
            case .live(let signal):
                events.append(.live(signal))
            }
        }
        try await flushMessages()
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
