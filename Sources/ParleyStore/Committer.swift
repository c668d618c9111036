public import Foundation
public import ParleyCore
public import SQLKit
import Synchronization

/// Something that writes, in the committing transaction, what a change's events call for: outbox
/// rows (webhook deliveries, emails), notifications. It may return more events (a stored
/// notification) to publish with the change. Registered once, in ParleyApp.
public protocol CommitRecorder: Sendable {
    func record(_ events: [DomainEvent], now: Date, db: any SQLDatabase) async throws -> [DomainEvent]
}

/// The end of the one road every change takes: it commits a change's state, its events' outbox
/// rows (through the recorders) and, on PostgreSQL, the notice that tells the other instances,
/// all in one transaction; then, and only then, its commit hook publishes the events, in commit
/// order (`CommitSequencer`). `ChatWriter` and `TicketWriter` end here, and so do the few other
/// changes that make events (a conversation started, a notification, feedback).
public struct Committer: Sendable {
    let engine: any DatabaseEngine
    let origin: String
    let recorders: [any CommitRecorder]
    let sequencer: CommitSequencer
    let now: @Sendable () -> Date

    /// `onCommit` hears every committed change's events, in commit order, once per change.
    public init(
        engine: any DatabaseEngine, origin: String = "local", recorders: [any CommitRecorder] = [],
        now: @escaping @Sendable () -> Date = Date.init, onCommit: @escaping @Sendable ([DomainEvent]) -> Void
    ) {
        self.engine = engine
        self.origin = origin
        self.recorders = recorders
        self.now = now
        self.sequencer = CommitSequencer(publish: onCommit)
    }

    /// Runs `change` in a transaction with everything its events call for, and publishes them
    /// once committed. Throws what `change` throws; nothing is written or published then.
    public func commit<T: Sendable>(_ change: @escaping @Sendable (any SQLDatabase) async throws -> (T, [DomainEvent]))
        async throws -> T
    {
        let taken = Mutex<(number: Int, events: [DomainEvent])?>(nil)
        do {
            let value = try await self.engine.transaction { db in
                let (value, events) = try await change(db)
                let all = try await self.record(events, db: db)
                // Taken while the change's locks are held (its rows', or SQLite's single writer):
                // two changes of one ticket or conversation get numbers in their commit order.
                let number = self.sequencer.take()
                taken.withLock { $0 = (number, all) }
                return value
            }
            if let (number, events) = taken.withLock({ $0 }) { self.sequencer.finish(number, events: events) }
            return value
        } catch {
            if let (number, _) = taken.withLock({ $0 }) { self.sequencer.finish(number, events: []) }
            throw error
        }
    }

    /// Inside the change's transaction: the recorders' rows and the instances' notice for
    /// `events`; returns every event to publish (the recorders may add some).
    private func record(_ events: [DomainEvent], db: any SQLDatabase) async throws -> [DomainEvent] {
        var all = events
        guard !events.isEmpty else { return all }
        let now = self.now()
        for recorder in self.recorders { all += try await recorder.record(events, now: now, db: db) }
        if db.parleyDialect == .postgres {
            for payload in BusNotice.payloads(origin: self.origin, items: BusNotice.items(for: all)) {
                try await db.raw("SELECT pg_notify(\(bind: BusNotice.channel), \(bind: payload))").run()
            }
        }
        return all
    }

}

/// Publishes committed changes in the order they took their numbers: a change finished early
/// waits for the ones numbered before it (each is finished, committed or failed, at once).
/// This is what orders one ticket's changes for its subscribers, without a lock around them.
final class CommitSequencer: Sendable {
    private struct State: ~Copyable {
        var next = 0
        var published = 0
        var finished: [Int: [DomainEvent]] = [:]
    }
    private let state = Mutex(State())
    private let publish: @Sendable ([DomainEvent]) -> Void

    init(publish: @escaping @Sendable ([DomainEvent]) -> Void) { self.publish = publish }

    func take() -> Int {
        self.state.withLock { state in
            defer { state.next += 1 }
            return state.next
        }
    }

    func finish(_ number: Int, events: [DomainEvent]) {
        // Publishing happens under the lock, so that two finishers never publish out of order;
        // the hook only hands events on (hub frames, queues), it never waits.
        self.state.withLock { state in
            state.finished[number] = events
            while let ready = state.finished.removeValue(forKey: state.published) {
                state.published += 1
                if !ready.isEmpty { self.publish(ready) }
            }
        }
    }
}

/// The one notice format instances tell each other what changed with (PostgreSQL NOTIFY): the
/// origin instance, a newline, and a JSON array of items. Committed changes are named (ids and
/// seqs; the receiver loads them); live signals and notifications travel whole.
public enum BusNotice {
    /// The one NOTIFY channel.
    public static let channel = "parley_events"
    /// PostgreSQL refuses NOTIFY payloads of 8,000 bytes or more.
    static let payloadLimit = 7_000

    public enum Item: Sendable, Codable, Equatable {
        /// A conversation changed; messages `from...to` are new.
        case chat(session: ChatSession.ID, organization: Organization.ID, from: Int64?, to: Int64?, created: Bool)
        /// A ticket changed; `seqs` are its new messages.
        case ticket(ticket: Ticket.ID, organization: Organization.ID, seqs: [Int64], created: Bool)
        /// A notification was stored.
        case notified(AgentNotification)
        /// A live signal.
        case live(LiveSignal)
    }

    /// The items that tell of `events`, one per conversation or ticket.
    public static func items(for events: [DomainEvent]) -> [Item] {
        var items: [Item] = []
        var chats: [ChatSession.ID: Int] = [:]
        var tickets: [Ticket.ID: Int] = [:]
        func chat(_ session: ChatSession.ID, _ organization: Organization.ID, seq: Int64?, created: Bool) {
            let index =
                chats[session]
                ?? {
                    items.append(
                        .chat(session: session, organization: organization, from: nil, to: nil, created: false))
                    chats[session] = items.count - 1
                    return items.count - 1
                }()
            guard case .chat(let s, let o, var from, var to, var wasCreated) = items[index] else { return }
            if let seq {
                from = min(from ?? seq, seq)
                to = max(to ?? seq, seq)
            }
            wasCreated = wasCreated || created
            items[index] = .chat(session: s, organization: o, from: from, to: to, created: wasCreated)
        }
        func ticket(_ id: Ticket.ID, _ organization: Organization.ID, seq: Int64?, created: Bool) {
            let index =
                tickets[id]
                ?? {
                    items.append(.ticket(ticket: id, organization: organization, seqs: [], created: false))
                    tickets[id] = items.count - 1
                    return items.count - 1
                }()
            guard case .ticket(let t, let o, var seqs, let wasCreated) = items[index] else { return }
            if let seq { seqs.append(seq) }
            items[index] = .ticket(ticket: t, organization: o, seqs: seqs, created: wasCreated || created)
        }
        for event in events {
            switch event {
            case .messageCreated(let message):
                chat(message.sessionID, message.organizationID, seq: message.seq, created: false)
            case .sessionCreated(let session): chat(session.id, session.organizationID, seq: nil, created: true)
            case .sessionUpdated(let session, _): chat(session.id, session.organizationID, seq: nil, created: false)
            case .ticketCreated(let t): ticket(t.id, t.organizationID, seq: nil, created: true)
            case .ticketMessageCreated(let message, _):
                ticket(message.ticketID, message.organizationID, seq: message.seq, created: false)
            case .ticketUpdated(let t, _): ticket(t.id, t.organizationID, seq: nil, created: false)
            case .notified(let notification): items.append(.notified(notification))
            case .live(let signal): items.append(.live(signal))
            case .feedbackCreated: continue
            }
        }
        return items
    }

    /// NOTIFY payloads for `items`, each under the size limit. Every instance hears its own
    /// notices too; the origin up front lets it drop them unparsed.
    public static func payloads(origin: String, items: [Item]) -> [String] {
        let encoder = JSONEncoder()
        var payloads: [String] = []
        var current: [String] = []
        var size = 0
        for item in items {
            guard let json = try? String(decoding: encoder.encode(item), as: UTF8.self) else { continue }
            let length = json.utf8.count + 1
            if !current.isEmpty && size + length > Self.payloadLimit {
                payloads.append("\(origin)\n[\(current.joined(separator: ","))]")
                current = []
                size = 0
            }
            current.append(json)
            size += length
        }
        if !current.isEmpty { payloads.append("\(origin)\n[\(current.joined(separator: ","))]") }
        return payloads
    }

    /// A payload's origin and items (nil when it is not one).
    public static func decode(_ payload: String) throws -> (origin: String, items: [Item])? {
        guard let newline = payload.firstIndex(of: "\n") else { return nil }
        let items = try JSONDecoder().decode([Item].self, from: Data(payload[payload.index(after: newline)...].utf8))
        return (String(payload[..<newline]), items)
    }
}
