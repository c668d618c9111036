import Foundation

/// A range of addresses, `10.0.0.0/8` or `fd00::/8`.
public struct IPNetwork: Sendable, Hashable, CustomStringConvertible {
    public var address: IPAddress
    public var prefix: Int

    public init?(_ text: String) {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let address = IPAddress(String(parts[0])) else { return nil }
        let width = if case .v4 = address { 32 } else { 128 }
        if parts.count == 2 {
            guard parts[1].count <= 3, parts[1].allSatisfy({ $0.isASCII && $0.isNumber }),
                let prefix = Int(parts[1]), (0...width).contains(prefix)
            else { return nil }
            self.init(address, prefix: prefix)
        } else {
            self.init(address, prefix: width)
        }
    }

    init(_ address: IPAddress, prefix: Int) {
        self.address = address
        self.prefix = prefix
    }

    public func contains(_ candidate: IPAddress) -> Bool {
        switch (self.address, candidate) {
        case (.v4(let network), .v4(let value)):
            guard self.prefix > 0 else { return true }
            let mask = UInt32.max << UInt32(32 - self.prefix)
            return network & mask == value & mask
        case (.v6(let network), .v6(let value)):
            guard self.prefix > 0 else { return true }
            let mask = UInt128.max << UInt128(128 - self.prefix)
            return network & mask == value & mask
        default:
            return false
        }
    }

    public var description: String { "\(self.address)/\(self.prefix)" }
}

/// Which destinations a server-side request to a URL an API user can set may reach: public
/// addresses only, unless the operator allowed a host or a range (`PARLEY_OUTBOUND_ALLOW`).
/// Pure: resolving names and connecting is `OutboundGuard`'s work.
public struct OutboundPolicy: Sendable, Hashable {
    /// Host names allowed whatever they resolve to (lowercased, without a trailing dot).
    public private(set) var hosts: Set<String>
    /// Address ranges allowed (a plain IP is a range of one).
    public private(set) var networks: [IPNetwork]

    /// Nothing allowed beyond public addresses.
    public static let strict = OutboundPolicy(hosts: [], networks: [])

    init(hosts: Set<String>, networks: [IPNetwork]) {
        self.hosts = hosts
        self.networks = networks
    }

    /// A bad entry of an allow list.
    public struct EntryError: Error, Sendable, Equatable, CustomStringConvertible {
        public var entry: String
        public var description: String { "'\(self.entry)' is not a host name, an IP address or a CIDR range" }
    }

    /// Allows each entry: a host name (`ollama.internal`), an IP (`127.0.0.1`, `[::1]`) or a CIDR
    /// range (`10.0.0.0/8`, `fd00::/8`). Throws naming the first bad entry.
    public init(allowing entries: [String]) throws {
        var hosts: Set<String> = []
        var networks: [IPNetwork] = []
        for raw in entries {
            let entry = raw.trimmingCharacters(in: .whitespaces)
            if let network = IPNetwork(entry) {
                networks.append(network)
            } else if !entry.contains("/"), !IPAddress.looksNumeric(entry), let host = Self.normalizedHost(entry),
                Self.isHostName(host)
            {
                hosts.insert(host)
            } else {
                throw EntryError(entry: raw)
            }
        }
        self.hosts = hosts
        self.networks = networks
    }

    /// This policy with `host` allowed too (the operator's own `AI_API_URL`, for instance).
    public func allowing(host: String) -> OutboundPolicy {
        var copy = self
        if let address = IPAddress(host) {
            let prefix = if case .v4 = address { 32 } else { 128 }
            copy.networks.append(IPNetwork(address, prefix: prefix))
        } else if let normalized = Self.normalizedHost(host) {
            copy.hosts.insert(normalized)
        }
        return copy
    }

    /// Whether `host`, reached at `address`, may be contacted.
    public func permits(host: String, address: IPAddress) -> Bool {
        self.refusal(host: host, address: address) == nil
    }

    /// Why `host` at `address` may not be contacted (for errors admins read), or nil.
    public func refusal(host: String, address: IPAddress) -> String? {
        let name = Self.normalizedHost(host) ?? host.lowercased()
        if self.hosts.contains(name) || self.allows(address) { return nil }
        if let reason = Self.forbiddenName(name) { return "\(name) is \(reason)" }
        if let reason = Self.forbidden(address) { return "\(address) is \(reason)" }
        return nil
    }

    func allows(_ address: IPAddress) -> Bool {
        if self.networks.contains(where: { $0.contains(address) }) { return true }
        if case .v6 = address, let v4 = address.embeddedV4 {
            return self.networks.contains { $0.contains(.v4(v4)) }
        }
        return false
    }

    // MARK: - The rules

    /// Why a host name is never contacted, or nil.
    public static func forbiddenName(_ host: String) -> String? {
        let name = Self.normalizedHost(host) ?? host.lowercased()
        if name == "localhost" || name.hasSuffix(".localhost") { return "a loopback name" }
        if name == "metadata.google.internal" || name == "metadata" { return "a cloud metadata service" }
        return nil
    }

    /// Why an address is never contacted (loopback, private, link-local, ...), or nil when it
    /// is public.
    public static func forbidden(_ address: IPAddress) -> String? {
        switch address {
        case .v4(let value):
            return Self.forbiddenV4(value)
        case .v6(let value):
            return Self.forbiddenV6(value)
        }
    }

    static let v4Ranges: [(IPNetwork, String)] = [
        ("0.0.0.0/8", "an unspecified (this-network) address"),
        ("10.0.0.0/8", "a private address"),
        ("100.64.0.0/10", "a carrier-grade NAT address"),
        ("127.0.0.0/8", "a loopback address"),
        ("169.254.0.0/16", "a link-local address"),
        ("172.16.0.0/12", "a private address"),
        ("192.0.0.0/24", "a reserved address"),
        ("192.0.2.0/24", "a documentation address"),
        ("192.88.99.0/24", "a reserved address"),
        ("192.168.0.0/16", "a private address"),
        ("198.18.0.0/15", "a benchmarking address"),
        ("198.51.100.0/24", "a documentation address"),
        ("203.0.113.0/24", "a documentation address"),
        ("224.0.0.0/4", "a multicast address"),
        ("240.0.0.0/4", "a reserved address"),
    ].map { (IPNetwork($0.0)!, $0.1) }

    static func forbiddenV4(_ value: UInt32) -> String? {
        if value == 0xFFFF_FFFF { return "the broadcast address" }
        if value == 0xA9FE_A9FE { return "a cloud metadata address" }
        return Self.v4Ranges.first { $0.0.contains(.v4(value)) }?.1
    }

    static func forbiddenV6(_ value: UInt128) -> String? {
        let address = IPAddress.v6(value)
        if value == 0 { return "the unspecified address" }
        if value == 1 { return "a loopback address" }
        // Addresses that carry an IPv4 address are judged by it.
        if let v4 = address.embeddedV4 { return Self.forbiddenV4(v4).map { "\($0) (IPv4 inside IPv6)" } }
        if IPNetwork(.v6(0x0064_ff9b << 96), prefix: 96).contains(address) {
            return Self.forbiddenV4(UInt32(truncatingIfNeeded: value)).map { "\($0) (through NAT64)" }
        }
        if IPNetwork(.v6(0x2002 << 112), prefix: 16).contains(address) {
            return Self.forbiddenV4(UInt32(truncatingIfNeeded: value >> 80)).map { "\($0) (through 6to4)" }
        }
        if IPNetwork(.v6(0x2001_0000 << 96), prefix: 32).contains(address) {
            // Teredo: the client's IPv4 address is the last 32 bits, inverted.
            return Self.forbiddenV4(~UInt32(truncatingIfNeeded: value)).map { "\($0) (through Teredo)" }
        }
        return Self.v6Ranges.first { $0.0.contains(address) }?.1
    }

    static let v6Ranges: [(IPNetwork, String)] = [
        ("64:ff9b:1::/48", "a local NAT64 address"),
        ("100::/64", "a discard-only address"),
        ("2001:db8::/32", "a documentation address"),
        ("fc00::/7", "a unique-local address"),
        ("fe80::/10", "a link-local address"),
        ("fec0::/10", "a site-local address"),
        ("ff00::/8", "a multicast address"),
    ].map { (IPNetwork($0.0)!, $0.1) }

    // MARK: - Host names

    /// Lowercased, without one trailing dot; nil when empty.
    static func normalizedHost(_ host: String) -> String? {
        var name = host.lowercased()
        if name.hasPrefix("["), name.hasSuffix("]") { name = String(name.dropFirst().dropLast()) }
        if name.hasSuffix(".") { name.removeLast() }
        return name.isEmpty ? nil : name
    }

    /// Letters, digits, `-` and `_` in dot-separated labels of at most 63, 253 in all.
    static func isHostName(_ host: String) -> Bool {
        guard host.count <= 253 else { return false }
        return host.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { label in
            (1...63).contains(label.count)
                && label.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }
        }
    }
}
