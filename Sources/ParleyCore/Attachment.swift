public import Foundation

/// A file sent in a conversation (or a ticket): an image or a PDF, stored under a server-made name.
public struct Attachment: Sendable, Hashable, Codable {
    public typealias ID = TypedID<Attachment>

    public var id: ID
    public var organizationID: Organization.ID
    public var sessionID: ChatSession.ID?
    /// The ticket it was sent to (nil for a conversation's file).
    public var ticketID: Ticket.ID?
    /// The name the uploader gave, cleaned (shown, never used as a path).
    public var name: String
    /// The type found in the file's first bytes, not the one the uploader claimed.
    public var contentType: String
    public var size: Int
    /// Where the storage keeps the bytes (server-made: the id and an extension).
    public var storageKey: String
    public var createdAt: Date

    public init(
        id: ID, organizationID: Organization.ID, sessionID: ChatSession.ID?, name: String, contentType: String,
        size: Int, storageKey: String, createdAt: Date, ticketID: Ticket.ID? = nil
    ) {
        self.id = id
        self.organizationID = organizationID
        self.sessionID = sessionID
        self.ticketID = ticketID
        self.name = name
        self.contentType = contentType
        self.size = size
        self.storageKey = storageKey
        self.createdAt = createdAt
    }

    /// What a message carries of its attachments (in its metadata under `attachments`, as JSON).
    public struct Reference: Sendable, Hashable, Codable {
        public var id: String
        public var name: String
        public var contentType: String
        public var size: Int

        public init(id: String, name: String, contentType: String, size: Int) {
            self.id = id
            self.name = name
            self.contentType = contentType
            self.size = size
        }

        public init(_ attachment: Attachment) {
            self.id = attachment.id.description
            self.name = attachment.name
            self.contentType = attachment.contentType
            self.size = attachment.size
        }
    }

    /// The metadata key under which a message lists its attachments.
    public static let metadataKey = "attachments"

    /// A message's attachments, read back from its metadata.
    public static func references(in metadata: [String: String]) -> [Reference] {
        guard let json = metadata[Self.metadataKey] else { return [] }
        return (try? JSONDecoder().decode([Reference].self, from: Data(json.utf8))) ?? []
    }

    /// The metadata that makes a message carry `attachments`.
    public static func metadata(for attachments: [Attachment]) -> [String: String] {
        let references = attachments.map(Reference.init)
        guard let data = try? JSONEncoder().encode(references) else { return [:] }
        return [Self.metadataKey: String(decoding: data, as: UTF8.self)]
    }
}

/// Which files Parley accepts, judged by their first bytes (magic numbers), never by their name
/// or the type the uploader claimed.
public struct AttachmentPolicy: Sendable, Hashable {
    /// 10 MB unless configured.
    public var maxBytes: Int
    /// Content types accepted, from those `sniff` recognizes.
    public var allowedTypes: Set<String>

    public static let imageTypes: Set<String> = ["image/png", "image/jpeg", "image/gif", "image/webp"]
    public static let standard = AttachmentPolicy(
        maxBytes: 10 * 1024 * 1024, allowedTypes: imageTypes.union(["application/pdf"]))

    public init(maxBytes: Int, allowedTypes: Set<String>) {
        self.maxBytes = maxBytes
        self.allowedTypes = allowedTypes
    }

    /// The content type the bytes really are, for the types Parley knows; nil for anything else.
    public static func sniff(_ bytes: some Collection<UInt8>) -> String? {
        let head = Array(bytes.prefix(16))
        func starts(_ prefix: [UInt8], at offset: Int = 0) -> Bool {
            head.count >= offset + prefix.count && Array(head[offset..<offset + prefix.count]) == prefix
        }
        if starts([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return "image/png" }
        if starts([0xFF, 0xD8, 0xFF]) { return "image/jpeg" }
        if starts(Array("GIF87a".utf8)) || starts(Array("GIF89a".utf8)) { return "image/gif" }
        if starts(Array("RIFF".utf8)) && starts(Array("WEBP".utf8), at: 8) { return "image/webp" }
        if starts(Array("%PDF-".utf8)) { return "application/pdf" }
        return nil
    }

    /// The accepted type of `bytes`, or why not.
    public func check(_ bytes: some Collection<UInt8>) throws(AttachmentError) -> String {
        guard bytes.count <= self.maxBytes else { throw .tooLarge(maxBytes: self.maxBytes) }
        guard !bytes.isEmpty else { throw .empty }
        guard let type = Self.sniff(bytes), self.allowedTypes.contains(type) else { throw .unsupportedType }
        return type
    }

    /// Whether browsers may show it inline; everything else is served as a download.
    public static func isSafeInline(_ type: String) -> Bool { Self.imageTypes.contains(type) }

    /// The extension the stored file gets.
    public static func fileExtension(for type: String) -> String {
        switch type {
        case "image/png": "png"
        case "image/jpeg": "jpg"
        case "image/gif": "gif"
        case "image/webp": "webp"
        case "application/pdf": "pdf"
        default: "bin"
        }
    }

    /// A name safe to show and to put in a header: no path, no control characters or quotes.
    public static func cleanName(_ name: String?, type: String) -> String {
        let base = (name ?? "").split(whereSeparator: { $0 == "/" || $0 == "\\" }).last.map(String.init) ?? ""
        let cleaned = String(
            base.unicodeScalars.filter { $0.value >= 0x20 && $0.value != 0x7F && $0 != "\"" && $0 != ";" }.map(
                Character.init)
        ).trimmingCharacters(in: .whitespaces)
        let short = String(cleaned.prefix(120))
        return short.isEmpty ? "file.\(Self.fileExtension(for: type))" : short
    }
}

/// Why a file was refused.
public enum AttachmentError: Error, Sendable, Hashable, CustomStringConvertible {
    case tooLarge(maxBytes: Int)
    case empty
    case unsupportedType

    public var description: String {
        switch self {
        case .tooLarge(let max): "The file is larger than \(max / 1_048_576) MB."
        case .empty: "The file is empty."
        case .unsupportedType: "Only images (PNG, JPEG, GIF, WebP) and PDF files can be sent."
        }
    }
}
