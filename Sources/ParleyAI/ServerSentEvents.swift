import Foundation

/// Incremental Server-Sent Events parsing (the wire format of every LLM streaming API): feed it
/// bytes as they arrive, in chunks split anywhere, and take complete events out. Pure.
public struct ServerSentEventParser: Sendable {
    /// One event: its `event:` name (nil for the default) and its `data:` lines joined by newlines.
    public struct Event: Sendable, Equatable {
        public var name: String?
        public var data: String

        public init(name: String?, data: String) {
            self.name = name
            self.data = data
        }
    }

    private var buffer: [UInt8] = []
    private var name: String?
    private var data: [String] = []
    /// The most bytes one line may hold before the stream counts as garbage.
    public static let maximumLineLength = 1 << 20

    public init() {}

    /// Parses `bytes` and returns the events they completed, in order.
    public mutating func feed(_ bytes: some Sequence<UInt8>) throws(StreamError) -> [Event] {
        self.buffer.append(contentsOf: bytes)
        var events: [Event] = []
        var start = 0
        var index = 0
        while index < self.buffer.count {
            let byte = self.buffer[index]
            if byte == 0x0A || byte == 0x0D {
                let line = String(decoding: self.buffer[start..<index], as: UTF8.self)
                // CRLF counts as one line break.
                if byte == 0x0D, index + 1 < self.buffer.count, self.buffer[index + 1] == 0x0A { index += 1 }
                if byte == 0x0D, index + 1 == self.buffer.count { break }  // wait: an LF may follow
                if let event = self.take(line) { events.append(event) }
                start = index + 1
            }
            index += 1
        }
        self.buffer.removeFirst(min(start, self.buffer.count))
        if self.buffer.count > Self.maximumLineLength {
            throw StreamError.garbage("a line longer than \(Self.maximumLineLength) bytes")
        }
        return events
    }

    /// Handles one line; a blank line ends the event being built.
    private mutating func take(_ line: String) -> Event? {
        if line.isEmpty {
            defer { self.name = nil; self.data = [] }
            return self.data.isEmpty ? nil : Event(name: self.name, data: self.data.joined(separator: "\n"))
        }
        if line.hasPrefix(":") { return nil }  // a comment (keep-alive)
        let field: Substring
        var value: Substring
        if let colon = line.firstIndex(of: ":") {
            field = line[..<colon]
            value = line[line.index(after: colon)...]
            if value.first == " " { value = value.dropFirst() }
        } else {
            field = Substring(line)
            value = ""
        }
        switch field {
        case "data": self.data.append(String(value))
        case "event": self.name = String(value)
        default: break  // id, retry and unknown fields do not matter here
        }
        return nil
    }
}

/// Why a stream from a provider could not be used.
public enum StreamError: Error, Sendable, Equatable {
    /// The provider reported an error inside a stream that had started with 200.
    case provider(String)
    /// The stream ended before its end marker.
    case truncated
    /// The bytes were not the stream they should have been.
    case garbage(String)
}

/// One step of an OpenAI-compatible chat completion stream.
public enum CompletionChunk: Sendable, Equatable {
    /// More text of the reply.
    case delta(String)
    /// The model finished, with its reason (`stop`, `length`...).
    case finished(reason: String)
    /// Token counts, when the provider sends them.
    case usage(prompt: Int, completion: Int)
    /// `data: [DONE]`: the stream is complete.
    case done
}

/// Reads OpenAI-compatible `chat.completion.chunk` events (OpenAI, Ollama, llama.cpp, vLLM, LM Studio).
public enum OpenAIStream {
    struct Chunk: Decodable {
        struct Choice: Decodable {
            struct Delta: Decodable { var content: String? }
            var delta: Delta?
            var finish_reason: String?
        }
        struct Usage: Decodable {
            var prompt_tokens: Int
            var completion_tokens: Int
        }
        struct Failure: Decodable { var message: String? }
        var choices: [Choice]?
        var usage: Usage?
        var error: Failure?
    }

    /// What one event says; throws for an in-band error or anything that is not a chunk.
    public static func decode(_ event: ServerSentEventParser.Event) throws(StreamError) -> [CompletionChunk] {
        var data = Substring(event.data)
        while data.first == " " || data.first == "\t" { data = data.dropFirst() }
        while data.last == " " || data.last == "\t" { data = data.dropLast() }
        if data == "[DONE]" { return [.done] }
        if event.name == nil, let text = Self.plainDelta(data) { return [.delta(text)] }
        guard let chunk = try? JSONDecoder().decode(Chunk.self, from: Data(data.utf8)) else {
            throw .garbage("not a completion chunk: \(data.prefix(80))")
        }
        if let error = chunk.error { throw .provider(error.message ?? "the provider reported an error") }
        if event.name == "error" { throw .provider(String(data)) }
        var steps: [CompletionChunk] = []
        for choice in chunk.choices ?? [] {
            if let text = choice.delta?.content, !text.isEmpty { steps.append(.delta(text)) }
            if let reason = choice.finish_reason { steps.append(.finished(reason: reason)) }
        }
        if let usage = chunk.usage {
            steps.append(.usage(prompt: usage.prompt_tokens, completion: usage.completion_tokens))
        }
        return steps
    }
}

extension OpenAIStream {
    /// The common case without a JSON decoder: one choice whose delta is only text, no finish
    /// reason, no usage, no error (`{"choices":[{"delta":{"content":"…"},"finish_reason":null}]}`
    /// with any id/model fields). Anything else returns nil and goes through the decoder.
    static func plainDelta(_ data: Substring) -> String? {
        let bytes = Array(data.utf8)
        func contains(_ needle: String) -> Bool {
            let pattern = Array(needle.utf8)
            guard bytes.count >= pattern.count else { return false }
            for start in 0...(bytes.count - pattern.count) where bytes[start] == pattern[0] {
                if Array(bytes[start..<(start + pattern.count)]) == pattern { return true }
            }
            return false
        }
        guard bytes.first == UInt8(ascii: "{"), !contains("\"error\""), !contains("\"usage\""),
            !contains("\"tool_calls\""), !contains("\"finish_reason\":\""), !contains("\"index\":1")
        else { return nil }
        let marker = Array("\"content\":\"".utf8)
        var start: Int?
        var occurrences = 0
        if bytes.count >= marker.count {
            for index in 0...(bytes.count - marker.count) where bytes[index] == marker[0] {
                if Array(bytes[index..<(index + marker.count)]) == marker {
                    occurrences += 1
                    start = index + marker.count
                }
            }
        }
        guard occurrences == 1, var position = start else { return nil }
        var text: [UInt8] = []
        while position < bytes.count {
            let byte = bytes[position]
            if byte == UInt8(ascii: "\"") {
                return String(decoding: text, as: UTF8.self)
            }
            if byte == UInt8(ascii: "\\") {
                // Escapes are rare in a token: let the decoder handle them exactly.
                return nil
            }
            text.append(byte)
            position += 1
        }
        return nil
    }
}
