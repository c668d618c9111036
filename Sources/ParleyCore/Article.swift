public import Foundation

/// A knowledge-base article: what the assistant answers from and agents search.
public struct Article: Sendable, Hashable, Codable {
    public typealias ID = TypedID<Article>

    public var id: ID
    public var organizationID: Organization.ID
    public var title: String
    /// Markdown, shown as text (never as HTML) to visitors.
    public var body: String
    /// Where the article lives on the customer's site, for citations.
    public var url: String?
    public var tags: [String]
    public var published: Bool
    public var createdAt: Date
    public var updatedAt: Date

    public init(
        id: ID, organizationID: Organization.ID, title: String, body: String, url: String?, tags: [String],
        published: Bool,
        createdAt: Date, updatedAt: Date
    ) {
        self.id = id
        self.organizationID = organizationID
        self.title = title
        self.body = body
        self.url = url
        self.tags = tags
        self.published = published
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

extension Validate {
    /// The longest article body accepted, in characters.
    public static let maximumArticleLength = 100_000

    /// Up to 20 tags, each 1 to 40 characters, lowercased, duplicates removed.
    public static func tags(_ values: [String], field: String = "tags") throws(ValidationError) -> [String] {
        guard values.count <= 20 else {
            throw ValidationError(field: field, message: "\(field) may list at most 20 tags.")
        }
        var result: [String] = []
        for (index, value) in values.enumerated() {
            let tag = try Validate.text(value, field: "\(field)[\(index)]", max: 40).lowercased()
            if !result.contains(tag) { result.append(tag) }
        }
        return result
    }

    /// An http(s) URL, or nil for an empty one.
    public static func url(_ value: String?, field: String) throws(ValidationError) -> String? {
        guard let value = value?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
        guard value.count <= 2000, let components = URLComponents(string: value),
            let scheme = components.scheme?.lowercased(),
            scheme == "http" || scheme == "https", components.host?.isEmpty == false
        else { throw ValidationError(field: field, message: "\(field) must be an http(s) URL.") }
        return value
    }
}

/// How a visitor's or agent's words become a full-text query: words only, so no query syntax of
/// the engines (quotes, operators, NEAR, column filters) can be injected. Pure.
public enum SearchTerms {
    /// Lowercased words of two or more letters or digits, at most 16, in order, without repeats.
    public static func words(_ text: String) -> [String] {
        var words: [String] = []
        var current = ""
        func flush() {
            if current.count >= 2, !words.contains(current) { words.append(current) }
            current = ""
        }
        for character in text.lowercased() {
            if character.isLetter || character.isNumber { current.append(character) } else { flush() }
            if words.count >= 16 { break }
        }
        flush()
        return Array(words.prefix(16))
    }
}
