import Foundation

/// A position in a list ordered by (a time, id), newest first. Opaque to clients.
public struct PageCursor: Sendable, Hashable {
    /// The sort key (milliseconds since 1970 of the creation or last activity) of the last item returned.
    public var sortKey: Int64
    /// The id of the last item returned, to break ties.
    public var id: String

    public init(sortKey: Int64, id: String) {
        self.sortKey = sortKey
        self.id = id
    }

    /// The opaque text form (base64url of `millis:id`).
    public var token: String {
        Data("\(self.sortKey):\(self.id)".utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// Parses a token made by `token`; throws a validation error naming `cursor` otherwise.
    public init(token: String) throws(ValidationError) {
        var base64 = token.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64.append("=") }
        guard token.count <= 200, let data = Data(base64Encoded: base64),
            let text = String(data: data, encoding: .utf8),
            let colon = text.firstIndex(of: ":"), let millis = Int64(text[..<colon]),
            !text[text.index(after: colon)...].isEmpty
        else { throw ValidationError(field: "cursor", message: "cursor is not a cursor this server returned.") }
        self.sortKey = millis
        self.id = String(text[text.index(after: colon)...])
    }
}

/// What a list request asks for: at most `limit` items after `cursor`.
public struct PageRequest: Sendable, Hashable {
    public static let defaultLimit = 50
    public static let maximumLimit = 200

    public var cursor: PageCursor?
    public var limit: Int

    public init(cursor: PageCursor? = nil, limit: Int = PageRequest.defaultLimit) {
        self.cursor = cursor
        self.limit = limit
    }

    /// Reads `cursor` and `limit` as a client sent them, checking both.
    public init(cursor: String?, limit: String?) throws(ValidationError) {
        var parsedLimit = Self.defaultLimit
        if let limit {
            guard let value = Int(limit), (1...Self.maximumLimit).contains(value) else {
                throw ValidationError(
                    field: "limit", message: "limit must be a whole number from 1 to \(Self.maximumLimit).")
            }
            parsedLimit = value
        }
        self.limit = parsedLimit
        self.cursor = try cursor.flatMap { value throws(ValidationError) in
            value.isEmpty ? nil : try PageCursor(token: value)
        }
    }
}

/// One page of a list and where the next one starts.
public struct Page<Item: Sendable>: Sendable {
    public var items: [Item]
    /// Nil on the last page.
    public var nextCursor: PageCursor?

    public init(items: [Item], nextCursor: PageCursor?) {
        self.items = items
        self.nextCursor = nextCursor
    }

    /// Builds a page from up to `limit + 1` rows: the extra row only says another page exists.
    public init(fetched: [Item], limit: Int, cursor: (Item) -> PageCursor) {
        if fetched.count > limit {
            self.items = Array(fetched.prefix(limit))
            self.nextCursor = self.items.last.map(cursor)
        } else {
            self.items = fetched
            self.nextCursor = nil
        }
    }

    public func map<T>(_ transform: (Item) throws -> T) rethrows -> Page<T> {
        Page<T>(items: try self.items.map(transform), nextCursor: self.nextCursor)
    }
}
