import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import ParleyApp
import ParleyCore
import ParleyStore
import ParleyTesting
import Testing

/// The assistant with no LLM provider: an article when one clearly answers, else the team.
@Suite struct AssistantTests {
    /// The conversation's messages once `done` holds (polling, as the widget's fallback does).
    static func messages(
        _ client: any TestClientProtocol, _ visitor: TestVisitor, until done: @Sendable ([[String: Any]]) -> Bool
    )
        async throws -> [[String: Any]]
    {
        for _ in 0..<300 {
            let json = try await client.send(
                .get, "/api/v1/chat/sessions/\(visitor.sessionID)/messages", headers: visitor.headers
            ).json()
            let data = json["data"] as? [[String: Any]] ?? []
            if done(data) { return data }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw UnexpectedResponse(description: "the assistant did not act")
    }

    static func say(_ client: any TestClientProtocol, _ visitor: TestVisitor, _ body: String, id: String) async throws {
        let sent = try await client.send(
            .post, "/api/v1/chat/sessions/\(visitor.sessionID)/messages", json: ["clientId": id, "body": body],
            headers: visitor.headers)
        #expect(sent.status == .created)
    }

    @Test(arguments: TestDatabase.all)
    func aKnowledgeBaseQuestionGetsTheArticleAndAnUnrelatedOneGoesToTheTeam(database: TestDatabase) async throws {
        try await withTestApp(database, configure: { $0.assistantEnabled = true }) { client, stores in
            let org = try await stores.makeOrganization()
            _ = try await stores.articles.create(
                .init(
                    title: "Resetting your password", body: "Open Settings, then Security, and press Reset password.",
                    url: "https://acme.example/help/password"), in: org.organization.id)
            let asker = try await client.startConversation(siteKey: org.site.publicKey)
            try await Self.say(client, asker, "How do I reset my password?", id: "q1")
            let answered = try await Self.messages(client, asker) { $0.count >= 2 }
            let reply = try #require(answered.last)
            #expect(reply["role"] as? String == "ai")
            #expect((reply["metadata"] as? [String: String])?["kind"] == "article")
            #expect((reply["metadata"] as? [String: String])?["articleUrl"] == "https://acme.example/help/password")
            #expect((reply["body"] as? String)?.contains("Resetting your password") == true)
            #expect(answered.count == 2)  // one reply per visitor message

            let other = try await client.startConversation(siteKey: org.site.publicKey)
            try await Self.say(client, other, "Do you sell bicycles in Norway?", id: "q2")
            let handed = try await Self.messages(client, other) { $0.count >= 2 }
            #expect(handed.last?["role"] as? String == "system")
            // No mail server in this test: the handoff promises a reply here, not by email.
            #expect((handed.last?["body"] as? String)?.contains("Someone will reply here") == true)
            let agent = try await client.signIn(org.owner.email)
            let escalated = try await client.send(.get, "/api/v1/admin/chats?escalated=true", headers: agent.headers)
                .json()
            #expect((escalated["data"] as? [Any])?.count == 1)
        }
    }

    @Test(arguments: TestDatabase.all)
    func askingForAPersonAlwaysHandsOverAndTheAssistantStaysQuietAfterATakeover(database: TestDatabase) async throws {
        try await withTestApp(database, configure: { $0.assistantEnabled = true }) { client, stores in
            let org = try await stores.makeOrganization()
            _ = try await stores.articles.create(
                .init(title: "Talk to a human", body: "Our humans answer in minutes."), in: org.organization.id)
            let visitor = try await client.startConversation(siteKey: org.site.publicKey)
            try await Self.say(client, visitor, "I want to talk to a human please", id: "h1")
            let handed = try await Self.messages(client, visitor) { $0.count >= 2 }
            #expect(handed.last?["role"] as? String == "system")  // not the article, even though it matches
            let agent = try await client.signIn(org.owner.email)
            _ = try await client.send(
                .post, "/api/v1/admin/chats/\(visitor.sessionID)/reply", json: ["body": "Hi, I'm here."],
                headers: agent.headers)
            try await Self.say(client, visitor, "How do I talk to a human?", id: "h2")
            try await Task.sleep(for: .milliseconds(300))
            let after = try await Self.messages(client, visitor) { _ in true }
            #expect(after.last?["role"] as? String == "user")
            #expect(!after.contains { $0["role"] as? String == "ai" })
        }
    }

    @Test(arguments: TestDatabase.all)
    func theVisitorCanEscalateOnce(database: TestDatabase) async throws {
        try await withTestApp(database) { client, stores in
            let org = try await stores.makeOrganization()
            let visitor = try await client.startConversation(siteKey: org.site.publicKey)
            let first = try await client.send(
                .post, "/api/v1/chat/sessions/\(visitor.sessionID)/escalate", headers: visitor.headers)
            #expect(first.status == .ok)
            #expect(try first.json()["status"] as? String == "escalated")
            let again = try await client.send(
                .post, "/api/v1/chat/sessions/\(visitor.sessionID)/escalate", headers: visitor.headers)
            #expect(again.status == .conflict)
            let stranger = try await client.startConversation(siteKey: org.site.publicKey)
            #expect(
                try await client.send(
                    .post, "/api/v1/chat/sessions/\(visitor.sessionID)/escalate", headers: stranger.headers
                ).status
                    == .notFound)
        }
    }

    @Test(arguments: TestDatabase.all)
    func withNoProviderADemoQuestionGetsItsArticleAndAnUnrelatedOneIsHandedOver(database: TestDatabase) async throws {
        try await withTestApp(database, configure: { $0.assistantEnabled = true }) { client, stores in
            let org = try await stores.makeOrganization()
            _ = try await stores.articles.importMarkdown(try Demo.articles(), in: org.organization.id)
            let asker = try await client.startConversation(siteKey: org.site.publicKey)
            try await Self.say(client, asker, "How do I cancel my subscription?", id: "d1")
            let answered = try await Self.messages(client, asker) { $0.count >= 2 }
            let metadata = answered.last?["metadata"] as? [String: String]
            #expect(metadata?["kind"] == "article")
            #expect(metadata?["articleTitle"] == "Cancel your subscription")
            #expect(metadata?["articleUrl"] == "https://demo.parley.dev/help/cancel")
            let other = try await client.startConversation(siteKey: org.site.publicKey)
            try await Self.say(client, other, "Do you sell garden furniture?", id: "d2")
            let handed = try await Self.messages(client, other) { $0.count >= 2 }
            #expect(handed.last?["role"] as? String == "system")
            #expect(!handed.contains { $0["role"] as? String == "ai" })
        }
    }
}
