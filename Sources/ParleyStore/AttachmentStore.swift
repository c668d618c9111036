public import Foundation
public import ParleyCore
import SQLKit

/// Where attachments' bytes live. The disk is the one store today; the protocol leaves room for
/// S3-style object stores.
public protocol AttachmentStorage: Sendable {
    func put(_ data: Data, key: String) async throws
    func get(_ key: String) async throws -> Data
    func delete(_ key: String) async throws
}

/// Files in a folder of the data directory, under server-made names only.
public struct DiskAttachmentStorage: AttachmentStorage {
    let folder: URL

    public init(folder: URL) throws {
        self.folder = folder
        try FileManager.default.createDirectory(
            at: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
    }

    func url(_ key: String) throws -> URL {
        // Keys are made by the store (id + extension); anything else is refused outright.
        guard !key.isEmpty, key.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "." || $0 == "_" || $0 == "-" }),
            !key.hasPrefix(".")
        else { throw DomainError.notFound(entity: "attachment") }
        return self.folder.appendingPathComponent(key)
    }

    public func put(_ data: Data, key: String) async throws {
        // Written whole under a temporary name, then renamed: a reader never sees half a file.
        let target = try self.url(key)
        let temporary = self.folder.appendingPathComponent(".\(key).partial")
        try data.write(to: temporary)
        guard rename(temporary.path, target.path) == 0 else {
            try? FileManager.default.removeItem(at: temporary)
            throw CocoaError(.fileWriteUnknown)
        }
    }

    public func get(_ key: String) async throws -> Data {
        do {
            return try Data(contentsOf: try self.url(key))
        } catch {
            throw DomainError.notFound(entity: "attachment")
        }
    }

    public func delete(_ key: String) async throws {
        try? FileManager.default.removeItem(at: try self.url(key))
    }
}

/// Attachments' records (the bytes are in an `AttachmentStorage`), scoped by organization.
public struct AttachmentStore: Sendable {
    let engine: any DatabaseEngine
    let now: @Sendable () -> Date

    /// Stores `data` (already checked by `AttachmentPolicy`) and records it.
    public func create(
        _ data: Data, name: String?, contentType: String, session: ChatSession.ID?, ticket: Ticket.ID? = nil,
        byCustomer: Bool = false, in organizationID: Organization.ID, storage: any AttachmentStorage
    ) async throws -> Attachment {
        let id = Attachment.ID()
        let attachment = Attachment(
            id: id, organizationID: organizationID, sessionID: session,
            name: AttachmentPolicy.cleanName(name, type: contentType), contentType: contentType, size: data.count,
            storageKey: "\(id).\(AttachmentPolicy.fileExtension(for: contentType))", createdAt: self.now(),
            ticketID: ticket)
        try await storage.put(data, key: attachment.storageKey)
        do {
            try await self.engine.transaction { db in
                try await db.raw(
                    """
                    INSERT INTO attachments (id, organization_id, session_id, ticket_id, name, content_type, size, storage_key,
                        created_at, uploaded_by_customer)
                    VALUES (\(bind: id.description), \(bind: organizationID.description),
                        \(bind: session?.description), \(bind: ticket?.description), \(bind: attachment.name),
                        \(bind: contentType), \(bind: attachment.size), \(bind: attachment.storageKey),
                        \(bind: attachment.createdAt.millis), \(bind: byCustomer))
                    """
                ).run()
            }
        } catch {
            try? await storage.delete(attachment.storageKey)
            throw error
        }
        return attachment
    }

    public func find(_ id: Attachment.ID, in organizationID: Organization.ID) async throws -> Attachment {
        let row = try await self.engine.read { db in
            try await db.raw(
                "SELECT * FROM attachments WHERE id = \(bind: id.description) AND organization_id = \(bind: organizationID.description)"
            ).first()
        }
        guard let row else { throw DomainError.notFound(entity: "attachment") }
        guard let id = Attachment.ID(try row.string("id")),
            let organization = Organization.ID(try row.string("organization_id"))
        else { throw CorruptRowError(description: "attachments row") }
        return Attachment(
            id: id, organizationID: organization,
            sessionID: try row.optionalString("session_id").flatMap(ChatSession.ID.init), name: try row.string("name"),
            contentType: try row.string("content_type"), size: Int(try row.int64("size")),
            storageKey: try row.string("storage_key"), createdAt: try row.date("created_at"),
            ticketID: try row.optionalString("ticket_id").flatMap(Ticket.ID.init))
    }

    /// Files no message carries, uploaded before `cutoff`: a resend's second copy, an upload whose
    /// message failed, a ticket file never sent. Removed from the storage, then from the table.
    @discardableResult
    public func deleteUnreferenced(before cutoff: Date, storage: any AttachmentStorage, limit: Int = 500)
        async throws -> Int
    {
        let rows = try await self.engine.read { db in
            try await db.raw(
                """
                SELECT a.id, a.storage_key FROM attachments a
                WHERE a.created_at < \(bind: cutoff.millis)
                    AND NOT EXISTS (SELECT 1 FROM chat_messages m WHERE m.session_id = a.session_id
                        AND m.metadata LIKE '%' || a.id || '%')
                    AND NOT EXISTS (SELECT 1 FROM ticket_messages t WHERE t.ticket_id = a.ticket_id
                        AND t.attachments LIKE '%' || a.id || '%')
                LIMIT \(bind: limit)
                """
            ).all()
        }
        for row in rows {
            let id = try row.string("id")
            try await storage.delete(try row.string("storage_key"))
            try await self.engine.transaction { db in
                try await db.raw("DELETE FROM attachments WHERE id = \(bind: id)").run()
            }
        }
        return rows.count
    }

    /// The references of `ids`, which must all be files uploaded to `ticket` (422 otherwise); a
    /// customer sends only files they uploaded themselves.
    static func references(_ ids: [Attachment.ID], ticket: Ticket.ID, customer: Bool, db: any SQLDatabase)
        async throws -> [Attachment.Reference]
    {
        guard !ids.isEmpty else { return [] }
        guard ids.count <= 10 else {
            throw ValidationError(field: "attachments", message: "At most 10 files a message.")
        }
        var references: [Attachment.Reference] = []
        for id in ids {
            let row = try await db.raw(
                "SELECT * FROM attachments WHERE id = \(bind: id.description) AND ticket_id = \(bind: ticket.description)"
            ).first()
            let theirs = try row.map { try $0.bool("uploaded_by_customer") } ?? false
            guard let row, !customer || theirs else {
                throw ValidationError(field: "attachments", message: "\(id) is not a file uploaded to this ticket.")
            }
            references.append(
                Attachment.Reference(
                    id: id.description, name: try row.string("name"), contentType: try row.string("content_type"),
                    size: Int(try row.int64("size"))))
        }
        return references
    }

    /// Whether a public message of `ticket` carries the file (what its requester may download).
    public func isPublic(_ id: Attachment.ID, in ticket: Ticket.ID) async throws -> Bool {
        let rows = try await self.engine.read { db in
            try await db.raw(
                """
                SELECT attachments FROM ticket_messages WHERE ticket_id = \(bind: ticket.description)
                    AND internal = \(bind: false) AND attachments IS NOT NULL
                """
            ).all()
        }
        for row in rows {
            let references =
                (try? JSONDecoder().decode([Attachment.Reference].self, from: Data(try row.string("attachments").utf8)))
                ?? []
            if references.contains(where: { $0.id == id.description }) { return true }
        }
        return false
    }
}
