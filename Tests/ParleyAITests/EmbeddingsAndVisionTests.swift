import Foundation
import ParleyAI
import ParleyCore
import ParleyOutbound
import ParleyTesting
import Testing

/// What Parley sends to embeddings APIs and, with an image, to each chat API: against scripted
/// servers over loopback HTTP.
@Suite struct EmbeddingsAndVisionTests {
    static func json(_ body: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])
    }

    @Test func openAICompatibleEmbeddingsSendTheModelAndInputTypeForEachSide() async throws {
        let server = ScriptedLLMServer([], fallback: ScriptedLLMServer.embeddings())
        try await server.run { url in
            try await ProviderFormatsTests.withClient { client in
                let provider = EmbeddingsProvider(
                    kind: .openai, baseURL: url, model: "e5-passage", queryModel: "e5-query", apiKey: "sk-embed")
                let embeddings = Embeddings.client(for: provider, client: client)
                let passages = try await embeddings.embed(["refund policy", "shipping times"], as: .passage)
                #expect(passages.count == 2)
                #expect(passages[0].count == 64)
                let query = try await embeddings.embed(["how do refunds work"], as: .query)
                #expect(query.count == 1)
            }
        }
        let requests = server.requests.withLock { $0 }
        #expect(requests.map(\.path) == ["/v1/embeddings", "/v1/embeddings"])
        let first = try Self.json(requests[0].body)
        #expect(first["model"] as? String == "e5-passage")
        #expect(first["input"] as? [String] == ["refund policy", "shipping times"])
        #expect(first["input_type"] as? String == "passage")
        let second = try Self.json(requests[1].body)
        #expect(second["model"] as? String == "e5-query")
        #expect(second["input_type"] as? String == "query")
        #expect(server.headers.withLock { $0 }.allSatisfy { $0["authorization"] == "Bearer sk-embed" })
    }

    @Test func geminiEmbeddingsAskForRetrievalTaskTypes() async throws {
        let server = ScriptedLLMServer(
            [],
            fallback: .respond { body in
                let count = body.components(separatedBy: "\"taskType\"").count - 1
                let items = Array(repeating: #"{"values":[0.1,0.2,0.3]}"#, count: count)
                return .status(
                    200, headers: [("Content-Type", "application/json")],
                    body: #"{"embeddings":[\#(items.joined(separator: ","))]}"#)
            })
        try await server.run { url in
            try await ProviderFormatsTests.withClient { client in
                let provider = EmbeddingsProvider(
                    kind: .gemini, baseURL: url, model: "text-embedding-004", apiKey: "g-key")
                let embeddings = Embeddings.client(for: provider, client: client)
                #expect(try await embeddings.embed(["a", "b"], as: .passage) == [[0.1, 0.2, 0.3], [0.1, 0.2, 0.3]])
                _ = try await embeddings.embed(["q"], as: .query)
            }
        }
        let requests = server.requests.withLock { $0 }
        #expect(requests.first?.path == "/v1/models/text-embedding-004:batchEmbedContents")
        let first = try Self.json(requests[0].body)
        let items = try #require(first["requests"] as? [[String: Any]])
        #expect(items.map { $0["taskType"] as? String } == ["RETRIEVAL_DOCUMENT", "RETRIEVAL_DOCUMENT"])
        #expect(items.first?["model"] as? String == "models/text-embedding-004")
        #expect(((items.first?["content"] as? [String: Any])?["parts"] as? [[String: String]]) == [["text": "a"]])
        let second = try Self.json(requests[1].body)
        #expect(((second["requests"] as? [[String: Any]])?.first?["taskType"] as? String) == "RETRIEVAL_QUERY")
        #expect(server.headers.withLock { $0 }.first?["x-goog-api-key"] == "g-key")
    }

    @Test func aFailingEmbeddingsServerIsAnErrorWithoutItsKey() async throws {
        let server = ScriptedLLMServer([], fallback: .status(401, body: #"{"error":"bad key sk-embed-123"}"#))
        try await server.run { url in
            try await ProviderFormatsTests.withClient { client in
                let provider = EmbeddingsProvider(kind: .openai, baseURL: url, model: "m", apiKey: "sk-embed-123")
                do {
                    _ = try await Embeddings.client(for: provider, client: client).embed(["x"], as: .query)
                    Issue.record("a 401 must throw")
                } catch let error as EmbeddingsError {
                    #expect(error.description.contains("401"))
                    #expect(!error.description.contains("sk-embed-123"))
                }
            }
        }
    }

    static let png = Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 1, 2, 3])
    static let request = CompletionRequest(messages: [
        ChatTurn(role: "system", content: "Be brief."),
        ChatTurn(
            role: "user", content: "What does this error mean?",
            images: [ImagePart(mediaType: "image/png", data: Self.png)]),
    ])

    @Test func anImageGoesToEachProviderInItsOwnShape() async throws {
        let openAI = ScriptedLLMServer([], fallback: ScriptedLLMServer.reply("ok"))
        let anthropic = ScriptedLLMServer(
            [],
            fallback: .stream([
                ProviderFormatsTests.event(
                    "content_block_delta", #"{"type":"content_block_delta","delta":{"type":"text_delta","text":"ok"}}"#),
                ProviderFormatsTests.event("message_stop", #"{"type":"message_stop"}"#),
            ]))
        let gemini = ScriptedLLMServer(
            [],
            fallback: .stream([
                #"data: {"candidates":[{"content":{"parts":[{"text":"ok"}]},"finishReason":"STOP"}]}"# + "\n\n"
            ]))
        let base64 = Self.png.base64EncodedString()
        try await openAI.run { url in
            try await ProviderFormatsTests.withClient { client in
                let provider = OpenAICompatibleProvider(
                    name: "o", baseURL: url, apiKey: nil, model: "m", client: client)
                let stream = try await provider.stream(Self.request)
                let text = try await ProviderFormatsTests.collect(stream).text
                #expect(text == "ok")
            }
        }
        let openAIUser = try #require((try Self.json(openAI.lastBody)["messages"] as? [[String: Any]])?.last)
        let openAIParts = try #require(openAIUser["content"] as? [[String: Any]])
        #expect(openAIParts.first?["type"] as? String == "text")
        #expect(openAIParts.first?["text"] as? String == "What does this error mean?")
        #expect(
            (openAIParts.last?["image_url"] as? [String: String])?["url"] == "data:image/png;base64,\(base64)")
        // Text alone stays a string.
        #expect(
            (try Self.json(openAI.lastBody)["messages"] as? [[String: Any]])?.first?["content"] as? String
                == "Be brief.")

        try await anthropic.run { url in
            try await ProviderFormatsTests.withClient { client in
                let provider = AnthropicProvider(name: "a", baseURL: url, apiKey: "k", model: "claude", client: client)
                let stream = try await provider.stream(Self.request)
                let text = try await ProviderFormatsTests.collect(stream).text
                #expect(text == "ok")
            }
        }
        let anthropicUser = try #require((try Self.json(anthropic.lastBody)["messages"] as? [[String: Any]])?.last)
        let blocks = try #require(anthropicUser["content"] as? [[String: Any]])
        #expect(blocks.map { $0["type"] as? String } == ["image", "text"])
        let source = try #require(blocks.first?["source"] as? [String: String])
        #expect(source == ["type": "base64", "media_type": "image/png", "data": base64])

        try await gemini.run { url in
            try await ProviderFormatsTests.withClient { client in
                let provider = GeminiProvider(name: "g", baseURL: url, apiKey: "k", model: "gemini", client: client)
                let stream = try await provider.stream(Self.request)
                let text = try await ProviderFormatsTests.collect(stream).text
                #expect(text == "ok")
            }
        }
        let contents = try #require(try Self.json(gemini.lastBody)["contents"] as? [[String: Any]])
        let parts = try #require(contents.last?["parts"] as? [[String: Any]])
        #expect(
            (parts.first?["inline_data"] as? [String: String]) == ["mime_type": "image/png", "data": base64])
        #expect(parts.last?["text"] as? String == "What does this error mean?")
    }
}
