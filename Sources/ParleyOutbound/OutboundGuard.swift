import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import ParleyCore

/// Why an outbound request was not made or did not finish. Descriptions are short and safe to
/// show admins: they name the reason, never a secret or a response body.
public enum OutboundError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The URL or the address it reaches is not allowed (why, in a few words).
    case refused(String)
    /// The host name has no address.
    case unresolvable(String)
    /// The destination did not answer in time.
    case timeout
    /// The connection failed or broke.
    case connection(String)

    public var description: String {
        switch self {
        case .refused(let reason): "refused: \(reason)"
        case .unresolvable(let host): "\(host) could not be resolved"
        case .timeout: "timed out"
        case .connection(let reason): "connection failed: \(reason)"
        }
    }
}

/// What a destination answered to `OutboundGuard.post`.
public struct OutboundResponse: Sendable {
    /// The HTTP status; a redirect (3xx) is returned as it is, never followed.
    public var status: Int
    /// The response headers (a redirect's `Location` untouched).
    public var headers: [(String, String)]
    /// The body, cut at `maxResponseBytes`.
    public var body: [UInt8]
    /// Whether the body was longer than `maxResponseBytes` (the rest was not read).
    public var truncated: Bool
    /// From the start of the request to the end of what was read.
    public var latency: Duration
}

/// A destination that passed the policy: the host and the address the connection is pinned to.
public struct OutboundDestination: Sendable, Hashable {
    public var url: OutboundURL
    /// The checked address to connect to (the first the resolver gave).
    public var address: IPAddress
    /// Every address the host resolved to, all checked.
    public var addresses: [IPAddress]
}

/// The one guard for every server-side request to a URL an API user can set (AI providers,
/// webhooks): http(s) only, no user info, no loopback, private, link-local, metadata or other
/// internal destination in any spelling, checked after DNS resolution and again at send time,
/// with the connection pinned to the checked address, no redirects, bounded time and size.
public struct OutboundGuard: Sendable {
    public let policy: OutboundPolicy
    public let resolver: OutboundResolver

    public init(policy: OutboundPolicy, resolver: OutboundResolver = .system) {
        self.policy = policy
        self.resolver = resolver
    }

    /// Save-time check: throws `ValidationError(field:)` naming `field` when the URL's scheme,
    /// its literal address or any address its host resolves to is refused, or when the host
    /// does not resolve.
    public func validate(_ url: String, field: String) async throws {
        do {
            _ = try await self.check(url)
        } catch {
            throw ValidationError(field: field, message: "\(field) can't be used: \(error.reason).")
        }
    }

    /// Send-time check: parses the URL, resolves its host and checks every address. Throws
    /// `OutboundError.refused` or `.unresolvable`.
    public func check(_ url: String) async throws(OutboundError) -> OutboundDestination {
        let target: OutboundURL
        do {
            target = try OutboundURL(url)
        } catch {
            throw .refused(error.reason)
        }
        let addresses: [IPAddress]
        if let literal = target.address {
            addresses = [literal]
        } else {
            let name = target.host.lowercased()
            if !self.policy.hosts.contains(OutboundPolicy.normalizedHost(name) ?? name),
                let reason = OutboundPolicy.forbiddenName(name)
            {
                throw .refused("\(name) is \(reason)")
            }
            do {
                addresses = try await self.resolver.addresses(of: target.host, port: target.port)
            } catch {
                throw .unresolvable(target.host)
            }
        }
        guard let first = addresses.first else { throw .unresolvable(target.host) }
        for address in addresses {
            if let reason = self.policy.refusal(host: target.host, address: address) {
                throw .refused(target.address == nil ? "\(target.host) resolves to \(reason)" : reason)
            }
        }
        return OutboundDestination(url: target, address: first, addresses: addresses)
    }

    /// Sends `body` with POST, connected to the address just checked (a DNS answer that changed
    /// since `validate` is checked again), without following redirects, reading at most
    /// `maxResponseBytes` of the answer.
    public func post(
        _ url: String, headers: [(String, String)], body: [UInt8], connectTimeout: Duration = .seconds(5),
        totalTimeout: Duration = .seconds(10), maxResponseBytes: Int = 65_536
    ) async throws -> OutboundResponse {
        let destination = try await self.check(url)
        var configuration = HTTPClient.Configuration(
            redirectConfiguration: .disallow,
            timeout: .init(connect: .nanoseconds(connectTimeout.nanoseconds), read: nil))
        configuration.dnsOverride = [destination.url.host: destination.address.description]
        configuration.connectionPool = .init(idleTimeout: .seconds(1))
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        request.body = .bytes(ByteBuffer(bytes: body))
        let started = ContinuousClock.now
        let prepared = request
        let result: Result<OutboundResponse, any Error>
        do {
            let response = try await Self.withTimeout(totalTimeout) {
                try await Self.send(
                    prepared, client: client, deadline: .now() + .nanoseconds(totalTimeout.nanoseconds),
                    maxResponseBytes: maxResponseBytes, started: started)
            }
            result = .success(response)
        } catch {
            result = .failure(Self.outboundError(error, host: destination.url.host))
        }
        try? await client.shutdown()
        return try result.get()
    }

    static func send(
        _ request: HTTPClientRequest, client: HTTPClient, deadline: NIODeadline, maxResponseBytes: Int,
        started: ContinuousClock.Instant
    ) async throws -> OutboundResponse {
        let response = try await client.execute(request, deadline: deadline)
        var body: [UInt8] = []
        var truncated = false
        for try await buffer in response.body {
            let room = maxResponseBytes - body.count
            if buffer.readableBytes > room {
                body += buffer.readableBytesView.prefix(room)
                truncated = true
                break
            }
            body += buffer.readableBytesView
        }
        return OutboundResponse(
            status: Int(response.status.code), headers: response.headers.map { ($0.name, $0.value) }, body: body,
            truncated: truncated, latency: ContinuousClock.now - started)
    }

    /// Runs `body`, cancelling it after `limit`.
    static func withTimeout<T: Sendable>(
        _ limit: Duration, _ body: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await body() }
            group.addTask {
                try await Task.sleep(for: limit)
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let value = first else { throw OutboundError.timeout }
            return value
        }
    }

    /// An HTTP client error as a short `OutboundError`.
    static func outboundError(_ error: any Error, host: String) -> OutboundError {
        switch error {
        case let error as OutboundError:
            return error
        case let error as HTTPClientError:
            switch error {
            case .connectTimeout, .readTimeout, .deadlineExceeded, .cancelled: return .timeout
            case .remoteConnectionClosed: return .connection("\(host) closed the connection")
            default: return .connection("\(host): \(error.shortDescription)")
            }
        case is CancellationError:
            return .timeout
        default:
            return .connection("could not connect to \(host)")
        }
    }
}

extension Duration {
    var nanoseconds: Int64 {
        self.components.seconds * 1_000_000_000 + self.components.attoseconds / 1_000_000_000
    }
}

extension HTTPClientError {
    /// The error's name, without anything the other side sent.
    var shortDescription: String {
        let text = String(describing: self)
        return String(text.prefix { $0 != "(" }.prefix(60))
    }
}

extension Error {
    /// The reason of an `OutboundURL.Refusal` or an `OutboundError`, for a validation message.
    fileprivate var reason: String {
        switch self {
        case let error as OutboundError:
            switch error {
            case .refused(let reason): reason
            default: error.description
            }
        default: "\(self)"
        }
    }
}
