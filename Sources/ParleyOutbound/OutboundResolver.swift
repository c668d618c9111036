import Foundation
import NIOPosix

#if canImport(Darwin)
    import Darwin
#elseif canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// Turns a host name into the addresses a connection would reach. The system one calls
/// `getaddrinfo` on NIO's thread pool, never on an event loop; tests pass their own.
public struct OutboundResolver: Sendable {
    let resolve: @Sendable (_ host: String, _ port: Int) async throws -> [IPAddress]

    /// A resolver answering with `resolve` (tests: "this name is 127.0.0.1").
    public init(_ resolve: @escaping @Sendable (_ host: String, _ port: Int) async throws -> [IPAddress]) {
        self.resolve = resolve
    }

    /// The system's resolver (`getaddrinfo`: hosts file, DNS), run on NIO's thread pool.
    public static let system = OutboundResolver { host, port in
        try await NIOThreadPool.singleton.runIfActive { try Self.lookUp(host: host, port: port) }
    }

    /// The addresses of `host`; empty when it has none.
    public func addresses(of host: String, port: Int) async throws -> [IPAddress] {
        try await self.resolve(host, port)
    }

    struct LookupError: Error {}

    static func lookUp(host: String, port: Int) throws -> [IPAddress] {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        #if canImport(Darwin)
            hints.ai_socktype = SOCK_STREAM
        #else
            hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        #endif
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &list)
        guard status == 0 else { throw LookupError() }
        defer { freeaddrinfo(list) }
        var addresses: [IPAddress] = []
        var next = list
        while let info = next {
            if let pointer = info.pointee.ai_addr {
                switch Int32(info.pointee.ai_family) {
                case AF_INET:
                    let raw = pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) {
                        $0.pointee.sin_addr.s_addr
                    }
                    addresses.append(.v4(UInt32(bigEndian: raw)))
                case AF_INET6:
                    let bytes = pointer.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { pointer in
                        withUnsafeBytes(of: pointer.pointee.sin6_addr) { Array($0) }
                    }
                    addresses.append(.v6(bytes.reduce(UInt128(0)) { $0 << 8 | UInt128($1) }))
                default:
                    break
                }
            }
            next = info.pointee.ai_next
        }
        var seen: Set<IPAddress> = []
        return addresses.filter { seen.insert($0).inserted }
    }
}
