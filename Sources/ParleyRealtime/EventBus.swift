import Foundation
import Synchronization
public import Logging
public import ParleyCore
public import ParleyStore
public import ServiceLifecycle

/// Carries committed events and live signals to every instance's hub.
public protocol EventBus: Service {
    /// Events this instance committed (its writer's `onCommit`, the ticket handlers), in commit order.
    func publish(_ events: [DomainEvent])
    /// A live signal (typing, read, presence) from a connection of this instance.
    func publish(_ signal: Signal, from connection: RealtimeConnection.ID?) async
    /// Held while a ticket change commits and is published (see `publishing`).
    var ticketOrder: AsyncLock { get }
}

/// One process: events go straight to the local hub (SQLite, or a single instance).
public struct LocalEventBus: EventBus {
    let hub: RealtimeHub
    public var ticketOrder: AsyncLock { self.hub.ticketOrder }

    public init(hub: RealtimeHub) { self.hub = hub }

    public func publish(_ events: [DomainEvent]) { self.hub.deliver(events) }

    public func publish(_ signal: Signal, from connection: RealtimeConnection.ID?) async {
        self.hub.deliver(signal, except: connection)
    }

    public func run() async throws { try? await gracefulShutdown() }
}

/// Several instances on one PostgreSQL: this instance's events go to its own hub at once; the
/// writer's one NOTIFY per group commit tells the others, which load the new messages by seq
/// range from the database (payloads stay small). Signals travel in their own NOTIFY, and so do
/// tickets' changes (ids and seqs; the others load the rest).
public final class PostgresEventBus: EventBus {
    public static let signalChannel = "parley_signal"
    /// Tickets' notices travel on the signal channel, marked by this first line (one LISTEN
    /// connection fewer per instance).
    static let ticketNoticePrefix = "ticket\n"

    let hub: RealtimeHub
    public var ticketOrder: AsyncLock { self.hub.ticketOrder }
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

    /// A ticket's change as the other instances hear of it.
    struct TicketNotice: Codable, Sendable {
        var origin: String
        var ticket: String
        var organization: String
        /// The seqs of the messages the change added.
        var seqs: [Int64]
    }

    /// Tickets' changes waiting to be sent to the other instances, in order.
    private let outgoingTickets = WorkQueue<TicketNotice>()
    /// Per ticket, the last message seq this instance delivered: a notice that overtook an
    /// earlier one (from another instance) loads the messages in between too, in order.
    private let deliveredTicketSeqs = Mutex<[Ticket.ID: Int64]>([:])

    private func delivered(_ ticket: Ticket.ID, through seq: Int64) {
        self.deliveredTicketSeqs.withLock { seqs in
            if seqs.count > 10_000 { seqs.removeAll() }
            seqs[ticket] = max(seqs[ticket] ?? 0, seq)
        }
    }

    public func publish(_ events: [DomainEvent]) {
        self.hub.deliver(events)
        // Conversations' events reach the others through the writer's notice; tickets' from here.
        var notices: [TicketNotice] = []
        for event in events {
            switch event {
            case .ticketMessageCreated(let message, _):
                self.delivered(message.ticketID, through: message.seq)
                notices.append(
                    TicketNotice(
                        origin: self.origin, ticket: message.ticketID.description,
                        organization: message.organizationID.description, seqs: [message.seq]))
            case .ticketUpdated(let ticket):
                if let last = notices.last, last.ticket == ticket.id.description { continue }
                notices.append(
                    TicketNotice(
                        origin: self.origin, ticket: ticket.id.description,
                        organization: ticket.organizationID.description, seqs: []))
            case .messageCreated, .sessionCreated, .sessionUpdated:
                continue
            }
        }
        if !notices.isEmpty { self.outgoingTickets.append(contentsOf: notices) }
    }

    private func sendTickets() async {
        while let batch = await self.outgoingTickets.next(maximum: 100) {
            for notice in batch {
                guard let payload = try? String(decoding: JSONEncoder().encode(notice), as: UTF8.self) else { continue }
                do {
                    try await self.engine.notify(Self.signalChannel, payload: Self.ticketNoticePrefix + payload)
                } catch {
                    self.logger.warning("Could not publish a ticket's change", metadata: ["parley.error": "\(error)"])
                }
            }
        }
    }

    private func receiveTicket(_ payload: String) async throws {
        let notice = try JSONDecoder().decode(TicketNotice.self, from: Data(payload.utf8))
        guard notice.origin != self.origin, let id = Ticket.ID(notice.ticket),
            let organization = Organization.ID(notice.organization)
        else { return }
        guard self.hub.subscriberCount(.support(id)) > 0 || self.hub.subscriberCount(.inbox(organization)) > 0 else {
            return
        }
        let ticket = try await self.tickets.ticket(id, in: organization)
        var events: [DomainEvent] = []
        if let first = notice.seqs.min(), let last = notice.seqs.max() {
            let known = self.deliveredTicketSeqs.withLock { $0[id] }
            let after = known ?? (first - 1)
            if last > after {
                let messages = try await self.tickets.messages(
                    of: id, in: organization, includeInternal: true, after: after, limit: Int(last - after))
                events += messages.map { DomainEvent.ticketMessageCreated($0, requester: ticket.visitorID) }
                self.delivered(id, through: last)
            }
        }
        events.append(.ticketUpdated(ticket))
        self.hub.deliver(events)
    }

    /// Signals waiting to be sent to the other instances, in order.
    private let outgoing = WorkQueue<Signal>()
    /// PostgreSQL refuses NOTIFY payloads of 8,000 bytes or more.
    static let payloadLimit = 7_000

    /// NOTIFY payloads for `signals`: the origin instance, a newline, then a JSON array of signals,
    /// each payload under the size limit. Every instance hears its own notices too; the origin up
    /// front lets it drop them unparsed.
    static func signalPayloads(origin: String, signals: [Signal]) -> [String] {
        let encoder = JSONEncoder()
        var payloads: [String] = []
        var current: [String] = []
        var size = 0
        for signal in signals {
            guard let json = try? String(decoding: encoder.encode(signal), as: UTF8.self) else { continue }
            let length: Int = json.utf8.count + 1
            if !current.isEmpty && size + length > Self.payloadLimit {
                let joined: String = current.joined(separator: ",")
                payloads.append("\(origin)\n[\(joined)]")
                current = []
                size = 0
            }
            current.append(json)
            size += length
        }
        if !current.isEmpty {
            let joined: String = current.joined(separator: ",")
            payloads.append("\(origin)\n[\(joined)]")
        }
        return payloads
    }

    /// Delivers here at once; the other instances hear of it from a sender loop that puts
    /// whatever has queued into as few NOTIFYs as fit (a streamed reply makes one signal per
    /// token, and the stream never waits for the database).
    public func publish(_ signal: Signal, from connection: RealtimeConnection.ID?) async {
        self.hub.deliver(signal, except: connection)
        self.outgoing.append(contentsOf: [signal])
    }

    private func sendSignals() async {
        while let batch = await self.outgoing.next(maximum: 500) {
            for payload in Self.signalPayloads(origin: self.origin, signals: batch) {
                do {
                    try await self.engine.notify(Self.signalChannel, payload: payload)
                } catch {
                    self.logger.warning("Could not publish signals", metadata: ["parley.error": "\(error)"])
                }
            }
        }
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    await self.engine.listen(ChatWriter.noticeChannel, logger: self.logger) {
                        try await self.receiveChat($0)
                    }
                }
                group.addTask {
                    await self.engine.listen(Self.signalChannel, logger: self.logger) {
                        try await self.receiveSignal($0)
                    }
                }
                group.addTask {
                    await withTaskCancellationHandler {
                        await self.sendTickets()
                    } onCancel: {
                        self.outgoingTickets.finish()
                    }
                }
                // When shutdown cancels the listeners, the sender finishes what is queued.
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

    private func receiveChat(_ payload: String) async throws {
        let notice = try JSONDecoder().decode(ChatWriter.Notice.self, from: Data(payload.utf8))
        guard notice.origin != self.origin else { return }
        var ranges: [(ChatSession.ID, ClosedRange<Int64>)] = []
        var events: [DomainEvent] = []
        for change in notice.changes {
            guard let session = ChatSession.ID(change.session), let organization = Organization.ID(change.organization)
            else { continue }
            // Skip conversations nobody here watches (their inbox may still want the update).
            let watched =
                self.hub.subscriberCount(.supportChat(session)) > 0
                || self.hub.subscriberCount(.inbox(organization)) > 0
            guard watched else { continue }
            if let from = change.from, let to = change.to { ranges.append((session, from...to)) }
            if change.stateChanged {
                events.append(.sessionUpdated(try await self.chats.session(session, in: organization)))
            }
        }
        let messages = try await self.chats.messages(ranges: ranges)
        self.hub.deliver(messages.map(DomainEvent.messageCreated) + events)
    }

    private func receiveSignal(_ payload: String) async throws {
        if payload.hasPrefix(Self.ticketNoticePrefix) {
            try await self.receiveTicket(String(payload.dropFirst(Self.ticketNoticePrefix.count)))
            return
        }
        guard let newline = payload.firstIndex(of: "\n"), payload[..<newline] != self.origin else { return }
        let signals = try JSONDecoder().decode(
            [Signal].self, from: Data(payload[payload.index(after: newline)...].utf8))
        for signal in signals { self.hub.deliver(signal) }
    }
}

extension EventBus {
    /// A new ticket: `ticket.created` on the inbox, its state, and its first messages on its channel.
    public func publishCreated(_ ticket: Ticket, messages: [TicketMessage]) async {
        self.publish(
            messages.map { .ticketMessageCreated($0, requester: ticket.visitorID) } + [.ticketUpdated(ticket)])
        await self.publish(
            .ticketCreated(
                ticket.id, organization: ticket.organizationID, session: ticket.chatSessionID, subject: ticket.subject),
            from: nil)
    }

    /// Publishes a committed ticket change: its message and the ticket's new state on
    /// `support:<ticketId>` (the state on `inbox:` too), and the notifications it made.
    public func publish(_ change: TicketStore.Change) async {
        var events: [DomainEvent] = []
        if let message = change.message {
            events.append(.ticketMessageCreated(message, requester: change.ticket.visitorID))
        }
        events.append(.ticketUpdated(change.ticket))
        self.publish(events)
        for notification in change.notifications { await self.publish(.notified(notification), from: nil) }
    }
}

extension EventBus {
    /// Runs `change` (a ticket store call) and publishes what it committed, one change at a time
    /// per instance; returns the change. Ticket changes are published in the order they commit:
    /// a ticket's messages carry gap-free seqs and subscribers drop a message older than the last
    /// one they got, so two changes racing (a customer's reply and an agent's) must not be
    /// published the other way round.
    @discardableResult
    public func publishing(_ change: @Sendable () async throws -> TicketStore.Change) async throws
        -> TicketStore.Change
    {
        try await self.ticketOrder.withLock {
            let committed = try await change()
            await self.publish(committed)
            return committed
        }
    }
}
