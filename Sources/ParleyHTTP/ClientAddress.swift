import Foundation
public import HTTPTypes

/// Which peers are trusted proxies, and so whose `X-Forwarded-For` is believed.
public struct TrustedProxies: Sendable, Equatable {
    struct Network: Sendable, Equatable {
        var address: [UInt8]
        var prefix: Int
    }

    let networks: [Network]

    public static let none = TrustedProxies(networks: [])

    init(networks: [Network]) { self.networks = networks }

    /// Parses `10.0.0.1, 10.1.0.0/16, ::1`; throws a message naming the bad entry.
    public init(parsing text: String) throws {
        var networks: [Network] = []
        for entry in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !entry.isEmpty {
            let parts = entry.split(separator: "/", maxSplits: 1)
            guard let address = Self.bytes(String(parts[0])) else { throw ParseError(entry: entry) }
            let prefix = parts.count == 2 ? Int(parts[1]) : address.count * 8
            guard let prefix, (0...(address.count * 8)).contains(prefix) else { throw ParseError(entry: entry) }
            networks.append(Network(address: address, prefix: prefix))
        }
        self.networks = networks
    }

    public struct ParseError: Error, CustomStringConvertible {
        var entry: String
        public var description: String { "'\(self.entry)' is not an IP address or CIDR range" }
    }

    public func contains(_ ip: String) -> Bool {
        guard let bytes = Self.bytes(ip) else { return false }
        return self.networks.contains { network in
            guard network.address.count == bytes.count else { return false }
            var bits = network.prefix
            for index in bytes.indices where bits > 0 {
                let mask: UInt8 = bits >= 8 ? 0xFF : ~(0xFF >> UInt8(bits))
                if bytes[index] & mask != network.address[index] & mask { return false }
                bits -= 8
            }
            return true
        }
    }

    /// The client's address: the peer, unless the peer is a trusted proxy; then the rightmost
    /// `X-Forwarded-For` entry that is not itself a trusted proxy.
    public func clientIP(peer: String?, headers: HTTPFields) -> String? {
        guard let peer, self.contains(peer), let forwarded = headers[HTTPField.Name("X-Forwarded-For")!] else {
            return peer
        }
        let chain = forwarded.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter {
            !$0.isEmpty
        }
        for hop in chain.reversed() where !self.contains(hop) { return Self.bytes(hop) == nil ? peer : hop }
        return chain.first ?? peer
    }

    static func bytes(_ text: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 { return withUnsafeBytes(of: v4) { Array($0) } }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 { return withUnsafeBytes(of: v6) { Array($0) } }
        return nil
    }
}
