public import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
public import Synchronization

/// A scripted LLM server: each POST (to any path: OpenAI's `/v1/chat/completions`, Anthropic's
/// `/v1/messages`, Gemini's `…:streamGenerateContent`) takes the next step of its script, or the
/// fallback when the script is used up. Real HTTP on loopback, for the failures a real server
/// will not produce on demand.
public final class ScriptedLLMServer: Sendable {
    public enum Step: Sendable {
        /// 200 with these SSE lines, each after `delay`.
        case stream([String], delay: Duration = .zero)
        /// A status with headers and a body.
        case status(Int, headers: [(String, String)] = [], body: String = "")
        /// Decides from the request body.
        case respond(@Sendable (String) -> Step)
    }

    private let script: Mutex<[Step]>
    private let fallback: Step
    /// Each request's path and body, in order.
    public let requests = Mutex<[(path: String, body: String)]>([])
    /// Each request's headers (lowercased names), in the same order.
    public let headers = Mutex<[[String: String]]>([])

    public init(_ steps: [Step], fallback: Step = .status(500)) {
        self.script = Mutex(steps)
        self.fallback = fallback
    }

    public var requestCount: Int { self.requests.withLock { $0.count } }
    public var lastBody: String { self.requests.withLock { $0.last?.body ?? "" } }

    /// An OpenAI `chat.completion.chunk` event carrying `text`.
    public static func chunk(_ text: String) -> String {
        let json = String(decoding: try! JSONEncoder().encode(text), as: UTF8.self)
        return #"data: {"choices":[{"delta":{"content":\#(json)}}]}"# + "\n\n"
    }
    /// The OpenAI finish chunk and `[DONE]`.
    public static let done = #"data: {"choices":[{"delta":{},"finish_reason":"stop"}]}"# + "\n\ndata: [DONE]\n\n"

    /// An OpenAI stream of `text` split into pieces of `size` characters, then done.
    public static func reply(_ text: String, pieceSize: Int = 4, delay: Duration = .zero) -> Step {
        var pieces: [String] = []
        var rest = Substring(text)
        while !rest.isEmpty {
            pieces.append(self.chunk(String(rest.prefix(pieceSize))))
            rest = rest.dropFirst(pieceSize)
        }
        return .stream(pieces + [self.done], delay: delay)
    }

    /// Serves until `body` returns; `body` gets the base URL (`http://localhost:PORT/v1`).
    public func run<T: Sendable>(_ body: @Sendable (String) async throws -> T) async throws -> T {
        let router = Router()
        router.post("**") { request, context -> Response in
            let text = String(buffer: try await request.body.collect(upTo: 1 << 22))
            var headers: [String: String] = [:]
            for field in request.headers { headers[field.name.canonicalName.lowercased()] = field.value }
            self.requests.withLock { $0.append((request.uri.path, text)) }
            self.headers.withLock { $0.append(headers) }
            var step = self.script.withLock { $0.isEmpty ? self.fallback : $0.removeFirst() }
            if case .respond(let decide) = step { step = decide(text) }
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
            case .respond:
                return Response(status: .internalServerError)
            }
        }
        return try await Application(router: router).test(.live) { client in
            try await body("http://localhost:\(client.port!)/v1")
        }
    }

    /// An OpenAI-compatible embeddings answer for each request: every word (and the concept
    /// `synonyms` maps it to) counts in one of `dimensions` buckets, so texts sharing words or
    /// synonyms are close, as a real model's paraphrases are.
    public static func embeddings(dimensions: Int = 64, synonyms: [String: String] = [:]) -> Step {
        .respond { body in
            struct Request: Decodable { var input: [String] }
            guard let request = try? JSONDecoder().decode(Request.self, from: Data(body.utf8)) else {
                return .status(400, body: #"{"error":{"message":"bad request"}}"#)
            }
            let vectors = request.input.map { text -> [Double] in
                var vector = [Double](repeating: 0, count: dimensions)
                let words = text.lowercased().split(whereSeparator: { !($0.isLetter || $0.isNumber) })
                for word in words where word.count > 2 {
                    let key = synonyms[String(word)] ?? String(word)
                    var hash: UInt64 = 1_469_598_103_934_665_603
                    for byte in key.utf8 { hash = (hash ^ UInt64(byte)) &* 1_099_511_628_211 }
                    vector[Int(hash % UInt64(dimensions))] += 1
                }
                return vector
            }
            let data = vectors.enumerated().map { index, vector in
                #"{"object":"embedding","index":\#(index),"embedding":[\#(vector.map { String($0) }.joined(separator: ","))]}"#
            }
            return .status(
                200, headers: [("Content-Type", "application/json")],
                body: #"{"object":"list","data":[\#(data.joined(separator: ","))],"model":"scripted"}"#)
        }
    }
}
