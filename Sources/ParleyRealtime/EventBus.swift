import Foundation
public import Logging
public import ParleyCore
public import ParleyStore
public import ServiceLifecycle

/// Carries committed events and live signals to every instance's hub.
public protocol EventBus: Service {
    /// Events this instance committed (its writer's `onCommit`), in commit order.
    func publish(_ events: [DomainEvent])
    /// A live signal (typing, read, presence) from a connection of this instance.
    func publish(_ signal: Signal, from connection: RealtimeConnection.ID?) async
}

/// One process: events go straight to the local hub (SQLite, or a single instance).
public struct LocalEventBus: EventBus {
    let hub: RealtimeHub

    public init(hub: RealtimeHub) { self.hub = hub }

    public func publish(_ events: [DomainEvent]) { self.hub.deliver(events) }

    public func publish(_ signal: Signal, from connection: RealtimeConnection.ID?) async {
        self.hub.deliver(signal, except: connection)
    }

    public func run() async throws { try? await gracefulShutdown() }
}

/// Several instances on one PostgreSQL: this instance's events go to its own hub at once; the
/// writer's one NOTIFY per group commit tells the others, which load the new messages by seq
/// range from the database (payloads stay small). Signals travel in their own NOTIFY.
public final class PostgresEventBus: EventBus {
    public static let signalChannel = "parley_signal"

    let hub: RealtimeHub
    let engine: PostgresEngine
    let chats: ChatStore
    let origin: String
    let logger: Logger

    public init(hub: RealtimeHub, engine: PostgresEngine, chats: ChatStore, origin: String, logger: Logger) {
        self.hub = hub
        self.engine = engine
        self.chats = chats
        self.origin = origin
        self.logger = logger
    }

    public func publish(_ events: [DomainEvent]) { self.hub.deliver(events) }

    /// A signal's NOTIFY payload: the origin instance, a newline, the signal as JSON. Every
    /// instance hears its own notices too; the origin up front lets it drop them unparsed (a
    /// streamed reply sends one per token).
    static func signalPayload(origin: String, signal: Signal) throws -> String {
        origin + "\n" + String(decoding: try JSONEncoder().encode(signal), as: UTF8.self)
    }

    public func publish(_ signal: Signal, from connection: RealtimeConnection.ID?) async {
        self.hub.deliver(signal, except: connection)
        do {
            let payload = try Self.signalPayload(origin: self.origin, signal: signal)
            try await self.engine.notify(Self.signalChannel, payload: payload)
        } catch {
            self.logger.warning("Could not publish a signal", metadata: ["parley.error": "\(error)"])
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
        guard let newline = payload.firstIndex(of: "\n"), payload[..<newline] != self.origin else { return }
        let signal = try JSONDecoder().decode(Signal.self, from: Data(payload[payload.index(after: newline)...].utf8))
        self.hub.deliver(signal)
    }
}
