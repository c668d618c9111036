import AsyncHTTPClient
import Foundation
import NIOCore
import ParleyAI
import ParleyOutbound
import ParleyTesting
import Testing

/// Anthropic's and Gemini's streaming formats, against a scripted server over loopback HTTP.
@Suite struct ProviderFormatsTests {
    static func withClient<T: Sendable>(_ body: @Sendable (OutboundClient) async throws -> T) async throws -> T {
        // The scripted server listens on loopback: the tests opt in, as an operator would.
        let client = OutboundClient(
            guard: OutboundGuard(policy: try OutboundPolicy(allowing: ["localhost"])),
            configuration: .init(timeout: .init(connect: .seconds(2), read: .milliseconds(800))))
        do {
            let value = try await body(client)
            try await client.shutdown()
            return value
        } catch {
            try? await client.shutdown()
            throw error
        }
    }

    static func collect(_ stream: CompletionStream) async throws -> (text: String, chunks: [CompletionChunk]) {
        var chunks: [CompletionChunk] = []
        for try await chunk in stream { chunks.append(chunk) }
        let text = chunks.map { if case .delta(let text) = $0 { text } else { "" } }.joined()
        return (text, chunks)
    }

    static let request = CompletionRequest(messages: [
        ChatTurn(role: "system", content: "Be brief."), ChatTurn(role: "assistant", content: "Hi! (welcome)"),
        ChatTurn(role: "user", content: "Hello"), ChatTurn(role: "user", content: "Anyone?"),
    ])

    static func event(_ name: String, _ json: String) -> String { "event: \(name)\ndata: \(json)\n\n" }

    @Test func anthropicStreamsTextAndUsageAndReportsInBandErrors() async throws {
        let server = ScriptedLLMServer([
            .stream([
                Self.event("message_start", #"{"type":"message_start","message":{"usage":{"input_tokens":42}}}"#),
                Self.event("ping", #"{"type":"ping"}"#),
                Self.event(
                    "content_block_delta", #"{"type":"content_block_delta","delta":{"type":"text_delta","text":"Hel"}}"#
                ),
                Self.event(
                    "content_block_delta", #"{"type":"content_block_delta","delta":{"type":"text_delta","text":"lo"}}"#),
                Self.event(
                    "message_delta",
                    #"{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":2}}"#),
                Self.event("message_stop", #"{"type":"message_stop"}"#),
            ]),
            .stream([
                Self.event(
                    "content_block_delta", #"{"type":"content_block_delta","delta":{"type":"text_delta","text":"Hel"}}"#
                ),
                Self.event("error", #"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#),
            ]),
            .stream([Self.event("content_block_delta", #"{"type":"content_block_delta","delta":{"text":"cut"}}"#)]),
            .status(429, headers: [("retry-after", "12")]),
        ])
        try await server.run { url in
            try await Self.withClient { client in
                let provider = AnthropicProvider(
                    name: "claude", baseURL: url, apiKey: "sk-ant", model: "claude-x", client: client)
                let (text, chunks) = try await Self.collect(try await provider.stream(Self.request))
                #expect(text == "Hello")
                #expect(chunks.contains(.usage(prompt: 42, completion: 0)))
                #expect(chunks.contains(.finished(reason: "end_turn")))
                #expect(chunks.last == .done)
                await #expect(throws: ProviderError.stream(.provider("Overloaded"))) {
                    _ = try await Self.collect(try await provider.stream(Self.request))
                }
                await #expect(throws: ProviderError.stream(.truncated)) {
                    _ = try await Self.collect(try await provider.stream(Self.request))
                }
                await #expect(throws: ProviderError.rateLimited(retryAfter: 12)) {
                    try await provider.stream(Self.request)
                }
            }
        }
        let first = server.requests.withLock { $0.first }
        #expect(first?.path == "/v1/messages")
        let body = try JSONSerialization.jsonObject(with: Data((first?.body ?? "").utf8)) as? [String: Any]
        #expect(body?["system"] as? String == "Be brief.")
        // The leading assistant turn is dropped; the two user turns are one (the API wants alternation).
        #expect(body?["messages"] as? [[String: String]] == [["role": "user", "content": "Hello\n\nAnyone?"]])
        #expect(body?["stream"] as? Bool == true)
    }

    @Test func geminiEndsAfterItsFinishReasonAndATruncatedStreamFails() async throws {
        let chunk = { (text: String, finish: String?) in
            "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"\(text)\"}],\"role\":\"model\"}"
                + (finish.map { ",\"finishReason\":\"\($0)\"" } ?? "")
                + "}],\"usageMetadata\":{\"promptTokenCount\":9,\"candidatesTokenCount\":3}}\n\n"
        }
        let server = ScriptedLLMServer([
            .stream([chunk("Bon", nil), chunk("jour", "STOP")]),
            .stream([chunk("Bon", nil)]),
            .stream([#"data: {"error":{"code":400,"message":"API key not valid"}}"# + "\n\n"]),
            .stream([chunk("Bon", nil)], delay: .milliseconds(1200)),
        ])
        try await server.run { url in
            try await Self.withClient { client in
                let provider = GeminiProvider(
                    name: "gemini", baseURL: url, apiKey: "g-key", model: "gemini-x", client: client)
                let (text, chunks) = try await Self.collect(try await provider.stream(Self.request))
                #expect(text == "Bonjour")
                #expect(chunks.contains(.usage(prompt: 9, completion: 3)))
                #expect(chunks.last == .done)
                await #expect(throws: ProviderError.stream(.truncated)) {
                    _ = try await Self.collect(try await provider.stream(Self.request))
                }
                await #expect(throws: ProviderError.stream(.provider("API key not valid"))) {
                    try await provider.stream(Self.request)
                }
                await #expect(throws: ProviderError.timedOut) { try await provider.stream(Self.request) }
            }
        }
        let first = server.requests.withLock { $0.first }
        #expect(first?.path == "/v1/models/gemini-x:streamGenerateContent")
        let body = try JSONSerialization.jsonObject(with: Data((first?.body ?? "").utf8)) as? [String: Any]
        let contents = body?["contents"] as? [[String: Any]]
        #expect(contents?.count == 1)
        #expect((body?["systemInstruction"] as? [String: Any]) != nil)
    }
}
