import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import ParleyCore
import ParleyHTTP
import ParleyMail
import ParleyStore
import ParleyTesting
import SQLKit
import Testing

/// One thread per customer problem (`ThreadLink`): a conversation that becomes a ticket goes on
/// as one thread, and the two states move together.
@Suite struct OneThreadTests {
    static func isEvent(_ name: String) -> @Sendable ([String: Any]) -> Bool {
        { $0["type"] as? String == "event" && $0["name"] as? String == name }
    }

    /// A visitor who wrote `first` and asked for a person, and the ticket that made.
    static func handedOver(
        _ client: any TestClientProtocol, siteKey: String, first: String = "My export fails",
        user: [String: Any]? = nil
    ) async throws -> (visitor: TestVisitor, ticketID: String) {
        let visitor = try await client.startConversation(siteKey: siteKey, user: user)
        let sent = try await client.send(
            .post, "/api/v1/chat/sessions/\(visitor.sessionID)/messages", json: ["clientId": "v1", "body": first],
            headers: visitor.headers)
        #expect(sent.status == .created || sent.status == .ok, "\(sent.text)")
        let escalated = try await client.send(
            .post, "/api/v1/chat/sessions/\(visitor.sessionID)/escalate", headers: visitor.headers)
        #expect(escalated.status == .ok, "\(escalated.text)")
        let ticketID = try #require(try escalated.json()["ticketId"] as? String)
        return (visitor, ticketID)
    }

    static func ticket(_ client: any TestClientProtocol, _ id: String, _ agent: TestSession) async throws
        -> [String: Any]
    {
        try await client.send(.get, "/api/v1/admin/tickets/\(id)", headers: agent.headers).json()
    }

    static func chatMessages(_ client: any TestClientProtocol, _ visitor: TestVisitor) async throws -> [[String: Any]] {
        try await client.send(
            .get, "/api/v1/chat/sessions/\(visitor.sessionID)/messages?after=0", headers: visitor.headers
        ).json()["data"] as? [[String: Any]] ?? []
    }

    static func bodies(_ messages: [[String: Any]]) -> [String] { messages.compactMap { $0["body"] as? String } }

    @Test(arguments: TestDatabase.all)
    func aMessageFromEitherSideAppearsOnceOnTheOtherInOneOrder(database: TestDatabase) async throws {
        try await withTestApp(database, setup: .live) { client, stores in
            let org = try await stores.makeOrganization()
            let agent = try await client.signIn(org.owner.email)
            // An anonymous visitor's handoff: a ticket anyway, with the conversation as its thread.
            let (visitor, ticketID) = try await Self.handedOver(client, siteKey: org.site.publicKey)
            var ticket = try await Self.ticket(client, ticketID, agent)
            #expect(ticket["requesterEmail"] as? String == "")
            #expect(ticket["chatSessionId"] as? String == visitor.sessionID)
            let opening = ticket["messages"] as? [[String: Any]] ?? []
            #expect(opening.first?["role"] as? String == "customer")
            #expect(opening.first?["body"] as? String == "My export fails")
            #expect(opening.first?["chatSeq"] as? Int == 1)
            #expect(!"\(opening)".contains("Transcript"))

            try await withTestSocket(client.realtimeURL(token: visitor.token)) { widget in
                try widget.send(["type": "subscribe", "channel": "supportChat:\(visitor.sessionID)"])
                _ = try await widget.next { $0["type"] as? String == "subscribed" }
                // The ticket view's answer reaches the visitor live, in the widget.
                let reply = try await client.send(
                    .post, "/api/v1/admin/tickets/\(ticketID)/reply", json: ["body": "From the ticket view"],
                    headers: agent.headers)
                #expect(reply.status == .created, "\(reply.text)")
                let live = try await widget.next { frame in
                    Self.isEvent("message.created")(frame)
                        && (frame["data"] as? [String: Any])?["body"] as? String == "From the ticket view"
                }
                #expect((live["data"] as? [String: Any])?["role"] as? String == "agent")
                // A note on the ticket stays with the team: not in the widget.
                _ = try await client.send(
                    .post, "/api/v1/admin/tickets/\(ticketID)/reply", json: ["body": "NOTE ticket", "internal": true],
                    headers: agent.headers)
                // The conversation view's answer and the visitor's message reach the ticket.
                _ = try await client.send(
                    .post, "/api/v1/admin/chats/\(visitor.sessionID)/reply", json: ["body": "From the chat view"],
                    headers: agent.headers)
                _ = try await client.send(
                    .post, "/api/v1/admin/chats/\(visitor.sessionID)/reply",
                    json: ["body": "NOTE chat", "internal": true], headers: agent.headers)
                _ = try await client.send(
                    .post, "/api/v1/chat/sessions/\(visitor.sessionID)/messages",
                    json: ["clientId": "v2", "body": "Thanks, trying again"], headers: visitor.headers)
                _ = try await widget.next { frame in
                    (frame["data"] as? [String: Any])?["body"] as? String == "Thanks, trying again"
                }
            }
            ticket = try await Self.ticket(client, ticketID, agent)
            let thread = ticket["messages"] as? [[String: Any]] ?? []
            let chat =
                try await client.send(
                    .get, "/api/v1/admin/chats/\(visitor.sessionID)/messages?after=0&limit=200", headers: agent.headers
                ).json()["data"] as? [[String: Any]] ?? []
            // One thread: the same messages, in the same order, each once, on both sides.
            #expect(Self.bodies(thread) == Self.bodies(chat))
            for body in ["From the ticket view", "From the chat view", "Thanks, trying again", "NOTE ticket"] {
                #expect(Self.bodies(thread).filter { $0 == body }.count == 1, "\(body)")
            }
            #expect(thread.compactMap { $0["chatSeq"] as? Int } == chat.compactMap { $0["seq"] as? Int })
            let notes = thread.filter { $0["internal"] as? Bool == true }.compactMap { $0["body"] as? String }
            #expect(notes == ["NOTE ticket", "NOTE chat"])
            // The visitor's own history has neither note.
            let history = Self.bodies(try await Self.chatMessages(client, visitor))
            #expect(history.contains("From the ticket view"))
            #expect(!history.contains { $0.hasPrefix("NOTE") })
            // The answer in the chat was the first response; the visitor's message made it the team's turn.
            #expect(ticket["firstResponseAt"] is String)
            #expect(ticket["assigneeId"] as? String == org.owner.id.description)
            #expect(ticket["status"] as? String == "in_progress")
        }
    }

    @Test(arguments: TestDatabase.all)
    func theTwoStatesMoveTogether(database: TestDatabase) async throws {
        try await withTestApp(database, setup: .live) { client, stores in
            let org = try await stores.makeOrganization()
            let agent = try await client.signIn(org.owner.email)
            let (visitor, ticketID) = try await Self.handedOver(client, siteKey: org.site.publicKey)
            var ticket = try await Self.ticket(client, ticketID, agent)
            #expect(ticket["assigneeId"] == nil)
            #expect(ticket["firstResponseAt"] == nil)
            // Taking the chat over assigns the ticket and stops its first-response clock.
            _ = try await client.send(
                .post, "/api/v1/admin/chats/\(visitor.sessionID)/reply", json: ["body": "Hi, I'm on it"],
                headers: agent.headers)
            ticket = try await Self.ticket(client, ticketID, agent)
            #expect(ticket["assigneeId"] as? String == org.owner.id.description)
            #expect(ticket["firstResponseAt"] is String)
            #expect((ticket["sla"] as? [String: Any])?["firstResponse"] as? String == "met")
            #expect(ticket["status"] as? String == "waiting_on_customer")

            // Resolving the ticket closes the chat, and tells the visitor there.
            let resolved = try await client.send(
                .post, "/api/v1/admin/tickets/\(ticketID)/status", json: ["status": "resolved"], headers: agent.headers)
            #expect(resolved.status == .ok, "\(resolved.text)")
            var chat = try await client.send(.get, "/api/v1/admin/chats/\(visitor.sessionID)", headers: agent.headers)
                .json()
            #expect((chat["session"] as? [String: Any])?["status"] as? String == "closed")
            #expect(
                Self.bodies(try await Self.chatMessages(client, visitor)).last
                    == "Your request was resolved. Write here again if you need anything else.")

            // The visitor writing again reopens both: the ticket for the team, the chat with them.
            _ = try await client.send(
                .post, "/api/v1/chat/sessions/\(visitor.sessionID)/messages",
                json: ["clientId": "v9", "body": "It broke again"], headers: visitor.headers)
            ticket = try await Self.ticket(client, ticketID, agent)
            #expect(ticket["status"] as? String == "in_progress")
            #expect(Self.bodies(ticket["messages"] as? [[String: Any]] ?? []).last == "It broke again")
            chat = try await client.send(.get, "/api/v1/admin/chats/\(visitor.sessionID)", headers: agent.headers)
                .json()
            #expect((chat["session"] as? [String: Any])?["status"] as? String == "escalated")

            // Closing the chat leaves the ticket open, and says so on the ticket.
            let closed = try await client.send(
                .post, "/api/v1/admin/chats/\(visitor.sessionID)/close", headers: agent.headers)
            #expect(closed.status == .ok, "\(closed.text)")
            ticket = try await Self.ticket(client, ticketID, agent)
            #expect(ticket["status"] as? String == "in_progress")
            let last = Self.bodies(ticket["messages"] as? [[String: Any]] ?? []).last ?? ""
            #expect(last.hasSuffix("The ticket stays open."), "\(last)")

            // A closed ticket is history: the visitor's next message starts over with the assistant.
            _ = try await client.send(
                .post, "/api/v1/admin/tickets/\(ticketID)/status", json: ["status": "closed"], headers: agent.headers)
            _ = try await client.send(
                .post, "/api/v1/chat/sessions/\(visitor.sessionID)/messages",
                json: ["clientId": "v10", "body": "A new question"], headers: visitor.headers)
            chat = try await client.send(.get, "/api/v1/admin/chats/\(visitor.sessionID)", headers: agent.headers)
                .json()
            #expect((chat["session"] as? [String: Any])?["status"] as? String == "ai_active")
            ticket = try await Self.ticket(client, ticketID, agent)
            #expect(!Self.bodies(ticket["messages"] as? [[String: Any]] ?? []).contains("A new question"))
            // …and a new handoff makes a new ticket.
            let again = try await client.send(
                .post, "/api/v1/chat/sessions/\(visitor.sessionID)/escalate", headers: visitor.headers)
            #expect(again.status == .ok, "\(again.text)")
            chat = try await client.send(.get, "/api/v1/admin/chats/\(visitor.sessionID)", headers: agent.headers)
                .json()
            let second = try #require(chat["ticketId"] as? String)
            #expect(second != ticketID)
        }
    }

    @Test(arguments: TestDatabase.all)
    func anAgentMakesAPlainConversationATicketOnce(database: TestDatabase) async throws {
        try await withTestApp(database, setup: .live) { client, stores in
            let org = try await stores.makeOrganization()
            let agent = try await client.signIn(org.owner.email)
            let visitor = try await client.startConversation(siteKey: org.site.publicKey)
            _ = try await client.send(
                .post, "/api/v1/chat/sessions/\(visitor.sessionID)/messages",
                json: ["clientId": "v1", "body": "Can I get an invoice copy?"], headers: visitor.headers)
            // A chat stays light: no ticket until someone makes one.
            var chat = try await client.send(.get, "/api/v1/admin/chats/\(visitor.sessionID)", headers: agent.headers)
                .json()
            #expect(chat["ticketId"] == nil)
            let made = try await client.send(
                .post, "/api/v1/admin/chats/\(visitor.sessionID)/ticket", headers: agent.headers)
            #expect(made.status == .created, "\(made.text)")
            let ticket = try made.json()
            let ticketID = try #require(ticket["id"] as? String)
            #expect(ticket["subject"] as? String == "Can I get an invoice copy?")
            #expect(ticket["source"] as? String == "chat")
            #expect(Self.bodies(ticket["messages"] as? [[String: Any]] ?? []) == ["Can I get an invoice copy?"])
            // The visitor was just seen in the widget: that is where a reply reaches them now.
            #expect(ticket["reachedBy"] as? String == "widget")
            #expect(ticket["emailConfigured"] as? Bool == false)
            let twice = try await client.send(
                .post, "/api/v1/admin/chats/\(visitor.sessionID)/ticket", headers: agent.headers)
            #expect(twice.status == .conflict)
            #expect(try twice.errorCode() == "conflict")
            chat = try await client.send(.get, "/api/v1/admin/chats/\(visitor.sessionID)", headers: agent.headers)
                .json()
            #expect(chat["ticketId"] as? String == ticketID)
            // Gone from the widget, with no email and no mail server: the reply reaches nobody, and says so.
            try await stores.engine.transaction { db in
                try await db.raw(
                    """
                    UPDATE visitors SET last_seen_at = \(bind: Int64((Date().timeIntervalSince1970 - 600) * 1000))
                    WHERE id = (SELECT visitor_id FROM chat_sessions WHERE id = \(bind: visitor.sessionID))
                    """
                ).run()
            }
            #expect(try await Self.ticket(client, ticketID, agent)["reachedBy"] as? String == "none")
            let missing = try await client.send(
                .post, "/api/v1/admin/chats/\(ChatSession.ID())/ticket", headers: agent.headers)
            #expect(missing.status == .notFound)
        }
    }

    @Test(.enabled(if: TestDatabase.postgresURL != nil))
    func repliesOnEitherSideReachTheOtherInstanceOnceInOrder() async throws {
        try await TestDatabase.withPostgresEngines(2) { engines in
            try await withTestApp(on: engines[0], setup: .live) { first, stores in
                try await withTestApp(on: engines[1], setup: .live) { second, _ in
                    let org = try await stores.makeOrganization()
                    let agentOne = try await first.signIn(org.owner.email)
                    let agentTwo = try await second.signIn(org.owner.email)
                    let (visitor, ticketID) = try await Self.handedOver(first, siteKey: org.site.publicKey)
                    try await withTestSocket(second.realtimeURL(token: visitor.token)) { widget in
                        try await withTestSocket(second.realtimeURL(), headers: agentTwo.headers) { ticketView in
                            try widget.send(["type": "subscribe", "channel": "supportChat:\(visitor.sessionID)"])
                            _ = try await widget.next { $0["type"] as? String == "subscribed" }
                            try ticketView.send(["type": "subscribe", "channel": "support:\(ticketID)"])
                            _ = try await ticketView.next { $0["type"] as? String == "subscribed" }
                            // Both sides write at once, through the first instance.
                            try await withThrowingTaskGroup(of: Void.self) { group in
                                for index in 0..<12 {
                                    group.addTask {
                                        switch index % 3 {
                                        case 0:
                                            _ = try await first.sendAlone(
                                                .post, "/api/v1/admin/tickets/\(ticketID)/reply",
                                                json: ["body": "ticket \(index)"], headers: agentOne.headers)
                                        case 1:
                                            _ = try await first.sendAlone(
                                                .post, "/api/v1/admin/chats/\(visitor.sessionID)/reply",
                                                json: ["body": "chat \(index)"], headers: agentOne.headers)
                                        default:
                                            _ = try await first.sendAlone(
                                                .post, "/api/v1/chat/sessions/\(visitor.sessionID)/messages",
                                                json: ["clientId": "c\(index)", "body": "visitor \(index)"],
                                                headers: visitor.headers)
                                        }
                                    }
                                }
                                try await group.waitForAll()
                            }
                            let chat = try await Self.chatMessages(first, visitor)
                            let ticket = try await Self.ticket(first, ticketID, agentOne)
                            let thread = ticket["messages"] as? [[String: Any]] ?? []
                            #expect(Self.bodies(thread) == Self.bodies(chat))
                            #expect(Self.bodies(chat).filter { $0.contains(" ") && !$0.hasPrefix("We") }.count >= 12)
                            // On the other instance, each side hears every message once, in seq order.
                            let chatLast = try #require(chat.last?["seq"] as? Int)
                            var heard: [Int] = []
                            while heard.last != chatLast {
                                let frame = try await widget.next(where: Self.isEvent("message.created"))
                                if let seq = (frame["data"] as? [String: Any])?["seq"] as? Int { heard.append(seq) }
                            }
                            #expect(heard == Array(heard.first!...chatLast))
                            let ticketLast = try #require(ticket["lastSeq"] as? Int)
                            var seen: [Int] = []
                            while seen.last != ticketLast {
                                let frame = try await ticketView.next(where: Self.isEvent("message.created"))
                                if let seq = (frame["data"] as? [String: Any])?["seq"] as? Int { seen.append(seq) }
                            }
                            #expect(seen == Array(seen.first!...ticketLast))
                        }
                    }
                }
            }
        }
    }

    @Test(arguments: TestDatabase.all)
    func aChatHandledAndItsTicketResolvedCountOneResolutionForTheAgent(database: TestDatabase) async throws {
        try await withTestApp(database, setup: .live) { client, stores in
            let org = try await stores.makeOrganization()
            let owner = try await client.signIn(org.owner.email)
            let sam = try await stores.makeAgent(in: org.organization.id, email: "sam@example.com")
            let agent = try await client.signIn("sam@example.com")
            // Sam answers a handed-over chat, and resolves its ticket.
            let (visitor, ticketID) = try await Self.handedOver(client, siteKey: org.site.publicKey)
            _ = try await client.send(
                .post, "/api/v1/admin/chats/\(visitor.sessionID)/reply", json: ["body": "Fixed it"],
                headers: agent.headers)
            _ = try await client.send(
                .post, "/api/v1/admin/tickets/\(ticketID)/status", json: ["status": "resolved"], headers: agent.headers)
            // The owner closes a plain chat they handled, without a ticket.
            let plain = try await client.startConversation(siteKey: org.site.publicKey, visitorId: "another-visitor")
            _ = try await client.send(
                .post, "/api/v1/chat/sessions/\(plain.sessionID)/messages", json: ["clientId": "p1", "body": "Hi"],
                headers: plain.headers)
            _ = try await client.send(
                .post, "/api/v1/admin/chats/\(plain.sessionID)/reply", json: ["body": "Hello"], headers: owner.headers)
            _ = try await client.send(.post, "/api/v1/admin/chats/\(plain.sessionID)/close", headers: owner.headers)

            let report = try await client.send(.get, "/api/v1/admin/analytics", headers: owner.headers).json()
            let board = report["leaderboard"] as? [[String: Any]] ?? []
            let resolved = Dictionary(
                uniqueKeysWithValues: board.compactMap { row in
                    (row["agentId"] as? String).map { ($0, row["resolved"] as? Int ?? -1) }
                })
            #expect(resolved == [sam.id.description: 1, org.owner.id.description: 1], "\(board)")
        }
    }

    @Test(arguments: TestDatabase.all)
    func aChatAnswerIsEmailedOnlyWhenTheVisitorHasNotReadItInTime(database: TestDatabase) async throws {
        let address = "thread-\(database)-\(UUID().uuidString.prefix(8).lowercased())@example.com"
        // A delay a busy machine's requests fit in, so "read in time" holds.
        try await EmailTests.withMailApp(database, configure: { $0.chatEmailDelay = 4 }) { client, stores in
            let org = try await stores.makeOrganization()
            let agent = try await client.signIn(org.owner.email)
            let hash = VisitorTokens.userHash(userID: "user-9", secret: org.site.identitySecret)
            let (visitor, ticketID) = try await Self.handedOver(
                client, siteKey: org.site.publicKey,
                user: ["id": "user-9", "email": address, "name": "Ada", "userHash": hash])
            let ticket = try await Self.ticket(client, ticketID, agent)
            #expect(ticket["reachedBy"] as? String == "widget")
            // Read in the widget in time: no email.
            let read = try await client.send(
                .post, "/api/v1/admin/tickets/\(ticketID)/reply", json: ["body": "Read this in the widget"],
                headers: agent.headers)
            #expect(read.status == .created)
            let lastSeq = try #require(try await Self.chatMessages(client, visitor).last?["seq"] as? Int)
            let marked = try await client.send(
                .post, "/api/v1/chat/sessions/\(visitor.sessionID)/read", json: ["seq": lastSeq],
                headers: visitor.headers)
            #expect(marked.status == .ok, "\(marked.text)")
            // Not read: one email, after the delay.
            _ = try await client.send(
                .post, "/api/v1/admin/chats/\(visitor.sessionID)/reply", json: ["body": "You left, so by email"],
                headers: agent.headers)
            @Sendable func answers() throws -> [EmailTests.Received] {
                try EmailTests.received(by: address).filter { $0.headers["subject"]?.hasPrefix("Re:") == true }
            }
            // Every row sent or skipped (each waits out the delay first).
            _ = try await CustomerEmailTests.settled(stores, to: address)
            let mails = try answers()
            #expect(mails.count == 1)
            #expect(mails.first?.text.contains("You left, so by email") == true)
            #expect(mails.contains { $0.text.contains("Read this in the widget") } == false)
        }
    }
}
