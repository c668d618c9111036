import AsyncHTTPClient
public import Foundation
import NIOCore
import NIOHTTP1
public import ParleyOutbound
import Synchronization

/// One chat turn sent to a model: text, and images for providers that read them.
public struct ChatTurn: Sendable, Equatable, Codable {
    public var role: String
    public var content: String
    /// Images sent with the text (a visitor's screenshot), for providers with vision.
    public var images: [ImagePart]

    public init(role: String, content: String, images: [ImagePart] = []) {
        self.role = role
        self.content = content
        self.images = images
    }

    enum CodingKeys: String, CodingKey { case role, content }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.role = try container.decode(String.self, forKey: .role)
        self.content = try container.decode(String.self, forKey: .content)
        self.images = []
    }

    /// OpenAI's shape: text alone as a string; with images, `text` and `image_url` parts (the
    /// image as a data URL).
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(self.role, forKey: .role)
        guard !self.images.isEmpty else {
            try container.encode(self.content, forKey: .content)
            return
        }
        struct Part: Encodable {
            struct ImageURL: Encodable { var url: String }
            var type: String
            var text: String?
            var image_url: ImageURL?
        }
        try container.encode(
            [Part(type: "text", text: self.content)]
                + self.images.map { Part(type: "image_url", image_url: .init(url: $0.dataURL)) },
            forKey: .content)
    }
}

/// An image sent to a model: its media type and bytes.
public struct ImagePart: Sendable, Equatable {
    public var mediaType: String
    public var data: Data

    public init(mediaType: String, data: Data) {
        self.mediaType = mediaType
        self.data = data
    }

    public var base64: String { self.data.base64EncodedString() }
    public var dataURL: String { "data:\(self.mediaType);base64,\(self.base64)" }
}

/// A completion request: the same for every provider.
public struct CompletionRequest: Sendable {
    public var messages: [ChatTurn]
    public var maxTokens: Int
    public var temperature: Double

    public init(messages: [ChatTurn], maxTokens: Int = 512, temperature: Double = 0.2) {
        self.messages = messages
        self.maxTokens = maxTokens
        self.temperature = temperature
    }
}

/// Why a provider could not answer, before or during its stream.
public enum ProviderError: Error, Sendable, Equatable {
    /// 429: try again after this many seconds (when the provider said).
    case rateLimited(retryAfter: Int?)
    /// 5xx, or the connection failed.
    case unavailable(String)
    /// Another 4xx: the request (key, model, size) was refused.
    case rejected(status: Int, message: String)
    /// No byte arrived within the read timeout (before the first token or between two).
    case timedOut
    /// The stream was broken (see `StreamError`).
    case stream(StreamError)
}

/// A language model that streams its reply.
public protocol LLMProvider: Sendable {
    /// A name for logs and health ("openai", "local llama").
    var name: String { get }
    /// Streams the reply. Errors before the first chunk let a fleet fail over.
    func stream(_ request: CompletionRequest) async throws -> CompletionStream
}

/// OpenAI's chat completions API and everything compatible with it (Ollama, llama.cpp, vLLM,
/// LM Studio), streamed over Server-Sent Events.
public struct OpenAICompatibleProvider: LLMProvider {
    public let name: String
    /// The API root, e.g. `https://api.openai.com/v1` or `http://127.0.0.1:8089/v1`.
    public let baseURL: String
    public let apiKey: String?
    public let model: String
    /// Checks the destination and pins the connection; its read timeout bounds the wait for the
    /// first token and between tokens.
    let client: OutboundClient

    public init(name: String, baseURL: String, apiKey: String?, model: String, client: OutboundClient) {
        self.name = name
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.apiKey = apiKey
        self.model = model
        self.client = client
    }

    struct Body: Encodable {
        var model: String
        var messages: [ChatTurn]
        var stream = true
        var max_tokens: Int
        var temperature: Double
    }

    public func stream(_ request: CompletionRequest) async throws -> CompletionStream {
        var http = HTTPClientRequest(url: "\(self.baseURL)/chat/completions")
        if let apiKey { http.headers.add(name: "Authorization", value: "Bearer \(apiKey)") }
        let body = Body(
            model: self.model, messages: request.messages, max_tokens: request.maxTokens,
            temperature: request.temperature)
        return try await ProviderHTTP.open(
            http, body: body, client: self.client, secrets: [self.apiKey], decode: OpenAIStream.decode)
    }
}

/// What every streaming provider does over HTTP: POST JSON through the outbound guard (the
/// destination checked again, the connection pinned, no redirects), map the status to a
/// `ProviderError`, and read the first chunk before returning (so a failure before the first
/// token throws here and a fleet can fail over). A provider's words reach errors only as a
/// short excerpt with `secrets` (the API key) and token-like strings removed.
enum ProviderHTTP {
    static func open(
        _ request: HTTPClientRequest, body: some Encodable, client: OutboundClient, secrets: [String?],
        decode: @escaping CompletionStream.Decoder, endsAfterFinish: Bool = false
    ) async throws -> CompletionStream {
        let secrets = secrets.compactMap { $0 }
        var http = request
        http.method = .POST
        http.headers.add(name: "Content-Type", value: "application/json")
        http.headers.add(name: "Accept", value: "text/event-stream")
        http.body = .bytes(ByteBuffer(bytes: try JSONEncoder().encode(body)))
        let response: HTTPClientResponse
        do {
            response = try await client.execute(http, timeout: .seconds(300))
        } catch let error as HTTPClientError where error == .readTimeout {
            throw ProviderError.timedOut
        } catch let error as OutboundError {
            throw ProviderError.unavailable(error.description)
        } catch {
            throw ProviderError.unavailable(Redaction.excerpt("\(error)", secrets: secrets))
        }
        switch response.status.code {
        case 200: break
        case 429:
            throw ProviderError.rateLimited(retryAfter: response.headers.first(name: "Retry-After").flatMap { Int($0) })
        case 500...599:
            throw ProviderError.unavailable("HTTP \(response.status.code)")
        default:
            let text = (try? await response.body.collect(upTo: 64 * 1024)).map { String(buffer: $0) } ?? ""
            throw ProviderError.rejected(
                status: Int(response.status.code), message: Redaction.excerpt(text, secrets: secrets))
        }
        var iterator = CompletionStream.AsyncIterator(
            body: response.body.makeAsyncIterator(), decode: decode, endsAfterFinish: endsAfterFinish,
            secrets: secrets)
        guard let first = try await iterator.next() else { throw ProviderError.stream(.truncated) }
        iterator.pending.insert(first, at: 0)
        return CompletionStream(iterator: iterator)
    }
}

/// A reply streaming in: read as the caller iterates, in the caller's task (no task of its own).
/// Ends after `.done`; throws `ProviderError` for a truncated, broken or stalled stream.
public struct CompletionStream: AsyncSequence {
    public typealias Element = CompletionChunk
    /// Reads one event of a provider's wire format.
    public typealias Decoder = @Sendable (ServerSentEventParser.Event) throws(StreamError) -> [CompletionChunk]
    let iterator: AsyncIterator

    public func makeAsyncIterator() -> AsyncIterator { self.iterator }

    public struct AsyncIterator: AsyncIteratorProtocol {
        var body: HTTPClientResponse.Body.AsyncIterator
        var parser = ServerSentEventParser()
        var pending: [CompletionChunk] = []
        var finished = false
        let decode: Decoder
        /// The wire format has no end marker: the body ending after a finish reason is the end.
        let endsAfterFinish: Bool
        var sawFinish = false
        /// Removed from what the provider says before it reaches an error.
        let secrets: [String]

        init(
            body: HTTPClientResponse.Body.AsyncIterator, decode: @escaping Decoder, endsAfterFinish: Bool,
            secrets: [String]
        ) {
            self.body = body
            self.decode = decode
            self.endsAfterFinish = endsAfterFinish
            self.secrets = secrets
        }

        public mutating func next() async throws -> CompletionChunk? {
            while true {
                if !self.pending.isEmpty {
                    let chunk = self.pending.removeFirst()
                    self.note(chunk)
                    return chunk
                }
                if self.finished { return nil }
                try await self.read()
            }
        }

        /// Every chunk that has arrived, at least one (nil at the end): when the reader falls
        /// behind, tokens that came in one read are handled together instead of one by one.
        public mutating func nextBatch() async throws -> [CompletionChunk]? {
            while self.pending.isEmpty {
                if self.finished { return nil }
                try await self.read()
            }
            let batch = self.pending
            self.pending = []
            for chunk in batch { self.note(chunk) }
            return batch
        }

        private mutating func note(_ chunk: CompletionChunk) {
            if chunk == .done { self.finished = true }
            if case .finished = chunk { self.sawFinish = true }
        }

        /// Reads the next piece of the body into `pending`.
        private mutating func read() async throws {
            do {
                guard let buffer = try await self.body.next() else {
                    if self.endsAfterFinish && self.sawFinish {
                        self.pending.append(.done)
                        return
                    }
                    throw ProviderError.stream(.truncated)
                }
                for event in try self.parser.feed(buffer.readableBytesView) {
                    self.pending += try self.decode(event)
                }
            } catch let error as StreamError {
                throw ProviderError.stream(error.redacted(self.secrets))
            } catch let error as HTTPClientError where error == .readTimeout {
                throw ProviderError.timedOut
            } catch let error as ProviderError {
                throw error
            } catch {
                throw ProviderError.unavailable(Redaction.excerpt("\(error)", secrets: self.secrets))
            }
        }
    }
}

/// An organization's ordered providers: the first that starts streaming answers; one that fails
/// before its first token is skipped for the next. Health is kept per provider.
public final class ProviderFleet: Sendable {
    /// What a provider did last.
    public struct Health: Sendable, Equatable {
        public var healthy: Bool
        public var lastError: String?
        public var checkedAt: Date
    }

    public let providers: [any LLMProvider]
    private let health = Mutex<[String: Health]>([:])
    /// Told when a provider starts a stream (true) or fails before its first token (false).
    private let report: @Sendable (_ index: Int, _ healthy: Bool, _ error: String?) async -> Void

    public init(
        _ providers: [any LLMProvider],
        report: @escaping @Sendable (_ index: Int, _ healthy: Bool, _ error: String?) async -> Void = { _, _, _ in }
    ) {
        self.providers = providers
        self.report = report
    }

    public func health(of name: String) -> Health? { self.health.withLock { $0[name] } }

    /// The stream of the first provider that starts one, its name and place; throws the last
    /// error when every provider failed before its first token.
    public func stream(_ request: CompletionRequest) async throws -> (
        provider: String, chunks: CompletionStream, index: Int
    ) {
        var lastError: any Error = ProviderError.unavailable("no provider is configured")
        for (index, provider) in self.providers.enumerated() {
            do {
                let chunks = try await provider.stream(request)
                self.health.withLock { $0[provider.name] = Health(healthy: true, lastError: nil, checkedAt: Date()) }
                await self.report(index, true, nil)
                return (provider.name, chunks, index)
            } catch {
                // Errors were redacted where the key was known; the excerpt bounds them again.
                let summary = Redaction.excerpt("\(error)", secrets: [])
                self.health.withLock {
                    $0[provider.name] = Health(healthy: false, lastError: summary, checkedAt: Date())
                }
                await self.report(index, false, summary)
                lastError = error
            }
        }
        throw lastError
    }
}

extension StreamError {
    /// The error with what the provider said cut to an excerpt without secrets.
    func redacted(_ secrets: [String]) -> StreamError {
        switch self {
        case .provider(let message): .provider(Redaction.excerpt(message, secrets: secrets))
        case .garbage(let message): .garbage(Redaction.excerpt(message, secrets: secrets))
        case .truncated: .truncated
        }
    }
}
