import Foundation
import HummingbirdTesting
import ParleyAI
import ParleyApp
import ParleyCore
import ParleyStore
import ParleyTesting
import Testing

/// The assistant against a real model: SmolLM2-135M served by llama.cpp's OpenAI-compatible
/// server (`scripts/llm-server`), at PARLEY_TEST_LLM_URL. The test command starts it; without it
/// these tests are skipped, unless PARLEY_TEST_REQUIRE_LLM=1 (the test command) makes that a failure.
@Suite(.serialized) struct LlamaIntegrationTests {
    static let url = ProcessInfo.processInfo.environment["PARLEY_TEST_LLM_URL"]
    static let required = ProcessInfo.processInfo.environment["PARLEY_TEST_REQUIRE_LLM"] == "1"

    static func isEvent(_ name: String) -> @Sendable ([String: Any]) -> Bool {
        { $0["type"] as? String == "event" && $0["name"] as? String == name }
    }

    /// Runs `body` with the app, the demo knowledge base and the real model as the provider.
    static func withAssistant(
        _ body: @Sendable (any TestClientProtocol, OrganizationFixture) async throws -> Void
    ) async throws {
        guard let url = Self.url else {
            #expect(!Self.required, "PARLEY_TEST_LLM_URL is not set: run scripts/llm-server start")
            return
        }
        try await withTestApp(
            .sqlite, setup: .live,
            configure: {
                $0.assistantEnabled = true
                $0.allowLoopback()
                $0.aiTimeout = 60
                // SmolLM2 has a 2,048-token window here: a short prompt, a short answer.
                $0.assistantOptions = Assistant.Options(maxTokens: 160, passageCharacters: 1800, temperature: 0)
            }
        ) { client, stores in
            let org = try await stores.makeOrganization()
            _ = try await stores.articles.importMarkdown(try Demo.articles(), in: org.organization.id)
            _ = try await stores.assistant.addProvider(
                .init(kind: .openai, name: "llama.cpp", baseURL: url, model: "smollm2-135m"), in: org.organization.id)
            try await body(client, org)
        }
    }

    @Test func aQuestionStreamsARealAnswerThatEndsInAStoredReply() async throws {
        try await Self.withAssistant { client, org in
            let visitor = try await client.startConversation(siteKey: org.site.publicKey)
            try await withTestSocket(client.realtimeURL(token: visitor.token)) { socket in
                try socket.send(["type": "subscribe", "channel": "supportChat:\(visitor.sessionID)"])
                _ = try await socket.next(where: { $0["type"] as? String == "subscribed" })
                let sent = try await client.send(
                    .post, "/api/v1/chat/sessions/\(visitor.sessionID)/messages",
                    json: ["clientId": "q1", "body": "How do I reset my password?"], headers: visitor.headers)
                #expect(sent.status == .created)
                let stored = try await socket.next(
                    timeout: .seconds(90),
                    where: { frame in
                        Self.isEvent("message.created")(frame)
                            && (frame["data"] as? [String: Any])?["role"] as? String == "ai"
                    })
                let deltas = await socket.collect(type: "event", name: "message.delta", for: .milliseconds(200))
                let pieces = deltas.compactMap { $0["data"] as? [String: Any] }
                let streamed = pieces.compactMap { $0["delta"] as? String }.joined()
                let reply = try #require(stored["data"] as? [String: Any])
                let body = reply["body"] as? String ?? ""
                #expect(pieces.count > 2, "the answer arrived token by token")
                #expect(streamed.trimmingCharacters(in: .whitespacesAndNewlines) == body)
                #expect(!body.contains("<decision>"))
                #expect(pieces.last?["outcome"] as? String == "answer")
                let metadata = reply["metadata"] as? [String: String] ?? [:]
                #expect(metadata["provider"] == "llama.cpp")
                #expect(metadata["model"] == "smollm2-135m")
                #expect(metadata["citations"]?.contains("Reset your password") == true)
                print(
                    "llama.cpp answered in \(metadata["latencyMs"] ?? "?") ms (first token \(metadata["firstTokenMs"] ?? "?") ms): \(body.prefix(160))"
                )
            }
            let history = try await client.send(
                .get, "/api/v1/chat/sessions/\(visitor.sessionID)/messages", headers: visitor.headers
            ).json()
            #expect((history["data"] as? [[String: Any]])?.map { $0["role"] as? String } == ["user", "ai"])
        }
    }

    @Test func askingForAHumanHandsOverWithoutAskingTheModel() async throws {
        try await Self.withAssistant { client, org in
            let visitor = try await client.startConversation(siteKey: org.site.publicKey)
            _ = try await client.send(
                .post, "/api/v1/chat/sessions/\(visitor.sessionID)/messages",
                json: ["clientId": "h1", "body": "I want to talk to a human"], headers: visitor.headers)
            var status: String?
            for _ in 0..<200 {
                status =
                    try await client.send(
                        .get, "/api/v1/chat/sessions/\(visitor.sessionID)/messages", headers: visitor.headers
                    ).json()["status"] as? String
                if status == "escalated" { break }
                try await Task.sleep(for: .milliseconds(25))
            }
            #expect(status == "escalated")
        }
    }
}
