import Foundation
import Logging
import ParleyCore
import ParleyRealtime
import ParleyStore
import ParleyTesting
import Testing

@testable import ParleyApp

@Suite struct IdleConversationsTests {
    @Test(arguments: TestDatabase.all)
    func idleConversationsAreClosedWithoutLosingAnythingAndSubscribersHear(database: TestDatabase) async throws {
        try await database.withEngine { engine in
            let stores = Stores(engine: engine, hasher: PasswordHasher(cost: 4))
            let hub = RealtimeHub()
            let writer = ChatWriter(engine: engine, origin: "test", logger: Logger(label: "test")) { hub.deliver($0) }
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await writer.run() }
                defer { group.cancelAll() }
                let org = try await stores.makeOrganization()
                let idle = try await writer.start(site: org.site, anonymousID: "idle", identity: nil, page: nil)
                _ = try await writer.submit(
                    .init(
                        sessionID: idle.session.id, organizationID: org.organization.id,
                        actor: .visitor(idle.visitor.id), command: .visitorMessage(body: "hello?", clientID: "1")))
                let watcher = hub.connect(.agent(nil, organization: org.organization.id))
                hub.beginJoin(watcher, channel: .inbox(org.organization.id), after: 0)
                hub.goLive(
                    watcher, channel: .inbox(org.organization.id), replay: [ChatMessage](), subscribedFrame: "{}")

                // Nothing is idle for an hour yet: nothing closes.
                try await IdleConversations.handler(stores, writer: writer, timeout: 3600)(
                    Job(id: .init(), kind: "", payload: "", attempts: 1, maxAttempts: 1, runAt: Date()))
                #expect(try await stores.chats.session(idle.session.id, in: org.organization.id).status == .aiActive)
                // With a zero timeout it is idle.
                try await IdleConversations.handler(stores, writer: writer, timeout: 0)(
                    Job(id: .init(), kind: "", payload: "", attempts: 1, maxAttempts: 1, runAt: Date()))
                let closed = try await stores.chats.session(idle.session.id, in: org.organization.id)
                #expect(closed.status == .closed)
                // A conversation waiting for the team stays open however long it waits.
                let waiting = try await writer.start(
                    site: org.site, anonymousID: "waiting", identity: nil, page: nil)
                _ = try await writer.submit(
                    .init(
                        sessionID: waiting.session.id, organizationID: org.organization.id,
                        actor: .visitor(waiting.visitor.id), command: .escalate(.visitorAsked, visitorHasEmail: false)))
                try await IdleConversations.handler(stores, writer: writer, timeout: 0)(
                    Job(id: .init(), kind: "", payload: "", attempts: 1, maxAttempts: 1, runAt: Date()))
                #expect(
                    try await stores.chats.session(waiting.session.id, in: org.organization.id).status == .escalated)
                let messages = try await stores.chats.messages(in: idle.session.id, after: 0, limit: 10)
                #expect(messages.map(\.body).first == "hello?")
                #expect(messages.last?.role == .system)
                hub.disconnect(watcher)
                var frames: [String] = []
                while let batch = await watcher.nextFrames() { frames += batch.map { String(buffer: $0) } }
                #expect(frames.contains { $0.contains("\"session.updated\"") && $0.contains("\"closed\"") })
            }
        }
    }
}
