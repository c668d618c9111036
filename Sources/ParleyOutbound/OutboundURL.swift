import Foundation

/// The parts of a URL an outbound request depends on, read strictly: `http` or `https`, no
/// user info, a host that a URL parser and a resolver read the same way. Pure.
public struct OutboundURL: Sendable, Hashable {
    /// `http` or `https`.
    public var scheme: String
    /// The host as the HTTP client reads it (no brackets), to pin the connection by.
    public var host: String
    /// The port (the scheme's default when the URL has none).
    public var port: Int
    /// The host when it is an address literal, in any spelling (`0x7f.1`, `[::1]`).
    public var address: IPAddress?

    /// Why a URL can't be fetched, in a sentence an admin understands.
    public struct Refusal: Error, Sendable, Equatable, CustomStringConvertible {
        public var reason: String
        public var description: String { self.reason }
    }

    public init(_ text: String) throws(Refusal) {
        guard text.count <= 2048,
            !text.unicodeScalars.contains(where: { $0.value <= 0x20 || $0.value == 0x7F || $0 == "\\" })
        else { throw Refusal(reason: "the URL contains spaces, control characters or backslashes") }
        guard let colon = text.firstIndex(of: ":") else { throw Refusal(reason: "the URL has no scheme") }
        let scheme = text[..<colon].lowercased()
        guard scheme == "http" || scheme == "https" else {
            throw Refusal(reason: "only http and https URLs are allowed")
        }
        let rest = text[text.index(after: colon)...]
        guard rest.hasPrefix("//") else { throw Refusal(reason: "the URL has no host") }
        let authority = rest.dropFirst(2).prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        guard !authority.contains("@") else {
            throw Refusal(reason: "user names and passwords in URLs are not allowed")
        }
        guard !authority.contains("%") else { throw Refusal(reason: "percent-encoded hosts are not allowed") }
        var host: Substring
        var portText: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { throw Refusal(reason: "the host is not valid") }
            host = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw Refusal(reason: "the host is not valid") }
                portText = after.dropFirst()
            }
            guard let address = IPAddress("[\(host)]"), case .v6 = address else {
                throw Refusal(reason: "the host is not a valid IPv6 address (zone ids are not allowed)")
            }
        } else {
            let parts = authority.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            host = parts[0]
            if parts.count == 2 { portText = parts[1] }
        }
        guard !host.isEmpty else { throw Refusal(reason: "the URL has no host") }
        var port = scheme == "https" ? 443 : 80
        if let portText, !portText.isEmpty {
            guard portText.count <= 5, portText.allSatisfy({ $0.isASCII && $0.isNumber }), let number = Int(portText),
                (1...65535).contains(number)
            else { throw Refusal(reason: "the port is not valid") }
            port = number
        }
        let name = String(host).lowercased()
        let address = IPAddress(authority.hasPrefix("[") ? "[\(name)]" : name)
        if address == nil {
            if IPAddress.looksNumeric(name) { throw Refusal(reason: "the host is not a valid IPv4 address") }
            let bare = name.hasSuffix(".") ? String(name.dropLast()) : name
            guard OutboundPolicy.isHostName(bare) else { throw Refusal(reason: "the host is not a valid host name") }
        }
        // The HTTP client reads the URL with Foundation: it must see the same host, or the
        // check would be about another destination than the one connected to.
        guard let parsed = URL(string: text),
            let seen = parsed.host?.trimmingCharacters(in: CharacterSet(charactersIn: "[]")), seen.lowercased() == name,
            parsed.scheme?.lowercased() == scheme, parsed.user == nil, parsed.password == nil
        else { throw Refusal(reason: "the URL is not valid") }
        self.scheme = scheme
        self.host = seen
        self.port = port
        self.address = address
    }
}
