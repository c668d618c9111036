import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket
import Synchronization

/// A lean WebSocket client for load generation: NIO channel handlers, no JSON decoding on the
/// hot path (frames are scanned for the few fields the benchmark needs).
final class BenchSocket: Sendable {
    let channel: any Channel
    let handler: NIOLoopBound<FrameHandler>

    private init(channel: any Channel, handler: NIOLoopBound<FrameHandler>) {
        self.channel = channel
        self.handler = handler
    }

    /// Connects and upgrades; `onText` runs on the socket's event loop for each text frame.
    static func connect(
        host: String, port: Int, path: String, headers: [(String, String)] = [], localAddress: String? = nil,
        group: any EventLoopGroup, onText: @escaping @Sendable (ByteBuffer, UInt64) -> Void
    ) async throws -> BenchSocket {
        let upgraded = group.any().makePromise(of: NIOLoopBound<FrameHandler>.self)
        var bootstrap = ClientBootstrap(group: group)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connectTimeout(.seconds(10))
        if let localAddress {
            bootstrap = bootstrap.bind(to: try SocketAddress(ipAddress: localAddress, port: 0))
        }
        let channel = try await bootstrap.channelInitializer { channel in
            let upgrader = NIOWebSocketClientUpgrader(maxFrameSize: 1 << 20, automaticErrorHandling: true) {
                channel, _ in
                let handler = FrameHandler(onText: onText)
                upgraded.succeed(NIOLoopBound(handler, eventLoop: channel.eventLoop))
                return channel.pipeline.addHandler(handler)
            }
            let configuration: NIOHTTPClientUpgradeConfiguration = (
                upgraders: [upgrader],
                completionHandler: { _ in }
            )
            return channel.pipeline.addHTTPClientHandlers(withClientUpgrade: configuration)
        }.connect(host: host, port: port).get()
        var head = HTTPRequestHead(version: .http1_1, method: .GET, uri: path)
        head.headers.add(name: "Host", value: "\(host):\(port)")
        for (name, value) in headers { head.headers.add(name: name, value: value) }
        channel.write(HTTPClientRequestPart.head(head), promise: nil)
        try await channel.writeAndFlush(HTTPClientRequestPart.end(nil)).get()
        channel.closeFuture.whenComplete { _ in upgraded.fail(ChannelError.ioOnClosedChannel) }
        let handler = try await upgraded.futureResult.get()
        return BenchSocket(channel: channel, handler: handler)
    }

    func send(_ text: String) {
        let buffer = self.channel.allocator.buffer(string: text)
        let frame = WebSocketFrame(fin: true, opcode: .text, maskKey: .random(), data: buffer)
        self.channel.writeAndFlush(frame, promise: nil)
    }

    func close() async {
        try? await self.channel.close().get()
    }
}

/// Hands each text frame to `onText` with its arrival time (monotonic nanoseconds); answers pings.
final class FrameHandler: ChannelInboundHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    let onText: @Sendable (ByteBuffer, UInt64) -> Void
    init(onText: @escaping @Sendable (ByteBuffer, UInt64) -> Void) { self.onText = onText }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = Self.unwrapInboundIn(data)
        switch frame.opcode {
        case .text: self.onText(frame.unmaskedData, DispatchTime.now().uptimeNanoseconds)
        case .ping:
            let pong = WebSocketFrame(fin: true, opcode: .pong, maskKey: .random(), data: frame.unmaskedData)
            context.writeAndFlush(Self.wrapOutboundOut(pong), promise: nil)
        case .connectionClose: context.close(promise: nil)
        default: break
        }
    }
}

/// Cheap field extraction from server frames (the benchmark's hot path).
enum FrameScan {
    /// Whether `buffer` contains `needle`.
    static func contains(_ buffer: ByteBuffer, _ needle: [UInt8]) -> Bool {
        buffer.readableBytesView.withContiguousStorageIfAvailable { bytes in
            Self.index(of: needle, in: bytes) != nil
        } ?? false
    }

    /// The digits after `marker`, as a number.
    static func number(after marker: [UInt8], in buffer: ByteBuffer) -> UInt64? {
        buffer.readableBytesView.withContiguousStorageIfAvailable { bytes -> UInt64? in
            guard let start = Self.index(of: marker, in: bytes) else { return nil }
            var value: UInt64 = 0
            var index = start + marker.count
            var any = false
            while index < bytes.count, bytes[index] >= 48, bytes[index] <= 57 {
                value = value &* 10 &+ UInt64(bytes[index] - 48)
                index += 1
                any = true
            }
            return any ? value : nil
        } ?? nil
    }

    static func index(of needle: [UInt8], in bytes: UnsafeBufferPointer<UInt8>) -> Int? {
        guard needle.count <= bytes.count, let first = needle.first else { return nil }
        var index = 0
        let last = bytes.count - needle.count
        while index <= last {
            if bytes[index] == first {
                var match = true
                for offset in 1..<needle.count where bytes[index + offset] != needle[offset] {
                    match = false
                    break
                }
                if match { return index }
            }
            index += 1
        }
        return nil
    }
}

/// Latency samples, merged from many recorders.
final class Samples: Sendable {
    private let values = Mutex<[UInt64]>([])

    func add(_ value: UInt64) { self.values.withLock { $0.append(value) } }
    var count: Int { self.values.withLock { $0.count } }

    /// "p50 1.23 ms, p99 4.56 ms, p99.9 7.89 ms" (nanosecond samples).
    func summary() -> String {
        let sorted = self.values.withLock { $0.sorted() }
        guard !sorted.isEmpty else { return "no samples" }
        func at(_ q: Double) -> String {
            let value = sorted[min(sorted.count - 1, Int(Double(sorted.count) * q))]
            return String(format: "%.2f ms", Double(value) / 1_000_000)
        }
        return "p50 \(at(0.50)), p99 \(at(0.99)), p99.9 \(at(0.999)), max \(at(1.0)) (\(sorted.count) samples)"
    }
}

/// Source addresses 127.0.X.Y to spread client sockets over (the ephemeral port range is per address).
enum SourceAddresses {
    static func address(_ index: Int) -> String {
        let slot = index / 2000
        return "127.0.\(1 + slot / 250).\(1 + slot % 250)"
    }
}

/// Resident memory of a process, in bytes (VmRSS).
func residentMemory(pid: Int32) -> Int? {
    guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
    for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
        let kb = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).dropFirst().first.flatMap { Int($0) }
        return kb.map { $0 * 1024 }
    }
    return nil
}
