import Foundation
import ParleyAI
import Testing

@Suite struct ServerSentEventsTests {
    static let stream = """
        : keep-alive\r
        data: {"choices":[{"delta":{"role":"assistant"}}]}\r
        \r
        data: {"choices":[{"delta":{"content":"Hel"}}]}

        data: {"choices":[{"delta":{"content":"lo"}}]}

        data: {"choices":[{"delta":{},"finish_reason":"stop"}],"usage":{"prompt_tokens":12,"completion_tokens":2}}

        data: [DONE]


        """

    static func run(_ chunks: [String]) throws -> [CompletionChunk] {
        var parser = ServerSentEventParser()
        var steps: [CompletionChunk] = []
        for chunk in chunks {
            for event in try parser.feed(Array(chunk.utf8)) { steps += try OpenAIStream.decode(event) }
        }
        return steps
    }

    static let expected: [CompletionChunk] = [
        .delta("Hel"), .delta("lo"), .finished(reason: "stop"), .usage(prompt: 12, completion: 2), .done,
    ]

    @Test func aWholeStreamReadsAsDeltasThenDone() throws {
        #expect(try Self.run([Self.stream]) == Self.expected)
    }

    @Test func chunksSplitAnywhereGiveTheSameResult() throws {
        let bytes = Array(Self.stream.utf8)
        for split in 1..<bytes.count {
            let chunks = [
                String(decoding: bytes[..<split], as: UTF8.self), String(decoding: bytes[split...], as: UTF8.self),
            ]
            #expect(try Self.run(chunks) == Self.expected, "split at \(split)")
        }
        let oneByteAtATime = bytes.map { String(decoding: [$0], as: UTF8.self) }
        #expect(try Self.run(oneByteAtATime) == Self.expected)
    }

    @Test func multiLineDataIsJoined() throws {
        var parser = ServerSentEventParser()
        let events = try parser.feed(Array("event: note\ndata: a\ndata: b\n\n".utf8))
        #expect(events == [.init(name: "note", data: "a\nb")])
    }

    @Test func anErrorAfterA200IsAProviderError() throws {
        var parser = ServerSentEventParser()
        let events = try parser.feed(Array(#"data: {"error":{"message":"rate limited"}}"#.utf8) + [10, 10])
        #expect(throws: StreamError.provider("rate limited")) { try OpenAIStream.decode(events[0]) }
    }

    @Test func garbageIsRefused() throws {
        var parser = ServerSentEventParser()
        let events = try parser.feed(Array("data: <html>502 Bad Gateway</html>\n\n".utf8))
        #expect(throws: StreamError.self) { try OpenAIStream.decode(events[0]) }
        var endless = ServerSentEventParser()
        #expect(throws: StreamError.self) {
            try endless.feed([UInt8](repeating: 65, count: ServerSentEventParser.maximumLineLength + 1))
        }
    }

    @Test func aStreamWithoutDoneIsVisiblyIncomplete() throws {
        // The provider's caller treats a stream that ends without .done as truncated.
        let steps = try Self.run([#"data: {"choices":[{"delta":{"content":"Hel"}}]}"# + "\n\n"])
        #expect(!steps.contains(.done))
    }

    @Test(arguments: [
        #"{"id":"c1","object":"chat.completion.chunk","model":"smollm2","choices":[{"index":0,"delta":{"content":" café ☕"},"finish_reason":null}]}"#,
        #"{"choices":[{"delta":{"content":"say \"hi\"\n"}}]}"#,
        #"{"choices":[{"delta":{"content":"<b>x</b>"},"finish_reason":"stop"}]}"#,
        #"{"choices":[{"delta":{"content":"a"}},{"index":1,"delta":{"content":"b"}}]}"#,
        #"{"choices":[{"delta":{"content":""}}],"usage":{"prompt_tokens":1,"completion_tokens":1}}"#,
        #"{"error":{"message":"content: \"x\""}}"#,
    ])
    func theFastPathReadsTokensExactlyAsTheDecoderDoes(data: String) throws {
        // What decode gives must equal what a plain JSON decoding of the same chunk gives.
        let fast = Result { () throws(StreamError) in try OpenAIStream.decode(.init(name: nil, data: data)) }
        struct Chunk: Decodable {
            struct Choice: Decodable {
                struct Delta: Decodable { var content: String? }
                var delta: Delta?
                var finish_reason: String?
            }
            var choices: [Choice]?
            var usage: [String: Int]?
            var error: [String: String]?
        }
        let slow = try JSONDecoder().decode(Chunk.self, from: Data(data.utf8))
        if slow.error != nil {
            #expect(throws: StreamError.self) { try fast.get() }
            return
        }
        var expected: [CompletionChunk] = []
        for choice in slow.choices ?? [] {
            if let text = choice.delta?.content, !text.isEmpty { expected.append(.delta(text)) }
            if let reason = choice.finish_reason { expected.append(.finished(reason: reason)) }
        }
        if let usage = slow.usage {
            expected.append(.usage(prompt: usage["prompt_tokens"] ?? 0, completion: usage["completion_tokens"] ?? 0))
        }
        #expect(try fast.get() == expected)
    }
}
