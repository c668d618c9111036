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
            for (title, body) in Self.articles {
                _ = try await stores.articles.create(.init(title: title, body: body), in: org.organization.id)
            }
            _ = try await stores.assistant.addProvider(
                .init(kind: .openai, name: "llama.cpp", baseURL: url, model: "smollm2-135m"), in: org.organization.id)
            try await body(client, org)
        }
    }

    /// Short articles: a 135M-parameter model stays close to a short passage, and invents freely
    /// around a vague one (which is what the grounding gate is for).
    static let articles = [
        ("Refund policy", "You can ask for a full refund within 30 days of any payment."),
        (
            "Opening hours",
            "Our support team answers every weekday from 9:00 to 17:00 Paris time. On weekends the assistant answers alone."
        ),
    ]

    @Test func anInventedAnswerNeverReachesTheVisitorAsAIProse() async throws {
        try await Self.withAssistant { client, org in
            let visitor = try await client.startConversation(siteKey: org.site.publicKey)
            let streamed = try await withTestSocket(client.realtimeURL(token: visitor.token)) { socket in
                try socket.send(["type": "subscribe", "channel": "supportChat:\(visitor.sessionID)"])
                _ = try await socket.next(where: { $0["type"] as? String == "subscribed" })
                _ = try await client.send(
                    .post, "/api/v1/chat/sessions/\(visitor.sessionID)/messages",
                    json: ["clientId": "q1", "body": "When is your support team available?"], headers: visitor.headers)
                // The assistant's turn ends in a message after the visitor's: an offered article
                // or the handoff's note.
                _ = try await socket.next(
                    timeout: .seconds(90),
                    where: { frame in
                        Self.isEvent("message.created")(frame)
                            && ((frame["data"] as? [String: Any])?["seq"] as? Int ?? 0) > 1
                    })
                let deltas = await socket.collect(type: "event", name: "message.delta", for: .milliseconds(300))
                return deltas.compactMap { ($0["data"] as? [String: Any])?["delta"] as? String }.joined()
            }
            let agent = try await client.signIn(org.owner.email)
            let log =
                try await client.send(.get, "/api/v1/admin/ai/interactions", headers: agent.headers)
                .json()["data"] as? [[String: Any]] ?? []
            let reason = log.first?["reason"] as? String ?? ""
            // SmolLM2 answers "available 24/7 worldwide" with a made-up link: the gate stopped it.
            #expect(reason.hasPrefix("unsupported answer"), "the model's answer was checked and refused")
            #expect(log.first?["provider"] as? String == "llama.cpp")
            #expect(!streamed.contains("24/7"))
            let history = try await client.send(
                .get, "/api/v1/chat/sessions/\(visitor.sessionID)/messages", headers: visitor.headers
            ).json()
            let messages = history["data"] as? [[String: Any]] ?? []
            #expect(messages.count >= 2)
            #expect(!messages.contains { ($0["metadata"] as? [String: String])?["kind"] == "ai" })
            print("llama.cpp's answer was held back (\(reason.prefix(120))); shown of it: \"\(streamed)\"")
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
                    json: ["clientId": "q1", "body": "How many days do I have to ask for a refund?"],
                    headers: visitor.headers)
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
                #expect(pieces.count >= 2, "the answer streamed, then ended")
                #expect(streamed.trimmingCharacters(in: .whitespacesAndNewlines) == body)
                #expect(!body.contains("<decision>"))
                #expect(pieces.last?["outcome"] as? String == "answer")
                let metadata = reply["metadata"] as? [String: String] ?? [:]
                #expect(metadata["provider"] == "llama.cpp")
                #expect(metadata["model"] == "smollm2-135m")
                #expect(metadata["citations"]?.contains("Refund policy") == true)
                #expect(Double(metadata["confidence"] ?? "") ?? 0 >= AssistantSettings.defaultGroundingThreshold)
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
