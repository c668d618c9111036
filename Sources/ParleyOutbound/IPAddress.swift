/// An IPv4 or IPv6 address, parsed from every spelling a URL host or a resolver accepts, so a
/// destination is judged by the address it reaches and not by how it was written.
public enum IPAddress: Sendable, Hashable, CustomStringConvertible {
    /// An IPv4 address, most significant byte first.
    case v4(UInt32)
    /// An IPv6 address, most significant byte first.
    case v6(UInt128)

    /// Parses a URL host or a resolver's answer: dotted decimal, the WHATWG/`inet_aton` forms
    /// (`2130706433`, `0x7f000001`, `0x7f.0.0.1`, `0177.0.0.1`, `127.1`, `127.0.1`), and IPv6 with
    /// or without brackets (`[::1]`, `::ffff:127.0.0.1`). A zone id (`fe80::1%eth0`) is refused.
    public init?(_ text: String) {
        if text.hasPrefix("[") {
            guard text.hasSuffix("]"), text.count > 2, let value = Self.parseV6(text.dropFirst().dropLast()) else {
                return nil
            }
            self = .v6(value)
        } else if text.contains(":") {
            guard let value = Self.parseV6(Substring(text)) else { return nil }
            self = .v6(value)
        } else if let value = Self.parseV4(text) {
            self = .v4(value)
        } else {
            return nil
        }
    }

    /// Whether `host` reads as a number to a URL parser or a resolver (its last label is
    /// numeric): such a host is an IPv4 address or invalid, never a name to look up.
    public static func looksNumeric(_ host: String) -> Bool {
        var labels = host.split(separator: ".", omittingEmptySubsequences: false)
        if labels.count > 1, labels.last?.isEmpty == true { labels.removeLast() }
        guard let last = labels.last, !last.isEmpty else { return false }
        if last.allSatisfy(\.isASCIIDigit) { return true }
        let lower = last.lowercased()
        return lower.hasPrefix("0x") && lower.dropFirst(2).allSatisfy(\.isHexDigit)
    }

    public var description: String {
        switch self {
        case .v4(let value):
            return (0..<4).map { String((value >> (24 - 8 * UInt32($0))) & 0xFF) }.joined(separator: ".")
        case .v6(let value):
            let groups = (0..<8).map { UInt16(truncatingIfNeeded: value >> (112 - 16 * UInt128($0))) }
            // The longest run of two or more zero groups becomes `::` (RFC 5952).
            var best: Range<Int>? = nil
            var index = 0
            while index < 8 {
                guard groups[index] == 0 else {
                    index += 1
                    continue
                }
                var end = index
                while end < 8 && groups[end] == 0 { end += 1 }
                if end - index >= 2 && end - index > (best?.count ?? 0) { best = index..<end }
                index = end
            }
            func hex(_ slice: ArraySlice<UInt16>) -> String {
                slice.map { String($0, radix: 16) }.joined(separator: ":")
            }
            guard let best else { return hex(groups[...]) }
            return hex(groups[..<best.lowerBound]) + "::" + hex(groups[best.upperBound...])
        }
    }

    /// The IPv4 address an IPv4-mapped (`::ffff:a.b.c.d`) or IPv4-compatible (`::a.b.c.d`)
    /// IPv6 address carries; the address itself when it is IPv4.
    public var embeddedV4: UInt32? {
        switch self {
        case .v4(let value):
            return value
        case .v6(let value):
            let high = value >> 32
            guard high == 0xFFFF || (high == 0 && value > 1) else { return nil }
            return UInt32(truncatingIfNeeded: value)
        }
    }

    // MARK: - Parsing

    /// IPv4 as the WHATWG URL standard and `inet_aton` read it: one to four parts, each decimal,
    /// octal (leading 0) or hex (0x); the last part fills the remaining bytes.
    static func parseV4(_ text: String) -> UInt32? {
        var parts = text.split(separator: ".", omittingEmptySubsequences: false)
        if parts.count > 1, parts.last?.isEmpty == true { parts.removeLast() }
        guard (1...4).contains(parts.count) else { return nil }
        var numbers: [UInt64] = []
        for part in parts {
            guard let number = Self.parseV4Part(part) else { return nil }
            numbers.append(number)
        }
        for number in numbers.dropLast() where number > 255 { return nil }
        let last = numbers.removeLast()
        guard last < (UInt64(1) << (8 * UInt64(5 - parts.count))) else { return nil }
        var value = last
        for (index, number) in numbers.enumerated() { value += number << (8 * UInt64(3 - index)) }
        return UInt32(value)
    }

    static func parseV4Part(_ part: Substring) -> UInt64? {
        guard !part.isEmpty, part.count <= 40 else { return nil }
        var digits = part
        var radix = 10
        if digits.count >= 2, digits.hasPrefix("0x") || digits.hasPrefix("0X") {
            digits = digits.dropFirst(2)
            radix = 16
            if digits.isEmpty { return 0 }
        } else if digits.count >= 2, digits.hasPrefix("0") {
            digits = digits.dropFirst()
            radix = 8
        }
        let trimmed = digits.drop { $0 == "0" }
        guard trimmed.count <= 16 else { return nil }
        if trimmed.isEmpty { return digits.allSatisfy({ $0 == "0" }) ? 0 : nil }
        return UInt64(trimmed, radix: radix)
    }

    /// IPv6 text (no brackets): eight groups, `::` once, an IPv4 tail; no zone id.
    static func parseV6(_ text: Substring) -> UInt128? {
        guard !text.isEmpty, text.count <= 45, !text.contains("%") else { return nil }
        var head: [UInt16] = []
        var tail: [UInt16] = []
        var compressed = false
        let halves = text.components(separatedBy: "::")
        guard halves.count <= 2 else { return nil }
        func groups(_ text: String, allowV4: Bool) -> [UInt16]? {
            guard !text.isEmpty else { return [] }
            var result: [UInt16] = []
            let pieces = text.split(separator: ":", omittingEmptySubsequences: false)
            for (index, piece) in pieces.enumerated() {
                if allowV4, index == pieces.count - 1, piece.contains(".") {
                    // Only dotted decimal here, as inet_pton wants.
                    let octets = piece.split(separator: ".", omittingEmptySubsequences: false)
                    guard octets.count == 4 else { return nil }
                    var bytes: [UInt16] = []
                    for octet in octets {
                        guard (1...3).contains(octet.count), octet.allSatisfy(\.isASCIIDigit),
                            let number = UInt16(octet), number <= 255, octet == "0" || !octet.hasPrefix("0")
                        else { return nil }
                        bytes.append(number)
                    }
                    result.append(bytes[0] << 8 | bytes[1])
                    result.append(bytes[2] << 8 | bytes[3])
                } else {
                    guard (1...4).contains(piece.count), piece.allSatisfy(\.isHexDigit),
                        let number = UInt16(piece, radix: 16)
                    else { return nil }
                    result.append(number)
                }
            }
            return result
        }
        if halves.count == 2 {
            compressed = true
            guard let first = groups(halves[0], allowV4: false), let second = groups(halves[1], allowV4: true) else {
                return nil
            }
            head = first
            tail = second
            guard head.count + tail.count <= 7 else { return nil }
        } else {
            guard let all = groups(halves[0], allowV4: true), all.count == 8 else { return nil }
            head = all
        }
        let all = compressed ? head + Array(repeating: 0, count: 8 - head.count - tail.count) + tail : head
        return all.reduce(UInt128(0)) { $0 << 16 | UInt128($1) }
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { self.isASCII && self.isNumber }
}
