import Foundation
import ParleyCore
@testable import ParleyStore
import ParleyTesting
import Synchronization
import Testing

/// The end of the road: what commits is published once, in commit order, and only if it commits.
@Suite struct CommitterTests {
    static func note(_ text: String) -> DomainEvent {
        .live(.typing(session: .init(), organization: .init(), role: .agent, name: text, on: true))
    }

    @Test func aChangeFinishedEarlyWaitsForTheOnesNumberedBeforeIt() {
        let published = Mutex<[String]>([])
        let sequencer = CommitSequencer { events in
            for case .live(.typing(_, _, _, let name?, _)) in events { published.withLock { $0.append(name) } }
        }
        let first = sequencer.take()
        let second = sequencer.take()
        let third = sequencer.take()
        // The second change commits after the first but its caller returns first.
        sequencer.finish(second, events: [Self.note("second")])
        #expect(published.withLock { $0 } == [])
        sequencer.finish(third, events: [])  // rolled back: nothing to publish, and no gap
        sequencer.finish(first, events: [Self.note("first")])
        #expect(published.withLock { $0 } == ["first", "second"])
        let fourth = sequencer.take()
        sequencer.finish(fourth, events: [Self.note("fourth")])
        #expect(published.withLock { $0 } == ["first", "second", "fourth"])
    }

    @Test(arguments: TestDatabase.all)
    func aChangeThatFailsIsNeitherWrittenNorPublishedAndTheNextOneIs(database: TestDatabase) async throws {
        try await database.withEngine { engine in
            let stores = Stores(engine: engine, hasher: PasswordHasher(cost: 4))
            let org = try await stores.makeOrganization()
            let published = Mutex<[DomainEvent]>([])
            let writer = stores.ticketWriter { events in published.withLock { $0 += events } }
            let ticket = try await writer.create(
                .init(requesterEmail: "a@example.com", subject: "Help", body: "Please"), in: org.organization.id)
            await #expect(throws: TicketTransitionError.self) {
                try await writer.apply(.customerReopen, to: ticket.id, in: org.organization.id)
            }
            _ = try await writer.setTags(["vip"], of: ticket.id, in: org.organization.id)
            let names = published.withLock { $0.map(\.name) }
            #expect(names == ["ticket.created", "message.created", "ticket.updated", "ticket.updated"])
            let audit = try await stores.tickets.ticket(ticket.id, in: org.organization.id)
            #expect(audit.tags == ["vip"] && audit.status == .open)
        }
    }
}
