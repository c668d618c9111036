import ArgumentParser
import Foundation
import NIOCore
import NIOPosix
import Synchronization

/// `parley bench`: a load generator over real WebSockets that prints figures, not pass/fail.
/// Bounded in count and time; loopback only.
struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Load-test a running Parley (or the Node peer) over real WebSockets; prints figures.",
        subcommands: [Idle.self, Fanout.self, Throughput.self, Reconnect.self, Stream.self, Search.self])

    struct Target: ParsableArguments {
        @Option(help: "The server's URL (loopback only).") var url = "http://127.0.0.1:8080"
        @Option(help: "An owner's or admin's email (sets up an API key and conversations).") var email =
            "bench@example.com"
        @Option(help: "Their password.") var password = "bench password 1"
        @Option(help: "The server's process id, to read its memory.") var serverPid: Int32?
        @Flag(help: "Drive the Node ws peer instead of Parley (no REST API, no persistence).") var peer = false
        @Option(help: "Event loop threads for the load generator.") var threads = 1

        func validate() throws {
            guard let host = URL(string: self.url)?.host, host == "localhost" || host.hasPrefix("127.") || host == "::1"
            else {
                throw ValidationError("--url must be a loopback address")
            }
        }

        func prepare() async throws -> BenchTarget {
            var target = try BenchTarget(url: self.url, peer: self.peer)
            try await target.prepare(email: self.email, password: self.password)
            return target
        }

        func memory() -> String {
            guard let pid = self.serverPid, let bytes = residentMemory(pid: pid) else { return "n/a" }
            return String(format: "%.1f MB", Double(bytes) / 1_048_576)
        }
    }

    /// Connects `count` sockets, `parallel` at a time, each subscribed to its channel.
    static func connectAll(
        _ count: Int, target: BenchTarget, group: any EventLoopGroup, parallel: Int = 200,
        path: @escaping @Sendable (Int) -> String, headers: @escaping @Sendable (Int) -> [(String, String)],
        onText: @escaping @Sendable (Int, ByteBuffer, UInt64) -> Void
    ) async throws -> [BenchSocket] {
        var sockets = [BenchSocket?](repeating: nil, count: count)
        var next = 0
        try await withThrowingTaskGroup(of: (Int, BenchSocket).self) { tasks in
            func add() {
                let index = next
                next += 1
                tasks.addTask {
                    let socket = try await BenchSocket.connect(
                        host: target.host, port: target.port, path: path(index), headers: headers(index),
                        localAddress: SourceAddresses.address(index), group: group
                    ) { buffer, time in onText(index, buffer, time) }
                    return (index, socket)
                }
            }
            for _ in 0..<min(parallel, count) { add() }
            var done = 0
            for try await (index, socket) in tasks {
                sockets[index] = socket
                done += 1
                if done % 2000 == 0 { print("  \(done) of \(count) connected") }
                if next < count { add() }
            }
        }
        return sockets.map { $0! }
    }

    static func subscribe(_ channel: String, after: Int? = nil) -> String {
        after.map { #"{"type":"subscribe","channel":"\#(channel)","after":\#($0)}"# }
            ?? #"{"type":"subscribe","channel":"\#(channel)"}"#
    }

    static func send(_ channel: String, clientId: String, body: String) -> String {
        #"{"type":"send","channel":"\#(channel)","clientId":"\#(clientId)","body":"\#(body)"}"#
    }

    static let subscribedMarker = Array(#""type":"subscribed""#.utf8)
    static let messageMarker = Array(#""name":"message.created""#.utf8)
    static let ackMarker = Array(#""type":"ack""#.utf8)
    static let timeMarker = Array("t=".utf8)
    static let clientMarker = Array(#""clientId":"k"#.utf8)

    static func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

    // MARK: - idle

    struct Idle: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Hold many idle visitor connections; server memory per connection.")
        @OptionGroup var target: Target
        @Option(help: "How many connections.") var connections = 19_000
        @Option(help: "Seconds to hold them.") var hold = 5

        func run() async throws {
            let server = try await self.target.prepare()
            let group = MultiThreadedEventLoopGroup(numberOfThreads: self.target.threads)
            print("idle: starting \(self.connections) visitor conversations")
            let visitors = try await server.visitors(self.connections)
            let subscribed = Atomic<Int>(0)
            try await Task.sleep(for: .seconds(1))
            let before = self.target.serverPid.flatMap(residentMemory)
            print("idle: server memory before connecting: \(self.target.memory())")
            let started = Bench.now()
            let sockets = try await Bench.connectAll(
                self.connections, target: server, group: group,
                path: { "/api/v1/realtime?token=\(visitors[$0].token)" }, headers: { _ in [] }
            ) { _, buffer, _ in
                if FrameScan.contains(buffer, Bench.subscribedMarker) { subscribed.add(1, ordering: .relaxed) }
            }
            for (index, socket) in sockets.enumerated() { socket.send(Bench.subscribe(visitors[index].channel)) }
            while subscribed.load(ordering: .relaxed) < self.connections, Bench.now() - started < 120_000_000_000 {
                try await Task.sleep(for: .milliseconds(100))
            }
            let seconds = Double(Bench.now() - started) / 1e9
            try await Task.sleep(for: .seconds(self.hold))
            let after = self.target.serverPid.flatMap(residentMemory)
            let open = sockets.filter { $0.channel.isActive }.count
            print(
                String(
                    format: "idle: %d connections open and subscribed (%d subscribed) in %.1f s; held %d s", open,
                    subscribed.load(ordering: .relaxed), seconds, self.hold))
            if let before, let after {
                print(
                    String(
                        format: "idle: server memory %.1f MB -> %.1f MB: %.2f KB per connection",
                        Double(before) / 1_048_576, Double(after) / 1_048_576,
                        Double(after - before) / 1024 / Double(open)))
            }
            for socket in sockets { await socket.close() }
            try await group.shutdownGracefully()
        }
    }

    // MARK: - fanout

    struct Fanout: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "One conversation watched by many subscribers; delivery latency.")
        @OptionGroup var target: Target
        @Option(help: "Subscribers of the one conversation.") var subscribers = 1000
        @Option(help: "Messages per second sent into it.") var rate = 100
        @Option(help: "Seconds to send for.") var duration = 10

        func run() async throws {
            let server = try await self.target.prepare()
            let group = MultiThreadedEventLoopGroup(numberOfThreads: self.target.threads)
            let publisher = try await server.visitors(1)[0]
            let samples = Samples()
            let received = Atomic<Int>(0)
            let subscribed = Atomic<Int>(0)
            let key = server.apiKey
            let sockets = try await Bench.connectAll(
                self.subscribers, target: server, group: group,
                path: { _ in "/api/v1/realtime" },
                headers: { _ in server.peer ? [] : [("Authorization", "Bearer \(key)")] }
            ) { _, buffer, time in
                if FrameScan.contains(buffer, Bench.messageMarker),
                    let sent = FrameScan.number(after: Bench.timeMarker, in: buffer)
                {
                    samples.add(time &- sent)
                    received.add(1, ordering: .relaxed)
                } else if FrameScan.contains(buffer, Bench.subscribedMarker) {
                    subscribed.add(1, ordering: .relaxed)
                }
            }
            for socket in sockets { socket.send(Bench.subscribe(publisher.channel)) }
            while subscribed.load(ordering: .relaxed) < self.subscribers {
                try await Task.sleep(for: .milliseconds(50))
            }
            let acks = Atomic<Int>(0)
            let sender = try await BenchSocket.connect(
                host: server.host, port: server.port, path: "/api/v1/realtime?token=\(publisher.token)", group: group
            ) { buffer, _ in
                if FrameScan.contains(buffer, Bench.ackMarker) { acks.add(1, ordering: .relaxed) }
            }
            sender.send(Bench.subscribe(publisher.channel))
            try await Task.sleep(for: .milliseconds(300))
            print(
                "fanout: \(self.subscribers) subscribers of one conversation, \(self.rate) messages/s for \(self.duration) s"
            )
            let total = self.rate * self.duration
            let start = Bench.now()
            for index in 0..<total {
                let due = start + UInt64(Double(index) / Double(self.rate) * 1e9)
                let wait = Int64(due) - Int64(Bench.now())
                if wait > 0 { try await Task.sleep(for: .nanoseconds(wait)) }
                sender.send(Bench.send(publisher.channel, clientId: "f\(index)", body: "t=\(Bench.now())"))
            }
            let sendSeconds = Double(Bench.now() - start) / 1e9
            let expected = total * self.subscribers
            let deadline = Bench.now() + 10_000_000_000
            while received.load(ordering: .relaxed) < expected || acks.load(ordering: .relaxed) < total,
                Bench.now() < deadline
            {
                try await Task.sleep(for: .milliseconds(50))
            }
            let elapsed = max(sendSeconds, Double(self.duration))
            let got = received.load(ordering: .relaxed)
            print(
                String(
                    format: "fanout: %d of %d deliveries (%.0f/s), %d acks, lost %d; latency %@",
                    got, expected, Double(got) / elapsed, acks.load(ordering: .relaxed), expected - got,
                    samples.summary()))
            print("fanout: server memory \(self.target.memory())")
            await sender.close()
            for socket in sockets { await socket.close() }
            try await group.shutdownGracefully()
        }
    }

    // MARK: - throughput

    struct Throughput: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Many conversations of a visitor and watching agents; committed messages per second.")
        @OptionGroup var target: Target
        @Option(help: "Conversations.") var conversations = 500
        @Option(help: "Agents watching each conversation.") var watchers = 2
        @Option(help: "Unacknowledged messages each visitor keeps in flight.") var window = 4
        @Option(help: "Seconds to send for.") var duration = 10

        func run() async throws {
            let server = try await self.target.prepare()
            let group = MultiThreadedEventLoopGroup(numberOfThreads: self.target.threads)
            let visitors = try await server.visitors(self.conversations)
            let delivery = Samples()
            let ackLatency = Samples()
            let delivered = Atomic<Int>(0)
            let subscribed = Atomic<Int>(0)
            let key = server.apiKey
            let watcherCount = self.conversations * self.watchers
            let watchers = try await Bench.connectAll(
                watcherCount, target: server, group: group,
                path: { _ in "/api/v1/realtime" },
                headers: { _ in server.peer ? [] : [("Authorization", "Bearer \(key)")] }
            ) { _, buffer, time in
                if FrameScan.contains(buffer, Bench.messageMarker),
                    let sent = FrameScan.number(after: Bench.timeMarker, in: buffer)
                {
                    delivery.add(time &- sent)
                    delivered.add(1, ordering: .relaxed)
                } else if FrameScan.contains(buffer, Bench.subscribedMarker) {
                    subscribed.add(1, ordering: .relaxed)
                }
            }
            for (index, socket) in watchers.enumerated() {
                socket.send(Bench.subscribe(visitors[index % self.conversations].channel))
            }

            let acked = Atomic<Int>(0)
            let sending = Atomic<Bool>(true)
            let sentAt = Mutex<[Int: UInt64]>([:])
            let box = Mutex<[BenchSocket]>([])
            let window = self.window
            let senders = try await Bench.connectAll(
                self.conversations, target: server, group: group, parallel: 100,
                path: { "/api/v1/realtime?token=\(visitors[$0].token)" }, headers: { _ in [] }
            ) { index, buffer, time in
                if FrameScan.contains(buffer, Bench.ackMarker),
                    let id = FrameScan.number(after: Bench.clientMarker, in: buffer)
                {
                    acked.add(1, ordering: .relaxed)
                    if let sent = sentAt.withLock({ $0.removeValue(forKey: Int(id)) }) { ackLatency.add(time &- sent) }
                    guard sending.load(ordering: .relaxed) else { return }
                    let next = Int(id) + window * 1_000_000
                    sentAt.withLock { $0[next] = Bench.now() }
                    box.withLock { $0[index] }.send(
                        Bench.send(visitors[index].channel, clientId: "k\(next)", body: "t=\(Bench.now())"))
                } else if FrameScan.contains(buffer, Bench.subscribedMarker) {
                    subscribed.add(1, ordering: .relaxed)
                }
            }
            box.withLock { $0 = senders }
            for (index, socket) in senders.enumerated() { socket.send(Bench.subscribe(visitors[index].channel)) }
            let all = watcherCount + self.conversations
            while subscribed.load(ordering: .relaxed) < all { try await Task.sleep(for: .milliseconds(50)) }
            print(
                "throughput: \(self.conversations) conversations x (1 visitor + \(self.watchers) agents), window \(window), \(self.duration) s"
            )
            let start = Bench.now()
            // Client id k<slot*1e6 + visitor>: each ack sends the next in its slot.
            for (index, socket) in senders.enumerated() {
                for slot in 0..<window {
                    let id = slot * 1_000_000 + index
                    sentAt.withLock { $0[id] = Bench.now() }
                    socket.send(Bench.send(visitors[index].channel, clientId: "k\(id)", body: "t=\(Bench.now())"))
                }
            }
            try await Task.sleep(for: .seconds(self.duration))
            sending.store(false, ordering: .relaxed)
            let elapsed = Double(Bench.now() - start) / 1e9
            let ackCount = acked.load(ordering: .relaxed)
            try await Task.sleep(for: .seconds(2))
            let expected = acked.load(ordering: .relaxed) * self.watchers
            print(
                String(
                    format: "throughput: %d messages acknowledged (committed) in %.1f s: %.0f/s; ack latency %@",
                    ackCount, elapsed, Double(ackCount) / elapsed, ackLatency.summary()))
            print(
                String(
                    format: "throughput: %d of %d deliveries to watchers, lost %d; delivery latency %@",
                    delivered.load(ordering: .relaxed), expected, max(0, expected - delivered.load(ordering: .relaxed)),
                    delivery.summary())
            )
            print("throughput: server memory \(self.target.memory())")
            for socket in senders + watchers { await socket.close() }
            try await group.shutdownGracefully()
        }
    }

    // MARK: - reconnect

    struct Reconnect: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Many clients drop at once and come back with after; time until all are resumed.")
        @OptionGroup var target: Target
        @Option(help: "Clients.") var clients = 10_000
        @Option(help: "Conversations that get a reply while their visitor is away.") var missed = 200

        func run() async throws {
            let server = try await self.target.prepare()
            guard !server.peer else { throw BenchError("reconnect needs Parley (the peer keeps no history)") }
            let group = MultiThreadedEventLoopGroup(numberOfThreads: self.target.threads)
            let visitors = try await server.visitors(self.clients)
            let subscribed = Atomic<Int>(0)
            var sockets = try await Bench.connectAll(
                self.clients, target: server, group: group, path: { "/api/v1/realtime?token=\(visitors[$0].token)" },
                headers: { _ in [] }
            ) { _, buffer, _ in
                if FrameScan.contains(buffer, Bench.subscribedMarker) { subscribed.add(1, ordering: .relaxed) }
            }
            for (index, socket) in sockets.enumerated() { socket.send(Bench.subscribe(visitors[index].channel)) }
            while subscribed.load(ordering: .relaxed) < self.clients { try await Task.sleep(for: .milliseconds(50)) }
            print("reconnect: \(self.clients) clients connected and subscribed; dropping them all")
            for socket in sockets { await socket.close() }
            for index in 0..<self.missed {
                try await server.reply(to: visitors[index].session, body: "while you were away \(index)")
            }
            print(
                "reconnect: \(self.missed) conversations got a reply meanwhile; reconnecting all at once with after=0")
            let resumed = Atomic<Int>(0)
            let replayed = Atomic<Int>(0)
            let start = Bench.now()
            sockets = try await Bench.connectAll(
                self.clients, target: server, group: group, parallel: 1000,
                path: { "/api/v1/realtime?token=\(visitors[$0].token)" }, headers: { _ in [] }
            ) { _, buffer, _ in
                if FrameScan.contains(buffer, Bench.subscribedMarker) { resumed.add(1, ordering: .relaxed) }
                if FrameScan.contains(buffer, Bench.messageMarker) { replayed.add(1, ordering: .relaxed) }
            }
            let connected = Double(Bench.now() - start) / 1e9
            for (index, socket) in sockets.enumerated() {
                socket.send(Bench.subscribe(visitors[index].channel, after: 0))
            }
            // Each replied conversation replays 2 messages (the takeover note and the reply).
            while (resumed.load(ordering: .relaxed) < self.clients
                || replayed.load(ordering: .relaxed) < 2 * self.missed),
                Bench.now() - start < 60_000_000_000
            {
                try await Task.sleep(for: .milliseconds(10))
            }
            let total = Double(Bench.now() - start) / 1e9
            print(
                String(
                    format:
                        "reconnect: %d of %d resumed in %.2f s (sockets reconnected in %.2f s); %d of %d missed messages replayed",
                    resumed.load(ordering: .relaxed), self.clients, total, connected, replayed.load(ordering: .relaxed),
                    2 * self.missed))
            for socket in sockets { await socket.close() }
            try await group.shutdownGracefully()
        }
    }
}
