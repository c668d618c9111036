import AsyncHTTPClient
import Foundation
import NIOCore
import ParleyAI
import ParleyCore
import ParleyOutbound
import ParleyTesting
import Testing

/// Providers reach their APIs only through the outbound guard, and what an API says comes back
/// only as a short excerpt without secrets.
@Suite struct ProviderGuardTests {
    static func withClient<T: Sendable>(
        _ policy: OutboundPolicy, _ body: @Sendable (OutboundClient) async throws -> T
    ) async throws -> T {
        let client = OutboundClient(
            guard: OutboundGuard(policy: policy), configuration: .init(timeout: .init(connect: .seconds(2))))
        do {
            let value = try await body(client)
            try await client.shutdown()
            return value
        } catch {
            try? await client.shutdown()
            throw error
        }
    }

    static func provider(_ kind: ProviderKind, url: String, key: String?, client: OutboundClient) -> any LLMProvider {
        switch kind {
        case .openai: OpenAICompatibleProvider(name: "p", baseURL: url, apiKey: key, model: "m", client: client)
        case .anthropic: AnthropicProvider(name: "p", baseURL: url, apiKey: key, model: "m", client: client)
        case .gemini: GeminiProvider(name: "p", baseURL: url, apiKey: key, model: "m", client: client)
        }
    }

    static let request = CompletionRequest(messages: [ChatTurn(role: "user", content: "Hello")])

    @Test(arguments: ProviderKind.allCases)
    func aProviderOnARefusedAddressIsNeverContacted(kind: ProviderKind) async throws {
        let server = ScriptedLLMServer([], fallback: ScriptedLLMServer.reply("Hi"))
        try await server.run { url in
            try await Self.withClient(.strict) { client in
                let provider = Self.provider(kind, url: url, key: "sk-test", client: client)
                do {
                    _ = try await provider.stream(Self.request)
                    Issue.record("expected a refusal")
                } catch ProviderError.unavailable(let message) {
                    #expect(message.contains("refused"))
                    #expect(message.contains("localhost"))
                }
            }
        }
        #expect(server.requestCount == 0)
    }

    @Test func aRedirectIsNotFollowed() async throws {
        let target = ScriptedLLMServer([], fallback: ScriptedLLMServer.reply("Hi"))
        try await target.run { targetURL in
            let redirecting = ScriptedLLMServer([], fallback: .status(307, headers: [("Location", targetURL)]))
            try await redirecting.run { url in
                try await Self.withClient(try OutboundPolicy(allowing: ["localhost"])) { client in
                    let provider = Self.provider(.openai, url: url, key: nil, client: client)
                    await #expect(throws: ProviderError.self) { try await provider.stream(Self.request) }
                }
            }
        }
        #expect(target.requestCount == 0)
    }

    @Test func anErrorBodyComesBackAsAShortExcerptWithoutSecrets() async throws {
        let key = "sk-live-0123456789abcdefghij"
        let body =
            #"{"error":{"message":"Incorrect API key provided: \#(key). Authorization: Bearer abc.def-ghi sk-proj-ZYXWVUTSRQ"#
            + String(repeating: " and more", count: 100) + #""}}"#
        let server = ScriptedLLMServer([.status(401, body: body)])
        try await server.run { url in
            try await Self.withClient(try OutboundPolicy(allowing: ["localhost"])) { client in
                let provider = Self.provider(.openai, url: url, key: key, client: client)
                do {
                    _ = try await provider.stream(Self.request)
                    Issue.record("expected a rejection")
                } catch ProviderError.rejected(let status, let message) {
                    #expect(status == 401)
                    #expect(message.count <= 200)
                    #expect(message.contains("Incorrect API key"))
                    #expect(!message.contains(key))
                    #expect(!message.contains("abc.def-ghi"))
                    #expect(!message.contains("ZYXWVUTSRQ"))
                }
            }
        }
    }

    @Test func redactionRemovesKeysTokensAndLineBreaks() {
        let text = "key AIzaSyA1234567890abcdefghijklmnop\nBearer eyJhbGciOi.x\tapi_key=hunter22&x=1 my-secret-value"
        let excerpt = Redaction.excerpt(text, secrets: ["my-secret-value"])
        #expect(!excerpt.contains("AIzaSy"))
        #expect(!excerpt.contains("eyJhbGciOi"))
        #expect(!excerpt.contains("hunter22"))
        #expect(!excerpt.contains("my-secret-value"))
        #expect(!excerpt.contains("\n") && !excerpt.contains("\t"))
        #expect(excerpt.contains("Bearer [redacted]"))
        #expect(Redaction.excerpt(String(repeating: "a", count: 500), secrets: []).count == 200)
    }
}
