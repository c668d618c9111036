import Foundation
import ParleyCore
import Testing

/// The rules of one thread: what a change on one side of a conversation and its ticket does to
/// the other.
@Suite struct ThreadLinkTests {
    static let organization = Organization.ID()
    static let agent = Agent.ID()
    static let now = Date(timeIntervalSince1970: 1_000_000)

    static func session(_ status: ChatStatus = .escalated, ticket: Ticket.ID? = .init()) -> ChatSession {
        var session = ChatSession(
            id: .init(), organizationID: Self.organization, siteID: .init(), visitorID: .init(), status: status,
            lastSeq: 3, createdAt: Self.now, updatedAt: Self.now)
        session.ticketID = ticket
        return session
    }

    static func ticket(_ status: TicketStatus = .open, assignee: Agent.ID? = nil, email: String = "") -> Ticket {
        var ticket = Ticket(
            id: .init(), organizationID: Self.organization, visitorID: .init(), requesterEmail: email,
            requesterName: nil, subject: "Export", status: status, priority: .medium, source: .chat,
            chatSessionID: .init(), lastSeq: 3, createdAt: Self.now, updatedAt: Self.now)
        ticket.assigneeID = assignee
        return ticket
    }

    @Test func anAgentTakingTheConversationOverAssignsTheTicketAndAnswersOnIt() throws {
        let before = Self.session()
        let outcome = try ChatLifecycle.apply(
            .agentMessage(agent: Self.agent, agentName: "Sam", body: "On it", clientID: "a1"), to: before, now: Self.now
        )
        let steps = ThreadLink.ticketSteps(before: before, outcome: outcome, ticket: Self.ticket())
        #expect(steps.map(\.event) == [.assign(Self.agent), .systemMessage, .agentReply(Self.agent)])
        // They took it themselves: nobody is told they were assigned.
        #expect(steps[0].actor == .agent(Self.agent))
        #expect(steps[1].message?.body == "Sam joined the conversation")
        #expect(steps[2].message?.role == .agent)
        #expect(steps[2].message?.chatSeq == outcome.messages.last?.seq)
    }

    @Test func notesStayInternalAndTheVisitorsWordsAreTheCustomers() throws {
        let before = Self.session()
        let note = try ChatLifecycle.apply(
            .internalNote(agent: Self.agent, agentName: "Sam", body: "NOTE", clientID: nil), to: before, now: Self.now)
        let noted = ThreadLink.ticketSteps(before: before, outcome: note, ticket: Self.ticket())
        #expect(noted.map(\.event) == [.internalNote])
        #expect(noted.first?.message?.isInternal == true)
        let file = Attachment.Reference(id: "f1", name: "a.png", contentType: "image/png", size: 3)
        let message = try ChatLifecycle.apply(
            .visitorMessage(
                body: "Here", clientID: "v1",
                metadata: [Attachment.metadataKey: String(decoding: try JSONEncoder().encode([file]), as: UTF8.self)]),
            to: before, now: Self.now)
        let written = ThreadLink.ticketSteps(before: before, outcome: message, ticket: Self.ticket())
        #expect(written.map(\.event) == [.customerReply])
        #expect(written.first?.message?.role == .customer)
        #expect(written.first?.message?.attachments == [file])
    }

    @Test func whatCameFromTheTicketIsNotSentBack() throws {
        let before = Self.session()
        let outcome = try ChatLifecycle.apply(
            .agentMessage(agent: Self.agent, agentName: "Sam", body: "Copied", clientID: "ticket:x"), to: before,
            now: Self.now)
        // Only the takeover's own parts are the ticket's news; the copied message is not.
        let steps = ThreadLink.ticketSteps(
            before: before, outcome: outcome, ticket: Self.ticket(assignee: Self.agent))
        #expect(steps.map(\.event) == [.systemMessage])
    }

    @Test func closingTheConversationSaysTheTicketStaysOpenUnlessItIsDone() throws {
        let before = Self.session()
        let outcome = try ChatLifecycle.apply(.close(.agent), to: before, now: Self.now)
        let open = ThreadLink.ticketSteps(before: before, outcome: outcome, ticket: Self.ticket())
        #expect(open.first?.message?.body == "The conversation was closed. The ticket stays open.")
        let done = ThreadLink.ticketSteps(before: before, outcome: outcome, ticket: Self.ticket(.resolved))
        #expect(done.first?.message?.body == "The conversation was closed")
    }

    @Test func resolvingTheTicketClosesTheConversationAfterItsLastWord() throws {
        let before = Self.ticket(.inProgress, assignee: Self.agent)
        let after = try TicketLifecycle.apply(.changeStatus(.resolved), to: before, now: Self.now)
        let commands = ThreadLink.chatCommands(
            before: before, after: after, message: nil, authorName: nil, session: Self.session(.agentActive))
        #expect(commands == [.close(.ticketResolved)])
        // Already resolved, then closed: the conversation was closed then; now the link ends.
        let closed = try TicketLifecycle.apply(.changeStatus(.closed), to: after, now: Self.now)
        #expect(
            ThreadLink.chatCommands(
                before: after, after: closed, message: nil, authorName: nil, session: Self.session(.closed)
            ) == [.ticketClosed])
        let unlinked = try ChatLifecycle.apply(.ticketClosed, to: Self.session(.closed), now: Self.now)
        #expect(unlinked.session.ticketID == nil)
        #expect(unlinked.messages.isEmpty)
    }

    @Test func aTicketsMessagesBecomeTheConversationsOwnKind() throws {
        let ticket = Self.ticket()
        func message(_ role: TicketRole, note: Bool = false, author: Agent.ID? = nil) -> TicketMessage {
            TicketMessage(
                id: .init(), ticketID: ticket.id, organizationID: Self.organization, seq: 4, role: role,
                authorAgentID: author, body: "text", isInternal: note, createdAt: Self.now)
        }
        func commands(_ message: TicketMessage) -> [ChatCommand] {
            ThreadLink.chatCommands(
                before: ticket, after: ticket, message: message, authorName: "Sam", session: Self.session())
        }
        let reply = message(.agent, author: Self.agent)
        #expect(
            commands(reply) == [
                .agentMessage(
                    agent: Self.agent, agentName: "Sam", body: "text", clientID: "ticket:\(reply.id)", metadata: [:])
            ])
        let email = message(.customer)
        #expect(commands(email) == [.visitorMessage(body: "text", clientID: "ticket:\(email.id)", metadata: [:])])
        let note = message(.agent, note: true, author: Self.agent)
        #expect(
            commands(note) == [
                .internalNote(
                    agent: Self.agent, agentName: "Sam", body: "text", clientID: "ticket:\(note.id)", metadata: [:])
            ])
        let ai = message(.ai)
        #expect(
            commands(ai) == [.threadMessage(role: .ai, body: "text", clientID: "ticket:\(ai.id)", metadata: [:])])
    }

    @Test func aVisitorWritingToAClosedConversationWithATicketGoesBackToTheTeam() throws {
        let linked = try ChatLifecycle.apply(
            .visitorMessage(body: "Again", clientID: nil), to: Self.session(.closed), now: Self.now)
        #expect(linked.session.status == .escalated)
        let plain = try ChatLifecycle.apply(
            .visitorMessage(body: "Again", clientID: nil), to: Self.session(.closed, ticket: nil), now: Self.now)
        #expect(plain.session.status == .aiActive)
    }

    @Test func aReplyReachesTheWidgetWhileTheVisitorIsThereElseEmailElseNobody() {
        var session = Self.session()
        let ticket = Self.ticket(email: "ada@example.com")
        session.ticketID = ticket.id
        let recently = Self.now.addingTimeInterval(-30)
        let long = Self.now.addingTimeInterval(-600)
        func delivery(_ ticket: Ticket, _ seen: Date?, email: Bool) -> ReplyDelivery {
            ThreadLink.delivery(
                of: ticket, conversation: session, visitorSeenAt: seen, emailEnabled: email, now: Self.now)
        }
        #expect(delivery(ticket, recently, email: false) == .widget)
        #expect(delivery(ticket, long, email: true) == .email)
        #expect(delivery(ticket, long, email: false) == .none)
        #expect(delivery(Self.ticket(), long, email: true) == .none)
        // A conversation no longer linked to this ticket is not a way to it.
        #expect(
            ThreadLink.delivery(
                of: ticket, conversation: Self.session(), visitorSeenAt: recently, emailEnabled: false, now: Self.now)
                == .none)
    }
}

/// What a handoff promises the visitor depends on whether email can reach them at all.
@Suite struct HandoffPromiseTests {
    @Test func aHandoffPromisesEmailOnlyWhenEmailCanBeSent() throws {
        let session = ThreadLinkTests.session(.aiActive, ticket: nil)
        func said(_ hasEmail: Bool, _ emailOn: Bool) throws -> String {
            try ChatLifecycle.apply(
                .escalate(.visitorAsked, visitorHasEmail: hasEmail, emailOn: emailOn), to: session,
                now: ThreadLinkTests.now
            ).messages.last?.body ?? ""
        }
        #expect(try said(true, true).contains("by email if you've left"))
        #expect(try said(false, true).contains("Leave your email"))
        for hasEmail in [true, false] {
            let text = try said(hasEmail, false)
            #expect(!text.lowercased().contains("email"))
            #expect(text.contains("Someone will reply here"))
        }
    }
}
