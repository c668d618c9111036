import Foundation
import Logging
import ParleyCore
import ParleyStore
import ParleyTesting
import Synchronization
import Testing

/// The writer is the one road by which conversations change: seq, dedupe, lifecycle, events.
@Suite struct ChatWriterTests {
    /// Runs `body` with stores, a running writer and the events it published.
    static func withWriter(
        _ database: TestDatabase, _ body: @Sendable (Stores, ChatWriter, EventLog) async throws -> Void
    ) async throws {
        try await database.withEngine { engine in
            let stores = Stores(engine: engine, hasher: PasswordHasher(cost: 4))
            let log = EventLog()
            let writer = ChatWriter(engine: engine, origin: "test", logger: Logger(label: "test")) { log.append($0) }
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await writer.run() }
                defer { group.cancelAll() }
                try await body(stores, writer, log)
            }
        }
    }

    @Test(arguments: TestDatabase.all)
    func concurrentMessagesGetGapFreeSeqsAndEveryOneIsStored(database: TestDatabase) async throws {
        try await Self.withWriter(database) { stores, writer, log in
            let org = try await stores.makeOrganization()
            let started = try await writer.start(
                site: org.site, anonymousID: "browser-1", identity: nil, page: nil)
            let count = 200
            let seqs = try await withThrowingTaskGroup(of: Int64.self) { group in
                for index in 0..<count {
                    group.addTask {
                        let outcome = try await writer.submit(
                            .init(
                                sessionID: started.session.id, organizationID: org.organization.id,
                                actor: .visitor(started.visitor.id),
                                command: .visitorMessage(body: "m\(index)", clientID: "c\(index)")))
                        return outcome.messages[0].seq
                    }
                }
                return try await group.reduce(into: [Int64]()) { $0.append($1) }
            }
            #expect(seqs.sorted() == Array(1...Int64(count)))
            let stored = try await stores.chats.messages(in: started.session.id, after: 0, limit: 500)
            #expect(stored.map(\.seq) == Array(1...Int64(count)))
            #expect(Set(stored.map(\.clientID)).count == count)
            // Events were published in commit order: message seqs ascend.
            let published = log.events.compactMap { event -> Int64? in
                if case .messageCreated(let message) = event { return message.seq } else { return nil }
            }
            #expect(published == Array(1...Int64(count)))
        }
    }

    @Test(arguments: TestDatabase.all)
    func aResendWithTheSameClientIDReturnsTheOriginal(database: TestDatabase) async throws {
        try await Self.withWriter(database) { stores, writer, _ in
            let org = try await stores.makeOrganization()
            let started = try await writer.start(
                site: org.site, anonymousID: "browser-1", identity: nil, page: nil)
            let request = ChatWriter.Request(
                sessionID: started.session.id, organizationID: org.organization.id, actor: .visitor(started.visitor.id),
                command: .visitorMessage(body: "Hello", clientID: "same"))
            let first = try await writer.submit(request)
            // Twice at once, and once later: still one message.
            async let second = writer.submit(request)
            async let third = writer.submit(request)
            let repeats = try await [second, third]
            #expect(first.duplicateOf == nil)
            for outcome in repeats { #expect(outcome.duplicateOf?.id == first.messages[0].id) }
            #expect(try await stores.chats.messages(in: started.session.id, after: 0, limit: 10).count == 1)
            #expect(try await stores.chats.session(started.session.id, in: org.organization.id).lastSeq == 1)
        }
    }

    @Test(arguments: TestDatabase.all)
    func theLifecycleRunsThroughTheWriter(database: TestDatabase) async throws {
        try await Self.withWriter(database) { stores, writer, _ in
            let org = try await stores.makeOrganization()
            let started = try await writer.start(site: org.site, anonymousID: "b", identity: nil, page: nil)
            func run(_ command: ChatCommand, as actor: ChatWriter.Actor = .team) async throws -> ChatOutcome {
                try await writer.submit(
                    .init(
                        sessionID: started.session.id, organizationID: org.organization.id, actor: actor,
                        command: command))
            }
            _ = try await run(.visitorMessage(body: "Hi", clientID: "1"), as: .visitor(started.visitor.id))
            let reply = try await run(
                .agentMessage(agent: org.owner.id, agentName: "Ann", body: "Hello!", clientID: nil))
            #expect(reply.session.status == .agentActive)
            #expect(reply.session.assignedAgentID == org.owner.id)
            #expect(reply.messages.map(\.role) == [.system, .agent])
            #expect(reply.messages.map(\.seq) == [2, 3])
            let closed = try await run(.close(.agent))
            #expect(closed.session.status == .closed)
            await #expect(throws: InvalidTransition.self) { try await run(.close(.agent)) }
            _ = try await run(.archive)
            let reopened = try await run(
                .visitorMessage(body: "One more thing", clientID: "2"), as: .visitor(started.visitor.id))
            #expect(reopened.session.status == .aiActive)
            #expect(reopened.session.archivedAt == nil)
            let stored = try await stores.chats.session(started.session.id, in: org.organization.id)
            #expect(stored.status == .aiActive)
            #expect(stored.lastSeq == 5)
            #expect(stored.lastMessagePreview == "One more thing")
        }
    }

    @Test(arguments: TestDatabase.all)
    func nobodyWritesToAConversationThatIsNotTheirs(database: TestDatabase) async throws {
        try await Self.withWriter(database) { stores, writer, _ in
            let org = try await stores.makeOrganization()
            let other = try await stores.makeOrganization("Other")
            let mine = try await writer.start(site: org.site, anonymousID: "me", identity: nil, page: nil)
            let theirs = try await writer.start(site: org.site, anonymousID: "them", identity: nil, page: nil)
            await #expect(throws: DomainError.notFound(entity: "conversation")) {
                try await writer.submit(
                    .init(
                        sessionID: theirs.session.id, organizationID: org.organization.id,
                        actor: .visitor(mine.visitor.id), command: .visitorMessage(body: "x", clientID: "x")))
            }
            await #expect(throws: DomainError.notFound(entity: "conversation")) {
                try await writer.submit(
                    .init(
                        sessionID: mine.session.id, organizationID: other.organization.id,
                        actor: .team, command: .close(.agent)))
            }
            #expect(try await stores.chats.messages(in: theirs.session.id, after: 0, limit: 10).isEmpty)
        }
    }

    @Test(arguments: TestDatabase.all)
    func aReturningVisitorResumesTheirOpenConversation(database: TestDatabase) async throws {
        try await Self.withWriter(database) { stores, writer, _ in
            let org = try await stores.makeOrganization()
            let first = try await writer.start(site: org.site, anonymousID: "b", identity: nil, page: "/pricing")
            _ = try await writer.submit(
                .init(
                    sessionID: first.session.id, organizationID: org.organization.id,
                    actor: .visitor(first.visitor.id), command: .visitorMessage(body: "Hi", clientID: "1")))
            let again = try await writer.start(site: org.site, anonymousID: "b", identity: nil, page: "/docs")
            #expect(again.session.id == first.session.id)
            #expect(!again.isNew)
            #expect(again.recent.map(\.body) == ["Hi"])
            #expect(again.visitor.currentPage == "/docs")
            // An identified user on a new browser finds the same visitor.
            let identified = try await writer.start(
                site: org.site, anonymousID: "b", identity: .init(id: "u-42"), page: nil)
            let newBrowser = try await writer.start(
                site: org.site, anonymousID: "other-browser", identity: .init(id: "u-42"), page: nil)
            #expect(newBrowser.visitor.id == identified.visitor.id)
            _ = try await writer.submit(
                .init(
                    sessionID: first.session.id, organizationID: org.organization.id, actor: .team,
                    command: .close(.agent)))
            let afterClose = try await writer.start(site: org.site, anonymousID: "b", identity: nil, page: nil)
            #expect(afterClose.session.id != first.session.id)
            #expect(afterClose.isNew)
        }
    }
}

final class EventLog: Sendable {
    private let storage = Mutex<[DomainEvent]>([])
    func append(_ events: [DomainEvent]) { self.storage.withLock { $0 += events } }
    var events: [DomainEvent] { self.storage.withLock { $0 } }
}
