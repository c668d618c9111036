public import Foundation

/// A typed identifier over a UUID, so that the ID of one kind of entity can never be passed where
/// another kind's is wanted (`Site.ID` is not `Agent.ID`).
public struct TypedID<Entity>: RawRepresentable, Hashable, Sendable, Codable, LosslessStringConvertible {
    public let rawValue: UUID

    public init(rawValue: UUID) { self.rawValue = rawValue }

    /// A new random identifier.
    public init() { self.rawValue = UUID() }

    /// Parses the canonical text form; nil for anything that is not a UUID.
    public init?(_ description: String) {
        guard let uuid = UUID(uuidString: description) else { return nil }
        self.rawValue = uuid
    }

    /// The lowercased canonical text form, as stored and sent on the wire.
    public var description: String { self.rawValue.uuidString.lowercased() }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let id = Self(text) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "Expected a UUID, got '\(text)'.")
        }
        self = id
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(self.description)
    }
}
