import AsyncHTTPClient
import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import ParleyAI
import ParleyOutbound
import ParleyTesting
import Synchronization
import Testing

@Suite struct OpenAICompatibleProviderTests {
    static func withClient<T: Sendable>(
        read: TimeAmount = .seconds(5), _ body: @Sendable (OutboundClient) async throws -> T
    ) async throws -> T {
        // The scripted server listens on loopback: the tests opt in, as an operator would.
        let client = OutboundClient(
            guard: OutboundGuard(policy: try OutboundPolicy(allowing: ["localhost"])),
            configuration: .init(timeout: .init(connect: .seconds(2), read: read)))
        do {
            let value = try await body(client)
            try await client.shutdown()
            return value
        } catch {
            try? await client.shutdown()
            throw error
        }
    }

    static func collect(_ stream: CompletionStream) async throws -> String {
        var text = ""
        for try await chunk in stream { if case .delta(let delta) = chunk { text += delta } }
        return text
    }

    static let request = CompletionRequest(messages: [ChatTurn(role: "user", content: "Hello")])

    @Test func aStreamArrivesTokenByToken() async throws {
        let server = ScriptedLLMServer([
            .stream(
                [ScriptedLLMServer.chunk("Hel"), ScriptedLLMServer.chunk("lo!"), ScriptedLLMServer.done],
                delay: .milliseconds(20))
        ])
        try await server.run { url in
            try await Self.withClient { client in
                let provider = OpenAICompatibleProvider(
                    name: "scripted", baseURL: url, apiKey: "sk-test", model: "m", client: client)
                let text = try await Self.collect(try await provider.stream(Self.request))
                #expect(text == "Hello!")
            }
        }
        let sent = server.requests.withLock { $0.first?.body ?? "" }
        #expect(sent.contains(#""stream":true"#))
        #expect(sent.contains(#""model":"m""#))
    }

    @Test func failuresBeforeTheFirstTokenAreTypedErrors() async throws {
        let server = ScriptedLLMServer([
            .status(429, headers: [("Retry-After", "7")]),
            .status(503),
            .status(401, body: #"{"error":{"message":"bad key"}}"#),
            .stream([#"data: {"error":{"message":"overloaded"}}"# + "\n\n"]),
            .stream(["data: <html>oops</html>\n\n"]),
            .stream([]),
        ])
        try await server.run { url in
            try await Self.withClient { client in
                let provider = OpenAICompatibleProvider(
                    name: "scripted", baseURL: url, apiKey: nil, model: "m", client: client)
                await #expect(throws: ProviderError.rateLimited(retryAfter: 7)) {
                    try await provider.stream(Self.request)
                }
                await #expect(throws: ProviderError.unavailable("HTTP 503")) { try await provider.stream(Self.request) }
                do {
                    _ = try await provider.stream(Self.request)
                    Issue.record("expected a rejection")
                } catch ProviderError.rejected(let status, let message) {
                    #expect(status == 401)
                    #expect(message.contains("bad key"))
                }
                await #expect(throws: ProviderError.stream(.provider("overloaded"))) {
                    try await provider.stream(Self.request)
                }
                await #expect(throws: ProviderError.self) { try await provider.stream(Self.request) }  // garbage
                await #expect(throws: ProviderError.stream(.truncated)) { try await provider.stream(Self.request) }
            }
        }
    }

    @Test func aStreamThatStopsOrStallsMidwayFails() async throws {
        let server = ScriptedLLMServer([
            .stream([ScriptedLLMServer.chunk("Hel")]),  // no [DONE]
            .stream([ScriptedLLMServer.chunk("Hel"), ScriptedLLMServer.chunk("lo")], delay: .milliseconds(900)),
        ])
        try await server.run { url in
            try await Self.withClient(read: .milliseconds(500)) { client in
                let provider = OpenAICompatibleProvider(
                    name: "scripted", baseURL: url, apiKey: nil, model: "m", client: client)
                await #expect(throws: ProviderError.stream(.truncated)) {
                    try await Self.collect(try await provider.stream(Self.request))
                }
                await #expect(throws: ProviderError.timedOut) {
                    try await Self.collect(try await provider.stream(Self.request))
                }
            }
        }
    }

    @Test func theFleetFailsOverBeforeTheFirstTokenAndKeepsHealth() async throws {
        let broken = ScriptedLLMServer([.status(500)])
        let working = ScriptedLLMServer([
            .stream([ScriptedLLMServer.chunk("from the second"), ScriptedLLMServer.done])
        ])
        try await broken.run { brokenURL in
            try await working.run { workingURL in
                try await Self.withClient { client in
                    let fleet = ProviderFleet([
                        OpenAICompatibleProvider(
                            name: "first", baseURL: brokenURL, apiKey: nil, model: "m", client: client),
                        OpenAICompatibleProvider(
                            name: "second", baseURL: workingURL, apiKey: nil, model: "m", client: client),
                    ])
                    let (name, chunks, index) = try await fleet.stream(Self.request)
                    #expect(name == "second" && index == 1)
                    let text = try await Self.collect(chunks)
                    #expect(text == "from the second")
                    #expect(fleet.health(of: "first")?.healthy == false)
                    #expect(fleet.health(of: "second")?.healthy == true)
                    await #expect(throws: ProviderError.self) { try await ProviderFleet([]).stream(Self.request) }
                }
            }
        }
    }
}
