import Foundation
import ParleyCore
import ParleyStore
import ParleyTesting
import SQLKit
import Testing

@Suite struct TicketStoreTests {
    static let words = [
        "invoice", "login", "password", "refund", "export", "sync", "billing", "plan", "upgrade", "error",
        "email", "phone", "mobile", "desktop", "crash", "slow", "missing", "duplicate", "charge", "account",
    ]

    /// 100,000 tickets (and a message each) written straight into the tables, in one transaction.
    static func seed(_ engine: any DatabaseEngine, organization: Organization.ID, agent: Agent.ID) async throws {
        let statuses = TicketStatus.allCases
        let priorities = TicketPriority.allCases
        let start = Int64(1_800_000_000_000)
        try await engine.transaction { db in
            for chunk in 0..<200 {
                var tickets: [SQLQueryString] = []
                var messages: [SQLQueryString] = []
                var search: [SQLQueryString] = []
                for offset in 0..<500 {
                    let index = chunk * 500 + offset
                    let id = UUID().uuidString.lowercased()
                    // One ticket in 10,000 mentions a zeppelin, in its subject or in its message.
                    let rare = index % 10_000 == 0
                    let subject =
                        "\(Self.words[index % 20]) \(Self.words[(index / 20) % 20]) #\(index)"
                        + (rare && index % 20_000 == 0 ? " zeppelin" : "")
                    let body =
                        "The \(Self.words[(index / 7) % 20]) problem again"
                        + (rare && index % 20_000 != 0 ? " with a zeppelin" : "")
                    let created = start + Int64(index) * 1000
                    let assignee: String? = index % 5 == 0 ? agent.description : nil
                    tickets.append(
                        """
                        (\(bind: id), \(bind: organization.description), 'c@example.com', \(bind: subject),
                         \(bind: statuses[index % statuses.count].rawValue), \(bind: priorities[index % priorities.count].rawValue),
                         'form', 1, \(bind: created), \(bind: created), \(bind: assignee))
                        """)
                    messages.append(
                        """
                        (\(bind: UUID().uuidString.lowercased()), \(bind: id), \(bind: organization.description), 1, 'customer',
                         \(bind: body), \(bind: false), \(bind: created))
                        """)
                    if db.dialect.name != "postgresql" {
                        search.append("(\(bind: id), \(bind: organization.description), \(bind: subject))")
                        search.append("(\(bind: id), \(bind: organization.description), \(bind: body))")
                    }
                }
                func joined(_ rows: [SQLQueryString]) -> SQLQueryString {
                    var query: SQLQueryString = ""
                    for (index, row) in rows.enumerated() { query = query + (index == 0 ? "" : ", ") + row }
                    return query
                }
                try await db.raw(
                    """
                    INSERT INTO tickets (id, organization_id, requester_email, subject, status, priority, source, last_seq,
                        created_at, updated_at, assignee_id) VALUES
                    """ + joined(tickets)
                ).run()
                try await db.raw(
                    "INSERT INTO ticket_messages (id, ticket_id, organization_id, seq, role, body, internal, created_at) VALUES "
                        + joined(messages)
                ).run()
                if !search.isEmpty {
                    try await db.raw(
                        "INSERT INTO ticket_search (ticket_id, organization_id, text) VALUES " + joined(search)
                    )
                    .run()
                }
            }
        }
        try await engine.transaction { db in
            if db.dialect.name == "postgresql" {
                try await db.raw("ANALYZE tickets").run()
                try await db.raw("ANALYZE ticket_messages").run()
            } else {
                try await db.raw("ANALYZE").run()
            }
        }
    }

    /// The filtered list and the search over 100,000 tickets run on their indexes: the query plan
    /// says so (no full scan of the tickets), and the times are printed, never asserted.
    @Test(arguments: TestDatabase.all)
    func aHundredThousandTicketsAreFilteredAndSearchedThroughIndexes(database: TestDatabase) async throws {
        try await database.withEngine { engine in
            let stores = Stores(engine: engine, hasher: PasswordHasher(cost: 4))
            let org = try await stores.makeOrganization()
            let seeding = ContinuousClock.now
            try await Self.seed(engine, organization: org.organization.id, agent: org.owner.id)
            print("tickets (\(database)): seeded 100,000 tickets and messages in \(ContinuousClock.now - seeding)")

            var cases: [(String, TicketStore.Filter, [String])] = []
            var open = TicketStore.Filter()
            open.statuses = [.open]
            cases.append(("status=open, newest first", open, ["tickets_org_status"]))
            var mine = TicketStore.Filter()
            mine.assignee = .agent(org.owner.id)
            cases.append(("assignee=me", mine, ["tickets_org_assignee"]))
            var urgent = TicketStore.Filter()
            urgent.priorities = [.urgent]
            urgent.sort = .oldest
            cases.append(("priority=urgent, oldest first", urgent, ["tickets_org_priority"]))
            var search = TicketStore.Filter()
            search.text = "zeppelin"
            cases.append(
                (
                    "search: zeppelin", search,
                    database == .sqlite ? ["ticket_search"] : ["tickets_subject_search", "ticket_messages_search"]
                ))
            var both = TicketStore.Filter()
            both.text = "invoice login"
            both.statuses = [.open, .inProgress]
            cases.append(
                (
                    "search: invoice login, open or in progress", both,
                    database == .sqlite ? ["ticket_search"] : ["ticket_messages_search"]
                ))

            for (name, filter, indexes) in cases {
                let plan = try await stores.tickets.explainList(
                    in: org.organization.id, filter: filter, page: PageRequest(limit: 50))
                let text = plan.joined(separator: "\n")
                for index in indexes { #expect(text.contains(index), "\(name) should use \(index):\n\(text)") }
                // Never a full scan of the tickets table.
                #expect(!plan.contains { $0.trimmingCharacters(in: .whitespaces) == "SCAN t" }, "\(name):\n\(text)")
                #expect(!text.contains("Seq Scan on tickets"), "\(name):\n\(text)")
                let started = ContinuousClock.now
                let page = try await stores.tickets.list(
                    in: org.organization.id, filter: filter, page: PageRequest(limit: 50))
                let first = ContinuousClock.now - started
                print("tickets (\(database)): \(name): \(page.items.count) on the first page in \(first)")
                if name == "search: zeppelin" {
                    #expect(page.items.count == 10)
                }
                #expect(!page.items.isEmpty)
            }
        }
    }

    @Test(arguments: TestDatabase.all)
    func changesAppendToTheThreadInOrderAndRespectTheLifecycle(database: TestDatabase) async throws {
        try await database.withEngine { engine in
            let stores = Stores(engine: engine, hasher: PasswordHasher(cost: 4))
            let org = try await stores.makeOrganization()
            let ticket = try await stores.ticketWriter().create(
                .init(requesterEmail: "c@example.com", subject: "Help", body: "First"), in: org.organization.id)
            let change = try await stores.ticketWriter().apply(
                .agentReply(org.owner.id), to: ticket.id, in: org.organization.id,
                message: .init(role: .agent, body: "Second", author: org.owner.id))
            #expect(change.message?.seq == 2)
            #expect(change.ticket.status == .waitingOnCustomer)
            _ = try await stores.ticketWriter().apply(
                .internalNote, to: ticket.id, in: org.organization.id,
                message: .init(role: .agent, body: "Note", isInternal: true))
            let thread = try await stores.tickets.messages(
                of: ticket.id, in: org.organization.id, includeInternal: true)
            #expect(thread.map(\.seq) == [1, 2, 3])
            let public_ = try await stores.tickets.messages(
                of: ticket.id, in: org.organization.id, includeInternal: false)
            #expect(public_.map(\.body) == ["First", "Second"])
            // A refused change writes nothing, not even its message.
            _ = try await stores.ticketWriter().apply(.customerClose, to: ticket.id, in: org.organization.id)
            await #expect(throws: TicketTransitionError.self) {
                try await stores.ticketWriter().apply(
                    .customerReply, to: ticket.id, in: org.organization.id,
                    message: .init(role: .customer, body: "Late"))
            }
            let after = try await stores.tickets.messages(of: ticket.id, in: org.organization.id, includeInternal: true)
            #expect(after.count == 3)
            #expect(try await stores.tickets.ticket(ticket.id, in: org.organization.id).lastSeq == 3)
        }
    }

    @Test(arguments: TestDatabase.all)
    func theSweepWarnsThenReportsABreachOnceAndClosesOldResolvedTickets(database: TestDatabase) async throws {
        try await database.withEngine { engine in
            let stores = Stores(engine: engine, hasher: PasswordHasher(cost: 4))
            let org = try await stores.makeOrganization()
            // Urgent: first response within 30 minutes, around the clock (the defaults).
            let ticket = try await stores.ticketWriter().create(
                .init(requesterEmail: "c@example.com", subject: "Down", body: "All down", priority: .urgent),
                in: org.organization.id)
            _ = try await stores.ticketWriter().apply(.assign(org.owner.id), to: ticket.id, in: org.organization.id)
            let created = ticket.createdAt
            func sweep(_ minutes: Double) async throws -> TicketStore.SweepResult {
                try await stores.ticketWriter().sweep(
                    now: created.addingTimeInterval(minutes * 60), autoCloseAfter: 72 * 3600)
            }
            #expect(try await sweep(10).warned.isEmpty)
            let warned = try await sweep(25)  // 5 of 30 minutes left: the last fifth
            #expect(warned.warned.map(\.id) == [ticket.id])
            #expect(warned.notifications.first?.kind == .slaWarning)
            #expect(warned.notifications.first?.agentID == org.owner.id)
            #expect(try await sweep(26).warned.isEmpty)  // once
            let breached = try await sweep(31)
            #expect(breached.breached.map(\.id) == [ticket.id])
            #expect(breached.notifications.first?.kind == .slaBreach)
            #expect(try await sweep(40).breached.isEmpty)  // once
            let unread = try await stores.notifications.unreadCount(for: org.owner.id, in: org.organization.id)
            #expect(unread == 3)  // the assignment, the warning, the breach
            // Resolved for longer than the auto-close time: closed by the sweep.
            _ = try await stores.ticketWriter().apply(.changeStatus(.resolved), to: ticket.id, in: org.organization.id)
            let resolvedAt = try #require(
                try await stores.tickets.ticket(ticket.id, in: org.organization.id).resolvedAt)
            let early = try await stores.ticketWriter().sweep(
                now: resolvedAt.addingTimeInterval(71 * 3600), autoCloseAfter: 72 * 3600)
            #expect(early.closed.isEmpty)
            let late = try await stores.ticketWriter().sweep(
                now: resolvedAt.addingTimeInterval(73 * 3600), autoCloseAfter: 72 * 3600)
            #expect(late.closed.map(\.id) == [ticket.id])
            #expect(try await stores.tickets.ticket(ticket.id, in: org.organization.id).status == .closed)
        }
    }
}
