public import Foundation

/// What an inbound email says, reduced to what a ticket needs.
public enum InboundEmail {
    /// The new part of a reply: everything above the quoted earlier message.
    public static func newText(of body: String) -> String {
        var kept: [Substring] = []
        for line in body.replacingOccurrences(of: "\r\n", with: "\n").split(
            separator: "\n", omittingEmptySubsequences: false)
        {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.hasPrefix(">") { break }
            if trimmed.hasPrefix("-----Original Message-----") || trimmed.hasPrefix("________________________________")
            {
                break
            }
            if trimmed.hasPrefix("On "), trimmed.hasSuffix("wrote:") { break }
            if trimmed.hasPrefix("Le "), trimmed.hasSuffix("a écrit :") { break }
            kept.append(line)
        }
        return kept.joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The ticket reference Parley puts in its subjects (`[#1a2b3c4d]`), if any.
    public static func ticketReference(in subject: String) -> String? { Self.reference(after: "[#", in: subject) }

    /// The conversation reference Parley puts in its chat emails' subjects (`[#c-1a2b3c4d]`), if any.
    public static func conversationReference(in subject: String) -> String? {
        Self.reference(after: "[#c-", in: subject)
    }

    /// The 8 hex digits between `opening` and `]` in a subject, if that is what is there.
    static func reference(after opening: String, in subject: String) -> String? {
        guard let open = subject.range(of: opening) else { return nil }
        let rest = subject[open.upperBound...]
        guard let close = rest.firstIndex(of: "]") else { return nil }
        let reference = rest[..<close].lowercased()
        guard reference.count == 8, reference.allSatisfy(\.isHexDigit) else { return nil }
        return String(reference)
    }

    /// The tag of a conversation's emails' subjects (`c-1a2b3c4d`, inside `[#…]`).
    public static func conversationReference(for sessionID: String) -> String {
        "c-" + Self.reference(for: sessionID)
    }

    /// The reference for a ticket id: the first 8 hex digits of its UUID.
    public static func reference(for ticketID: String) -> String { String(ticketID.lowercased().prefix(8)) }
}

extension InboundEmail {
    /// A subject for a new ticket: without `Re:`/`Fwd:` prefixes and Parley's reference, or
    /// "(no subject)".
    public static func cleanSubject(_ subject: String) -> String {
        var text = subject
        if let open = text.range(of: "[#"), let close = text[open.upperBound...].firstIndex(of: "]") {
            text.removeSubrange(open.lowerBound...close)
        }
        while true {
            let trimmed = text.trimmingCharacters(in: .whitespaces)
            let lower = trimmed.lowercased()
            guard let prefix = ["re:", "fwd:", "fw:", "aw:", "tr:"].first(where: { lower.hasPrefix($0) }) else {
                text = trimmed
                break
            }
            text = String(trimmed.dropFirst(prefix.count))
        }
        let cleaned = String(text.unicodeScalars.filter { $0.value >= 0x20 }.map(Character.init)).prefix(200)
        return cleaned.isEmpty ? "(no subject)" : String(cleaned)
    }
}
