public import Foundation

/// One plain-text email, and its RFC 5322 form. Every header value is cleaned of line breaks
/// (a customer's subject cannot add headers), non-ASCII headers are encoded words, and the body
/// travels in base64, so no line of it can end the SMTP data early.
public struct Email: Sendable, Hashable {
    public struct Address: Sendable, Hashable {
        public var email: String
        public var name: String?

        public init(_ email: String, name: String? = nil) {
            self.email = email
            self.name = name
        }

        /// `"Name" <email>` with the name encoded when it is not plain ASCII.
        var header: String {
            let email = Email.clean(self.email).filter { $0 != "<" && $0 != ">" && $0 != "," }
            guard let name = self.name.map(Email.clean), !name.isEmpty else { return "<\(email)>" }
            return "\(Email.encodedWord(name, quoted: true)) <\(email)>"
        }
    }

    public var from: Address
    public var to: Address
    public var replyTo: Address?
    public var subject: String
    public var text: String
    /// `<id@host>`; made from a random id when not given.
    public var messageID: String
    /// The message this answers (`In-Reply-To` and `References`), for mail clients' threads.
    public var inReplyTo: String?
    /// Where the recipient unsubscribes with one click (`List-Unsubscribe`, RFC 8058).
    public var unsubscribeURL: String?

    public init(
        from: Address, to: Address, replyTo: Address? = nil, subject: String, text: String, messageID: String? = nil,
        inReplyTo: String? = nil
    ) {
        self.from = from
        self.to = to
        self.replyTo = replyTo
        self.subject = subject
        self.text = text
        let domain = from.email.split(separator: "@").last.map(String.init) ?? "parley.local"
        self.messageID = messageID ?? "<\(UUID().uuidString.lowercased())@\(domain)>"
        self.inReplyTo = inReplyTo
    }

    /// The whole message, CRLF line ends, ready for SMTP `DATA` (without the final dot).
    public func rendered(date: Date = Date()) -> String {
        var headers = [
            "From: \(self.from.header)",
            "To: \(self.to.header)",
            "Subject: \(Self.encodedWord(Self.clean(self.subject), quoted: false))",
            "Date: \(Self.rfc5322Date(date))",
            "Message-ID: \(Self.clean(self.messageID))",
            "MIME-Version: 1.0",
            "Content-Type: text/plain; charset=utf-8",
            "Content-Transfer-Encoding: base64",
        ]
        if let replyTo { headers.append("Reply-To: \(replyTo.header)") }
        if let inReplyTo {
            headers.append("In-Reply-To: \(Self.clean(inReplyTo))")
            headers.append("References: \(Self.clean(inReplyTo))")
        }
        if let unsubscribeURL {
            headers.append("List-Unsubscribe: <\(Self.clean(unsubscribeURL).filter { $0 != "<" && $0 != ">" })>")
            headers.append("List-Unsubscribe-Post: List-Unsubscribe=One-Click")
        }
        let normalized = self.text.replacingOccurrences(of: "\r\n", with: "\n")
            .replacingOccurrences(of: "\n", with: "\r\n")
        let base64 = Data(normalized.utf8).base64EncodedString()
        var lines: [Substring] = []
        var rest = Substring(base64)
        while !rest.isEmpty {
            lines.append(rest.prefix(76))
            rest = rest.dropFirst(76)
        }
        return headers.joined(separator: "\r\n") + "\r\n\r\n" + lines.joined(separator: "\r\n") + "\r\n"
    }

    /// A header value on one line: control characters become spaces.
    static func clean(_ value: String) -> String {
        String(value.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7F ? " " : Character($0) })
            .trimmingCharacters(in: .whitespaces)
    }

    /// Plain ASCII as is (quoted for display names when needed), anything else as `=?UTF-8?B?…?=`.
    static func encodedWord(_ value: String, quoted: Bool) -> String {
        if value.allSatisfy({ $0.isASCII }) {
            guard quoted else { return value }
            return "\""
                + value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
                + "\""
        }
        // RFC 2047: encoded words of at most 75 characters (39 bytes of text each, never splitting
        // a character), folded onto lines of their own.
        var words: [String] = []
        var chunk = Data()
        for character in value {
            let bytes = Data(String(character).utf8)
            if chunk.count + bytes.count > 39 {
                words.append("=?UTF-8?B?\(chunk.base64EncodedString())?=")
                chunk = Data()
            }
            chunk.append(bytes)
        }
        if !chunk.isEmpty { words.append("=?UTF-8?B?\(chunk.base64EncodedString())?=") }
        return words.joined(separator: "\r\n ")
    }

    static func rfc5322Date(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss '+0000'"
        return formatter.string(from: date)
    }
}
