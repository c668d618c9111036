import ArgumentParser
import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOPosix
import Synchronization

extension Bench {
    /// What Parley adds on top of a provider: a scripted OpenAI-compatible upstream runs inside
    /// this process (one clock for sending and receiving), Parley's assistant streams from it,
    /// and each token is timed from the upstream's write to its arrival at the visitor and at the
    /// agents watching. Added time to first token = (visitor sends → first delta) − (upstream
    /// got the request → wrote its first token); added gap = (gap between two deltas at the
    /// client) − (gap between the two tokens at the upstream).
    struct Stream: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Concurrent AI streams from a scripted upstream: the time Parley adds per token.")
        @OptionGroup var target: Target
        @Option(help: "Concurrent streams (conversations asking at once).") var streams = 200
        @Option(help: "Agents watching each conversation.") var watchers = 2
        @Option(help: "Tokens per reply.") var tokens = 40
        @Option(help: "Milliseconds between the upstream's tokens.") var interval = 20
        @Option(help: "Milliseconds the upstream waits before its first token.") var firstToken = 50
        @Option(help: "The port of the scripted upstream this command runs.") var upstreamPort = 18189

        @Option(help: "Seconds during which conversations keep asking (each asks again when its reply is stored).")
        var duration = 10

        /// Times of one answer, in monotonic nanoseconds; `received[k][i]` for receiver k (0 = visitor).
        struct Timeline: Sendable {
            var asked: UInt64 = 0
            var upstreamGot: UInt64 = 0
            var sent: [UInt64] = []
            var received: [[UInt64]]
            var stored = 0
        }

        /// What the sockets and the upstream share: every answer's timeline, keyed "stream-round".
        struct State: Sendable {
            var timelines: [String: Timeline] = [:]
            /// The round each socket is in (it moves on when that socket sees the stored reply).
            var round: [Int]
            /// The round each conversation asked last.
            var asked: [Int]
        }

        func run() async throws {
            var server = try await self.target.prepare()
            guard !server.peer else { throw BenchError("bench stream drives Parley only") }
            let count = self.streams
            let receiversPerStream = 1 + self.watchers
            let tokens = self.tokens
            let state = Locked(
                State(
                    round: Array(repeating: 0, count: count * receiversPerStream),
                    asked: Array(repeating: -1, count: count)))
            let upstream = try await self.startUpstream(state: state, receivers: receiversPerStream)
            defer { upstream.cancel() }
            try await self.useUpstream(&server)

            let group = MultiThreadedEventLoopGroup(numberOfThreads: self.target.threads)
            let visitors = try await server.visitors(count)
            let subscribed = Atomic<Int>(0)
            let ended = Atomic<Int>(0)
            let deltaMarker = Array(#""name":"message.delta""#.utf8)
            let doneMarker = Array(#""done":true"#.utf8)
            let aiMarker = Array(#""role":"ai""#.utf8)
            let ready = Locked<[Int]>([])  // conversations whose reply was stored, to ask again
            let onText: @Sendable (Int, ByteBuffer, UInt64) -> Void = { socket, buffer, time in
                let stream = socket % count
                let receiver = socket / count
                if FrameScan.contains(buffer, deltaMarker) {
                    if FrameScan.contains(buffer, doneMarker) {
                        ended.add(1, ordering: .relaxed)
                        return
                    }
                    let indices = FrameScan.tokenIndices(in: buffer)
                    state.withLock { state in
                        let key = "\(stream)-\(state.round[socket])"
                        guard var line = state.timelines[key] else { return }
                        for index in indices where index < tokens && line.received[receiver][index] == 0 {
                            line.received[receiver][index] = time
                        }
                        state.timelines[key] = line
                    }
                } else if FrameScan.contains(buffer, Bench.messageMarker), FrameScan.contains(buffer, aiMarker) {
                    state.withLock { state in
                        state.timelines["\(stream)-\(state.round[socket])"]?.stored += 1
                        state.round[socket] += 1
                    }
                    if receiver == 0 { ready.withLock { $0.append(stream) } }
                } else if FrameScan.contains(buffer, Bench.subscribedMarker) {
                    subscribed.add(1, ordering: .relaxed)
                }
            }
            // Sockets 0..<count are the visitors; then each watcher round.
            let key = server.apiKey
            let sockets = try await Bench.connectAll(
                count * receiversPerStream, target: server, group: group,
                path: { $0 < count ? "/api/v1/realtime?token=\(visitors[$0].token)" : "/api/v1/realtime" },
                headers: { $0 < count ? [] : [("Authorization", "Bearer \(key)")] }, onText: onText)
            for (index, socket) in sockets.enumerated() {
                socket.send(Bench.subscribe(visitors[index % count].channel))
            }
            let deadline = Bench.now() + 60_000_000_000
            while subscribed.load(ordering: .relaxed) < sockets.count, Bench.now() < deadline {
                try await Task.sleep(for: .milliseconds(50))
            }
            print(
                "stream: \(count) conversations keep asking for \(self.duration) s; upstream: first token after "
                    + "\(self.firstToken) ms, \(self.tokens) tokens \(self.interval) ms apart; each token to the visitor "
                    + "and \(self.watchers) agents")
            func ask(_ stream: Int) {
                let round = state.withLock { state -> Int in
                    state.asked[stream] += 1
                    let round = state.asked[stream]
                    state.timelines["\(stream)-\(round)"] = Timeline(
                        asked: Bench.now(),
                        received: Array(repeating: Array(repeating: 0, count: tokens), count: receiversPerStream))
                    return round
                }
                sockets[stream].send(
                    Bench.send(
                        visitors[stream].channel, clientId: "s\(stream)-\(round)",
                        body: "bench-stream-\(stream)-\(round) question"))
            }
            // Start the conversations spread over one reply's length, so the concurrency is steady.
            let started = Bench.now()
            let spread = UInt64(self.firstToken + self.tokens * self.interval) * 1_000_000
            let stopAsking = started + UInt64(self.duration) * 1_000_000_000
            var next = 0
            while Bench.now() < stopAsking {
                while next < count, Bench.now() >= started + spread * UInt64(next) / UInt64(count) {
                    ask(next)
                    next += 1
                }
                for stream in ready.withLock({ list -> [Int] in
                    defer { list = [] }
                    return list
                }) {
                    ask(stream)
                }
                try await Task.sleep(for: .milliseconds(1))
            }
            let finish = Bench.now() + 30_000_000_000
            while state.withLock({ $0.timelines.values.contains { $0.stored < receiversPerStream } }),
                Bench.now() < finish
            {
                try await Task.sleep(for: .milliseconds(50))
            }
            let seconds = Double(Bench.now() - started) / 1e9
            try await Task.sleep(for: .milliseconds(200))
            self.report(
                Array(state.withLock { $0.timelines.values }), seconds: seconds, ends: ended.load(ordering: .relaxed))
            print("stream: server memory \(self.target.memory())")
            for socket in sockets { await socket.close() }
            try await group.shutdownGracefully()
        }

        func report(_ timelines: [Timeline], seconds: Double, ends: Int) {
            var firstToken: [Int64] = []
            var gaps: [Int64] = []
            var perToken: [Int64] = []
            var missing = 0
            for line in timelines {
                guard line.upstreamGot > 0, line.sent.count == self.tokens else {
                    missing += line.received.count * self.tokens
                    continue
                }
                let upstreamFirst = Int64(line.sent[0]) - Int64(line.upstreamGot)
                for received in line.received {
                    for index in 0..<self.tokens {
                        guard received[index] > 0 else {
                            missing += 1
                            continue
                        }
                        perToken.append(Int64(received[index]) - Int64(line.sent[index]))
                        if index == 0 {
                            firstToken.append(Int64(received[0]) - Int64(line.asked) - upstreamFirst)
                        } else if received[index - 1] > 0 {
                            gaps.append(
                                (Int64(received[index]) - Int64(received[index - 1]))
                                    - (Int64(line.sent[index]) - Int64(line.sent[index - 1])))
                        }
                    }
                }
            }
            let stored = timelines.filter { $0.stored > 0 }.count
            print(
                String(
                    format:
                        "stream: %d answers in %.1f s (%.0f tokens/s upstream, %.0f deliveries/s); %d stored; %d stream ends seen; tokens missing %d",
                    timelines.count, seconds, Double(timelines.count * self.tokens) / seconds,
                    Double(perToken.count) / seconds, stored, ends, missing))
            print("stream: added time to first token   \(Self.summary(firstToken))")
            print("stream: added gap between tokens    \(Self.summary(gaps))")
            print("stream: upstream write -> client    \(Self.summary(perToken))")
        }

        static func summary(_ values: [Int64]) -> String {
            guard !values.isEmpty else { return "no samples" }
            let sorted = values.sorted()
            func at(_ q: Double) -> String {
                String(format: "%.2f ms", Double(sorted[min(sorted.count - 1, Int(Double(sorted.count) * q))]) / 1e6)
            }
            return "p50 \(at(0.5)), p90 \(at(0.9)), p99 \(at(0.99)), max \(at(1.0)) (\(sorted.count) samples)"
        }

        /// The organization's only provider becomes the scripted upstream.
        func useUpstream(_ server: inout BenchTarget) async throws {
            let existing = try await server.request("GET", "/api/v1/admin/ai/providers", nil, headers: server.session)
            let providers = existing.json["data"] as? [[String: Any]] ?? []
            guard providers.allSatisfy({ $0["name"] as? String == "bench upstream" }) else {
                throw BenchError("the organization has AI providers: run the stream bench on a bench database")
            }
            for provider in providers {
                if let id = provider["id"] as? String {
                    _ = try await server.request(
                        "DELETE", "/api/v1/admin/ai/providers/\(id)", nil, headers: server.session)
                }
            }
            let created = try await server.request(
                "POST", "/api/v1/admin/ai/providers",
                [
                    "kind": "openai", "name": "bench upstream", "model": "bench",
                    "baseUrl": "http://127.0.0.1:\(self.upstreamPort)/v1",
                ], headers: server.session)
            guard created.status == 201 else { throw BenchError("could not add the upstream: \(created.text)") }
            // Conversations ask many times: lift the reply budget for the run.
            var settings = try await server.request("GET", "/api/v1/admin/ai/settings", nil, headers: server.session)
                .json
            settings["maxMessagesBeforeEscalation"] = 100
            let saved = try await server.request("PUT", "/api/v1/admin/ai/settings", settings, headers: server.session)
            guard saved.status == 200 else { throw BenchError("could not change the settings: \(saved.text)") }
        }

        /// Serves the scripted upstream until cancelled.
        func startUpstream(state: Locked<State>, receivers: Int) async throws -> Task<Void, any Error> {
            let router = Router()
            let tokens = self.tokens
            let interval = UInt64(self.interval) * 1_000_000
            let first = UInt64(self.firstToken) * 1_000_000
            let marker = "bench-stream-"
            router.post("v1/chat/completions") { request, _ -> Response in
                let got = Bench.now()
                let body = String(buffer: try await request.body.collect(upTo: 1 << 20))
                // The conversation's history holds earlier questions: the last one is being asked.
                guard let range = body.range(of: marker, options: .backwards) else {
                    return Response(status: .badRequest)
                }
                let key = String(body[range.upperBound...].prefix(while: { $0.isNumber || $0 == "-" }))
                state.withLock { $0.timelines[key]?.upstreamGot = got }
                return Response(
                    status: .ok, headers: [.contentType: "text/event-stream"],
                    body: .init { writer in
                        for index in 0..<tokens {
                            let due = got + first + UInt64(index) * interval
                            let wait = Int64(due) - Int64(Bench.now())
                            if wait > 0 { try await Task.sleep(for: .nanoseconds(wait)) }
                            state.withLock { $0.timelines[key]?.sent.append(Bench.now()) }
                            try await writer.write(
                                ByteBuffer(string: #"data: {"choices":[{"delta":{"content":"w\#(index) "}}]}"# + "\n\n")
                            )
                        }
                        try await writer.write(
                            ByteBuffer(
                                string:
                                    #"data: {"choices":[{"delta":{"content":"<decision>{\"decision\":\"answer\",\"confidence\":0.9}</decision>"},"finish_reason":"stop"}]}"#
                                    + "\n\ndata: [DONE]\n\n"))
                        try await writer.finish(nil)
                    })
            }
            let app = Application(
                router: router,
                configuration: .init(address: .hostname("127.0.0.1", port: self.upstreamPort), serverName: "upstream"),
                logger: {
                    var logger = Logger(label: "bench.upstream")
                    logger.logLevel = .critical
                    return logger
                }())
            let task = Task { try await app.runService(gracefulShutdownSignals: []) }
            // Wait until it accepts connections.
            for _ in 0..<100 {
                if (try? await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                    .connect(host: "127.0.0.1", port: self.upstreamPort).get().close().get()) != nil
                {
                    return task
                }
                try await Task.sleep(for: .milliseconds(50))
            }
            task.cancel()
            throw BenchError("the scripted upstream did not start on port \(self.upstreamPort)")
        }
    }
}

/// A value behind a lock that closures can share.
final class Locked<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>

    init(_ value: Value) { self.mutex = Mutex(value) }

    func withLock<Result: Sendable>(_ body: (inout Value) -> Result) -> Result {
        self.mutex.withLock { body(&$0) }
    }
}

extension FrameScan {
    /// The numbers N of every `wN` token in a frame's `"delta"` text (the stream bench's tokens).
    static func tokenIndices(in buffer: ByteBuffer) -> [Int] {
        let marker = Array(#""delta":""#.utf8)
        return buffer.readableBytesView.withContiguousStorageIfAvailable { bytes -> [Int] in
            guard let start = FrameScan.index(of: marker, in: bytes) else { return [] }
            var indices: [Int] = []
            var position = start + marker.count
            while position < bytes.count, bytes[position] != UInt8(ascii: "\"") {
                if bytes[position] == UInt8(ascii: "w") {
                    var value = 0
                    var digits = 0
                    position += 1
                    while position < bytes.count, bytes[position] >= 48, bytes[position] <= 57 {
                        value = value * 10 + Int(bytes[position] - 48)
                        digits += 1
                        position += 1
                    }
                    if digits > 0 { indices.append(value) }
                } else {
                    position += 1
                }
            }
            return indices
        } ?? []
    }
}
