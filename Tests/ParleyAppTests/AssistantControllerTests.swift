import Foundation
import HummingbirdTesting
import ParleyApp
import ParleyCore
import ParleyOutbound
import ParleyStore
import ParleyTesting
import Testing

/// Providers' base URLs pass the outbound guard when saved, and again on every request.
@Suite struct AssistantControllerTests {
    /// Every name resolves to a public address (no DNS in tests).
    static let publicResolver = OutboundResolver { _, _ in [IPAddress("93.184.215.14")!] }

    @Test(arguments: ["openai", "anthropic", "gemini"])
    func aProviderAtAnInternalAddressIsRefusedNamingBaseUrl(kind: String) async throws {
        try await withTestApp(.sqlite, configure: { $0.outboundResolver = Self.publicResolver }) { client, stores in
            let org = try await stores.makeOrganization()
            let admin = try await client.signIn(org.owner.email)
            for url in ["http://127.0.0.1:1/v1", "http://0x7f.1/", "http://169.254.169.254/"] {
                let response = try await client.send(
                    .post, "/api/v1/admin/ai/providers",
                    json: ["kind": kind, "name": "x", "model": "m", "baseUrl": url], headers: admin.headers)
                #expect(response.status == .unprocessableContent, "\(kind) \(url)")
                #expect(try response.errorField() == "baseUrl", "\(kind) \(url)")
            }
            let saved = try await client.send(
                .post, "/api/v1/admin/ai/providers",
                json: ["kind": kind, "name": "ok", "model": "m", "baseUrl": "https://llm.example.com/v1"],
                headers: admin.headers)
            #expect(saved.status == .created)
            let id = try #require(try saved.json()["id"] as? String)
            let moved = try await client.send(
                .patch, "/api/v1/admin/ai/providers/\(id)",
                json: ["kind": kind, "name": "ok", "model": "m", "baseUrl": "http://[::ffff:169.254.169.254]/"],
                headers: admin.headers)
            #expect(moved.status == .unprocessableContent)
            #expect(try moved.errorField() == "baseUrl")
            let stored = try await stores.assistant.providers(in: org.organization.id)
            #expect(stored.map(\.baseURL) == ["https://llm.example.com/v1"])
        }
    }

    @Test func theAllowListLetsAnOperatorUseALocalModel() async throws {
        try await withTestApp(.sqlite, configure: { $0.outboundPolicy = try! OutboundPolicy(allowing: ["127.0.0.1"]) })
        {
            client, stores in
            let org = try await stores.makeOrganization()
            let admin = try await client.signIn(org.owner.email)
            let response = try await client.send(
                .post, "/api/v1/admin/ai/providers",
                json: ["kind": "openai", "name": "ollama", "model": "m", "baseUrl": "http://127.0.0.1:11434/v1"],
                headers: admin.headers)
            #expect(response.status == .created)
        }
    }

    @Test func aStoredProviderNowOnLoopbackIsRefusedAtSendTimeWithoutBeingContacted() async throws {
        let server = ScriptedLLMServer([], fallback: ScriptedLLMServer.reply(StreamingAssistantTests.answer))
        try await server.run { url in
            // No allow list: the scripted server on localhost is an internal destination.
            try await withTestApp(.sqlite, setup: .live, configure: { $0.assistantEnabled = true }) { client, stores in
                let org = try await StreamingAssistantTests.setUp(stores, providers: [url])
                let visitor = try await client.startConversation(siteKey: org.site.publicKey)
                try await AssistantTests.say(client, visitor, "How do I get a refund?", id: "q1")
                let provider = try await eventually {
                    try await stores.assistant.providers(in: org.organization.id).first
                } until: {
                    $0?.healthy == false
                }
                #expect(provider?.lastError?.contains("refused") == true)
                #expect((provider?.lastError?.count ?? 0) <= 200)
                let interactions = try await eventually {
                    try await stores.assistant.interactions(in: org.organization.id)
                } until: {
                    !$0.isEmpty
                }
                #expect(interactions.first?.provider == nil)
                #expect(interactions.first?.reason?.contains("refused") == true)
                #expect((interactions.first?.reason?.count ?? 0) <= 200)
            }
        }
        #expect(server.requestCount == 0)
    }

    @Test func theProviderSeededFromTheEnvironmentIsTrusted() async throws {
        let server = ScriptedLLMServer([], fallback: ScriptedLLMServer.reply(StreamingAssistantTests.answer))
        try await server.run { url in
            try await withTestApp(
                .sqlite, setup: .live,
                configure: {
                    $0.assistantEnabled = true
                    $0.defaultProvider = .init(kind: .openai, name: "default", baseURL: url, model: "m")
                }
            ) { client, stores in
                let org = try await stores.makeOrganization()
                _ = try await stores.articles.create(
                    .init(title: "Refund policy", body: "You can ask for a full refund within 30 days of any payment."),
                    in: org.organization.id)
                _ = try await stores.assistant.seedDefaultProvider(
                    .init(kind: .openai, name: "default", baseURL: url, model: "m"))
                let visitor = try await client.startConversation(siteKey: org.site.publicKey)
                try await AssistantTests.say(client, visitor, "How do I get a refund?", id: "q1")
                let messages = try await AssistantTests.messages(client, visitor) { $0.count >= 2 }
                #expect((messages.last?["metadata"] as? [String: String])?["provider"] == "default")
            }
        }
        #expect(server.requestCount >= 1)
    }
}
