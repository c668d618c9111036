import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import ParleyCore
import ParleyRealtime
import ParleyStore

/// Files in conversations: a visitor or an agent uploads an image or a PDF, which becomes their
/// message carrying it; each side fetches the files of the conversations it may see.
///
/// The size limit is checked before the body is buffered (the declared length, then while
/// reading), the type by the file's first bytes, and files are served with `nosniff`, a sandboxing
/// CSP, and as downloads unless they are images.
struct AttachmentController: Sendable {
    let attachments: AttachmentStore
    let chats: ChatStore
    let tickets: TicketStore
    let writer: ChatWriter
    let storage: any AttachmentStorage
    let policy: AttachmentPolicy
    let messageLimiter: RateLimiter

    struct UploadResponse: ResponseEncodable {
        var message: MessageView
    }

    /// A file uploaded to a ticket, to send with a reply (`attachments: [id]`).
    struct TicketUpload: ResponseEncodable {
        var attachment: MessageView.AttachmentView
    }

    func addVisitorRoutes(to group: RouterGroup<VisitorContext>) {
        group.post("chat/sessions/:session/attachments", use: self.visitorUpload)
        group.get("chat/attachments/:attachment", use: self.visitorDownload)
        group.post("tickets/:ticket/attachments", use: self.customerTicketUpload)
    }

    func addAgentRoutes(to group: RouterGroup<AgentContext>) {
        group.post("chats/:chat/attachments", use: self.agentUpload)
        group.get("attachments/:attachment", use: self.agentDownload)
        group.post("tickets/:ticket/attachments", use: self.agentTicketUpload)
    }

    func agentTicketUpload(_ request: Request, context: AgentContext) async throws -> EditedResponse<TicketUpload> {
        try context.principal.require(.answerConversations)
        let id = try context.id("ticket", as: Ticket.ID.self, entity: "ticket")
        let ticket = try await self.tickets.ticket(id, in: context.organizationID)
        return try await self.ticketUpload(request, ticket: ticket, byCustomer: false)
    }

    /// The requester's upload to their own ticket (an identified visitor).
    func customerTicketUpload(_ request: Request, context: VisitorContext) async throws -> EditedResponse<TicketUpload>
    {
        try self.messageLimiter.take("ip:\(context.clientIP ?? "unknown")")
        let id = try context.id("ticket", as: Ticket.ID.self, entity: "ticket")
        let ticket = try await self.tickets.ticket(id, in: context.visitor.organization)
        guard ticket.visitorID == context.visitor.visitor else { throw DomainError.notFound(entity: "ticket") }
        return try await self.ticketUpload(request, ticket: ticket, byCustomer: true)
    }

    func ticketUpload(_ request: Request, ticket: Ticket, byCustomer: Bool) async throws
        -> EditedResponse<TicketUpload>
    {
        let (data, type) = try await self.read(request)
        let attachment = try await self.attachments.create(
            data, name: request.uri.queryParameters["name"].map(String.init), contentType: type, session: nil,
            ticket: ticket.id, byCustomer: byCustomer, in: ticket.organizationID, storage: self.storage)
        return EditedResponse(
            status: .created,
            response: TicketUpload(attachment: MessageView.AttachmentView(Attachment.Reference(attachment))))
    }

    func visitorUpload(_ request: Request, context: VisitorContext) async throws -> EditedResponse<UploadResponse> {
        try self.messageLimiter.take("ip:\(context.clientIP ?? "unknown")")
        let sessionID = try context.id("session", as: ChatSession.ID.self, entity: "conversation")
        let session = try await self.chats.session(sessionID, ofVisitor: context.visitor.visitor)
        let (attachment, body, clientID) = try await self.receive(request, session: session)
        let outcome = try await self.writer.submit(
            .init(
                sessionID: session.id, organizationID: session.organizationID,
                actor: .visitor(context.visitor.visitor),
                command: .visitorMessage(
                    body: body, clientID: clientID, metadata: Attachment.metadata(for: [attachment]))))
        return Self.response(outcome)
    }

    func agentUpload(_ request: Request, context: AgentContext) async throws -> EditedResponse<UploadResponse> {
        try context.principal.require(.answerConversations)
        guard let agent = context.principal.agent else {
            throw DomainError.forbidden("Files are sent by agents; use an agent's session.")
        }
        let sessionID = try context.id("chat", as: ChatSession.ID.self, entity: "conversation")
        let session = try await self.chats.session(sessionID, in: context.organizationID)
        let (attachment, body, clientID) = try await self.receive(request, session: session)
        let outcome = try await self.writer.submit(
            .init(
                sessionID: session.id, organizationID: session.organizationID, actor: .team,
                command: .agentMessage(
                    agent: agent.id, agentName: agent.name, body: body, clientID: clientID,
                    metadata: Attachment.metadata(for: [attachment]))))
        return Self.response(outcome)
    }

    static func response(_ outcome: ChatOutcome) -> EditedResponse<UploadResponse> {
        if let earlier = outcome.duplicateOf {
            return EditedResponse(status: .ok, response: UploadResponse(message: MessageView(earlier)))
        }
        return EditedResponse(status: .created, response: UploadResponse(message: MessageView(outcome.messages.last!)))
    }

    /// Reads, checks and stores the file; returns it with the message's text and client id.
    func receive(_ request: Request, session: ChatSession) async throws -> (Attachment, String, String) {
        let query = request.uri.queryParameters
        let clientID = try Validate.clientID(query["clientId"].map(String.init) ?? "upload-\(Secrets.randomString(16))")
        let caption = try query["caption"].map { try Validate.text(String($0), field: "caption", max: 2000) }
        let (data, type) = try await self.read(request)
        let attachment = try await self.attachments.create(
            data, name: query["name"].map(String.init), contentType: type, session: session.id,
            in: session.organizationID, storage: self.storage)
        let body = try Validate.messageBody(caption ?? attachment.name)
        return (attachment, body, clientID)
    }

    /// The body, within the size limit (checked before buffering), and the type its bytes show.
    func read(_ request: Request) async throws -> (Data, String) {
        if let length = request.headers[.contentLength].flatMap(Int.init), length > self.policy.maxBytes {
            throw Self.apiError(.tooLarge(maxBytes: self.policy.maxBytes))
        }
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: self.policy.maxBytes)
        } catch {
            throw Self.apiError(.tooLarge(maxBytes: self.policy.maxBytes))
        }
        let bytes = buffer.readableBytesView
        let type: String
        do {
            type = try self.policy.check(bytes)
        } catch {
            throw Self.apiError(error)
        }
        return (Data(bytes), type)
    }

    static func apiError(_ error: AttachmentError) -> APIError {
        switch error {
        case .tooLarge: APIError(.contentTooLarge, code: "payload_too_large", message: error.description, field: "file")
        case .empty: APIError(.unprocessableContent, code: "invalid_field", message: error.description, field: "file")
        case .unsupportedType:
            APIError(.unsupportedMediaType, code: "unsupported_media_type", message: error.description, field: "file")
        }
    }

    func visitorDownload(_ request: Request, context: VisitorContext) async throws -> Response {
        let id = try context.id("attachment", as: Attachment.ID.self, entity: "attachment")
        let attachment = try await self.attachments.find(id, in: context.visitor.organization)
        // Only the visitor whose conversation it is may see it; anyone else gets "not found".
        if let sessionID = attachment.sessionID {
            _ = try await self.chats.session(sessionID, ofVisitor: context.visitor.visitor)
        } else if let ticketID = attachment.ticketID {
            // A ticket's file: its requester sees it once a public message carries it (never a note's).
            let ticket = try await self.tickets.ticket(ticketID, in: context.visitor.organization)
            guard ticket.visitorID == context.visitor.visitor,
                try await self.attachments.isPublic(attachment.id, in: ticketID)
            else { throw DomainError.notFound(entity: "attachment") }
        } else {
            throw DomainError.notFound(entity: "attachment")
        }
        return try await self.serve(attachment)
    }

    func agentDownload(_ request: Request, context: AgentContext) async throws -> Response {
        try context.principal.require(.answerConversations)
        let id = try context.id("attachment", as: Attachment.ID.self, entity: "attachment")
        return try await self.serve(try await self.attachments.find(id, in: context.organizationID))
    }

    func serve(_ attachment: Attachment) async throws -> Response {
        let data = try await self.storage.get(attachment.storageKey)
        let disposition = AttachmentPolicy.isSafeInline(attachment.contentType) ? "inline" : "attachment"
        // RFC 5987: only ASCII letters and digits stay as they are; everything else is %-encoded.
        let plain = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
        let encodedName = attachment.name.addingPercentEncoding(withAllowedCharacters: plain) ?? "file"
        return Response(
            status: .ok,
            headers: [
                .contentType: attachment.contentType,
                .contentDisposition: "\(disposition); filename*=UTF-8''\(encodedName)",
                .cacheControl: "private, max-age=86400",
                HTTPField.Name("X-Content-Type-Options")!: "nosniff",
                HTTPField.Name("Content-Security-Policy")!: "default-src 'none'; sandbox",
            ],
            body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
