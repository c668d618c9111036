import Hummingbird
import Foundation
import ParleyCore
public import ParleyRealtime
public import ParleyStore

/// The widget's public API: `/api/v1/widget/config` and `/api/v1/chat/sessions/*`. A visitor
/// starts or resumes a conversation with the site's public key and gets a signed token; every
/// other call carries that token and may only touch the visitor's own conversations.
public struct VisitorController: Sendable {
    let sites: SiteStore
    let chats: ChatStore
    let writer: ChatWriter
    let handoff: Handoff
    let assistant: AssistantStore
    let tickets: TicketStore
    let tokens: VisitorTokens
    let origins: OriginPolicy
    /// Messages per IP (20 a minute by default), shared with the WebSocket `send`.
    let messageLimiter: RateLimiter
    /// Whether replies can reach a visitor by email (a mail server is configured).
    let emailEnabled: Bool

    public init(
        sites: SiteStore, chats: ChatStore, writer: ChatWriter, handoff: Handoff, assistant: AssistantStore,
        tokens: VisitorTokens, baseURL: String, messageLimiter: RateLimiter, emailEnabled: Bool = false
    ) {
        self.emailEnabled = emailEnabled
        self.sites = sites
        self.chats = chats
        self.writer = writer
        self.handoff = handoff
        self.assistant = assistant
        self.tickets = handoff.tickets
        self.tokens = tokens
        self.origins = OriginPolicy(baseURL: baseURL)
        self.messageLimiter = messageLimiter
    }

    struct StartRequest: Decodable {
        var site: String
        var visitorId: String?
        var user: VisitorIdentity?
        var page: String?
    }

    struct NewMessage: Decodable {
        var clientId: String
        var body: String
    }

    struct EmailRequest: Decodable { var email: String }
    struct ReadRequest: Decodable { var seq: Int64 }

    struct ConfigResponse: ResponseEncodable {
        var enabled: Bool
        var reason: String?
        var site: String
        var title: String?
        var color: String?
        var welcomeMessage: String?
        var launcherText: String?
        var position: String?
        var ai: Feature
        /// Whether the team works now (always true without business hours).
        var withinBusinessHours: Bool?
        /// Whether anyone answers now: the team (within business hours) or the AI (a provider is
        /// configured). When false the widget shows its offline form.
        var available: Bool?
        /// Whether a reply can reach the visitor by email (a mail server is configured): without
        /// it, the widget promises no email.
        var email: Bool?

        struct Feature: Encodable { var enabled: Bool }
    }

    struct StartResponse: ResponseEncodable {
        var visitorId: String
        var token: String
        var identified: Bool
        var session: SessionView
        var messages: [MessageView]
        /// The email the visitor left (or their identity gave), so the widget does not ask again.
        var email: String?
    }

    struct MessagesResponse: ResponseEncodable {
        var data: [MessageView]
        var lastSeq: Int64
        var status: String
        /// How far the team has read (read receipts while polling).
        var agentReadSeq: Int64
        /// The seq this page covers up to: ask for `after=through` next (notes the visitor
        /// does not see take seqs too).
        var through: Int64
    }

    struct EmailResponse: ResponseEncodable {
        var email: String
        /// The ticket a handed-over conversation now has, when it has one.
        var ticketId: String?
    }

    struct FeedbackRequest: Decodable {
        /// `up` or `down`.
        var rating: String
        var comment: String?
    }

    struct FeedbackResponse: ResponseEncodable {
        var rating: String
        /// After a thumbs down: whether the widget should offer to hand over (a ticket).
        var offerTicket: Bool
    }

    func addPublicRoutes(to group: RouterGroup<ParleyRequestContext>) {
        group.get("widget/config", use: self.config)
        group.post("chat/sessions", use: self.start)
    }

    func addRoutes(to group: RouterGroup<VisitorContext>) {
        group.get("chat/sessions/:session/messages", use: self.messages)
        group.post("chat/sessions/:session/messages", use: self.send)
        group.post("chat/sessions/:session/email", use: self.email)
        group.post("chat/sessions/:session/close", use: self.close)
        group.post("chat/sessions/:session/rating", use: self.rate)
        group.post("chat/sessions/:session/read", use: self.read)
        group.post("chat/sessions/:session/escalate", use: self.escalate)
        group.post("chat/messages/:message/feedback", use: self.feedback)
    }

    /// What the widget needs to draw itself, or why it should not.
    func config(_ request: Request, context: ParleyRequestContext) async throws -> ConfigResponse {
        guard let key = request.uri.queryParameters["site"].map(String.init), !key.isEmpty else {
            throw ValidationError(field: "site", message: "site (the site key) is required.")
        }
        guard let site = try? await self.sites.find(publicKey: key) else {
            return ConfigResponse(enabled: false, reason: "unknown_site", site: key, ai: .init(enabled: false))
        }
        let reason: String? =
            !site.isActive
            ? "site_inactive"
            : !site.widget.enabled
                ? "widget_disabled"
                : !self.originAllowed(request, site: site) ? "origin_not_allowed" : nil
        let widget = site.widget
        // Cached reads: this is the widget's first request on every page view.
        let assistant = try await self.assistant.configuration(in: site.organizationID)
        let open = try await self.tickets.calendar(in: site.organizationID).isOpen(at: Date())
        return ConfigResponse(
            enabled: reason == nil, reason: reason, site: key, title: widget.title, color: widget.color,
            welcomeMessage: widget.welcomeMessage.isEmpty ? assistant.settings.welcomeMessage : widget.welcomeMessage,
            launcherText: widget.launcherText,
            position: widget.position.rawValue,
            ai: .init(enabled: !assistant.providers.isEmpty),
            withinBusinessHours: open, available: open || !assistant.providers.isEmpty, email: self.emailEnabled)
    }

    /// Starts or resumes the visitor's conversation and hands out their token.
    func start(_ request: Request, context: ParleyRequestContext) async throws -> StartResponse {
        let input = try await request.decodeJSON(as: StartRequest.self, context: context)
        guard let site = try? await self.sites.find(publicKey: input.site), site.isActive else {
            throw DomainError.notFound(entity: "site")
        }
        guard site.widget.enabled else { throw DomainError.forbidden("The chat is turned off on this site.") }
        guard self.originAllowed(request, site: site) else {
            throw APIError(.forbidden, code: "origin_not_allowed", message: "This website may not use this chat.")
        }
        let anonymousID =
            try input.visitorId.map { try Validate.clientID($0, field: "visitorId") } ?? Secrets.randomString(24)
        let identity = try Self.verify(input.user, site: site)
        let page = try input.page.map { try Validate.text($0, field: "page", max: 2000, allowEmpty: true) }
        let started = try await self.writer.start(site: site, anonymousID: anonymousID, identity: identity, page: page)
        return StartResponse(
            visitorId: anonymousID,
            token: self.tokens.sign(
                visitor: started.visitor.id, site: site.id, organization: site.organizationID, now: Date()),
            identified: started.visitor.externalID != nil, session: SessionView(started.session, forAgents: false),
            messages: Visibility.customerThread(started.recent).map(MessageView.init),
            email: started.visitor.email)
    }

    /// A trusted identity, or nil for an anonymous visitor. A wrong signature is always refused;
    /// a missing one is refused in strict mode and otherwise keeps only the contact details.
    static func verify(_ user: VisitorIdentity?, site: Site) throws -> VisitorIdentity? {
        guard var user else { return nil }
        user.id = try Validate.text(user.id, field: "user.id", max: 200)
        if let email = user.email, !email.isEmpty {
            user.email = try Validate.email(email, field: "user.email")
        } else {
            user.email = nil
        }
        if let name = user.name { user.name = try Validate.text(name, field: "user.name", max: 120, allowEmpty: true) }
        if let hash = user.userHash {
            guard VisitorTokens.isValid(userHash: hash, userID: user.id, secret: site.identitySecret) else {
                throw APIError(
                    .unauthorized, code: "identity_not_verified",
                    message: "The user's signature (userHash) does not match.")
            }
            return user
        }
        if site.strictIdentity {
            throw APIError(
                .unauthorized, code: "identity_not_verified",
                message: "This site requires a signed identity (userHash).")
        }
        return nil
    }

    func originAllowed(_ request: Request, site: Site) -> Bool {
        self.origins.allows(request.headers[.origin], for: site)
    }

    func messages(_ request: Request, context: VisitorContext) async throws -> MessagesResponse {
        let session = try await self.ownSession(context)
        let after = try request.sequenceNumber("after") ?? 0
        let page = try PageRequest(cursor: nil, limit: request.uri.queryParameters["limit"].map(String.init))
        let messages = try await self.chats.messages(in: session.id, after: after, limit: page.limit)
        return MessagesResponse(
            data: Visibility.customerThread(messages).map(MessageView.init), lastSeq: session.lastSeq,
            status: session.status.rawValue, agentReadSeq: session.agentReadSeq,
            through: messages.last?.seq ?? after)
    }

    /// Sends a message; 201 the first time, 200 with the same message for a repeated `clientId`.
    func send(_ request: Request, context: VisitorContext) async throws -> EditedResponse<MessageView> {
        let input = try await request.decodeJSON(as: NewMessage.self, context: context)
        let clientID = try Validate.clientID(input.clientId)
        let body = try Validate.messageBody(input.body)
        try self.messageLimiter.take("ip:\(context.clientIP ?? "unknown")")
        let sessionID = try context.id("session", as: ChatSession.ID.self, entity: "conversation")
        let outcome = try await self.writer.submit(
            .init(
                sessionID: sessionID, organizationID: context.visitor.organization,
                actor: .visitor(context.visitor.visitor),
                command: .visitorMessage(body: body, clientID: clientID)))
        if let earlier = outcome.duplicateOf { return EditedResponse(status: .ok, response: MessageView(earlier)) }
        return EditedResponse(status: .created, response: MessageView(outcome.messages.last!))
    }

    /// Leaves an email for replies (anonymous visitors); a conversation already with the team
    /// gets its ticket now.
    func email(_ request: Request, context: VisitorContext) async throws -> EmailResponse {
        let session = try await self.ownSession(context)
        let input = try await request.decodeJSON(as: EmailRequest.self, context: context)
        let visitor = try await self.chats.setEmail(
            input.email, of: context.visitor.visitor, in: context.visitor.organization)
        let ticket = await self.handoff.emailLeft(session, visitor: visitor, logger: context.logger)
        return EmailResponse(email: visitor.email ?? "", ticketId: ticket?.id.description)
    }

    /// Thumbs up or down on one of the assistant's replies in the visitor's own conversation.
    func feedback(_ request: Request, context: VisitorContext) async throws -> FeedbackResponse {
        let id = try context.id("message", as: ChatMessage.ID.self, entity: "message")
        let input = try await request.decodeJSON(as: FeedbackRequest.self, context: context)
        guard input.rating == "up" || input.rating == "down" else {
            throw ValidationError(field: "rating", message: "rating must be up or down.")
        }
        let comment = try input.comment.map { try Validate.text($0, field: "comment", max: 1000, allowEmpty: true) }
        let message = try await self.chats.message(id, in: context.visitor.organization)
        let session = try await self.chats.session(message.sessionID, ofVisitor: context.visitor.visitor)
        guard message.role == .ai else {
            throw ValidationError(field: "message", message: "Only the assistant's replies take feedback.")
        }
        try await self.writer.recordFeedback(
            on: id, helpful: input.rating == "up", comment: comment.flatMap { $0.isEmpty ? nil : $0 },
            in: context.visitor.organization)
        return FeedbackResponse(
            rating: input.rating, offerTicket: input.rating == "down" && session.status == .aiActive)
    }

    func close(_ request: Request, context: VisitorContext) async throws -> SessionView {
        let sessionID = try context.id("session", as: ChatSession.ID.self, entity: "conversation")
        let outcome = try await self.writer.submit(
            .init(
                sessionID: sessionID, organizationID: context.visitor.organization,
                actor: .visitor(context.visitor.visitor),
                command: .close(.visitor)))
        return SessionView(outcome.session, forAgents: false)
    }

    struct RatingRequest: Decodable {
        var stars: Int
        var comment: String?
    }

    /// The visitor rates the help they got, once the conversation ended, once (409 otherwise).
    /// A conversation that is a ticket rates the ticket too, credited once (`ThreadLink`).
    func rate(_ request: Request, context: VisitorContext) async throws -> SessionView {
        let sessionID = try context.id("session", as: ChatSession.ID.self, entity: "conversation")
        let input = try await request.decodeJSON(as: RatingRequest.self, context: context)
        guard (1...5).contains(input.stars) else {
            throw ValidationError(field: "stars", message: "stars must be 1 to 5.")
        }
        let comment = try input.comment.map { try Validate.text($0, field: "comment", max: 2000, allowEmpty: true) }
        let outcome = try await self.writer.submit(
            .init(
                sessionID: sessionID, organizationID: context.visitor.organization,
                actor: .visitor(context.visitor.visitor),
                command: .rate(stars: input.stars, comment: comment.flatMap { $0.isEmpty ? nil : $0 })))
        return SessionView(outcome.session, forAgents: false)
    }

    func read(_ request: Request, context: VisitorContext) async throws -> SessionView {
        let own = try await self.ownSession(context)
        let input = try await request.decodeJSON(as: ReadRequest.self, context: context)
        let session = try await self.writer.markRead(own.id, seq: input.seq, byVisitor: true, in: own.organizationID)
        return SessionView(session, forAgents: false)
    }

    /// "Talk to a person": hands the conversation to the team (409 if it already is with them).
    func escalate(_ request: Request, context: VisitorContext) async throws -> SessionView {
        let session = try await self.ownSession(context)
        let outcome = try await self.handoff.escalate(
            session.id, in: session.organizationID, reason: .visitorAsked, actor: .visitor(context.visitor.visitor),
            logger: context.logger)
        return SessionView(outcome.session, forAgents: false)
    }

    func ownSession(_ context: VisitorContext) async throws -> ChatSession {
        let id = try context.id("session", as: ChatSession.ID.self, entity: "conversation")
        return try await self.chats.session(id, ofVisitor: context.visitor.visitor)
    }
}
