public import AsyncHTTPClient
public import NIOCore
import Synchronization

/// HTTP clients for streaming requests through the guard (the AI providers): each request's
/// destination is checked when it is sent, and the connection is pinned to the checked address
/// (one pooled client per host and address, with `dnsOverride`); redirects are never followed.
///
/// A host keeps its pinned client while the address stays among the ones it resolves to, so a
/// round-robin answer does not open a new pool per request. A client whose address left the
/// answer, or that was not used for `retireAfter`, is shut down once `retireAfter` has passed
/// (longer than any request's deadline, so no stream is cut).
public final class OutboundClient: Sendable {
    public let outboundGuard: OutboundGuard
    let configuration: HTTPClient.Configuration
    let retireAfter: Duration
    private let state = Mutex(State())

    struct Pinned {
        var address: IPAddress
        var client: HTTPClient
        var lastUsed: ContinuousClock.Instant
    }

    struct State {
        var pinned: [String: Pinned] = [:]
        var retired: [(client: HTTPClient, since: ContinuousClock.Instant)] = []
        var shutDown = false
    }

    /// `configuration` gives the timeouts and pool sizes; its redirects, proxy and DNS
    /// overrides are replaced.
    public init(
        guard outboundGuard: OutboundGuard, configuration: HTTPClient.Configuration,
        retireAfter: Duration = .seconds(900)
    ) {
        self.outboundGuard = outboundGuard
        var configuration = configuration
        configuration.redirectConfiguration = .disallow
        configuration.proxy = nil
        configuration.dnsOverride = [:]
        self.configuration = configuration
        self.retireAfter = retireAfter
    }

    /// Checks the request's URL, then executes it on a client pinned to the checked address.
    /// Throws `OutboundError.refused`/`.unresolvable` before any connection is made.
    public func execute(_ request: HTTPClientRequest, timeout: TimeAmount) async throws -> HTTPClientResponse {
        let destination = try await self.outboundGuard.check(request.url)
        let (client, stale) = try self.client(for: destination)
        for old in stale { try? await old.shutdown() }
        return try await client.execute(request, timeout: timeout)
    }

    /// The pinned client for `destination`, and clients retired long enough to shut down.
    func client(for destination: OutboundDestination) throws -> (HTTPClient, [HTTPClient]) {
        let now = ContinuousClock.now
        return try self.state.withLock { state in
            guard !state.shutDown else { throw OutboundError.connection("shutting down") }
            let host = destination.url.host
            var client: HTTPClient
            if var pinned = state.pinned[host], destination.addresses.contains(pinned.address) {
                pinned.lastUsed = now
                state.pinned[host] = pinned
                client = pinned.client
            } else {
                if let old = state.pinned[host] { state.retired.append((old.client, now)) }
                var configuration = self.configuration
                configuration.dnsOverride = [host: destination.address.description]
                client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
                state.pinned[host] = Pinned(address: destination.address, client: client, lastUsed: now)
            }
            for (name, pinned) in state.pinned where now - pinned.lastUsed > self.retireAfter {
                state.pinned[name] = nil
                state.retired.append((pinned.client, now))
            }
            let due = state.retired.filter { now - $0.since > self.retireAfter }.map(\.client)
            state.retired.removeAll { now - $0.since > self.retireAfter }
            return (client, due)
        }
    }

    /// How many hosts have a pinned client (for tests).
    var pinnedHosts: Int { self.state.withLock { $0.pinned.count } }

    /// Shuts every client down; requests after this fail.
    public func shutdown() async throws {
        let clients = self.state.withLock { state in
            state.shutDown = true
            let clients = state.pinned.values.map(\.client) + state.retired.map(\.client)
            state.pinned = [:]
            state.retired = []
            return clients
        }
        for client in clients { try? await client.shutdown() }
    }
}
