import Hummingbird
import Foundation
import ParleyCore
public import ParleyRealtime
public import ParleyStore

/// Conversations for agents: `/api/v1/admin/chats` and `/api/v1/admin/visitors/live`.
public struct ChatController: Sendable {
    let chats: ChatStore
    let agents: AgentStore
    let writer: ChatWriter
    let sites: SiteStore?
    let tickets: TicketStore?
    let assistant: AssistantStore?

    public init(
        chats: ChatStore, agents: AgentStore, writer: ChatWriter, sites: SiteStore? = nil,
        tickets: TicketStore? = nil, assistant: AssistantStore? = nil
    ) {
        self.chats = chats
        self.assistant = assistant
        self.sites = sites
        self.tickets = tickets
        self.agents = agents
        self.writer = writer
    }

    struct ReplyRequest: Decodable {
        var body: String
        var clientId: String?
        /// A note for the team only (the visitor and the assistant never see it).
        var `internal`: Bool?
    }

    struct AssignRequest: Decodable { var agentId: String? }
    struct ReadRequest: Decodable { var seq: Int64? }

    /// A conversation in a list: its state, its visitor and its last message.
    struct Summary: ResponseEncodable {
        var session: SessionView
        var visitor: VisitorView
    }

    /// The visitor card.
    struct VisitorView: Codable, Sendable {
        var id: String
        var anonymousId: String
        var externalId: String?
        var name: String?
        var email: String?
        var traits: [String: String]
        var currentPage: String?
        var firstSeenAt: Date
        var lastSeenAt: Date

        init(_ visitor: Visitor) {
            self.id = visitor.id.description
            self.anonymousId = visitor.anonymousID
            self.externalId = visitor.externalID
            self.name = visitor.name
            self.email = visitor.email
            self.traits = visitor.traits
            self.currentPage = visitor.currentPage
            self.firstSeenAt = visitor.firstSeenAt
            self.lastSeenAt = visitor.lastSeenAt
        }
    }

    struct Detail: ResponseEncodable {
        var session: SessionView
        var visitor: VisitorView
        var messages: [MessageView]
        /// The ticket the conversation was handed over to, if any.
        var ticketId: String?
    }

    struct MessagesResponse: ResponseEncodable {
        var data: [MessageView]
        var lastSeq: Int64
    }

    struct ReplyResponse: ResponseEncodable {
        var message: MessageView
        var session: SessionView
    }

    struct LiveVisitors: ResponseEncodable { var data: [VisitorView] }

    func addRoutes(to group: RouterGroup<AgentContext>) {
        group.get("chats", use: self.list)
        group.get("chats/counts", use: self.counts)
        group.get("chats/:chat", use: self.show)
        group.get("chats/:chat/messages", use: self.messages)
        group.post("chats/:chat/reply", use: self.reply)
        group.post("chats/:chat/assign", use: self.assign)
        group.post("chats/:chat/close", use: self.close)
        group.post("chats/:chat/archive", use: self.archive)
        group.post("chats/:chat/restore", use: self.restore)
        group.post("chats/:chat/read", use: self.read)
        group.post("chats/:chat/assistant", use: self.returnToAssistant)
        group.get("chats/:chat/reviews", use: self.reviews)
        group.post("chats/:chat/messages/:message/review", use: self.review)
        group.get("visitors/live", use: self.liveVisitors)
        group.post("visitors/:visitor/chat", use: self.startChat)
    }

    /// `?status=ai_active,escalated&assigned=me|unassigned&archived=true&escalated=true&feedback=up|down&from=&to=&cursor=&limit=`
    /// The list's filters from the query string (also used by exports).
    static func filter(_ request: Request, context: AgentContext) throws -> ChatStore.Filter {
        let query = request.uri.queryParameters
        var filter = ChatStore.Filter()
        if let statuses = query["status"].map(String.init), !statuses.isEmpty {
            filter.statuses = try statuses.split(separator: ",").map { name in
                guard let status = ChatStatus(rawValue: String(name)) else {
                    throw ValidationError(
                        field: "status", message: "status must be ai_active, agent_active, escalated or closed.")
                }
                return status
            }
        }
        if query["escalated"] == "true" { filter.statuses = [.escalated] }
        switch query["assigned"].map(String.init) {
        case nil, "": break
        case "me":
            guard let agent = context.principal.agent else {
                throw ValidationError(field: "assigned", message: "An API key has no conversations of its own.")
            }
            filter.assignedTo = agent.id
        case "unassigned": filter.unassigned = true
        case let other?:
            guard let agent = Agent.ID(other) else {
                throw ValidationError(field: "assigned", message: "assigned must be me, unassigned or an agent id.")
            }
            filter.assignedTo = agent
        }
        filter.archived = query["archived"] == "true"
        switch query["feedback"].map(String.init) {
        case nil, "": break
        case "up": filter.feedback = "up"
        case "down": filter.feedback = "down"
        default: throw ValidationError(field: "feedback", message: "feedback must be up or down.")
        }
        filter.activeFrom = try Self.date(query["from"].map(String.init), field: "from")
        filter.activeUntil = try Self.date(query["to"].map(String.init), field: "to")
        return filter
    }

    func list(_ request: Request, context: AgentContext) async throws -> PageResponse<Summary> {
        try context.principal.require(.answerConversations)
        let filter = try Self.filter(request, context: context)
        let page = try request.pageRequest()
        let sessions = try await self.chats.list(in: context.organizationID, filter: filter, page: page)
        var visitors: [Visitor.ID: Visitor] = [:]
        for visitor in try await self.chats.visitors(Set(sessions.items.map(\.visitorID)), in: context.organizationID) {
            visitors[visitor.id] = visitor
        }
        return PageResponse(sessions) { session in
            Summary(session: SessionView(session, forAgents: true), visitor: VisitorView(visitors[session.visitorID]!))
        }
    }

    func counts(_ request: Request, context: AgentContext) async throws -> [String: Int] {
        try context.principal.require(.answerConversations)
        return try await self.chats.counts(in: context.organizationID, agent: context.principal.agent?.id)
    }

    func show(_ request: Request, context: AgentContext) async throws -> Detail {
        let session = try await self.session(context)
        let visitor = try await self.chats.visitor(session.visitorID, in: context.organizationID)
        let messages = try await self.chats.messages(in: session.id, after: max(0, session.lastSeq - 100), limit: 100)
        let ticket = try await self.tickets?.ticket(forConversation: session.id, in: context.organizationID)
        return Detail(
            session: SessionView(session, forAgents: true), visitor: VisitorView(visitor),
            messages: messages.map(MessageView.init), ticketId: ticket?.id.description)
    }

    func messages(_ request: Request, context: AgentContext) async throws -> MessagesResponse {
        let session = try await self.session(context)
        let after = try request.sequenceNumber("after") ?? 0
        let page = try PageRequest(cursor: nil, limit: request.uri.queryParameters["limit"].map(String.init))
        let messages = try await self.chats.messages(in: session.id, after: after, limit: page.limit)
        return MessagesResponse(data: messages.map(MessageView.init), lastSeq: session.lastSeq)
    }

    /// Replies as the agent; this takes the conversation over from the AI.
    func reply(_ request: Request, context: AgentContext) async throws -> EditedResponse<ReplyResponse> {
        guard let agent = context.principal.agent else {
            throw DomainError.forbidden("Replies are written by agents; use an agent's session.")
        }
        let input = try await request.decodeJSON(as: ReplyRequest.self, context: context)
        let body = try Validate.messageBody(input.body)
        let clientID = try input.clientId.map { try Validate.clientID($0) }
        // An internal note is the team's only and does not take the conversation over.
        let command: ChatCommand =
            input.internal == true
            ? .internalNote(agent: agent.id, agentName: agent.name, body: body, clientID: clientID)
            : .agentMessage(agent: agent.id, agentName: agent.name, body: body, clientID: clientID)
        let outcome = try await self.run(context, command)
        if let earlier = outcome.duplicateOf {
            return EditedResponse(
                status: .ok,
                response: ReplyResponse(
                    message: MessageView(earlier), session: SessionView(outcome.session, forAgents: true)))
        }
        return EditedResponse(
            status: .created,
            response: ReplyResponse(
                message: MessageView(outcome.messages.last!), session: SessionView(outcome.session, forAgents: true)))
    }

    struct StartChatRequest: Decodable { var body: String }

    /// An agent speaks first to a visitor on the site: in the visitor's open conversation (the
    /// widget holds one from its first load), or a new one.
    func startChat(_ request: Request, context: AgentContext) async throws -> EditedResponse<ReplyResponse> {
        try context.principal.require(.answerConversations)
        guard let agent = context.principal.agent else {
            throw DomainError.forbidden("Chats are started by agents; use an agent's session.")
        }
        let input = try await request.decodeJSON(as: StartChatRequest.self, context: context)
        let body = try Validate.messageBody(input.body)
        let visitorID = try context.id("visitor", as: Visitor.ID.self, entity: "visitor")
        let visitor = try await self.chats.visitor(visitorID, in: context.organizationID)
        guard let sites = self.sites else { throw DomainError.notFound(entity: "site") }
        let site = try await sites.find(visitor.siteID, in: context.organizationID)
        let started = try await self.writer.start(
            site: site, anonymousID: visitor.anonymousID, identity: nil, page: nil)
        let outcome = try await self.writer.submit(
            .init(
                sessionID: started.session.id, organizationID: context.organizationID, actor: .team,
                command: .agentMessage(agent: agent.id, agentName: agent.name, body: body, clientID: nil)))
        return EditedResponse(
            status: .created,
            response: ReplyResponse(
                message: MessageView(outcome.messages.last!), session: SessionView(outcome.session, forAgents: true)))
    }

    func assign(_ request: Request, context: AgentContext) async throws -> SessionView {
        let input = try await request.decodeJSON(as: AssignRequest.self, context: context)
        var agentID: Agent.ID?
        if let text = input.agentId {
            guard let id = Agent.ID(text) else {
                throw ValidationError(field: "agentId", message: "agentId must be an agent's id or null.")
            }
            let agent = try await self.agents.find(id, in: context.organizationID)
            guard agent.isActive else { throw ValidationError(field: "agentId", message: "That agent is deactivated.") }
            agentID = id
        }
        return SessionView(try await self.run(context, .assign(agentID)).session, forAgents: true)
    }

    func close(_ request: Request, context: AgentContext) async throws -> SessionView {
        SessionView(try await self.run(context, .close(.agent)).session, forAgents: true)
    }

    /// Gives an escalated or agent-held conversation back to the assistant.
    func returnToAssistant(_ request: Request, context: AgentContext) async throws -> SessionView {
        guard let agent = context.principal.agent else {
            throw DomainError.forbidden("Conversations are handed back by agents; use an agent's session.")
        }
        return SessionView(
            try await self.run(context, .returnToAssistant(agentName: agent.name)).session, forAgents: true)
    }

    struct ReviewRequest: Decodable {
        /// `right`, `wrong`, or null to clear.
        var verdict: String?
    }

    struct ReviewResponse: ResponseEncodable {
        var messageId: String
        var verdict: String?
        var reviewedBy: String?
        var reviewedAt: Date?

        enum CodingKeys: String, CodingKey { case messageId, verdict, reviewedBy, reviewedAt }

        init(_ review: AssistantStore.Review) {
            self.messageId = review.messageID.description
            self.verdict = review.verdict
            self.reviewedBy = review.reviewedBy?.description
            self.reviewedAt = review.reviewedAt
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(self.messageId, forKey: .messageId)
            try container.encode(self.verdict, forKey: .verdict)
            try container.encode(self.reviewedBy, forKey: .reviewedBy)
            try container.encode(self.reviewedAt, forKey: .reviewedAt)
        }
    }

    struct ReviewsResponse: ResponseEncodable {
        var data: [ReviewResponse]
    }

    /// Marks one of the assistant's answers right or wrong (the accuracy report counts the marks).
    func review(_ request: Request, context: AgentContext) async throws -> ReviewResponse {
        try context.principal.require(.answerConversations)
        guard let agent = context.principal.agent, let assistant = self.assistant else {
            throw DomainError.forbidden("Answers are reviewed by agents; use an agent's session.")
        }
        let session = try context.id("chat", as: ChatSession.ID.self, entity: "conversation")
        let message = try context.id("message", as: ChatMessage.ID.self, entity: "assistant answer")
        let input = try await request.decodeJSON(as: ReviewRequest.self, context: context)
        guard input.verdict == nil || ["right", "wrong"].contains(input.verdict!) else {
            throw ValidationError(field: "verdict", message: "verdict must be \"right\", \"wrong\" or null.")
        }
        return ReviewResponse(
            try await assistant.review(
                message, in: session, organizationID: context.organizationID, verdict: input.verdict, by: agent.id))
    }

    func reviews(_ request: Request, context: AgentContext) async throws -> ReviewsResponse {
        try context.principal.require(.answerConversations)
        let session = try await self.session(context)
        guard let assistant = self.assistant else { return ReviewsResponse(data: []) }
        return ReviewsResponse(
            data: try await assistant.reviews(in: session.id, organizationID: context.organizationID).map(
                ReviewResponse.init))
    }

    func archive(_ request: Request, context: AgentContext) async throws -> SessionView {
        SessionView(try await self.run(context, .archive).session, forAgents: true)
    }

    func restore(_ request: Request, context: AgentContext) async throws -> SessionView {
        SessionView(try await self.run(context, .restore).session, forAgents: true)
    }

    /// Marks the conversation read for the team (up to `seq`, or all of it).
    func read(_ request: Request, context: AgentContext) async throws -> SessionView {
        let current = try await self.session(context)
        let input =
            request.headers[.contentType] == nil
            ? ReadRequest(seq: nil) : try await request.decodeJSON(as: ReadRequest.self, context: context)
        let session = try await self.writer.markRead(
            current.id, seq: input.seq ?? current.lastSeq, byVisitor: false, in: context.organizationID)
        return SessionView(session, forAgents: true)
    }

    /// Visitors seen within `Visitor.presence` (the widget pings while open).
    func liveVisitors(_ request: Request, context: AgentContext) async throws -> LiveVisitors {
        try context.principal.require(.answerConversations)
        let visitors = try await self.chats.visitorsSeen(
            since: Date().addingTimeInterval(-Visitor.presence), in: context.organizationID)
        return LiveVisitors(data: visitors.map(VisitorView.init))
    }

    func session(_ context: AgentContext) async throws -> ChatSession {
        try context.principal.require(.answerConversations)
        let id = try context.id("chat", as: ChatSession.ID.self, entity: "conversation")
        return try await self.chats.session(id, in: context.organizationID)
    }

    func run(_ context: AgentContext, _ command: ChatCommand) async throws -> ChatOutcome {
        try context.principal.require(.answerConversations)
        let id = try context.id("chat", as: ChatSession.ID.self, entity: "conversation")
        return try await self.writer.submit(
            .init(
                sessionID: id, organizationID: context.organizationID, actor: .team, command: command,
                agent: context.principal.agent?.id))
    }

    static func date(_ text: String?, field: String) throws -> Date? {
        guard let text, !text.isEmpty else { return nil }
        if let date = try? Date(text, strategy: .iso8601) { return date }
        if let day = try? Date(text + "T00:00:00Z", strategy: .iso8601) { return day }
        throw ValidationError(field: field, message: "\(field) must be a date like 2026-11-21 or 2026-11-21T10:00:00Z.")
    }
}
