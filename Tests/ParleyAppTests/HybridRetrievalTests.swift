import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import ParleyCore
import ParleyHTTP
import ParleyStore
import ParleyTesting
import Testing

/// Retrieval with embeddings and the grounding gate, through the running app: a scripted
/// embeddings server and scripted models over loopback HTTP, on both engines.
@Suite struct HybridRetrievalTests {
    /// The scripted embedder puts these words in one bucket, as a real model puts paraphrases close.
    static let synonyms = [
        "reimbursed": "refund", "reimburse": "refund", "refund": "refund", "refunds": "refund", "money": "refund",
        "back": "refund", "cash": "refund",
    ]

    static let articles = [
        ("Refund policy", "A refund can be requested within 30 days of any payment from Settings, Billing."),
        ("Shipping times", "Orders ship within two business days. Express shipping arrives the next day."),
        ("Two-factor sign-in", "Turn on two-factor sign-in under Settings, Security, with an authenticator app."),
    ]

    static func seed(_ stores: Stores, _ org: OrganizationFixture) async throws {
        for (title, body) in Self.articles {
            _ = try await stores.articles.create(.init(title: title, body: body), in: org.organization.id)
        }
    }

    @Test(arguments: TestDatabase.all)
    func vectorsFindAParaphraseFullTextMissesOnceTheIndexerHasRun(database: TestDatabase) async throws {
        let embedder = ScriptedLLMServer([], fallback: ScriptedLLMServer.embeddings(synonyms: Self.synonyms))
        try await embedder.run { url in
            try await withTestApp(
                database, setup: .live,
                configure: {
                    $0.assistantEnabled = true; $0.allowLoopback()
                }
            ) { client, stores in
                let org = try await stores.makeOrganization()
                let admin = try await client.signIn(org.owner.email)
                try await Self.seed(stores, org)
                let question = "can I get reimbursed?"
                // Full text alone: no word of the question is in the article.
                let before = try await client.send(
                    .get,
                    "/api/v1/admin/kb/search?q=\(question.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)",
                    headers: admin.headers
                ).json()
                #expect((before["data"] as? [[String: Any]])?.first?["title"] as? String != "Refund policy")
                let none = try await client.send(.get, "/api/v1/admin/kb/index", headers: admin.headers).json()
                #expect(none["mode"] as? String == "fulltext")
                #expect(
                    try await client.send(.get, "/api/v1/admin/ai/embeddings", headers: admin.headers).status
                        == .notFound)

                // An embeddings provider: the background indexer embeds every passage.
                let set = try await client.send(
                    .put, "/api/v1/admin/ai/embeddings",
                    json: [
                        "kind": "openai", "baseUrl": url, "model": "p-model", "queryModel": "q-model", "apiKey": "sk-e",
                    ],
                    headers: admin.headers)
                #expect(set.status == .ok)
                #expect(try set.json()["hasApiKey"] as? Bool == true)
                #expect(try set.json()["apiKey"] == nil)
                let embedded = try await eventually(
                    seconds: 30,
                    {
                        try await client.send(.get, "/api/v1/admin/kb/index", headers: admin.headers).json()["embedded"]
                            as? Int ?? 0
                    }, until: { $0 == Self.articles.count })
                #expect(embedded == Self.articles.count)
                let index = try await client.send(.get, "/api/v1/admin/kb/index", headers: admin.headers).json()
                #expect(index["mode"] as? String == "hybrid")
                #expect(index["passages"] as? Int == Self.articles.count)
                #expect(index["model"] as? String == "p-model")

                let after = try await client.send(
                    .get, "/api/v1/admin/kb/search?q=can%20I%20get%20reimbursed%3F&limit=2", headers: admin.headers
                ).json()
                let hits = try #require(after["data"] as? [[String: Any]])
                #expect(hits.count <= 2)
                #expect(hits.first?["title"] as? String == "Refund policy")
                #expect(hits.first?["passage"] as? String == Self.articles[0].1)
                #expect(hits.first?["passageHeading"] as? String == "Refund policy")
                // Passages were embedded with the passage model, questions with the query model.
                let models = embedder.requests.withLock { $0 }.compactMap {
                    (try? JSONSerialization.jsonObject(with: Data($0.body.utf8)) as? [String: Any])?["model"] as? String
                }
                #expect(models.contains("p-model") && models.contains("q-model"))

                // A new article is embedded in the background too.
                _ = try await client.send(
                    .post, "/api/v1/admin/kb/articles",
                    json: ["title": "Gift cards", "body": "Gift cards never expire."], headers: admin.headers)
                let more = try await eventually(
                    seconds: 30,
                    {
                        try await client.send(.get, "/api/v1/admin/kb/index", headers: admin.headers).json()["embedded"]
                            as? Int ?? 0
                    }, until: { $0 == Self.articles.count + 1 })
                #expect(more == Self.articles.count + 1)

                // A provider that fails leaves search to full text, and says so in its health.
                let broken = try await client.send(
                    .put, "/api/v1/admin/ai/embeddings",
                    json: ["kind": "openai", "baseUrl": "http://localhost:9/v1", "model": "p-model"],
                    headers: admin.headers)
                #expect(broken.status == .ok)
                let fallback = try await client.send(
                    .get, "/api/v1/admin/kb/search?q=shipping", headers: admin.headers
                ).json()
                #expect((fallback["data"] as? [[String: Any]])?.first?["title"] as? String == "Shipping times")
                let health = try await client.send(.get, "/api/v1/admin/ai/embeddings", headers: admin.headers).json()
                #expect(health["healthy"] as? Bool == false)
                #expect((health["lastError"] as? String)?.isEmpty == false)
                #expect(
                    try await client.send(.delete, "/api/v1/admin/ai/embeddings", headers: admin.headers).status
                        == .noContent)
            }
        }
    }

    @Test func embeddingsSettingsAreCheckedAndAdminsOnly() async throws {
        try await withTestApp(.sqlite, setup: .live) { client, stores in
            let org = try await stores.makeOrganization()
            let admin = try await client.signIn(org.owner.email)
            let agent = try await stores.makeAgent(in: org.organization.id, role: .agent)
            let agentSession = try await client.signIn(agent.email)
            // The SSRF guard: an internal address is refused, naming the field.
            let metadata = try await client.send(
                .put, "/api/v1/admin/ai/embeddings",
                json: ["kind": "openai", "baseUrl": "http://169.254.169.254/v1", "model": "m"], headers: admin.headers)
            #expect(metadata.status == .unprocessableContent)
            #expect(try metadata.errorField() == "baseUrl")
            let noModel = try await client.send(
                .put, "/api/v1/admin/ai/embeddings", json: ["kind": "gemini", "model": ""], headers: admin.headers)
            #expect(noModel.status == .unprocessableContent)
            #expect(try noModel.errorField() == "model")
            let forbidden = try await client.send(
                .put, "/api/v1/admin/ai/embeddings", json: ["kind": "gemini", "model": "text-embedding-004"],
                headers: agentSession.headers)
            #expect(forbidden.status == .forbidden)
            let bad = try await client.send(
                .get, "/api/v1/admin/kb/search?q=x&limit=500", headers: agentSession.headers)
            #expect(bad.status == .unprocessableContent)
            #expect(try bad.errorField() == "limit")
        }
    }

    /// The gate with scripted models: what an inventing model streams never reaches the visitor
    /// as AI prose.
    @Test(arguments: TestDatabase.all)
    func anInventedAnswerIsHeldBackAndASupportedStartIsLabelledWithdrawn(database: TestDatabase) async throws {
        let invented =
            "You can get a full refund within 30 days [A1]. Then call our hotline at 555 0199 and ask Kevin in accounting to wire the money. He will confirm by fax.\n<decision>{\"decision\":\"answer\",\"citations\":[\"A1\"],\"confidence\":0.95}</decision>"
        let server = ScriptedLLMServer([], fallback: ScriptedLLMServer.reply(invented, pieceSize: 7))
        try await server.run { url in
            try await withTestApp(
                database, setup: .live,
                configure: {
                    $0.assistantEnabled = true; $0.allowLoopback()
                }
            ) { client, stores in
                let org = try await StreamingAssistantTests.setUp(stores, providers: [url])
                let visitor = try await client.startConversation(siteKey: org.site.publicKey)
                let channel = "supportChat:\(visitor.sessionID)"
                try await withTestSocket(client.realtimeURL(token: visitor.token)) { socket in
                    try socket.send(["type": "subscribe", "channel": channel])
                    _ = try await socket.next(where: { $0["type"] as? String == "subscribed" })
                    try await AssistantTests.say(client, visitor, "How do I get a refund?", id: "q1")
                    let end = try await socket.next(
                        timeout: .seconds(10),
                        where: {
                            StreamingAssistantTests.isEvent("message.delta")($0)
                                && ($0["data"] as? [String: Any])?["done"] as? Bool == true
                        })
                    #expect((end["data"] as? [String: Any])?["outcome"] as? String == "withdrawn")
                }
                let messages = try await AssistantTests.messages(client, visitor) { $0.count >= 2 }
                // The reply is the article offered in the mode without a model, labelled; the
                // hotline never appears anywhere the visitor can read.
                let reply = try #require(messages.last)
                let metadata = reply["metadata"] as? [String: String] ?? [:]
                #expect(metadata["kind"] == "article" || reply["role"] as? String == "system")
                #expect(metadata["kind"] != "ai")
                #expect(!messages.contains { ($0["body"] as? String ?? "").contains("hotline") })
                let log = try await eventually(
                    { try await stores.assistant.interactions(in: org.organization.id) }, until: { !$0.isEmpty })
                #expect(log.first?.reason?.contains("hotline") == true)
                #expect((log.first?.confidence ?? 1) < AssistantSettings.defaultGroundingThreshold)
                // The prompt asked for a short answer and budgeted its tokens.
                let prompt = try #require(
                    try JSONSerialization.jsonObject(with: Data(server.lastBody.utf8)) as? [String: Any])
                #expect(prompt["max_tokens"] as? Int == 380)
                let system = (prompt["messages"] as? [[String: Any]])?.first?["content"] as? String ?? ""
                #expect(system.contains("Answer in at most 150 words."))
            }
        }
    }

    @Test(arguments: TestDatabase.all)
    func agentsHandBackToTheAssistantAndMarkItsAnswers(database: TestDatabase) async throws {
        let server = ScriptedLLMServer([], fallback: ScriptedLLMServer.reply(StreamingAssistantTests.answer))
        try await server.run { url in
            try await withTestApp(
                database, setup: .live,
                configure: {
                    $0.assistantEnabled = true; $0.allowLoopback()
                }
            ) { client, stores in
                let org = try await StreamingAssistantTests.setUp(
                    stores, providers: [url], settings: AssistantSettings(maxMessagesBeforeEscalation: 1))
                let agent = try await client.signIn(org.owner.email)
                let visitor = try await client.startConversation(siteKey: org.site.publicKey)
                try await AssistantTests.say(client, visitor, "How do I get a refund?", id: "q1")
                let answered = try await AssistantTests.messages(client, visitor) { $0.count >= 2 }
                let answerID = try #require(answered.last?["id"] as? String)
                // The budget (one reply) is spent: the next question goes to the team.
                try await AssistantTests.say(client, visitor, "And for annual plans?", id: "q2")
                _ = try await AssistantTests.messages(client, visitor) { $0.count >= 4 }
                #expect(try await StreamingAssistantTests.status(client, visitor) == "escalated")

                // Marks: right, then cleared, then wrong; another conversation's id is not found.
                let base = "/api/v1/admin/chats/\(visitor.sessionID)"
                let right = try await client.send(
                    .post, "\(base)/messages/\(answerID)/review", json: ["verdict": "right"], headers: agent.headers)
                #expect(right.status == .ok)
                #expect(try right.json()["verdict"] as? String == "right")
                let cleared = try await client.send(
                    .post, "\(base)/messages/\(answerID)/review", json: ["verdict": NSNull()], headers: agent.headers)
                #expect(try cleared.json()["verdict"] is NSNull)
                let wrong = try await client.send(
                    .post, "\(base)/messages/\(answerID)/review", json: ["verdict": "wrong"], headers: agent.headers)
                #expect(wrong.status == .ok)
                let bad = try await client.send(
                    .post, "\(base)/messages/\(answerID)/review", json: ["verdict": "meh"], headers: agent.headers)
                #expect(try bad.errorField() == "verdict")
                let stranger = try await client.send(
                    .post, "\(base)/messages/\(ChatMessage.ID())/review", json: ["verdict": "right"],
                    headers: agent.headers)
                #expect(stranger.status == .notFound)
                let reviews = try await client.send(.get, "\(base)/reviews", headers: agent.headers).json()
                #expect((reviews["data"] as? [[String: Any]])?.map { $0["verdict"] as? String } == ["wrong"])
                let report = try await client.send(.get, "/api/v1/admin/analytics/ai", headers: agent.headers).json()
                #expect(report["reviewedWrong"] as? Int == 1)
                #expect(report["reviewedRight"] as? Int == 0)

                // Handing back: the assistant answers again, with a fresh budget.
                let back = try await client.send(.post, "\(base)/assistant", headers: agent.headers)
                #expect(back.status == .ok)
                #expect(try back.json()["status"] as? String == "ai_active")
                let again = try await client.send(.post, "\(base)/assistant", headers: agent.headers)
                #expect(again.status == .conflict)
                try await AssistantTests.say(client, visitor, "How do I get a refund again?", id: "q3")
                let latest = try await AssistantTests.messages(client, visitor) { messages in
                    messages.last?["role"] as? String == "ai"
                }
                #expect(
                    latest.contains {
                        ($0["body"] as? String ?? "").hasSuffix("handed the conversation back to the assistant")
                    })
            }
        }
    }

    @Test(arguments: TestDatabase.all)
    func aVisitorsImageGoesToAProviderWithVisionWithTheImagePrompt(database: TestDatabase) async throws {
        let server = ScriptedLLMServer([], fallback: ScriptedLLMServer.reply(StreamingAssistantTests.answer))
        try await server.run { url in
            try await withTestApp(
                database, setup: .live,
                configure: {
                    $0.assistantEnabled = true; $0.allowLoopback()
                }
            ) { client, stores in
                func upload(_ visitor: TestVisitor, _ clientID: String) async throws {
                    let response = try await client.execute(
                        uri:
                            "/api/v1/chat/sessions/\(visitor.sessionID)/attachments?name=refund.png&clientId=\(clientID)",
                        method: .post, headers: AttachmentTests.typed(visitor.headers, "image/png"),
                        body: ByteBuffer(bytes: AttachmentTests.png))
                    #expect(response.status == .created)
                }
                let prompt = AssistantSettings(imagePrompt: "Read the screenshot and answer from the passages.")
                // A provider without vision: the image is the team's, as any file.
                let textOnly = try await StreamingAssistantTests.setUp(stores, providers: [], settings: prompt)
                _ = try await stores.assistant.addProvider(
                    .init(kind: .openai, name: "text only", baseURL: url, model: "t"), in: textOnly.organization.id)
                let first = try await client.startConversation(siteKey: textOnly.site.publicKey)
                try await upload(first, "u1")
                // A provider with vision gets the image and the prompt.
                let org = try await StreamingAssistantTests.setUp(stores, providers: [], settings: prompt)
                _ = try await stores.assistant.addProvider(
                    .init(kind: .openai, name: "vision", baseURL: url, model: "v", vision: true),
                    in: org.organization.id)
                let second = try await client.startConversation(siteKey: org.site.publicKey)
                try await upload(second, "u2")
                _ = try await AssistantTests.messages(client, second) { $0.count >= 2 }
                let bodies = server.requests.withLock { $0 }.map(\.body)
                #expect(bodies.count == 1, "only the image with a vision provider reached a model")
                let sent = try #require(try JSONSerialization.jsonObject(with: Data(bodies[0].utf8)) as? [String: Any])
                #expect(sent["model"] as? String == "v")
                let turns = sent["messages"] as? [[String: Any]] ?? []
                #expect((turns.first?["content"] as? String)?.contains("Read the screenshot") == true)
                let parts = turns.last?["content"] as? [[String: Any]] ?? []
                let image = (parts.last?["image_url"] as? [String: String])?["url"] ?? ""
                #expect(image == "data:image/png;base64,\(Data(AttachmentTests.png).base64EncodedString())")
                #expect(try await AssistantTests.messages(client, first) { _ in true }.count == 1)
            }
        }
    }
}
