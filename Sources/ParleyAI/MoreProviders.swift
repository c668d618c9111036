import AsyncHTTPClient
import Foundation
public import ParleyOutbound

/// Anthropic's Messages API, streamed: `message_start` (prompt tokens), `content_block_delta`
/// (text), `message_delta` (stop reason, output tokens), `message_stop`; an `error` event
/// inside a 200 stream is a provider error.
public struct AnthropicProvider: LLMProvider {
    public let name: String
    /// The API root, e.g. `https://api.anthropic.com/v1`.
    public let baseURL: String
    public let apiKey: String?
    public let model: String
    let client: OutboundClient

    public init(name: String, baseURL: String, apiKey: String?, model: String, client: OutboundClient) {
        self.name = name
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.apiKey = apiKey
        self.model = model
        self.client = client
    }

    /// A message with Anthropic's content blocks: images (base64 sources) before the text.
    struct Message: Encodable {
        var turn: ChatTurn

        enum CodingKeys: String, CodingKey { case role, content }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(self.turn.role, forKey: .role)
            guard !self.turn.images.isEmpty else {
                try container.encode(self.turn.content, forKey: .content)
                return
            }
            struct Source: Encodable {
                var type = "base64"
                var media_type: String
                var data: String
            }
            struct Block: Encodable {
                var type: String
                var text: String?
                var source: Source?
            }
            try container.encode(
                self.turn.images.map { Block(type: "image", source: Source(media_type: $0.mediaType, data: $0.base64)) }
                    + [Block(type: "text", text: self.turn.content)],
                forKey: .content)
        }
    }

    struct Body: Encodable {
        var model: String
        var system: String?
        var messages: [Message]
        var max_tokens: Int
        var temperature: Double
        var stream = true
    }

    public func stream(_ request: CompletionRequest) async throws -> CompletionStream {
        var http = HTTPClientRequest(url: "\(self.baseURL)/messages")
        if let apiKey { http.headers.add(name: "x-api-key", value: apiKey) }
        http.headers.add(name: "anthropic-version", value: "2023-06-01")
        // System turns go in `system`; the rest must alternate user/assistant, starting with user.
        let system = request.messages.filter { $0.role == "system" }.map(\.content).joined(separator: "\n\n")
        let turns = ChatTurn.alternating(request.messages.filter { $0.role != "system" })
        let body = Body(
            model: self.model, system: system.isEmpty ? nil : system, messages: turns.map(Message.init),
            max_tokens: request.maxTokens,
            temperature: request.temperature)
        return try await ProviderHTTP.open(
            http, body: body, client: self.client, secrets: [self.apiKey], decode: AnthropicStream.decode)
    }
}

/// Reads Anthropic's stream events.
public enum AnthropicStream {
    struct Event: Decodable {
        struct Delta: Decodable {
            var type: String?
            var text: String?
            var stop_reason: String?
        }
        struct Usage: Decodable {
            var input_tokens: Int?
            var output_tokens: Int?
        }
        struct Message: Decodable { var usage: Usage? }
        struct Failure: Decodable { var message: String? }
        var type: String
        var delta: Delta?
        var usage: Usage?
        var message: Message?
        var error: Failure?
    }

    public static func decode(_ event: ServerSentEventParser.Event) throws(StreamError) -> [CompletionChunk] {
        guard let decoded = try? JSONDecoder().decode(Event.self, from: Data(event.data.utf8)) else {
            throw .garbage("not an Anthropic event: \(event.data.prefix(80))")
        }
        switch decoded.type {
        case "error":
            throw .provider(decoded.error?.message ?? "the provider reported an error")
        case "message_start":
            if let input = decoded.message?.usage?.input_tokens { return [.usage(prompt: input, completion: 0)] }
            return []
        case "content_block_delta":
            if let text = decoded.delta?.text, !text.isEmpty { return [.delta(text)] }
            return []
        case "message_delta":
            var chunks: [CompletionChunk] = []
            if let reason = decoded.delta?.stop_reason { chunks.append(.finished(reason: reason)) }
            if let output = decoded.usage?.output_tokens { chunks.append(.usage(prompt: 0, completion: output)) }
            return chunks
        case "message_stop":
            return [.done]
        default:
            return []  // ping, content_block_start/stop
        }
    }
}

/// Google's Gemini API (`streamGenerateContent?alt=sse`). Its stream has no end marker: a
/// chunk with a finish reason, then the end of the body, is the end.
public struct GeminiProvider: LLMProvider {
    public let name: String
    /// The API root, e.g. `https://generativelanguage.googleapis.com/v1beta`.
    public let baseURL: String
    public let apiKey: String?
    public let model: String
    let client: OutboundClient

    public init(name: String, baseURL: String, apiKey: String?, model: String, client: OutboundClient) {
        self.name = name
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.apiKey = apiKey
        self.model = model
        self.client = client
    }

    /// Text, or an image inline (base64).
    struct Part: Encodable {
        struct InlineData: Encodable {
            var mime_type: String
            var data: String
        }
        var text: String?
        var inline_data: InlineData?

        init(text: String) { self.text = text }
        init(image: ImagePart) { self.inline_data = InlineData(mime_type: image.mediaType, data: image.base64) }
    }
    struct Content: Encodable {
        var role: String?
        var parts: [Part]
    }
    struct GenerationConfig: Encodable {
        var maxOutputTokens: Int
        var temperature: Double
    }
    struct Body: Encodable {
        var contents: [Content]
        var systemInstruction: Content?
        var generationConfig: GenerationConfig
    }

    public func stream(_ request: CompletionRequest) async throws -> CompletionStream {
        let model = self.model.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? self.model
        var http = HTTPClientRequest(url: "\(self.baseURL)/models/\(model):streamGenerateContent?alt=sse")
        if let apiKey { http.headers.add(name: "x-goog-api-key", value: apiKey) }
        let system = request.messages.filter { $0.role == "system" }.map(\.content).joined(separator: "\n\n")
        let turns = ChatTurn.alternating(request.messages.filter { $0.role != "system" })
        let body = Body(
            contents: turns.map {
                Content(
                    role: $0.role == "assistant" ? "model" : "user",
                    parts: $0.images.map(Part.init(image:)) + [Part(text: $0.content)])
            },
            systemInstruction: system.isEmpty ? nil : Content(role: nil, parts: [Part(text: system)]),
            generationConfig: GenerationConfig(maxOutputTokens: request.maxTokens, temperature: request.temperature))
        return try await ProviderHTTP.open(
            http, body: body, client: self.client, secrets: [self.apiKey], decode: GeminiStream.decode,
            endsAfterFinish: true)
    }
}

/// Reads Gemini's stream chunks.
public enum GeminiStream {
    struct Chunk: Decodable {
        struct Candidate: Decodable {
            struct Content: Decodable {
                struct Part: Decodable { var text: String? }
                var parts: [Part]?
            }
            var content: Content?
            var finishReason: String?
        }
        struct Usage: Decodable {
            var promptTokenCount: Int?
            var candidatesTokenCount: Int?
        }
        struct Failure: Decodable { var message: String? }
        var candidates: [Candidate]?
        var usageMetadata: Usage?
        var error: Failure?
    }

    public static func decode(_ event: ServerSentEventParser.Event) throws(StreamError) -> [CompletionChunk] {
        guard let chunk = try? JSONDecoder().decode(Chunk.self, from: Data(event.data.utf8)) else {
            throw .garbage("not a Gemini chunk: \(event.data.prefix(80))")
        }
        if let error = chunk.error { throw .provider(error.message ?? "the provider reported an error") }
        var steps: [CompletionChunk] = []
        for candidate in (chunk.candidates ?? []).prefix(1) {
            let text = (candidate.content?.parts ?? []).compactMap(\.text).joined()
            if !text.isEmpty { steps.append(.delta(text)) }
            if let reason = candidate.finishReason { steps.append(.finished(reason: reason)) }
        }
        if let usage = chunk.usageMetadata, let prompt = usage.promptTokenCount {
            steps.append(.usage(prompt: prompt, completion: usage.candidatesTokenCount ?? 0))
        }
        return steps
    }
}

extension ChatTurn {
    /// Turns for APIs that want user and assistant to alternate, starting with the user:
    /// consecutive turns of one side are joined, and a leading assistant turn is dropped.
    static func alternating(_ turns: [ChatTurn]) -> [ChatTurn] {
        var result: [ChatTurn] = []
        for turn in turns {
            let role = turn.role == "assistant" ? "assistant" : "user"
            if result.isEmpty && role == "assistant" { continue }
            if let last = result.last, last.role == role {
                result[result.count - 1].content += "\n\n" + turn.content
                result[result.count - 1].images += turn.images
            } else {
                result.append(ChatTurn(role: role, content: turn.content, images: turn.images))
            }
        }
        return result
    }
}
