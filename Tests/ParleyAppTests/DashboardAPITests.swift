import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import ParleyCore
import ParleyStore
import ParleyTesting
import Testing

/// What the dashboard and the widget need beyond the core APIs: internal notes in conversations,
/// agents' names on their messages, the profile and notification preferences, starting a chat with
/// a live visitor, the assistant's accuracy and the knowledge base's gaps.
@Suite struct DashboardAPITests {
    static func isType(_ type: String) -> @Sendable ([String: Any]) -> Bool { { $0["type"] as? String == type } }

    @Test(arguments: TestDatabase.all)
    func aConversationsInternalNoteNeverReachesTheVisitorByAnyRoad(database: TestDatabase) async throws {
        try await withTestApp(database, setup: .live) { client, stores in
            let org = try await stores.makeOrganization()
            let agent = try await client.signIn(org.owner.email)
            let visitor = try await client.startConversation(siteKey: org.site.publicKey)
            let channel = "supportChat:\(visitor.sessionID)"
            _ = try await client.send(
                .post, "/api/v1/chat/sessions/\(visitor.sessionID)/messages",
                json: ["clientId": "v1", "body": "My export fails"], headers: visitor.headers)
            try await withTestSocket(client.realtimeURL(token: visitor.token)) { socket in
                try socket.send(["type": "subscribe", "channel": channel])
                _ = try await socket.next(where: Self.isType("subscribed"))
                let note = try await client.send(
                    .post, "/api/v1/admin/chats/\(visitor.sessionID)/reply",
                    json: ["body": "NOTE: known bug #12", "internal": true], headers: agent.headers)
                #expect(note.status == .created)
                let noted = try #require(try note.json()["message"] as? [String: Any])
                #expect((noted["metadata"] as? [String: String])?["internal"] == "true")
                // No takeover: the assistant still has it.
                #expect((try note.json()["session"] as? [String: Any])?["status"] as? String == "ai_active")
                let reply = try await client.send(
                    .post, "/api/v1/admin/chats/\(visitor.sessionID)/reply", json: ["body": "Looking now"],
                    headers: agent.headers)
                let replied = try #require(try reply.json()["message"] as? [String: Any])
                #expect((replied["metadata"] as? [String: String])?["authorName"] == org.owner.name)
                // The lists know who wrote last (the agent's reply, not the note before it).
                let session = try #require(try reply.json()["session"] as? [String: Any])
                #expect(session["lastAuthorId"] as? String == org.owner.id.description)
                #expect(session["lastMessagePreview"] as? String == "Looking now")
                let live = await socket.collect(type: "event", name: "message.created", for: .milliseconds(500))
                let bodies = live.compactMap { ($0["data"] as? [String: Any])?["body"] as? String }
                #expect(bodies.contains("Looking now"))
                #expect(!bodies.contains { $0.contains("NOTE") })
            }
            // Not by guessing the note's clientId either: a resend only ever gives back one's own.
            _ = try await client.send(
                .post, "/api/v1/admin/chats/\(visitor.sessionID)/reply",
                json: ["body": "NOTE 2: secret", "internal": true, "clientId": "note-1"], headers: agent.headers)
            let guessed = try await client.send(
                .post, "/api/v1/chat/sessions/\(visitor.sessionID)/messages",
                json: ["clientId": "note-1", "body": "x"], headers: visitor.headers)
            #expect(guessed.status == .conflict)
            #expect(!guessed.text.contains("NOTE"))
            // Not in the history, not in a replay, not in the ticket's transcript.
            let history = try await client.send(
                .get, "/api/v1/chat/sessions/\(visitor.sessionID)/messages?after=0", headers: visitor.headers
            ).json()
            #expect(!"\(history)".contains("NOTE"))
            #expect(history["through"] as? Int == history["lastSeq"] as? Int)
            try await withTestSocket(client.realtimeURL(token: visitor.token)) { socket in
                try socket.send(["type": "subscribe", "channel": channel, "after": 0])
                _ = try await socket.next(where: Self.isType("subscribed"))
                let replay = await socket.collect(type: "event", name: "message.created", for: .milliseconds(300))
                #expect(!replay.isEmpty)
                #expect(!"\(replay)".contains("NOTE"))
            }
            let email = try await client.send(
                .post, "/api/v1/chat/sessions/\(visitor.sessionID)/email", json: ["email": "v@example.com"],
                headers: visitor.headers)
            #expect(email.status == .ok)
            // The agent's reply made it theirs; the ticket is one thread with it, the note internal.
            let ticketID = try #require(try email.json()["ticketId"] as? String)
            let ticket = try await client.send(.get, "/api/v1/admin/tickets/\(ticketID)", headers: agent.headers).json()
            #expect("\(ticket)".contains("My export fails"))
            let thread = ticket["messages"] as? [[String: Any]] ?? []
            #expect(
                thread.filter { ($0["body"] as? String ?? "").contains("NOTE") }.allSatisfy {
                    $0["internal"] as? Bool == true
                })
            #expect(thread.contains { ($0["body"] as? String ?? "").contains("NOTE") })
            // The agent sees the note in the conversation, and the linked ticket.
            let detail = try await client.send(.get, "/api/v1/admin/chats/\(visitor.sessionID)", headers: agent.headers)
            #expect(detail.text.contains("NOTE: known bug #12"))
            #expect(try detail.json()["ticketId"] as? String == ticketID)
            // The inbox counts what is open and whose.
            _ = try await client.startConversation(siteKey: org.site.publicKey)
            let counts = try await client.send(.get, "/api/v1/admin/chats/counts", headers: agent.headers).json()
            #expect(counts["mine"] as? Int == 1)
            #expect(counts["unassigned"] as? Int == 1)
        }
    }

    @Test(arguments: TestDatabase.all)
    func anAgentKeepsTheirProfileAndChoosesTheirNotifications(database: TestDatabase) async throws {
        try await withTestApp(database) { client, stores in
            let org = try await stores.makeOrganization()
            let agent = try await client.signIn(org.owner.email)
            let renamed = try await client.send(.patch, "/api/v1/me", json: ["name": "Ada L."], headers: agent.headers)
            #expect((try renamed.json()["agent"] as? [String: Any])?["name"] as? String == "Ada L.")
            var preferences = try await client.send(.get, "/api/v1/me/preferences", headers: agent.headers).json()
            #expect((preferences["notifications"] as? [String: Bool])?["handoff"] == true)
            preferences = try await client.send(
                .put, "/api/v1/me/preferences", json: ["notifications": ["handoff": false]], headers: agent.headers
            ).json()
            #expect((preferences["notifications"] as? [String: Bool])?["handoff"] == false)
            #expect((preferences["notifications"] as? [String: Bool])?["assignment"] == true)
            let bad = try await client.send(
                .put, "/api/v1/me/preferences", json: ["notifications": ["everything": true]], headers: agent.headers)
            #expect(bad.status == .unprocessableContent)
            // A handoff now rings only the colleague's bell.
            let colleague = try await stores.makeAgent(in: org.organization.id, email: "bo@acme.test")
            let visitor = try await client.startConversation(siteKey: org.site.publicKey)
            _ = try await client.send(
                .post, "/api/v1/chat/sessions/\(visitor.sessionID)/escalate", headers: visitor.headers)
            let mine = try await stores.notifications.list(
                for: org.owner.id, in: org.organization.id, unreadOnly: false, page: PageRequest())
            let theirs = try await stores.notifications.list(
                for: colleague.id, in: org.organization.id, unreadOnly: false, page: PageRequest())
            #expect(mine.items.isEmpty)
            #expect(theirs.items.map(\.kind) == [.handoff])
        }
    }

    @Test(arguments: TestDatabase.all)
    func anAgentStartsAChatWithALiveVisitor(database: TestDatabase) async throws {
        try await withTestApp(database, setup: .live) { client, stores in
            let org = try await stores.makeOrganization()
            let agent = try await client.signIn(org.owner.email)
            let visitor = try await client.startConversation(siteKey: org.site.publicKey)
            let visitorRecord = try await stores.chats.session(
                try #require(ChatSession.ID(visitor.sessionID)), in: org.organization.id)
            try await withTestSocket(client.realtimeURL(token: visitor.token)) { socket in
                try socket.send(["type": "subscribe", "channel": "supportChat:\(visitor.sessionID)"])
                _ = try await socket.next(where: Self.isType("subscribed"))
                let opened = try await client.send(
                    .post, "/api/v1/admin/visitors/\(visitorRecord.visitorID)/chat",
                    json: ["body": "Hi! Can I help you find a plan?"], headers: agent.headers)
                #expect(opened.status == .created, "\(opened.text)")
                #expect((try opened.json()["session"] as? [String: Any])?["id"] as? String == visitor.sessionID)
                let seen = try await socket.next { frame in
                    (frame["data"] as? [String: Any])?["body"] as? String == "Hi! Can I help you find a plan?"
                }
                #expect(seen["name"] as? String == "message.created")
            }
            let unknown = try await client.send(
                .post, "/api/v1/admin/visitors/\(UUID())/chat", json: ["body": "Hi"], headers: agent.headers)
            #expect(unknown.status == .notFound)
        }
    }

    @Test(arguments: TestDatabase.all)
    func theAssistantsAccuracyAndTheKnowledgeBasesGapsAreReported(database: TestDatabase) async throws {
        try await withTestApp(database) { client, stores in
            let org = try await stores.makeOrganization()
            let agent = try await client.signIn(org.owner.email)
            let session = ChatSession.ID()
            func log(_ question: String, _ outcome: String, _ reason: String? = nil) async throws {
                try await stores.assistant.log(
                    .init(
                        organizationID: org.organization.id, sessionID: session, replyTo: 1, question: question,
                        outcome: outcome, reason: reason, createdAt: Date()))
            }
            try await log("How do I export?", "answer")
            try await log("Refund?", "article")
            try await log("Do you support SAML?", "handoff", "no_answer")
            try await log("do you  support SAML?", "handoff", "low_confidence")
            try await log("I want a human", "handoff", "visitor_asked")
            try await log("Where is the API?", "handoff", "the passages don't say")
            let report = try await client.send(.get, "/api/v1/admin/analytics/ai", headers: agent.headers).json()
            #expect(report["answers"] as? Int == 2)
            #expect(report["handoffs"] as? Int == 4)
            let reasons = try #require(report["handoffReasons"] as? [String: Int])
            #expect(reasons == ["no_answer": 1, "low_confidence": 1, "visitor_asked": 1, "assistant_handoff": 1])
            let gaps = try #require(report["gaps"] as? [[String: Any]])
            #expect(gaps.first?["question"] as? String == "Do you support SAML?")
            #expect(gaps.first?["count"] as? Int == 2)
            #expect(gaps.count == 2)  // asking for a person is not a gap
        }
    }

    @Test(arguments: TestDatabase.all)
    func theWidgetLearnsWhatItNeedsFromTheServer(database: TestDatabase) async throws {
        try await withTestApp(database) { client, stores in
            let org = try await stores.makeOrganization()
            let config = try await client.send(.get, "/api/v1/widget/config?site=\(org.site.publicKey)").json()
            #expect(config["available"] as? Bool == true)
            let visitor = try await client.startConversation(siteKey: org.site.publicKey)
            _ = try await client.send(
                .post, "/api/v1/chat/sessions/\(visitor.sessionID)/email", json: ["email": "kim@example.com"],
                headers: visitor.headers)
            let resumed = try await client.send(
                .post, "/api/v1/chat/sessions", json: ["site": org.site.publicKey, "visitorId": visitor.visitorID]
            ).json()
            #expect(resumed["email"] as? String == "kim@example.com")
            // Read receipts while polling: the team reads the visitor's message, the page says so.
            _ = try await client.send(
                .post, "/api/v1/chat/sessions/\(visitor.sessionID)/messages", json: ["clientId": "r1", "body": "Hi"],
                headers: visitor.headers)
            let agent = try await client.signIn(org.owner.email)
            _ = try await client.send(
                .post, "/api/v1/admin/chats/\(visitor.sessionID)/read", json: ["seq": 1], headers: agent.headers)
            let polled = try await client.send(
                .get, "/api/v1/chat/sessions/\(visitor.sessionID)/messages?after=0", headers: visitor.headers
            ).json()
            #expect(polled["agentReadSeq"] as? Int == 1)
            #expect(polled["through"] as? Int == 1)
        }
    }

    @Test(arguments: TestDatabase.all)
    func theInboxFiltersConversationsByTheVisitorsFeedback(database: TestDatabase) async throws {
        try await withTestApp(database) { client, stores in
            let org = try await stores.makeOrganization()
            let agent = try await client.signIn(org.owner.email)
            var sessions: [String] = []
            for (index, rating) in [true, false, nil].enumerated() {
                let visitor = try await client.startConversation(siteKey: org.site.publicKey)
                sessions.append(visitor.sessionID)
                let sent = try await client.send(
                    .post, "/api/v1/chat/sessions/\(visitor.sessionID)/messages",
                    json: ["clientId": "q\(index)", "body": "Question \(index)"], headers: visitor.headers)
                let text = try #require(try sent.json()["id"] as? String)
                let message = try #require(ChatMessage.ID(text))
                try await stores.assistant.log(
                    .init(
                        organizationID: org.organization.id, sessionID: try #require(ChatSession.ID(visitor.sessionID)),
                        replyTo: 1, question: "Question \(index)", outcome: "answer", messageID: message,
                        createdAt: Date()))
                if let rating {
                    try await stores.recordFeedback(
                        on: message, helpful: rating, comment: nil, in: org.organization.id)
                }
            }
            func ids(_ query: String) async throws -> [String] {
                let page = try await client.send(.get, "/api/v1/admin/chats?\(query)", headers: agent.headers).json()
                return (page["data"] as? [[String: Any]])?.compactMap {
                    ($0["session"] as? [String: Any])?["id"] as? String
                } ?? []
            }
            #expect(try await ids("feedback=up") == [sessions[0]])
            #expect(try await ids("feedback=down") == [sessions[1]])
            #expect(try await ids("").count == 3)
            let bad = try await client.send(.get, "/api/v1/admin/chats?feedback=meh", headers: agent.headers)
            #expect(try bad.errorField() == "feedback")
        }
    }
}
