import Foundation
public import HTTPTypes
import HummingbirdWSClient
import Logging
import NIOCore
import Synchronization

/// A real WebSocket client for tests: send JSON frames, await the next frame that matches.
public final class TestSocket: Sendable {
    private let outgoing: AsyncStream<String>.Continuation
    private let incoming = Mutex<(frames: [String], closed: Bool)>(([], false))
    private let failure = Mutex<String?>(nil)

    init(outgoing: AsyncStream<String>.Continuation) { self.outgoing = outgoing }

    /// Sends a JSON object.
    public func send(_ frame: [String: Any]) throws {
        let data = try JSONSerialization.data(withJSONObject: frame)
        self.outgoing.yield(String(decoding: data, as: UTF8.self))
    }

    /// Ends the connection from this side.
    public func close() { self.outgoing.finish() }

    /// The first received frame for which `matching` holds, taken out of the buffer (the others
    /// stay); throws after `timeout`.
    public func next(
        timeout: Duration = .seconds(5), where matching: @Sendable ([String: Any]) -> Bool = { _ in true }
    ) async throws -> [String: Any] {
        let deadline = ContinuousClock.now + timeout
        while true {
            let texts: [String] = self.incoming.withLock { $0.frames }
            for text in texts {
                guard let frame = Self.parse(text), matching(frame) else { continue }
                // Take this one frame out; frames that did not match stay for later calls.
                self.incoming.withLock { state in
                    if let index = state.frames.firstIndex(of: text) { state.frames.remove(at: index) }
                }
                return frame
            }
            if self.incoming.withLock({ $0.closed }) {
                throw SocketClosed(reason: self.failure.withLock { $0 } ?? "closed by the server")
            }
            if ContinuousClock.now >= deadline { throw TimedOut(description: "no matching frame within \(timeout)") }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    /// Frames of `type` (and, optionally, `name`) that arrive within `window`.
    public func collect(type: String, name: String? = nil, for window: Duration) async -> [[String: Any]] {
        var frames: [[String: Any]] = []
        let deadline = ContinuousClock.now + window
        while ContinuousClock.now < deadline {
            if let frame = try? await self.next(
                timeout: deadline - ContinuousClock.now,
                where: { frame in
                    frame["type"] as? String == type && (name == nil || frame["name"] as? String == name)
                })
            {
                frames.append(frame)
            }
        }
        return frames
    }

    func received(_ text: String) { self.incoming.withLock { $0.frames.append(text) } }

    static func parse(_ text: String) -> [String: Any]? {
        try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
    }

    func ended() { self.incoming.withLock { $0.closed = true } }

    public struct TimedOut: Error, CustomStringConvertible { public var description: String }
    public struct SocketClosed: Error, CustomStringConvertible {
        var reason: String
        public var description: String { "the socket closed: \(self.reason)" }
    }

    func failed(_ error: any Error) { self.failure.withLock { $0 = "\(error)" } }
}

/// Connects to `url` for the length of `body`.
public func withTestSocket<T: Sendable>(
    _ url: String, headers: HTTPFields = [:], _ body: @Sendable (TestSocket) async throws -> T
) async throws -> T {
    let (stream, continuation) = AsyncStream.makeStream(of: String.self)
    let socket = TestSocket(outgoing: continuation)
    let logger = {
        var logger = Logger(label: "parley.test.socket")
        logger.logLevel = .warning
        return logger
    }()
    return try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask {
            defer { socket.ended() }
            do {
                try await WebSocketClient.connect(
                    url: url, configuration: .init(maxFrameSize: 1 << 20, additionalHeaders: headers), logger: logger
                ) { inbound, outbound, _ in
                    try await withThrowingTaskGroup(of: Void.self) { inner in
                        inner.addTask {
                            for await text in stream { try await outbound.write(.text(text)) }
                            try await outbound.close(.normalClosure, reason: nil)
                        }
                        for try await message in inbound.messages(maxSize: 1 << 20) {
                            if case .text(let text) = message { socket.received(text) }
                        }
                        continuation.finish()
                        try await inner.waitForAll()
                    }
                }
            } catch {
                socket.failed(error)
                throw error
            }
        }
        do {
            let value = try await body(socket)
            continuation.finish()
            try await group.waitForAll()
            return value
        } catch {
            continuation.finish()
            group.cancelAll()
            throw error
        }
    }
}
