import AsyncHTTPClient
import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import ParleyAI
import Synchronization
import Testing

/// A scripted OpenAI-compatible server: each request takes the next step of its script. Real
/// HTTP on loopback, for the failures a real server will not produce on demand.
final class ScriptedOpenAIServer: Sendable {
    enum Step: Sendable {
        /// 200 with these SSE lines, each after `delay`.
        case stream([String], delay: Duration = .zero)
        /// A status with headers and a body.
        case status(Int, headers: [(String, String)] = [], body: String = "")
    }

    private let script: Mutex<[Step]>
    let requests = Mutex<[String]>([])

    init(_ steps: [Step]) { self.script = Mutex(steps) }

    static func chunk(_ text: String) -> String { #"data: {"choices":[{"delta":{"content":"\#(text)"}}]}"# + "\n\n" }
    static let done = "data: [DONE]\n\n"

    func run<T: Sendable>(_ body: @Sendable (String) async throws -> T) async throws -> T {
        let router = Router()
        router.post("v1/chat/completions") { request, context -> Response in
            let text = String(buffer: try await request.body.collect(upTo: 1 << 20))
            self.requests.withLock { $0.append(text) }
            let step = self.script.withLock { $0.isEmpty ? Step.status(500) : $0.removeFirst() }
            switch step {
            case .status(let code, let headers, let body):
                var fields = HTTPFields()
                for (name, value) in headers { fields[HTTPFields.Element.Name(name)!] = value }
                return Response(
                    status: .init(code: code), headers: fields, body: .init(byteBuffer: ByteBuffer(string: body)))
            case .stream(let lines, let delay):
                return Response(
                    status: .ok, headers: [.contentType: "text/event-stream"],
                    body: .init { writer in
                        for line in lines {
                            if delay > .zero { try await Task.sleep(for: delay) }
                            try await writer.write(ByteBuffer(string: line))
                        }
                        try await writer.finish(nil)
                    })
            }
        }
        return try await Application(router: router).test(.live) { client in
            try await body("http://localhost:\(client.port!)/v1")
        }
    }
}

@Suite struct OpenAICompatibleProviderTests {
    static func withClient<T: Sendable>(
        read: TimeAmount = .seconds(5), _ body: @Sendable (HTTPClient) async throws -> T
    ) async throws -> T {
        let client = HTTPClient(
            eventLoopGroupProvider: .singleton, configuration: .init(timeout: .init(connect: .seconds(2), read: read)))
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
        let server = ScriptedOpenAIServer([
            .stream(
                [ScriptedOpenAIServer.chunk("Hel"), ScriptedOpenAIServer.chunk("lo!"), ScriptedOpenAIServer.done],
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
        let sent = server.requests.withLock { $0.first ?? "" }
        #expect(sent.contains(#""stream":true"#))
        #expect(sent.contains(#""model":"m""#))
    }

    @Test func failuresBeforeTheFirstTokenAreTypedErrors() async throws {
        let server = ScriptedOpenAIServer([
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
        let server = ScriptedOpenAIServer([
            .stream([ScriptedOpenAIServer.chunk("Hel")]),  // no [DONE]
            .stream([ScriptedOpenAIServer.chunk("Hel"), ScriptedOpenAIServer.chunk("lo")], delay: .milliseconds(900)),
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
        let broken = ScriptedOpenAIServer([.status(500)])
        let working = ScriptedOpenAIServer([
            .stream([ScriptedOpenAIServer.chunk("from the second"), ScriptedOpenAIServer.done])
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
