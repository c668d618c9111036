import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import ParleyCore
import ParleyHTTP
import ParleyStore
import ParleyTesting
import Testing

/// The assistant with providers, against scripted OpenAI-compatible servers over loopback HTTP:
/// streaming to the visitor's socket, the stored reply, every handoff rule, failover and failures.
@Suite struct StreamingAssistantTests {
    static func isEvent(_ name: String) -> @Sendable ([String: Any]) -> Bool {
        { $0["type"] as? String == "event" && $0["name"] as? String == name }
    }

    /// An organization with the refund article and `providers` (URLs of scripted servers).
    static func setUp(_ stores: Stores, providers: [String], settings: AssistantSettings? = nil) async throws
        -> OrganizationFixture
    {
        let org = try await stores.makeOrganization()
        _ = try await stores.articles.create(
            .init(
                title: "Refund policy", body: "You can ask for a full refund within 30 days of any payment.",
                url: "https://acme.example/refunds"), in: org.organization.id)
        for (index, url) in providers.enumerated() {
            _ = try await stores.assistant.addProvider(
                .init(
                    kind: .openai, name: "scripted \(index + 1)", baseURL: url, model: "m\(index + 1)",
                    apiKey: "sk-\(index)"),
                in: org.organization.id)
        }
        if let settings { _ = try await stores.assistant.updateSettings(settings, in: org.organization.id) }
        return org
    }

    static func status(_ client: any TestClientProtocol, _ visitor: TestVisitor) async throws -> String? {
        try await client.send(.get, "/api/v1/chat/sessions/\(visitor.sessionID)/messages", headers: visitor.headers)
            .json()["status"] as? String
    }

    static let answer =
        "You can get a full refund within 30 days [A1].\n<decision>{\"decision\":\"answer\",\"citations\":[\"A1\"],\"confidence\":0.92,\"quickReplies\":[\"How long does it take?\"]}</decision>"

    @Test(arguments: TestDatabase.all)
    func anAnswerStreamsToTheVisitorAndEndsInOneStoredReply(database: TestDatabase) async throws {
        let server = ScriptedLLMServer([ScriptedLLMServer.reply(Self.answer, pieceSize: 5, delay: .milliseconds(2))])
        try await server.run { url in
            try await withTestApp(
                database, setup: .live,
                configure: {
                    $0.assistantEnabled = true; $0.allowLoopback()
                }
            ) { client, stores in
                let org = try await Self.setUp(stores, providers: [url])
                let visitor = try await client.startConversation(siteKey: org.site.publicKey)
                let channel = "supportChat:\(visitor.sessionID)"
                try await withTestSocket(client.realtimeURL(token: visitor.token)) { socket in
                    try socket.send(["type": "subscribe", "channel": channel])
                    _ = try await socket.next(where: { $0["type"] as? String == "subscribed" })
                    try await AssistantTests.say(client, visitor, "How do I get a refund?", id: "q1")
                    let stored = try await socket.next(
                        timeout: .seconds(10),
                        where: { frame in
                            Self.isEvent("message.created")(frame)
                                && (frame["data"] as? [String: Any])?["role"] as? String == "ai"
                        })
                    let deltas = await socket.collect(type: "event", name: "message.delta", for: .milliseconds(300))
                    let pieces = deltas.compactMap { $0["data"] as? [String: Any] }
                    let text = pieces.compactMap { $0["delta"] as? String }.joined()
                    #expect(text == "You can get a full refund within 30 days [A1].\n")  // never the trailer
                    #expect(pieces.compactMap { $0["index"] as? Int } == Array(0..<pieces.count))
                    #expect(pieces.count >= 2)  // sentence by sentence, then the end
                    #expect(pieces.last?["done"] as? Bool == true)
                    #expect(pieces.last?["outcome"] as? String == "answer")
                    let message = try #require(stored["data"] as? [String: Any])
                    let metadata = try #require(message["metadata"] as? [String: String])
                    #expect(message["body"] as? String == "You can get a full refund within 30 days [A1].")
                    #expect(metadata["provider"] == "scripted 1")
                    #expect(metadata["model"] == "m1")
                    // The confidence is the answer's grounding support, not the model's own figure.
                    #expect(metadata["confidence"] == "1.00")
                    #expect(metadata["decision"] == "answer")
                    #expect(metadata["citations"]?.contains("https://acme.example/refunds") == true)
                    #expect(metadata["quickReplies"] == #"["How long does it take?"]"#)
                    #expect(metadata["streamId"] == pieces.first?["streamId"] as? String)
                    #expect(metadata["latencyMs"] != nil && metadata["firstTokenMs"] != nil)
                }
                // The prompt carried the passage with its id, and the visitor's words as a user turn.
                let prompt = try #require(
                    try JSONSerialization.jsonObject(with: Data(server.lastBody.utf8)) as? [String: Any])
                let turns = prompt["messages"] as? [[String: String]] ?? []
                #expect(turns.first?["role"] == "system")
                #expect(turns.first?["content"]?.contains(#"<passage id="A1" title="Refund policy">"#) == true)
                #expect(turns.last == ["role": "user", "content": "How do I get a refund?"])
                #expect(prompt["model"] as? String == "m1")
                #expect(prompt["stream"] as? Bool == true)
                let all = try await AssistantTests.messages(client, visitor) { $0.count >= 2 }
                #expect(all.count == 2)
                // Logged just after the reply is stored.
                let log = try await eventually(
                    { try await stores.assistant.interactions(in: org.organization.id) }, until: { !$0.isEmpty })
                #expect(log.count == 1)
                #expect(log.first?.outcome == "answer")
                #expect(log.first?.provider == "scripted 1")
                #expect(log.first?.messageID?.description == all.last?["id"] as? String)
            }
        }
    }

    @Test(arguments: TestDatabase.all)
    func everyHandoffRuleHandsOver(database: TestDatabase) async throws {
        // One provider for every case; what it says depends on the question.
        let server = ScriptedLLMServer(
            [],
            fallback: .respond { body in
                if body.contains("ESCALATE please") {
                    return ScriptedLLMServer.reply("[ESCALATE] needs a billing person")
                }
                if body.contains("decide handoff") {
                    return ScriptedLLMServer.reply(
                        #"Hmm.<decision>{"decision":"handoff","reason":"unsure"}</decision>"#)
                }
                if body.contains("low confidence") {
                    return ScriptedLLMServer.reply(
                        #"Perhaps?<decision>{"decision":"answer","confidence":0.1}</decision>"#)
                }
                return ScriptedLLMServer.reply(Self.answer)
            })
        try await server.run { url in
            try await withTestApp(
                database, setup: .live,
                configure: {
                    $0.assistantEnabled = true; $0.allowLoopback()
                }
            ) { client, stores in
                var settings = AssistantSettings(maxMessagesBeforeEscalation: 1)
                settings.autoReplyRules = [
                    .init(match: .contains, pattern: "opening hours", reply: "We answer 9 to 5.")
                ]
                let org = try await Self.setUp(stores, providers: [url], settings: settings)
                // The logged reason: the model's own words when it gave them, else the rule's name.
                for (question, reason) in [
                    ("Refund? ESCALATE please", "needs a billing person"), ("Refund? decide handoff", "unsure"),
                    ("Refund? low confidence", "low_confidence"),
                ] {
                    let visitor = try await client.startConversation(siteKey: org.site.publicKey)
                    try await AssistantTests.say(client, visitor, question, id: "q")
                    let messages = try await AssistantTests.messages(client, visitor) { $0.count >= 2 }
                    #expect(messages.last?["role"] as? String == "system", "\(question)")
                    #expect(!messages.contains { $0["role"] as? String == "ai" }, "\(question)")
                    #expect(try await Self.status(client, visitor) == "escalated")
                    // Logged after the handoff (which also notifies the team).
                    let log = try await eventually(
                        { try await stores.assistant.interactions(in: org.organization.id) },
                        until: { $0.first?.reason == reason })
                    #expect(log.first?.outcome == "handoff")
                    #expect(log.first?.reason == reason, "\(question)")
                }
                let before = server.requestCount
                // Asking for a person never reaches the model.
                let asker = try await client.startConversation(siteKey: org.site.publicKey)
                try await AssistantTests.say(client, asker, "Please let me talk to a human", id: "h")
                _ = try await AssistantTests.messages(client, asker) { $0.count >= 2 }
                #expect(try await Self.status(client, asker) == "escalated")
                // An auto-reply rule answers at once, without the model.
                let hours = try await client.startConversation(siteKey: org.site.publicKey)
                try await AssistantTests.say(client, hours, "What are your opening hours?", id: "o")
                let instant = try await AssistantTests.messages(client, hours) { $0.count >= 2 }
                #expect(instant.last?["body"] as? String == "We answer 9 to 5.")
                #expect((instant.last?["metadata"] as? [String: String])?["kind"] == "auto_reply")
                #expect(server.requestCount == before)
                // maxMessagesBeforeEscalation = 1: the first question is answered, the second handed over.
                let repeatVisitor = try await client.startConversation(siteKey: org.site.publicKey)
                try await AssistantTests.say(client, repeatVisitor, "How do refunds work?", id: "r1")
                _ = try await AssistantTests.messages(client, repeatVisitor) { $0.count >= 2 }
                try await AssistantTests.say(client, repeatVisitor, "And for annual plans?", id: "r2")
                let limited = try await AssistantTests.messages(client, repeatVisitor) { $0.count >= 4 }
                #expect(limited.map { $0["role"] as? String } == ["user", "ai", "user", "system"])
                #expect(server.requestCount == before + 1)
            }
        }
    }

    @Test(arguments: TestDatabase.all)
    func theFleetFailsOverAndRecordsHealth(database: TestDatabase) async throws {
        let broken = ScriptedLLMServer([], fallback: .status(503))
        let working = ScriptedLLMServer([], fallback: ScriptedLLMServer.reply(Self.answer))
        try await broken.run { brokenURL in
            try await working.run { workingURL in
                try await withTestApp(
                    database, setup: .live,
                    configure: {
                        $0.assistantEnabled = true; $0.allowLoopback()
                    }
                ) {
                    client, stores in
                    let org = try await Self.setUp(stores, providers: [brokenURL, workingURL])
                    let visitor = try await client.startConversation(siteKey: org.site.publicKey)
                    try await AssistantTests.say(client, visitor, "How do I get a refund?", id: "q1")
                    let messages = try await AssistantTests.messages(client, visitor) { $0.count >= 2 }
                    #expect((messages.last?["metadata"] as? [String: String])?["provider"] == "scripted 2")
                    let agent = try await client.signIn(org.owner.email)
                    let providers =
                        try await client.send(.get, "/api/v1/admin/ai/providers", headers: agent.headers)
                        .json()["data"] as? [[String: Any]] ?? []
                    #expect(providers.count == 2)
                    let health = providers.map { ($0["health"] as? [String: Any])?["healthy"] as? Bool }
                    #expect(health == [false, true])
                    #expect(
                        ((providers.first?["health"] as? [String: Any])?["lastError"] as? String)?.contains("503")
                            == true)
                    #expect(providers.allSatisfy { $0["hasApiKey"] as? Bool == true && $0["apiKey"] == nil })
                }
            }
        }
    }

    @Test(arguments: TestDatabase.all)
    func whenEveryProviderFailsTheKnowledgeBaseStillAnswersOrHandsOver(database: TestDatabase) async throws {
        let down = ScriptedLLMServer([], fallback: .status(429, headers: [("Retry-After", "30")]))
        try await down.run { url in
            try await withTestApp(
                database, setup: .live,
                configure: {
                    $0.assistantEnabled = true; $0.allowLoopback()
                }
            ) { client, stores in
                let org = try await Self.setUp(stores, providers: [url])
                let known = try await client.startConversation(siteKey: org.site.publicKey)
                try await AssistantTests.say(client, known, "What is the refund policy?", id: "q1")
                let answered = try await AssistantTests.messages(client, known) { $0.count >= 2 }
                #expect((answered.last?["metadata"] as? [String: String])?["kind"] == "article")
                let unknown = try await client.startConversation(siteKey: org.site.publicKey)
                try await AssistantTests.say(client, unknown, "Do you ship pianos to Peru?", id: "q2")
                _ = try await AssistantTests.messages(client, unknown) { $0.count >= 2 }
                #expect(try await Self.status(client, unknown) == "escalated")
            }
        }
    }

    @Test(arguments: TestDatabase.all)
    func aStreamThatBreaksHalfwayIsNeverStoredAndHandsOver(database: TestDatabase) async throws {
        // A sentence, a piece of the next and no end: truncated after the first token, so no
        // failover either.
        let server = ScriptedLLMServer([
            .stream([
                ScriptedLLMServer.chunk("You can get a full refund within 30 days. "), ScriptedLLMServer.chunk("Then"),
            ])
        ])
        try await server.run { url in
            try await withTestApp(
                database, setup: .live,
                configure: {
                    $0.assistantEnabled = true; $0.allowLoopback()
                }
            ) { client, stores in
                let org = try await Self.setUp(stores, providers: [url])
                let visitor = try await client.startConversation(siteKey: org.site.publicKey)
                try await withTestSocket(client.realtimeURL(token: visitor.token)) { socket in
                    try socket.send(["type": "subscribe", "channel": "supportChat:\(visitor.sessionID)"])
                    _ = try await socket.next(where: { $0["type"] as? String == "subscribed" })
                    try await AssistantTests.say(client, visitor, "How do I get a refund?", id: "q1")
                    let end = try await socket.next(
                        timeout: .seconds(10),
                        where: {
                            Self.isEvent("message.delta")($0)
                                && ($0["data"] as? [String: Any])?["done"] as? Bool == true
                        })
                    // What was shown is labelled withdrawn, not silently taken back.
                    #expect((end["data"] as? [String: Any])?["outcome"] as? String == "withdrawn")
                }
                let messages = try await AssistantTests.messages(client, visitor) { $0.count >= 2 }
                #expect(!messages.contains { $0["role"] as? String == "ai" })
                #expect(try await Self.status(client, visitor) == "escalated")
                // Logged after the handoff (which also notifies the team).
                let log = try await eventually(
                    { try await stores.assistant.interactions(in: org.organization.id) }, until: { !$0.isEmpty })
                #expect(log.first?.outcome == "failed")
            }
        }
    }

    @Test(arguments: TestDatabase.all)
    func aResolvedQuestionClosesTheConversation(database: TestDatabase) async throws {
        let server = ScriptedLLMServer([
            ScriptedLLMServer.reply(
                #"Great, glad that worked! [A1]<decision>{"decision":"resolve","confidence":0.95}</decision>"#)
        ])
        try await server.run { url in
            try await withTestApp(
                database, setup: .live,
                configure: {
                    $0.assistantEnabled = true; $0.allowLoopback()
                }
            ) { client, stores in
                let org = try await Self.setUp(stores, providers: [url])
                let visitor = try await client.startConversation(siteKey: org.site.publicKey)
                try await AssistantTests.say(client, visitor, "Thanks, the refund arrived!", id: "q1")
                let messages = try await AssistantTests.messages(client, visitor) { $0.count >= 3 }
                #expect(messages.map { $0["role"] as? String } == ["user", "ai", "system"])
                #expect(try await Self.status(client, visitor) == "closed")
            }
        }
    }

    @Test(arguments: TestDatabase.all)
    func handoffMakesATicketAndAnAnonymousVisitorsEmailBecomesItsAddress(database: TestDatabase) async throws {
        try await withTestApp(database, setup: .live) { client, stores in
            let org = try await stores.makeOrganization()
            let agent = try await client.signIn(org.owner.email)
            try await withTestSocket(client.realtimeURL(), headers: agent.headers) { inbox in
                try inbox.send(["type": "subscribe", "channel": "inbox:\(org.organization.id)"])
                _ = try await inbox.next(where: { $0["type"] as? String == "subscribed" })

                // Identified (signed) with an email: the ticket comes with the handoff.
                let hash = VisitorTokens.userHash(userID: "user-7", secret: org.site.identitySecret)
                let known = try await client.startConversation(
                    siteKey: org.site.publicKey,
                    user: ["id": "user-7", "email": "ada@example.com", "name": "Ada", "userHash": hash])
                try await AssistantTests.say(client, known, "My invoice is wrong", id: "k1")
                let escalated = try await client.send(
                    .post, "/api/v1/chat/sessions/\(known.sessionID)/escalate", headers: known.headers)
                #expect(escalated.status == .ok)
                let notice = try await inbox.next(where: Self.isEvent("ticket.created"))
                let ticketID = try #require((notice["data"] as? [String: Any])?["ticketId"] as? String)
                #expect((notice["data"] as? [String: Any])?["subject"] as? String == "My invoice is wrong")
                let ticket = try await client.send(.get, "/api/v1/admin/tickets/\(ticketID)", headers: agent.headers)
                    .json()
                #expect(ticket["source"] as? String == "chat")
                #expect(ticket["chatSessionId"] as? String == known.sessionID)
                #expect(ticket["requesterEmail"] as? String == "ada@example.com")
                // One thread: the conversation's messages are the ticket's, not a pasted transcript.
                let thread = (ticket["messages"] as? [[String: Any]] ?? []).compactMap { $0["body"] as? String }
                #expect(thread.first == "My invoice is wrong")

                // Anonymous: handed over with a ticket that has no address yet; leaving an email gives it one.
                let anonymous = try await client.startConversation(siteKey: org.site.publicKey)
                try await AssistantTests.say(client, anonymous, "Where is my order?", id: "a1")
                _ = try await client.send(
                    .post, "/api/v1/chat/sessions/\(anonymous.sessionID)/escalate", headers: anonymous.headers)
                let pending = try #require(
                    try await stores.tickets.ticket(
                        forConversation: ChatSession.ID(anonymous.sessionID)!, in: org.organization.id))
                #expect(pending.requesterEmail == "")
                let left = try await client.send(
                    .post, "/api/v1/chat/sessions/\(anonymous.sessionID)/email", json: ["email": "bob@example.com"],
                    headers: anonymous.headers
                ).json()
                let second = try #require(left["ticketId"] as? String)
                #expect(second == pending.id.description)
                let again = try await client.send(
                    .post, "/api/v1/chat/sessions/\(anonymous.sessionID)/email", json: ["email": "bob@example.com"],
                    headers: anonymous.headers
                ).json()
                #expect(again["ticketId"] as? String == second)
                let updated = try await client.send(.get, "/api/v1/admin/tickets/\(second)", headers: agent.headers)
                    .json()
                #expect(updated["requesterEmail"] as? String == "bob@example.com")
                let list = try await client.send(.get, "/api/v1/admin/tickets", headers: agent.headers).json()
                #expect((list["data"] as? [Any])?.count == 2)
            }
        }
    }

    @Test(arguments: TestDatabase.all)
    func visitorsRateTheAssistantsRepliesInTheirOwnConversationOnly(database: TestDatabase) async throws {
        try await withTestApp(
            database, setup: .live,
            configure: {
                $0.assistantEnabled = true; $0.allowLoopback()
            }
        ) { client, stores in
            let org = try await Self.setUp(stores, providers: [])
            let visitor = try await client.startConversation(siteKey: org.site.publicKey)
            try await AssistantTests.say(client, visitor, "What is the refund policy?", id: "q1")
            let messages = try await AssistantTests.messages(client, visitor) { $0.count >= 2 }
            let reply = try #require(messages.last?["id"] as? String)
            let question = try #require(messages.first?["id"] as? String)
            let down = try await client.send(
                .post, "/api/v1/chat/messages/\(reply)/feedback", json: ["rating": "down", "comment": "Not my case"],
                headers: visitor.headers)
            #expect(down.status == .ok)
            #expect(try down.json()["offerTicket"] as? Bool == true)
            let log = try await stores.assistant.interactions(in: org.organization.id)
            #expect(log.first?.feedback == "down")
            #expect(log.first?.feedbackComment == "Not my case")
            let bad = try await client.send(
                .post, "/api/v1/chat/messages/\(reply)/feedback", json: ["rating": "meh"], headers: visitor.headers)
            #expect(bad.status == .unprocessableContent)
            let own = try await client.send(
                .post, "/api/v1/chat/messages/\(question)/feedback", json: ["rating": "up"], headers: visitor.headers)
            #expect(own.status == .unprocessableContent)
            let stranger = try await client.startConversation(siteKey: org.site.publicKey)
            let foreign = try await client.send(
                .post, "/api/v1/chat/messages/\(reply)/feedback", json: ["rating": "up"], headers: stranger.headers)
            #expect(foreign.status == .notFound)
        }
    }

    @Test(arguments: TestDatabase.all)
    func adminsConfigureTheAssistantAndAgentsMayOnlyRead(database: TestDatabase) async throws {
        // No DNS in tests: the providers' default hosts resolve to a public address here.
        try await withTestApp(database, configure: { $0.outboundResolver = AssistantControllerTests.publicResolver }) {
            client, stores in
            let org = try await stores.makeOrganization()
            let admin = try await client.signIn(org.owner.email)
            let created = try await client.send(
                .post, "/api/v1/admin/ai/providers",
                json: ["kind": "anthropic", "name": "Claude", "model": "claude-x", "apiKey": "sk-ant-secret"],
                headers: admin.headers)
            #expect(created.status == .created)
            let provider = try created.json()
            #expect(provider["baseUrl"] as? String == "https://api.anthropic.com/v1")
            #expect(provider["hasApiKey"] as? Bool == true)
            #expect(!created.text.contains("sk-ant-secret"))
            let id = try #require(provider["id"] as? String)
            // The key is stored sealed, and opens again with the master key.
            #expect(try await stores.assistant.providers(in: org.organization.id).first?.apiKey == "sk-ant-secret")
            let bad = try await client.send(
                .post, "/api/v1/admin/ai/providers",
                json: ["kind": "openai", "name": "x", "model": "m", "baseUrl": "ftp://x"],
                headers: admin.headers)
            #expect(bad.status == .unprocessableContent)
            #expect(try bad.json().description.contains("baseUrl"))
            var settings = try await client.send(.get, "/api/v1/admin/ai/settings", headers: admin.headers).json()
            #expect(settings["confidenceThreshold"] as? Double == 0.45)
            settings["confidenceThreshold"] = 0.7
            settings["autoReplyRules"] = [["match": "exact", "pattern": "hi", "reply": "Hello!"]]
            let saved = try await client.send(.put, "/api/v1/admin/ai/settings", json: settings, headers: admin.headers)
            #expect(saved.status == .ok)
            #expect(try await stores.assistant.settings(in: org.organization.id).confidenceThreshold == 0.7)
            settings["confidenceThreshold"] = 3
            let refused = try await client.send(
                .put, "/api/v1/admin/ai/settings", json: settings, headers: admin.headers)
            #expect(refused.status == .unprocessableContent)

            _ = try await stores.makeAgent(in: org.organization.id, role: .agent, email: "agent@acme.example")
            let agent = try await client.signIn("agent@acme.example")
            #expect(try await client.send(.get, "/api/v1/admin/ai/providers", headers: agent.headers).status == .ok)
            #expect(
                try await client.send(
                    .delete, "/api/v1/admin/ai/providers/\(id)", headers: agent.headers
                ).status == .forbidden)
            #expect(
                try await client.send(
                    .delete, "/api/v1/admin/ai/providers/\(id)", headers: admin.headers
                ).status == .noContent)
            // Another organization sees none of it.
            let other = try await stores.makeOrganization("Other")
            let outsider = try await client.signIn(other.owner.email)
            let theirs = try await client.send(.get, "/api/v1/admin/ai/settings", headers: outsider.headers).json()
            #expect(theirs["confidenceThreshold"] as? Double == 0.45)
        }
    }

    @Test(.enabled(if: TestDatabase.postgresURL != nil))
    func aReplyStreamsToAVisitorConnectedToAnotherInstance() async throws {
        let server = ScriptedLLMServer([ScriptedLLMServer.reply(Self.answer, pieceSize: 6, delay: .milliseconds(2))])
        try await server.run { url in
            try await TestDatabase.withPostgresEngines(2) { engines in
                try await withTestApp(
                    on: engines[0], setup: .live,
                    configure: {
                        $0.assistantEnabled = true; $0.allowLoopback()
                    }
                ) {
                    first, stores in
                    try await withTestApp(
                        on: engines[1], setup: .live,
                        configure: {
                            $0.assistantEnabled = true; $0.allowLoopback()
                        }
                    ) {
                        second, _ in
                        let org = try await Self.setUp(stores, providers: [url])
                        let visitor = try await first.startConversation(siteKey: org.site.publicKey)
                        try await withTestSocket(second.realtimeURL(token: visitor.token)) { socket in
                            try socket.send(["type": "subscribe", "channel": "supportChat:\(visitor.sessionID)"])
                            _ = try await socket.next(where: { $0["type"] as? String == "subscribed" })
                            // Stored by instance one, whose assistant answers; watched on instance two.
                            try await AssistantTests.say(first, visitor, "How do I get a refund?", id: "q1")
                            let stored = try await socket.next(
                                timeout: .seconds(10),
                                where: { frame in
                                    Self.isEvent("message.created")(frame)
                                        && (frame["data"] as? [String: Any])?["role"] as? String == "ai"
                                })
                            let deltas = await socket.collect(
                                type: "event", name: "message.delta", for: .milliseconds(300))
                            let text = deltas.compactMap { ($0["data"] as? [String: Any])?["delta"] as? String }
                                .joined()
                            #expect(text == "You can get a full refund within 30 days [A1].\n")
                            #expect(
                                (stored["data"] as? [String: Any])?["body"] as? String
                                    == "You can get a full refund within 30 days [A1].")
                        }
                        #expect(server.requestCount == 1)  // one instance answered, once
                    }
                }
            }
        }
    }
}
