import Foundation
import ParleyCore
import Testing

@Suite struct TicketLifecycleTests {
    static let start = Date(timeIntervalSince1970: 1_800_000_000)
    static let agent = Agent.ID()

    static func ticket(_ status: TicketStatus, assigned: Bool = false) -> Ticket {
        var ticket = Ticket(
            id: .init(), organizationID: .init(), visitorID: nil, requesterEmail: "ada@example.com",
            requesterName: "Ada", subject: "Help", status: status, priority: .medium, source: .form,
            chatSessionID: nil, lastSeq: 1, createdAt: Self.start, updatedAt: Self.start)
        if assigned { ticket.assigneeID = Self.agent }
        return ticket
    }

    static func apply(_ event: TicketEvent, _ ticket: Ticket, at minutes: Double = 10) throws(TicketTransitionError)
        -> Ticket
    {
        try TicketLifecycle.apply(event, to: ticket, now: Self.start.addingTimeInterval(minutes * 60))
    }

    // MARK: The table, event by event

    @Test(arguments: TicketStatus.allCases)
    func aCustomerReplyMovesToTheTeamsTurnUnlessClosed(from: TicketStatus) throws {
        for assigned in [false, true] {
            let ticket = Self.ticket(from, assigned: assigned)
            if from == .closed {
                #expect(throws: TicketTransitionError.self) { try Self.apply(.customerReply, ticket) }
                continue
            }
            let after = try Self.apply(.customerReply, ticket)
            #expect(after.status == (assigned ? .inProgress : .open), "from \(from), assigned \(assigned)")
            if from == .resolved { #expect(after.resolvedAt == nil) }  // a reply reopens a resolved ticket
        }
    }

    @Test(arguments: TicketStatus.allCases)
    func anAgentsPublicReplyWaitsOnTheCustomerUnlessClosed(from: TicketStatus) throws {
        let ticket = Self.ticket(from, assigned: true)
        if from == .closed {
            #expect(throws: TicketTransitionError.self) { try Self.apply(.agentReply(Self.agent), ticket) }
            return
        }
        let after = try Self.apply(.agentReply(Self.agent), ticket)
        #expect(after.status == .waitingOnCustomer)
        #expect(after.firstResponseAt == Self.start.addingTimeInterval(600))
        let later = try Self.apply(.customerReply, after, at: 20)
        #expect(try Self.apply(.agentReply(Self.agent), later, at: 30).firstResponseAt == after.firstResponseAt)
    }

    @Test(arguments: TicketStatus.allCases)
    func internalNotesNeverChangeTheStatus(from: TicketStatus) throws {
        #expect(try Self.apply(.internalNote, Self.ticket(from)).status == from)
    }

    @Test(arguments: TicketStatus.allCases)
    func assigningStartsWorkAndUnassigningPutsItBack(from: TicketStatus) throws {
        if from == .closed {
            #expect(throws: TicketTransitionError.self) { try Self.apply(.assign(Self.agent), Self.ticket(from)) }
            #expect(throws: TicketTransitionError.self) { try Self.apply(.assign(nil), Self.ticket(from)) }
            return
        }
        let assigned = try Self.apply(.assign(Self.agent), Self.ticket(from))
        #expect(assigned.assigneeID == Self.agent)
        #expect(assigned.status == (from == .open ? .inProgress : from))
        let unassigned = try Self.apply(.assign(nil), Self.ticket(from, assigned: true))
        #expect(unassigned.assigneeID == nil)
        #expect(unassigned.status == (from == .inProgress ? .open : from))
    }

    /// Every (from, to) pair by hand: the allowed ones move, every other one is a 409 naming both.
    @Test(arguments: TicketStatus.allCases)
    func statusChangesFollowTheTableAndEveryOtherOneIsRefused(from: TicketStatus) throws {
        let allowed: [TicketStatus: Set<TicketStatus>] = [
            .open: [.pending, .inProgress, .waitingOnCustomer, .resolved, .closed],
            .pending: [.open, .inProgress, .waitingOnCustomer, .resolved, .closed],
            .inProgress: [.open, .pending, .waitingOnCustomer, .resolved, .closed],
            .waitingOnCustomer: [.open, .pending, .inProgress, .resolved, .closed],
            .resolved: [.open, .inProgress, .closed],
            .closed: [],
        ]
        for to in TicketStatus.allCases {
            let ticket = Self.ticket(from)
            if allowed[from]!.contains(to) {
                let after = try Self.apply(.changeStatus(to), ticket)
                #expect(after.status == to)
                #expect(after.updatedAt > ticket.updatedAt)
            } else {
                do {
                    _ = try Self.apply(.changeStatus(to), ticket)
                    Issue.record("\(from) -> \(to) should be refused")
                } catch {
                    #expect(error.from == from)
                    #expect(error.message.contains(from.rawValue), "\(error.message)")
                    if to != from { #expect(error.message.contains(to.rawValue), "\(error.message)") }
                }
            }
        }
    }

    @Test(arguments: TicketStatus.allCases)
    func customersCloseAnythingOpenAndReopenOnlyResolved(from: TicketStatus) throws {
        let ticket = Self.ticket(from)
        if from == .closed {
            #expect(throws: TicketTransitionError.self) { try Self.apply(.customerClose, ticket) }
        } else {
            let closed = try Self.apply(.customerClose, ticket)
            #expect(closed.status == .closed)
            #expect(closed.closedAt != nil && closed.resolvedAt != nil)
        }
        if from == .resolved {
            #expect(try Self.apply(.customerReopen, ticket).status == .open)
            #expect(try Self.apply(.customerReopen, Self.ticket(from, assigned: true)).status == .inProgress)
        } else {
            #expect(throws: TicketTransitionError.self) { try Self.apply(.customerReopen, ticket) }
        }
    }

    @Test(arguments: TicketStatus.allCases)
    func theAssistantResolvesOpenWorkAndTheJobClosesResolvedTickets(from: TicketStatus) throws {
        let ticket = Self.ticket(from)
        if from == .resolved || from == .closed {
            #expect(throws: TicketTransitionError.self) { try Self.apply(.aiResolve, ticket) }
        } else {
            let resolved = try Self.apply(.aiResolve, ticket)
            #expect(resolved.status == .resolved && resolved.aiResolved)
            // The customer can reopen what the assistant resolved; the flag goes.
            let reopened = try Self.apply(.customerReopen, resolved, at: 20)
            #expect(reopened.status == .open && !reopened.aiResolved)
        }
        if from == .resolved {
            #expect(try Self.apply(.autoClose, ticket).status == .closed)
        } else {
            #expect(throws: TicketTransitionError.self) { try Self.apply(.autoClose, ticket) }
        }
    }

    @Test(arguments: TicketStatus.allCases)
    func ratingIsOnceAndOnlyAfterResolution(from: TicketStatus) throws {
        let ticket = Self.ticket(from)
        guard from == .resolved || from == .closed else {
            #expect(throws: TicketTransitionError.self) { try Self.apply(.rate(stars: 5, comment: nil), ticket) }
            return
        }
        let rated = try Self.apply(.rate(stars: 4, comment: "Quick"), ticket)
        #expect(rated.satisfaction?.stars == 4)
        #expect(rated.status == from)
        #expect(throws: TicketTransitionError.self) { try Self.apply(.rate(stars: 5, comment: nil), rated) }
    }

    // MARK: The SLA clock

    /// Paris, Monday to Friday, 9 to 17, with 25 December off.
    static let paris = BusinessCalendar.weekdays(from: 9, to: 17, timeZone: "Europe/Paris", holidays: ["2026-12-25"])

    static func paris(_ text: String) -> Date {
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = TimeZone(identifier: "Europe/Paris")
        formatter.formatOptions = [.withFullDate, .withTime, .withColonSeparatorInTime, .withDashSeparatorInDate]
        return formatter.date(from: text)!
    }

    @Test func businessMinutesSkipNightsWeekendsAndHolidays() {
        let calendar = Self.paris
        // Friday 16:00 + 2 working hours = Monday 10:00.
        #expect(calendar.add(minutes: 120, to: Self.paris("2026-12-04T16:00:00")) == Self.paris("2026-12-07T10:00:00"))
        // Saturday at noon + 30 minutes = Monday 9:30.
        #expect(calendar.add(minutes: 30, to: Self.paris("2026-12-05T12:00:00")) == Self.paris("2026-12-07T09:30:00"))
        // Thursday 24 December 16:30 + 1 hour: the 25th is a holiday, so Monday the 28th at 9:30.
        #expect(calendar.add(minutes: 60, to: Self.paris("2026-12-24T16:30:00")) == Self.paris("2026-12-28T09:30:00"))
        // And back: the working minutes between the two.
        #expect(
            calendar.businessMinutes(from: Self.paris("2026-12-04T16:00:00"), to: Self.paris("2026-12-07T10:00:00"))
                == 120)
        #expect(
            calendar.businessMinutes(from: Self.paris("2026-12-05T08:00:00"), to: Self.paris("2026-12-06T20:00:00"))
                == 0)
        #expect(calendar.isOpen(at: Self.paris("2026-12-07T09:00:00")))
        #expect(!calendar.isOpen(at: Self.paris("2026-12-07T17:00:00")))
        #expect(calendar.nextOpening(after: Self.paris("2026-12-24T18:00:00")) == Self.paris("2026-12-28T09:00:00"))
        // Daylight saving: on Monday 30 March 2026 Paris is UTC+2, opening at 9:00 local still.
        #expect(calendar.add(minutes: 0.5, to: Self.paris("2026-03-28T10:00:00")) == Self.paris("2026-03-30T09:00:30"))
    }

    @Test func deadlinesCountWorkingTimeAndThePausedTimeMovesTheResolutionDeadline() throws {
        let policy = SLAPolicy(
            priority: .high, firstResponseMinutes: 60, resolutionMinutes: 480, businessHoursOnly: true)
        let created = Self.paris("2026-12-04T16:30:00")  // a Friday
        let due = SLAClock.deadlines(for: policy, from: created, calendar: Self.paris)
        #expect(due.firstResponse == Self.paris("2026-12-07T09:30:00"))
        #expect(due.resolution == Self.paris("2026-12-07T16:30:00"))
        var ticket = Self.ticket(.open, assigned: true)
        ticket.firstResponseDueAt = due.firstResponse
        ticket.resolutionDueAt = due.resolution
        // Monday 9:10 an agent answers: the customer's turn; the clock stops.
        ticket = try TicketLifecycle.apply(
            .agentReply(Self.agent), to: ticket, now: Self.paris("2026-12-07T09:10:00"), calendar: Self.paris)
        #expect(ticket.slaPausedAt == Self.paris("2026-12-07T09:10:00"))
        #expect(
            SLAClock.state(
                due: ticket.firstResponseDueAt, done: ticket.firstResponseAt, target: 60,
                now: Self.paris("2026-12-07T12:00:00")) == .met)
        // While paused, passing the deadline is no breach.
        #expect(
            SLAClock.state(
                due: ticket.resolutionDueAt, done: nil, target: 480, now: Self.paris("2026-12-08T12:00:00"),
                paused: ticket.slaPausedAt, calendar: Self.paris) == .paused)
        // Tuesday 11:10 the customer answers: 10 working hours were paused (Monday 9:10-17:00 is
        // 7 h 50, Tuesday 9:00-11:10 is 2 h 10), so the deadline moves from Monday 16:30 by 10
        // working hours: to Wednesday 10:30.
        ticket = try TicketLifecycle.apply(
            .customerReply, to: ticket, now: Self.paris("2026-12-08T11:10:00"), calendar: Self.paris)
        #expect(ticket.slaPausedAt == nil)
        #expect(ticket.status == .inProgress)
        #expect(ticket.resolutionDueAt == Self.paris("2026-12-09T10:30:00"))
        // Warning in the last fifth of the target, breach after the deadline.
        let newDue = try #require(ticket.resolutionDueAt)
        #expect(
            SLAClock.state(
                due: newDue, done: nil, target: 480, now: newDue.addingTimeInterval(-24 * 3600), calendar: Self.paris)
                == .ok)
        #expect(
            SLAClock.state(
                due: newDue, done: nil, target: 480, now: newDue.addingTimeInterval(-60 * 60), calendar: Self.paris)
                == .warning)
        #expect(
            SLAClock.state(
                due: newDue, done: nil, target: 480, now: newDue.addingTimeInterval(60), calendar: Self.paris)
                == .breached)
        #expect(SLAClock.state(due: newDue, done: newDue.addingTimeInterval(60), target: 480, now: newDue) == .breached)
        #expect(SLAClock.state(due: nil, done: nil, target: nil, now: newDue) == .none)
        // An urgent policy runs around the clock.
        let urgent = SLAClock.deadlines(for: SLAPolicy.defaults[0], from: created, calendar: Self.paris)
        #expect(urgent.firstResponse == created.addingTimeInterval(30 * 60))
    }
}

@Suite struct CannedResponseTests {
    @Test func placeholdersAreFilledAsTextAndOthersLeftAlone() {
        let body = "Hi {{visitor.name}}, I'm {{ agent.name }}. Ticket {{ticket.id}}. {{unknown}} {{visitor.email}} {{"
        let values = ["visitor.name": "Ada {{agent.name}}", "agent.name": "Bob", "ticket.id": "t-1"]
        #expect(
            CannedResponse.render(body, values: values)
                == "Hi Ada {{agent.name}}, I'm Bob. Ticket t-1. {{unknown}}  {{")
        #expect(CannedResponse.render("Hello {{visitor.name}}!", values: [:]) == "Hello there!")
    }

    @Test func shortcutsAreSimpleWords() throws {
        #expect(try Validate.shortcut("/Refund-Policy") == "refund-policy")
        #expect(throws: ValidationError.self) { try Validate.shortcut("two words") }
        #expect(throws: ValidationError.self) { try Validate.shortcut("") }
        #expect(throws: ValidationError.self) { try Validate.shortcut(String(repeating: "a", count: 41)) }
    }
}

@Suite struct CSVTests {
    @Test func cellsThatCouldRunAsFormulasAreNeutralisedAndOthersQuotedOnlyWhenNeeded() {
        #expect(CSV.cell("=HYPERLINK(\"http://x\")") == "\"'=HYPERLINK(\"\"http://x\"\")\"")
        #expect(CSV.cell("+1") == "'+1")
        #expect(CSV.cell("-2") == "'-2")
        #expect(CSV.cell("@SUM(A1)") == "'@SUM(A1)")
        #expect(CSV.cell("\tx") == "'\tx")
        #expect(CSV.cell("a, b") == "\"a, b\"")
        #expect(CSV.cell("line\nbreak") == "\"line\nbreak\"")
        #expect(CSV.cell("plain") == "plain")
        #expect(CSV.row(["a", nil, "b"]) == "a,,b\r\n")
    }
}

@Suite struct TicketClassifierTests {
    @Test(arguments: [
        ("Site is down", "Nothing loads since noon", TicketPriority.urgent, "technical"),
        ("Wrong invoice", "I was charged twice", .medium, "billing"),
        ("Can't log in", "It says my password is wrong", .high, "account"),
        ("A question", "Do you have a dark mode?", .medium, "general"),
    ])
    func keywordsGiveAPriorityAndACategory(subject: String, body: String, priority: TicketPriority, category: String) {
        let result = TicketClassifier.classify(subject: subject, body: body)
        #expect(result.priority == priority)
        #expect(result.category == category)
    }
}
