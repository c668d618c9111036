public import Foundation
public import ParleyCore
import SQLKit

/// The assistant's drafted replies to tickets, and what agents did with them (the history).
public struct TicketDraftStore: Sendable {
    let engine: any DatabaseEngine
    let now: @Sendable () -> Date

    /// Inside `TicketWriter.addDraft`'s transaction: the new draft supersedes the pending one.
    static func insert(_ draft: TicketDraft, db: any SQLDatabase) async throws {
        let citations = String(decoding: try JSONEncoder().encode(draft.citations), as: UTF8.self)
        try await db.raw(
            """
            UPDATE ticket_drafts SET status = \(bind: TicketDraft.Status.superseded.rawValue),
                decided_at = \(bind: draft.createdAt.millis)
            WHERE ticket_id = \(bind: draft.ticketID.description) AND status = \(bind: TicketDraft.Status.pending.rawValue)
            """
        ).run()
        try await db.raw(
            """
            INSERT INTO ticket_drafts (id, organization_id, ticket_id, based_on_seq, body, citations, confidence, kind,
                provider, model, status, sent_body, decided_by, created_at, decided_at)
            VALUES (\(bind: draft.id.description), \(bind: draft.organizationID.description),
                \(bind: draft.ticketID.description), \(bind: draft.basedOnSeq), \(bind: draft.body), \(bind: citations),
                \(bind: draft.confidence), \(bind: draft.kind), \(bind: draft.provider), \(bind: draft.model),
                \(bind: draft.status.rawValue), \(bind: draft.sentBody), \(bind: draft.decidedBy?.description),
                \(bind: draft.createdAt.millis), \(bind: draft.decidedAt?.millis))
            """
        ).run()
    }

    /// A ticket's drafts, newest first.
    public func list(for ticket: Ticket.ID, in organizationID: Organization.ID) async throws -> [TicketDraft] {
        let rows = try await self.engine.read { db in
            try await db.raw(
                """
                SELECT * FROM ticket_drafts WHERE ticket_id = \(bind: ticket.description)
                    AND organization_id = \(bind: organizationID.description) ORDER BY created_at DESC, id DESC LIMIT 50
                """
            ).all()
        }
        return try rows.map(Self.decode)
    }

    public func find(_ id: TicketDraft.ID, in organizationID: Organization.ID) async throws -> TicketDraft {
        let row = try await self.engine.read { db in
            try await db.raw(
                "SELECT * FROM ticket_drafts WHERE id = \(bind: id.description) AND organization_id = \(bind: organizationID.description)"
            ).first()
        }
        guard let row else { throw DomainError.notFound(entity: "draft") }
        return try Self.decode(row)
    }

    /// Records an agent's (or the assistant's) decision on a pending draft; 409 if it was decided.
    public func decide(
        _ id: TicketDraft.ID, as status: TicketDraft.Status, sentBody: String?, by agent: Agent.ID?,
        in organizationID: Organization.ID
    ) async throws -> TicketDraft {
        let now = self.now()
        return try await self.engine.transaction { db in
            let row = try await db.raw(
                "SELECT * FROM ticket_drafts WHERE id = \(bind: id.description) AND organization_id = \(bind: organizationID.description)"
            ).first()
            guard let row else { throw DomainError.notFound(entity: "draft") }
            var draft = try Self.decode(row)
            guard draft.status == .pending else {
                throw DomainError.conflict(
                    "This draft was already \(draft.status.rawValue.replacingOccurrences(of: "_", with: " ")).")
            }
            draft.status = status
            draft.sentBody = sentBody
            draft.decidedBy = agent
            draft.decidedAt = now
            // Only a draft still pending changes (two agents accepting at once: one wins).
            let changed = try await db.raw(
                """
                UPDATE ticket_drafts SET status = \(bind: status.rawValue), sent_body = \(bind: sentBody),
                    decided_by = \(bind: agent?.description), decided_at = \(bind: now.millis)
                WHERE id = \(bind: id.description) AND status = \(bind: TicketDraft.Status.pending.rawValue)
                RETURNING id
                """
            ).all()
            guard !changed.isEmpty else { throw DomainError.conflict("This draft was just decided by someone else.") }
            return draft
        }
    }

    /// Puts a decided draft back to pending (its reply could not be sent).
    public func reopen(_ id: TicketDraft.ID, in organizationID: Organization.ID) async throws {
        try await self.engine.transaction { db in
            try await db.raw(
                """
                UPDATE ticket_drafts SET status = \(bind: TicketDraft.Status.pending.rawValue), sent_body = NULL,
                    decided_by = NULL, decided_at = NULL
                WHERE id = \(bind: id.description) AND organization_id = \(bind: organizationID.description)
                """
            ).run()
        }
    }

    static func decode(_ row: any SQLRow) throws -> TicketDraft {
        guard let id = TicketDraft.ID(try row.string("id")),
            let organization = Organization.ID(try row.string("organization_id")),
            let ticket = Ticket.ID(try row.string("ticket_id")),
            let status = TicketDraft.Status(rawValue: try row.string("status"))
        else { throw CorruptRowError(description: "ticket_drafts row") }
        let citations =
            (try? JSONDecoder().decode([TicketDraft.Citation].self, from: Data(try row.string("citations").utf8))) ?? []
        return TicketDraft(
            id: id, organizationID: organization, ticketID: ticket, basedOnSeq: try row.int64("based_on_seq"),
            body: try row.string("body"), citations: citations, confidence: try row.optionalDouble("confidence") ?? 0,
            kind: try row.string("kind"), provider: try row.optionalString("provider"),
            model: try row.optionalString("model"), status: status, sentBody: try row.optionalString("sent_body"),
            decidedBy: try row.optionalString("decided_by").flatMap(Agent.ID.init),
            createdAt: try row.date("created_at"),
            decidedAt: try row.optionalInt64("decided_at").map { Date(millis: $0) })
    }
}
